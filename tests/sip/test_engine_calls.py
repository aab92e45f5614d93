"""End to end through the engine: the generated SDK over REST (HTTP/1.1) originates a call, the engine's SIP
gateway dials SIPp, and the stored call is read back; an inbound call from SIPp appears in the SDK's list."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import pytest
from clutchcall import CallStatus, Direction, EndReason
from clutchcall.rpc import ApiClient
from clutchcall_engine.auth import load_or_create_dev_key, mint_token
from clutchcall_engine.config import Address, EngineConfig
from clutchcall_engine.server import EngineServer
from sip_support import LOOPBACK, SIPP, finished, free_port, sip_config, sipp

pytestmark = pytest.mark.skipif(SIPP is None, reason="unreachable: make system-deps installs sip-tester")


def run(coro: object, timeout: float = 60.0) -> None:
    async def bounded() -> None:
        assert asyncio.iscoroutine(coro)
        await asyncio.wait_for(coro, timeout)

    asyncio.run(bounded())


async def _until_status(api: ApiClient, sid: str, status: CallStatus, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (await api.calls.get(sid=sid)).status != status:
        assert loop.time() < deadline, f"call {sid} never reached {status.name}"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("hangup_by", ["carrier", "sdk"])
def test_sdk_originates_through_the_gateway_and_reads_the_stored_call(tmp_path: Path, hangup_by: str) -> None:
    async def main() -> None:
        carrier = free_port()
        config = EngineConfig(
            moqt_addr=Address(LOOPBACK, 0),
            http_addr=Address(LOOPBACK, 0),
            rest_addr=Address(LOOPBACK, 0),
            rpc_addr=Address(LOOPBACK, 0),
            state_dir=tmp_path,
            sip=sip_config(carrier),
        )
        async with EngineServer(config, calls=True) as srv:
            assert srv.calls is not None and srv.sip is not None
            token = mint_token(
                load_or_create_dev_key(tmp_path),
                tenant="acme",
                publish=("voice",),
                subscribe=("voice",),
                ttl_s=600,
                audience=config.audience,
            )
            api = ApiClient.connect_rest(f"http://{LOOPBACK}:{srv.calls.rest_port}", token=token)
            scenario = "uas_answer_bye.xml" if hangup_by == "carrier" else "uas_answer.xml"
            proc = await sipp(scenario, local_port=carrier)
            await asyncio.sleep(0.3)
            call = await api.calls.originate(to="+15550001", from_="+15550100", idempotency_key=secrets.token_hex(8))
            await _until_status(api, call.sid, CallStatus.IN_PROGRESS)
            if hangup_by == "sdk":
                await api.calls.hangup(sid=call.sid)
            rc, err = await finished(proc)
            assert rc == 0, err
            await _until_status(api, call.sid, CallStatus.COMPLETED)
            stored = await api.calls.get(sid=call.sid)
            reason = EndReason.CALLEE_HANGUP if hangup_by == "carrier" else EndReason.API_HANGUP
            assert stored.end_reason == reason
            assert stored.answered_at_ms and stored.ended_at_ms
            await api.aclose()

    run(main())


def test_inbound_call_reaches_the_sdk_as_a_new_call(tmp_path: Path) -> None:
    async def main() -> None:
        config = EngineConfig(
            moqt_addr=Address(LOOPBACK, 0),
            http_addr=Address(LOOPBACK, 0),
            rest_addr=Address(LOOPBACK, 0),
            rpc_addr=Address(LOOPBACK, 0),
            state_dir=tmp_path,
            sip=sip_config(free_port()),
        )
        async with EngineServer(config, calls=True) as srv:
            assert srv.calls is not None and srv.sip is not None
            key = load_or_create_dev_key(tmp_path)
            token = mint_token(key, tenant="acme", publish=(), subscribe=(), ttl_s=600, audience=config.audience)
            api = ApiClient.connect_rest(f"http://{LOOPBACK}:{srv.calls.rest_port}", token=token)
            proc = await sipp(
                "uac_call.xml", local_port=free_port(), remote=(LOOPBACK, srv.sip.port), extra=["-s", "+15550199"]
            )
            rc, err = await finished(proc)
            assert rc == 0, err
            calls = [c async for c in api.calls.list_all()]
            assert len(calls) == 1
            (call,) = calls
            assert call.direction == Direction.INBOUND
            assert (call.from_, call.to) == ("+15550100", "+15550199")
            await _until_status(api, call.sid, CallStatus.COMPLETED)
            assert (await api.calls.get(sid=call.sid)).end_reason == EndReason.CALLER_HANGUP
            assert b'clutchcall_sip_invites_total{direction="inbound"} 1.0' in srv.metrics.render()
            await api.aclose()

    run(main())
