"""Server streaming over REST (NDJSON, as grpc-gateway streams) on HTTP/1.1 and HTTP/3: items arrive as they are
produced, an error after the first item is the stream's last line and surfaces as its ApiError, a client that
stops reading or goes away stops the producer, and what is buffered on the way is bounded.

The committed IDL has no server-streaming method with an HTTP rule, so these tests serve the legacy
`watch_calls` descriptor with a route added (`GET /v1/calls:watch`); `test_generation.py` adds such a method
to an edited copy of the IDL and runs the regenerated package end to end."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from clutchcall import Call, CallEvent, ErrorCode, ListCallsRequest
from clutchcall.services import CLUTCH_CALL_CLIENT, VOICE_CALLS, HttpRule, Segment
from clutchcall_runtime.moqt.transport import listen_http3
from clutchcall_runtime.rpc import (
    ApiClientBase,
    ApiError,
    Dispatcher,
    Endpoint,
    Handler,
    Http1Server,
    RequestContext,
    RestApp,
    ServiceClient,
    TlsOptions,
    h3_requests,
)
from clutchcall_runtime.rpc.rest import NdjsonLines, decode_stream_line, ndjson_error, ndjson_result
from hypothesis import given, settings
from hypothesis import strategies as st
from rpc_support import _no_moqt, certificate, run, tenant_of

LIST_RULE = VOICE_CALLS["list"].http
assert LIST_RULE is not None
WATCH = dataclasses.replace(
    CLUTCH_CALL_CLIENT["watch_calls"],
    id=4000,
    http=HttpRule(
        "GET",
        "/v1/calls:watch",
        (),
        None,
        (Segment("v1", False), Segment("calls", False)),
        "watch",
        None,
        LIST_RULE.query,
    ),
)
TRANSPORTS = ["h1", "h3"]


@dataclasses.dataclass
class Producer:
    """What the stream handler does: `count` events of `size` bytes, then optionally fail; it records how far
    it got and whether it was closed."""

    count: int = 10
    size: int = 16
    fail_after: ApiError | None = None
    produced: int = 0
    closed: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    started: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    def event(self, i: int) -> CallEvent:
        return CallEvent(call=Call(sid=f"CA{i:06d}", to="+" + "1" * self.size), sequence=i)


class Watch(Handler):
    def __init__(self, producer: Producer) -> None:
        self.p = producer

    async def watch(self, request: ListCallsRequest, ctx: RequestContext) -> AsyncIterator[CallEvent]:
        self.p.started.set()
        try:
            for i in range(self.p.count):
                self.p.produced += 1
                yield self.p.event(i)
                await asyncio.sleep(0)
            if self.p.fail_after is not None:
                raise self.p.fail_after
        finally:
            self.p.closed.set()

    def endpoints(self) -> list[Endpoint]:
        return [Endpoint.server_stream(WATCH, self.watch)]


class Client(ApiClientBase):
    def __init__(self, channel: Any) -> None:
        super().__init__(channel)
        self.svc = ServiceClient(channel)

    def watch(self, **kw: Any) -> AsyncIterator[CallEvent]:
        return self.svc._server_stream(WATCH, ListCallsRequest(**kw), CallEvent)


@dataclasses.dataclass
class Rest:
    h1: Http1Server
    h3_port: int
    requests_refused: Any

    def client(self, transport: str, token: str = "tok-acme") -> Client:
        if transport == "h1":
            return Client.connect_rest(f"http://127.0.0.1:{self.h1.port}", token=token, http="h1")
        return Client.connect_rest(
            f"https://127.0.0.1:{self.h3_port}", token=token, http="h3", tls=TlsOptions(insecure=True)
        )


@contextlib.asynccontextmanager
async def rest(tmp: Path, producer: Producer) -> AsyncIterator[Rest]:
    from collections import Counter

    app = RestApp(Dispatcher([Watch(producer)], authenticate=tenant_of))
    h1 = Http1Server(app, stream_stall_s=0.5)
    await h1.start("127.0.0.1", 0)
    refused: Counter[str] = Counter()
    requests = h3_requests(app, refused=refused, max_unacked_bytes=1 << 20, stream_stall_s=1.0)
    h3 = await listen_http3("127.0.0.1", 0, certificate(tmp), _no_moqt, requests=requests)
    assert h3._transport is not None
    try:
        yield Rest(h1, h3._transport.get_extra_info("sockname")[1], refused)
    finally:
        h3.close()
        await h1.stop()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_items_stream_in_order_and_the_channel_stays_usable(tmp_path: Path, transport: str) -> None:
    producer = Producer(count=200)

    async def main() -> None:
        async with rest(tmp_path, producer) as srv, srv.client(transport) as client:
            got = [event async for event in client.watch(page_size=5)]
            assert [e.sequence for e in got] == list(range(200))
            assert got[7] == producer.event(7)
            again = [event.sequence async for event in client.watch()]  # same connection, a second stream
            assert again == list(range(200))
            assert client.channel.attempts == 2

    run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_error_mid_stream_is_the_last_line_and_raises(tmp_path: Path, transport: str) -> None:
    producer = Producer(count=3, fail_after=ApiError(ErrorCode.NOT_FOUND, "the call went away", field="sid"))

    async def main() -> None:
        async with rest(tmp_path, producer) as srv, srv.client(transport) as client:
            got: list[int] = []
            with pytest.raises(ApiError) as info:
                async for event in client.watch():
                    got.append(event.sequence)
            assert got == [0, 1, 2]
            assert info.value.code is ErrorCode.NOT_FOUND and info.value.message == "the call went away"
            assert info.value.field == "sid"
            producer.count, producer.fail_after = 0, ApiError(ErrorCode.UNAVAILABLE, "at once")
            with pytest.raises(ApiError) as info:
                await anext(client.watch())
            assert info.value.code is ErrorCode.UNAVAILABLE and info.value.retryable

    run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_errors_before_the_stream_keep_their_http_status(tmp_path: Path, transport: str) -> None:
    async def main() -> None:
        async with rest(tmp_path, Producer()) as srv, srv.client(transport, token="bad") as client:
            with pytest.raises(ApiError) as info:
                await anext(client.watch())
            assert info.value.code is ErrorCode.UNAUTHENTICATED

    run(main())


def test_curl_like_client_reads_ndjson_lines(tmp_path: Path) -> None:
    """The wire format itself, read by a plain HTTP/1.1 client: 200, application/x-ndjson, chunked, one
    {"result": ...} per line and a final {"error": ...}."""
    producer = Producer(count=2, fail_after=ApiError(ErrorCode.INVALID_TRANSITION, "stop"))

    async def main() -> None:
        async with rest(tmp_path, producer) as srv, httpx.AsyncClient() as http:
            url = f"http://127.0.0.1:{srv.h1.port}/v1/calls:watch?pageSize=3"
            response = await http.get(url, headers={"authorization": "Bearer tok-acme"})
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/x-ndjson"
            assert response.headers["transfer-encoding"] == "chunked"
            lines = [json.loads(line) for line in response.text.splitlines()]
            assert lines[:2] == [{"result": producer.event(i).to_json()} for i in range(2)]
            assert lines[2] == {"error": ApiError(ErrorCode.INVALID_TRANSITION, "stop").to_status().to_json()}
            assert len(lines) == 3

    run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_client_cancelling_stops_the_producer(tmp_path: Path, transport: str) -> None:
    producer = Producer(count=10**9)

    async def main() -> None:
        async with rest(tmp_path, producer) as srv, srv.client(transport) as client:
            stream = client.watch()
            for i in range(5):
                assert (await anext(stream)).sequence == i
            await stream.aclose()  # type: ignore[attr-defined]
            await asyncio.wait_for(producer.closed.wait(), 5)
            stopped_at = producer.produced
            await asyncio.sleep(0.3)
            assert producer.produced == stopped_at < 100_000
            assert [e.sequence async for e in _first(client.watch(), 3)] == [0, 1, 2]  # the client still works

    run(main())


async def _first(stream: AsyncIterator[CallEvent], n: int) -> AsyncIterator[CallEvent]:
    for _ in range(n):
        yield await anext(stream)
    await stream.aclose()  # type: ignore[attr-defined]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_reader_that_stops_reading_is_bounded(tmp_path: Path, transport: str) -> None:
    """64 KiB events to a client that reads one and then nothing: the producer is held back by the bounded
    buffers on the way (never tens of MB ahead), then the call is cut off and the producer closed."""
    producer = Producer(count=10**9, size=64 * 1024)

    async def main() -> None:
        async with rest(tmp_path, producer) as srv, srv.client(transport) as client:
            stream = client.watch()
            assert (await anext(stream)).sequence == 0
            await asyncio.wait_for(producer.closed.wait(), 10)
            buffered_mib = producer.produced * 64 / 1024
            assert buffered_mib < 32, f"{producer.produced} events of 64 KiB produced for a stalled reader"
            with pytest.raises(ApiError) as info:
                async for _ in stream:
                    pass
            if transport == "h1":  # the server cut the stalled connection off
                assert srv.h1.refused["slow_reader"] == 1 and info.value.code is ErrorCode.UNAVAILABLE
            else:  # the client's queue filled first and it gave up on the stream
                assert info.value.code is ErrorCode.RESOURCE_EXHAUSTED

    run(main())


def test_an_http3_client_that_acknowledges_nothing_holds_the_server_to_its_unacked_bound(tmp_path: Path) -> None:
    """The client's socket stops reading, so nothing is acknowledged: the server produces no more than its
    max_unacked_bytes (1 MiB) allows, then cuts the stream off after stream_stall_s and closes the producer."""
    producer = Producer(count=10**9, size=64 * 1024)

    async def main() -> None:
        async with rest(tmp_path, producer) as srv, srv.client("h3") as client:
            stream = client.watch()
            assert (await anext(stream)).sequence == 0
            transport = client.channel._transport  # type: ignore[attr-defined]
            transport._conn[1].pause_reading()
            await asyncio.wait_for(producer.closed.wait(), 10)
            assert srv.requests_refused["slow_reader"] == 1
            assert producer.produced * 64 * 1024 <= (1 << 20) + 3 * 64 * 1024, producer.produced
            transport._conn[1].resume_reading()
            await stream.aclose()  # type: ignore[attr-defined]

    run(main())


def test_unary_methods_are_not_served_as_streams_and_vice_versa() -> None:
    assert VOICE_CALLS["list"].streaming == "none" and WATCH.streaming == "server" and WATCH.http is not None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**32), max_size=20), st.integers(1, 50), st.booleans())
def test_ndjson_lines_split_anywhere_decode_to_the_same_items(seqs: list[int], cut: int, fail: bool) -> None:
    events = [CallEvent(call=Call(sid=f"CA{s}"), sequence=s) for s in seqs]
    body = b"".join(ndjson_result(e) for e in events)
    err = ApiError(ErrorCode.INTERNAL, "boom\nwith a line break")
    if fail:
        body += ndjson_error(err)
    lines = NdjsonLines()
    got: list[CallEvent] = []
    raised: ApiError | None = None
    for start in range(0, len(body), cut):
        for line in lines.feed(body[start : start + cut]):
            try:
                item = decode_stream_line(WATCH, line)
            except ApiError as exc:
                raised = exc
            else:
                assert isinstance(item, CallEvent)
                got.append(item)
    lines.close()
    assert got == events
    assert raised == (err if fail else None)


def test_bad_ndjson_lines_are_clear_errors() -> None:
    for line, words in [
        (b"not json", "not JSON"),
        (b"[1]", "exactly one"),
        (b'{"result": {}, "error": {}}', "exactly one"),
        (b'{"result": {"sequence": "x"}}', "does not decode"),
    ]:
        with pytest.raises(ApiError) as info:
            decode_stream_line(WATCH, line)
        assert info.value.code is ErrorCode.INTERNAL and words in info.value.message, line
    lines = NdjsonLines(max_line=10)
    with pytest.raises(ApiError, match="over 10 bytes"):
        lines.feed(b"x" * 11)
    partial = NdjsonLines()
    partial.feed(b'{"result":')
    with pytest.raises(ApiError, match="inside an NDJSON line"):
        partial.close()
