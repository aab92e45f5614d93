"""The interface between the control plane (calls/) and the SIP gateway (sip/).

The control plane calls `CallSignalling` (implemented by the gateway) to place, end and transfer
calls; the gateway calls `CallEvents` (implemented by the control plane) to report what the
carrier did. Status, end reason and codec are the generated enums' ints (clutchcall.CallStatus,
clutchcall.EndReason, clutchcall.Codec) so neither side depends on the other's types.
"""

from __future__ import annotations

from typing import Protocol


class CallSignalling(Protocol):
    """Implemented by the SIP gateway, called by the control plane."""

    async def dial(
        self, sid: str, tenant: str, to: str, from_: str, codec: int, ring_timeout_s: float, default_app: int
    ) -> None:
        """`default_app` (clutchcall.DefaultApp): SIP_RTP calls get no MoQT bridge once a second party joins."""
        ...

    async def hangup(self, sid: str) -> None: ...

    async def transfer(self, sid: str, to: str) -> None: ...


class CallEvents(Protocol):
    """Implemented by the control plane, called by the SIP gateway."""

    async def status_changed(self, sid: str, status: int, end_reason: int | None = None, detail: str = "") -> None: ...

    async def inbound_call(self, tenant: str, from_: str, to: str, codec: int, *, default_app: int) -> str:
        """Creates the call (with that clutchcall.DefaultApp) and returns its new sid."""
        ...

    async def dtmf(self, sid: str, digit: str, duration_ms: int) -> None: ...
