"""REST as curl sees it (raw HTTP/1.1 and HTTP/3 requests), the route table, and the request codec."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest
from clutchcall import AgentBinding, CallStatus, ErrorCode, ListCallsRequest, TransferRequest
from clutchcall.messages import BindAgentRequest, OriginateRequest
from clutchcall.services import SERVICES, VOICE_AGENTS, VOICE_CALLS, Segment
from clutchcall_runtime.rpc import ApiError, Router, TlsOptions, listen_rest_h3
from clutchcall_runtime.rpc.http3 import Http3Transport
from clutchcall_runtime.rpc.rest import decode_request, encode_request
from hypothesis import given, settings
from hypothesis import strategies as st
from rpc_support import certificate, run, servers

AUTH = "Authorization: Bearer tok-acme\r\n"


async def raw_h1(port: int, text: str) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(text.encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def request(method: str, target: str, body: str = "", extra: str = AUTH) -> str:
    return (
        f"{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}"
        f"Content-Length: {len(body.encode())}\r\nContent-Type: application/json\r\n\r\n{body}"
    )


def test_curl_over_http1(tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv:
            port = srv.h1.port
            status, headers, body = await raw_h1(port, request("POST", "/v1/calls", '{"to":"+1415","from":"+1"}'))
            assert status == 200 and headers["content-type"] == "application/json"
            call = json.loads(body)
            assert call["sid"] == "CA0001" and call["status"] == "CALL_STATUS_DIALING" and call["tenantId"] == "acme"
            status, _, body = await raw_h1(port, request("GET", "/v1/calls/CA0001"))
            assert status == 200 and json.loads(body)["sid"] == "CA0001"
            status, _, body = await raw_h1(port, request("POST", "/v1/calls/CA0001:hangup", "{}"))
            assert status == 200 and json.loads(body)["status"] == "CALL_STATUS_COMPLETED"
            status, _, body = await raw_h1(port, request("GET", "/v1/calls?status=CALL_STATUS_COMPLETED&pageSize=5"))
            assert status == 200 and [c["sid"] for c in json.loads(body)["calls"]] == ["CA0001"]
            status, _, body = await raw_h1(port, request("GET", "/hello"))
            assert (status, body) == (200, b"hi\n")

    run(main())


INVALID = "ERROR_CODE_INVALID_ARGUMENT"
NESTED_VAD = "agent.turnDetection.vad.threshold"
BODY_BARGE = "agent.turnDetection.bargeIn.enabled"
BAD = [
    # (method, target, body, status, code, field)
    ("POST", "/v1/calls", '{"to": 5}', 400, "ERROR_CODE_INVALID_ARGUMENT", "to"),
    ("POST", "/v1/calls", '{"ringTimeoutS": "soon", "to": "+1"}', 400, "ERROR_CODE_INVALID_ARGUMENT", "ringTimeoutS"),
    ("POST", "/v1/calls", '{"bogus": 1}', 400, "ERROR_CODE_INVALID_ARGUMENT", "bogus"),
    ("POST", "/v1/calls", "{not json", 400, "ERROR_CODE_INVALID_ARGUMENT", ""),
    ("POST", "/v1/calls", "[1, 2]", 400, "ERROR_CODE_INVALID_ARGUMENT", ""),
    ("GET", "/v1/calls?pageSize=lots", "", 400, "ERROR_CODE_INVALID_ARGUMENT", "pageSize"),
    ("GET", "/v1/calls?colour=red", "", 400, "ERROR_CODE_INVALID_ARGUMENT", "colour"),
    ("GET", "/v1/calls?pageSize=1&pageSize=2", "", 400, "ERROR_CODE_INVALID_ARGUMENT", "pageSize"),
    # the full ProtoJSON path of the field at fault: nested, repeated, enum, wrong type, query, body field
    ("POST", "/v1/calls", '{"agent": {"turnDetection": {"mode": "LOUD"}}}', 400, INVALID, "agent.turnDetection.mode"),
    ("POST", "/v1/calls", '{"agent": {"turn_detection": {"vad": {"threshold": "x"}}}}', 400, INVALID, NESTED_VAD),
    ("POST", "/v1/calls", '{"agent": {"metadata": [{"key": "a"}, {"key": 7}]}}', 400, INVALID, "agent.metadata[1].key"),
    ("POST", "/v1/calls", '{"agent": {"metadata": [{}, {}, {"colour": 1}]}}', 400, INVALID, "agent.metadata[2].colour"),
    ("POST", "/v1/calls", '{"agent": {"metadata": {"key": "a"}}}', 400, INVALID, "agent.metadata"),
    ("POST", "/v1/calls", '{"audio": {"codec": "CODEC_MP3"}}', 400, INVALID, "audio.codec"),
    ("POST", "/v1/calls", '{"audio": {"sample_rate": -1}}', 400, INVALID, "audio.sampleRate"),
    ("POST", "/v1/calls", '{"agent": "bot-1"}', 400, INVALID, "agent"),
    ("PUT", "/v1/calls/CA1/agent", '{"turnDetection": {"bargeIn": {"enabled": 1}}}', 400, INVALID, BODY_BARGE),
    ("GET", "/v1/calls?status=CALL_STATUS_RINGING&status=CALL_STATUS_LOST", "", 400, INVALID, "status[1]"),
    ("GET", "/v1/calls?status=2&status=3&status=99999999999", "", 400, INVALID, "status[2]"),
    ("GET", "/v1/calls/CA1", '{"x": 1}', 400, "ERROR_CODE_INVALID_ARGUMENT", ""),
    ("GET", "/v1/calls/CA9", "", 404, "ERROR_CODE_NOT_FOUND", "sid"),
    ("DELETE", "/v1/calls", "", 501, "ERROR_CODE_UNIMPLEMENTED", ""),
    ("POST", "/v1/calls/CA1:explode", "{}", 501, "ERROR_CODE_UNIMPLEMENTED", ""),
]


@pytest.mark.parametrize(("method", "target", "body", "status", "code", "field"), BAD)
def test_bad_requests_get_an_error_status_naming_the_field(
    method: str, target: str, body: str, status: int, code: str, field: str, tmp_path: Path
) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv:
            got, headers, content = await raw_h1(srv.h1.port, request(method, target, body))
            assert got == status and headers["content-type"] == "application/json", content
            error = json.loads(content)
            assert error["code"] == code and error.get("field", "") == field and error["message"]
            # the same request over HTTP/3 gets the same answer
            h3 = Http3Transport("127.0.0.1", srv.h3_port, TlsOptions(insecure=True))
            try:
                headers3 = [("authorization", "Bearer tok-acme")]
                got3, content3 = await h3.request(method, target, headers3, body.encode() or None)
            finally:
                await h3.aclose()
            assert (got3, json.loads(content3)) == (got, error)

    run(main())


def test_auth_and_bounds_over_http1(tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv:
            port = srv.h1.port
            status, _, body = await raw_h1(port, request("GET", "/v1/calls", extra=""))
            assert status == 401 and json.loads(body)["code"] == "ERROR_CODE_UNAUTHENTICATED"
            status, _, body = await raw_h1(port, request("GET", "/v1/calls", extra="Authorization: Basic abc\r\n"))
            assert status == 401
            big = '{"to": "' + "1" * (70 * 1024) + '"}'
            status, _, body = await raw_h1(port, request("POST", "/v1/calls", big))
            assert status == 413 and srv.h1.refused["body"] == 1
            status, _, _ = await raw_h1(port, "NONSENSE\r\n\r\n")
            assert status == 400 and srv.h1.refused["malformed"] == 1
            status, _, _ = await raw_h1(port, "GET / HTTP/1.1\r\nHost: x\r\nX: " + "y" * 20000 + "\r\n\r\n")
            assert status == 431 and srv.h1.refused["headers"] == 1
            assert srv.dispatcher.errors["unauthenticated"] == 2

    run(main())


def test_connection_bound_over_http1(tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv:
            srv.h1.max_connections = 2
            held = [await asyncio.open_connection("127.0.0.1", srv.h1.port) for _ in range(2)]
            await asyncio.sleep(0.05)
            status, _, error_body = await raw_h1(srv.h1.port, request("GET", "/v1/calls"))
            assert status == 503 and b"too many connections" in error_body and srv.h1.refused["connections"] == 1
            for _, writer in held:
                writer.close()

    run(main())


def test_standalone_http3_listener(tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv:
            from clutchcall_runtime.rpc import RestApp

            own = await listen_rest_h3("127.0.0.1", 0, certificate(tmp_path), RestApp(srv.dispatcher))
            assert own._transport is not None
            port = own._transport.get_extra_info("sockname")[1]
            h3 = Http3Transport("127.0.0.1", port, TlsOptions(insecure=True))
            try:
                body = b'{"to": "+1", "from": "+2"}'
                status, content = await h3.request("POST", "/v1/calls", [("authorization", "Bearer tok-acme")], body)
                assert status == 200 and json.loads(content)["sid"] == "CA0001"
            finally:
                await h3.aclose()
                own.close()

    run(main())


def test_router_matches_segments_and_custom_verbs() -> None:
    router = Router(d for methods in SERVICES.values() for d in methods.values())
    assert router.match("GET", "/v1/calls/CA%2F1") == (VOICE_CALLS["get"], {"sid": "CA/1"})
    assert router.match("POST", "/v1/calls/CA1:transfer") == (VOICE_CALLS["transfer"], {"sid": "CA1"})
    assert router.match("POST", "/v1/calls/CA1:hangup") == (VOICE_CALLS["hangup"], {"sid": "CA1"})
    assert router.match("PUT", "/v1/calls/CA:1/agent") == (VOICE_AGENTS["bind"], {"sid": "CA:1"})
    assert router.match("POST", "/v1/calls") == (VOICE_CALLS["originate"], {})
    for path in ["/v1/calls//agent", "/v1/calls/", "/v2/calls", "v1/calls", "/v1/calls/a/b"]:
        assert router.match("POST", path) is None, path
    with pytest.raises(ApiError) as info:
        router.match("PATCH", "/v1/calls/CA1")
    assert info.value.code is ErrorCode.UNIMPLEMENTED and "GET" in info.value.message


def test_client_refuses_an_unset_path_variable() -> None:
    with pytest.raises(ApiError) as info:
        encode_request(VOICE_CALLS["get"], ListCallsRequest())  # type: ignore[arg-type]
    assert info.value.code is ErrorCode.INVALID_ARGUMENT and info.value.field == "sid"


def _through_rest(method_name: str, service: str, req: object) -> object:
    desc = SERVICES[service][method_name]
    verb, target, body = encode_request(desc, req)  # type: ignore[arg-type]
    assert verb == desc.http.method  # type: ignore[union-attr]
    path, _, query = target.partition("?")
    found = Router([desc]).match(verb, path)
    assert found is not None
    return decode_request(desc, found[1], query, body or b"")


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_sid = _text.filter(bool)


@settings(max_examples=150, deadline=None)
@given(
    status=st.lists(st.sampled_from(list(CallStatus)) | st.integers(0, 2**31 - 1), max_size=4),
    page_size=st.none() | st.integers(0, 2**32 - 1),
    token=_text,
)
def test_list_request_survives_the_query_string(status: list[int], page_size: int | None, token: str) -> None:
    req = ListCallsRequest(status=status, page_size=page_size, page_token=token)
    assert _through_rest("list", "voice.calls", req) == req


@settings(max_examples=150, deadline=None)
@given(sid=_sid, number=st.none() | _text, agent=st.none() | st.builds(AgentBinding, agent_id=_text))
def test_path_and_body_requests_survive(sid: str, number: str | None, agent: AgentBinding | None) -> None:
    transfer = TransferRequest(sid=sid, pstn_number=number) if agent is None else TransferRequest(sid=sid, agent=agent)
    assert _through_rest("transfer", "voice.calls", transfer) == transfer
    bind = BindAgentRequest(sid=sid, agent=agent)
    assert _through_rest("bind", "voice.agents", bind) == BindAgentRequest(sid=sid, agent=agent or AgentBinding())
    originate = OriginateRequest(to=sid, from_=number or "", ring_timeout_s=7)
    assert _through_rest("originate", "voice.calls", originate) == originate


def test_http3_bounds(tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv:
            from clutchcall_runtime.rpc import RestApp
            from clutchcall_runtime.rpc.rest import HttpRequest, HttpResponse

            gate = asyncio.Event()

            async def slow(request: HttpRequest) -> HttpResponse:
                await gate.wait()
                return HttpResponse(200, b"{}")

            refused: Counter[str] = Counter()
            app = RestApp(srv.dispatcher, fallback=slow)
            own = await listen_rest_h3("127.0.0.1", 0, certificate(tmp_path), app, max_body_bytes=1000, refused=refused)
            assert own._transport is not None
            h3 = Http3Transport("127.0.0.1", own._transport.get_extra_info("sockname")[1], TlsOptions(insecure=True))
            try:
                status, content = await h3.request("POST", "/v1/calls", [], b"{" + b" " * 2000 + b"}")
                assert status == 413 and json.loads(content)["code"] == "ERROR_CODE_INVALID_ARGUMENT"
                assert refused["body"] == 1
                held = [asyncio.ensure_future(h3.request("GET", "/slow", [], None)) for _ in range(64)]
                await asyncio.sleep(0.2)
                status, content = await h3.request("GET", "/slow", [], None)
                assert status == 503 and refused["in_flight"] == 1
                gate.set()
                assert [r[0] for r in await asyncio.gather(*held)] == [200] * 64
            finally:
                await h3.aclose()
                own.close()

    run(main())


def test_http1_keep_alive_pipelining_and_http10(tmp_path: Path) -> None:
    async def main() -> None:
        async with servers(tmp_path) as srv:
            reader, writer = await asyncio.open_connection("127.0.0.1", srv.h1.port)
            one = f"GET /hello HTTP/1.1\r\nHost: x\r\n{AUTH}\r\n"
            post = request("POST", "/v1/calls", '{"to":"+1","from":"+2"}').replace("Connection: close\r\n", "")
            writer.write((one + post + one).encode())  # three pipelined requests, one write
            await writer.drain()
            data = b""
            while data.count(b"HTTP/1.1 200 OK\r\n") < 3:
                chunk = await asyncio.wait_for(reader.read(65536), 5)
                assert chunk, data
                data += chunk
            assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b"\r\n\r\nhi\n")
            assert data.count(b"hi\n") == 2 and b'"sid":"CA0001"' in data
            writer.write(b"GET /hello HTTP/1.0\r\n\r\n")  # HTTP/1.0 without keep-alive: the server closes
            await writer.drain()
            rest = await asyncio.wait_for(reader.read(), 5)
            assert (
                rest.startswith(b"HTTP/1.1 200 OK\r\n") and b"connection: close\r\n" in rest and rest.endswith(b"hi\n")
            )
            writer.close()
            status, headers, body = await raw_h1(srv.h1.port, request("HEAD", "/hello"))
            assert status == 200 and headers["content-length"] == "3" and body == b""

    run(main())


def test_a_bad_path_variable_is_named_by_its_protojson_path() -> None:
    # Every path variable of the IDL is a string, which any URL segment is; a route binding an integer shows that a
    # path variable's decode error names it like any other field.
    listing = VOICE_CALLS["list"]
    assert listing.http is not None
    rule = dataclasses.replace(
        listing.http,
        path="/v1/calls/{pageSize}",
        path_params=("pageSize",),
        segments=(Segment("v1", False), Segment("calls", False), Segment("pageSize", True)),
        query=tuple(q for q in listing.http.query if q.name != "pageSize"),
    )
    method = dataclasses.replace(listing, http=rule)
    route = Router([method]).match("GET", "/v1/calls/many")
    assert route is not None
    with pytest.raises(ApiError) as info:
        decode_request(method, route[1], "status=CALL_STATUS_RINGING", b"")
    assert info.value.code is ErrorCode.INVALID_ARGUMENT and info.value.field == "pageSize"
    assert decode_request(method, {"pageSize": "12"}, "", b"") == ListCallsRequest(page_size=12)
