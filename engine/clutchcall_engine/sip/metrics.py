"""The SIP gateway's counters as Prometheus metrics: what its bounds refused, retransmissions, malformed input."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .fastpath import FastPath, fold
from .gateway import SipGateway


class SipCollector(Collector):
    """Read at scrape time from the gateway's own counters, so the signalling path pays nothing per message."""

    def __init__(self, gateway: SipGateway) -> None:
        self.gateway = gateway

    def collect(self) -> Iterator[Metric]:
        gw = self.gateway
        invites = CounterMetricFamily("clutchcall_sip_invites", "New INVITEs, by direction", labels=["direction"])
        invites.add_metric(["inbound"], gw.stats.invites_in)
        invites.add_metric(["outbound"], gw.stats.invites_out)
        yield invites
        refused = CounterMetricFamily(
            "clutchcall_sip_refused", "Calls refused by a gateway bound (503), by bound", labels=["bound"]
        )
        refused.add_metric(["invite_rate"], gw.stats.refused_rate)
        refused.add_metric(["max_calls"], gw.stats.refused_capacity)
        refused.add_metric(["rtp_ports"], gw.ports.exhausted)
        refused.add_metric(["transactions"], gw.layer.refused_overload)
        refused.add_metric(["tcp_connections"], gw.layer.transport.dropped_tcp_connections)
        yield refused
        yield CounterMetricFamily("clutchcall_sip_answered", "Calls answered", value=gw.stats.answered)
        yield CounterMetricFamily("clutchcall_sip_ended", "Calls ended", value=gw.stats.ended)
        yield CounterMetricFamily("clutchcall_sip_holds", "Calls put on hold by a re-INVITE", value=gw.stats.holds)
        yield CounterMetricFamily(
            "clutchcall_sip_malformed", "SIP messages that failed to parse", value=gw.layer.malformed
        )
        yield CounterMetricFamily(
            "clutchcall_sip_retransmissions", "SIP retransmissions sent or absorbed", value=gw.layer.retransmissions
        )
        yield GaugeMetricFamily("clutchcall_sip_calls", "Calls the gateway holds", value=len(gw.legs))
        supervisors = CounterMetricFamily(
            "clutchcall_sip_supervisor_legs", "Barge supervisor legs, by event", labels=["event"]
        )
        supervisors.add_metric(["dialed"], gw.stats.supervisor_dials)
        supervisors.add_metric(["answered"], gw.stats.supervisor_answered)
        supervisors.add_metric(["ended"], gw.stats.supervisor_ended)
        yield supervisors
        yield CounterMetricFamily(
            "clutchcall_sip_conference_dropped",
            "Downlink frames a barge conference's bounded queue dropped (counted when its supervisor leg ends)",
            value=gw.stats.conference_agent_dropped,
        )
        yield from _relay_metrics(gw.fastpath)


def _relay_metrics(fastpath: FastPath) -> Iterator[Metric]:
    """sip_rtp calls on the relay engine: ended calls' totals plus the live calls' counters (one call_stats each)."""
    totals = dataclasses.replace(fastpath.totals)
    live = fastpath.live_stats()
    for stats in live:
        fold(totals, stats)
    yield GaugeMetricFamily("clutchcall_sip_relay_calls", "sip_rtp calls on the relay engine now", value=len(live))
    relayed = CounterMetricFamily(
        "clutchcall_sip_relayed_calls", "Calls put on the relay engine, by mode", labels=["mode"]
    )
    relayed.add_metric(["forward"], totals.forward_calls)
    relayed.add_metric(["transcode"], totals.transcode_calls)
    yield relayed
    packets = CounterMetricFamily(
        "clutchcall_sip_relay_packets", "RTP packets the relay engine sent, by direction", labels=["direction"]
    )
    packets.add_metric(["first_to_second"], totals.first_to_second)
    packets.add_metric(["second_to_first"], totals.second_to_first)
    yield packets
    dropped = CounterMetricFamily(
        "clutchcall_sip_relay_dropped", "RTP packets the relay engine dropped, by reason", labels=["reason"]
    )
    dropped.add_metric(["malformed"], totals.malformed)
    dropped.add_metric(["foreign_source"], totals.foreign_source)
    dropped.add_metric(["tx_dropped"], totals.tx_dropped)
    yield dropped
    failures = CounterMetricFamily(
        "clutchcall_sip_second_party_failures", "sip_rtp transfers and forwards whose target failed", labels=["stage"]
    )
    failures.add_metric(["dial"], totals.second_party_failures)
    failures.add_metric(["relay"], totals.failed_switches)
    yield failures
