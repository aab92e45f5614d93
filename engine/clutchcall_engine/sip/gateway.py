"""The SIP gateway: a B2BUA between the carrier trunk and the engine's calls.

It implements `calls.ports.CallSignalling` (dial, hangup, transfer) for the control plane and
reports what the carrier does through `calls.ports.CallEvents`:

- outbound: INVITE to the trunk; 180/183 -> ringing, 2xx -> in_progress, 486/600 -> failed (busy),
  403/603 -> failed (rejected), 408/480 or the ring timeout -> no_answer (CANCEL sent), BYE from
  either side -> completed;
- inbound: an INVITE creates a call through `CallEvents.inbound_call` (a new sid), answered at once;
- transfer: REFER (RFC 3515) in the dialog, the sid kept; re-INVITE: hold and resume;
- sip_rtp calls (DefaultApp.SIP_RTP, and inbound calls to a `[sip] forward` number): the B2BUA dials the
  second party itself and relays the two legs' RTP on the core's relay engine (fastpath.py);
- DTMF: RFC 4733 telephone events (and SIP INFO dtmf-relay) reported per digit;
- barge (legacy): a supervisor dialled as a second leg of the same sid (a new dialog, its own RTP port),
  mixed in per BargeMode by conference.py on the call leg's clock; one supervisor per call (a second barge
  is ALREADY_EXISTS until the first leg ends). It ends on the supervisor's BYE or with the call (we send
  BYE, or CANCEL while it rings); it never changes the call's status, and is logged and counted;
- bounds: new INVITEs past `invite_rate` (token bucket of `invite_burst`) or past `max_calls` get 503
  with Retry-After, counted in `stats`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from clutchcall import CallStatus, Codec, DefaultApp, EndReason, ErrorCode

from ..calls.ports import CallEvents, supervisor_target
from ..config import ConfigError, SipConfig
from . import sdp
from .conference import Conference, Mixer, Party
from .media import AudioBridge, BridgeFactory, PortRange, RtpLeg
from .message import (
    REASONS,
    Headers,
    NameAddr,
    Request,
    Response,
    SipParseError,
    parse_name_addr,
    response_to,
    uri_user_host,
)
from .transaction import LOCAL_TIMEOUT, MAGIC_COOKIE, Addr, ServerTransaction, Timers, TransactionLayer, TransactionUser

log = logging.getLogger("clutchcall.engine.sip")

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO"
SUPPORTED: frozenset[str] = frozenset()  # option tags we implement (none of the extensions)


SUPERVISOR_RING_TIMEOUT_S = 30.0
"""How long a barge's supervisor leg rings before it is CANCELed (BargeRequest has no timeout of its own)."""


