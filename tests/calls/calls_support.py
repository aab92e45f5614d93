"""Test support: a fake SIP gateway and agent binder, the engine in a child process, tenant tokens."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from clutchcall import AgentBinding, ErrorCode
from clutchcall_engine.auth import load_or_create_dev_key, mint_token
from clutchcall_engine.config import DEFAULT_AUDIENCE


@dataclass
class FakeSignalling:
    dialed: list[tuple[str, str, str, str, int, float]] = field(default_factory=list)
    hung_up: list[str] = field(default_factory=list)
    transferred: list[tuple[str, str]] = field(default_factory=list)
    barged: list[tuple[str, str, int]] = field(default_factory=list)
    fail_with: Exception | None = None
    delay_s: float = 0.0

    async def dial(
        self, sid: str, tenant: str, to: str, from_: str, codec: int, ring_timeout_s: float, default_app: int = 0
    ) -> None:
        await asyncio.sleep(self.delay_s)
        if self.fail_with is not None:
            raise self.fail_with
        self.dialed.append((sid, tenant, to, from_, codec, ring_timeout_s))

    async def hangup(self, sid: str) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.hung_up.append(sid)

    async def transfer(self, sid: str, to: str) -> None:
        await asyncio.sleep(self.delay_s)
        if self.fail_with is not None:
            raise self.fail_with
        self.transferred.append((sid, to))

    async def barge(self, sid: str, supervisor: str, mode: int) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.barged.append((sid, supervisor, mode))


class FakeBindError(Exception):
    """Shaped like clutchcall_engine.agents.AgentBindError: `.code` and `.field`."""

    def __init__(self, code: ErrorCode, field: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


@dataclass
class FakeBinder:
    bound: dict[str, AgentBinding] = field(default_factory=dict)
    unbinds: list[str] = field(default_factory=list)

    async def bind(self, sid: str, binding: AgentBinding) -> object:
        if binding.agent_id == "unknown":
            raise FakeBindError(ErrorCode.NOT_FOUND, "agent.agentId", "no agent 'unknown'")
        self.bound[sid] = binding
        return object()

    async def unbind(self, sid: str) -> bool:
        self.unbinds.append(sid)
        return self.bound.pop(sid, None) is not None


class EngineChild:
    """tests/calls/engine_child.py in a child process: the engine with its control plane and an answering gateway."""

    SCRIPT = Path(__file__).with_name("engine_child.py")

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.rest_port = self.rpc_port = self.http_port = 0
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> EngineChild:
        ports = [str(p) for p in (self.rest_port, self.rpc_port, self.http_port)]
        self._proc = subprocess.Popen(
            [sys.executable, str(self.SCRIPT), str(self.state_dir), *ports], stdout=subprocess.PIPE, text=True
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        m = re.fullmatch(r"ports rest=(\d+) rpc=(\d+) http=(\d+)\n", line)
        if m is None:
            self.kill()
            raise RuntimeError(f"the engine did not start: {line!r}")
        self.rest_port, self.rpc_port, self.http_port = (int(g) for g in m.groups())
        return self

    def kill(self) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait()
            self._proc = None

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
            self._proc = None

    def __enter__(self) -> EngineChild:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"


def tenant_token(state_dir: Path, tenant: str, ttl_s: float = 3600, subscribe: tuple[str, ...] = ()) -> str:
    """A token signed with the engine's development key (made in `state_dir` on first use)."""
    key = load_or_create_dev_key(state_dir)
    return mint_token(key, tenant=tenant, publish=[], subscribe=subscribe, ttl_s=ttl_s, audience=DEFAULT_AUDIENCE)


@dataclass
class FakeDownlink:
    frames: list[bytes] = field(default_factory=list)
    closed: bool = False

    def write(self, payload: bytes, *, end_of_group: bool = False) -> object:
        assert not self.closed
        self.frames.append(payload)
        return None

    async def aclose(self, timeout: float = 1.0) -> None:
        self.closed = True


@dataclass
class FakeDownlinks:
    opened: list[tuple[str, int, FakeDownlink]] = field(default_factory=list)

    async def open_downlink(self, sid: str, codec: int) -> FakeDownlink:
        writer = FakeDownlink()
        self.opened.append((sid, codec, writer))
        return writer
