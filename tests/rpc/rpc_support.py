"""An in-process test server for the generated handlers, over HTTP/1.1, HTTP/3 and the envelope RPC."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from clutchcall import (
    Call,
    CallEvent,
    CallStatus,
    Direction,
    Empty,
    ErrorCode,
    GetCallRequest,
    HangupRequest,
    ListCallsRequest,
    ListCallsResponse,
    OriginateRequest,
    TransferRequest,
)
from clutchcall.messages import (
    BargeRequest,
    BindAgentRequest,
    DialRequest,
    DialResponse,
    OriginateBulkRequest,
    OriginateBulkResponse,
    OriginateResult,
    PushAudioRequest,
    PushAudioResponse,
    UnbindAgentRequest,
)
from clutchcall.rpc import ApiClient, ClutchCallClientHandler, VoiceAgentsHandler, VoiceCallsHandler
from clutchcall_engine.certs import make_self_signed
from clutchcall_runtime.moqt.transport import Transport as MoqtTransport
from clutchcall_runtime.moqt.transport import listen_http3
from clutchcall_runtime.rpc import (
    ApiError,
    Dispatcher,
    EnvelopeServer,
    Http1Server,
    RequestContext,
    RestApp,
    RetryPolicy,
    ServerTls,
    TlsOptions,
    h3_requests,
)
from clutchcall_runtime.rpc.rest import HttpRequest, HttpResponse

R = TypeVar("R")
Transport = Literal["h1", "h3", "envelope"]
TRANSPORTS: tuple[Transport, ...] = ("h1", "h3", "envelope")
FAST_RETRY = RetryPolicy(max_attempts=4)


def run(coro: Coroutine[Any, Any, R], timeout: float = 30.0) -> R:
    async def bounded() -> R:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


async def tenant_of(token: str | None) -> object:
    if token is None or not token.startswith("tok-"):
        raise ApiError(ErrorCode.UNAUTHENTICATED, "no valid token")
    return token.removeprefix("tok-")


@dataclass
class Store:
    """What the handlers share: calls by tenant, failures to inject, and a count of calls per method."""

    calls: dict[tuple[str, str], Call] = field(default_factory=dict)
    by_key: dict[tuple[str, str], str] = field(default_factory=dict)
    fail: dict[str, list[ApiError]] = field(default_factory=dict)
    seen: Counter[str] = field(default_factory=Counter)
    frames: list[bytes] = field(default_factory=list)
    events: asyncio.Queue[CallEvent | None] = field(default_factory=lambda: asyncio.Queue(100))
    callers: set[tuple[str, str]] = field(default_factory=set)  # (transport, peer host) of every call

    def enter(self, name: str, ctx: RequestContext) -> str:
        self.seen[name] += 1
        self.callers.add((ctx.transport, ctx.peer.rsplit(":", 1)[0]))
        pending = self.fail.get(name)
        if pending:
            raise pending.pop(0)
        assert isinstance(ctx.principal, str)
        return ctx.principal

    def find(self, tenant: str, sid: str) -> Call:
        call = self.calls.get((tenant, sid))
        if call is None:
            raise ApiError(ErrorCode.NOT_FOUND, f"no call {sid}", field="sid")
        return call

    def originate(self, tenant: str, to: str, from_: str, key: str = "") -> Call:
        if not to.startswith("+"):
            raise ApiError(ErrorCode.INVALID_ARGUMENT, "not E.164", field="to")
        if key and (tenant, key) in self.by_key:
            return self.calls[(tenant, self.by_key[(tenant, key)])]
        sid = f"CA{len(self.calls) + 1:04d}"
        call = Call(sid=sid, status=CallStatus.DIALING, direction=Direction.OUTBOUND, to=to, from_=from_)
        call.tenant_id = tenant
        self.calls[(tenant, sid)] = call
        if key:
            self.by_key[(tenant, key)] = sid
        return call

    def page(self, tenant: str, request: ListCallsRequest) -> ListCallsResponse:
        mine = [c for (t, _), c in sorted(self.calls.items()) if t == tenant]
        if request.status:
            mine = [c for c in mine if c.status in request.status]
        start = int(request.page_token or 0)
        end = start + request.page_size_or_default()
        return ListCallsResponse(calls=mine[start:end], next_page_token=str(end) if end < len(mine) else "")


class Calls(VoiceCallsHandler):
    def __init__(self, store: Store) -> None:
        self.s = store

    async def originate(self, request: OriginateRequest, ctx: RequestContext) -> Call:
        return self.s.originate(self.s.enter("originate", ctx), request.to, request.from_, request.idempotency_key)

    async def get(self, request: GetCallRequest, ctx: RequestContext) -> Call:
        return self.s.find(self.s.enter("get", ctx), request.sid)

    async def list(self, request: ListCallsRequest, ctx: RequestContext) -> ListCallsResponse:
        return self.s.page(self.s.enter("list", ctx), request)

    async def transfer(self, request: TransferRequest, ctx: RequestContext) -> Call:
        call = self.s.find(self.s.enter("transfer", ctx), request.sid)
        call.to = request.pstn_number or call.to
        return call

    async def hangup(self, request: HangupRequest, ctx: RequestContext) -> Call:
        call = self.s.find(self.s.enter("hangup", ctx), request.sid)
        call.status = CallStatus.COMPLETED
        return call


class Agents(VoiceAgentsHandler):
    def __init__(self, store: Store) -> None:
        self.s = store

    async def bind(self, request: BindAgentRequest, ctx: RequestContext) -> Call:
        call = self.s.find(self.s.enter("bind", ctx), request.sid)
        call.agent = request.agent
        return call

    async def unbind(self, request: UnbindAgentRequest, ctx: RequestContext) -> Call:
        call = self.s.find(self.s.enter("unbind", ctx), request.sid)
        call.agent = None
        return call


class Legacy(ClutchCallClientHandler):
    def __init__(self, store: Store) -> None:
        self.s = store

    async def dial(self, request: DialRequest, ctx: RequestContext) -> DialResponse:
        call = self.s.originate(self.s.enter("dial", ctx), request.to, request.from_)
        return DialResponse(sid=call.sid, status=call.status)

    async def originate_bulk(self, request: OriginateBulkRequest, ctx: RequestContext) -> OriginateBulkResponse:
        tenant = self.s.enter("originate_bulk", ctx)
        return OriginateBulkResponse(
            results=[OriginateResult(call=self.s.originate(tenant, r.to, r.from_)) for r in request.calls]
        )

    async def hangup(self, request: HangupRequest, ctx: RequestContext) -> Empty:
        self.s.find(self.s.enter("legacy.hangup", ctx), request.sid).status = CallStatus.COMPLETED
        return Empty()

    async def barge(self, request: BargeRequest, ctx: RequestContext) -> Empty:
        self.s.find(self.s.enter("barge", ctx), request.sid)
        return Empty()

    async def push_audio(self, requests: AsyncIterator[PushAudioRequest], ctx: RequestContext) -> PushAudioResponse:
        self.s.enter("push_audio", ctx)
        last = 0
        async for batch in requests:
            self.s.frames += batch.frames
            last = batch.sequence + len(batch.frames) - 1
        return PushAudioResponse(accepted_through=last)

    async def get_call(self, request: GetCallRequest, ctx: RequestContext) -> Call:
        return self.s.find(self.s.enter("get_call", ctx), request.sid)

    async def transfer(self, request: TransferRequest, ctx: RequestContext) -> Call:
        return self.s.find(self.s.enter("legacy.transfer", ctx), request.sid)

    async def list_calls(self, request: ListCallsRequest, ctx: RequestContext) -> ListCallsResponse:
        return self.s.page(self.s.enter("list_calls", ctx), request)

    async def watch_calls(self, request: ListCallsRequest, ctx: RequestContext) -> AsyncIterator[CallEvent]:
        self.s.enter("watch_calls", ctx)
        while (event := await self.s.events.get()) is not None:
            yield event


async def _fallback(request: HttpRequest) -> HttpResponse:
    if request.target == "/hello":
        return HttpResponse(200, b"hi\n", "text/plain")
    return HttpResponse(404, b"not found\n", "text/plain")


def _no_moqt(transport: MoqtTransport) -> None:
    transport.close(0, "no MoQT here")


@dataclass
class Servers:
    store: Store
    dispatcher: Dispatcher
    h1: Http1Server
    h3_port: int
    envelope: EnvelopeServer
    tls: TlsOptions

    def client(self, transport: Transport, token: str | None = "tok-acme", **kw: Any) -> ApiClient:
        kw.setdefault("retry", FAST_RETRY)
        tls = kw.pop("tls", self.tls)
        if transport == "h1":
            return ApiClient.connect_rest(f"http://127.0.0.1:{self.h1.port}", token=token, http="h1", **kw)
        if transport == "h3":
            return ApiClient.connect_rest(f"https://127.0.0.1:{self.h3_port}", token=token, http="h3", tls=tls, **kw)
        return ApiClient.connect_rpc(f"quic://127.0.0.1:{self.envelope.port}", token=token, tls=tls, **kw)


def certificate(tmp: Path) -> ServerTls:
    cert, key = make_self_signed(("localhost", "127.0.0.1"))
    (tmp / "cert.pem").write_bytes(cert)
    (tmp / "key.pem").write_bytes(key)
    return ServerTls(str(tmp / "cert.pem"), str(tmp / "key.pem"))


@contextlib.asynccontextmanager
async def servers(tmp: Path) -> AsyncIterator[Servers]:
    tls = certificate(tmp)
    store = Store()
    dispatcher = Dispatcher([Calls(store), Agents(store), Legacy(store)], authenticate=tenant_of)
    app = RestApp(dispatcher, fallback=_fallback)
    h1 = Http1Server(app, max_body_bytes=64 * 1024)
    await h1.start("127.0.0.1", 0)
    # The engine's HTTP/3 listener: WebTransport sessions and REST on one port.
    h3 = await listen_http3("127.0.0.1", 0, tls, _no_moqt, requests=h3_requests(app))
    assert h3._transport is not None
    envelope = EnvelopeServer(dispatcher)
    await envelope.start("127.0.0.1", 0, tls)
    try:
        yield Servers(
            store, dispatcher, h1, h3._transport.get_extra_info("sockname")[1], envelope, TlsOptions(insecure=True)
        )
    finally:
        await envelope.stop()
        h3.close()
        await h1.stop()
