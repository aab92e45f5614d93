"""One MoQT session state machine for both roles (client and server), over any `Transport`.

The session owns what the draft says about a session: setup and version negotiation, request IDs
(parity, order, MAX_REQUEST_ID, REQUESTS_BLOCKED), GOAWAY, the control stream (parsed by the
generated ControlParser), data streams and datagrams (the generated DataParser and codecs), and
the send scheduler. What a request *means* (relay routing, a client's publications) belongs to a
`SessionHandler`. Every violation closes the session with the draft's termination code and one
log line saying what and where.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from clutchcall.errors import DecodeError
from clutchcall.wire import moqt_d14 as wire

from .errors import AuthenticationError, NotAuthorizedError, ProtocolViolation, RequestError, SessionClosedError
from .transport import DEFAULT_MAX_UNI_STREAMS, Transport
from .versions import CAPABILITY_PARAMETER, DEFAULT, Draft

log = logging.getLogger("clutchcall.moqt.session")

Code = wire.SessionTerminationCode
T = wire.ControlMessageType

# Messages that open a request and so take the next request ID of their sender.
_REQUESTS = frozenset(
    {T.SUBSCRIBE, T.SUBSCRIBE_UPDATE, T.SUBSCRIBE_NAMESPACE, T.PUBLISH, T.PUBLISH_NAMESPACE, T.TRACK_STATUS, T.FETCH}
)
# Answers to a request of ours, by the type that answers successfully; errors are listed separately.
_ANSWERS_OK = frozenset(
    {T.SUBSCRIBE_OK, T.PUBLISH_OK, T.FETCH_OK, T.TRACK_STATUS_OK, T.PUBLISH_NAMESPACE_OK, T.SUBSCRIBE_NAMESPACE_OK}
)
_ANSWERS_ERROR = frozenset(
    {
        T.SUBSCRIBE_ERROR,
        T.PUBLISH_ERROR,
        T.FETCH_ERROR,
        T.TRACK_STATUS_ERROR,
        T.PUBLISH_NAMESPACE_ERROR,
        T.SUBSCRIBE_NAMESPACE_ERROR,
    }
)
# Each request error code set's UNAUTHORIZED is 0x1.
_UNAUTHORIZED = 0x1
FULL_TRACK_NAME_MAX = 4096
# SUBGROUP_HEADER type bits (the table of section 10.4.2 read as flags).
_HDR_EXTENSIONS = 0x01
_HDR_FIRST_OBJECT_ID = 0x02
_HDR_EXPLICIT_ID = 0x04
DEFAULT_STREAM_TYPE = 0x14  # explicit subgroup ID, no extensions


def message_name(code: int) -> str:
    return T.name_of(code) or f"{code:#x}"


@dataclass(frozen=True, slots=True)
class SessionLimits:
    """Every bound of one session. The engine fills these from its config; the defaults suit a client."""

    control_buffer: int = 65535 + 16  # one whole control message (16-bit length) plus its header
    data_stream_buffer: int = 256 * 1024  # one unfinished object on one data stream
    max_inbound_streams: int = DEFAULT_MAX_UNI_STREAMS  # data streams open at once from the peer (QUIC says so too)
    request_window: int = 64  # requests the peer may have outstanding beyond the last one seen
    max_active_requests: int = 256  # no more request IDs are granted past this many live requests
    send_budget: int = 64 * 1024  # bytes aioquic may hold unacknowledged; beyond, objects wait in our queues
    queue_max_bytes: int = 16 * 1024  # per outbound track: about 200 ms of audio is far less
    queue_max_ms: float = 200.0  # per outbound track: the age of the oldest queued object
    setup_timeout: float = 10.0
    request_timeout: float = 10.0
    max_parked_streams: int = 16  # data streams waiting for their track alias to become known
    parked_timeout: float = 2.0
    keepalive: float = 10.0  # PING interval; keep it under a third of either side's QUIC idle timeout
    max_fetch_streams: int = 64  # FETCH streams we remember for FETCH_CANCEL; the oldest is forgotten first
    auth_token_cache_bytes: int = 0  # token values the peer may REGISTER under aliases (MAX_AUTH_TOKEN_CACHE_SIZE)


@dataclass(slots=True)
class MoqObject:
    """One object as delivered to the application or the relay."""

    group: int
    subgroup: int
    object_id: int
    publisher_priority: int
    payload: bytes
    status: int = 0
    extensions: list[wire.KeyValuePair] | None = None
    datagram: bool = False
    stream_type: int = DEFAULT_STREAM_TYPE


# What an object costs in the queue and cache bounds beyond its payload: its SubgroupObject header (object ID
# delta, payload length, status) and the stream bookkeeping. Objects with extension headers count their encoding.
OBJECT_OVERHEAD_BYTES = 16


@dataclass(slots=True)
class OutObject:
    """An object encoded at most once and shared (not copied) by every outbound queue it is pushed to.

    `body` is the SubgroupObject encoding whose delta follows `prev_object_id` in the same subgroup; a
    subscriber whose stream does not continue from that object re-encodes just this one. It is made on first
    use: an object that only feeds in-process taps (the AudioBridge) or the relay's cache is never encoded.
    `size`, what the bounds count, is fixed when the object is made.
    """

    group: int
    subgroup: int
    object_id: int
    publisher_priority: int
    stream_type: int
    payload: bytes
    status: int = 0
    extensions: list[wire.KeyValuePair] | None = None
    prev_object_id: int | None = None
    datagram: bool = False
    size: int = field(init=False)
    _body: bytes | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.extensions and not self.datagram:
            self.size = len(self.body)
        else:
            self.size = len(self.payload) + OBJECT_OVERHEAD_BYTES

    @property
    def body(self) -> bytes:
        if self._body is None:
            delta = self.object_id if self.prev_object_id is None else self.object_id - self.prev_object_id - 1
            self._body = self.encode_with_delta(delta)
        return self._body

    def encode_with_delta(self, delta: int) -> bytes:
        has_ext = bool(self.stream_type & _HDR_EXTENSIONS)
        return wire.SubgroupObject(
            object_id_delta=delta,
            extension_headers=(self.extensions or []) if has_ext else None,
            object_status=wire.ObjectStatus(self.status) if not self.payload else None,
            payload=self.payload,
        ).encode(has_extensions=has_ext)


@dataclass(frozen=True, slots=True)
class EndOfSubgroup:
    """The publisher finished a subgroup's stream: FIN ours."""

    group: int
    subgroup: int
    size: int = 0