class SignallingError(RuntimeError):
    """A dial, hangup, transfer or barge the gateway cannot carry out; the message says why, `code` (an
    ErrorCode) and `field` when the refusal has a more precise reason than the gateway being unavailable."""

    def __init__(self, message: str, code: ErrorCode | None = None, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


class LegState(Enum):
    EARLY = "early"
    CONFIRMED = "confirmed"
    ENDED = "ended"


@dataclass
class Leg:
    """One call's dialog with the carrier (RFC 3261 12) and its media."""

    sid: str
    outbound: bool
    call_id: str
    local_tag: str
    local_uri: str
    remote_uri: str
    peer: Addr
    reliable: bool = False
    remote_tag: str | None = None
    remote_target: str = ""
    route_set: list[str] = field(default_factory=list)
    local_cseq: int = 1
    remote_cseq: int = 0
    state: LegState = LegState.EARLY
    status: int = CallStatus.DIALING
    invite: Request | None = None
    invite_tx: ServerTransaction | None = None
    provisional: bool = False
    cancel_reason: int | None = None
    transferred: bool = False
    held: bool = False
    media: RtpLeg | None = None
    sdp_version: int = 0
    ring_timer: asyncio.TimerHandle | None = None
    supervisor: bool = False  # a barge's supervisor leg: its status is its own, never reported as the call's
    barge_mode: int = 0  # clutchcall.BargeMode, for a supervisor leg
    default_app: int = DefaultApp.AI_BIDIRECTIONAL_STREAM
    second: Leg | None = None  # on a sip_rtp call's first leg: the second party the B2BUA dialed
    first: Leg | None = None  # on that second party's leg: the call's first leg (the one in `legs`)
    relayed: bool = False  # the RTP is on the relay engine, this leg's Python socket closed


@dataclass
class GatewayStats:
    invites_in: int = 0
    invites_out: int = 0
    refused_rate: int = 0
    refused_capacity: int = 0
    answered: int = 0
    ended: int = 0
    holds: int = 0  # re-INVITEs that put a call on hold (its downlink RTP pauses until resumed)
    supervisor_dials: int = 0
    supervisor_answered: int = 0
    supervisor_ended: int = 0
    conference_agent_dropped: int = 0  # downlink frames a conference's bounded queue dropped (folded in at its end)


def _accepts_sdp(req: Request) -> bool:
    """Whether the request's Accept (absent: application/sdp, RFC 3261 20.1) allows an SDP answer."""
    accept = req.headers.get_all("accept")
    if not accept:
        return True
    ranges = {v.split(";")[0].strip().lower() for value in accept for v in value.split(",")}
    return bool(ranges & {"application/sdp", "application/*", "*/*"})


def _token() -> str:
    return secrets.token_hex(8)


class TokenBucket:
    """`rate` per second with bursts of `burst`: the INVITE flood bound."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens = float(burst)
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def retry_after_s(self) -> int:
        return max(1, int((1.0 - self.tokens) / self.rate + 0.999))


class SipGateway(TransactionUser):
    def __init__(self, config: SipConfig, events: CallEvents, bridge: BridgeFactory | None = None) -> None:
        self.config = config
        self.events = events
        self.bridge_factory = bridge
        self.bridge: AudioBridge | None = None
        t1 = config.t1_s
        self.layer = TransactionLayer(self, Timers(t1=t1, t2=8 * t1, t4=10 * t1))
        self.ports = PortRange(config.rtp_host, *config.rtp_ports)
        self.bucket = TokenBucket(config.invite_rate, config.invite_burst)
        self.legs: dict[str, Leg] = {}  # by sid
        self.supervisors: dict[str, Leg] = {}  # a barge's supervisor leg, by the call's sid
        self.by_call_id: dict[str, Leg] = {}
        self.stats = GatewayStats()
        self._tasks: set[asyncio.Task[None]] = set()
        self.host = config.listen.host
        self.port = 0
        from .fastpath import FastPath  # imported here: fastpath imports this module's Leg

        self.fastpath = FastPath(self)

    # ---- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the SIP port (UDP and TCP); a missing core module stops the start here, not at the first call."""
        try:
            import clutchcall_core  # noqa: F401 - the RTP path of every call needs it
        except ImportError:
            raise ConfigError(
                "sip.enabled: the SIP gateway needs the core module clutchcall_core (the engine wheel, or "
                "make core-module and PYTHONPATH=build/bindings/pkg)"
            ) from None
        await self.layer.transport.start(self.config.listen.host, self.config.listen.port)
        self.port = self.layer.transport.local[1]
        if self.bridge_factory is not None:
            self.bridge = await self.bridge_factory()
        log.info("sip gateway on %s:%d (udp, tcp), trunk %s", self.host, self.port, self.config.trunk)

    async def stop(self) -> None:
        for leg in list(self.legs.values()):
            if leg.state == LegState.CONFIRMED:
                self._send_in_dialog(leg, "BYE")
            await self._release(leg)
        for leg in list(self.supervisors.values()):
            await self._release(leg)
        for task in list(self._tasks):
            task.cancel()
        self.fastpath.stop()
        self.layer.close()

    def _spawn(self, coro: object) -> None:
        assert asyncio.iscoroutine(coro)
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sip gateway task failed", exc_info=task.exception())

    @property
    def contact(self) -> str:
        return f"<sip:clutchcall@{self.host}:{self.port}>"

    def _via(self, reliable: bool) -> str:
        return f"SIP/2.0/{'TCP' if reliable else 'UDP'} {self.host}:{self.port};branch={MAGIC_COOKIE}{_token()};rport"

    # ---- status reports --------------------------------------------------------------------------

    def _report(self, leg: Leg, status: int, end_reason: int | None = None, detail: str = "") -> None:
        if leg.status == status or not CallStatus.can_transition(leg.status, status):
            return
        leg.status = status
        if leg.supervisor:
            self._supervisor_status(leg, status, detail)
            return
        if status in (CallStatus.COMPLETED, CallStatus.FAILED, CallStatus.NO_ANSWER):
            leg.state = LegState.ENDED
            self.stats.ended += 1
            self._spawn(self._release(leg))
        self._spawn(self.events.status_changed(leg.sid, status, end_reason, detail))

    async def _release(self, leg: Leg) -> None:
        self.fastpath.released(leg)  # before the ports go back: the relay engine holds them
        if leg.ring_timer is not None:
            leg.ring_timer.cancel()
        if self.legs.get(leg.sid) is leg:
            del self.legs[leg.sid]
            self._end_supervisor(leg.sid)
        elif leg.supervisor:
            self._leave_conference(leg)
        if self.by_call_id.get(leg.call_id) is leg:
            # keep the Call-ID a little longer so late retransmissions (BYE, 2xx) still match
            asyncio.get_running_loop().call_later(64 * self.config.t1_s, self.by_call_id.pop, leg.call_id, None)
        if leg.media is not None:
            media, leg.media = leg.media, None
            self.ports.release(media.port)
            await media.close()

    # ---- CallSignalling --------------------------------------------------------------------------

    async def dial(
        self,
        sid: str,
        tenant: str,
        to: str,
        from_: str,
        codec: int,
        ring_timeout_s: float,
        default_app: int = DefaultApp.AI_BIDIRECTIONAL_STREAM,
    ) -> None:
        if sid in self.legs:
            raise SignallingError(f"call {sid} is already dialing")
        if len(self.legs) >= self.config.max_calls:
            self.stats.refused_capacity += 1
            raise SignallingError(f"the gateway holds max_calls={self.config.max_calls} calls")
        codec = codec if codec in (Codec.G711_ULAW, Codec.G711_ALAW, Codec.OPUS) else Codec.G711_ULAW
        media = await self.ports.open(lambda: RtpLeg(lambda d, ms: self._dtmf(sid, d, ms)))
        leg = await self._trunk_leg(sid, to, from_, media)
        leg.default_app = default_app
        self.legs[sid] = leg
        self._invite(leg, codec, lambda r: self._invite_response(leg, r))
        leg.ring_timer = asyncio.get_running_loop().call_later(ring_timeout_s, self._ring_timeout, leg)

    async def _trunk_leg(self, sid: str, to: str, from_: str, media: RtpLeg) -> Leg:
        """A new outbound leg toward the trunk (its TCP connection made); on failure the media is released."""
        trunk = self.config.trunk
        leg = Leg(
            sid=sid,
            outbound=True,
            call_id=f"{_token()}@{self.host}",
            local_tag=_token(),
            local_uri=f"sip:{_user(from_)}@{self.host}",
            remote_uri=f"sip:{_user(to)}@{trunk.host}:{trunk.port}",
            peer=(trunk.host, trunk.port),
            reliable=self.config.trunk_transport == "tcp",
            media=media,
        )
        leg.remote_target = leg.remote_uri
        if leg.reliable:
            try:
                await self.layer.transport.connect(leg.peer)
            except OSError as exc:
                self.ports.release(media.port)
                await media.close()
                raise SignallingError(f"cannot reach the trunk {trunk} over TCP: {exc}") from None
        return leg

    def _invite(self, leg: Leg, codec: int, on_response: Callable[[Response], None]) -> None:
        """Send the leg's initial INVITE offering `codec` first."""
        assert leg.media is not None
        headers = self._dialog_headers(leg, "INVITE", leg.local_cseq, leg.reliable)
        headers.add("contact", self.contact)
        headers.add("x-clutchcall-sid", leg.sid)
        headers.add("content-type", "application/sdp")
        body = sdp.build(self.config.rtp_host, leg.media.port, int(time.time()), sdp.offer_formats(codec))
        leg.invite = Request(headers, body, "INVITE", leg.remote_uri)
        self.by_call_id[leg.call_id] = leg
        self.stats.invites_out += 1
        self.layer.send_request(leg.invite, leg.peer, on_response, leg.reliable)

    async def hangup(self, sid: str) -> None:
        leg = self.legs.get(sid)
        if leg is None:
            return  # ended already (or never here): nothing to tear down
        if leg.state == LegState.CONFIRMED:
            self._send_in_dialog(leg, "BYE")
            self._report(leg, CallStatus.COMPLETED, EndReason.API_HANGUP)
        elif leg.outbound:
            self._cancel(leg, EndReason.API_HANGUP)
        else:
            self._reject_inbound(leg, 480, EndReason.API_HANGUP)

    async def transfer(self, sid: str, to: str) -> None:
        leg = self.legs.get(sid)
        if leg is None or leg.state != LegState.CONFIRMED:
            raise SignallingError(f"call {sid} is not answered; only a live call can be transferred")
        if leg.default_app == DefaultApp.SIP_RTP:
            await self.fastpath.transfer(leg, _user(to))  # the B2BUA dials the new party itself
            return
        trunk = self.config.trunk
        done: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._send_in_dialog(
            leg,
            "REFER",
            extra=[("refer-to", f"<sip:{_user(to)}@{trunk.host}:{trunk.port}>"), ("referred-by", f"<{leg.local_uri}>")],
            on_final=lambda r: None if done.done() else done.set_result(r),
        )
        resp = await done
        if resp.status >= 300:
            raise SignallingError(f"the carrier refused the transfer: {resp.status} {resp.reason}")
        leg.transferred = True

    # ---- barge: a supervisor leg ---------------------------------------------------------------------

    async def barge(self, sid: str, supervisor: str, mode: int) -> None:
        self._check_bargeable(sid)
        try:
            target = supervisor_target(supervisor)
        except ValueError as exc:
            raise SignallingError(str(exc), ErrorCode.INVALID_ARGUMENT, "supervisor") from None
        if len(self.legs) + len(self.supervisors) >= self.config.max_calls:
            self.stats.refused_capacity += 1
            raise SignallingError(
                f"the gateway holds max_calls={self.config.max_calls} legs", ErrorCode.RESOURCE_EXHAUSTED
            )
        peer: Addr | None = None
        if target.host is not None:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(target.host, target.port, type=socket.SOCK_DGRAM)
            except OSError as exc:
                raise SignallingError(
                    f"supervisor host {target.host!r} does not resolve: {exc}", ErrorCode.INVALID_ARGUMENT, "supervisor"
                ) from None
            peer = (str(infos[0][4][0]), target.port)
        media = await self.ports.open(lambda: RtpLeg(lambda d, ms: None))  # the supervisor's digits are not the call's
        try:
            call = self._check_bargeable(sid)  # again: the call may have ended, or another barge won, meanwhile
        except SignallingError:
            self.ports.release(media.port)
            await media.close()
            raise
        if peer is None:
            leg = await self._trunk_leg(sid, target.user, call.local_uri, media)
            if sid in self.supervisors:  # another barge won while the trunk's TCP connection was made
                self.ports.release(media.port)
                await media.close()
                self._check_bargeable(sid)  # raises ALREADY_EXISTS (INVALID_TRANSITION if the call ended)
        else:
            remote_uri = f"sip:{target.user}@{peer[0]}:{peer[1]}"
            call_id = f"{_token()}@{self.host}"
            leg = Leg(
                sid, True, call_id, _token(), call.local_uri, remote_uri, peer, remote_target=remote_uri, media=media
            )
        leg.supervisor, leg.barge_mode = True, mode
        self.supervisors[sid] = leg
        self._invite(leg, call.media.codec if call.media else Codec.G711_ULAW, lambda r: self._invite_response(leg, r))
        leg.ring_timer = asyncio.get_running_loop().call_later(SUPERVISOR_RING_TIMEOUT_S, self._ring_timeout, leg)
        self.stats.supervisor_dials += 1
        log.info("sid=%s supervisor leg dialing %s (mode %d)", sid, leg.remote_uri, mode)

    def _check_bargeable(self, sid: str) -> Leg:
        call = self.legs.get(sid)
        if call is None or call.state != LegState.CONFIRMED:
            raise SignallingError(
                f"call {sid} is not answered and live: a supervisor joins only an answered call",
                ErrorCode.INVALID_TRANSITION,
            )
        if sid in self.supervisors:
            raise SignallingError(
                f"call {sid} already has a supervisor leg (one per call, until its BYE or the call's end)",
                ErrorCode.ALREADY_EXISTS,
            )
        if call.relayed or call.second is not None:
            raise SignallingError(
                f"call {sid} is relayed between two parties by the core (sip_rtp): no audio to mix a supervisor into",
                ErrorCode.INVALID_TRANSITION,
            )
        if call.media is None or not call.media.bridged:
            raise SignallingError(f"call {sid} has no media bridge to mix a supervisor into", ErrorCode.UNAVAILABLE)
        return call

    def _supervisor_status(self, leg: Leg, status: int, detail: str) -> None:
        """A supervisor leg's progress: logged and counted, never the call's status."""
        log.info(
            "sid=%s supervisor leg %s%s", leg.sid, CallStatus(status).name.lower(), f" ({detail})" if detail else ""
        )
        if status == CallStatus.IN_PROGRESS:
            self.stats.supervisor_answered += 1
            self._join_conference(leg)
        elif CallStatus.is_terminal(status):
            leg.state = LegState.ENDED
            self.stats.supervisor_ended += 1
            self._spawn(self._release(leg))

    def _join_conference(self, leg: Leg) -> None:
        call = self.legs.get(leg.sid)
        call_media, media = (call.media if call else None), leg.media
        if call is None or call.state != LegState.CONFIRMED or call_media is None or media is None:
            self._send_in_dialog(leg, "BYE")  # the call ended while the supervisor's phone rang
            self._report(leg, CallStatus.COMPLETED, EndReason.API_HANGUP, "the call ended")
            return
        call_media.conference = Conference(
            Mixer(leg.barge_mode, call_media.codec, media.codec),
            media.tick_frame,
            lambda payload: call_media.send_frame(payload, call_media.frame_samples),
            lambda payload: media.send_frame(payload, media.frame_samples),
        )

    def _remix(self, sid: str) -> None:
        """After a re-INVITE of either leg: a new codec gets a new mixer (the old one would decode it wrongly)."""
        call, leg = self.legs.get(sid), self.supervisors.get(sid)
        conference = call.media.conference if call is not None and call.media is not None else None
        if conference is None or call is None or call.media is None or leg is None or leg.media is None:
            return
        if (conference.mixer.codecs[Party.CALLER], conference.mixer.codecs[Party.SUPERVISOR]) != (
            call.media.codec,
            leg.media.codec,
        ):
            self.stats.conference_agent_dropped += conference.stats.agent_dropped
            self._join_conference(leg)

    def _leave_conference(self, leg: Leg) -> None:
        if self.supervisors.get(leg.sid) is leg:
            del self.supervisors[leg.sid]
        call = self.legs.get(leg.sid)
        if call is not None and call.media is not None and call.media.conference is not None:
            self.stats.conference_agent_dropped += call.media.conference.stats.agent_dropped
            call.media.conference = None

    def _end_supervisor(self, sid: str) -> None:
        """The call ended: so does its supervisor leg (BYE once answered, else CANCEL)."""
        leg = self.supervisors.get(sid)
        if leg is None or leg.state == LegState.ENDED:
            return
        if leg.state == LegState.CONFIRMED:
            self._send_in_dialog(leg, "BYE")
            self._report(leg, CallStatus.COMPLETED, EndReason.API_HANGUP, "the call ended")
        else:
            self._cancel(leg, EndReason.API_HANGUP)

    # ---- outbound ---------------------------------------------------------------------------------

    def _dialog_headers(self, leg: Leg, method: str, cseq: int, reliable: bool = False) -> Headers:
        headers = Headers()
        headers.add("via", self._via(reliable))
        headers.add("max-forwards", "70")
        headers.add("from", f"<{leg.local_uri}>;tag={leg.local_tag}")
        to = f"<{leg.remote_uri}>" + (f";tag={leg.remote_tag}" if leg.remote_tag else "")
        headers.add("to", to)
        headers.add("call-id", leg.call_id)
        headers.add("cseq", f"{cseq} {method}")
        for route in leg.route_set:
            headers.add("route", route)
        return headers

    def _invite_response(self, leg: Leg, resp: Response) -> None:
        if resp.status < 200:
            first = not leg.provisional
            leg.provisional = True  # any provisional response, 100 included, allows a CANCEL (9.1)
            if resp.status >= 180:
                self._report(leg, CallStatus.RINGING)
            if leg.cancel_reason is not None and first:
                self._send_cancel(leg)
            return
        if resp.status < 300:
            self._answered(leg, resp)
            return
        if leg.cancel_reason is not None:  # 487 after our CANCEL (or a final that crossed it)
            self._report(leg, CallStatus.NO_ANSWER, leg.cancel_reason)
            return
        if resp.status == 408 and resp.reason == LOCAL_TIMEOUT:
            self._report(leg, CallStatus.FAILED, EndReason.NETWORK_ERROR, "no response from the trunk")
            return
        status, reason = _final_status(resp.status)
        self._report(leg, status, reason, f"{resp.status} {resp.reason}")

    def _confirm(self, leg: Leg, resp: Response) -> None:
        """The dialog a 2xx to our INVITE makes (RFC 3261 12.1.2), and its ACK."""
        to = parse_name_addr(resp.headers.get("to") or "", "To")
        leg.remote_tag = to.tag
        contact = resp.headers.get_all("contact")
        if contact:
            leg.remote_target = parse_name_addr(contact[0], "Contact").uri
        leg.route_set = list(reversed(resp.headers.get_all("record-route")))
        self._ack(leg, resp.cseq[0])

    def _answered(self, leg: Leg, resp: Response) -> None:
        self._confirm(leg, resp)
        if leg.state == LegState.ENDED or leg.cancel_reason is not None:
            leg.state = LegState.CONFIRMED
            self._send_in_dialog(leg, "BYE")  # answered after we gave up: end it at once
            self._report(leg, CallStatus.NO_ANSWER, leg.cancel_reason or EndReason.NO_ANSWER)
            return
        if leg.ring_timer is not None:
            leg.ring_timer.cancel()
        leg.state = LegState.CONFIRMED
        try:
            self._start_media(leg, sdp.parse(resp.body) if resp.body else None)
        except SipParseError as exc:
            self._send_in_dialog(leg, "BYE")
            self._report(leg, CallStatus.FAILED, EndReason.NETWORK_ERROR, f"bad SDP answer: {exc.reason}")
            return
        if not leg.supervisor:
            self.stats.answered += 1
        self._report(leg, CallStatus.IN_PROGRESS)

    def _ack(self, leg: Leg, cseq: int) -> None:
        ack = Request(self._dialog_headers(leg, "ACK", cseq, leg.reliable), b"", "ACK", leg.remote_target)
        self.layer.send_stateless(ack, self._next_hop(leg), leg.reliable)

    def _next_hop(self, leg: Leg) -> Addr:
        return leg.peer  # the trunk (or the inbound peer) is the next hop for every in-dialog request

    def on_stray_response(self, resp: Response, addr: Addr) -> None:
        """2xx retransmissions of an INVITE whose client transaction ended: ACK again (13.2.2.4)."""
        leg = self.by_call_id.get(resp.call_id)
        if leg is not None and resp.cseq[1] == "INVITE" and 200 <= resp.status < 300 and leg.outbound:
            self._ack(leg, resp.cseq[0])

    def _ring_timeout(self, leg: Leg) -> None:
        if leg.state == LegState.EARLY:
            self._cancel(leg, EndReason.NO_ANSWER)

    def _cancel(self, leg: Leg, reason: int) -> None:
        if leg.cancel_reason is not None:
            return
        leg.cancel_reason = reason
        if leg.provisional:
            self._send_cancel(leg)
        # else: CANCEL waits for the first provisional response (9.1); the transaction's timer B bounds it

    def _send_cancel(self, leg: Leg) -> None:
        assert leg.invite is not None
        invite = leg.invite
        headers = Headers()
        headers.add("via", invite.headers.get_all("via")[0])
        headers.add("max-forwards", "70")
        for name in ("from", "to", "call-id"):
            headers.add(name, invite.headers.get(name) or "")
        headers.add("cseq", f"{invite.cseq[0]} CANCEL")
        cancel = Request(headers, b"", "CANCEL", invite.uri)
        self.layer.send_request(cancel, leg.peer, lambda r: None, leg.reliable)

    def _send_in_dialog(
        self,
        leg: Leg,
        method: str,
        *,
        extra: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        on_final: Callable[[Response], None] | None = None,
    ) -> None:
        leg.local_cseq += 1
        headers = self._dialog_headers(leg, method, leg.local_cseq, leg.reliable)
        for name, value in extra or []:
            headers.add(name, value)
        req = Request(headers, body, method, leg.remote_target)

        def on_response(resp: Response) -> None:
            if resp.status >= 200 and on_final is not None:
                on_final(resp)

        self.layer.send_request(req, self._next_hop(leg), on_response, leg.reliable)

    # ---- inbound ----------------------------------------------------------------------------------

    def on_request(self, req: Request, tx: ServerTransaction | None, addr: Addr, reliable: bool) -> None:
        if req.method == "ACK":
            return  # an ACK no transaction waits for: nothing to do (17.2.3)
        assert tx is not None
        to = parse_name_addr(req.headers.get("to") or "", "To")
        if to.tag is None:
            self._out_of_dialog(req, tx, addr, reliable)
            return
        leg = self.by_call_id.get(req.call_id)
        from_tag = parse_name_addr(req.headers.get("from") or "", "From").tag
        if leg is None or leg.remote_tag not in (None, from_tag) or to.tag != leg.local_tag:
            if req.method == "CANCEL":
                self._cancel_request(req, tx)
                return
            log.debug("481 for %s: no dialog with Call-ID %s", req.method, req.call_id)
            tx.respond(response_to(req, 481, REASONS[481]))
            return
        self._in_dialog(leg, req, tx)

    def _respond(self, tx: ServerTransaction, status: int, *, to_tag: str | None = None, **headers: str) -> None:
        resp = response_to(tx.request, status, REASONS.get(status, "Error"), to_tag=to_tag or _token())
        for name, value in headers.items():
            resp.headers.add(name.replace("_", "-"), value)
        tx.respond(resp)

    def _out_of_dialog(self, req: Request, tx: ServerTransaction, addr: Addr, reliable: bool) -> None:
        if req.method == "CANCEL":
            self._cancel_request(req, tx)
            return
        # 8.2.2.3: a UAS refuses any request (but ACK and CANCEL) requiring an extension it lacks
        unsupported = [t for v in req.headers.get_all("require") for t in v.split(",") if t.strip() not in SUPPORTED]
        if unsupported:
            self._respond(tx, 420, unsupported=", ".join(t.strip() for t in unsupported))
        elif req.method == "OPTIONS":
            self._respond(tx, 200, allow=ALLOW, accept="application/sdp")
        elif req.method == "INVITE":
            self._new_invite(req, tx, addr, reliable)
        elif req.method in ("BYE", "NOTIFY", "INFO", "REFER"):
            self._respond(tx, 481)
        else:
            self._respond(tx, 405, allow=ALLOW)

    def _cancel_request(self, req: Request, tx: ServerTransaction) -> None:
        invite_tx = self.layer.find_invite(req)
        if invite_tx is None:
            self._respond(tx, 481)
            return
        self._respond(tx, 200)
        leg = self.by_call_id.get(req.call_id)
        if leg is not None and leg.state == LegState.EARLY:
            self._reject_inbound(leg, 487, EndReason.CALLER_HANGUP)
        elif invite_tx.final_status == 0:
            invite_tx.respond(response_to(invite_tx.request, 487, REASONS[487], to_tag=_token()))

    def _new_invite(self, req: Request, tx: ServerTransaction, addr: Addr, reliable: bool) -> None:
        self.stats.invites_in += 1
        if not self.bucket.take():
            self.stats.refused_rate += 1
            self._respond(tx, 503, retry_after=str(self.bucket.retry_after_s()))
            return
        if len(self.legs) >= self.config.max_calls:
            self.stats.refused_capacity += 1
            self._respond(tx, 503, retry_after="5")
            return
        content_type = (req.headers.get("content-type") or "application/sdp").split(";")[0].strip().lower()
        if req.body and content_type != "application/sdp":
            self._respond(tx, 415, accept="application/sdp")
            return
        if not _accepts_sdp(req):
            self._respond(tx, 406, accept="application/sdp")  # 21.4.7: our answer would be SDP (RFC 4475 3.3.15)
            return
        try:
            offer = sdp.parse(req.body) if req.body else None
        except SipParseError as exc:
            self._respond(tx, exc.status, warning=f'399 clutchcall "{exc.reason}"')
            return
        for contact in req.headers.get_all("contact"):
            parse_name_addr(contact, "Contact")  # raises SipParseError: answered 400 by the transaction layer
        chosen = sdp.choose(offer) if offer is not None else (Codec.G711_ULAW, 0)
        if chosen is None:
            self._respond(tx, 488, warning='304 clutchcall "no common codec (PCMU, PCMA, opus)"')
            return
        self._respond_provisional(tx, 100)
        forward_to = self.fastpath.forward_target(req)
        self._spawn(self._answer_inbound(req, tx, addr, reliable, offer, chosen, forward_to))

    def _respond_provisional(self, tx: ServerTransaction, status: int, to_tag: str | None = None) -> None:
        tx.respond(response_to(tx.request, status, REASONS[status], to_tag=to_tag))

    async def _answer_inbound(
        self,
        req: Request,
        tx: ServerTransaction,
        addr: Addr,
        reliable: bool,
        offer: sdp.AudioMedia | None,
        chosen: tuple[int, int],
        forward_to: str | None = None,
    ) -> None:
        caller = parse_name_addr(req.headers.get("from") or "", "From")
        callee = parse_name_addr(req.headers.get("to") or "", "To")
        codec, _ = chosen
        try:
            media = await self.ports.open(lambda: RtpLeg(lambda d, ms: None))
        except OSError:
            self.stats.refused_capacity += 1
            self._respond(tx, 503, retry_after="5")
            return
        default_app = DefaultApp.SIP_RTP if forward_to is not None else DefaultApp.AI_BIDIRECTIONAL_STREAM
        try:
            sid = await self.events.inbound_call(
                self.config.inbound_tenant,
                _user(uri_user_host(caller.uri)[0] or caller.uri),
                _user(callee.uri),
                codec,
                default_app=default_app,
            )
        except Exception as exc:
            log.warning("inbound call refused by the control plane: %s", exc)
            self.ports.release(media.port)
            await media.close()
            self._respond(tx, 503, retry_after="5")
            return
        media.on_dtmf = lambda digit, ms: self._dtmf(sid, digit, ms)
        contact = req.headers.get_all("contact")
        leg = Leg(
            sid=sid,
            outbound=False,
            call_id=req.call_id,
            local_tag=_token(),
            local_uri=callee.uri,
            remote_uri=caller.uri,
            peer=addr,
            reliable=reliable,
            remote_tag=caller.tag,
            remote_target=parse_name_addr(contact[0], "Contact").uri if contact else caller.uri,
            route_set=req.headers.get_all("record-route"),
            remote_cseq=req.cseq[0],
            status=CallStatus.RINGING,
            invite=req,
            invite_tx=tx,
            media=media,
            default_app=default_app,
        )
        self.legs[sid] = leg
        self.by_call_id[leg.call_id] = leg
        if tx.final_status:  # CANCELed while the control plane created the call
            self._report(leg, CallStatus.NO_ANSWER, EndReason.CALLER_HANGUP)
            return
        if forward_to is not None:  # answered when the forward target answers
            await self.fastpath.forward(leg, offer, codec, forward_to)
            return
        self._respond_provisional(tx, 180, leg.local_tag)
        self._accept(leg, tx, offer)

    def _accept(self, leg: Leg, tx: ServerTransaction, offer: sdp.AudioMedia | None) -> None:
        """200 with our SDP answer; the call is in progress once the ACK arrives (or ends if none does)."""
        answer = self._start_media(leg, offer)
        resp = response_to(tx.request, 200, "OK", to_tag=leg.local_tag, body=answer)
        for rr in leg.route_set:
            resp.headers.add("record-route", rr)
        resp.headers.add("contact", self.contact)
        resp.headers.add("allow", ALLOW)
        resp.headers.add("content-type", "application/sdp")
        leg.state = LegState.CONFIRMED
        tx.on_ack = lambda ack: self._report(leg, CallStatus.IN_PROGRESS)
        tx.on_ack_timeout = lambda: self._no_ack(leg)
        tx.respond(resp)
        self.stats.answered += 1

    def _no_ack(self, leg: Leg) -> None:
        self._send_in_dialog(leg, "BYE")
        self._report(leg, CallStatus.FAILED, EndReason.NETWORK_ERROR, "no ACK for our 200")

    def _reject_inbound(self, leg: Leg, status: int, reason: int) -> None:
        if leg.invite_tx is not None and leg.invite_tx.final_status == 0:
            self._respond(leg.invite_tx, status, to_tag=leg.local_tag)
        self._report(leg, CallStatus.NO_ANSWER, reason)

    def _start_media(self, leg: Leg, remote: sdp.AudioMedia | None) -> bytes:
        """Point the leg's RTP at the remote SDP and start bridging; return our SDP answer (inbound)."""
        media = leg.media
        if media is None:
            return b""
        formats: list[tuple[int, int]]
        if remote is None:
            formats = [(Codec.G711_ULAW, 0)]
            direction = "sendrecv"
        else:
            chosen = sdp.choose(remote) or (Codec.G711_ULAW, 0)
            formats = [chosen]
            media.negotiate((remote.host, remote.port), chosen[0], chosen[1], remote.telephone_event_pt())
            direction = sdp.answer_direction(remote)
            if remote.on_hold and not leg.held:
                self.stats.holds += 1
            leg.held = remote.on_hold
            media.sending = not remote.on_hold
        if (
            self.bridge is not None
            and not media._tasks
            and leg.second is None
            and leg.first is None
            and not leg.supervisor
        ):
            media.start_bridge(self.bridge, leg.sid)
        leg.sdp_version += 1
        te = remote.telephone_event_pt() if remote is not None else sdp.TELEPHONE_EVENT_PT
        return sdp.build(
            self.config.rtp_host,
            media.port,
            int(time.time()),
            formats,
            telephone_event_pt=te,
            direction=direction,
            version=leg.sdp_version,
        )

    # ---- in-dialog requests -----------------------------------------------------------------------

    def _in_dialog(self, leg: Leg, req: Request, tx: ServerTransaction) -> None:
        number = req.cseq[0]
        if req.method != "CANCEL" and number <= leg.remote_cseq and not (req.method == "INVITE" and number == 0):
            self._respond(tx, 500, to_tag=leg.local_tag, retry_after="1")  # 12.2.2: out of order
            return
        if req.method != "CANCEL":
            leg.remote_cseq = number
        if req.method == "BYE":
            self._respond(tx, 200, to_tag=leg.local_tag)
            if leg.first is not None:  # the second party of a relayed call hung up: the call ends
                self.fastpath.second_party_bye(leg)
                return
            if leg.second is not None:
                reason = EndReason.CALLER_HANGUP  # with a second party, the first party is its caller
            elif leg.transferred:
                reason = EndReason.TRANSFERRED
            else:
                reason = EndReason.CALLEE_HANGUP if leg.outbound else EndReason.CALLER_HANGUP
            self._report(leg, CallStatus.COMPLETED, reason)
        elif req.method == "INVITE":
            self._reinvite(leg, req, tx)
        elif req.method == "NOTIFY":
            self._respond(tx, 200, to_tag=leg.local_tag)
        elif req.method == "INFO":
            self._info(leg, req, tx)
        elif req.method == "OPTIONS":
            self._respond(tx, 200, to_tag=leg.local_tag, allow=ALLOW)
        elif req.method == "CANCEL":
            self._cancel_request(req, tx)
        else:
            self._respond(tx, 405, to_tag=leg.local_tag, allow=ALLOW)

    def _reinvite(self, leg: Leg, req: Request, tx: ServerTransaction) -> None:
        """Hold (sendonly / inactive / c=0.0.0.0) and resume; the answer mirrors the direction (RFC 3264 8.4)."""
        if leg.state != LegState.CONFIRMED:
            self._respond(tx, 491, to_tag=leg.local_tag)
            return
        try:
            offer = sdp.parse(req.body) if req.body else None
        except SipParseError as exc:
            self._respond(tx, exc.status, to_tag=leg.local_tag)
            return
        if offer is not None and sdp.choose(offer) is None:
            self._respond(tx, 488, to_tag=leg.local_tag)
            return
        contact = req.headers.get_all("contact")
        if contact:
            leg.remote_target = parse_name_addr(contact[0], "Contact").uri
        answer = self._start_media(leg, offer)
        resp = response_to(req, 200, "OK", to_tag=leg.local_tag, body=answer)
        resp.headers.add("contact", self.contact)
        resp.headers.add("content-type", "application/sdp")
        tx.respond(resp)
        self._remix(leg.sid)

    def _info(self, leg: Leg, req: Request, tx: ServerTransaction) -> None:
        """SIP INFO with application/dtmf-relay (Signal=5, Duration=160): DTMF from carriers without RFC 4733."""
        content_type = (req.headers.get("content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/dtmf-relay":
            self._respond(tx, 415, to_tag=leg.local_tag, accept="application/dtmf-relay")
            return
        fields = dict(
            (k.strip().lower(), v.strip())
            for k, _, v in (line.partition("=") for line in req.body.decode("utf-8", "replace").splitlines())
        )
        digit = fields.get("signal", "")
        duration = fields.get("duration", "0")
        if len(digit) != 1 or digit.upper() not in "0123456789*#ABCD" or not duration.isdigit():
            self._respond(tx, 400, to_tag=leg.local_tag)
            return
        self._respond(tx, 200, to_tag=leg.local_tag)
        if not leg.supervisor:  # a supervisor's digits are not the call's
            self._dtmf(leg.sid, digit.upper(), int(duration))

    def _dtmf(self, sid: str, digit: str, duration_ms: int) -> None:
        self._spawn(self.events.dtmf(sid, digit, duration_ms))


def _user(address: str) -> str:
    """The user part of a number or URI ('+15551234', 'sip:+1555@host' -> '+1555'); SIP-safe characters only."""
    if ":" in address:
        address = uri_user_host(address)[0] or uri_user_host(address)[1]
    safe = "".join(c for c in address if c.isalnum() or c in "+-_.!~*'()&=$,;?/")
    if not safe:
        raise SignallingError(f"address {address!r} has no user part")
    return safe


def _final_status(code: int) -> tuple[int, int]:
    """A final failure response -> (CallStatus, EndReason)."""
    if code in (486, 600):
        return CallStatus.FAILED, EndReason.BUSY
    if code in (403, 603):
        return CallStatus.FAILED, EndReason.REJECTED
    if code in (408, 480):
        return CallStatus.NO_ANSWER, EndReason.NO_ANSWER
    if code == 487:
        return CallStatus.NO_ANSWER, EndReason.NO_ANSWER
    return CallStatus.FAILED, EndReason.NETWORK_ERROR if code >= 500 else EndReason.REJECTED


__all__ = ["GatewayStats", "NameAddr", "SignallingError", "SipGateway"]
