"""The relay role: routes published tracks to subscribers on top of the MoQT session layer.

Publishers come in by PUBLISH (or PUBLISH_NAMESPACE, then the relay subscribes upstream);
subscribers by SUBSCRIBE (held until the publisher appears, up to a timeout) or by
SUBSCRIBE_NAMESPACE, for which the relay PUBLISHes every matching track (routing on intent: the
namespace prefix plus, optionally, the capability tag). Each object is encoded once and the same
bytes object is pushed to every subscriber's bounded queue (the session's OutboundTrack), so one
slow subscriber only ever fills its own queue. The latest group of each track is cached for
joining FETCH and late joiners. Every request is checked against the session's token grant.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from clutchcall.wire import moqt_d14 as wire
from clutchcall_runtime.bridge import AudioFormat, UnsupportedShape, parse_tag
from clutchcall_runtime.moqt.errors import ProtocolViolation, RequestError
from clutchcall_runtime.moqt.session import (
    EndOfSubgroup,
    MoqObject,
    OutboundTrack,
    OutObject,
    Session,
    SessionLimits,
    capability_of,
    capability_params,
    check_group_order,
    message_name,
    reason_phrase,
)
from clutchcall_runtime.moqt.transport import Transport

from .auth import AuthError, Grant, TokenVerifier
from .bridge import AudioBridge, BridgeMetrics, TranscodeStage
from .bridge.stage import BridgeUnavailable
from .config import EngineConfig
from .metrics import RelayMetrics, TrackMetrics

log = logging.getLogger("clutchcall.engine.relay")

Code = wire.SessionTerminationCode
T = wire.ControlMessageType
SubErr = wire.SubscribeErrorCode
TrackKey = tuple[tuple[bytes, ...], bytes]
SEND_BUDGET = 64 * 1024

# AuthError.kind -> the session termination code the draft gives for it.
_AUTH_CLOSE_CODES: dict[str, int] = {
    "malformed": Code.MALFORMED_AUTH_TOKEN,
    "expired": Code.EXPIRED_AUTH_TOKEN,
}


def ns_text(namespace: Sequence[bytes]) -> str:
    return "/".join(f.decode("utf-8", "backslashreplace") for f in namespace)


def has_prefix(namespace: Sequence[bytes], prefix: Sequence[bytes]) -> bool:
    return tuple(namespace[: len(prefix)]) == tuple(prefix)


def _narrowed(
    msg: wire.SubscribeUpdate, start: tuple[int, int], end_group: int | None
) -> tuple[tuple[int, int], int | None]:
    """The window SUBSCRIBE_UPDATE asks for; the start may only move forward and the end only come closer."""
    new_start = (msg.start_location.group, msg.start_location.object_)
    new_end = msg.end_group - 1 if msg.end_group else None  # in an update: end + 1, 0 = open
    widened_end = end_group is not None and (new_end is None or new_end > end_group)
    if new_start < start or widened_end or (new_end is not None and new_end < new_start[0]):
        raise ProtocolViolation(
            Code.PROTOCOL_VIOLATION,
            f"SUBSCRIBE_UPDATE widens subscription {msg.subscription_request_id}",
            message_type="subscribe_update",
            request_id=msg.request_id,
        )
    return new_start, new_end


@dataclass(frozen=True)
class _NarrowedGrant(Grant):
    """The session's grant as one request's own token narrows it: allowed only where both allow."""

    request: Grant | None = None

    @classmethod
    def of(cls, session: Grant, request: Grant) -> _NarrowedGrant:
        if request.tenant != session.tenant:
            request = dataclasses.replace(request, publish_prefixes=(), subscribe_prefixes=())
        fields = {f.name: getattr(session, f.name) for f in dataclasses.fields(Grant)}
        return cls(**fields, request=request)

    def may_publish(self, namespace: Sequence[bytes]) -> bool:
        return super().may_publish(namespace) and (self.request is None or self.request.may_publish(namespace))

    def may_subscribe(self, namespace: Sequence[bytes]) -> bool:
        return super().may_subscribe(namespace) and (self.request is None or self.request.may_subscribe(namespace))


# A cached object's plain fields: group, subgroup, object ID, priority, stream type, payload, status, previous
# object ID in its subgroup, datagram.
_Fields = tuple[int, int, int, int, int, bytes, int, int | None, bool]


class GroupCache:
    """A track's latest group, for FETCH and for late joiners with an absolute start: at most `limit` bytes (an
    object that does not fit is not kept), emptied when a newer group begins, an older group's objects ignored.

    Objects are kept as tuples of their plain fields, not as OutObjects: CPython stops tracking a tuple of ints
    and bytes at the first collection it survives, while every OutObject stays tracked. A second of audio cached
    on each of a thousand tracks then no longer fills the oldest GC generation, whose full collections stalled the
    event loop 20-50 ms at a time, longer than a frame period (benchmarks/README.md, AudioBridge). An object with
    extension headers (a list) is kept as it is."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.bytes = 0
        self._group = -1
        self._entries: list[_Fields | OutObject] = []

    def add(self, out: OutObject) -> None:
        if out.group != self._group:
            if out.group < self._group:
                return
            self._entries.clear()
            self.bytes, self._group = 0, out.group
        if self.bytes + out.size > self.limit:
            return
        self.bytes += out.size
        if out.extensions is not None:
            self._entries.append(out)
            return
        self._entries.append(
            (
                out.group,
                out.subgroup,
                out.object_id,
                out.publisher_priority,
                out.stream_type,
                out.payload,
                out.status,
                out.prev_object_id,
                out.datagram,
            )
        )

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[OutObject]:
        for entry in self._entries:
            if isinstance(entry, OutObject):
                yield entry
            else:
                group, subgroup, object_id, priority, kind, payload, status, prev, datagram = entry
                yield OutObject(group, subgroup, object_id, priority, kind, payload, status, None, prev, datagram)


