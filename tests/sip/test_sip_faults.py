"""Kill -9 of the engine (its SIP gateway included) during an answered call: after the restart the call
record is still there and ends FAILED with END_REASON_NETWORK_ERROR; the gateway serves again on its port."""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path

import pytest
from clutchcall import CallStatus, EndReason
from clutchcall.rpc import ApiClient
from clutchcall_engine.auth import load_or_create_dev_key, mint_token
from clutchcall_engine.process import EngineProcess
from sip_support import LOOPBACK, SIPP, finished, free_port, sipp

pytestmark = pytest.mark.skipif(SIPP is None, reason="unreachable: make system-deps installs sip-tester")


async def _status(api: ApiClient, sid: str, want: CallStatus, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (await api.calls.get(sid=sid)).status != want:
        assert loop.time() < deadline, f"{sid} never reached {want.name}"
        await asyncio.sleep(0.05)


def test_kill_9_during_a_call(tmp_path: Path, core_pkg_root: Path | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if core_pkg_root is not None:  # the engine's child process needs the core module too
        monkeypatch.setenv(
            "PYTHONPATH", os.pathsep.join(filter(None, [str(core_pkg_root), os.environ.get("PYTHONPATH")]))
        )
    carrier, sip_port = free_port(), free_port()
    rtp_first = 40_000 + (free_port() % 10_000) * 2
    flags = ["--sip", "enabled=true", "--sip", f"listen={LOOPBACK}:{sip_port}", "--sip", f"trunk={LOOPBACK}:{carrier}"]
    flags += ["--sip", f"rtp_ports={rtp_first}-{rtp_first + 50}", "--sip", "inbound_tenant=acme"]

    async def main() -> None:
        token = mint_token(
            load_or_create_dev_key(tmp_path),
            tenant="acme",
            publish=(),
            subscribe=(),
            ttl_s=600,
            audience="clutchcall-engine",
        )
        engine = EngineProcess(tmp_path, *flags).start()
        proc = await sipp("uas_answer.xml", local_port=carrier, timeout_s=30)
        try:
            api = ApiClient.connect_rest(f"http://{LOOPBACK}:{engine.rest_port}", token=token)
            await asyncio.sleep(0.3)
            call = await api.calls.originate(to="+15550001", from_="+15550100", idempotency_key=secrets.token_hex(8))
            await _status(api, call.sid, CallStatus.IN_PROGRESS)
            await api.aclose()
            engine.kill()

            engine = EngineProcess(tmp_path, *flags).start()
            api = ApiClient.connect_rest(f"http://{LOOPBACK}:{engine.rest_port}", token=token)
            stored = await api.calls.get(sid=call.sid)
            assert stored.status == CallStatus.FAILED
            assert stored.end_reason == EndReason.NETWORK_ERROR
            assert stored.answered_at_ms and stored.to == "+15550001"
            # the restarted gateway serves its SIP port again: an inbound call reaches the control plane
            inbound = await sipp("uac_call.xml", local_port=free_port(), remote=(LOOPBACK, sip_port), timeout_s=15)
            rc, err = await finished(inbound)
            assert rc == 0, err
            assert len([c async for c in api.calls.list_all()]) == 2
            await api.aclose()
        finally:
            engine.stop()
            if proc.returncode is None:
                proc.kill()  # the carrier still waits for a BYE the killed engine never sent
            await proc.wait()

    asyncio.run(asyncio.wait_for(main(), 90))
