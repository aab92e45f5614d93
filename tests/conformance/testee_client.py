"""One running testee process: framed requests in batches, with a per-request timeout.

A batch is written by a writer thread while the caller reads the answers, so a large batch
cannot deadlock on full pipes. A testee that dies or stops answering is recorded against the
request it was working on (pseudo-status CRASH or HANG) and restarted for the rest.
"""

from __future__ import annotations

import queue
import shlex
import struct
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

OK, DECODE_ERROR, UNSUPPORTED, FAILURE = 0, 1, 2, 3
CRASH, HANG = 254, 255  # not sent by a testee: the process died, or did not answer in time


@dataclass(frozen=True)
class Request:
    op: int
    type_name: str
    payload: bytes

    def frame(self) -> bytes:
        name = self.type_name.encode()
        body = bytes([self.op]) + struct.pack("<H", len(name)) + name + self.payload
        return struct.pack("<I", len(body)) + body


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def describe(self) -> str:
        names = {OK: "ok", DECODE_ERROR: "decode error", UNSUPPORTED: "unsupported", FAILURE: "failure"}
        names |= {CRASH: "testee crashed", HANG: "testee hung (timeout)"}
        text = self.body[:300].decode("utf-8", "replace")
        return f"status {self.status} ({names.get(self.status, '?')}): {text}"


class Testee:
    """A started testee; `run` sends a batch and returns one Response per request."""

    __test__ = False  # not a pytest test class

    def __init__(self, lang: str, command: str, cwd: Path, log: Path, timeout: float = 10.0) -> None:
        self.lang = lang
        self.argv = shlex.split(command)
        self.cwd = cwd
        self.log = log
        self.timeout = timeout
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._answers: queue.Queue[Response | None] = queue.Queue()

    def _start(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as err:
            proc = subprocess.Popen(self.argv, cwd=self.cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        self._answers = queue.Queue()
        assert proc.stdout is not None
        threading.Thread(target=self._read, args=(proc.stdout, self._answers), daemon=True).start()
        self._proc = proc
        return proc

    @staticmethod
    def _read(out: IO[bytes], answers: queue.Queue[Response | None]) -> None:
        while True:
            header = out.read(4)
            if len(header) < 4:
                break
            (n,) = struct.unpack("<I", header)
            body = out.read(n)
            if len(body) < n or n == 0:
                break
            answers.put(Response(body[0], body[1:]))
        answers.put(None)

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
            self.restarts += 1

    def run(self, requests: list[Request]) -> list[Response]:
        results: list[Response] = []
        while len(results) < len(requests):
            proc = self._proc if self._proc is not None and self._proc.poll() is None else self._start()
            pending = requests[len(results) :]
            threading.Thread(target=_write, args=(proc, pending), daemon=True).start()
            for _ in pending:
                try:
                    answer = self._answers.get(timeout=self.timeout)
                except queue.Empty:
                    results.append(Response(HANG, f"no answer within {self.timeout:g}s".encode()))
                    self._kill()
                    break
                if answer is None:
                    code = proc.wait()
                    results.append(Response(CRASH, f"the testee exited with code {code}".encode()))
                    self._proc = None
                    self.restarts += 1
                    break
                results.append(answer)
        return results

    def close(self) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        self._proc = None


def _write(proc: subprocess.Popen[bytes], requests: list[Request]) -> None:
    stdin = proc.stdin
    assert stdin is not None
    try:
        # Frames are joined in slices so that a batch costs few system calls.
        for start in range(0, len(requests), 256):
            stdin.write(b"".join(r.frame() for r in requests[start : start + 256]))
        stdin.flush()
    except (BrokenPipeError, OSError, ValueError):
        pass  # the process died; the reader reports it
