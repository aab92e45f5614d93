"""The envelope RPC server on bad input and at its bounds: an error envelope naming the problem (counted),
never a crash, and the connection keeps serving."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from clutchcall import CallEvent, ErrorCode, GetCallRequest, ListCallsRequest
from clutchcall.services import VOICE_CALLS
from clutchcall.wire import envelope as wire
from clutchcall_runtime.rpc import ApiError, TlsOptions
from clutchcall_runtime.rpc.envelope import (
    AUTH_METHOD_ID,
    EnvelopeLimits,
    EnvelopeTransport,
    _answer,
    _EnvelopeClientConnection,
    envelope,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rpc_support import Servers, run, servers

REQ = wire.EnvelopeKind.REQUEST


async def _connection(
    srv: Servers, token: str | None = "tok-acme"
) -> tuple[EnvelopeTransport, _EnvelopeClientConnection]:
    transport = EnvelopeTransport("127.0.0.1", srv.envelope.port, TlsOptions(insecure=True), token)
    return transport, await transport._connection()


async def _raw(conn: _EnvelopeClientConnection, data: bytes, end: bool = True) -> wire.Envelope | ApiError:
    stream_id, _, answer = conn.open(4)
    conn.write(stream_id, data, end)
    return await asyncio.wait_for(answer.queue.get(), 5)


def _status(env: wire.Envelope | ApiError) -> ApiError:
    assert isinstance(env, wire.Envelope) and env.kind == wire.EnvelopeKind.ERROR, env
    from clutchcall import ErrorStatus

    return ApiError.from_status(ErrorStatus.decode(env.payload))


def test_bad_envelopes_get_error_envelopes_and_the_connection_lives(tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv:
            transport, conn = await _connection(srv)
            get = VOICE_CALLS["get"].id
            cases = [
                (b"\x07\x00\x01\x00\x00\x00", ErrorCode.INVALID_ARGUMENT, "bad envelope"),  # version 7
                (b"\x01\x00\x01", ErrorCode.INVALID_ARGUMENT, "bad envelope"),  # truncated at the stream's end
                (envelope(REQ, 999, 5, b""), ErrorCode.UNIMPLEMENTED, "999"),
                (envelope(REQ, get, 6, b"\xff\xff"), ErrorCode.INVALID_ARGUMENT, ""),  # payload does not decode
                (envelope(wire.EnvelopeKind.RESPONSE, get, 7, b""), ErrorCode.INVALID_ARGUMENT, "request"),
                (envelope(REQ, get, 8, GetCallRequest(sid="x").encode(), final=False), ErrorCode.INVALID_ARGUMENT, ""),
            ]
            for data, code, words in cases:
                err = _status(await _raw(conn, data))
                assert err.code is code and words in err.message, (data, err)
            assert srv.envelope.refused["malformed"] == 3
            client = srv.client("envelope")
            async with client:
                with pytest.raises(ApiError) as info:
                    await client.calls.get(sid="CA1")
                assert info.value.code is ErrorCode.NOT_FOUND  # the server still serves
            await transport.aclose()

    run(main())


def test_calls_before_the_token_are_refused(tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv:
            from clutchcall_runtime.moqt.transport import _client_config, _dial
            from clutchcall_runtime.rpc.envelope import ALPN

            config = _client_config([ALPN], "127.0.0.1", TlsOptions(insecure=True), 10)
            protocol, udp = await _dial("127.0.0.1", srv.envelope.port, config, _EnvelopeClientConnection, 5)
            assert isinstance(protocol, _EnvelopeClientConnection)
            err = _status(await _raw(protocol, envelope(REQ, VOICE_CALLS["get"].id, 1, b"")))
            assert err.code is ErrorCode.UNAUTHENTICATED and "token" in err.message
            stream_id, request_id, answer = protocol.open(2)
            protocol.write(stream_id, envelope(REQ, AUTH_METHOD_ID, request_id, b"forged"), True)
            with pytest.raises(ApiError) as info:
                await asyncio.wait_for(_answer(answer, AUTH_METHOD_ID, request_id), 5)
            assert info.value.code is ErrorCode.UNAUTHENTICATED
            for _ in range(100):
                if protocol.closed:
                    break
                await asyncio.sleep(0.02)
            assert protocol.closed  # a refused token closes the connection
            udp.close()

    run(main())


def test_calls_in_flight_are_bounded_and_counted(tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv:
            srv.envelope.limits = EnvelopeLimits(max_calls_per_connection=2)
            async with srv.client("envelope") as client:
                legacy = client.clutch_call_client
                watchers = [legacy.watch_calls(), legacy.watch_calls()]
                pending = [asyncio.ensure_future(anext(w)) for w in watchers]
                await asyncio.sleep(0.2)
                assert srv.store.seen["watch_calls"] == 2
                with pytest.raises(ApiError) as info:
                    await client.calls.get(sid="CA1")
                assert info.value.code is ErrorCode.RESOURCE_EXHAUSTED and info.value.retryable
                assert srv.envelope.refused["calls_in_flight"] == 4  # every attempt of the idempotent get
                for f in pending:
                    f.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                for w in watchers:
                    await w.aclose()  # type: ignore[attr-defined]
                await asyncio.sleep(0.2)  # the resets reach the server, which ends both calls
                with pytest.raises(ApiError) as info:
                    await client.calls.get(sid="CA1")
                assert info.value.code is ErrorCode.NOT_FOUND

    run(main())


def test_a_client_that_stops_reading_events_gets_an_error_not_a_growing_queue(tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv:
            transport = EnvelopeTransport(
                "127.0.0.1", srv.envelope.port, TlsOptions(insecure=True), "tok-acme", max_queued_events=4
            )
            from clutchcall.services import CLUTCH_CALL_CLIENT

            events = transport.server_stream(CLUTCH_CALL_CLIENT["watch_calls"], ListCallsRequest())
            first = asyncio.ensure_future(anext(events))
            await asyncio.sleep(0.2)
            for i in range(50):
                srv.store.events.put_nowait(CallEvent(sequence=i))
            await asyncio.sleep(0.3)
            got = [(await first).sequence]
            with pytest.raises(ApiError) as info:
                async for ev in events:
                    got.append(ev.sequence)  # type: ignore[attr-defined]
            assert info.value.code is ErrorCode.RESOURCE_EXHAUSTED and len(got) <= 5
            await transport.aclose()

    run(main())


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.lists(st.binary(max_size=40), min_size=1, max_size=16))  # a server per example: few, long ones
def test_fuzzed_streams_never_break_the_server(data: list[bytes], tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv:
            transport, conn = await _connection(srv)
            for chunk in data:
                stream_id, _, answer = conn.open(8)
                conn.write(stream_id, chunk, True)
                item = await asyncio.wait_for(answer.queue.get(), 5)
                assert isinstance(item, wire.Envelope) and item.kind in (
                    wire.EnvelopeKind.ERROR,
                    wire.EnvelopeKind.RESPONSE,
                )
            async with srv.client("envelope") as client:
                assert (await client.calls.originate(to="+1", from_="+2")).status
            await transport.aclose()

    run(main())


def test_client_stream_requests_queued_are_bounded(tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv:
            from clutchcall.messages import PushAudioRequest
            from clutchcall.services import CLUTCH_CALL_CLIENT

            push = CLUTCH_CALL_CLIENT["push_audio"].id
            srv.envelope.limits = EnvelopeLimits(max_queued_requests=2)
            transport, conn = await _connection(srv)
            batch = PushAudioRequest(sid="CA1", frames=[b"x" * 160]).encode()
            burst = b"".join(envelope(REQ, push, 9, batch, final=False) for _ in range(10))  # one write, one event
            err = _status(await _raw(conn, burst + envelope(REQ, push, 9, batch)))
            assert err.code is ErrorCode.RESOURCE_EXHAUSTED and srv.envelope.refused["queued_requests"] == 1
            within = b"".join(envelope(REQ, push, 10, batch, final=False) for _ in range(1)) + envelope(
                REQ, push, 10, batch
            )
            ok = await _raw(conn, within)
            assert isinstance(ok, wire.Envelope) and ok.kind == wire.EnvelopeKind.RESPONSE
            await transport.aclose()

    run(main())
