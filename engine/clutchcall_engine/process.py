"""`clutchcall-engine serve` in a child process: its own core and its own memory, so tests and benchmarks
can measure it (RSS, CPU seconds), kill it, and restart it on the same ports.

    with EngineProcess(state_dir, "--limit", "max_sessions=2000") as engine:
        url = f"moqt://127.0.0.1:{engine.moqt_port}"
        engine.rss_bytes(), engine.cpu_seconds()
"""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Final

from .config import user_cache_dir

_LISTENING: Final = re.compile(r"engine listening moqt=\S+:(\d+) http=\S+:(\d+)")
_CALLS_LISTENING: Final = re.compile(r"control plane listening rest=\S+:(\d+) rpc=\S+:(\d+)")
_CLK_TCK: Final = os.sysconf("SC_CLK_TCK")
LOG_LINES_KEPT: Final = 200


def moq_relay_binary() -> Path | None:
    """moq-relay, the interop and benchmark peer: $MOQ_RELAY, else the newest build in the cache where
    `make moq-relay` puts it (${XDG_CACHE_HOME:-~/.cache}/clutchcall/moq-relay-<version>/bin)."""
    explicit = os.environ.get("MOQ_RELAY")
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    found = sorted(user_cache_dir("").glob("moq-relay-*/bin/moq-relay"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


class EngineProcess:
    def __init__(
        self,
        state_dir: Path,
        *flags: str,
        moqt_port: int = 0,
        http_port: int = 0,
        rest_port: int = 0,
        rpc_port: int = 0,
        python_args: tuple[str, ...] = (),
    ) -> None:
        """`python_args` go before the module, e.g. ("-m", "cProfile", "-o", "engine.prof")."""
        self.python_args = python_args
        self.state_dir = state_dir
        self.flags = flags
        self.moqt_port = moqt_port
        self.http_port = http_port
        self.rest_port = rest_port
        self.rpc_port = rpc_port
        self.log: collections.deque[str] = collections.deque(maxlen=LOG_LINES_KEPT)
        self._proc: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None, "not started"
        return self._proc.pid

    def start(self, timeout: float = 30.0) -> EngineProcess:
        """Start and wait until both listeners are bound (on the ports asked for, or learned when 0)."""
        args = [sys.executable, *self.python_args, "-m", "clutchcall_engine", "serve"]
        args += ["--state-dir", str(self.state_dir), "--log-level", "info"]
        args += ["--moqt-addr", f"127.0.0.1:{self.moqt_port}", "--http-addr", f"127.0.0.1:{self.http_port}"]
        args += ["--rest-addr", f"127.0.0.1:{self.rest_port}", "--rpc-addr", f"127.0.0.1:{self.rpc_port}"]
        self._proc = subprocess.Popen(
            [*args, *self.flags], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        assert self._proc.stderr is not None
        deadline = time.monotonic() + timeout
        for line in self._proc.stderr:
            self.log.append(line.rstrip())
            calls = _CALLS_LISTENING.search(line)
            if calls:
                self.rest_port, self.rpc_port = int(calls[1]), int(calls[2])
            m = _LISTENING.search(line)
            if m:
                self.moqt_port, self.http_port = int(m[1]), int(m[2])
                break
            if time.monotonic() > deadline:
                break
        else:
            raise RuntimeError(f"the engine exited before listening: {list(self.log)[-5:]}")
        if not m:
            self.stop()
            raise RuntimeError(f"the engine did not listen within {timeout} s: {list(self.log)[-5:]}")
        # Keep reading its log so a chatty engine never blocks on a full pipe; keep only the tail.
        threading.Thread(target=self._drain, args=(self._proc.stderr,), daemon=True).start()
        return self

    def _drain(self, stream: IO[str]) -> None:
        for line in stream:
            self.log.append(line.rstrip())

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the engine so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGINT (a clean stop), then SIGKILL after `timeout`; returns the exit code."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def kill(self) -> None:
        """SIGKILL: the engine vanishes without closing its sessions."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def __enter__(self) -> EngineProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