_Item = OutObject | EndOfSubgroup


@dataclass(slots=True)
class _OutStream:
    stream_id: int
    last_object_id: int


@dataclass(slots=True)
class DropStats:
    objects: int = 0
    bytes: int = 0
    groups: int = 0


class OutboundTrack:
    """Objects we send for one subscription (a SUBSCRIBE we accepted or a PUBLISH of ours).

    A queue bounded in bytes and age: when full, the OLDEST WHOLE GROUP goes (its open streams are
    reset with DELIVERY_TIMEOUT, later objects of it are dropped too) and the drop is counted. The
    session's scheduler pulls from it only while the transport has room, so a slow peer costs at
    most this queue, never the publisher's time.
    """

    def __init__(
        self,
        session: Session,
        request_id: int,
        alias: int,
        *,
        subscriber_priority: int = 128,
        group_order: int = wire.GroupOrder.ASCENDING,
        forward: bool = True,
        on_drop: Callable[[int, int], None] | None = None,
        on_sent: Callable[[int], None] | None = None,
        on_queue: Callable[[int], None] | None = None,
    ) -> None:
        self.session = session
        self.request_id = request_id
        self.alias = alias
        self.subscriber_priority = subscriber_priority
        self.group_order = group_order
        self.forward = forward
        self.on_drop = on_drop  # (objects, bytes) dropped by the queue bound
        self.on_sent = on_sent  # bytes of one object written
        self.on_queue = on_queue  # change in queued objects
        self.queued_objects = 0
        self.groups: dict[int, deque[tuple[float, _Item]]] = {}
        self.queued_bytes = 0
        self.streams: dict[tuple[int, int], _OutStream] = {}
        self.stream_count = 0
        self.dropped = DropStats()
        self.dropped_through = -1  # groups at or below this were dropped whole
        self.objects_sent = 0
        self.bytes_sent = 0
        self.largest: tuple[int, int] | None = None
        self.closed = False
        self.finishing = False  # no more objects: close once the queue has drained

    # -- producer side --

    def push(self, item: _Item) -> None:
        if self.closed or self.finishing or not self.forward:
            return
        group = item.group
        if group <= self.dropped_through:
            self._count_drop(item)
            return
        now = self.session.loop.time()
        queue = self.groups.get(group)
        if queue is None:
            queue = self.groups[group] = deque()
        queue.append((now, item))
        self.queued_bytes += item.size
        self._queue_delta(1)
        self._enforce_bounds(now)
        if self.groups:
            self.session._ready(self)

    def _enforce_bounds(self, now: float) -> None:
        # Twice per object (push and send): the usual queue is one group, whose first object is the oldest.
        limits = self.session.limits
        groups = self.groups
        while groups:
            if self.queued_bytes <= limits.queue_max_bytes:
                oldest = next(iter(groups.values()))[0][0] if len(groups) == 1 else self._oldest_time()
                if (now - oldest) * 1000.0 <= limits.queue_max_ms:
                    return
            self._drop_group(min(groups))

    def _queue_delta(self, n: int) -> None:
        self.queued_objects += n
        if self.on_queue is not None:
            self.on_queue(n)

    def _oldest_time(self) -> float:
        return min(q[0][0] for q in self.groups.values())

    def _count_drop(self, item: _Item) -> None:
        if isinstance(item, OutObject):
            self.dropped.objects += 1
            self.dropped.bytes += item.size
            if self.on_drop is not None:
                self.on_drop(1, item.size)

    def _drop_group(self, group: int) -> None:
        dropped = self.groups.pop(group)
        self._queue_delta(-len(dropped))
        for _, item in dropped:
            self.queued_bytes -= item.size
            self._count_drop(item)
        self.dropped.groups += 1
        self.dropped_through = max(self.dropped_through, group)
        for key in [k for k in self.streams if k[0] <= group]:
            stream = self.streams.pop(key)
            self.session.transport.reset_stream(stream.stream_id, wire.DataStreamResetCode.DELIVERY_TIMEOUT)

    # -- scheduler side --

    def next_group(self) -> int:
        groups = self.groups
        if len(groups) == 1:
            return next(iter(groups))
        return max(groups) if self.group_order == wire.GroupOrder.DESCENDING else min(groups)

    def key(self) -> tuple[int, int, int]:
        """Which track's next item goes first: subscriber priority, publisher priority, group order."""
        group = self.next_group()
        item = self.groups[group][0][1]
        pub = item.publisher_priority if isinstance(item, OutObject) else 0
        return (self.subscriber_priority, pub, -group if self.group_order == wire.GroupOrder.DESCENDING else group)

    def has_items(self) -> bool:
        return bool(self.groups)

    def send_next(self) -> int:
        """Write the next item; the bytes written."""
        now = self.session.loop.time()
        self._enforce_bounds(now)
        if not self.groups:
            return 0
        group = self.next_group()
        queue = self.groups[group]
        _, item = queue.popleft()
        if not queue:
            del self.groups[group]
        self.queued_bytes -= item.size
        self._queue_delta(-1)
        if self.finishing and not self.groups:
            self.session.loop.call_soon(self.close)  # after this last item is written
        transport = self.session.transport
        key = (item.group, item.subgroup)
        if isinstance(item, EndOfSubgroup):
            stream = self.streams.pop(key, None)
            if stream is not None:
                transport.send_stream(stream.stream_id, b"", end=True)
            return 0
        if item.datagram:
            data = self.session.encode_datagram(self.alias, item)
            transport.send_datagram(data)
        else:
            stream = self.streams.get(key)
            if stream is None:
                stream = self._open_stream(item)
                data = item.encode_with_delta(item.object_id)
                data = self._header(item) + data
            elif item.prev_object_id == stream.last_object_id:
                data = item.body
            else:
                data = item.encode_with_delta(item.object_id - stream.last_object_id - 1)
            stream.last_object_id = item.object_id
            transport.send_stream(stream.stream_id, data)
        self.objects_sent += 1
        self.bytes_sent += len(data)
        if self.largest is None or (item.group, item.object_id) > self.largest:
            self.largest = (item.group, item.object_id)
        if self.on_sent is not None:
            self.on_sent(len(data))
        return len(data)

    def _open_stream(self, item: OutObject) -> _OutStream:
        # A new group closes the previous groups' streams of this track (one stream per subgroup).
        for old in [k for k in self.streams if k[0] < item.group]:
            self.session.transport.send_stream(self.streams.pop(old).stream_id, b"", end=True)
        stream = _OutStream(self.session.transport.open_uni_stream(), -1)
        self.streams[(item.group, item.subgroup)] = stream
        self.stream_count += 1
        return stream

    def _header(self, item: OutObject) -> bytes:
        stream_type = item.stream_type
        if stream_type & _HDR_FIRST_OBJECT_ID and item.subgroup != item.object_id:
            # joined mid-subgroup: the implied ID would be wrong, so name it explicitly
            stream_type = (stream_type & ~_HDR_FIRST_OBJECT_ID) | _HDR_EXPLICIT_ID
        explicit = bool(stream_type & _HDR_EXPLICIT_ID)
        return wire.SubgroupHeader(
            type_=stream_type,
            track_alias=self.alias,
            group_id=item.group,
            subgroup_id=item.subgroup if explicit else None,
            publisher_priority=item.publisher_priority,
        ).encode()

    @property
    def final_stream_count(self) -> int:
        """Streams opened so far plus those the queued objects will open (PUBLISH_DONE's Stream Count)."""
        pending = {
            (i.group, i.subgroup)
            for q in self.groups.values()
            for _, i in q
            if isinstance(i, OutObject) and not i.datagram and (i.group, i.subgroup) not in self.streams
        }
        return self.stream_count + len(pending)

    def finish(self) -> None:
        """Send what is queued, then FIN every stream and leave the session."""
        self.finishing = True
        if not self.groups:
            self.close()

    def close(self, *, finish_streams: bool = True) -> None:
        if self.closed:
            return
        self.closed = True
        if self.session.outbound.get(self.request_id) is self:
            del self.session.outbound[self.request_id]
        for stream in self.streams.values():
            if finish_streams:
                self.session.transport.send_stream(stream.stream_id, b"", end=True)
            else:
                self.session.transport.reset_stream(stream.stream_id, wire.DataStreamResetCode.CANCELLED)
        self.streams.clear()
        self.groups.clear()
        self._queue_delta(-self.queued_objects)
        self.queued_bytes = 0


