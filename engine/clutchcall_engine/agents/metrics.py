"""The agent runtime's counters as Prometheus metrics: bindings, what the binder refused, and AgentStats summed.

Labels are bounded: none per call or per agent (sids are unbounded); refusals by one of two fixed reasons.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .binding import AgentBinder
from .session import AgentStats

# Help text of each AgentStats counter, exported as clutchcall_agent_<field>.
_STATS_HELP: dict[str, str] = {
    "frames_in": "Uplink frames the agents heard",
    "bad_frames": "Uplink frames of the wrong size, skipped",
    "frames_dropped": "Audio frames an agent's bounded event queue had no room for",
    "speech_started": "Times the caller started speaking",
    "turns": "Caller turns finished",
    "barge_ins": "Barge-ins: the caller spoke over the agent",
    "flushed_frames": "Queued downlink frames a barge-in dropped",
    "played_frames": "Agent frames played to the call",
    "echo_suppressed": "Uplink frames taken for the agent's own echo",
    "semantic_ends": "Turns the end-of-turn model ended at a pause (mode semantic)",
    "semantic_holds": "Pauses the end-of-turn model judged unfinished, so the turn waited (mode semantic)",
    "semantic_unjudged": "Pauses left to the VAD's silence: no room in the judge, or the model failed (mode semantic)",
    "semantic_stale": "End-of-turn verdicts that came after their pause ended (mode semantic; many: the judge is slow)",
}
assert set(_STATS_HELP) == set(AgentStats.COUNTERS), "every AgentStats counter needs its help text"


class AgentCollector(Collector):
    """Read at scrape time from the binder's own fields, so the audio path pays nothing per frame."""

    def __init__(self, binder: AgentBinder) -> None:
        self.binder = binder

    def collect(self) -> Iterator[Metric]:
        binder = self.binder
        yield GaugeMetricFamily("clutchcall_agent_bindings", "Agents bound to calls now", value=len(binder))
        refused = CounterMetricFamily("clutchcall_agent_bind_refused", "Binds refused, by reason", labels=["reason"])
        refused.add_metric(["max_bindings"], binder.refused_full)
        refused.add_metric(["attach_failed"], binder.attach_failures)
        yield refused
        yield CounterMetricFamily(
            "clutchcall_agent_cut_offs", "Bindings ended by cutting their agent off", value=binder.cut_offs
        )
        for name, value in binder.totals().items():
            yield CounterMetricFamily(f"clutchcall_agent_{name}", _STATS_HELP[name], value=value)
        judge = binder.judge
        if judge is not None:
            yield GaugeMetricFamily(
                "clutchcall_agent_end_of_turn_pending", "End-of-turn inferences submitted, not finished", judge.pending
            )
            stats = judge.stats
            yield CounterMetricFamily(
                "clutchcall_agent_end_of_turn_skipped",
                "Pauses not judged: the judge's queue was full",
                stats.skipped_full,
            )
            yield CounterMetricFamily(
                "clutchcall_agent_end_of_turn_failed", "End-of-turn model calls that failed", value=stats.failed
            )
