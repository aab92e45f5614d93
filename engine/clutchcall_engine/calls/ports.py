"""The interface between the control plane (calls/) and the SIP gateway (sip/).

The control plane calls `CallSignalling` (implemented by the gateway) to place, end and transfer
calls; the gateway calls `CallEvents` (implemented by the control plane) to report what the
carrier did. Status, end reason and codec are the generated enums' ints (clutchcall.CallStatus,
clutchcall.EndReason, clutchcall.Codec) so neither side depends on the other's types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
_SIP_URI = re.compile(
    r"^sip:([A-Za-z0-9+\-_.!~*'()&=$,;?/%]+)@([A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?)(?::([0-9]{1,5}))?$"
)


@dataclass(frozen=True)
class SupervisorTarget:
    """Where a barge dials: `host` None means the number through the trunk, else the SIP URI's host directly."""

    user: str
    host: str | None = None
    port: int = 5060


def supervisor_target(address: str) -> SupervisorTarget:
    """A supervisor's E.164 number or `sip:user@host[:port]` URI; ValueError says what is wrong with it."""
    if E164.fullmatch(address):
        return SupervisorTarget(address)
    uri = _SIP_URI.fullmatch(address)
    if uri is None:
        raise ValueError(f"supervisor must be an E.164 number (+14155550100) or sip:user@host[:port], got {address!r}")
    port = int(uri.group(3) or 5060)
    if not 1 <= port <= 65535:
        raise ValueError(f"supervisor: port {port} is not in 1..65535")
    return SupervisorTarget(uri.group(1), uri.group(2), port)


class CallSignalling(Protocol):
    """Implemented by the SIP gateway, called by the control plane."""

    async def dial(
        self, sid: str, tenant: str, to: str, from_: str, codec: int, ring_timeout_s: float, default_app: int
    ) -> None:
        """`default_app` (clutchcall.DefaultApp): SIP_RTP calls get no MoQT bridge once a second party joins."""
        ...

    async def hangup(self, sid: str) -> None: ...

    async def transfer(self, sid: str, to: str) -> None: ...

    async def barge(self, sid: str, supervisor: str, mode: int) -> None:
        """Dial `supervisor` (see `supervisor_target`) into the answered call `sid` with a clutchcall.BargeMode;
        returns once the supervisor's leg is dialing. Errors may carry `.code` (a clutchcall.ErrorCode)."""
        ...


class CallEvents(Protocol):
    """Implemented by the control plane, called by the SIP gateway."""

    async def status_changed(self, sid: str, status: int, end_reason: int | None = None, detail: str = "") -> None: ...

    async def inbound_call(self, tenant: str, from_: str, to: str, codec: int, *, default_app: int) -> str:
        """Creates the call (with that clutchcall.DefaultApp) and returns its new sid."""
        ...

    async def dtmf(self, sid: str, digit: str, duration_ms: int) -> None: ...
