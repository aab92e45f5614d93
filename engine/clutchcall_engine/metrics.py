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

from collections.abc import Sequence
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

OTHER: Final = "_other"
_TRACK_LABELS: Final = ("tenant", "namespace", "track")


def namespace_label(namespace: Sequence[bytes]) -> str:
    return "/".join(f.decode("utf-8", "backslashreplace") for f in namespace)


class TrackMetrics:
    """The counters of one track (or of the shared _other labels), bound once so the hot path only adds."""

    __slots__ = ("_bytes_in", "_bytes_out", "_drop_bytes", "_drops", "_objects_in", "_objects_out")

    def __init__(self, metrics: RelayMetrics, labels: tuple[str, str, str]) -> None:
        self._objects_in = metrics.objects_in_total.labels(*labels)
        self._bytes_in = metrics.bytes_in_total.labels(*labels)
        self._objects_out = metrics.objects_out_total.labels(*labels)
        self._bytes_out = metrics.bytes_out_total.labels(*labels)
        self._drops = metrics.drops_total.labels(*labels)
        self._drop_bytes = metrics.dropped_bytes_total.labels(*labels)

    def object_in(self, nbytes: int) -> None:
        self._objects_in.inc()
        self._bytes_in.inc(nbytes)

    def object_out(self, nbytes: int) -> None:
        self._objects_out.inc()
        self._bytes_out.inc(nbytes)

    def dropped(self, objects: int, nbytes: int) -> None:
        self._drops.inc(objects)
        self._drop_bytes.inc(nbytes)


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
        self.objects_in_total = Counter(
            "clutchcall_objects_in", "Objects received from publishers", _TRACK_LABELS, registry=r
        )
        self.bytes_in_total = Counter(
            "clutchcall_bytes_in", "Payload bytes received from publishers", _TRACK_LABELS, registry=r
        )
        self.objects_out_total = Counter(
            "clutchcall_objects_out", "Objects sent to subscribers", _TRACK_LABELS, registry=r
        )
        self.bytes_out_total = Counter(
            "clutchcall_bytes_out", "Payload bytes sent to subscribers", _TRACK_LABELS, registry=r
        )
        self.drops_total = Counter(
            "clutchcall_drops", "Objects dropped by a subscriber queue bound", _TRACK_LABELS, registry=r
        )
        self.dropped_bytes_total = Counter(
            "clutchcall_dropped_bytes", "Payload bytes dropped by a subscriber queue bound", _TRACK_LABELS, registry=r
        )
        self.queue_depth = Gauge("clutchcall_queue_depth", "Objects queued to subscribers", registry=r)
        self.tracks_aggregated_total = Counter(
            "clutchcall_tracks_aggregated",
            "Tracks counted under _other labels (metrics_max_tracks reached)",
            registry=r,
        )
        self._tracks: dict[tuple[str, str, str], TrackMetrics] = {}
        self._other: TrackMetrics | None = None

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
        if len(self._tracks) < self.max_tracks:
            found = self._tracks[key] = TrackMetrics(self, key)
            return found
        if self._other is None:
            self._other = TrackMetrics(self, (OTHER, OTHER, OTHER))
        self.tracks_aggregated_total.inc()
        return self._other

    def render(self) -> bytes:
        return generate_latest(self.registry)
