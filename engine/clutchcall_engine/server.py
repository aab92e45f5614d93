"""The engine's listeners: MoQT over raw QUIC, and HTTP/3 with WebTransport at /moq and Prometheus at /metrics.

`run_engine(config)` serves until cancelled; tests use `async with EngineServer(config) as srv`
with port 0 and read `srv.moqt_port` / `srv.http_port`.
"""

from __future__ import annotations

import asyncio
import logging
from importlib import resources
from types import TracebackType

from aioquic.asyncio.server import QuicServer
from clutchcall_runtime.moqt import versions
from clutchcall_runtime.moqt.memory import MemoryListener, listen_memory
from clutchcall_runtime.moqt.session import Session
from clutchcall_runtime.moqt.transport import ServerTls, Transport, bound_port, listen_http3, listen_quic
from clutchcall_runtime.rpc import HttpRequest, HttpResponse, h3_requests

from .agents.runtime import EngineAgents
from .auth import TokenVerifier, verifier_for
from .calls.media import RelayDownlinks
from .calls.plane import ControlPlane
from .calls.ports import CallSignalling
from .certs import CertInfo, resolve_certificate
from .config import EngineConfig
from .metrics import RelayMetrics
from .relay import Relay
from .sip.gateway import SipGateway

log = logging.getLogger("clutchcall.engine.server")