class InboundSink(Protocol):
    """Where a session delivers the objects of one inbound track (or fetch)."""

    def on_object(self, obj: MoqObject) -> None: ...
    def on_subgroup_end(self, group: int, subgroup: int, reset: bool) -> None: ...
    def on_done(self, status: int, reason: str) -> None: ...


@dataclass(slots=True)
class _InStream:
    parser: wire.DataParser
    sink: InboundSink | None = None
    header: wire.SubgroupHeader | None = None
    group: int = 0
    subgroup: int | None = None
    last_object_id: int = -1
    ignored: bool = False
    alias: int | None = None  # the subgroup stream's track, once its sink is known
    # A stream whose alias is not known yet (its SUBSCRIBE_OK or PUBLISH may still be in flight):
    # objects wait here, bounded in bytes, until the alias is added or the wait times out.
    parked_alias: int | None = None
    backlog: list[MoqObject] | None = None
    backlog_bytes: int = 0
    ended: bool = False


class SessionHandler(Protocol):
    """The role on top of the session: what requests mean."""

    def on_setup(self, session: Session, token: bytes | None) -> None:
        """Server: CLIENT_SETUP arrived with this token; raise ProtocolViolation to refuse."""

    def on_message(self, session: Session, code: int, msg: Any) -> None:
        """A control message the session does not consume itself (new requests, UNSUBSCRIBE, ...)."""

    def on_closed(self, session: Session, code: int, reason: str, by_peer: bool) -> None: ...


def param_bytes(params: Sequence[wire.KeyValuePair], kind: int) -> bytes | None:
    for p in params:
        if p.type_ == kind:
            return p.bytes_value
    return None


def capability_of(params: Sequence[wire.KeyValuePair]) -> str | None:
    raw = param_bytes(params, CAPABILITY_PARAMETER)
    if raw is None:
        return None
    try:
        return raw.decode()
    except UnicodeDecodeError as exc:
        raise ProtocolViolation(Code.KEY_VALUE_FORMATTING_ERROR, "capability parameter is not UTF-8") from exc


def capability_params(capability: str | None) -> list[wire.KeyValuePair]:
    return (
        [] if capability is None else [wire.KeyValuePair(type_=CAPABILITY_PARAMETER, bytes_value=capability.encode())]
    )


def token_param(token: bytes) -> wire.KeyValuePair:
    value = wire.AuthorizationToken(alias_type=wire.AuthTokenAliasType.USE_VALUE, token_type=0, token_value=token)
    return wire.KeyValuePair(type_=wire.SetupParameter.AUTHORIZATION_TOKEN, bytes_value=value.encode())


def full_track_name_size(namespace: Sequence[bytes], name: bytes = b"") -> int:
    return sum(len(f) for f in namespace) + len(name)


def reason_phrase(text: str) -> wire.ReasonPhrase:
    return wire.ReasonPhrase(value=text.encode()[:1024].decode(errors="ignore"))


