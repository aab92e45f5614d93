"""The client side: a `Channel` carries calls over one transport, with the IDL's retry policy; the generated
per-service clients (`clutchcall.rpc.VoiceCallsClient`, ...) are thin typed layers over `ServiceClient`.

Retries: a unary call is retried, with capped exponential backoff and full jitter (at least the server's
`retry_after_ms`), only when its method is `idempotent` in the IDL and the error's code is `retryable`
there; never otherwise, and never for streams. `Channel.attempts` counts every attempt sent.
"""

from __future__ import annotations

import asyncio
import ssl
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal, Self, TypeVar
from urllib.parse import urlsplit

from clutchcall import ErrorCode, Message
from clutchcall.services import MethodDescriptor

from ..moqt.client import Backoff
from ..moqt.transport import TlsOptions
from .envelope import EnvelopeTransport
from .errors import ApiError
from .http1 import Http1Transport
from .http3 import Http3Transport
from .rest import JSON, NDJSON, NdjsonLines, decode_response, decode_stream_line, encode_request

RespT = TypeVar("RespT", bound=Message)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """At most `max_attempts` attempts of an idempotent call that fails with a retryable code."""

    max_attempts: int = 4
    backoff: Backoff = field(default_factory=lambda: Backoff(initial=0.05, cap=2.0))

    def retries(self, method: MethodDescriptor, err: ApiError, attempt: int) -> bool:
        return method.idempotent and err.retryable and attempt < self.max_attempts

    def delay(self, err: ApiError, attempt: int) -> float:
        floor = (err.retry_after_ms or 0) / 1000.0
        return max(floor, self.backoff.delay(attempt - 1))


class Channel(ABC):
    """Calls of any method over one transport; subclasses send one attempt."""

    def __init__(self, *, retry: RetryPolicy | None = None, timeout_s: float = 10.0) -> None:
        self.retry = retry or RetryPolicy()
        self.timeout_s = timeout_s
        self.attempts = 0

    async def unary(self, method: MethodDescriptor, request: Message) -> Message:
        attempt = 0
        while True:
            attempt += 1
            self.attempts += 1
            try:
                async with asyncio.timeout(self.timeout_s):
                    return await self._unary(method, request)
            except TimeoutError:
                err = ApiError(ErrorCode.DEADLINE_EXCEEDED, f"no answer in {self.timeout_s} s")
            except ApiError as exc:
                err = exc
            if not self.retry.retries(method, err, attempt):
                raise err
            await asyncio.sleep(self.retry.delay(err, attempt))

    @abstractmethod
    async def _unary(self, method: MethodDescriptor, request: Message) -> Message: ...

    def server_stream(self, method: MethodDescriptor, request: Message) -> AsyncIterator[Message]:
        raise ApiError(ErrorCode.UNIMPLEMENTED, f"{method.name} streams; call it over the envelope RPC")

    async def client_stream(self, method: MethodDescriptor, requests: AsyncIterator[Message]) -> Message:
        raise ApiError(ErrorCode.UNIMPLEMENTED, f"{method.name} streams; call it over the envelope RPC")

    @abstractmethod
    async def aclose(self) -> None: ...