class EngineServer:
    """Both listeners and the relay behind them."""

    def __init__(
        self,
        config: EngineConfig,
        *,
        verifier: TokenVerifier | None = None,
        metrics: RelayMetrics | None = None,
        calls: bool = False,
        signalling: CallSignalling | None = None,
    ) -> None:
        """`calls`: also run the control plane (REST on rest_addr and the HTTP/3 port, envelope RPC on rpc_addr);
        `signalling` stands in for the SIP gateway (tests). With `calls`, voice.agents runs agents in
        `self.agents`, which attach to calls through this engine's own relay."""
        self.config = config
        self.metrics = metrics or RelayMetrics(max_tracks=config.limits.metrics_max_tracks)
        verifier = verifier or verifier_for(config)
        self.agents = EngineAgents(config.audience) if calls else None
        if self.agents is not None:
            verifier = self.agents.trusting(verifier)
        self.relay = Relay(config, verifier, self.metrics)
        binder = self.agents.binder if self.agents is not None else None
        # push_audio publishes downlinks through the agents' in-process client (one internal client per engine)
        downlinks = RelayDownlinks(self.agents.client) if self.agents is not None else None
        self.calls = (
            ControlPlane(
                config, verifier, signalling=signalling, binder=binder, downlinks=downlinks, fallback=self._http_app
            )
            if calls
            else None
        )
        if self.calls is not None:
            self.calls.register_metrics(self.metrics.registry)
        if self.agents is not None:
            self.agents.register_metrics(self.metrics.registry)
        self.cert: CertInfo | None = None
        self.sip: SipGateway | None = None
        self._servers: list[QuicServer] = []
        # The relay's in-process endpoint: the engine's own clients (the SIP gateway, the agents) reach it without
        # QUIC, which cost each of their frames two packetizations and two decryptions in this one process.
        self._memory: MemoryListener | None = None
        self.moqt_port = 0
        self.http_port = 0

    def _on_session(self, transport: Transport) -> None:
        self.relay.accept(transport)

    async def _http(self, path: str) -> tuple[int, str, bytes]:
        if path.split("?", 1)[0] == "/metrics":
            return 200, self.metrics.content_type, self.metrics.render()
        if path.split("?", 1)[0] == "/openapi.json":  # the REST surface, as generated from the IDL
            return 200, "application/json", resources.files("clutchcall").joinpath("openapi.json").read_bytes()
        return 404, "text/plain", b"not found\n"

    async def _http_app(self, request: HttpRequest) -> HttpResponse:
        """What the REST routes do not serve, on the HTTP/3 port and the control plane's HTTP/1.1 port."""
        if request.method not in ("GET", "HEAD"):
            return HttpResponse(405, b"method not allowed\n", "text/plain", [("allow", "GET, HEAD")])
        status, content_type, body = await self._http(request.target)
        return HttpResponse(status, body, content_type)

    async def start(self) -> None:
        self.cert = resolve_certificate(self.config)
        tls = ServerTls(str(self.cert.cert_path), str(self.cert.key_path))
        idle = self.config.limits.idle_timeout_s
        moqt = await listen_quic(
            self.config.moqt_addr.host,
            self.config.moqt_addr.port,
            tls,
            self._on_session,
            alpn=versions.DEFAULT.alpn,
            idle_timeout=idle,
            max_uni_streams=self.config.limits.max_streams_per_session,
        )
        self._servers.append(moqt)
        http = await listen_http3(
            self.config.http_addr.host,
            self.config.http_addr.port,
            tls,
            self._on_session,
            self._http,
            idle_timeout=idle,
            max_uni_streams=self.config.limits.max_streams_per_session,
            # REST beside WebTransport on one port: every request but CONNECT goes to the control plane's app
            requests=h3_requests(self.calls.rest_app, refused=self.calls.h3_refused)
            if self.calls is not None
            else None,
        )
        self._servers.append(http)
        self.moqt_port, self.http_port = bound_port(moqt), bound_port(http)
        self._memory = listen_memory(self._on_session)
        if self.agents is not None:
            self.agents.url = self.internal_url
            self.agents.cert_sha256 = self.cert.sha256
        if self.calls is not None:
            await self.calls.start(tls)
            if self.config.sip.enabled and self.calls.service.signalling is None:
                await self._start_sip_gateway()
        log.info(
            "engine listening moqt=%s:%d http=%s:%d webtransport=%s cert_sha256=%s",
            self.config.moqt_addr.host,
            self.moqt_port,
            self.config.http_addr.host,
            self.http_port,
            versions.WEBTRANSPORT_PATH,
            self.cert.sha256,
        )

    async def _start_sip_gateway(self) -> None:
        """The SIP gateway as the control plane's signalling; its audio goes through this engine's relay with a
        token signed by the development key (none, and so no audio bridge, when production keys are configured)."""
        from .auth import load_or_create_dev_key, mint_token
        from .sip.media import relay_bridge
        from .sip.metrics import SipCollector

        assert self.calls is not None and self.cert is not None
        bridge = None
        if not self.config.verification_keys:
            tenant = "sip-gateway"
            # Its legs publish their uplink out of their own jitter buffers on clocks aligned to the RTP: the relay's
            # stages play that track through without a second buffer (bridge/stage.py).
            self.relay.bridge.paced_tenants.add(tenant)
            token = mint_token(
                load_or_create_dev_key(self.config.state_dir),
                tenant=tenant,
                publish=("voice",),
                subscribe=("voice",),
                ttl_s=365 * 86_400,
                audience=self.config.audience,
            )
            bridge = relay_bridge(self.internal_url, token, self.cert.sha256)
        self.sip = SipGateway(self.config.sip, self.calls.service, bridge)
        await self.sip.start()
        self.metrics.registry.register(SipCollector(self.sip))
        self.calls.service.signalling = self.sip

    @property
    def internal_url(self) -> str:
        """Where the engine's own clients reach its relay: `memory://…`, in this process."""
        assert self._memory is not None, "the engine is not started"
        return self._memory.url

    def sessions(self) -> list[Session]:
        return list(self.relay.peers)

    async def stop(self, grace_s: float = 0.0) -> None:
        """GOAWAY to every session, up to `grace_s` for them to leave, then close what is left."""
        if self.agents is not None:
            await self.agents.close()
        sessions = self.sessions()
        for session in sessions:
            session.goaway()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s
        while grace_s > 0 and self.relay.peers and loop.time() < deadline:
            await asyncio.sleep(0.05)
        for session in self.sessions():
            session.close(0, "engine stopping")
        await asyncio.sleep(0)
        for server in self._servers:
            server.close()
        self._servers.clear()
        if self._memory is not None:
            self._memory.close()
            self._memory = None
        if self.sip is not None:
            await self.sip.stop()
            self.sip = None
        if self.calls is not None:
            await self.calls.stop()
        await asyncio.sleep(0)  # the UDP sockets close on the next loop turn: then the ports are free again

    async def __aenter__(self) -> EngineServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


async def run_engine(config: EngineConfig, *, ready: asyncio.Event | None = None) -> None:
    """Serve until cancelled; `ready` is set once both listeners are bound."""
    server = EngineServer(config, calls=True)
    await server.start()
    try:
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()
    finally:
        await asyncio.shield(server.stop(config.limits.goaway_grace_s))
