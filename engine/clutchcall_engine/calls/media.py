"""Where the control plane's legacy push_audio puts audio: the call's downlink track on the engine's relay.

The downlink is published with the pushed codec's capability tag (`voice/<codec>`); the relay hands it
to the call's legs in their own codecs (it transcodes on the subscriber's intent), so push_audio needs
no media code of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from clutchcall.bridges import VOICE_BRIDGE, capability
from clutchcall_runtime.moqt.client import Client


class DownlinkWriter(Protocol):
    def write(self, payload: bytes, *, end_of_group: bool = False) -> object: ...

    async def aclose(self, timeout: float = 1.0) -> None: ...


class DownlinkPort(Protocol):
    async def open_downlink(self, sid: str, codec: int) -> DownlinkWriter: ...


class RelayDownlinks:
    """Publishes downlinks through a MoQT client connected to the engine's own relay."""

    def __init__(self, client: Callable[[], Awaitable[Client]]) -> None:
        self._client = client

    async def open_downlink(self, sid: str, codec: int) -> DownlinkWriter:
        client = await self._client()
        namespace = VOICE_BRIDGE.namespace_for(sid).split("/")
        return await client.publish(namespace, "downlink", capability=capability(codec))
