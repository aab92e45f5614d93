"""Helpers for the MoQT session, relay and client tests: an in-process engine on 127.0.0.1 port 0,
development tokens, and a raw session a test can make misbehave."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any, TypeVar

from clutchcall.wire import moqt_d14 as wire
from clutchcall_engine.auth import load_or_create_dev_key, mint_token
from clutchcall_engine.config import Address, EngineConfig, Limits
from clutchcall_engine.server import EngineServer
from clutchcall_runtime.moqt import versions
from clutchcall_runtime.moqt.client import Backoff, Client, connect
from clutchcall_runtime.moqt.session import MoqObject, Session, SessionLimits
from clutchcall_runtime.moqt.transport import TlsOptions, dial_quic, dial_webtransport

R = TypeVar("R")
LOOPBACK = "127.0.0.1"


def run(coro: Coroutine[Any, Any, R], timeout: float = 30.0) -> R:
    """Run one test's coroutine with a hard bound, so a bug shows as a failure, not a hang."""

    async def bounded() -> R:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def engine_config(state_dir: Path, moqt_port: int = 0, http_port: int = 0, **limits: Any) -> EngineConfig:
    return EngineConfig(
        moqt_addr=Address(LOOPBACK, moqt_port),
        http_addr=Address(LOOPBACK, http_port),
        state_dir=state_dir,
        limits=dataclasses.replace(Limits(), **limits),
    )


def token(
    config: EngineConfig,
    *,
    publish: tuple[str, ...] = ("",),
    subscribe: tuple[str, ...] = ("",),
    ttl_s: float = 3600,
    audience: str | None = None,
    tenant: str = "t1",
) -> str:
    key = load_or_create_dev_key(config.state_dir)
    return mint_token(
        key,
        tenant=tenant,
        publish=publish,
        subscribe=subscribe,
        ttl_s=ttl_s,
        audience=audience or config.audience,
    )


def moqt_url(srv: EngineServer) -> str:
    return f"moqt://{LOOPBACK}:{srv.moqt_port}"


def wt_url(srv: EngineServer) -> str:
    return f"https://{LOOPBACK}:{srv.http_port}{versions.WEBTRANSPORT_PATH}"


async def client(url: str, tok: str | bytes | None, **kw: Any) -> Client:
    kw.setdefault("insecure", True)
    kw.setdefault("backoff", Backoff(initial=0.05, cap=0.5))
    return await connect(url, tok, **kw)


class Recorder:
    """A SessionHandler and InboundSink that records what a raw test session sees."""

    def __init__(self) -> None:
        self.messages: list[tuple[int, Any]] = []
        self.objects: list[MoqObject] = []
        self.done: list[tuple[int, str]] = []
        self.closed: asyncio.Future[tuple[int, str, bool]] = asyncio.get_running_loop().create_future()
        self.request_id = -1

    def on_setup(self, session: Session, token: bytes | None) -> None:
        pass

    def on_message(self, session: Session, code: int, msg: Any) -> None:
        self.messages.append((code, msg))

    def on_closed(self, session: Session, code: int, reason: str, by_peer: bool) -> None:
        if not self.closed.done():
            self.closed.set_result((code, reason, by_peer))

    def on_object(self, obj: MoqObject) -> None:
        self.objects.append(obj)

    def on_subgroup_end(self, group: int, subgroup: int, reset: bool) -> None:
        pass

    def on_done(self, status: int, reason: str) -> None:
        self.done.append((status, reason))


async def raw_session(
    srv: EngineServer, tok: str | None, *, webtransport: bool = False, limits: SessionLimits | None = None
) -> tuple[Session, Recorder]:
    """A bare client session (no client conveniences) that has completed setup."""
    tls = TlsOptions(insecure=True)
    if webtransport:
        dialed = await dial_webtransport(LOOPBACK, srv.http_port, versions.WEBTRANSPORT_PATH, tls)
    else:
        dialed = await dial_quic(LOOPBACK, srv.moqt_port, tls, alpn=versions.DEFAULT.alpn)
    rec = Recorder()
    session = Session(dialed.transport, rec, limits=limits, token=tok.encode() if tok else None)
    session.start()
    await session.ready
    return session, rec


def expect_answers(session: Session, request_ids: Iterable[int]) -> None:
    """Let a raw session accept answers to requests it wrote as raw bytes (else they are violations)."""
    for rid in request_ids:
        session._pending[rid] = (rid, session.loop.create_future())


def subscribe_msg(rid: int, ns: tuple[bytes, ...], name: bytes, **kw: Any) -> wire.Subscribe:
    kw.setdefault("filter_type", wire.FilterType.LARGEST_OBJECT)
    return wire.Subscribe(
        request_id=rid,
        track_namespace=wire.TrackNamespace(fields=list(ns)),
        track_name=name,
        subscriber_priority=128,
        group_order=0,
        forward=1,
        parameters=kw.pop("parameters", []),
        **kw,
    )


async def until(pred: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Wait until `pred()` holds; fail with `what` after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def collect(it: Any, n: int, timeout: float = 5.0) -> list[Any]:
    out: list[Any] = []

    async def take() -> None:
        async for obj in it:
            out.append(obj)
            if len(out) >= n:
                return

    await asyncio.wait_for(take(), timeout)
    return out


class SessionPair:
    """A client session and a server session over loopback QUIC, with no relay: both ends are Recorders."""

    def __init__(self) -> None:
        self.server: Session | None = None
        self.server_rec: Recorder | None = None
        self.client: Session | None = None
        self.client_rec: Recorder | None = None


async def session_pair(
    tmp: Path, *, server_limits: SessionLimits | None = None, client_limits: SessionLimits | None = None
) -> tuple[SessionPair, Any]:
    """Listen on 127.0.0.1:0 with a fresh self-signed certificate and connect one client session."""
    from clutchcall_engine.certs import make_self_signed
    from clutchcall_runtime.moqt.transport import ServerTls, Transport, bound_port, listen_quic

    cert, key = make_self_signed()
    (tmp / "c.pem").write_bytes(cert)
    (tmp / "k.pem").write_bytes(key)
    pair = SessionPair()

    def on_session(transport: Transport) -> None:
        pair.server_rec = Recorder()
        pair.server = Session(transport, pair.server_rec, limits=server_limits)
        pair.server.start()

    server = await listen_quic(
        LOOPBACK, 0, ServerTls(str(tmp / "c.pem"), str(tmp / "k.pem")), on_session, alpn=versions.DEFAULT.alpn
    )
    dialed = await dial_quic(LOOPBACK, bound_port(server), TlsOptions(insecure=True), alpn=versions.DEFAULT.alpn)
    pair.client_rec = Recorder()
    pair.client = Session(dialed.transport, pair.client_rec, limits=client_limits)
    pair.client.start()
    await pair.client.ready
    assert pair.server is not None
    await pair.server.ready
    return pair, server
