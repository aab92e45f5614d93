"""The generated handler classes, implemented by translating each request onto `CallService`.

voice.calls and the legacy ClutchCallClient share one service: the legacy methods are thin maps of
their DTOs (dial -> originate, get_call -> get, ...), never a second implementation. Every request's
tenant comes from its verified token (`ctx.principal`, a `Grant` put there by `authenticate`).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator

from clutchcall import (
    AudioShape,
    BargeRequest,
    BindAgentRequest,
    Call,
    CallEvent,
    DialRequest,
    DialResponse,
    Empty,
    ErrorCode,
    GetCallRequest,
    HangupRequest,
    ListCallsRequest,
    ListCallsResponse,
    OriginateBulkRequest,
    OriginateBulkResponse,
    OriginateRequest,
    OriginateResult,
    PushAudioRequest,
    PushAudioResponse,
    TransferRequest,
    UnbindAgentRequest,
)
from clutchcall.rpc import ClutchCallClientHandler, VoiceAgentsHandler, VoiceCallsHandler
from clutchcall_runtime.rpc.errors import ApiError
from clutchcall_runtime.rpc.server import Authenticate, RequestContext

from ..auth import AuthError, Grant, TokenVerifier
from .service import MAX_BULK, CallService

VERIFIED_TOKENS_KEPT = 10_000
"""Tokens remembered as verified (oldest forgotten first): REST sends the token with every request, and an
ES256 verification costs more than the rest of a typical request."""


def authenticator(verifier: TokenVerifier, kept: int = VERIFIED_TOKENS_KEPT) -> Authenticate:
    """The control plane's `authenticate` hook: a valid tenant token is required (no anonymous access)."""
    verified: OrderedDict[str, Grant] = OrderedDict()

    async def authenticate(token: str | None) -> object:
        if not token:
            raise ApiError(ErrorCode.UNAUTHENTICATED, "a tenant token is required (Authorization: Bearer <token>)")
        grant = verified.get(token)
        if grant is None:
            try:
                grant = verifier.verify(token)
            except AuthError as e:
                raise ApiError(ErrorCode.UNAUTHENTICATED, f"tenant token refused: {e.message}") from None
            verified[token] = grant
            if len(verified) > kept:
                verified.popitem(last=False)
        elif time.time() >= grant.expires_at:
            del verified[token]
            raise ApiError(ErrorCode.UNAUTHENTICATED, "tenant token refused: expired")
        return grant

    return authenticate


def grant_of(ctx: RequestContext) -> Grant:
    """The caller's verified token; it is checked again here because an envelope RPC connection authenticates
    once and may outlive its token."""
    grant = ctx.principal
    if not isinstance(grant, Grant):
        raise ApiError(ErrorCode.UNAUTHENTICATED, "the request carries no verified tenant token")
    if time.time() >= grant.expires_at:
        raise ApiError(ErrorCode.UNAUTHENTICATED, "the tenant token has expired; reconnect with a new one")
    return grant


def tenant_of(ctx: RequestContext) -> str:
    return grant_of(ctx).tenant


class VoiceCalls(VoiceCallsHandler):
    def __init__(self, service: CallService) -> None:
        self.service = service

    async def originate(self, request: OriginateRequest, ctx: RequestContext) -> Call:
        return await self.service.originate(tenant_of(ctx), request)

    async def get(self, request: GetCallRequest, ctx: RequestContext) -> Call:
        return await self.service.get(tenant_of(ctx), request.sid)

    async def list(self, request: ListCallsRequest, ctx: RequestContext) -> ListCallsResponse:
        return await self.service.list(tenant_of(ctx), request)

    async def transfer(self, request: TransferRequest, ctx: RequestContext) -> Call:
        return await self.service.transfer(tenant_of(ctx), request)

    async def hangup(self, request: HangupRequest, ctx: RequestContext) -> Call:
        return await self.service.hangup(tenant_of(ctx), request.sid)


