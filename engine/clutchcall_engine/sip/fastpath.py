"""sip_rtp calls on the core's relay engine: the B2BUA's second party and the RTP fast path.

A call whose default_app is SIP_RTP has no MoQT bridge once it has two SIP parties:

- `transfer(pstn_number)` of such a call is done here, not by REFER: the gateway dials the new number
  through the trunk as a second leg of the same sid (offering the first leg's codec first). On its 2xx
  both legs' Python RTP sockets close and the relay engine takes the same ports, so neither party needs
  a re-INVITE; nothing is hung up. If the new party fails (4xx-6xx, no answer within
  `forward_ring_timeout_s`, the transfer cancelled by the control plane's timeout), its leg ends and the
  call goes on as before, on its Python RTP leg; the transfer raises SignallingError with the status.
- an inbound INVITE to a `[sip] forward` number creates a sip_rtp call (a new sid) and dials the target;
  180/183 are passed back as 180/183, the target's failure as the caller's final response, its 2xx
  answers the caller, and the two legs are relayed.
- before a second party exists (a sip_rtp call just answered), RTP is terminated in Python as for any
  call (the uplink is published; the downlink played), so the call is never silent.

The relay Leg of each party is our port and the address its SDP gave (c=/m=): packets from any other
source are dropped and counted (foreign_source). Same codec on both legs: FORWARD, byte for byte;
otherwise (PCMU vs PCMA, G.711 vs Opus) TRANSCODE with the payload type each party negotiated.

A BYE from either party ends both legs and the call: from the first party CALLER_HANGUP (it is the second
party's caller), from the second party CALLEE_HANGUP; hangup from the SDK ends both (API_HANGUP). While the
relay holds a call's ports they stay out of the gateway's PortRange; `remove_call` returns them, and its
counters are logged and added to the totals /metrics exports.

Not done here: a re-INVITE on a relayed leg (hold, a new address) is answered with the same port and
codec, but the relay keeps the addresses and codecs it was given (hold does not pause it); RFC 4733 DTMF
of relayed legs is the relay's to carry (untested here) and is not reported as events.

AF_XDP: the classifier steers every RTP packet to rtp_ports arriving on relay_ifname to the relay while the
engine runs, so calls whose RTP Python terminates (bridged calls, a sip_rtp call before its second party)
lose their RTP on that interface (the shards count it as unknown_port): use af_xdp only where the calls on
that interface are all relayed (e.g. a forward-only gateway). auto without relay_ifname uses io_uring.

One relay Engine per gateway, made at the first relayed call with `[sip] relay_backend` (auto falls
back AF_XDP -> io_uring -> recvmmsg as the core does; the reason is logged once), `relay_ifname`,
`relay_shards`, and the gateway's rtp_ports as its port range; stopped with the gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from clutchcall import CallStatus, DefaultApp, EndReason

from . import sdp
from .gateway import Leg, LegState, SignallingError, _final_status
from .media import RtpLeg
from .message import Request, Response, SipParseError, uri_user_host

if TYPE_CHECKING:
    from clutchcall_core.relay import CallStats, Engine

    from .gateway import SipGateway

log = logging.getLogger("clutchcall.engine.sip.fastpath")
SWITCH_ATTEMPTS = 20
"""add_call tries while the closed Python sockets' ports come free (1 ms apart after the first)."""


@dataclass
class RelayTotals:
    """Counters of relayed calls: ended calls folded in at remove_call, so /metrics never goes down."""

    calls: int = 0
    forward_calls: int = 0
    transcode_calls: int = 0
    first_to_second: int = 0  # packets the relay sent to the second party (what the first party said)
    second_to_first: int = 0
    malformed: int = 0
    foreign_source: int = 0
    tx_dropped: int = 0
    failed_switches: int = 0  # a relay add_call that failed (the call went on in Python)
    second_party_failures: int = 0  # transfers and forwards whose target did not answer


@dataclass
class RelayedCall:
    relay_id: int
    first: Leg
    second: Leg


@dataclass
class _Dialing:
    """A second party being dialed: its final outcome (status, reason) lands in `outcome`; its 180/183 are
    passed on to `early` (an inbound caller still waiting for its answer)."""

    leg: Leg
    early: Leg | None
    outcome: asyncio.Future[tuple[int, str]] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def settle(self, status: int, reason: str) -> None:
        if not self.outcome.done():
            self.outcome.set_result((status, reason))


