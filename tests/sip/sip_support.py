"""Helpers for the SIP gateway tests: a recording CallEvents, free loopback ports, SIPp as the carrier."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

from clutchcall_engine.config import Address, SipConfig
from clutchcall_engine.sip.gateway import SipGateway
from clutchcall_engine.sip.media import BridgeFactory

LOOPBACK = "127.0.0.1"
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
SIPP = shutil.which("sipp")


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


class RecordingEvents:
    """CallEvents that records every report; inbound calls get sids CA-in-1, CA-in-2, ..."""

    def __init__(self) -> None:
        self.statuses: dict[str, list[tuple[int, int | None]]] = {}
        self.dtmf_digits: dict[str, list[tuple[str, int]]] = {}
        self.inbound: list[tuple[str, str, str, int, str]] = []
        self.default_apps: dict[str, int] = {}  # sid -> clutchcall.DefaultApp of each inbound call
        self.changed = asyncio.Event()

    async def status_changed(self, sid: str, status: int, end_reason: int | None = None, detail: str = "") -> None:
        self.statuses.setdefault(sid, []).append((status, end_reason))
        self._wake()

    async def inbound_call(self, tenant: str, from_: str, to: str, codec: int, *, default_app: int = 0) -> str:
        sid = f"CA-in-{len(self.inbound) + 1}"
        self.inbound.append((tenant, from_, to, codec, sid))
        self.default_apps[sid] = default_app
        self._wake()
        return sid

    async def dtmf(self, sid: str, digit: str, duration_ms: int) -> None:
        self.dtmf_digits.setdefault(sid, []).append((digit, duration_ms))
        self._wake()

    def _wake(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    async def until(self, predicate: object, timeout: float = 15.0, what: str = "") -> None:
        assert callable(predicate)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {what}: statuses={self.statuses} dtmf={self.dtmf_digits}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)


def sip_config(trunk_port: int, **overrides: object) -> SipConfig:
    rtp_first = 40_000 + (free_port() % 10_000) * 2
    base = SipConfig(
        enabled=True,
        listen=Address(LOOPBACK, 0),
        trunk=Address(LOOPBACK, trunk_port),
        inbound_tenant="acme",
        rtp_host=LOOPBACK,
        rtp_ports=(rtp_first, rtp_first + 200),
        t1_s=0.1,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def gateway(
    config: SipConfig, events: RecordingEvents, bridge: BridgeFactory | None = None
) -> AsyncIterator[SipGateway]:
    gw = SipGateway(config, events, bridge)
    await gw.start()
    try:
        yield gw
    finally:
        await gw.stop()


async def sipp(
    scenario: str,
    *,
    local_port: int,
    remote: tuple[str, int] | None = None,
    calls: int = 1,
    rate: float | None = None,
    timeout_s: float = 20.0,
    keys: dict[str, str] | None = None,
    extra: list[str] | None = None,
    host: str = LOOPBACK,
    netns: str | None = None,
) -> asyncio.subprocess.Process:
    """SIPp on `host` (loopback, or an address in the test's network namespace `netns`) with a scenario
    (scenarios/, a path, or built-in like 'uac'); bounded by -m and -timeout."""
    assert SIPP is not None, "sipp (Debian sip-tester) is not installed: make system-deps"
    path = Path(scenario) if Path(scenario).is_absolute() else SCENARIOS / scenario
    sf = ["-sf", str(path)] if scenario.endswith(".xml") else ["-sn", scenario]
    args = [*sf, "-i", host, "-p", str(local_port), "-m", str(calls), "-timeout", f"{timeout_s}s"]
    args += ["-timeout_error", "-nostdin", "-trace_err", "-error_file", "/dev/stderr", "-mp", str(free_port())]
    keys = {"rtpport": "6000", **(keys or {})}
    for key, value in keys.items():
        args += ["-key", key, value]
    if rate is not None:
        args += ["-r", str(rate)]
    args += extra or []
    if remote is not None:
        args.append(f"{remote[0]}:{remote[1]}")
    command = ["ip", "netns", "exec", netns, SIPP] if netns else [SIPP]
    return await asyncio.create_subprocess_exec(
        *command, *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )


def scenario_with(tmp: Path, template: str, **values: str) -> str:
    """A copy of scenarios/<template> with {name} placeholders filled (SIPp checks status codes at load time,
    before its own [keywords] are substituted)."""
    text = (SCENARIOS / template).read_text()
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    out = tmp / template
    out.write_text(text)
    return str(out)


async def finished(proc: asyncio.subprocess.Process, timeout: float = 30.0) -> tuple[int, str]:
    """SIPp's exit status (0: every call succeeded) and its error output."""
    _, err = await asyncio.wait_for(proc.communicate(), timeout)
    return int(proc.returncode or 0), err.decode(errors="replace")[-3000:]
