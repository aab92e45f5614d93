"""Generated client <-> generated handler, in process, over HTTP/1.1, HTTP/3 and the envelope RPC."""

from __future__ import annotations

from pathlib import Path

import pytest
from clutchcall import AgentBinding, CallEvent, CallStatus, ErrorCode
from clutchcall.messages import OriginateRequest, PushAudioRequest
from clutchcall_runtime.rpc import ApiError
from rpc_support import TRANSPORTS, Transport, run, servers

REST: tuple[Transport, ...] = ("h1", "h3")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_calls_round_trip(transport: Transport, tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv, srv.client(transport) as client:
            call = await client.calls.originate(to="+14155550100", from_="+14155550111", idempotency_key="k1")
            assert call.sid == "CA0001" and call.status is CallStatus.DIALING and call.tenant_id == "acme"
            again = await client.calls.originate(to="+14155550100", from_="+14155550111", idempotency_key="k1")
            assert again == call
            assert await client.calls.get(sid=call.sid) == call
            moved = await client.calls.transfer(sid=call.sid, pstn_number="+14155550199")
            assert moved.to == "+14155550199"
            bound = await client.agents.bind(sid=call.sid, agent=AgentBinding(agent_id="replay"))
            assert bound.agent is not None and bound.agent.agent_id == "replay"
            assert (await client.agents.unbind(sid=call.sid)).agent is None
            ended = await client.calls.hangup(sid=call.sid)
            assert ended.status is CallStatus.COMPLETED
            assert srv.store.seen["originate"] == 2 and srv.store.seen["hangup"] == 1
            assert srv.store.callers == {(transport, "127.0.0.1")}

    run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_list_all_pages(transport: Transport, tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv, srv.client(transport) as client:
            for i in range(7):
                await client.calls.originate(to=f"+1415555010{i}", from_="+1")
            await client.calls.hangup(sid="CA0002")
            page = await client.calls.list(page_size=3)
            assert [c.sid for c in page.calls] == ["CA0001", "CA0002", "CA0003"] and page.next_page_token == "3"
            sids = [c.sid async for c in client.calls.list_all(page_size=3)]
            assert sids == [f"CA{i:04d}" for i in range(1, 8)]
            assert srv.store.seen["list"] == 1 + 3
            done = [c.sid async for c in client.calls.list_all(status=[CallStatus.COMPLETED], page_size=2)]
            assert done == ["CA0002"]

    run(main())


def test_legacy_surface_over_envelope(tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv, srv.client("envelope") as client:
            legacy = client.clutch_call_client
            dialed = await legacy.dial(to="+14155550100", from_="+1")
            assert dialed.sid == "CA0001" and dialed.status is CallStatus.DIALING
            bulk = await legacy.originate_bulk(calls=[OriginateRequest(to="+12", from_="+1")] * 3)
            assert [r.call.sid for r in bulk.results if r.call] == ["CA0002", "CA0003", "CA0004"]
            assert (await legacy.get_call(sid="CA0003")).to == "+12"
            assert [c.sid async for c in legacy.list_calls_all(page_size=3)] == [f"CA{i:04d}" for i in range(1, 5)]
            frames = [PushAudioRequest(sid="CA0001", sequence=10 * i, frames=[bytes([i]) * 160] * 10) for i in range(5)]
            ack = await legacy.push_audio(frames)
            assert ack.accepted_through == 49 and srv.store.frames == [f for r in frames for f in r.frames]

            watched: list[CallEvent] = []
            events = legacy.watch_calls()
            for i in range(3):
                srv.store.events.put_nowait(CallEvent(sequence=i + 1, previous_status=CallStatus.DIALING))
            srv.store.events.put_nowait(None)
            async for ev in events:
                watched.append(ev)
            assert [e.sequence for e in watched] == [1, 2, 3]
            await legacy.hangup(sid="CA0001")
            assert (await client.calls.get(sid="CA0001")).status is CallStatus.COMPLETED

    run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_errors_carry_code_status_and_field(transport: Transport, tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv, srv.client(transport) as client:
            with pytest.raises(ApiError) as info:
                await client.calls.get(sid="CA9999")
            err = info.value
            assert err.code is ErrorCode.NOT_FOUND and err.http_status == 404 and not err.retryable
            assert err.field == "sid" and "CA9999" in err.message
            with pytest.raises(ApiError) as info:
                await client.calls.originate(to="4155550100")
            assert info.value.code is ErrorCode.INVALID_ARGUMENT and info.value.field == "to"
            async with srv.client(transport, token="forged") as other:
                with pytest.raises(ApiError) as info:
                    await other.calls.get(sid="CA0001")
                assert info.value.code is ErrorCode.UNAUTHENTICATED and info.value.http_status == 401
            # another tenant never sees acme's calls
            call = await client.calls.originate(to="+1", from_="+2")
            async with srv.client(transport, token="tok-globex") as globex:
                with pytest.raises(ApiError) as info:
                    await globex.calls.get(sid=call.sid)
                assert info.value.code is ErrorCode.NOT_FOUND

    run(main())


@pytest.mark.parametrize("transport", REST)
def test_streaming_methods_are_refused_over_rest(transport: Transport, tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv, srv.client(transport) as client:
            with pytest.raises(ApiError) as info:
                await client.clutch_call_client.dial(to="+1")
            assert info.value.code is ErrorCode.UNIMPLEMENTED

    run(main())
