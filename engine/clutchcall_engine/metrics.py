"""The relay's Prometheus metrics, in one registry served as text at /metrics.

The relay calls (method names are the interface; keep them stable):

    m = RelayMetrics(max_tracks=config.limits.metrics_max_tracks)
    m.session_opened()                              # sessions gauge +1, sessions_opened_total +1
    m.session_closed(code)                          # sessions gauge -1, session_closes_total{code}
    m.auth_refused(kind)                            # auth_refusals_total{kind}; kind = AuthError.kind
    t = m.track(tenant, namespace, track_name)      # TrackMetrics: per-track counters, resolved once per track
    t.object_in(nbytes)                             # objects_in_total, bytes_in_total
    t.object_out(nbytes)                            # objects_out_total, bytes_out_total (once per subscriber)
    t.dropped(objects, nbytes)                      # drops_total, dropped_bytes_total (a queue bound dropped them)
    m.queue_changed(delta_objects)                  # queue_depth gauge (objects queued to all subscribers)
    m.refused(limit)                                # limit_refusals_total{limit}: a request refused by a bound
    m.render() -> bytes, m.content_type             # the /metrics response

Label cardinality is bounded: the first `max_tracks` distinct (tenant, namespace, track) get their
own labels; later ones share ("_other", "_other", "_other") and each `track()` call that lands there
adds one to tracks_aggregated_total, so resolve a track once, when it is created, and keep the
TrackMetrics. `namespace` is the fields joined by "/" (non-UTF-8 bytes escaped).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

OTHER: Final = "_other"
_OTHER_KEY: Final = (OTHER, OTHER, OTHER)
_TRACK_LABELS: Final = ("tenant", "namespace", "track")


def namespace_label(namespace: Sequence[bytes]) -> str:
    return "/".join(f.decode("utf-8", "backslashreplace") for f in namespace)


class LoopCounter(Collector):
    """An unlabelled counter that only the event loop bumps: a plain integer add on the hot path (a
    prometheus_client Counter takes a lock on every inc), read when /metrics is scraped."""

    def __init__(self, name: str, documentation: str, registry: CollectorRegistry) -> None:
        self.name, self.documentation, self.value = name, documentation, 0
        registry.register(self)

    def inc(self, amount: int = 1) -> None:
        self.value += amount

    def collect(self) -> Iterable[Metric]:
        return [CounterMetricFamily(self.name, self.documentation, value=self.value)]


class LoopGauge(LoopCounter):
    """As LoopCounter, for a value that also goes down."""

    def collect(self) -> Iterable[Metric]:
        return [GaugeMetricFamily(self.name, self.documentation, value=self.value)]


# (metric name, help, TrackMetrics slot): the per-track counters, served as <name>_total
_TRACK_COUNTERS: Final = (
    ("clutchcall_objects_in", "Objects received from publishers", "objects_in"),
    ("clutchcall_bytes_in", "Payload bytes received from publishers", "bytes_in"),
    ("clutchcall_objects_out", "Objects sent to subscribers", "objects_out"),
    ("clutchcall_bytes_out", "Payload bytes sent to subscribers", "bytes_out"),
    ("clutchcall_drops", "Objects dropped by a subscriber queue bound", "drops"),
    ("clutchcall_dropped_bytes", "Payload bytes dropped by a subscriber queue bound", "dropped_bytes"),
)


class TrackMetrics:
    """The counters of one track (or of the shared _other labels), bound once so the hot path only adds.

    Plain integers, read by RelayMetrics' collector when /metrics is scraped: they are bumped once or twice
    per object per hop, where a prometheus_client child's locked inc() cost about as much as the hop's own
    bookkeeping. The event loop is their only writer.
    """

    __slots__ = ("bytes_in", "bytes_out", "dropped_bytes", "drops", "objects_in", "objects_out")

    def __init__(self) -> None:
        self.objects_in = self.bytes_in = self.objects_out = self.bytes_out = self.drops = self.dropped_bytes = 0

    def object_in(self, nbytes: int) -> None:
        self.objects_in += 1
        self.bytes_in += nbytes

    def object_out(self, nbytes: int) -> None:
        self.objects_out += 1
        self.bytes_out += nbytes

    def dropped(self, objects: int, nbytes: int) -> None:
        self.drops += objects
        self.dropped_bytes += nbytes


class _TrackCollector(Collector):
    """Serves every TrackMetrics' integers as labelled counters at scrape time."""

    def __init__(self, tracks: dict[tuple[str, str, str], TrackMetrics]) -> None:
        self.tracks = tracks

    def collect(self) -> Iterable[Metric]:
        families = [CounterMetricFamily(name, doc, labels=_TRACK_LABELS) for name, doc, _ in _TRACK_COUNTERS]
        for labels, counters in list(self.tracks.items()):
            for family, (_, _, slot) in zip(families, _TRACK_COUNTERS, strict=True):
                family.add_metric(labels, getattr(counters, slot))
        return families


class RelayMetrics:
    def __init__(self, max_tracks: int = 1000, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self.max_tracks = max_tracks
        r = self.registry
        self.sessions = Gauge("clutchcall_sessions", "Open MoQT sessions", registry=r)
        self.sessions_total = Counter("clutchcall_sessions_opened", "MoQT sessions opened", registry=r)
        self.session_closes_total = Counter(
            "clutchcall_session_closes", "MoQT sessions closed, by close code", ["code"], registry=r
        )
        self.auth_refusals_total = Counter(
            "clutchcall_auth_refusals", "Tokens or requests refused by auth, by kind", ["kind"], registry=r
        )
        self.limit_refusals_total = Counter(
            "clutchcall_limit_refusals",
            "Requests refused because a configured limit was reached",
            ["limit"],
            registry=r,
        )
        self.queue_depth = LoopGauge("clutchcall_queue_depth", "Objects queued to subscribers", r)
        self.tracks_aggregated_total = Counter(
            "clutchcall_tracks_aggregated",
            "Tracks counted under _other labels (metrics_max_tracks reached)",
            registry=r,
        )
        # every track's counters by labels, the shared _other ones included; served by _TrackCollector
        self._tracks: dict[tuple[str, str, str], TrackMetrics] = {}
        r.register(_TrackCollector(self._tracks))

    @property
    def content_type(self) -> str:
        return CONTENT_TYPE_LATEST

    def session_opened(self) -> None:
        self.sessions.inc()
        self.sessions_total.inc()

    def session_closed(self, code: int) -> None:
        self.sessions.dec()
        self.session_closes_total.labels(f"0x{code:x}").inc()

    def auth_refused(self, kind: str) -> None:
        self.auth_refusals_total.labels(kind).inc()

    def refused(self, limit: str) -> None:
        self.limit_refusals_total.labels(limit).inc()

    def queue_changed(self, delta_objects: int) -> None:
        self.queue_depth.inc(delta_objects)

    def track(self, tenant: str, namespace: Sequence[bytes], track: bytes | str) -> TrackMetrics:
        name = track.decode("utf-8", "backslashreplace") if isinstance(track, bytes) else track
        key = (tenant, namespace_label(namespace), name)
        found = self._tracks.get(key)
        if found is not None:
            return found
        if len(self._tracks) - (_OTHER_KEY in self._tracks) < self.max_tracks:
            found = self._tracks[key] = TrackMetrics()
            return found
        self.tracks_aggregated_total.inc()
        return self._tracks.setdefault(_OTHER_KEY, TrackMetrics())

    def render(self) -> bytes:
        return generate_latest(self.registry)