def fold(totals: RelayTotals, stats: CallStats) -> None:
    totals.first_to_second += stats["b"]["tx_packets"]
    totals.second_to_first += stats["a"]["tx_packets"]
    for leg in (stats["a"], stats["b"]):
        totals.malformed += leg["malformed"]
        totals.foreign_source += leg["foreign_source"]
        totals.tx_dropped += leg["tx_dropped"]


class FastPath:
    def __init__(self, gateway: SipGateway) -> None:
        self.gw = gateway
        self.config = gateway.config
        self._engine: Engine | None = None
        self._next_id = 1
        self.calls: dict[str, RelayedCall] = {}  # by sid
        self._seconds: dict[int, Leg] = {}  # second parties whose leg is not released yet (for stop()), by id
        self.totals = RelayTotals()

    # ---- the relay engine ----------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            import clutchcall_core

            first, last = self.config.rtp_ports
            self._engine = clutchcall_core.relay.Engine(
                backend=self.config.relay_backend,
                ifname=self.config.relay_ifname,
                port_lo=first,
                port_hi=last,
                shards=self.config.relay_shards,
                max_calls=min(self.config.max_calls, 1 << 24),
            )
            log.info(
                "relay engine started: backend %s, %d shard(s)%s",
                self._engine.backend,
                self._engine.shard_count,
                f" ({self._engine.fallback_reason})" if self._engine.fallback_reason else "",
            )
        return self._engine

    @property
    def backend(self) -> str | None:
        return self._engine.backend if self._engine is not None else None

    def live_stats(self) -> list[CallStats]:
        if self._engine is None:
            return []
        out = []
        for call in list(self.calls.values()):
            with contextlib.suppress(RuntimeError):  # removed meanwhile
                out.append(self._engine.call_stats(call.relay_id))
        return out

    def stop(self) -> None:
        """With the gateway: relayed calls leave the engine, second parties' sockets close (their release
        tasks are cancelled with the gateway's), the engine stops."""
        for sid in list(self.calls):
            self._unrelay(sid)
        for second in self._seconds.values():
            if second.ring_timer is not None:
                second.ring_timer.cancel()
            if second.media is not None and second.media.transport is not None:
                second.media.transport.close()
        self._seconds.clear()
        if self._engine is not None:
            self._engine.stop()
            self._engine = None

    # ---- hooks the gateway calls -----------------------------------------------------------------

    def forward_target(self, req: Request) -> str | None:
        """The `[sip] forward` target of an initial INVITE's Request-URI user, if any."""
        user = uri_user_host(req.uri)[0]
        return dict(self.config.forward).get(user) if user else None

    def released(self, leg: Leg) -> None:
        """A leg the gateway releases: when it is a relayed call's first leg the relay lets its ports go, and
        the second party of a sip_rtp call is hung up. Other legs (a barge's supervisor) are not ours."""
        call = self.calls.get(leg.sid)
        if call is not None and call.first is leg:
            self._unrelay(leg.sid)
        second, leg.second = leg.second, None
        if second is not None and second.state != LegState.ENDED:
            self._end_second(second)

    def second_party_bye(self, second: Leg) -> None:
        """BYE from the second party: its leg is over; the first party gets a BYE and the call completes."""
        second.state = LegState.ENDED
        first = second.first
        self._spawn_release(second)
        if first is None or first.state == LegState.ENDED:
            return
        if first.state == LegState.CONFIRMED:
            self.gw._send_in_dialog(first, "BYE")
        self.gw._report(first, CallStatus.COMPLETED, EndReason.CALLEE_HANGUP)

    # ---- transfer and forward --------------------------------------------------------------------

    async def transfer(self, first: Leg, to: str) -> None:
        """Dial `to` as the second party of `first`'s call; relay both on answer. Raises SignallingError."""
        if first.second is not None:
            raise SignallingError(f"call {first.sid} already has a second party ({first.second.remote_uri})")
        assert first.media is not None
        from_ = uri_user_host(first.local_uri if first.outbound else first.remote_uri)[0] or "anonymous"
        dialing = await self._dial_second(first, to, from_, first.media.codec, early=None)
        try:
            status, reason = await dialing.outcome
        except asyncio.CancelledError:  # the control plane stopped waiting: the new party is dropped
            self._end_second(dialing.leg)
            raise
        if status >= 300:
            raise SignallingError(f"the new party {to} did not answer: {status} {reason}")
        if first.state != LegState.CONFIRMED:
            self._end_second(dialing.leg)
            raise SignallingError(f"call {first.sid} ended while {to} was dialed")
        if not await self._switch(first, dialing.leg):
            raise SignallingError(f"the relay engine refused the call; {to} was hung up")

    async def forward(self, first: Leg, offer: sdp.AudioMedia | None, codec: int, to: str) -> None:
        """An inbound sip_rtp call (`first` early, its INVITE pending): dial `to` and answer when it does."""
        tx = first.invite_tx
        assert tx is not None
        from_ = uri_user_host(first.remote_uri)[0] or "anonymous"
        try:
            dialing = await self._dial_second(first, to, from_, codec, early=first)
        except (SignallingError, OSError) as exc:
            log.warning("forward of %s to %s failed: %s", first.sid, to, exc)
            self.totals.second_party_failures += 1
            self.gw._reject_inbound(first, 503, EndReason.NETWORK_ERROR)
            return
        status, reason = await dialing.outcome
        if first.state == LegState.ENDED or tx.final_status:  # the caller CANCELed meanwhile
            return
        if status >= 300:
            # a B2BUA passes the target's final status on; its own 503 would say *we* are overloaded (16.7)
            code = 480 if status == 408 else 500 if status == 503 else status
            self.gw._respond(tx, code, to_tag=first.local_tag)
            end_status, end_reason = _final_status(status)
            self.gw._report(first, end_status, end_reason, f"forward target: {status} {reason}")
            return
        self.gw._accept(first, tx, offer)
        if not await self._switch(first, dialing.leg):
            self.gw._send_in_dialog(first, "BYE")
            self.gw._report(first, CallStatus.FAILED, EndReason.NETWORK_ERROR, "the relay engine refused the call")

    async def _dial_second(self, first: Leg, to: str, from_: str, codec: int, early: Leg | None) -> _Dialing:
        gw = self.gw
        media = await gw.ports.open(lambda: RtpLeg(lambda digit, ms: None))  # holds the port while it rings
        second = await gw._trunk_leg(first.sid, to, from_, media)
        second.first, second.default_app = first, DefaultApp.SIP_RTP
        first.second = second
        self._seconds[id(second)] = second
        dialing = _Dialing(second, early)
        second.ring_timer = asyncio.get_running_loop().call_later(
            self.config.forward_ring_timeout_s, self._second_ring_timeout, dialing
        )
        gw._invite(second, codec, lambda r: self._second_response(dialing, r))
        return dialing

    def _second_response(self, dialing: _Dialing, resp: Response) -> None:
        gw, second, early = self.gw, dialing.leg, dialing.early
        if resp.status < 200:
            first_provisional = not second.provisional
            second.provisional = True
            tx = early.invite_tx if early is not None and early.state == LegState.EARLY else None
            if resp.status in (180, 183) and early is not None and tx is not None and tx.final_status == 0:
                gw._respond_provisional(tx, resp.status, early.local_tag)
            if second.cancel_reason is not None and first_provisional:
                gw._send_cancel(second)
            return
        if second.ring_timer is not None:
            second.ring_timer.cancel()
        if resp.status >= 300:
            if not dialing.outcome.done():  # not counted already (ring timeout) or given up on (transfer cancelled)
                self.totals.second_party_failures += 1
            second.state = LegState.ENDED
            self._spawn_release(second)
            dialing.settle(resp.status, resp.reason)
            return
        gw._confirm(second, resp)
        if second.state == LegState.ENDED or second.cancel_reason is not None or dialing.outcome.done():
            second.state = LegState.CONFIRMED  # answered after we gave up: end it at once
            self._end_second(second)
            return
        second.state = LegState.CONFIRMED
        try:
            gw._start_media(second, sdp.parse(resp.body) if resp.body else None)
        except SipParseError as exc:
            self.totals.second_party_failures += 1
            self._end_second(second)
            dialing.settle(488, f"bad SDP answer: {exc.reason}")
            return
        dialing.settle(resp.status, resp.reason)

    def _second_ring_timeout(self, dialing: _Dialing) -> None:
        if dialing.leg.state == LegState.EARLY:
            self.totals.second_party_failures += 1
            self.gw._cancel(dialing.leg, EndReason.NO_ANSWER)  # its 487 releases the leg
            dialing.settle(408, "no answer within sip.forward_ring_timeout_s")

    def _end_second(self, second: Leg) -> None:
        """Hang up the second party (BYE once answered, CANCEL while it rings) and free its leg."""
        if second.first is not None and second.first.second is second:
            second.first.second = None
        if second.state == LegState.CONFIRMED:
            self.gw._send_in_dialog(second, "BYE")
        elif second.state == LegState.EARLY:
            self.gw._cancel(second, EndReason.API_HANGUP)
        second.state = LegState.ENDED
        self._spawn_release(second)

    def _spawn_release(self, second: Leg) -> None:
        self.gw._spawn(self._release_second(second))

    async def _release_second(self, second: Leg) -> None:
        self._seconds.pop(id(second), None)
        if second.ring_timer is not None:
            second.ring_timer.cancel()
        if second.relayed:
            self._unrelay(second.sid)
        gw = self.gw
        if gw.by_call_id.get(second.call_id) is second:  # late retransmissions still match for a while
            asyncio.get_running_loop().call_later(64 * self.config.t1_s, gw.by_call_id.pop, second.call_id, None)
        if second.first is not None and second.first.second is second:
            second.first.second = None
        if second.media is not None:
            media, second.media = second.media, None
            gw.ports.release(media.port)
            await media.close()

    # ---- the switch --------------------------------------------------------------------------------

    async def _switch(self, first: Leg, second: Leg) -> bool:
        """Both legs' RTP from Python to the relay engine on the same ports; False (the second party hung up) if not."""
        import clutchcall_core

        assert first.media is not None and second.media is not None
        legs = []
        for leg in (first, second):
            media = leg.media
            assert media is not None
            legs.append(
                clutchcall_core.relay.Leg(
                    (self.config.rtp_host, media.port),
                    media.remote,
                    codec=sdp.codec_name(media.codec),
                    payload_type=media.payload_type,
                )
            )
        started = time.monotonic()
        for leg in (first, second):  # the sockets go first: the relay binds the same ports
            media = leg.media
            assert media is not None
            for task in media._tasks:
                task.cancel()
            if media.transport is not None:
                media.transport.close()
        relay_id = self._next_id
        self._next_id += 1
        for attempt in range(SWITCH_ATTEMPTS):
            # asyncio closes a datagram socket one loop iteration after close(): until then the port is taken
            await asyncio.sleep(0 if attempt == 0 else 0.001)
            try:
                self.engine.add_call(relay_id, legs[0], legs[1])
                break
            except (RuntimeError, ValueError) as exc:
                if attempt == SWITCH_ATTEMPTS - 1:
                    log.error("relay engine refused call %s: %s", first.sid, exc)
                    self.totals.failed_switches += 1
                    self._end_second(second)
                    return False
        first.relayed = second.relayed = True
        self.calls[first.sid] = RelayedCall(relay_id, first, second)
        self.totals.calls += 1
        if legs[0].codec == legs[1].codec:
            self.totals.forward_calls += 1
        else:
            self.totals.transcode_calls += 1
        log.info(
            "call %s relayed (%s, %s <-> %s) in %.1f ms",
            first.sid,
            self.engine.backend,
            legs[0].codec,
            legs[1].codec,
            (time.monotonic() - started) * 1000,
        )
        return True

    def _unrelay(self, sid: str) -> None:
        call = self.calls.pop(sid, None)
        if call is None or self._engine is None:
            return
        try:
            stats = self._engine.remove_call(call.relay_id)
        except RuntimeError as exc:
            log.error("relay remove_call of %s failed: %s", sid, exc)
            return
        fold(self.totals, stats)
        log.info("relayed call %s ended: %s", sid, _summary(stats))


def _summary(stats: Any) -> str:
    a, b = stats["a"], stats["b"]
    mode = "transcode" if stats["transcoding"] else "forward"
    return (
        f"{mode}, first->second {b['tx_packets']} packets, second->first {a['tx_packets']} packets, "
        f"malformed {a['malformed'] + b['malformed']}, foreign_source {a['foreign_source'] + b['foreign_source']}, "
        f"tx_dropped {a['tx_dropped'] + b['tx_dropped']}"
    )
