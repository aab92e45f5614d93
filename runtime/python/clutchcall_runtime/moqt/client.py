"""The MoQT client of the ClutchCall SDK: connect, publish, subscribe, with transparent auto-reconnect.

    client = await connect("moqt://127.0.0.1:4443", token)
    writer = await client.publish(("voice", "CA12"), "uplink", capability="voice/pcmu")
    writer.write(frame)                          # a new group each second of 20 ms frames
    async for obj in await client.subscribe(("voice", "CA12"), "uplink"):
        print(obj.group, obj.object_id, obj.payload)
    await client.close()

When the connection drops, the client reconnects with capped exponential backoff and full jitter
and re-establishes every publication and subscription; the application sees no object twice (each
subscription remembers the last (group, object) it delivered). A refused token raises
`AuthenticationError` at once, without a retry loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from clutchcall.wire import moqt_d14 as wire

from .errors import AuthenticationError, ConnectError, MoqtError, RequestError, SessionClosedError
from .memory import dial_memory
from .session import (
    DEFAULT_STREAM_TYPE,
    MoqObject,
    OutboundTrack,
    OutObject,
    Session,
    SessionLimits,
    capability_of,
    capability_params,
    reason_phrase,
)
from .transport import Connection, TlsOptions, dial_quic, dial_webtransport
from .versions import DEFAULT, Draft

if TYPE_CHECKING:
    from ..bridge import BridgeApi

log = logging.getLogger("clutchcall.moqt.client")

Code = wire.SessionTerminationCode
_AUTH_CODES = frozenset({Code.UNAUTHORIZED, Code.MALFORMED_AUTH_TOKEN, Code.EXPIRED_AUTH_TOKEN})
# SUBSCRIBE_ERROR codes after a reconnect that mean "not republished yet", worth retrying.
_NOT_THERE_YET = frozenset({wire.SubscribeErrorCode.TRACK_DOES_NOT_EXIST, wire.SubscribeErrorCode.TIMEOUT})
Namespace = Sequence[bytes | str]


def _fields(namespace: Namespace) -> list[bytes]:
    return [f.encode() if isinstance(f, str) else bytes(f) for f in namespace]


def _name(track: bytes | str) -> bytes:
    return track.encode() if isinstance(track, str) else bytes(track)


@dataclass(frozen=True, slots=True)
class ReceivedObject:
    """An object delivered to the application."""

    group: int
    object_id: int
    payload: bytes
    capability: str | None
    subgroup: int = 0
    status: int = 0


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with full jitter: attempt n sleeps uniform(0, min(cap, initial * 2**n))."""

    initial: float = 0.1
    cap: float = 5.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0.0, min(self.cap, self.initial * (2.0 ** min(attempt, 30))))


@dataclass(frozen=True, slots=True)
class Endpoint:
    kind: str  # "quic", "webtransport" or "memory" (a relay in this process; host is its name)
    host: str
    port: int
    path: str


def parse_url(url: str) -> Endpoint:
    """`moqt://host:port[/path]` (raw QUIC), `https://host:port/moq` (WebTransport) or `memory://NAME` (a relay
    in this process, `memory.listen_memory`)."""
    parts = urlsplit(url)
    if parts.scheme == "memory":
        if not parts.netloc or parts.path not in ("", "/"):
            raise ValueError(f"{url!r}: an in-process relay is memory://NAME")
        return Endpoint("memory", parts.netloc, 0, "")
    if parts.scheme not in ("moqt", "https"):
        raise ValueError(
            f"{url!r}: the scheme must be moqt:// (raw QUIC), https:// (WebTransport) or memory:// (in-process)"
        )
    if not parts.hostname:
        raise ValueError(f"{url!r}: no host")
    try:
        port = parts.port or 443
    except ValueError as exc:
        raise ValueError(f"{url!r}: bad port") from exc
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "https":
        return Endpoint("webtransport", parts.hostname, port, path or "/moq")
    return Endpoint("quic", parts.hostname, port, path)


