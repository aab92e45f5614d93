"""The control plane as the engine runs it: the store, the service, the generated handlers behind one
dispatcher, and its listeners (REST over HTTP/1.1 on `rest_addr`, the envelope RPC over QUIC on `rpc_addr`;
REST over HTTP/3 rides the engine's HTTP/3 port through `rest_app`).

At start, calls the store still holds as live are ended (the process that carried them is gone).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Iterator

from clutchcall_runtime.rpc import Dispatcher, EnvelopeServer, Http1Server, HttpApp, RestApp, ServerTls
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ..auth import TokenVerifier
from ..config import EngineConfig
from .handlers import LegacyClient, VoiceAgents, VoiceCalls, authenticator
from .media import DownlinkPort
from .ports import CallSignalling
from .service import AgentBinderPort, CallService
from .store import SqliteCallStore

log = logging.getLogger("clutchcall.engine.calls")


class ControlPlane:
    def __init__(
        self,
        config: EngineConfig,
        verifier: TokenVerifier,
        *,
        signalling: CallSignalling | None = None,
        binder: AgentBinderPort | None = None,
        downlinks: DownlinkPort | None = None,
        fallback: HttpApp | None = None,
    ) -> None:
        """`signalling` is the SIP gateway, `binder` the agent runtime, `downlinks` where push_audio publishes
        (each can be set later on `service`);
        `fallback` answers HTTP requests no REST route matches (the engine's /metrics, /openapi.json)."""
        self.config = config
        self.store = SqliteCallStore(
            config.calls_db_path, idempotency_retention_ms=int(config.limits.idempotency_retention_s * 1000)
        )
        self.service = CallService(self.store, signalling, config.limits, binder=binder, downlinks=downlinks)
        self.dispatcher = Dispatcher(
            [VoiceCalls(self.service), VoiceAgents(self.service), LegacyClient(self.service)],
            authenticate=authenticator(verifier),
        )
        self.rest_app = RestApp(self.dispatcher, fallback=fallback)
        self.http1 = Http1Server(self.rest_app, idle_timeout_s=config.limits.idle_timeout_s)
        self.envelope = EnvelopeServer(self.dispatcher, idle_timeout_s=config.limits.idle_timeout_s)
        self.h3_refused: Counter[str] = Counter()
        """REST requests the engine's HTTP/3 port refused by a bound (its listener counts into this)."""
        self.rest_port = 0
        self.rpc_port = 0

    async def start(self, tls: ServerTls) -> None:
        ended = await self.service.end_orphaned_calls()
        if ended:
            log.warning("ended %d calls left live by the previous run (end reason network_error)", len(ended))
        await self.http1.start(self.config.rest_addr.host, self.config.rest_addr.port)
        self.rest_port = self.http1.port
        await self.envelope.start(self.config.rpc_addr.host, self.config.rpc_addr.port, tls)
        self.rpc_port = self.envelope.port
        log.info(
            "control plane listening rest=%s:%d rpc=%s:%d store=%s",
            self.config.rest_addr.host,
            self.rest_port,
            self.config.rpc_addr.host,
            self.rpc_port,
            self.store.path,
        )

    def register_metrics(self, registry: CollectorRegistry) -> None:
        """Export CallStats, the errors answered by code and what the listeners' bounds refused."""
        registry.register(_ControlPlaneCollector(self))

    async def stop(self) -> None:
        await self.http1.stop()
        await self.envelope.stop()
        self.store.close()


class _ControlPlaneCollector(Collector):
    def __init__(self, plane: ControlPlane) -> None:
        self.plane = plane

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        service = self.plane.service
        for f in dataclasses.fields(service.stats):
            yield CounterMetricFamily(
                f"clutchcall_calls_{f.name}", f"Calls control plane: {f.name}", value=getattr(service.stats, f.name)
            )
        yield GaugeMetricFamily(
            "clutchcall_calls_live", "Calls not yet ended", value=sum(service.live_per_tenant().values())
        )
        yield GaugeMetricFamily("clutchcall_calls_watchers", "Open watch_calls streams", value=service.watcher_count())
        errors = CounterMetricFamily("clutchcall_rpc_errors", "ErrorStatus answers, by code", labels=["code"])
        for code, n in sorted(self.plane.dispatcher.errors.items()):
            errors.add_metric([code], n)
        yield errors
        refused = CounterMetricFamily(
            "clutchcall_rpc_refusals", "Requests and connections refused by a bound", labels=["listener", "reason"]
        )
        listeners = (
            ("http1", self.plane.http1.refused),
            ("http3", self.plane.h3_refused),
            ("envelope", self.plane.envelope.refused),
        )
        for listener, counts in listeners:
            for reason, n in sorted(counts.items()):
                refused.add_metric([listener, reason], n)
        yield refused