class VoiceAgents(VoiceAgentsHandler):
    def __init__(self, service: CallService) -> None:
        self.service = service

    async def bind(self, request: BindAgentRequest, ctx: RequestContext) -> Call:
        if request.agent is None:
            raise ApiError(ErrorCode.INVALID_ARGUMENT, "agent must be set", field="agent")
        return await self.service.bind_agent(tenant_of(ctx), request.sid, request.agent)

    async def unbind(self, request: UnbindAgentRequest, ctx: RequestContext) -> Call:
        return await self.service.unbind_agent(tenant_of(ctx), request.sid)


# DialRequest names some OriginateRequest fields differently; errors must name the field the caller sent.
_DIAL_FIELDS = {"ringTimeoutS": "timeoutS"}


class LegacyClient(ClutchCallClientHandler):
    def __init__(self, service: CallService) -> None:
        self.service = service

    async def dial(self, request: DialRequest, ctx: RequestContext) -> DialResponse:
        originate = OriginateRequest(
            to=request.to,
            from_=request.from_,
            audio=AudioShape(codec=request.codec) if request.codec else None,
            ring_timeout_s=request.timeout_s or None,
        )
        try:
            call = await self.service.originate(tenant_of(ctx), originate)
        except ApiError as e:
            e.field = _DIAL_FIELDS.get(e.field, e.field)
            raise
        return DialResponse(sid=call.sid, status=call.status)

    async def originate_bulk(self, request: OriginateBulkRequest, ctx: RequestContext) -> OriginateBulkResponse:
        if len(request.calls) > MAX_BULK:
            raise ApiError(
                ErrorCode.INVALID_ARGUMENT, f"calls holds {len(request.calls)}, at most {MAX_BULK}", field="calls"
            )
        tenant = tenant_of(ctx)
        results = []
        for i, one in enumerate(request.calls):
            try:
                call = await self.service.originate(tenant, one, field_prefix=f"calls[{i}].")
                results.append(OriginateResult(index=i, call=call))
            except ApiError as e:
                results.append(OriginateResult(index=i, error=e.to_status()))
        return OriginateBulkResponse(results=results)

    async def hangup(self, request: HangupRequest, ctx: RequestContext) -> Empty:
        await self.service.hangup(tenant_of(ctx), request.sid)
        return Empty()

    async def barge(self, request: BargeRequest, ctx: RequestContext) -> Empty:
        await self.service.barge(tenant_of(ctx), request)
        return Empty()

    async def push_audio(self, requests: AsyncIterator[PushAudioRequest], ctx: RequestContext) -> PushAudioResponse:
        return await self.service.push_audio(tenant_of(ctx), requests)

    async def get_call(self, request: GetCallRequest, ctx: RequestContext) -> Call:
        return await self.service.get(tenant_of(ctx), request.sid)

    async def transfer(self, request: TransferRequest, ctx: RequestContext) -> Call:
        return await self.service.transfer(tenant_of(ctx), request)

    async def list_calls(self, request: ListCallsRequest, ctx: RequestContext) -> ListCallsResponse:
        return await self.service.list(tenant_of(ctx), request)

    async def watch_calls(self, request: ListCallsRequest, ctx: RequestContext) -> AsyncIterator[CallEvent]:
        """Status changes, and DTMF digits (CallEvent.dtmf set, previous_status equal to the call's status)."""
        grant = grant_of(ctx)
        watch = self.service.watch(grant.tenant, request.status)
        try:
            while True:
                left = grant.expires_at - time.time()
                try:  # the stream ends when the token does, even with events queued (asyncio.timeout(0) hands one out)
                    if left <= 0:
                        raise TimeoutError
                    async with asyncio.timeout(left if math.isfinite(left) else None):
                        item = await anext(watch)
                except TimeoutError:
                    raise ApiError(ErrorCode.UNAUTHENTICATED, "the tenant token has expired") from None
                yield item.event
        finally:
            watch.close()
