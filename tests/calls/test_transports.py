"""The control plane through the generated client (clutchcall.rpc.ApiClient) over the engine's listeners:
REST over HTTP/1.1 and the legacy envelope RPC, with the legacy methods mapped onto the same service
(dial, originate_bulk, get_call, list_calls, watch_calls, hangup), tenant tokens on both, and errors as
ApiError with the IDL's codes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from calls_support import FakeSignalling, tenant_token
from clutchcall import AgentBinding, BargeMode, CallStatus, Codec, ErrorCode, OriginateRequest, PushAudioRequest
from clutchcall.rpc import ApiClient
from clutchcall_engine.calls.plane import ControlPlane
from clutchcall_engine.config import Address, EngineConfig
from clutchcall_engine.server import EngineServer
from clutchcall_runtime.moqt.client import connect
from clutchcall_runtime.rpc import ApiError, RetryPolicy, TlsOptions

TO, FROM = "+14155550100", "+14155550199"
LOOPBACK = "127.0.0.1"


def _config(state_dir: Path) -> EngineConfig:
    zero = Address(LOOPBACK, 0)
    return EngineConfig(moqt_addr=zero, http_addr=zero, rest_addr=zero, rpc_addr=zero, state_dir=state_dir)


@asynccontextmanager
async def _engine(tmp_path: Path) -> AsyncIterator[tuple[EngineServer, ControlPlane, FakeSignalling]]:
    gateway = FakeSignalling()
    async with EngineServer(_config(tmp_path), calls=True, signalling=gateway) as srv:
        assert srv.calls is not None
        yield srv, srv.calls, gateway


def _rest(srv: EngineServer, plane: ControlPlane, token: str | None, http: str = "h1") -> ApiClient:
    """REST over HTTP/1.1 on the control plane's port, or over HTTP/3 on the engine's HTTP/3 port."""
    if http == "h1":
        return ApiClient.connect_rest(f"http://{LOOPBACK}:{plane.rest_port}", token=token, http="h1")
    assert srv.cert is not None
    tls = TlsOptions(cert_sha256=bytes.fromhex(srv.cert.sha256))
    return ApiClient.connect_rest(f"https://{LOOPBACK}:{srv.http_port}", token=token, http="h3", tls=tls)


def _rpc(srv: EngineServer, plane: ControlPlane, token: str | None) -> ApiClient:
    assert srv.cert is not None
    tls = TlsOptions(cert_sha256=bytes.fromhex(srv.cert.sha256))
    return ApiClient.connect_rpc(
        f"quic://{LOOPBACK}:{plane.rpc_port}", token=token, tls=tls, retry=RetryPolicy(max_attempts=1)
    )


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 30))


async def _expect(coro: Awaitable[object], code: ErrorCode, field: str = "") -> ApiError:
    with pytest.raises(ApiError) as info:
        await coro
    assert (info.value.code, info.value.field) == (code, field), info.value
    return info.value


@pytest.mark.parametrize("http", ["h1", "h3"])
def test_voice_calls_over_rest_with_the_generated_client(tmp_path: Path, http: str) -> None:
    async def scenario() -> None:
        async with _engine(tmp_path) as (srv, plane, gateway):
            async with _rest(srv, plane, tenant_token(tmp_path, "acme"), http) as client:
                call = await client.calls.originate(to=TO, from_=FROM, idempotency_key="once")
                assert call.status == CallStatus.DIALING and gateway.dialed[0][:2] == (call.sid, "acme")
                assert (await client.calls.originate(to=TO, from_=FROM, idempotency_key="once")).sid == call.sid
                for _ in range(4):
                    await client.calls.originate(to=TO, from_=FROM)
                await plane.service.status_changed(call.sid, CallStatus.IN_PROGRESS)
                assert (await client.calls.get(sid=call.sid)).status == CallStatus.IN_PROGRESS
                sids = [c.sid async for c in client.calls.list_all(page_size=2)]
                assert len(sids) == 5 and sids[-1] == call.sid
                moved = await client.calls.transfer(sid=call.sid, pstn_number="+442071234567")
                assert moved.to == "+442071234567" and gateway.transferred == [(call.sid, "+442071234567")]
                ended = await client.calls.hangup(sid=call.sid)
                assert ended.status == CallStatus.COMPLETED
                await _expect(client.calls.originate(to="555", from_=FROM), ErrorCode.INVALID_ARGUMENT, "to")
                replay = AgentBinding(agent_id="replay")
                await _expect(client.agents.bind(sid=call.sid, agent=replay), ErrorCode.INVALID_TRANSITION)
            async with _rest(srv, plane, tenant_token(tmp_path, "globex"), http) as other:
                await _expect(other.calls.get(sid=call.sid), ErrorCode.NOT_FOUND)
            async with _rest(srv, plane, None, http) as anonymous:
                await _expect(anonymous.calls.get(sid=call.sid), ErrorCode.UNAUTHENTICATED)

    run(scenario)


def test_legacy_methods_over_the_envelope_rpc_share_the_service(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with _engine(tmp_path) as (srv, plane, gateway):
            async with _rpc(srv, plane, tenant_token(tmp_path, "acme")) as client:
                legacy = client.clutch_call_client
                watch = legacy.watch_calls()
                first = asyncio.ensure_future(anext(watch))  # the stream opens on the first read
                while not plane.service._watchers:
                    await asyncio.sleep(0.01)
                dialed = await legacy.dial(to=TO, from_=FROM, codec=Codec.G711_ULAW, timeout_s=20)
                assert dialed.status == CallStatus.DIALING
                assert gateway.dialed[-1] == (dialed.sid, "acme", TO, FROM, Codec.G711_ULAW, 20.0)
                await _expect(legacy.dial(to=TO, from_=FROM, timeout_s=9999), ErrorCode.INVALID_ARGUMENT, "timeoutS")
                await plane.service.status_changed(dialed.sid, CallStatus.RINGING)
                await plane.service.status_changed(dialed.sid, CallStatus.IN_PROGRESS)
                events = [await first, await anext(watch)]
                assert [(e.previous_status, e.call.status if e.call else 0, e.sequence) for e in events] == [
                    (CallStatus.DIALING, CallStatus.RINGING, 1),
                    (CallStatus.RINGING, CallStatus.IN_PROGRESS, 2),
                ]
                await plane.service.dtmf(dialed.sid, "7", 100)  # a digit, not a status change
                dtmf = await anext(watch)
                assert (dtmf.previous_status, dtmf.call.status if dtmf.call else 0, dtmf.sequence) == (3, 3, 3)
                assert dtmf.dtmf is not None and (dtmf.dtmf.digit, dtmf.dtmf.duration_ms) == ("7", 100)
                assert (await legacy.get_call(sid=dialed.sid)).status == CallStatus.IN_PROGRESS
                assert (await client.calls.get(sid=dialed.sid)).sid == dialed.sid  # voice.calls over RPC too
                bulk = await legacy.originate_bulk(
                    calls=[OriginateRequest(to=TO, from_=FROM), OriginateRequest(to="bad", from_=FROM)]
                )
                assert bulk.results[0].call is not None and bulk.results[1].error is not None
                assert (bulk.results[1].index, bulk.results[1].error.field) == (1, "calls[1].to")
                page = await legacy.list_calls(status=[CallStatus.IN_PROGRESS])
                assert [c.sid for c in page.calls] == [dialed.sid]
                await _expect(legacy.barge(sid=dialed.sid, supervisor=FROM, mode=9), ErrorCode.INVALID_ARGUMENT, "mode")
                await legacy.barge(sid=dialed.sid, supervisor=FROM, mode=BargeMode.WHISPER)
                await legacy.barge(sid=dialed.sid, supervisor=FROM)  # mode unset: listen, as the IDL says
                assert gateway.barged == [(dialed.sid, FROM, BargeMode.WHISPER), (dialed.sid, FROM, BargeMode.LISTEN)]
                await legacy.hangup(sid=dialed.sid)
                assert (await legacy.get_call(sid=dialed.sid)).end_reason != 0
                await watch.aclose()
            async with _rpc(srv, plane, tenant_token(tmp_path, "globex")) as other:
                await _expect(other.clutch_call_client.get_call(sid=dialed.sid), ErrorCode.NOT_FOUND)
                await _expect(other.clutch_call_client.hangup(sid=dialed.sid), ErrorCode.NOT_FOUND)
            async with _rpc(srv, plane, None) as anonymous:
                await _expect(anonymous.clutch_call_client.get_call(sid=dialed.sid), ErrorCode.UNAUTHENTICATED)

    run(scenario)


def test_push_audio_over_the_envelope_rpc_arrives_on_the_downlink_track(tmp_path: Path) -> None:
    """Legacy push_audio publishes on voice/<sid>/downlink through the engine's relay: a MoQT subscriber (as the
    SIP gateway is) gets the frames as pushed."""

    async def scenario() -> None:
        async with _engine(tmp_path) as (srv, plane, _):
            assert srv.cert is not None
            token = tenant_token(tmp_path, "acme", subscribe=("voice",))
            async with _rpc(srv, plane, token) as client:
                sid = (await client.calls.originate(to=TO, from_=FROM)).sid
                listener = await connect(f"moqt://{LOOPBACK}:{srv.moqt_port}", token, cert_sha256=srv.cert.sha256)
                try:
                    held = asyncio.ensure_future(listener.subscribe(("voice", sid), "downlink"))  # held until published
                    frames = [bytes([i]) * 160 for i in range(10)]
                    pushes = [
                        PushAudioRequest(sid=sid, codec=Codec.G711_ULAW, sequence=100, frames=frames[:6]),
                        PushAudioRequest(
                            sid=sid, codec=Codec.G711_ULAW, sequence=106, frames=frames[6:], end_of_stream=True
                        ),
                    ]
                    push = asyncio.ensure_future(client.clutch_call_client.push_audio(pushes))
                    subscription = await held
                    got, tags = [], set()
                    async for obj in subscription:
                        got.append(obj.payload)
                        tags.add(obj.capability)
                        if len(got) == len(frames):
                            break
                    assert got == frames and tags == {"voice/g711_ulaw"}
                    assert (await push).accepted_through == 109
                finally:
                    await listener.close()
            async with _rpc(srv, plane, tenant_token(tmp_path, "globex")) as other:
                request = PushAudioRequest(sid=sid, codec=Codec.G711_ULAW, frames=[b"x"])
                await _expect(other.clutch_call_client.push_audio([request]), ErrorCode.NOT_FOUND)

    run(scenario)
