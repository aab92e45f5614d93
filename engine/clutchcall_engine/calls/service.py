"""The control plane's logic: originate, get, list, transfer, hang up and watch calls, for one tenant at a time.

Every surface (REST over HTTP/3 and HTTP/1.1, the legacy envelope RPC) reaches calls through
`CallService`; the generated handlers in handlers.py only translate requests. The service is also the
gateway's `CallEvents`: status changes, inbound calls and DTMF from the SIP side land here, are stored,
and are fanned out to watchers.

Errors are `ApiError`s with the IDL's ErrorCode: another tenant's sid is NOT_FOUND (never
PERMISSION_DENIED, which would confirm that the sid exists).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
import math
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from clutchcall import (
    AgentBinding,
    BargeMode,
    BargeRequest,
    Call,
    CallEvent,
    CallStatus,
    Codec,
    DefaultApp,
    Direction,
    DtmfDigit,
    EndReason,
    ErrorCode,
    ListCallsRequest,
    ListCallsResponse,
    OriginateRequest,
    PushAudioRequest,
    PushAudioResponse,
    TransferRequest,
)
from clutchcall.bridges import downlink_track, uplink_track
from clutchcall_runtime.rpc.errors import ApiError

from ..config import Limits
from .media import DownlinkPort
from .ports import E164, CallEvents, CallSignalling, supervisor_target
from .store import CallNotFound, CallStore, IdempotencyConflict, InvalidTransition, status_name

log = logging.getLogger("clutchcall.engine.calls")

MAX_PAGE_SIZE = 1000
MAX_BULK = 100
"""OriginateBulkRequest.calls: at most 100 (the IDL's doc)."""
MAX_RING_TIMEOUT_S = 600
MAX_PUSH_FRAMES = 500
"""Frames in one PushAudioRequest (10 s of 20 ms frames)."""
MAX_PUSH_FRAME_BYTES = 8192
"""One encoded frame (20 ms of PCM16 at 48 kHz stereo is 7,680 bytes)."""
CRASH_END_REASON = EndReason.NETWORK_ERROR
"""Why calls that were live when the engine died end: their signalling and media were lost with it."""


class AgentBinderPort(Protocol):
    """The agents' side of voice.agents (clutchcall_engine.agents.AgentBinder): runs the agent bound to a call.
    Its errors carry `.code` (an ErrorCode) and `.field`."""

    async def bind(self, sid: str, binding: AgentBinding) -> object: ...

    async def unbind(self, sid: str) -> bool: ...


@dataclass
class CallStats:
    """What the control plane did and what its bounds (config.Limits) refused or dropped."""

    originated: int = 0
    idempotent_replays: int = 0
    refused_live_call_quota: int = 0
    refused_originate_rate: int = 0
    refused_watchers: int = 0
    watch_events_dropped: int = 0
    gateway_events_refused: int = 0
    """Status changes from the gateway that the state machine refused (late or out of order)."""
    signalling_failures: int = 0
    ended_after_restart: int = 0


@dataclass(frozen=True)
class WatchEvent:
    """One event for a watcher: a status change, or a DTMF digit (`event.dtmf` set)."""

    event: CallEvent


class TenantRates:
    """A token bucket per tenant (`rate` per second, `burst` at once). Full buckets are forgotten when there
    are more than `max_tenants`, so the table stays bounded: a full bucket is what a new tenant gets anyway."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float], max_tenants: int = 10_000) -> None:
        self.rate, self.burst, self._clock, self.max_tenants = rate, burst, clock, max_tenants
        self._buckets: dict[str, tuple[float, float]] = {}  # tenant -> (tokens, when)

    def take(self, tenant: str) -> float:
        """0 when allowed (one token taken), else the seconds until a token is there."""
        now = self._clock()
        tokens, when = self._buckets.get(tenant, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - when) * self.rate)
        if tokens < 1.0:
            self._buckets[tenant] = (tokens, now)
            return (1.0 - tokens) / self.rate
        self._buckets[tenant] = (tokens - 1.0, now)
        if len(self._buckets) > self.max_tenants:
            self._forget_full(now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        for tenant, (tokens, when) in list(self._buckets.items()):
            if tokens + (now - when) * self.rate >= self.burst:
                del self._buckets[tenant]


class Watch:
    """One watcher: an async iterator of its events with a bounded queue; `close()` unsubscribes."""

    def __init__(self, registry: set[Watch], tenant: str, statuses: frozenset[int], queue_events: int) -> None:
        self.tenant = tenant
        self.statuses = statuses
        self.queue: asyncio.Queue[WatchEvent] = asyncio.Queue(queue_events)
        self.dropped = 0
        self._registry = registry

    def __aiter__(self) -> Watch:
        return self

    async def __anext__(self) -> WatchEvent:
        return await self.queue.get()

    def close(self) -> None:
        self._registry.discard(self)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _new_sid() -> str:
    return "CA" + secrets.token_hex(16)


def _invalid(field_path: str, message: str) -> ApiError:
    return ApiError(ErrorCode.INVALID_ARGUMENT, message, field=field_path)


def _check_e164(value: str, field_path: str) -> None:
    if not E164.fullmatch(value):
        raise _invalid(field_path, f"{field_path} must be an E.164 number such as +14155550100, got {value!r}")


def _check_statuses(statuses: Sequence[int]) -> None:
    for i, status in enumerate(statuses):
        if not CallStatus.is_known(status) or status == CallStatus.UNSPECIFIED:
            raise _invalid(f"status[{i}]", f"status[{i}] is not a CallStatus a call can have: {status}")


def encode_page_token(cursor: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{cursor}".encode()).decode().rstrip("=")


def decode_page_token(token: str) -> int | None:
    if not token:
        return None
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    version, _, number = text.partition(":")
    if version != "v1" or not number.isdigit() or len(number) > 19:
        raise _invalid("pageToken", "pageToken is not a next_page_token this service returned")
    return int(number)


class CallService:
    """The control plane of every tenant, over one `CallStore` and one `CallSignalling` (the SIP gateway)."""

    def __init__(
        self,
        store: CallStore,
        signalling: CallSignalling | None,
        limits: Limits | None = None,
        *,
        binder: AgentBinderPort | None = None,
        downlinks: DownlinkPort | None = None,
        clock_ms: Callable[[], int] = _now_ms,
        new_sid: Callable[[], str] = _new_sid,
    ) -> None:
        self.store = store
        self.signalling = signalling
        self.binder = binder
        self.downlinks = downlinks
        self.limits = limits or Limits()
        self.stats = CallStats()
        self._clock_ms = clock_ms
        self._originate_rates = TenantRates(
            self.limits.originate_rate_per_tenant,
            self.limits.originate_burst_per_tenant,
            time.monotonic,  # not the wall clock, which may jump
        )
        self._new_sid = new_sid
        self._watchers: set[Watch] = set()
        self._live_per_tenant: dict[str, int] = {}
        for call in store.live():
            self._live_per_tenant[call.tenant_id] = self._live_per_tenant.get(call.tenant_id, 0) + 1

    def live_per_tenant(self) -> dict[str, int]:
        return dict(self._live_per_tenant)

    def watcher_count(self) -> int:
        return len(self._watchers)

    # ---- recovery ----

    async def end_orphaned_calls(self) -> list[Call]:
        """After a restart: calls the store still has as live lost their signalling and media with the old
        process, so they end now, FAILED with `CRASH_END_REASON`, and watchers are told.
        """
        ended = []
        for call in self.store.live():
            ended.append(await self._move(call.sid, CallStatus.FAILED, CRASH_END_REASON))
            self.stats.ended_after_restart += 1
        return ended

    # ---- the public methods (voice.calls and the legacy ones map onto these) ----

    async def originate(self, tenant: str, request: OriginateRequest, *, field_prefix: str = "") -> Call:
        _check_e164(request.to, f"{field_prefix}to")
        _check_e164(request.from_, f"{field_prefix}from")
        ring_timeout_s = request.ring_timeout_s_or_default()
        if not 1 <= ring_timeout_s <= MAX_RING_TIMEOUT_S:
            raise _invalid(
                f"{field_prefix}ringTimeoutS",
                f"ringTimeoutS must be within 1..{MAX_RING_TIMEOUT_S} seconds, got {ring_timeout_s}",
            )
        if len(request.idempotency_key) > 256:
            raise _invalid(f"{field_prefix}idempotencyKey", "idempotencyKey must be at most 256 characters")
        fingerprint = _fingerprint(request)
        if request.idempotency_key:  # a retry gets its call even when the tenant is now at a bound
            try:
                replayed = self.store.replay(tenant, request.idempotency_key, fingerprint)
            except IdempotencyConflict as e:
                raise ApiError(ErrorCode.ALREADY_EXISTS, str(e), field=f"{field_prefix}idempotencyKey") from None
            if replayed is not None:
                self.stats.idempotent_replays += 1
                return replayed
        if self.signalling is None:
            raise ApiError(ErrorCode.UNAVAILABLE, "no SIP gateway is configured on this engine")
        if self._live_per_tenant.get(tenant, 0) >= self.limits.max_live_calls_per_tenant:
            self.stats.refused_live_call_quota += 1
            raise ApiError(
                ErrorCode.RESOURCE_EXHAUSTED,
                f"tenant has {self.limits.max_live_calls_per_tenant} live calls, the most it may have",
                retry_after_ms=1000,
            )
        wait_s = self._originate_rates.take(tenant)
        if wait_s > 0:
            self.stats.refused_originate_rate += 1
            raise ApiError(
                ErrorCode.RESOURCE_EXHAUSTED,
                f"more than {self.limits.originate_rate_per_tenant:g} originates per second",
                retry_after_ms=max(1, math.ceil(wait_s * 1000)),
            )
        sid = self._new_sid()
        now = self._clock_ms()
        call = Call(
            sid=sid,
            status=CallStatus.DIALING,
            direction=Direction.OUTBOUND,
            from_=request.from_,
            to=request.to,
            default_app=request.default_app_or_default(),
            agent=request.agent,
            audio=request.audio,
            uplink_track=uplink_track(sid),
            downlink_track=downlink_track(sid),
            created_at_ms=now,
            tenant_id=tenant,
        )
        try:
            stored, created = self.store.create(call, request.idempotency_key, fingerprint, now)
        except IdempotencyConflict as e:
            raise ApiError(ErrorCode.ALREADY_EXISTS, str(e), field=f"{field_prefix}idempotencyKey") from None
        if not created:
            self.stats.idempotent_replays += 1
            return stored
        self.stats.originated += 1
        self._live_per_tenant[tenant] = self._live_per_tenant.get(tenant, 0) + 1
        codec = (
            request.audio.codec if request.audio is not None and request.audio.codec is not None else Codec.UNSPECIFIED
        )
        signalling = self.signalling
        try:
            async with asyncio.timeout(self.limits.signalling_timeout_s):
                await signalling.dial(
                    sid, tenant, request.to, request.from_, int(codec), float(ring_timeout_s), int(call.default_app)
                )
        except Exception as e:  # the gateway's failure ends this call; it must not leave it dialing forever
            self.stats.signalling_failures += 1
            log.warning("dial failed sid=%s: %r", sid, e)
            with contextlib.suppress(InvalidTransition):
                return await self._move(sid, CallStatus.FAILED, EndReason.NETWORK_ERROR)
        return self._get_stored(sid)

    async def get(self, tenant: str, sid: str) -> Call:
        return self._owned(tenant, sid)

    async def list(self, tenant: str, request: ListCallsRequest) -> ListCallsResponse:
        page_size = request.page_size_or_default()
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise _invalid("pageSize", f"pageSize must be within 1..{MAX_PAGE_SIZE}, got {page_size}")
        _check_statuses(request.status)
        statuses = sorted(set(request.status))  # at most the known statuses, however long the list sent
        page = self.store.list_page(tenant, statuses, page_size, decode_page_token(request.page_token))
        token = "" if page.next_cursor is None else encode_page_token(page.next_cursor)
        return ListCallsResponse(calls=page.calls, next_page_token=token)

    async def transfer(self, tenant: str, request: TransferRequest) -> Call:
        call = self._owned(tenant, request.sid)
        target = request.which_target()
        if target is None:
            raise _invalid("pstnNumber", "exactly one of pstnNumber or agent must be set")
        if CallStatus.is_terminal(call.status):
            raise ApiError(
                ErrorCode.INVALID_TRANSITION, f"call {call.sid} has ended ({status_name(call.status)}): cannot transfer"
            )
        if request.pstn_number is not None:
            number = request.pstn_number
            _check_e164(number, "pstnNumber")
            if call.to == number:
                return call  # a repeated transfer is a no-op
            if call.status != CallStatus.IN_PROGRESS:
                raise ApiError(
                    ErrorCode.INVALID_TRANSITION,
                    f"call {call.sid} is {status_name(call.status)}: only an answered call can be transferred",
                )
            await self._signal(lambda s: s.transfer(call.sid, number))

            def repoint(c: Call) -> None:
                c.to = number

            return self.store.update(call.sid, repoint)
        assert request.agent is not None
        if call.agent == request.agent:
            return call
        return await self.bind_agent(tenant, call.sid, request.agent)

    async def barge(self, tenant: str, request: BargeRequest) -> None:
        """Legacy: dial a supervisor into an answered call; returns once the supervisor's leg is dialing. The
        call's status never changes for it; a second barge while a supervisor leg exists is ALREADY_EXISTS."""
        call = self._owned(tenant, request.sid)
        try:
            supervisor_target(request.supervisor)
        except ValueError as e:
            raise _invalid("supervisor", str(e)) from None
        if not BargeMode.is_known(request.mode):
            raise _invalid("mode", f"mode must be listen, whisper or barge, got {request.mode}")
        mode = BargeMode.LISTEN if request.mode == BargeMode.UNSPECIFIED else request.mode  # the IDL: "listen applies"
        if call.status != CallStatus.IN_PROGRESS:
            raise ApiError(
                ErrorCode.INVALID_TRANSITION,
                f"call {call.sid} is {status_name(call.status)}: a supervisor joins only an answered, live call",
            )
        await self._signal(lambda s: s.barge(call.sid, request.supervisor, int(mode)))

    async def bind_agent(self, tenant: str, sid: str, agent: AgentBinding, *, field_prefix: str = "agent.") -> Call:
        """Run `agent` on the call (replacing the one bound) and record it in Call.agent."""
        call = self._owned(tenant, sid)
        if not agent.agent_id:
            raise _invalid(f"{field_prefix}agentId", f"{field_prefix}agentId must not be empty")
        if CallStatus.is_terminal(call.status):
            raise ApiError(ErrorCode.INVALID_TRANSITION, f"call {sid} has ended: cannot bind an agent")
        await self._agents(lambda b: b.bind(sid, agent))

        def rebind(c: Call) -> None:
            c.agent = agent

        return self.store.update(sid, rebind)

    async def unbind_agent(self, tenant: str, sid: str) -> Call:
        """Detach the call's agent; the call stays up. Unbinding twice is a no-op."""
        call = self._owned(tenant, sid)
        if call.agent is None:
            return call
        await self._agents(lambda b: b.unbind(sid))

        def clear(c: Call) -> None:
            c.agent = None

        return self.store.update(sid, clear)

    async def _agents(self, action: Callable[[AgentBinderPort], Awaitable[object]]) -> None:
        if self.binder is None:
            raise ApiError(ErrorCode.UNAVAILABLE, "no agent runtime is configured on this engine")
        try:
            await action(self.binder)
        except ApiError:
            raise
        except Exception as e:
            code = getattr(e, "code", None)
            if not isinstance(code, ErrorCode):
                raise
            raise ApiError(code, str(e), field=str(getattr(e, "field", ""))) from None

    async def hangup(self, tenant: str, sid: str) -> Call:
        call = self._owned(tenant, sid)
        if CallStatus.is_terminal(call.status):
            return call
        try:
            await self._signal(lambda s: s.hangup(sid))
        except ApiError as e:  # the record ends regardless: the caller asked for the call to be over
            log.warning("hangup signalling failed sid=%s: %s", sid, e)
        # COMPLETED means answered (the IDL); a call hung up while it was still ringing was never answered.
        ended = CallStatus.COMPLETED if call.status == CallStatus.IN_PROGRESS else CallStatus.NO_ANSWER
        try:
            return await self._move(sid, ended, EndReason.API_HANGUP)
        except InvalidTransition:  # the gateway ended it meanwhile
            return self._get_stored(sid)

    def watch(self, tenant: str, statuses: Sequence[int] = ()) -> Watch:
        """Events of the tenant's calls (only calls now in one of `statuses`, when given), until `close()`."""
        _check_statuses(statuses)
        if len(self._watchers) >= self.limits.max_call_watchers:
            self.stats.refused_watchers += 1
            raise ApiError(
                ErrorCode.RESOURCE_EXHAUSTED, f"{self.limits.max_call_watchers} watchers already", retry_after_ms=1000
            )
        watch = Watch(self._watchers, tenant, frozenset(int(s) for s in statuses), self.limits.call_watch_queue_events)
        self._watchers.add(watch)
        return watch

    async def push_audio(self, tenant: str, requests: AsyncIterator[PushAudioRequest]) -> PushAudioResponse:
        """Legacy: frames onto the call's downlink track, in order, until end_of_stream or the stream ends."""
        first = await anext(requests, None)
        if first is None:
            raise _invalid("sid", "push_audio needs at least one request")
        call = self._owned(tenant, first.sid)
        if CallStatus.is_terminal(call.status):
            raise ApiError(ErrorCode.INVALID_TRANSITION, f"call {call.sid} has ended: cannot push audio")
        if not Codec.is_known(first.codec) or first.codec == Codec.UNSPECIFIED:
            raise _invalid("codec", f"codec must be a known codec, got {first.codec}")
        if self.downlinks is None:
            raise ApiError(ErrorCode.UNAVAILABLE, "no relay is attached to the control plane for push_audio")
        writer = await self.downlinks.open_downlink(call.sid, first.codec)
        accepted: int | None = None
        try:
            request: PushAudioRequest | None = first
            while request is not None:
                if request.sid != first.sid or request.codec != first.codec:
                    field_path = "sid" if request.sid != first.sid else "codec"
                    raise _invalid(
                        field_path, f"every request of one push_audio stream has the first one's {field_path}"
                    )
                if len(request.frames) > MAX_PUSH_FRAMES:
                    raise _invalid("frames", f"frames holds {len(request.frames)}, at most {MAX_PUSH_FRAMES}")
                for i, frame in enumerate(request.frames):
                    if not frame or len(frame) > MAX_PUSH_FRAME_BYTES:
                        raise _invalid(
                            f"frames[{i}]", f"a frame must be 1..{MAX_PUSH_FRAME_BYTES} bytes, got {len(frame)}"
                        )
                for frame in request.frames:
                    writer.write(frame)
                if request.frames:
                    accepted = (request.sequence + len(request.frames) - 1) % (1 << 32)
                if request.end_of_stream:
                    break
                request = await anext(requests, None)
        finally:
            await writer.aclose()
        return PushAudioResponse(accepted_through=accepted if accepted is not None else 0, queued_ms=0)

    # ---- CallEvents: what the SIP gateway reports ----

    async def status_changed(self, sid: str, status: int, end_reason: int | None = None, detail: str = "") -> None:
        try:
            await self._move(sid, status, end_reason)
        except (InvalidTransition, CallNotFound) as e:
            # Late or duplicate reports (a BYE racing our hangup) are normal; the stored state stands.
            self.stats.gateway_events_refused += 1
            log.info("gateway status ignored sid=%s: %s (%s)", sid, e, detail)

    async def inbound_call(
        self, tenant: str, from_: str, to: str, codec: int, *, default_app: int = DefaultApp.AI_BIDIRECTIONAL_STREAM
    ) -> str:
        sid = self._new_sid()
        call = Call(
            sid=sid,
            status=CallStatus.RINGING,
            direction=Direction.INBOUND,
            from_=from_,
            to=to,
            default_app=DefaultApp.from_number(default_app),
            uplink_track=uplink_track(sid),
            downlink_track=downlink_track(sid),
            created_at_ms=self._clock_ms(),
            tenant_id=tenant,
        )
        if self._live_per_tenant.get(tenant, 0) >= self.limits.max_live_calls_per_tenant:
            self.stats.refused_live_call_quota += 1
            raise ApiError(ErrorCode.RESOURCE_EXHAUSTED, f"tenant {tenant} is at its live-call quota")
        # `codec` is the carrier leg's; the bridge's shape (Call.audio) is what the SDK asks for when it attaches.
        self.store.create(call)
        self._live_per_tenant[tenant] = self._live_per_tenant.get(tenant, 0) + 1
        self._publish(WatchEvent(CallEvent(call=call, previous_status=CallStatus.UNSPECIFIED, sequence=0)))
        return sid

    async def dtmf(self, sid: str, digit: str, duration_ms: int) -> None:
        call = self.store.get(sid)
        if call is None:
            self.stats.gateway_events_refused += 1
            return
        sequence = self.store.next_event(sid)
        dtmf = DtmfDigit(digit=digit, duration_ms=duration_ms)
        self._publish(WatchEvent(CallEvent(call=call, previous_status=call.status, sequence=sequence, dtmf=dtmf)))

    # ---- internals ----

    def _owned(self, tenant: str, sid: str) -> Call:
        if not sid:
            raise _invalid("sid", "sid must not be empty")
        call = self.store.get(sid)
        if call is None or call.tenant_id != tenant:
            raise ApiError(ErrorCode.NOT_FOUND, f"no call {sid}")
        return call

    def _get_stored(self, sid: str) -> Call:
        call = self.store.get(sid)
        if call is None:
            raise ApiError(ErrorCode.INTERNAL, f"call {sid} vanished from the store")
        return call

    async def _signal(self, action: Callable[[CallSignalling], object]) -> None:
        if self.signalling is None:
            raise ApiError(ErrorCode.UNAVAILABLE, "no SIP gateway is configured on this engine")
        try:
            result = action(self.signalling)
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                async with asyncio.timeout(self.limits.signalling_timeout_s):
                    await result
        except ApiError:
            raise
        except TimeoutError:
            self.stats.signalling_failures += 1
            raise ApiError(ErrorCode.DEADLINE_EXCEEDED, "the SIP gateway did not answer in time") from None
        except Exception as e:
            code = getattr(e, "code", None)
            if isinstance(code, ErrorCode):  # the gateway's refusal with the reason's code (barge)
                raise ApiError(code, str(e), field=str(getattr(e, "field", ""))) from None
            self.stats.signalling_failures += 1
            raise ApiError(ErrorCode.UNAVAILABLE, f"the SIP gateway failed: {e}") from None

    async def _move(self, sid: str, status: int, end_reason: int | None) -> Call:
        now = self._clock_ms()

        def stamp(call: Call) -> None:
            if status == CallStatus.IN_PROGRESS:
                call.answered_at_ms = now
            if CallStatus.is_terminal(status):
                call.ended_at_ms = now
                call.end_reason = EndReason.from_number(end_reason or EndReason.UNSPECIFIED)

        t = self.store.transition(sid, status, stamp)
        if CallStatus.is_terminal(status):
            tenant = t.after.tenant_id
            self._live_per_tenant[tenant] = max(0, self._live_per_tenant.get(tenant, 0) - 1)
            if self.binder is not None and t.after.agent is not None:
                try:
                    await self.binder.unbind(sid)
                except Exception:  # the call has ended whatever the agent runtime says
                    log.exception("unbinding the agent of ended call %s failed", sid)
        self._publish(WatchEvent(CallEvent(call=t.after, previous_status=t.before.status, sequence=t.sequence)))
        return t.after

    def _publish(self, item: WatchEvent) -> None:
        call = item.event.call
        assert call is not None
        for watcher in self._watchers:
            if watcher.tenant != call.tenant_id or (watcher.statuses and call.status not in watcher.statuses):
                continue
            if watcher.queue.full():  # the oldest goes; the sequence numbers show the gap
                watcher.queue.get_nowait()
                watcher.dropped += 1
                self.stats.watch_events_dropped += 1
            watcher.queue.put_nowait(item)


def _fingerprint(request: OriginateRequest) -> bytes:
    """What makes two originate requests the same request: everything but the idempotency key (canonical encoding)."""
    copy = OriginateRequest.decode(request.encode())
    copy.idempotency_key = ""
    return hashlib.sha256(copy.encode()).digest()


def _is_call_events(service: CallService) -> CallEvents:
    return service  # mypy proves CallService is the gateway's CallEvents
