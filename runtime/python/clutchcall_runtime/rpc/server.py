"""The server side: handlers, their endpoints, and the dispatch every transport shares.

A generated handler class (`clutchcall.rpc.VoiceCallsHandler`, ...) lists its methods as `Endpoint`s;
a `Dispatcher` holds the endpoints of every handler it serves, authenticates the caller once per
request (REST) or connection (envelope RPC) through an `authenticate` hook, maps any exception to an
ApiError, and counts what it refuses. `RestApp` is the REST surface over any HTTP version
(`Http1Server` here, `http3.listen_rest_h3` or an HTTP/3 listener of one's own); `envelope.EnvelopeServer`
is the legacy envelope RPC.
"""

from __future__ import annotations

import contextlib
import logging
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from clutchcall import ErrorCode, Message
from clutchcall.errors import DecodeError
from clutchcall.services import MethodDescriptor

from .errors import ApiError, invalid_request
from .rest import (
    NDJSON,
    HttpRequest,
    HttpResponse,
    Router,
    decode_request,
    error_response,
    ndjson_error,
    ndjson_result,
    ok_response,
)

log = logging.getLogger("clutchcall.rpc.server")

ReqT = TypeVar("ReqT", bound=Message)
Authenticate = Callable[[str | None], Awaitable[object]]
"""Token (None when the caller sent none) -> principal, or raise ApiError (UNAUTHENTICATED)."""
HttpApp = Callable[[HttpRequest], Awaitable[HttpResponse]]


@dataclass(slots=True)
class RequestContext:
    """What a handler method knows about its caller."""

    method: MethodDescriptor
    transport: str  # "h1", "h3" or "envelope"
    token: str | None
    principal: object | None  # what `authenticate` returned
    peer: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One served method: its descriptor and the handler's bound method (typed by the generated code)."""

    method: MethodDescriptor
    fn: Callable[[Any, RequestContext], Any]

    @staticmethod
    def unary(method: MethodDescriptor, fn: Callable[[ReqT, RequestContext], Awaitable[Message]]) -> Endpoint:
        return Endpoint(method, fn)

    @staticmethod
    def server_stream(
        method: MethodDescriptor, fn: Callable[[ReqT, RequestContext], AsyncIterator[Message]]
    ) -> Endpoint:
        return Endpoint(method, fn)

    @staticmethod
    def client_stream(
        method: MethodDescriptor, fn: Callable[[AsyncIterator[ReqT], RequestContext], Awaitable[Message]]
    ) -> Endpoint:
        return Endpoint(method, fn)


class Handler(ABC):
    """Base of the generated abstract handler classes."""

    @abstractmethod
    def endpoints(self) -> list[Endpoint]:
        """Every method of the service, bound to this handler."""


async def _no_auth(token: str | None) -> object:
    return None


class Dispatcher:
    """The endpoints of some handlers by method ID and by REST route, and the error mapping around them."""

    def __init__(self, handlers: Iterable[Handler], *, authenticate: Authenticate | None = None) -> None:
        self.endpoints: dict[int, Endpoint] = {}
        for handler in handlers:
            for ep in handler.endpoints():
                if ep.method.id in self.endpoints:
                    raise ValueError(f"method ID {ep.method.id} ({ep.method.service}.{ep.method.name}) served twice")
                self.endpoints[ep.method.id] = ep
        self.router = Router(ep.method for ep in self.endpoints.values())
        self.authenticate: Authenticate = authenticate or _no_auth
        self.errors: Counter[str] = Counter()
        """ErrorStatus codes answered, by name (what the servers refused, and why)."""

    def endpoint(self, method_id: int) -> Endpoint:
        ep = self.endpoints.get(method_id)
        if ep is None:
            raise ApiError(ErrorCode.UNIMPLEMENTED, f"method ID {method_id} is not served here")
        return ep

    def count(self, err: ApiError) -> ApiError:
        self.errors[err.code.name.lower() if isinstance(err.code, ErrorCode) else str(err.code)] += 1
        return err

    def as_api_error(self, exc: BaseException, method: MethodDescriptor | None) -> ApiError:
        """Any handler exception as the ApiError sent back: ApiError as is, a DTO that did not decode as
        INVALID_ARGUMENT, anything else as INTERNAL (logged, its text not sent)."""
        if isinstance(exc, ApiError):
            return self.count(exc)
        if isinstance(exc, DecodeError):
            return self.count(invalid_request(exc))
        where = f"{method.service}.{method.name}" if method else "request"
        log.error("%s failed", where, exc_info=exc)
        return self.count(ApiError(ErrorCode.INTERNAL, f"{where} failed"))


def bearer_token(request: HttpRequest) -> str | None:
    value = request.header("authorization")
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(ErrorCode.UNAUTHENTICATED, "the Authorization header must be 'Bearer <token>'")
    return token.strip()


class RestApp:
    """REST over any HTTP version: route, authenticate, decode, call the handler, encode. Paths no route
    knows go to `fallback` (the engine's /metrics, /openapi.json) or get UNIMPLEMENTED."""

    def __init__(self, dispatcher: Dispatcher, *, fallback: HttpApp | None = None) -> None:
        self.dispatcher = dispatcher
        self.fallback = fallback

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        method: MethodDescriptor | None = None
        try:
            path, _, query = request.target.partition("?")
            found = self.dispatcher.router.match(request.method, path)
            if found is None:
                if self.fallback is not None:
                    return await self.fallback(request)
                raise ApiError(ErrorCode.UNIMPLEMENTED, f"no route for {request.method} {path}")
            method, bound = found
            ep = self.dispatcher.endpoint(method.id)
            if method.streaming not in ("none", "server"):  # validate refuses http rules on these
                raise ApiError(
                    ErrorCode.UNIMPLEMENTED, f"{method.name} streams requests; call it over the envelope RPC"
                )
            token = bearer_token(request)
            principal = await self.dispatcher.authenticate(token)
            dto = decode_request(method, bound, query, request.body)
            ctx = RequestContext(method, request.transport, token, principal, request.peer, request.headers)
            if method.streaming == "server":
                return HttpResponse(200, content_type=NDJSON, stream=self._ndjson(ep, dto, ctx))
            response = await ep.fn(dto, ctx)
            return ok_response(response)
        except Exception as exc:  # every failure is an ErrorStatus for this request, never a dead connection
            return error_response(self.dispatcher.as_api_error(exc, method))

    async def _ndjson(self, ep: Endpoint, request: Message, ctx: RequestContext) -> AsyncIterator[bytes]:
        """A server stream's lines; the headers are out, so a failure is the last line. Pulled one line at a
        time by the HTTP adapter as the client reads; closing it closes the handler's stream."""
        events: AsyncIterator[Message] | None = None
        try:
            events = ep.fn(request, ctx)
            assert events is not None
            async for event in events:
                yield ndjson_result(event)
        except Exception as exc:
            yield ndjson_error(self.dispatcher.as_api_error(exc, ep.method))
        finally:
            if events is not None and hasattr(events, "aclose"):
                with contextlib.suppress(Exception):
                    await events.aclose()
