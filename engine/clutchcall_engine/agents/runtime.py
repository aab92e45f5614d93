"""The engine's agent runtime: AgentBinder ports are AudioBridges over an in-process MoQT client.

An agent attaches to its call exactly as an SDK user would (`clutchcall_runtime.bridge.attach`,
role "attach", pcm16 at the binder's rate), so the relay's transcoding serves it too. The client
connects to the engine's own relay (`memory://…`, no QUIC in between) on first bind, with a token
signed by a key made at start-up that never leaves the process (`trusting` adds its public half to
the engine's verifier).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping

from clutchcall_runtime.bridge import attach
from clutchcall_runtime.moqt.client import Client, connect
from cryptography.hazmat.primitives.asymmetric import ec
from prometheus_client import CollectorRegistry

from ..auth import TokenVerifier, key_id, mint_token
from .agent import ReplayAgent
from .binding import AgentBinder, AgentFactory, BinderSettings
from .metrics import AgentCollector
from .session import AudioPort, EventObserver

INTERNAL_TOKEN_TTL_S = 30 * 24 * 3600  # the process's lifetime in practice; the client reconnects with it
DEFAULT_AGENTS: Mapping[str, AgentFactory] = {"replay": lambda _binding: ReplayAgent()}


class EngineAgents:
    def __init__(
        self,
        audience: str,
        agents: Mapping[str, AgentFactory] | None = None,
        settings: BinderSettings | None = None,
        *,
        observer: EventObserver | None = None,
    ) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._audience = audience
        self.tenant = f"_engine-agents-{secrets.token_hex(4)}"
        self.binder = AgentBinder(self.open_port, agents or DEFAULT_AGENTS, settings, observer=observer)
        self.url: str | None = None  # set by the engine once its relay listens (memory://…)
        self.cert_sha256: str | None = None
        self._client: Client | None = None
        self._connecting = asyncio.Lock()

    def trusting(self, verifier: TokenVerifier) -> TokenVerifier:
        """`verifier` that also accepts this runtime's internal token."""
        keys = dict(verifier.keys) if isinstance(verifier.keys, Mapping) else {key_id(k): k for k in verifier.keys}
        public = self._key.public_key()
        keys[key_id(public)] = public
        return TokenVerifier(keys, verifier.audience, verifier.leeway_s, verifier.anonymous)

    async def client(self) -> Client:
        """The runtime's in-process MoQT client (connected on first use): also for other in-engine publishers."""
        async with self._connecting:
            if self._client is None:
                if self.url is None:
                    raise RuntimeError("the engine's relay is not listening yet")
                token = mint_token(
                    self._key,
                    tenant=self.tenant,
                    publish=["voice"],
                    subscribe=["voice"],
                    ttl_s=INTERNAL_TOKEN_TTL_S,
                    audience=self._audience,
                    kid=key_id(self._key.public_key()),
                )
                self._client = await connect(self.url, token, cert_sha256=self.cert_sha256)
            return self._client

    def register_metrics(self, registry: CollectorRegistry) -> None:
        """Export the binder's counters (agents/metrics.py) in the engine's registry, served at /metrics."""
        registry.register(AgentCollector(self.binder))

    _connected = client  # the name server.py used first; kept until it switches to client()

    async def open_port(self, sid: str, sample_rate: int, frame_ms: int) -> AudioPort:
        client = await self.client()
        return await attach(client, sid, role="attach", codec="pcm16", sample_rate=sample_rate, frame_ms=frame_ms)

    async def close(self) -> None:
        await self.binder.close()
        if self._client is not None:
            await self._client.close()
            self._client = None
