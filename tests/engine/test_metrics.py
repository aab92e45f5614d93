"""The relay's metrics as /metrics serves them: per-track counters kept as plain integers on the hot path and
collected at scrape time, the label-cardinality bound, and the loop-only counters and gauge."""

from __future__ import annotations

from clutchcall_engine.metrics import LoopCounter, RelayMetrics
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families


def scraped(metrics: RelayMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the rendered text, by (sample name, sorted labels): what a Prometheus server reads."""
    out = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def labels(tenant: str, namespace: str, track: str) -> tuple[tuple[str, str], ...]:
    return (("namespace", namespace), ("tenant", tenant), ("track", track))


def test_track_counters_are_served_with_their_labels() -> None:
    m = RelayMetrics()
    t = m.track("t1", (b"voice", b"CA1"), b"uplink")
    assert m.track("t1", (b"voice", b"CA1"), "uplink") is t  # resolved once, the same counters after
    for n in (160, 160, 80):
        t.object_in(n)
    t.object_out(160)
    t.dropped(2, 240)
    got = scraped(m)
    key = labels("t1", "voice/CA1", "uplink")
    assert got[("clutchcall_objects_in_total", key)] == 3
    assert got[("clutchcall_bytes_in_total", key)] == 400
    assert got[("clutchcall_objects_out_total", key)] == 1
    assert got[("clutchcall_bytes_out_total", key)] == 160
    assert got[("clutchcall_drops_total", key)] == 2
    assert got[("clutchcall_dropped_bytes_total", key)] == 240


def test_tracks_past_the_bound_share_the_other_labels() -> None:
    m = RelayMetrics(max_tracks=2)
    a = m.track("t1", (b"voice", b"A"), b"uplink")
    b = m.track("t1", (b"voice", b"B"), b"uplink")
    c = m.track("t1", (b"voice", b"C"), b"uplink")
    d = m.track("t2", (b"voice", b"D"), b"downlink")
    assert c is d and c is not a and c is not b
    assert m.track("t1", (b"voice", b"A"), b"uplink") is a  # a known track keeps its own labels
    for t in (a, b, c, d):
        t.object_in(10)
    got = scraped(m)
    assert got[("clutchcall_objects_in_total", labels("t1", "voice/A", "uplink"))] == 1
    assert got[("clutchcall_objects_in_total", labels("_other", "_other", "_other"))] == 2
    assert got[("clutchcall_tracks_aggregated_total", ())] == 2
    own = {k for k in got if k[0] == "clutchcall_objects_in_total"}
    assert len(own) == 3  # two tracks of their own and _other: the bound holds with _other present


def test_loop_counter_and_queue_gauge() -> None:
    m = RelayMetrics()
    m.queue_changed(3)
    m.queue_changed(-1)
    frames = LoopCounter("clutchcall_test_frames", "Frames", m.registry)
    frames.inc()
    frames.inc(4)
    got = scraped(m)
    assert got[("clutchcall_queue_depth", ())] == 2
    assert got[("clutchcall_test_frames_total", ())] == 5
    other = CollectorRegistry()
    LoopCounter("clutchcall_test_frames", "Frames", other)
    assert other.get_sample_value("clutchcall_test_frames_total") == 0