class RestChannel(Channel):
    """REST per the methods' HTTP rules, over HTTP/1.1 (httpx) or HTTP/3 (aioquic), ProtoJSON bodies."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        http: Literal["h1", "h3"] = "h1",
        tls: TlsOptions | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        super().__init__(retry=retry, timeout_s=timeout_s)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r}: REST needs an http:// or https:// URL with a host")
        tls = tls or TlsOptions()
        self._headers = [("accept", JSON)] + ([("authorization", f"Bearer {token}")] if token else [])
        self._transport: Http1Transport | Http3Transport
        if http == "h3":
            if parts.scheme != "https":
                raise ValueError(f"{url!r}: HTTP/3 is always https://")
            self._transport = Http3Transport(parts.hostname, parts.port or 443, tls)
        elif http == "h1":
            if tls.cert_sha256 is not None:
                raise ValueError("certificate pinning is offered over HTTP/3 and the envelope RPC; give a cafile")
            verify: ssl.SSLContext | bool = not tls.insecure
            if tls.cafile is not None:
                verify = ssl.create_default_context(cafile=tls.cafile)
            self._transport = Http1Transport(url, verify=verify, timeout_s=timeout_s)
        else:
            raise ValueError(f"http={http!r}: choose 'h1' or 'h3'")

    async def _unary(self, method: MethodDescriptor, request: Message) -> Message:
        verb, target, body = encode_request(method, request)
        headers = self._headers + ([("content-type", JSON)] if body is not None else [])
        status, content = await self._transport.request(verb, target, headers, body)
        return decode_response(method, status, content)

    def server_stream(self, method: MethodDescriptor, request: Message) -> AsyncIterator[Message]:
        if method.streaming != "server":
            return super().server_stream(method, request)
        self.attempts += 1
        return self._ndjson_stream(method, request)

    async def _ndjson_stream(self, method: MethodDescriptor, request: Message) -> AsyncIterator[Message]:
        """A server stream over REST: NDJSON lines, each a message; an `error` line raises its ApiError."""
        verb, target, body = encode_request(method, request)
        headers = [("accept", NDJSON), *(h for h in self._headers if h[0] != "accept")] + (
            [("content-type", JSON)] if body is not None else []
        )
        chunks = self._transport.stream(verb, target, headers, body)
        lines = NdjsonLines()
        try:
            async for chunk in chunks:
                for line in lines.feed(chunk):
                    yield decode_stream_line(method, line)
            lines.close()
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]

    async def aclose(self) -> None:
        await self._transport.aclose()


class EnvelopeChannel(Channel):
    """The legacy envelope RPC over QUIC (`quic://host:port`), the token sent once per connection."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        tls: TlsOptions | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 10.0,
        max_queued_events: int = 1024,
    ) -> None:
        super().__init__(retry=retry, timeout_s=timeout_s)
        parts = urlsplit(url)
        if parts.scheme != "quic" or not parts.hostname or not parts.port:
            raise ValueError(f"{url!r}: the envelope RPC needs a quic://host:port URL")
        self._transport = EnvelopeTransport(
            parts.hostname, parts.port, tls or TlsOptions(), token, max_queued_events=max_queued_events
        )

    async def _unary(self, method: MethodDescriptor, request: Message) -> Message:
        return await self._transport.unary(method, request)

    def server_stream(self, method: MethodDescriptor, request: Message) -> AsyncIterator[Message]:
        self.attempts += 1
        return self._transport.server_stream(method, request)

    async def client_stream(self, method: MethodDescriptor, requests: AsyncIterator[Message]) -> Message:
        self.attempts += 1
        return await self._transport.client_stream(method, requests)

    async def aclose(self) -> None:
        await self._transport.aclose()


async def _aiter(items: AsyncIterable[RespT] | Iterable[RespT]) -> AsyncIterator[RespT]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


class ServiceClient:
    """Base of the generated per-service clients: typed wrappers over a channel's calls."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel

    async def _unary(self, method: MethodDescriptor, request: Message, response_type: type[RespT]) -> RespT:
        response = await self._channel.unary(method, request)
        if not isinstance(response, response_type):
            raise ApiError(ErrorCode.INTERNAL, f"expected {response_type.__name__}, got {type(response).__name__}")
        return response

    async def _server_stream(
        self, method: MethodDescriptor, request: Message, response_type: type[RespT]
    ) -> AsyncIterator[RespT]:
        async for event in self._channel.server_stream(method, request):
            if not isinstance(event, response_type):
                raise ApiError(ErrorCode.INTERNAL, f"expected {response_type.__name__}, got {type(event).__name__}")
            yield event

    async def _client_stream(
        self,
        method: MethodDescriptor,
        requests: AsyncIterable[Message] | Iterable[Message],
        response_type: type[RespT],
    ) -> RespT:
        response = await self._channel.client_stream(method, _aiter(requests))
        if not isinstance(response, response_type):
            raise ApiError(ErrorCode.INTERNAL, f"expected {response_type.__name__}, got {type(response).__name__}")
        return response

    async def _pages(
        self, method: MethodDescriptor, request: Message, response_type: type[RespT], token: str, next_token: str
    ) -> AsyncIterator[RespT]:
        """Every page of a list method, following `next_token` into `token` until it is empty."""
        while True:
            page = await self._unary(method, request, response_type)
            yield page
            following = getattr(page, next_token)
            if not following:
                return
            setattr(request, token, following)


class ApiClientBase:
    """Base of the generated `ApiClient`: construction per transport, and closing."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    @classmethod
    def connect_rest(
        cls,
        url: str,
        *,
        token: str | None = None,
        http: Literal["h1", "h3"] = "h1",
        tls: TlsOptions | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 10.0,
    ) -> Self:
        """REST to `url` (http(s)://host:port) over HTTP/1.1 or HTTP/3; connects on the first call."""
        return cls(RestChannel(url, token=token, http=http, tls=tls, retry=retry, timeout_s=timeout_s))

    @classmethod
    def connect_rpc(
        cls,
        url: str,
        *,
        token: str | None = None,
        tls: TlsOptions | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 10.0,
    ) -> Self:
        """The envelope RPC to `url` (quic://host:port); connects and authenticates on the first call."""
        return cls(EnvelopeChannel(url, token=token, tls=tls, retry=retry, timeout_s=timeout_s))

    async def aclose(self) -> None:
        await self.channel.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