@dataclass(eq=False)
class Subscriber:
    """One subscription to a relay track: its session's queue plus the filter's window."""

    peer: PeerState
    request_id: int
    out: OutboundTrack
    start: tuple[int, int] = (0, 0)
    end_group: int | None = None

    def accepts(self, group: int, object_id: int) -> bool:
        return (group, object_id) >= self.start and (self.end_group is None or group <= self.end_group)


@dataclass(eq=False)
class Held:
    """A SUBSCRIBE waiting for its publisher."""

    peer: PeerState
    msg: wire.Subscribe
    capability: str | None
    timer: asyncio.TimerHandle | None = None
    # SUBSCRIBE_UPDATEs received while held: the window they narrowed to and what they set, applied on attach.
    start: tuple[int, int] = (0, 0)
    end_group: int | None = None
    subscriber_priority: int | None = None
    forward: int | None = None


class RelayTrack:
    """A track the relay routes: its publisher, subscribers, latest-group cache and counters."""

    def __init__(self, relay: Relay, key: TrackKey, capability: str | None, tenant: str) -> None:
        self.relay = relay
        self.key = key
        self.capability = capability
        self.tenant = tenant
        self.publisher: PeerState | None = None
        self.publisher_request_id = -1
        self.publisher_alias = -1
        self.subscribers: dict[tuple[int, int], Subscriber] = {}
        self.cache = GroupCache(relay.config.limits.track_cache_bytes)
        self.largest: tuple[int, int] | None = None
        self.group_order = wire.GroupOrder.ASCENDING
        self._last_in_subgroup: dict[tuple[int, int], int] = {}
        self.metrics: TrackMetrics = relay.metrics.track(tenant, key[0], key[1])
        self.orphan_timer: asyncio.TimerHandle | None = None
        self.request_id = -1  # the session's inbound-sink identity (PUBLISH_DONE matching)
        self.taps: list[TranscodeStage] = []  # the AudioBridge's stages fed from this track

    # -- InboundSink: objects from the publisher --

    def on_object(self, obj: MoqObject) -> None:
        # Every object of every track passes here (twice for a transcoded one), so it reads each field once.
        group, object_id = obj.group, obj.object_id
        key = (group, obj.subgroup)
        largest = self.largest
        out = OutObject(
            group,
            obj.subgroup,
            object_id,
            obj.publisher_priority,
            obj.stream_type,
            obj.payload,
            obj.status,
            obj.extensions,
            self._last_in_subgroup.get(key),
            obj.datagram,
        )
        if not obj.datagram:
            if largest is None or group > largest[0]:
                self._last_in_subgroup = {k: v for k, v in self._last_in_subgroup.items() if k[0] >= group}
            self._last_in_subgroup[key] = object_id
        self.cache.add(out)
        if largest is None or (group, object_id) > largest:
            self.largest = (group, object_id)
        self.metrics.object_in(len(obj.payload))
        finished: list[Subscriber] = []
        for sub in self.subscribers.values():  # Subscriber.accepts, inline
            if (group, object_id) >= sub.start and (sub.end_group is None or group <= sub.end_group):
                sub.out.push(out)
            elif sub.end_group is not None and group > sub.end_group:
                finished.append(sub)
        for tap in self.taps:
            tap.on_object(obj)
        for sub in finished:  # an AbsoluteRange subscription past its end group
            self.relay.end_subscription(sub, self, wire.PublishDoneStatusCode.SUBSCRIPTION_ENDED, "range complete")

    def on_subgroup_end(self, group: int, subgroup: int, reset: bool) -> None:
        end = EndOfSubgroup(group, subgroup)
        for sub in self.subscribers.values():
            sub.out.push(end)

    def on_done(self, status: int, reason: str) -> None:
        """The publisher ended the track or its session went away."""
        self.publisher = None
        if status >= 0:  # PUBLISH_DONE from the publisher; -1 is its session ending
            self.relay.end_track(self, status, reason)
        else:
            self.relay.orphan(self)


@dataclass(eq=False)
class PeerState:
    """The relay's view of one session: its grant and what it publishes and subscribes to."""

    session: Session
    grant: Grant | None = None
    anonymous: bool = False  # no setup token (the engine admits such sessions): request tokens are not checked
    aliases: int = 0
    published: set[TrackKey] = field(default_factory=set)
    namespaces: set[tuple[bytes, ...]] = field(default_factory=set)
    namespace_subs: dict[tuple[bytes, ...], str | None] = field(default_factory=dict)
    held: dict[int, Held] = field(default_factory=dict)
    subscriptions: dict[int, RelayTrack] = field(default_factory=dict)
    expiry: asyncio.TimerHandle | None = None

    def next_alias(self) -> int:
        self.aliases += 1
        return self.aliases