class TrackWriter:
    """Writes a published track's objects: one group per `objects_per_group` writes unless told otherwise."""

    def __init__(
        self,
        client: Client,
        namespace: list[bytes],
        track: bytes,
        capability: str | None,
        objects_per_group: int,
        priority: int,
        datagrams: bool,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.track = track
        self.capability = capability
        self.objects_per_group = objects_per_group
        self.priority = priority
        self.datagrams = datagrams
        # Group IDs start at the wall clock in ms, so a restarted publisher never reuses an old one.
        self.group = int(time.time() * 1000)
        self.next_object = 0
        self.dropped = 0  # objects written while no session was up
        self.largest: tuple[int, int] | None = None
        # One queue per subscription the relay holds on this track: one after PUBLISH, or one per
        # SUBSCRIBE when the relay only takes PUBLISH_NAMESPACE (moq-relay, for one).
        self._outs: list[OutboundTrack] = []
        self.via_namespace = False
        self._closed = False

    async def _attach(self, session: Session) -> None:
        alias = self.client._next_alias()

        def build(rid: int) -> wire.Publish:
            return wire.Publish(
                request_id=rid,
                track_namespace=wire.TrackNamespace(fields=self.namespace),
                track_name=self.track,
                track_alias=alias,
                group_order=wire.GroupOrder.ASCENDING,
                content_exists=0,
                forward=1,
                parameters=capability_params(self.capability),
            )

        self._outs = [o for o in self._outs if not o.closed]
        try:
            ok = await session.request(build)
        except RequestError as exc:
            if exc.code != wire.PublishErrorCode.NOT_SUPPORTED:
                raise
            self.via_namespace = True
            await self.client._announce(session, self.namespace)
            return
        self._add_out(session, ok.request_id, alias, ok.subscriber_priority, ok.group_order, bool(ok.forward))

    def _add_out(
        self, session: Session, request_id: int, alias: int, priority: int, group_order: int, forward: bool
    ) -> None:
        out = OutboundTrack(
            session,
            request_id,
            alias,
            subscriber_priority=priority,
            group_order=group_order or wire.GroupOrder.ASCENDING,
            forward=forward,
        )
        session.add_outbound(out)
        self._outs.append(out)

    def _take_subscribe(self, session: Session, msg: wire.Subscribe) -> None:
        """The relay subscribes to this track (after our PUBLISH_NAMESPACE): answer and start a queue."""
        alias = self.client._next_alias()
        self._add_out(session, msg.request_id, alias, msg.subscriber_priority, msg.group_order, bool(msg.forward))
        largest = self.largest
        session.send(
            wire.SubscribeOk(
                request_id=msg.request_id,
                track_alias=alias,
                expires=0,
                group_order=wire.GroupOrder.ASCENDING,
                content_exists=int(largest is not None),
                largest_location=wire.Location(group=largest[0], object_=largest[1]) if largest else None,
                parameters=capability_params(self.capability),
            )
        )

    def new_group(self) -> None:
        """Start a new group with the next write."""
        if self.next_object:
            self.group = max(self.group + 1, int(time.time() * 1000))
            self.next_object = 0

    def write(self, payload: bytes, *, end_of_group: bool = False) -> tuple[int, int]:
        """Queue one object; its (group, object id). Never blocks: the session's queue is bounded."""
        if self._closed:
            raise MoqtError("the track writer is closed")
        if self.next_object >= self.objects_per_group:
            self.new_group()
        location = (self.group, self.next_object)
        outs = [o for o in self._outs if not o.closed]
        if not outs and not self.via_namespace:
            self.dropped += 1
        obj = OutObject(
            group=self.group,
            subgroup=0,
            object_id=self.next_object,
            publisher_priority=self.priority,
            stream_type=DEFAULT_STREAM_TYPE,
            payload=bytes(payload),
            prev_object_id=self.next_object - 1 if self.next_object else None,
            datagram=self.datagrams,
        )
        for out in outs:
            out.push(obj)
        self.largest = location
        self.next_object += 1
        if end_of_group:
            self.new_group()
        return location

    def close(self) -> None:
        """End the track: what is queued still goes out, then PUBLISH_DONE (TRACK_ENDED) counts its streams."""
        if self._closed:
            return
        self._closed = True
        self.client._writers.discard(self)
        for out in self._outs:
            if out.closed:
                continue
            stream_count = out.final_stream_count
            out.finish()
            out.session.send(
                wire.PublishDone(
                    request_id=out.request_id,
                    status_code=wire.PublishDoneStatusCode.TRACK_ENDED,
                    stream_count=stream_count,
                    error_reason=reason_phrase("track ended"),
                )
            )

    async def aclose(self, timeout: float = 1.0) -> None:
        """close(), then wait (up to `timeout` s) until the relay has acknowledged every byte of the track."""
        self.close()
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        sessions = {o.session for o in self._outs}
        while loop.time() < end and not all(
            s.closed.done() or (not any(o.has_items() for o in self._outs) and s.transport.buffered_bytes() == 0)
            for s in sessions
        ):
            await asyncio.sleep(0.01)


class Subscription:
    """An async iterator of a track's objects, kept alive across reconnects without duplicates."""

    def __init__(self, client: Client, namespace: list[bytes], track: bytes, capability: str | None, depth: int):
        self.client = client
        self.namespace = namespace
        self.track = track
        self.capability = capability
        self.request_id = -1
        self.alias = -1
        self.last: tuple[int, int] | None = None  # the highest (group, object) delivered
        # Set at each re-subscribe: anything at or below it may be a repeat from before the reconnect.
        # Within one session nothing is repeated, but QUIC streams are independent, so the tail of a
        # group can arrive after the next group began; it is delivered, not mistaken for a repeat.
        self.floor: tuple[int, int] | None = None
        self.duplicates = 0  # objects dropped at or below the floor
        self.overflow = 0  # objects dropped because the application read too slowly
        self._queue: deque[ReceivedObject] = deque()
        self._depth = depth
        self._wake = asyncio.Event()
        self._ended: BaseException | None = None
        self._session: Session | None = None
        self.offered = False  # made by a Discovery: the relay re-offers it after a reconnect

    async def _attach(self, session: Session) -> None:
        def build(rid: int) -> wire.Subscribe:
            self.request_id = rid
            return wire.Subscribe(
                request_id=rid,
                track_namespace=wire.TrackNamespace(fields=self.namespace),
                track_name=self.track,
                subscriber_priority=128,
                group_order=wire.GroupOrder.PUBLISHER_ORDER,
                forward=1,
                filter_type=wire.FilterType.LARGEST_OBJECT,
                parameters=capability_params(self.capability),
            )

        self.floor = self.last
        ok = await session.request(build)
        if self.capability is None:
            self.capability = capability_of(ok.parameters)
        self.alias = ok.track_alias
        self._session = session
        session.add_inbound(ok.track_alias, self)

    # InboundSink
    def on_object(self, obj: MoqObject) -> None:
        loc = (obj.group, obj.object_id)
        if self.floor is not None and loc <= self.floor:
            self.duplicates += 1
            return
        if self.last is None or loc > self.last:
            self.last = loc
        if len(self._queue) >= self._depth:
            self._queue.popleft()
            self.overflow += 1
        self._queue.append(
            ReceivedObject(obj.group, obj.object_id, obj.payload, self.capability, obj.subgroup, obj.status)
        )
        self._wake.set()

    def on_subgroup_end(self, group: int, subgroup: int, reset: bool) -> None:
        pass

    def on_done(self, status: int, reason: str) -> None:
        if status >= 0:  # PUBLISH_DONE: the track is over; -1 (session gone) is the reconnect's business
            self.end(None)

    def end(self, error: BaseException | None) -> None:
        if self._ended is None:
            self._ended = error or StopAsyncIteration()
            self._wake.set()
        self.client._subscriptions.discard(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> ReceivedObject:
        while not self._queue:
            if self._ended is not None:
                raise self._ended
            self._wake.clear()
            await self._wake.wait()
        return self._queue.popleft()

    def unsubscribe(self) -> None:
        session = self._session
        if session is not None and not session.closed.done() and self._ended is None:
            session.remove_inbound(self.alias)
            session.send(wire.Unsubscribe(request_id=self.request_id))
        self.end(None)


class Discovery:
    """The tracks a relay offers (PUBLISH) under a SUBSCRIBE_NAMESPACE prefix: an async iterator of Subscriptions."""

    def __init__(self, client: Client, prefix: list[bytes], capability: str | None, depth: int) -> None:
        self.client = client
        self.prefix = prefix
        self.capability = capability
        self._depth = depth
        self._offers: deque[Subscription] = deque()
        self._by_track: dict[tuple[tuple[bytes, ...], bytes], Subscription] = {}
        self._wake = asyncio.Event()
        self._ended: BaseException | None = None

    async def _attach(self, session: Session) -> None:
        def build(rid: int) -> wire.SubscribeNamespace:
            return wire.SubscribeNamespace(
                request_id=rid,
                track_namespace_prefix=wire.TrackNamespace(fields=self.prefix),
                parameters=capability_params(self.capability),
            )

        await session.request(build)

    def _offer(self, session: Session, msg: wire.Publish) -> None:
        key = (tuple(msg.track_namespace.fields), msg.track_name)
        sub = self._by_track.get(key)
        fresh = sub is None
        if sub is None:
            sub = Subscription(self.client, list(key[0]), key[1], capability_of(msg.parameters), self._depth)
            sub.offered = True
            self._by_track[key] = sub
            self.client._subscriptions.add(sub)
        sub.floor = sub.last
        sub.request_id, sub.alias, sub._session = msg.request_id, msg.track_alias, session
        session.add_inbound(msg.track_alias, sub)
        session.send(
            wire.PublishOk(
                request_id=msg.request_id,
                forward=1,
                subscriber_priority=128,
                group_order=wire.GroupOrder.ASCENDING,
                filter_type=wire.FilterType.LARGEST_OBJECT,
                parameters=[],
            )
        )
        if fresh:
            self._offers.append(sub)
            self._wake.set()

    def end(self, error: BaseException | None) -> None:
        if self._ended is None:
            self._ended = error or StopAsyncIteration()
            self._wake.set()

    def __aiter__(self) -> Discovery:
        return self

    async def __anext__(self) -> Subscription:
        while not self._offers:
            if self._ended is not None:
                raise self._ended
            self._wake.clear()
            await self._wake.wait()
        return self._offers.popleft()


class Client:
    """A MoQT session to a relay that survives reconnects. Made by `connect()`."""

    def __init__(
        self,
        url: str,
        token: str | bytes | None,
        *,
        tls: TlsOptions,
        draft: Draft = DEFAULT,
        limits: SessionLimits | None = None,
        reconnect: bool = True,
        backoff: Backoff | None = None,
        resubscribe_timeout: float = 30.0,
    ) -> None:
        self.endpoint = parse_url(url)
        self.resubscribe_timeout = resubscribe_timeout
        self.token = token.encode() if isinstance(token, str) else token
        self.tls = tls
        self.draft = draft
        self.limits = limits or SessionLimits()
        self.reconnect = reconnect
        self.backoff = backoff or Backoff()
        self.session: Session | None = None
        self.reconnects = 0
        self._announced: dict[Session, set[tuple[bytes, ...]]] = {}
        self.error: MoqtError | None = None
        self._dialed: Connection | None = None
        self._writers: set[TrackWriter] = set()
        self._subscriptions: set[Subscription] = set()
        self._discoveries: list[Discovery] = []
        self._alias = 0
        self._closing = False
        self._supervisor: asyncio.Task[None] | None = None
        self._up = asyncio.Event()

    def _next_alias(self) -> int:
        self._alias += 1
        return self._alias

    # SessionHandler
    def on_setup(self, session: Session, token: bytes | None) -> None:
        pass

    async def _announce(self, session: Session, namespace: list[bytes]) -> None:
        done = self._announced.setdefault(session, set())
        if tuple(namespace) in done:
            return
        done.add(tuple(namespace))

        def build(rid: int) -> wire.PublishNamespace:
            return wire.PublishNamespace(
                request_id=rid, track_namespace=wire.TrackNamespace(fields=namespace), parameters=[]
            )

        try:
            await session.request(build)
        except BaseException:
            done.discard(tuple(namespace))
            raise

    def on_message(self, session: Session, code: int, msg: Any) -> None:
        if code == wire.ControlMessageType.SUBSCRIBE:
            key = (msg.track_namespace.fields, msg.track_name)
            writer = next((w for w in self._writers if w.via_namespace and (w.namespace, w.track) == key), None)
            if writer is None:
                session.send(
                    wire.SubscribeError(
                        request_id=msg.request_id,
                        error_code=wire.SubscribeErrorCode.TRACK_DOES_NOT_EXIST,
                        error_reason=reason_phrase("no such track here"),
                    )
                )
            else:
                writer._take_subscribe(session, msg)
        elif code == wire.ControlMessageType.PUBLISH:  # a track offered under one of our discover() prefixes
            ns = tuple(msg.track_namespace.fields)
            disc = next((d for d in self._discoveries if ns[: len(d.prefix)] == tuple(d.prefix)), None)
            if disc is None:
                session.send(
                    wire.PublishError(
                        request_id=msg.request_id,
                        error_code=wire.PublishErrorCode.UNINTERESTED,
                        error_reason=reason_phrase("no SUBSCRIBE_NAMESPACE covers this track"),
                    )
                )
            else:
                disc._offer(session, msg)
        elif code == wire.ControlMessageType.GOAWAY:
            uri = msg.new_session_uri.decode(errors="replace")
            if uri:
                try:
                    self.endpoint = parse_url(uri)
                except ValueError as exc:
                    log.warning("GOAWAY names an unusable URI, reconnecting to the same one: %s", exc)
            log.info("relay sent GOAWAY; reconnecting to %s", uri or "the same URI")
            session.close(Code.NO_ERROR, "going away")

    def on_closed(self, session: Session, code: int, reason: str, by_peer: bool) -> None:
        self._announced.pop(session, None)
        if session is self.session:
            self._up.clear()

    async def _open(self) -> Session:
        ep = self.endpoint
        dialed: Connection
        if ep.kind == "quic":
            dialed = await dial_quic(
                ep.host, ep.port, self.tls, alpn=self.draft.alpn, max_uni_streams=self.limits.max_inbound_streams
            )
        elif ep.kind == "memory":
            dialed = await dial_memory(ep.host)
        else:
            dialed = await dial_webtransport(
                ep.host, ep.port, ep.path, self.tls, max_uni_streams=self.limits.max_inbound_streams
            )
        session = Session(
            dialed.transport,
            self,
            draft=self.draft,
            limits=self.limits,
            token=self.token,
            path=ep.path if ep.kind == "quic" and ep.path else None,
        )
        session.start()
        try:
            await session.ready
        except BaseException:
            await dialed.aclose()
            raise
        old, self._dialed = self._dialed, dialed
        if old is not None:
            await old.aclose()
        self.session = session
        self._up.set()
        return session

    async def _start(self) -> None:
        await self._open()
        self._supervisor = asyncio.get_running_loop().create_task(self._supervise())

    async def _supervise(self) -> None:
        while not self._closing:
            assert self.session is not None
            closed = await asyncio.shield(self.session.closed)
            if self._closing:
                return
            if closed.code in _AUTH_CODES or not self.reconnect:
                self._fail(AuthenticationError(closed.code, closed.reason) if closed.code in _AUTH_CODES else closed)
                return
            log.info("session lost code=%#x reason=%r; reconnecting", closed.code, closed.reason)
            attempt = 0
            while not self._closing:
                await asyncio.sleep(self.backoff.delay(attempt))
                try:
                    session = await self._open()
                except AuthenticationError as exc:
                    self._fail(exc)
                    return
                except (ConnectError, SessionClosedError, TimeoutError, OSError) as exc:
                    log.debug("reconnect attempt %d failed: %s", attempt, exc)
                    attempt += 1
                    continue
                self.reconnects += 1
                await self._reestablish(session)
                break

    async def _reestablish(self, session: Session) -> None:
        """Every publication and subscription again, at once (a held SUBSCRIBE must not delay the rest)."""
        await asyncio.gather(
            *(self._republish(session, w) for w in list(self._writers)),
            *(self._resubscribe(session, s) for s in list(self._subscriptions) if not s.offered),
            *(self._rediscover(session, d) for d in list(self._discoveries)),
        )

    async def _rediscover(self, session: Session, disc: Discovery) -> None:
        try:
            await disc._attach(session)  # the relay offers the tracks again; each keeps its Subscription
        except RequestError as exc:
            disc.end(exc)
        except (SessionClosedError, TimeoutError) as exc:
            log.info("re-discovering %r interrupted: %s", disc.prefix, exc)

    async def _republish(self, session: Session, writer: TrackWriter) -> None:
        try:
            await writer._attach(session)
        except (RequestError, SessionClosedError, TimeoutError) as exc:
            log.warning("re-publishing %r failed: %s", writer.track, exc)

    async def _resubscribe(self, session: Session, sub: Subscription) -> None:
        """Subscribe again; while the track is not back yet (its publisher reconnecting too), retry with
        backoff for up to `resubscribe_timeout` seconds."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.resubscribe_timeout
        attempt = 0
        while not self._closing and not session.closed.done() and sub in self._subscriptions:
            try:
                await sub._attach(session)
                return
            except RequestError as exc:
                if exc.code not in _NOT_THERE_YET or loop.time() >= give_up:
                    sub.end(exc)
                    return
            except (SessionClosedError, TimeoutError) as exc:
                log.info("re-subscribing %r interrupted: %s", sub.track, exc)
                return
            await asyncio.sleep(self.backoff.delay(attempt))
            attempt += 1

    def _fail(self, error: MoqtError) -> None:
        self.error = error
        for sub in list(self._subscriptions):
            sub.end(error)
        for disc in self._discoveries:
            disc.end(error)

    async def _session(self) -> Session:
        if self.error is not None:
            raise self.error
        if self._closing:
            raise MoqtError("the client is closed")
        await self._up.wait()
        assert self.session is not None
        return self.session

    @property
    def bridge(self) -> BridgeApi:
        """The AudioBridge on this client: `await client.bridge.attach(sid, codec="pcm16", sample_rate=16000)`."""
        from ..bridge import BridgeApi

        return BridgeApi(self)

    async def publish(
        self,
        namespace: Namespace,
        track: bytes | str,
        *,
        capability: str | None = None,
        objects_per_group: int = 50,
        priority: int = 128,
        datagrams: bool = False,
    ) -> TrackWriter:
        """Announce a track (PUBLISH) and return its writer. 50 objects per group = 1 s of 20 ms frames."""
        writer = TrackWriter(self, _fields(namespace), _name(track), capability, objects_per_group, priority, datagrams)
        self._writers.add(writer)  # before PUBLISH: a relay may SUBSCRIBE as soon as it has the namespace
        try:
            await writer._attach(await self._session())
        except BaseException:
            self._writers.discard(writer)
            raise
        return writer

    async def subscribe(
        self, namespace: Namespace, track: bytes | str, *, capability: str | None = None, depth: int = 1024
    ) -> Subscription:
        """Subscribe (SUBSCRIBE, Largest Object filter); iterate the result for objects."""
        sub = Subscription(self, _fields(namespace), _name(track), capability, depth)
        await sub._attach(await self._session())
        self._subscriptions.add(sub)
        return sub

    async def discover(self, prefix: Namespace, *, capability: str | None = None, depth: int = 1024) -> Discovery:
        """Routing on intent: SUBSCRIBE_NAMESPACE for `prefix` (and, if given, only tracks tagged
        `capability`); iterate the result for one Subscription per track the relay offers."""
        disc = Discovery(self, _fields(prefix), capability, depth)
        self._discoveries.append(disc)  # before the request: offers may follow its OK at once
        try:
            await disc._attach(await self._session())
        except BaseException:
            self._discoveries.remove(disc)
            raise
        return disc

    async def close(self) -> None:
        """Close cleanly: end publications, close the session (NO_ERROR), stop reconnecting."""
        if self._closing:
            return
        await asyncio.gather(*(writer.aclose() for writer in list(self._writers)))
        self._closing = True
        for sub in list(self._subscriptions):
            sub.end(None)
        for disc in self._discoveries:
            disc.end(None)
        if self.session is not None:
            self.session.close(Code.NO_ERROR, "client closed")
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        if self._dialed is not None:
            await self._dialed.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def connect(
    url: str,
    token: str | bytes | None,
    *,
    cafile: str | None = None,
    cert_sha256: bytes | str | None = None,
    insecure: bool = False,
    reconnect: bool = True,
    backoff: Backoff | None = None,
    limits: SessionLimits | None = None,
    draft: Draft = DEFAULT,
) -> Client:
    """Connect to a relay: `moqt://host:port` (raw QUIC), `https://host:port/moq` (WebTransport), or
    `memory://NAME`, a relay in this process (no network and so no TLS: the token is still checked).

    TLS: `cafile` (a CA bundle), `cert_sha256` (pin the server certificate's DER SHA-256, bytes or
    hex, as browsers' serverCertificateHashes do), or `insecure=True` for development only.
    Raises AuthenticationError if the token is refused, ConnectError if the relay cannot be reached.
    """
    pin = bytes.fromhex(cert_sha256) if isinstance(cert_sha256, str) else cert_sha256
    client = Client(
        url,
        token,
        tls=TlsOptions(cafile=cafile, cert_sha256=pin, insecure=insecure),
        draft=draft,
        limits=limits,
        reconnect=reconnect,
        backoff=backoff,
    )
    await client._start()
    return client


__all__ = [
    "AuthenticationError",
    "Backoff",
    "Client",
    "ConnectError",
    "Discovery",
    "MoqtError",
    "ReceivedObject",
    "RequestError",
    "SessionClosedError",
    "Subscription",
    "TrackWriter",
    "connect",
    "parse_url",
]
