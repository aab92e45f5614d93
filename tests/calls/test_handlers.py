"""The generated handlers' own duties: the tenant from the verified token, checked again per request because
an envelope RPC connection authenticates once and may outlive its token; a watch stream ends with it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest
from calls_support import FakeSignalling
from clutchcall import CallEvent, CallStatus, ErrorCode, GetCallRequest, ListCallsRequest, OriginateRequest
from clutchcall.services import CLUTCH_CALL_CLIENT
from clutchcall_engine.auth import Grant, TokenVerifier, load_or_create_dev_key, mint_token, verifier_for
from clutchcall_engine.calls.handlers import LegacyClient, VoiceCalls, authenticator
from clutchcall_engine.calls.service import CallService
from clutchcall_engine.calls.store import SqliteCallStore
from clutchcall_engine.config import EngineConfig
from clutchcall_runtime.rpc import ApiError, RequestContext

TO, FROM = "+14155550100", "+14155550199"


def _ctx(principal: object) -> RequestContext:
    return RequestContext(CLUTCH_CALL_CLIENT["watch_calls"], "envelope", "token", principal)


def test_expired_or_missing_grant_is_unauthenticated(tmp_path: Path) -> None:
    calls = VoiceCalls(CallService(SqliteCallStore(tmp_path / "calls.db"), FakeSignalling()))

    async def scenario() -> None:
        live = Grant("acme", (), (), time.time() + 60)
        sid = (await calls.originate(OriginateRequest(to=TO, from_=FROM), _ctx(live))).sid
        assert (await calls.get(GetCallRequest(sid=sid), _ctx(live))).status == CallStatus.DIALING
        for principal in (Grant("acme", (), (), time.time() - 1), None, "acme"):
            with pytest.raises(ApiError) as info:
                await calls.get(GetCallRequest(sid=sid), _ctx(principal))
            assert info.value.code == ErrorCode.UNAUTHENTICATED

    asyncio.run(scenario())


async def _watch_after_one_event(service: CallService, lifetime_s: float) -> tuple[AsyncIterator[CallEvent], Grant]:
    """A watch_calls stream whose tenant token lives `lifetime_s` more, once it has handed out one call's event."""
    grant = Grant("acme", (), (), time.time() + lifetime_s)
    stream = LegacyClient(service).watch_calls(ListCallsRequest(), _ctx(grant))
    first = asyncio.ensure_future(anext(stream))
    while not service.watcher_count():
        await asyncio.sleep(0.01)
    await service.inbound_call("acme", FROM, TO, 0)
    assert (await first).call is not None
    return stream, grant


def test_a_watch_stream_ends_when_its_token_expires(tmp_path: Path) -> None:
    service = CallService(SqliteCallStore(tmp_path / "calls.db"), FakeSignalling())

    async def scenario() -> float:
        stream, _ = await _watch_after_one_event(service, 0.3)
        started = time.monotonic()
        with pytest.raises(ApiError) as info:
            await anext(stream)
        assert info.value.code == ErrorCode.UNAUTHENTICATED
        assert service.watcher_count() == 0
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 1.0


def test_an_expired_watch_stream_ends_even_with_events_queued(tmp_path: Path) -> None:
    service = CallService(SqliteCallStore(tmp_path / "calls.db"), FakeSignalling())

    async def scenario() -> None:
        stream, grant = await _watch_after_one_event(service, 0.2)
        while time.time() < grant.expires_at:
            await asyncio.sleep(0.05)
        await service.inbound_call("acme", FROM, TO, 0)  # queued for the stream, which must not hand it out
        with pytest.raises(ApiError) as info:
            await anext(stream)
        assert info.value.code == ErrorCode.UNAUTHENTICATED

    asyncio.run(scenario())


def test_authenticator_verifies_a_token_once_and_still_refuses_it_once_expired(tmp_path: Path) -> None:
    config = EngineConfig(state_dir=tmp_path)
    real = verifier_for(config)
    calls: list[str] = []

    class Counting:
        def verify(self, token: str) -> Grant:
            calls.append(token)
            return real.verify(token)

    authenticate = authenticator(cast(TokenVerifier, Counting()), kept=2)
    key = load_or_create_dev_key(tmp_path)

    def token(tenant: str, ttl_s: float = 60) -> str:
        return mint_token(key, tenant=tenant, publish=[], subscribe=[], ttl_s=ttl_s, audience=config.audience)

    async def scenario() -> None:
        a, b, c = token("a"), token("b"), token("c")
        for t in (a, a, a, b, b):
            await authenticate(t)
        assert calls == [a, b]
        await authenticate(c)  # a is forgotten (the oldest of more than two)
        await authenticate(a)
        assert calls == [a, b, c, a]
        short = token("d", ttl_s=1)
        assert isinstance(await authenticate(short), Grant)
        await asyncio.sleep(1.1)
        for _ in range(2):  # refused from the cache, then by the verifier itself
            with pytest.raises(ApiError) as info:
                await authenticate(short)
            assert info.value.code == ErrorCode.UNAUTHENTICATED
        for bad in ("", None, "not-a-jwt"):
            with pytest.raises(ApiError) as info:
                await authenticate(bad)
            assert info.value.code == ErrorCode.UNAUTHENTICATED

    asyncio.run(scenario())