class Relay:
    """The relay role: a SessionHandler for every session the engine accepts."""

    def __init__(self, config: EngineConfig, verifier: TokenVerifier, metrics: RelayMetrics) -> None:
        self.config = config
        self.verifier = verifier
        self.metrics = metrics
        lim = config.limits
        self.session_limits = SessionLimits(
            control_buffer=lim.max_control_message_bytes + 16,
            data_stream_buffer=max(4096, min(lim.session_buffer_bytes, 1 << 20)),
            max_inbound_streams=lim.max_streams_per_session,
            request_window=lim.max_request_id_window,
            max_active_requests=lim.max_subscriptions_per_session,
            # What aioquic may hold unacknowledged: near a loopback/LAN bandwidth-delay product, so a
            # slow peer's backlog waits (and is dropped, oldest group first) in the bounded per-track
            # queue instead of ageing in aioquic's buffer.
            send_budget=min(SEND_BUDGET, lim.session_buffer_bytes),
            queue_max_bytes=lim.subscriber_queue_bytes,
            queue_max_ms=float(lim.subscriber_queue_ms),
            keepalive=lim.idle_timeout_s / 3,
            auth_token_cache_bytes=lim.auth_token_cache_bytes,
        )
        self.peers: dict[Session, PeerState] = {}
        self.tracks: dict[TrackKey, RelayTrack] = {}
        self.announced: dict[tuple[bytes, ...], PeerState] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.bridge = AudioBridge(self, BridgeMetrics(metrics.registry))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a relay-initiated request; the loop keeps only weak references to tasks, so we hold them."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- sessions ----

    def accept(self, transport: Transport) -> Session | None:
        if len(self.peers) >= self.config.limits.max_sessions:
            self.metrics.refused("max_sessions")
            log.warning("session refused reason=max_sessions limit=%d", self.config.limits.max_sessions)
            transport.close(Code.INTERNAL_ERROR, "too many sessions")
            return None
        session = Session(transport, self, limits=self.session_limits)
        peer = PeerState(session)
        session.live_requests = lambda: len(peer.subscriptions) + len(peer.held) + len(peer.published)
        self.peers[session] = peer
        self.metrics.session_opened()
        session.start()
        return session

    def _verify(self, session: Session, token: bytes | None, where: str) -> Grant:
        try:
            return self.verifier.verify(token)
        except AuthError as exc:
            self.metrics.auth_refused(exc.kind)
            log.warning("auth refused session=%d in=%s kind=%s reason=%r", session.id, where, exc.kind, exc.message)
            code = _AUTH_CLOSE_CODES.get(exc.kind, Code.UNAUTHORIZED)
            raise ProtocolViolation(code, f"token refused: {exc.kind}", message_type=where) from exc

    def on_setup(self, session: Session, token: bytes | None) -> None:
        grant = self._verify(session, token, "client_setup")
        peer = self.peers[session]
        peer.grant = grant
        peer.anonymous = not token
        delay = max(0.0, grant.expires_at - time.time())
        peer.expiry = session.loop.call_later(delay, self._expired, session)
        log.info("session ready session=%d tenant=%s transport=%s", session.id, grant.tenant, session.transport.kind)

    def _expired(self, session: Session) -> None:
        self.metrics.auth_refused("expired")
        log.info("session token expired session=%d", session.id)
        session.close(Code.EXPIRED_AUTH_TOKEN, "token expired")

    def on_closed(self, session: Session, code: int, reason: str, by_peer: bool) -> None:
        peer = self.peers.pop(session, None)
        if peer is None:
            return
        self.metrics.session_closed(code)
        log.info("session closed session=%d code=%#x by_peer=%s reason=%r", session.id, code, by_peer, reason)
        if peer.expiry is not None:
            peer.expiry.cancel()
        for held in peer.held.values():
            if held.timer is not None:
                held.timer.cancel()
        for rid, track in peer.subscriptions.items():
            track.subscribers.pop((session.id, rid), None)
        for key in peer.published:
            track_ = self.tracks.get(key)
            if track_ is not None and track_.publisher is peer:
                track_.publisher = None
                self.orphan(track_)
        for ns in peer.namespaces:
            if self.announced.get(ns) is peer:
                del self.announced[ns]

    # ---- control messages ----

    def on_message(self, session: Session, code: int, msg: Any) -> None:
        peer = self.peers.get(session)
        if peer is None or peer.grant is None:
            return
        handler = self._handlers.get(code)
        if handler is None:
            return
        session_grant = peer.grant
        # A request's own tokens narrow what it may do; the session's grant stays the upper bound. Token-less
        # sessions are public (like moq-relay's --auth-public), and some peers put placeholders in requests.
        for tok in [] if peer.anonymous else session.current_request_tokens:
            peer.grant = _NarrowedGrant.of(peer.grant, self._verify(session, tok, message_name(code).lower()))
        try:
            handler(self, peer, msg)
        finally:
            peer.grant = session_grant

    def _publish(self, peer: PeerState, msg: wire.Publish) -> None:
        assert peer.grant is not None
        ns = tuple(msg.track_namespace.fields)
        check_group_order(msg.group_order, allow_publisher=False, name="publish", request_id=msg.request_id)
        if not peer.grant.may_publish(ns):
            self._refuse(peer, "publish", ns)
            peer.session.send(
                wire.PublishError(
                    request_id=msg.request_id,
                    error_code=wire.PublishErrorCode.UNAUTHORIZED,
                    error_reason=reason_phrase(f"token does not allow publishing {ns_text(ns)}"),
                )
            )
            return
        capability = capability_of(msg.parameters)
        try:
            parse_tag(capability)
        except UnsupportedShape as exc:
            self.bridge.metrics.refused.labels(exc.field).inc()
            # not NOT_SUPPORTED: publishers (ours among them) read that as "PUBLISH itself is not supported"
            peer.session.send(
                wire.PublishError(
                    request_id=msg.request_id,
                    error_code=wire.PublishErrorCode.UNINTERESTED,
                    error_reason=reason_phrase(str(exc)),
                )
            )
            return
        key = (ns, msg.track_name)
        track = self.tracks.get(key)
        if track is None:
            if len(self.tracks) >= self.config.limits.max_tracks:
                self.metrics.refused("max_tracks")
                peer.session.send(
                    wire.PublishError(
                        request_id=msg.request_id,
                        error_code=wire.PublishErrorCode.INTERNAL_ERROR,
                        error_reason=reason_phrase("relay track limit reached"),
                    )
                )
                return
            track = RelayTrack(self, key, capability, peer.grant.tenant)
            self.tracks[key] = track
        elif track.publisher is not None and track.publisher is not peer:
            # A reconnecting publisher takes over; the old session is told to stop.
            old = track.publisher
            old.session.remove_inbound(track.publisher_alias)
            old.published.discard(key)
            old.session.send(wire.Unsubscribe(request_id=track.publisher_request_id))
        peer.session.add_inbound(msg.track_alias, track)
        track.capability = capability
        track.publisher = peer
        track.publisher_request_id = track.request_id = msg.request_id
        track.publisher_alias = msg.track_alias
        track.group_order = msg.group_order
        if track.orphan_timer is not None:
            track.orphan_timer.cancel()
            track.orphan_timer = None
        peer.published.add(key)
        peer.session.send(
            wire.PublishOk(
                request_id=msg.request_id,
                forward=1,
                subscriber_priority=128,
                group_order=msg.group_order,
                filter_type=wire.FilterType.LARGEST_OBJECT,
                parameters=[],
            )
        )
        log.info(
            "track published session=%d namespace=%s track=%r capability=%s",
            peer.session.id,
            ns_text(ns),
            msg.track_name,
            capability,
        )
        self._satisfy_held(track)
        self._offer_to_namespace_subscribers(track)

    def _subscribe(self, peer: PeerState, msg: wire.Subscribe) -> None:
        assert peer.grant is not None
        ns = tuple(msg.track_namespace.fields)
        check_group_order(msg.group_order, allow_publisher=True, name="subscribe", request_id=msg.request_id)
        if not peer.grant.may_subscribe(ns):
            self._refuse(peer, "subscribe", ns)
            self._subscribe_error(peer, msg.request_id, SubErr.UNAUTHORIZED, f"token does not allow {ns_text(ns)}")
            return
        if len(peer.subscriptions) + len(peer.held) >= self.config.limits.max_subscriptions_per_session:
            self.metrics.refused("max_subscriptions_per_session")
            self._subscribe_error(peer, msg.request_id, SubErr.INTERNAL_ERROR, "subscription limit reached")
            return
        if msg.filter_type == wire.FilterType.ABSOLUTE_RANGE:
            assert msg.start_location is not None and msg.end_group is not None
            if msg.end_group < msg.start_location.group:
                self._subscribe_error(peer, msg.request_id, SubErr.INVALID_RANGE, "end group before start")
                return
        capability = capability_of(msg.parameters)
        try:
            wanted = parse_tag(capability)
        except UnsupportedShape as exc:
            self.bridge.metrics.refused.labels(exc.field).inc()
            self._subscribe_error(peer, msg.request_id, SubErr.NOT_SUPPORTED, str(exc))
            return
        track = self.tracks.get((ns, msg.track_name))
        if track is not None and track.publisher is not None:
            try:
                target = self._route(track, capability, wanted)
            except BridgeUnavailable as exc:
                self._subscribe_error(peer, msg.request_id, SubErr.NOT_SUPPORTED, str(exc))
                return
            if target is not None:
                self._attach(peer, msg, target)
                return
        upstream = self._announcer(ns)
        if track is None and upstream is not None and upstream is not peer:
            self._spawn(self._subscribe_upstream(upstream, peer, msg, capability))
            return
        self._hold(peer, msg, capability)

    def _hold(self, peer: PeerState, msg: wire.Subscribe, capability: str | None) -> None:
        held = Held(peer, msg, capability)
        if msg.filter_type in (wire.FilterType.ABSOLUTE_START, wire.FilterType.ABSOLUTE_RANGE):
            assert msg.start_location is not None
            held.start = (msg.start_location.group, msg.start_location.object_)
            held.end_group = msg.end_group
        timeout = self.config.limits.held_subscribe_timeout_s
        held.timer = peer.session.loop.call_later(timeout, self._held_timeout, peer, msg.request_id)
        peer.held[msg.request_id] = held
        log.info(
            "subscribe held session=%d request_id=%d namespace=%s track=%r",
            peer.session.id,
            msg.request_id,
            ns_text(msg.track_namespace.fields),
            msg.track_name,
        )

    def _held_timeout(self, peer: PeerState, request_id: int) -> None:
        held = peer.held.pop(request_id, None)
        if held is not None:
            log.info("held subscribe timed out session=%d request_id=%d", peer.session.id, request_id)
            self._subscribe_error(peer, request_id, SubErr.TRACK_DOES_NOT_EXIST, "no publisher appeared in time")

    def _satisfy_held(self, track: RelayTrack) -> None:
        for peer in list(self.peers.values()):
            for rid, held in list(peer.held.items()):
                msg = held.msg
                if (tuple(msg.track_namespace.fields), msg.track_name) != track.key:
                    continue
                refusal: str | None = None
                try:
                    target = self._route(track, held.capability, parse_tag(held.capability))
                except (UnsupportedShape, BridgeUnavailable) as exc:
                    target, refusal = None, str(exc)
                if target is None and refusal is None:
                    continue
                del peer.held[rid]
                if held.timer is not None:
                    held.timer.cancel()
                if target is None:
                    self._subscribe_error(peer, rid, SubErr.NOT_SUPPORTED, str(refusal))
                else:
                    self._attach(peer, msg, target, held=held)

    def _route(self, track: RelayTrack, capability: str | None, wanted: AudioFormat | None) -> RelayTrack | None:
        """What a subscriber asking for `capability` attaches to: the track itself, the output of a transcoding
        stage (the AudioBridge: both are voice shapes and differ), or None (no match: the SUBSCRIBE waits)."""
        if capability in (None, track.capability):
            return track
        if wanted is None:
            return None
        try:
            have = parse_tag(track.capability)
        except UnsupportedShape:  # an upstream's tag (PUBLISH_NAMESPACE path) that no stage can read
            return None
        if have is None:
            return None
        return track if have == wanted else self.bridge.output_for(track, have, wanted)

    def _attach(
        self,
        peer: PeerState,
        msg: wire.Subscribe,
        track: RelayTrack,
        *,
        take_all: bool = False,
        held: Held | None = None,
    ) -> None:
        alias = peer.next_alias()
        order = msg.group_order or track.group_order
        metrics = track.metrics
        priority = held.subscriber_priority if held is not None else None
        forward = held.forward if held is not None else None
        out = OutboundTrack(
            peer.session,
            msg.request_id,
            alias,
            subscriber_priority=msg.subscriber_priority if priority is None else priority,
            group_order=order,
            forward=bool(msg.forward if forward is None else forward),
            on_drop=lambda n, b: metrics.dropped(n, b),
            on_sent=metrics.object_out,
            on_queue=self.metrics.queue_changed,
        )
        sub = Subscriber(peer, msg.request_id, out)
        largest = track.largest
        if msg.filter_type == wire.FilterType.NEXT_GROUP_START:
            sub.start = (largest[0] + 1, 0) if largest else (0, 0)
        elif msg.filter_type == wire.FilterType.LARGEST_OBJECT:
            sub.start = (largest[0], largest[1] + 1) if largest and not take_all else (0, 0)
        else:
            assert msg.start_location is not None
            sub.start = (msg.start_location.group, msg.start_location.object_)
            sub.end_group = msg.end_group
        if held is not None:  # the window SUBSCRIBE_UPDATEs narrowed it to while it waited
            sub.start = max(sub.start, held.start)
            if held.end_group is not None:
                sub.end_group = held.end_group if sub.end_group is None else min(sub.end_group, held.end_group)
        peer.session.add_outbound(out)
        peer.subscriptions[msg.request_id] = track
        track.subscribers[(peer.session.id, msg.request_id)] = sub
        peer.session.send(
            wire.SubscribeOk(
                request_id=msg.request_id,
                track_alias=alias,
                expires=0,
                group_order=order,
                content_exists=int(largest is not None),
                largest_location=wire.Location(group=largest[0], object_=largest[1]) if largest else None,
                parameters=capability_params(track.capability),
            )
        )
        # Late joiners with an absolute start get what the cache still holds.
        if msg.filter_type in (wire.FilterType.ABSOLUTE_START, wire.FilterType.ABSOLUTE_RANGE):
            for cached in track.cache:
                if sub.accepts(cached.group, cached.object_id):
                    out.push(cached)
        log.info(
            "subscribed session=%d request_id=%d alias=%d namespace=%s track=%r",
            peer.session.id,
            msg.request_id,
            alias,
            ns_text(track.key[0]),
            track.key[1],
        )

    def _subscribe_error(self, peer: PeerState, request_id: int, code: int, reason: str) -> None:
        peer.session.send(
            wire.SubscribeError(request_id=request_id, error_code=code, error_reason=reason_phrase(reason))
        )

    def _refuse(self, peer: PeerState, what: str, ns: Sequence[bytes]) -> None:
        self.metrics.auth_refused(f"{what}_not_granted")
        log.warning("request refused session=%d request=%s namespace=%s", peer.session.id, what, ns_text(ns))

    def _subscribe_update(self, peer: PeerState, msg: wire.SubscribeUpdate) -> None:
        """Narrow a live subscription: the start may only move forward and the end only come closer."""
        target = msg.subscription_request_id
        track = peer.subscriptions.get(target)
        sub = track.subscribers.get((peer.session.id, target)) if track is not None else None
        if sub is not None:
            sub.start, sub.end_group = _narrowed(msg, sub.start, sub.end_group)
            sub.out.subscriber_priority = msg.subscriber_priority
            sub.out.forward = bool(msg.forward)
            return
        held = peer.held.get(target)
        if held is None:
            raise ProtocolViolation(
                Code.PROTOCOL_VIOLATION,
                f"SUBSCRIBE_UPDATE of unknown subscription {target}",
                message_type="subscribe_update",
                request_id=msg.request_id,
            )
        # Nothing flows yet: keep the narrowing for the SUBSCRIBE_OK and forwarding once the publisher comes.
        held.start, held.end_group = _narrowed(msg, held.start, held.end_group)
        held.subscriber_priority, held.forward = msg.subscriber_priority, msg.forward

    def _unsubscribe(self, peer: PeerState, msg: wire.Unsubscribe) -> None:
        track = peer.subscriptions.pop(msg.request_id, None)
        if track is not None:
            track.subscribers.pop((peer.session.id, msg.request_id), None)
        held = peer.held.pop(msg.request_id, None)
        if held is not None and held.timer is not None:
            held.timer.cancel()

    def end_track(self, track: RelayTrack, status: int, reason: str) -> None:
        """The track is over: tell every subscriber (PUBLISH_DONE) and forget it."""
        if self.tracks.get(track.key) is track:
            del self.tracks[track.key]
        if track.orphan_timer is not None:
            track.orphan_timer.cancel()
        code = status if status >= 0 else wire.PublishDoneStatusCode.GOING_AWAY
        for sub in list(track.subscribers.values()):
            self.end_subscription(sub, track, code, reason)
        for tap in list(track.taps):
            tap.on_done(code, reason)

    def end_subscription(self, sub: Subscriber, track: RelayTrack, code: int, reason: str) -> None:
        """PUBLISH_DONE to one subscriber, after its queue's last objects."""
        track.subscribers.pop((sub.peer.session.id, sub.request_id), None)
        sub.peer.subscriptions.pop(sub.request_id, None)
        stream_count = sub.out.final_stream_count
        sub.out.finish()
        sub.peer.session.send(
            wire.PublishDone(
                request_id=sub.request_id,
                status_code=code,
                stream_count=stream_count,
                error_reason=reason_phrase(reason),
            )
        )

    def orphan(self, track: RelayTrack) -> None:
        """The publisher's session went away: keep subscribers for a reconnect, up to the hold timeout."""
        if track.orphan_timer is None:
            loop = asyncio.get_running_loop()
            timeout = self.config.limits.held_subscribe_timeout_s
            track.orphan_timer = loop.call_later(timeout, self.end_track, track, -1, "publisher went away")

    # ---- namespaces ----

    def _announcer(self, ns: Sequence[bytes]) -> PeerState | None:
        best: PeerState | None = None
        best_len = -1
        for prefix, peer in self.announced.items():
            if has_prefix(ns, prefix) and len(prefix) > best_len:
                best, best_len = peer, len(prefix)
        return best

    def _publish_namespace(self, peer: PeerState, msg: wire.PublishNamespace) -> None:
        assert peer.grant is not None
        ns = tuple(msg.track_namespace.fields)
        if not peer.grant.may_publish(ns):
            self._refuse(peer, "publish_namespace", ns)
            peer.session.send(
                wire.PublishNamespaceError(
                    request_id=msg.request_id,
                    error_code=wire.PublishNamespaceErrorCode.UNAUTHORIZED,
                    error_reason=reason_phrase(f"token does not allow publishing {ns_text(ns)}"),
                )
            )
            return
        self.announced[ns] = peer
        peer.namespaces.add(ns)
        peer.session.send(wire.PublishNamespaceOk(request_id=msg.request_id))
        for other in list(self.peers.values()):
            if other is not peer and any(has_prefix(ns, p) for p in other.namespace_subs):
                self._forward_namespace(other, ns)
            for rid, held in list(other.held.items()):
                if other is not peer and has_prefix(held.msg.track_namespace.fields, ns):
                    del other.held[rid]
                    if held.timer is not None:
                        held.timer.cancel()
                    self._spawn(self._subscribe_upstream(peer, other, held.msg, held.capability))

    def _publish_namespace_done(self, peer: PeerState, msg: wire.PublishNamespaceDone) -> None:
        ns = tuple(msg.track_namespace.fields)
        peer.namespaces.discard(ns)
        if self.announced.get(ns) is peer:
            del self.announced[ns]

    def _forward_namespace(self, peer: PeerState, ns: tuple[bytes, ...]) -> None:
        def build(rid: int) -> wire.PublishNamespace:
            return wire.PublishNamespace(
                request_id=rid, track_namespace=wire.TrackNamespace(fields=list(ns)), parameters=[]
            )

        self._spawn(self._quiet_request(peer, build))

    async def _quiet_request(self, peer: PeerState, build: Any) -> Any:
        try:
            return await peer.session.request(build)
        except (RequestError, TimeoutError, Exception) as exc:
            log.info("relay request to session=%d not accepted: %s", peer.session.id, exc)
            return None

    async def _subscribe_upstream(
        self, upstream: PeerState, peer: PeerState, msg: wire.Subscribe, capability: str | None
    ) -> None:
        """Subscribe to a PUBLISH_NAMESPACE'd publisher on behalf of `peer`, then attach `peer`."""
        key = (tuple(msg.track_namespace.fields), msg.track_name)
        assert upstream.grant is not None
        track = self.tracks.get(key)
        if track is None:
            track = RelayTrack(self, key, capability, upstream.grant.tenant)
            self.tracks[key] = track

            def build(rid: int) -> wire.Subscribe:
                track.request_id = track.publisher_request_id = rid
                return wire.Subscribe(
                    request_id=rid,
                    track_namespace=msg.track_namespace,
                    track_name=msg.track_name,
                    subscriber_priority=msg.subscriber_priority,
                    group_order=wire.GroupOrder.PUBLISHER_ORDER,
                    forward=1,
                    filter_type=wire.FilterType.LARGEST_OBJECT,
                    parameters=[],
                )

            try:
                ok = await upstream.session.request(build)
            except RequestError as exc:
                self.tracks.pop(key, None)
                self._subscribe_error(peer, msg.request_id, exc.code, exc.reason)
                return
            except Exception as exc:  # the upstream went away or timed out
                self.tracks.pop(key, None)
                self._subscribe_error(peer, msg.request_id, SubErr.TIMEOUT, f"upstream: {exc}")
                return
            track.publisher = upstream
            track.publisher_alias = ok.track_alias
            track.group_order = ok.group_order
            track.capability = capability_of(ok.parameters)
            if ok.content_exists and ok.largest_location is not None:
                track.largest = (ok.largest_location.group, ok.largest_location.object_)
            upstream.published.add(key)
            # The upstream already applied the Largest Object filter: everything it sends is new, so
            # the first subscriber takes all of it, including objects that raced the SUBSCRIBE_OK and
            # wait parked until the alias is added below.
            if peer.session in self.peers:
                self._attach_routed(peer, msg, track, capability, first=True)
            upstream.session.add_inbound(ok.track_alias, track)
            self._satisfy_held(track)
            return
        if peer.session in self.peers:
            if track.publisher is None:
                self._hold(peer, msg, capability)
            else:
                self._attach_routed(peer, msg, track, capability)
                self._satisfy_held(track)

    def _attach_routed(
        self, peer: PeerState, msg: wire.Subscribe, track: RelayTrack, capability: str | None, *, first: bool = False
    ) -> None:
        """Attach to an upstream's track (PUBLISH_NAMESPACE path), through a transcoding stage when the subscriber asked
        for another voice shape than the one the upstream's SUBSCRIBE_OK declared. A shape the bridge cannot read on
        either side leaves the subscriber on the track itself, as before the bridge."""
        try:
            target = self._route(track, capability, parse_tag(capability))
        except (UnsupportedShape, BridgeUnavailable) as exc:
            self._subscribe_error(peer, msg.request_id, SubErr.NOT_SUPPORTED, str(exc))
            return
        if target is None or target is track:
            self._attach(peer, msg, track, take_all=first and msg.filter_type == wire.FilterType.LARGEST_OBJECT)
        else:
            self._attach(peer, msg, target)

    def _subscribe_namespace(self, peer: PeerState, msg: wire.SubscribeNamespace) -> None:
        assert peer.grant is not None
        prefix = tuple(msg.track_namespace_prefix.fields)
        err = wire.SubscribeNamespaceErrorCode
        if not peer.grant.may_subscribe(prefix):
            self._refuse(peer, "subscribe_namespace", prefix)
            code, reason = err.UNAUTHORIZED, f"token does not allow {ns_text(prefix)}"
        elif any(has_prefix(prefix, p) or has_prefix(p, prefix) for p in peer.namespace_subs):
            code, reason = err.NAMESPACE_PREFIX_OVERLAP, "overlaps an active SUBSCRIBE_NAMESPACE"
        else:
            capability = capability_of(msg.parameters)
            peer.namespace_subs[prefix] = capability
            peer.session.send(wire.SubscribeNamespaceOk(request_id=msg.request_id))
            for ns, announcer in list(self.announced.items()):
                if announcer is not peer and has_prefix(ns, prefix):
                    self._forward_namespace(peer, ns)
            for track in list(self.tracks.values()):
                if track.publisher is not None and track.publisher is not peer and has_prefix(track.key[0], prefix):
                    self._offer(peer, track, capability)
            return
        peer.session.send(
            wire.SubscribeNamespaceError(request_id=msg.request_id, error_code=code, error_reason=reason_phrase(reason))
        )

    def _unsubscribe_namespace(self, peer: PeerState, msg: wire.UnsubscribeNamespace) -> None:
        peer.namespace_subs.pop(tuple(msg.track_namespace_prefix.fields), None)

    def _offer_to_namespace_subscribers(self, track: RelayTrack) -> None:
        for peer in list(self.peers.values()):
            if peer is track.publisher:
                continue
            for prefix, capability in peer.namespace_subs.items():
                if has_prefix(track.key[0], prefix):
                    self._offer(peer, track, capability)
                    break

    def _offer(self, peer: PeerState, track: RelayTrack, capability: str | None) -> None:
        """Route on intent: PUBLISH the track to a namespace subscriber whose capability filter matches."""
        if capability is not None and capability != track.capability:
            return
        if any(t is track for t in peer.subscriptions.values()):
            return
        self._spawn(self._offer_task(peer, track))

    async def _offer_task(self, peer: PeerState, track: RelayTrack) -> None:
        alias = peer.next_alias()
        largest = track.largest

        def build(rid: int) -> wire.Publish:
            return wire.Publish(
                request_id=rid,
                track_namespace=wire.TrackNamespace(fields=list(track.key[0])),
                track_name=track.key[1],
                track_alias=alias,
                group_order=track.group_order,
                content_exists=int(largest is not None),
                largest_location=wire.Location(group=largest[0], object_=largest[1]) if largest else None,
                forward=1,
                parameters=capability_params(track.capability),
            )

        ok = await self._quiet_request(peer, build)
        if ok is None or peer.session not in self.peers or self.tracks.get(track.key) is not track:
            return
        sub_msg = wire.Subscribe(
            request_id=ok.request_id,
            track_namespace=wire.TrackNamespace(fields=list(track.key[0])),
            track_name=track.key[1],
            subscriber_priority=ok.subscriber_priority,
            group_order=ok.group_order,
            forward=ok.forward,
            filter_type=ok.filter_type,
            start_location=ok.start_location,
            end_group=ok.end_group,
            parameters=[],
        )
        metrics = track.metrics
        out = OutboundTrack(
            peer.session,
            ok.request_id,
            alias,
            subscriber_priority=ok.subscriber_priority,
            group_order=ok.group_order or track.group_order,
            forward=bool(ok.forward),
            on_drop=lambda n, b: metrics.dropped(n, b),
            on_sent=metrics.object_out,
            on_queue=self.metrics.queue_changed,
        )
        sub = Subscriber(peer, ok.request_id, out)
        if sub_msg.filter_type in (wire.FilterType.ABSOLUTE_START, wire.FilterType.ABSOLUTE_RANGE):
            assert ok.start_location is not None
            sub.start = (ok.start_location.group, ok.start_location.object_)
            sub.end_group = ok.end_group
        elif track.largest is not None:
            sub.start = (track.largest[0], track.largest[1] + 1)
        peer.session.add_outbound(out)
        peer.subscriptions[ok.request_id] = track
        track.subscribers[(peer.session.id, ok.request_id)] = sub

    # ---- FETCH and TRACK_STATUS ----

    def _fetch(self, peer: PeerState, msg: wire.Fetch) -> None:
        assert peer.grant is not None
        check_group_order(msg.group_order, allow_publisher=True, name="fetch", request_id=msg.request_id)
        ferr = wire.FetchErrorCode
        if msg.fetch_type == wire.FetchType.STANDALONE:
            assert msg.track_namespace is not None and msg.track_name is not None
            assert msg.start_location is not None and msg.end_location is not None
            ns = tuple(msg.track_namespace.fields)
            track = self.tracks.get((ns, msg.track_name))
            start = (msg.start_location.group, msg.start_location.object_)
            end = (msg.end_location.group, msg.end_location.object_)
            if end[1] == 0:
                end = (end[0] + 1, 0)  # End.Object 0 means the whole End group
            if end < start:
                self._fetch_error(peer, msg.request_id, ferr.INVALID_RANGE, "end before start")
                return
        else:
            track = peer.subscriptions.get(msg.joining_request_id or 0)
            sub = track.subscribers.get((peer.session.id, msg.joining_request_id or 0)) if track else None
            if track is None or sub is None:
                self._fetch_error(peer, msg.request_id, ferr.INVALID_JOINING_REQUEST_ID, "no such subscription")
                return
            ns = track.key[0]
            largest = (sub.start[0], sub.start[1] - 1)
            if sub.start == (0, 0) or track.largest is None:
                self._fetch_error(peer, msg.request_id, ferr.INVALID_RANGE, "the subscription has no content")
                return
            joining = msg.joining_start or 0
            first_group = largest[0] - joining if msg.fetch_type == wire.FetchType.RELATIVE_JOINING else joining
            start = (max(first_group, 0), 0)
            end = (largest[0], largest[1] + 1)
        if not peer.grant.may_subscribe(ns):
            self._refuse(peer, "fetch", ns)
            self._fetch_error(peer, msg.request_id, ferr.UNAUTHORIZED, f"token does not allow {ns_text(ns)}")
            return
        if track is None:
            self._fetch_error(peer, msg.request_id, ferr.TRACK_DOES_NOT_EXIST, "no such track")
            return
        objects = [o for o in track.cache if start <= (o.group, o.object_id) < end and not o.datagram]
        if msg.group_order == wire.GroupOrder.DESCENDING:
            objects.sort(key=lambda o: (-o.group, o.object_id))
        last = (objects[-1].group, objects[-1].object_id + 1) if objects else start
        end_location = min(end, last) if objects else end
        peer.session.send(
            wire.FetchOk(
                request_id=msg.request_id,
                group_order=msg.group_order or track.group_order,
                end_of_track=0,
                end_location=wire.Location(group=end_location[0], object_=end_location[1]),
                parameters=[],
            )
        )
        transport = peer.session.transport
        stream_id = peer.session.open_fetch_stream(msg.request_id)
        data = bytearray(wire.FetchHeader(type_=0x05, request_id=msg.request_id).encode())
        for o in objects:
            data += wire.FetchObject(
                group_id=o.group,
                subgroup_id=o.subgroup,
                object_id=o.object_id,
                publisher_priority=o.publisher_priority,
                extension_headers=o.extensions or [],
                object_status=wire.ObjectStatus(o.status) if not o.payload else None,
                payload=o.payload,
            ).encode()
            track.metrics.object_out(len(o.payload))
        transport.send_stream(stream_id, bytes(data), end=True)
        transport.transmit()

    def _fetch_error(self, peer: PeerState, request_id: int, code: int, reason: str) -> None:
        peer.session.send(wire.FetchError(request_id=request_id, error_code=code, error_reason=reason_phrase(reason)))

    def _track_status(self, peer: PeerState, msg: wire.TrackStatus) -> None:
        assert peer.grant is not None
        ns = tuple(msg.track_namespace.fields)
        track = self.tracks.get((ns, msg.track_name))
        if not peer.grant.may_subscribe(ns):
            code, reason = SubErr.UNAUTHORIZED, f"token does not allow {ns_text(ns)}"
        elif track is None:
            code, reason = SubErr.TRACK_DOES_NOT_EXIST, "no such track"
        else:
            largest = track.largest
            peer.session.send(
                wire.TrackStatusOk(
                    request_id=msg.request_id,
                    track_alias=0,
                    expires=0,
                    group_order=track.group_order,
                    content_exists=int(largest is not None),
                    largest_location=wire.Location(group=largest[0], object_=largest[1]) if largest else None,
                    parameters=capability_params(track.capability),
                )
            )
            return
        peer.session.send(
            wire.TrackStatusError(request_id=msg.request_id, error_code=code, error_reason=reason_phrase(reason))
        )

    _handlers: dict[int, Any] = {
        T.PUBLISH: _publish,
        T.SUBSCRIBE: _subscribe,
        T.SUBSCRIBE_UPDATE: _subscribe_update,
        T.UNSUBSCRIBE: _unsubscribe,
        T.PUBLISH_NAMESPACE: _publish_namespace,
        T.PUBLISH_NAMESPACE_DONE: _publish_namespace_done,
        T.SUBSCRIBE_NAMESPACE: _subscribe_namespace,
        T.UNSUBSCRIBE_NAMESPACE: _unsubscribe_namespace,
        T.FETCH: _fetch,
        T.TRACK_STATUS: _track_status,
    }