class Session:
    """A MoQT session. Create with a transport, `start()`, await `ready`."""

    _ids = itertools.count(1)

    def __init__(
        self,
        transport: Transport,
        handler: SessionHandler,
        *,
        draft: Draft = DEFAULT,
        limits: SessionLimits | None = None,
        token: bytes | None = None,
        path: str | None = None,
    ) -> None:
        self.id = next(self._ids)
        self.transport = transport
        self.handler = handler
        self.draft = draft
        self.wire = draft.codec
        self.limits = limits or SessionLimits()
        self.is_client = transport.is_client
        self.loop = asyncio.get_running_loop()
        self._token = token
        self._path = path
        self._control = self.wire.ControlParser(max_buffer=self.limits.control_buffer)
        self.ready: asyncio.Future[None] = self.loop.create_future()
        self.closed: asyncio.Future[SessionClosedError] = self.loop.create_future()
        self.setup_done = False
        # request IDs: ours, and the peer's
        self._next_id = 0 if self.is_client else 1
        self._peer_max_id = 0  # what the peer lets us use (exclusive)
        self._blocked_sent_at = -1
        self._max_id_changed = asyncio.Event()
        self._peer_next_id = 1 if self.is_client else 0
        self._granted_max_id = self._peer_next_id + 2 * self.limits.request_window
        self._pending: dict[int, tuple[int, asyncio.Future[Any]]] = {}
        self.goaway_uri: bytes | None = None
        self._goaway_sent = False
        # data
        self._inbound_by_alias: dict[int, InboundSink] = {}
        self._alias_streams: dict[int, tuple[int, int]] = {}  # alias -> (data streams seen, still open)
        self._done_pending: dict[int, tuple[int, str, int, asyncio.TimerHandle]] = {}  # after PUBLISH_DONE
        self._fetch_sinks: dict[int, InboundSink] = {}
        self._fetch_out: OrderedDict[int, int] = OrderedDict()  # our FETCH answers: request ID -> stream ID
        self._token_aliases: dict[int, bytes] = {}  # the peer's registered tokens, bounded by auth_token_cache_bytes
        self._token_cache_used = 0
        self.peer_token_cache_bytes = 0  # what the peer lets us REGISTER (its MAX_AUTH_TOKEN_CACHE_SIZE)
        self.current_request_tokens: list[bytes] = []  # what the request being dispatched authorizes itself with
        self._in_streams: dict[int, _InStream] = {}
        self.outbound: dict[int, OutboundTrack] = {}
        self._heap: list[tuple[tuple[int, int, int], int, OutboundTrack]] = []
        self._in_heap: set[OutboundTrack] = set()
        self._seq = itertools.count()
        self._pump_scheduled = False
        self.counters: dict[str, int] = {}
        self._setup_timer: asyncio.TimerHandle | None = None
        self._keepalive_timer: asyncio.TimerHandle | None = None
        # The role's count of the peer's live requests (held ones too); the session's own by default.
        self.live_requests: Callable[[], int] = lambda: len(self.outbound) + len(self._inbound_by_alias)
        transport.attach(self)

    # ---- lifecycle ----

    def start(self) -> None:
        if self.is_client:
            self.transport.open_control_stream()
            params = [wire.KeyValuePair(type_=wire.SetupParameter.MAX_REQUEST_ID, int_value=self._granted_max_id)]
            if self._path is not None and self.transport.kind == "quic":
                params.append(wire.KeyValuePair(type_=wire.SetupParameter.PATH, bytes_value=self._path.encode()))
            if self._token is not None:
                params.append(token_param(self._token))
            self.send(wire.ClientSetup(supported_versions=[self.draft.version], parameters=params))
        self._setup_timer = self.loop.call_later(self.limits.setup_timeout, self._setup_timed_out)
        self._keepalive_timer = self.loop.call_later(self.limits.keepalive, self._keepalive)

    def _keepalive(self) -> None:
        if not self.closed.done():
            self.transport.ping()
            self._keepalive_timer = self.loop.call_later(self.limits.keepalive, self._keepalive)

    def _setup_timed_out(self) -> None:
        if not self.setup_done:
            self.fail(ProtocolViolation(Code.CONTROL_MESSAGE_TIMEOUT, "no SETUP in time"))

    def count(self, what: str, n: int = 1) -> None:
        self.counters[what] = self.counters.get(what, 0) + n

    def send(self, msg: Any, code: int | None = None) -> None:
        if self.transport.closed:
            return
        self.transport.send_control(self.wire.encode_control(msg, code))
        self._pump_soon()

    def close(self, code: int = Code.NO_ERROR, reason: str = "") -> None:
        """Close the session (by us) with `code`."""
        if self.closed.done():
            return
        self.transport.close(code, reason)
        self._ended(code, reason, by_peer=False)

    def fail(self, v: ProtocolViolation) -> None:
        """Close for a violation, with one log line saying what and where."""
        if self.closed.done():
            return
        log.warning(
            "moqt session closed session=%d role=%s code=%s(%#x) reason=%r message=%s request_id=%s offset=%s",
            self.id,
            "client" if self.is_client else "server",
            Code.name_of(v.code),
            v.code,
            v.reason,
            v.message_type,
            v.request_id,
            v.offset,
        )
        self.close(v.code, v.reason)

    def _ended(self, code: int, reason: str, by_peer: bool) -> None:
        if self.closed.done():
            return
        err = SessionClosedError(code, reason, by_peer=by_peer)
        self.closed.set_result(err)
        for timer in (self._setup_timer, self._keepalive_timer):
            if timer is not None:
                timer.cancel()
        if not self.ready.done():
            if by_peer and code in (Code.UNAUTHORIZED, Code.MALFORMED_AUTH_TOKEN, Code.EXPIRED_AUTH_TOKEN):
                self.ready.set_exception(AuthenticationError(code, reason))
            else:
                self.ready.set_exception(err)
            self.ready.exception()  # retrieved here so an unawaited session logs nothing
        for _, fut in self._pending.values():
            if not fut.done():
                fut.set_exception(err)
        self._pending.clear()
        for track in list(self.outbound.values()):
            track.close(finish_streams=False)
        for _, _, _, timer in self._done_pending.values():
            timer.cancel()
        for sink in [*self._inbound_by_alias.values(), *self._fetch_sinks.values()]:
            sink.on_done(-1, f"session closed: {reason}")
        self._inbound_by_alias.clear()
        self._fetch_sinks.clear()
        self._max_id_changed.set()
        self.handler.on_closed(self, code, reason, by_peer)

    # ---- TransportEvents ----

    def on_closed(self, code: int, reason: str, by_peer: bool) -> None:
        self._ended(code, reason, by_peer)

    def on_protocol_error(self, reason: str) -> None:
        self.fail(ProtocolViolation(Code.PROTOCOL_VIOLATION, reason))

    def on_control_data(self, data: bytes, end: bool) -> None:
        if self.closed.done():
            return
        try:
            for code, msg in self._control.feed(data):
                if self.closed.done():
                    return
                self._dispatch(code, msg)
            if end:
                self._control.close()
                raise ProtocolViolation(Code.PROTOCOL_VIOLATION, "the peer closed the control stream")
        except DecodeError as exc:
            self.fail(
                ProtocolViolation(Code.PROTOCOL_VIOLATION, f"control stream: {exc.reason}: {exc}", offset=exc.offset)
            )
        except ProtocolViolation as v:
            self.fail(v)

    def on_writable(self) -> None:
        if self._heap:
            self._pump()

    # ---- control dispatch ----

    def _dispatch(self, code: int, msg: Any) -> None:
        name = message_name(code)
        if not self.setup_done:
            expected = T.SERVER_SETUP if self.is_client else T.CLIENT_SETUP
            if code != expected:
                raise ProtocolViolation(
                    Code.PROTOCOL_VIOLATION, f"{name} before {message_name(expected)}", message_type=name
                )
            self._setup(msg)
            return
        if code in (T.CLIENT_SETUP, T.SERVER_SETUP):
            raise ProtocolViolation(Code.PROTOCOL_VIOLATION, f"a second {name}", message_type=name)
        self.current_request_tokens = []
        if code in _REQUESTS:
            self._check_new_request(name, msg)
            self.current_request_tokens = self.request_tokens(name, getattr(msg, "parameters", None) or [])
        elif code in _ANSWERS_OK or code in _ANSWERS_ERROR:
            self._answer(code, name, msg)
            return
        elif code == T.MAX_REQUEST_ID:
            if msg.request_id <= self._peer_max_id:
                raise ProtocolViolation(
                    Code.PROTOCOL_VIOLATION, f"MAX_REQUEST_ID {msg.request_id} does not increase", message_type=name
                )
            self._peer_max_id = msg.request_id
            self._max_id_changed.set()
            return
        elif code == T.REQUESTS_BLOCKED:
            self.count("requests_blocked_received")
            self._grant_request_ids()
            return
        elif code == T.GOAWAY:
            if self.goaway_uri is not None:
                raise ProtocolViolation(Code.PROTOCOL_VIOLATION, "a second GOAWAY", message_type=name)
            if not self.is_client and msg.new_session_uri:
                raise ProtocolViolation(Code.PROTOCOL_VIOLATION, "GOAWAY with a URI from a client", message_type=name)
            self.goaway_uri = msg.new_session_uri
        elif code == T.UNSUBSCRIBE:
            track = self.outbound.pop(msg.request_id, None)
            if track is not None:
                track.close()
        elif code == T.PUBLISH_DONE:
            self._inbound_done(msg)
        elif code == T.FETCH_CANCEL:
            self._fetch_cancelled(msg.request_id)
        self.handler.on_message(self, code, msg)
        if code in _REQUESTS or code == T.UNSUBSCRIBE:
            # after the role has taken (or ended) the request, so its live count is current
            self._grant_request_ids()

    def _setup(self, msg: Any) -> None:
        name = "client_setup" if not self.is_client else "server_setup"
        token: bytes | None = None
        seen: set[int] = set()
        for p in msg.parameters:
            if (
                p.type_ in seen
                and p.type_ != wire.SetupParameter.AUTHORIZATION_TOKEN
                and wire.SetupParameter.is_known(p.type_)
            ):
                raise ProtocolViolation(
                    Code.PROTOCOL_VIOLATION, f"setup parameter {p.type_:#x} repeated", message_type=name
                )
            seen.add(p.type_)
            if p.type_ == wire.SetupParameter.MAX_REQUEST_ID:
                self._peer_max_id = p.int_value or 0
            elif p.type_ == wire.SetupParameter.MAX_AUTH_TOKEN_CACHE_SIZE:
                self.peer_token_cache_bytes = p.int_value or 0
            elif p.type_ == wire.SetupParameter.PATH:
                if self.is_client or self.transport.kind != "quic":
                    raise ProtocolViolation(
                        Code.INVALID_PATH, "PATH parameter where it is not allowed", message_type=name
                    )
            elif p.type_ == wire.SetupParameter.AUTHORIZATION_TOKEN and p.bytes_value is not None:
                token = self._token_value(p.bytes_value, name)
        if self.is_client:
            if msg.selected_version != self.draft.version:
                raise ProtocolViolation(
                    Code.VERSION_NEGOTIATION_FAILED,
                    f"server chose version {msg.selected_version:#x}, not offered",
                    message_type=name,
                )
        else:
            if self.draft.version not in msg.supported_versions:
                offered = ", ".join(f"{v:#x}" for v in msg.supported_versions)
                raise ProtocolViolation(
                    Code.VERSION_NEGOTIATION_FAILED, f"no common version (offered {offered})", message_type=name
                )
            self.handler.on_setup(self, token)
            params = [wire.KeyValuePair(type_=wire.SetupParameter.MAX_REQUEST_ID, int_value=self._granted_max_id)]
            if self.limits.auth_token_cache_bytes:
                params.append(
                    wire.KeyValuePair(
                        type_=wire.SetupParameter.MAX_AUTH_TOKEN_CACHE_SIZE,
                        int_value=self.limits.auth_token_cache_bytes,
                    )
                )
            self.send(wire.ServerSetup(selected_version=self.draft.version, parameters=params))
        self.setup_done = True
        if self._setup_timer is not None:
            self._setup_timer.cancel()
        if not self.ready.done():
            self.ready.set_result(None)
        self._max_id_changed.set()

    def _token_value(self, raw: bytes, where: str) -> bytes:
        return self._resolve_token(raw, where) or b""

    def _resolve_token(self, raw: bytes, where: str) -> bytes | None:
        """Apply the token's alias operation (draft-14 9.2.1.1) to the peer's cache; the token it stands for,
        or None for DELETE. The cache counts the bytes of the registered token values."""
        try:
            tok = wire.AuthorizationToken.decode(raw)
        except DecodeError as exc:
            raise ProtocolViolation(
                Code.KEY_VALUE_FORMATTING_ERROR, f"authorization token: {exc}", message_type=where
            ) from exc
        kind, alias = tok.alias_type, tok.token_alias
        if kind == wire.AuthTokenAliasType.USE_VALUE:
            return tok.token_value or b""
        assert alias is not None
        if kind == wire.AuthTokenAliasType.REGISTER:
            value = tok.token_value or b""
            if alias in self._token_aliases:
                raise ProtocolViolation(
                    Code.DUPLICATE_AUTH_TOKEN_ALIAS, f"token alias {alias} already registered", message_type=where
                )
            if self._token_cache_used + len(value) > self.limits.auth_token_cache_bytes:
                self.count("auth_token_cache_overflows")
                raise ProtocolViolation(
                    Code.AUTH_TOKEN_CACHE_OVERFLOW,
                    f"registering {len(value)} token bytes would pass the cache size "
                    f"{self.limits.auth_token_cache_bytes} ({self._token_cache_used} in use)",
                    message_type=where,
                )
            self._token_aliases[alias] = value
            self._token_cache_used += len(value)
            return value
        if alias not in self._token_aliases:
            raise ProtocolViolation(
                Code.UNKNOWN_AUTH_TOKEN_ALIAS, f"token alias {alias} is not registered", message_type=where
            )
        if kind == wire.AuthTokenAliasType.DELETE:
            self._token_cache_used -= len(self._token_aliases.pop(alias))
            return None
        return self._token_aliases[alias]

    def request_tokens(self, name: str, params: Sequence[wire.KeyValuePair]) -> list[bytes]:
        """The tokens a request's AUTHORIZATION TOKEN parameters stand for, after their alias operations."""
        tokens = []
        for p in params:
            if p.type_ == wire.Parameter.AUTHORIZATION_TOKEN and p.bytes_value is not None:
                value = self._resolve_token(p.bytes_value, name)
                if value is not None:
                    tokens.append(value)
        return tokens

    def _check_new_request(self, name: str, msg: Any) -> None:
        rid = msg.request_id
        if rid % 2 != self._peer_next_id % 2:
            raise ProtocolViolation(
                Code.INVALID_REQUEST_ID, f"request ID {rid} has the wrong parity", message_type=name, request_id=rid
            )
        if rid >= self._granted_max_id:
            raise ProtocolViolation(
                Code.TOO_MANY_REQUESTS,
                f"request ID {rid} is at or past the granted maximum {self._granted_max_id}",
                message_type=name,
                request_id=rid,
            )
        if rid != self._peer_next_id:
            raise ProtocolViolation(
                Code.INVALID_REQUEST_ID,
                f"request ID {rid}, expected {self._peer_next_id}",
                message_type=name,
                request_id=rid,
            )
        self._peer_next_id += 2
        namespace = getattr(msg, "track_namespace", None) or getattr(msg, "track_namespace_prefix", None)
        if namespace is not None:
            size = full_track_name_size(namespace.fields, getattr(msg, "track_name", None) or b"")
            if size > FULL_TRACK_NAME_MAX:
                raise ProtocolViolation(
                    Code.PROTOCOL_VIOLATION,
                    f"full track name of {size} bytes, over {FULL_TRACK_NAME_MAX}",
                    message_type=name,
                    request_id=rid,
                )

    def _grant_request_ids(self) -> None:
        """Extend the peer's request ID window once half is used, while it has few live requests."""
        window = 2 * self.limits.request_window
        if self._granted_max_id - self._peer_next_id > window // 2:
            return
        if self.live_requests() >= self.limits.max_active_requests:
            self.count("request_ids_withheld")
            return
        self._granted_max_id = self._peer_next_id + window
        self.send(wire.MaxRequestId(request_id=self._granted_max_id))

    def _answer(self, code: int, name: str, msg: Any) -> None:
        rid = msg.request_id
        entry = self._pending.pop(rid, None)
        if entry is None:
            raise ProtocolViolation(
                Code.PROTOCOL_VIOLATION, f"{name} for no pending request", message_type=name, request_id=rid
            )
        _, fut = entry
        if fut.done():
            return
        if code in _ANSWERS_ERROR:
            fut.set_exception(new_request_error(name.removesuffix("_error"), msg.error_code, msg.error_reason.value))
        else:
            fut.set_result(msg)

    # ---- our requests ----

    async def request(self, build: Callable[[int], Any], *, sink: InboundSink | None = None) -> Any:
        """Send a new request built for the next request ID; its OK message, or RequestError."""
        await self.ready
        while self._next_id >= self._peer_max_id:
            if self.closed.done():
                raise self.closed.result()
            if self._blocked_sent_at != self._peer_max_id:
                self._blocked_sent_at = self._peer_max_id
                self.send(wire.RequestsBlocked(maximum_request_id=self._peer_max_id))
            self._max_id_changed.clear()
            async with asyncio.timeout(self.limits.request_timeout):
                await self._max_id_changed.wait()
        if self.closed.done():
            raise self.closed.result()
        rid = self._next_id
        self._next_id += 2
        msg = build(rid)
        fut: asyncio.Future[Any] = self.loop.create_future()
        self._pending[rid] = (rid, fut)
        if sink is not None:
            self._fetch_sinks[rid] = sink
        self.send(msg)
        try:
            async with asyncio.timeout(self.limits.request_timeout):
                return await fut
        except BaseException:
            self._pending.pop(rid, None)
            self._fetch_sinks.pop(rid, None)
            raise

    def goaway(self, uri: bytes = b"") -> None:
        if not self._goaway_sent:
            self._goaway_sent = True
            self.send(wire.Goaway(new_session_uri=uri))

    # ---- inbound tracks ----

    def add_inbound(self, alias: int, sink: InboundSink) -> None:
        """Deliver the objects of track `alias` to `sink`; a reused alias closes the session."""
        if alias in self._inbound_by_alias:
            v = ProtocolViolation(Code.DUPLICATE_TRACK_ALIAS, f"track alias {alias} already in use")
            self.fail(v)
            raise v
        self._inbound_by_alias[alias] = sink
        self._unpark(alias, sink)

    def remove_inbound(self, alias: int) -> None:
        self._inbound_by_alias.pop(alias, None)
        self._alias_streams.pop(alias, None)
        pending = self._done_pending.pop(alias, None)
        if pending is not None:
            pending[3].cancel()

    def _inbound_done(self, msg: wire.PublishDone) -> None:
        """PUBLISH_DONE: the track ends once its Stream Count streams have ended (or after parked_timeout),
        so objects still in flight on data streams reach the sink before its on_done."""
        for alias, sink in list(self._inbound_by_alias.items()):
            if getattr(sink, "request_id", None) == msg.request_id and alias not in self._done_pending:
                timer = self.loop.call_later(self.limits.parked_timeout, self._finish_inbound, alias)
                self._done_pending[alias] = (msg.status_code, msg.error_reason.value, msg.stream_count, timer)
                self._check_done(alias)

    def _check_done(self, alias: int) -> None:
        pending = self._done_pending.get(alias)
        if pending is not None:
            seen, open_ = self._alias_streams.get(alias, (0, 0))
            if open_ == 0 and seen >= pending[2]:
                self._finish_inbound(alias)

    def _finish_inbound(self, alias: int) -> None:
        pending = self._done_pending.pop(alias, None)
        self._alias_streams.pop(alias, None)
        sink = self._inbound_by_alias.pop(alias, None)
        if pending is not None:
            pending[3].cancel()
            if sink is not None:
                sink.on_done(pending[0], pending[1])

    def _stream_attached(self, st: _InStream, alias: int) -> None:
        st.alias = alias
        seen, open_ = self._alias_streams.get(alias, (0, 0))
        self._alias_streams[alias] = (seen + 1, open_ + 1)

    def _stream_ended(self, st: _InStream, reset: bool) -> None:
        if st.sink is not None and st.subgroup is not None:
            st.sink.on_subgroup_end(st.group, st.subgroup, reset)
        if st.alias is not None and st.alias in self._alias_streams:
            seen, open_ = self._alias_streams[st.alias]
            self._alias_streams[st.alias] = (seen, open_ - 1)
            self._check_done(st.alias)

    def on_uni_stream_data(self, stream_id: int, data: bytes, end: bool) -> None:
        if self.closed.done():
            return
        st = self._in_streams.get(stream_id)
        if st is None:
            if len(self._in_streams) >= self.limits.max_inbound_streams:
                self.count("streams_refused")
                self.transport.stop_stream(stream_id, wire.DataStreamResetCode.CANCELLED)
                return
            st = _InStream(self.wire.DataParser(max_buffer=self.limits.data_stream_buffer))
            self._in_streams[stream_id] = st
        try:
            if not st.ignored:
                for item in st.parser.feed(data):
                    self._data_item(stream_id, st, item)
                    if st.ignored:
                        break
            if end:
                if not st.ignored:
                    st.parser.close()
                st.ended = True
                if st.parked_alias is None:
                    self._in_streams.pop(stream_id, None)
                    if not st.ignored:
                        self._stream_ended(st, False)
        except DecodeError as exc:
            self.fail(
                ProtocolViolation(
                    Code.PROTOCOL_VIOLATION, f"data stream {stream_id}: {exc.reason}: {exc}", offset=exc.offset
                )
            )
        except ProtocolViolation as v:
            self.fail(v)

    def _data_item(self, stream_id: int, st: _InStream, item: Any) -> None:
        if isinstance(item, wire.SubgroupObject):  # every object of every subgroup stream: tested first
            header = st.header
            assert header is not None
            oid = item.object_id_delta if st.last_object_id < 0 else st.last_object_id + item.object_id_delta + 1
            st.last_object_id = oid
            if st.subgroup is None:
                st.subgroup = oid
            self._deliver(
                stream_id,
                st,
                MoqObject(
                    st.group,
                    st.subgroup,
                    oid,
                    header.publisher_priority,
                    item.payload,
                    item.object_status or 0,
                    item.extension_headers,
                    False,
                    header.type_,
                ),
            )
        elif isinstance(item, wire.SubgroupHeader):
            st.header, st.group = item, item.group_id
            st.subgroup = (
                item.subgroup_id if item.subgroup_id is not None else (None if item.type_ & _HDR_FIRST_OBJECT_ID else 0)
            )
            st.sink = self._inbound_by_alias.get(item.track_alias)
            if st.sink is None:
                self._park(stream_id, st, item.track_alias)
            else:
                self._stream_attached(st, item.track_alias)
        elif isinstance(item, wire.FetchHeader):
            sink = self._fetch_sinks.get(item.request_id)
            if sink is None:
                self.count("streams_unknown_fetch")
                self._ignore(stream_id, st)
                return
            st.sink = sink
        elif isinstance(item, wire.FetchObject):
            assert st.sink is not None
            st.sink.on_object(
                MoqObject(
                    group=item.group_id,
                    subgroup=item.subgroup_id,
                    object_id=item.object_id,
                    publisher_priority=item.publisher_priority,
                    payload=item.payload,
                    status=item.object_status or 0,
                    extensions=item.extension_headers or None,
                )
            )

    def _ignore(self, stream_id: int, st: _InStream) -> None:
        st.ignored = True
        st.backlog = None
        self.transport.stop_stream(stream_id, wire.DataStreamResetCode.CANCELLED)

    def _park(self, stream_id: int, st: _InStream, alias: int) -> None:
        if sum(1 for s in self._in_streams.values() if s.parked_alias is not None) >= self.limits.max_parked_streams:
            self.count("streams_unknown_alias")
            self._ignore(stream_id, st)
            return
        st.parked_alias, st.backlog = alias, []
        self.loop.call_later(self.limits.parked_timeout, self._unpark_expired, stream_id, st)

    def _unpark_expired(self, stream_id: int, st: _InStream) -> None:
        if st.parked_alias is not None and self._in_streams.get(stream_id) is st:
            self.count("streams_unknown_alias")
            st.parked_alias = None
            self._in_streams.pop(stream_id, None)
            if not st.ended:
                self._ignore(stream_id, st)

    def _deliver(self, stream_id: int, st: _InStream, obj: MoqObject) -> None:
        if st.sink is not None:
            st.sink.on_object(obj)
            return
        assert st.backlog is not None
        st.backlog_bytes += len(obj.payload) + 16
        if st.backlog_bytes > self.limits.data_stream_buffer:
            self.count("streams_unknown_alias")
            st.parked_alias = None
            self._ignore(stream_id, st)
            return
        st.backlog.append(obj)

    def _unpark(self, alias: int, sink: InboundSink) -> None:
        for stream_id, st in list(self._in_streams.items()):
            if st.parked_alias != alias:
                continue
            st.parked_alias, st.sink = None, sink
            self._stream_attached(st, alias)
            backlog, st.backlog = st.backlog or [], None
            for obj in backlog:
                sink.on_object(obj)
            if st.ended:
                self._in_streams.pop(stream_id, None)
                self._stream_ended(st, False)

    def on_stream_reset(self, stream_id: int, code: int) -> None:
        st = self._in_streams.pop(stream_id, None)
        if st is not None and not st.ignored:
            self._stream_ended(st, True)

    def end_fetch(self, request_id: int) -> None:
        self._fetch_sinks.pop(request_id, None)

    def cancel_fetch(self, request_id: int) -> None:
        """Ours: we no longer want fetch `request_id` (FETCH_CANCEL); objects still in flight are dropped."""
        self.end_fetch(request_id)
        self.send(wire.FetchCancel(request_id=request_id))

    # ---- FETCH answers we send ----

    def open_fetch_stream(self, request_id: int) -> int:
        """Open the data stream answering the peer's FETCH `request_id`, remembered so FETCH_CANCEL can reset it."""
        stream_id = self.transport.open_uni_stream()
        self._fetch_out[request_id] = stream_id
        while len(self._fetch_out) > self.limits.max_fetch_streams:
            self._fetch_out.popitem(last=False)
            self.count("fetch_streams_forgotten")
        return stream_id

    def _fetch_cancelled(self, request_id: int) -> None:
        # Draft-14 9.19: stop the stream promptly, even mid-object. A request ID we no longer (or never)
        # answered is ignored: its stream is finished, or the FETCH failed, so there is nothing to stop.
        stream_id = self._fetch_out.pop(request_id, None)
        if stream_id is None:
            self.count("fetch_cancel_unknown")
            log.info("session=%d FETCH_CANCEL of unknown fetch request_id=%d ignored", self.id, request_id)
            return
        self.count("fetch_cancelled")
        self.transport.reset_stream(stream_id, wire.DataStreamResetCode.CANCELLED)
        self.transport.transmit()

    def on_datagram(self, data: bytes) -> None:
        if self.closed.done():
            return
        try:
            dg = self.wire.decode_datagram(data)
        except DecodeError as exc:
            self.fail(ProtocolViolation(Code.PROTOCOL_VIOLATION, f"datagram: {exc.reason}: {exc}", offset=exc.offset))
            return
        sink = self._inbound_by_alias.get(dg.track_alias)
        if sink is None:
            self.count("datagrams_unknown_alias")
            return
        oid = dg.object_id or 0
        sink.on_object(
            MoqObject(
                group=dg.group_id,
                subgroup=oid,
                object_id=oid,
                publisher_priority=dg.publisher_priority,
                payload=dg.payload or b"",
                status=dg.object_status or 0,
                extensions=dg.extension_headers,
                datagram=True,
            )
        )

    # ---- outbound tracks and the send scheduler ----

    def add_outbound(self, track: OutboundTrack) -> None:
        self.outbound[track.request_id] = track

    def remove_outbound(self, request_id: int) -> OutboundTrack | None:
        track = self.outbound.pop(request_id, None)
        if track is not None:
            track.close()
        return track

    def encode_datagram(self, alias: int, obj: OutObject) -> bytes:
        has_ext = bool(obj.extensions)
        kind = (0x20 | int(has_ext)) if obj.status else (0x01 if has_ext else 0x00)
        data: bytes = self.wire.encode_datagram(
            wire.ObjectDatagram(
                type_=kind,
                track_alias=alias,
                group_id=obj.group,
                object_id=obj.object_id,
                publisher_priority=obj.publisher_priority,
                extension_headers=obj.extensions if has_ext else None,
                object_status=wire.ObjectStatus(obj.status) if obj.status else None,
                payload=None if obj.status else obj.payload,
            )
        )
        return data

    def _ready(self, track: OutboundTrack) -> None:
        if track not in self._in_heap:
            self._in_heap.add(track)
            heapq.heappush(self._heap, (track.key(), next(self._seq), track))
        self._pump_soon()

    def _pump_soon(self) -> None:
        if not self._pump_scheduled:
            self._pump_scheduled = True
            self.loop.call_soon(self._pump)

    def _pump(self) -> None:
        """Write queued objects, most urgent track first, while aioquic holds less than the budget."""
        self._pump_scheduled = False
        if self.transport.closed:
            return
        budget = self.limits.send_budget - self.transport.buffered_bytes()
        heap = self._heap
        while heap and budget > 0:
            key, _, track = heapq.heappop(heap)
            if track.closed or not track.has_items():
                self._in_heap.discard(track)
                continue
            current = track.key()
            if current != key:
                heapq.heappush(heap, (current, next(self._seq), track))
                continue
            budget -= track.send_next()
            if track.has_items():
                heapq.heappush(heap, (track.key(), next(self._seq), track))
            else:
                self._in_heap.discard(track)
        self.transport.transmit()


def new_request_error(kind: str, code: int, reason: str) -> RequestError:
    return (NotAuthorizedError if code == _UNAUTHORIZED else RequestError)(kind, code, reason)


def check_group_order(order: int, *, allow_publisher: bool, name: str, request_id: int) -> None:
    if order > 2 or (order == 0 and not allow_publisher):
        raise ProtocolViolation(
            Code.PROTOCOL_VIOLATION, f"group order {order} not allowed", message_type=name, request_id=request_id
        )


__all__ = [
    "DEFAULT_STREAM_TYPE",
    "EndOfSubgroup",
    "InboundSink",
    "MoqObject",
    "OutObject",
    "OutboundTrack",
    "Session",
    "SessionHandler",
    "SessionLimits",
    "capability_of",
    "capability_params",
    "check_group_order",
    "new_request_error",
    "reason_phrase",
    "token_param",
]
