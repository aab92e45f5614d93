"""Calls through the gateway against SIPp as the carrier (uas: outbound calls; uac: inbound calls).

Each test asserts the exact sequence of (CallStatus, EndReason) reports and that SIPp's scenario
passed (exit status 0: every message it expected arrived, in order, with the checked contents).
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from clutchcall import CallStatus, Codec, EndReason
from sip_support import LOOPBACK, SIPP, RecordingEvents, finished, free_port, gateway, scenario_with, sip_config, sipp

pytestmark = pytest.mark.skipif(SIPP is None, reason="unreachable: make system-deps installs sip-tester")

S, R = CallStatus, EndReason


def run(coro: object, timeout: float = 60.0) -> None:
    async def bounded() -> None:
        assert asyncio.iscoroutine(coro)
        await asyncio.wait_for(coro, timeout)

    asyncio.run(bounded())


@pytest.mark.parametrize(
    ("hangup_by", "scenario", "reason"),
    [("carrier", "uas_answer_bye.xml", R.CALLEE_HANGUP), ("sdk", "uas_answer.xml", R.API_HANGUP)],
)
def test_outbound_answered_then_bye(hangup_by: str, scenario: str, reason: EndReason) -> None:
    async def main() -> None:
        carrier = free_port()
        events = RecordingEvents()
        async with gateway(sip_config(carrier), events) as gw:
            proc = await sipp(scenario, local_port=carrier, keys={"pause": "300"})
            await asyncio.sleep(0.3)  # SIPp binds its port
            await gw.dial("CA1", "acme", "+15550001", "+15550100", Codec.G711_ULAW, 10.0)
            await events.until(lambda: (S.IN_PROGRESS, None) in events.statuses.get("CA1", []), what="answer")
            if hangup_by == "sdk":
                await gw.hangup("CA1")
            code, err = await finished(proc)
            await events.until(lambda: len(events.statuses["CA1"]) == 3, what="end")
            assert code == 0, err
            assert events.statuses["CA1"] == [(S.RINGING, None), (S.IN_PROGRESS, None), (S.COMPLETED, reason)]
            assert not gw.legs

    run(main())


@pytest.mark.parametrize(
    ("code", "text", "status", "reason"),
    [
        ("486", "Busy Here", S.FAILED, R.BUSY),
        ("603", "Decline", S.FAILED, R.REJECTED),
        ("480", "Temporarily Unavailable", S.NO_ANSWER, R.NO_ANSWER),
        ("408", "Request Timeout", S.NO_ANSWER, R.NO_ANSWER),
        ("503", "Service Unavailable", S.FAILED, R.NETWORK_ERROR),
    ],
)
def test_outbound_rejected(tmp_path: Path, code: str, text: str, status: CallStatus, reason: EndReason) -> None:
    async def main() -> None:
        carrier = free_port()
        events = RecordingEvents()
        async with gateway(sip_config(carrier), events) as gw:
            scenario = scenario_with(tmp_path, "uas_reject.xml", code=code, reason=text)
            proc = await sipp(scenario, local_port=carrier)
            await asyncio.sleep(0.3)
            await gw.dial("CA2", "acme", "+15550001", "+15550100", Codec.G711_ULAW, 10.0)
            rc, err = await finished(proc)
            await events.until(lambda: bool(events.statuses.get("CA2")), what="final")
            assert rc == 0, err
            assert events.statuses["CA2"] == [(status, reason)]

    run(main())


@pytest.mark.parametrize(("by", "reason"), [("ring_timeout", R.NO_ANSWER), ("sdk_hangup", R.API_HANGUP)])
def test_outbound_cancel_before_answer(by: str, reason: EndReason) -> None:
    async def main() -> None:
        carrier = free_port()
        events = RecordingEvents()
        async with gateway(sip_config(carrier), events) as gw:
            proc = await sipp("uas_ring_cancel.xml", local_port=carrier)
            await asyncio.sleep(0.3)
            ring_timeout = 1.0 if by == "ring_timeout" else 30.0
            await gw.dial("CA3", "acme", "+15550001", "+15550100", Codec.G711_ULAW, ring_timeout)
            await events.until(lambda: (S.RINGING, None) in events.statuses.get("CA3", []), what="ringing")
            if by == "sdk_hangup":
                await gw.hangup("CA3")
            rc, err = await finished(proc)
            await events.until(lambda: len(events.statuses["CA3"]) == 2, what="end")
            assert rc == 0, err
            assert events.statuses["CA3"] == [(S.RINGING, None), (S.NO_ANSWER, reason)]

    run(main())


def test_refer_transfer_keeps_the_sid() -> None:
    async def main() -> None:
        carrier = free_port()
        events = RecordingEvents()
        async with gateway(sip_config(carrier), events) as gw:
            proc = await sipp("uas_refer.xml", local_port=carrier)
            await asyncio.sleep(0.3)
            await gw.dial("CA4", "acme", "+15550001", "+15550100", Codec.G711_ULAW, 10.0)
            await events.until(lambda: (S.IN_PROGRESS, None) in events.statuses.get("CA4", []), what="answer")
            await gw.transfer("CA4", "+15550002")
            rc, err = await finished(proc)
            await events.until(lambda: len(events.statuses["CA4"]) == 3, what="end")
            assert rc == 0, err  # SIPp checked Refer-To: sip:+15550002@...
            assert events.statuses["CA4"][-1] == (S.COMPLETED, R.TRANSFERRED)

    run(main())


@pytest.mark.parametrize("scenario", ["uac_call.xml", "uac_hold.xml"])
def test_inbound_call_creates_a_call(scenario: str) -> None:
    async def main() -> None:
        events = RecordingEvents()
        async with gateway(sip_config(free_port()), events) as gw:
            proc = await sipp(scenario, local_port=free_port(), remote=(LOOPBACK, gw.port), extra=["-s", "+15550199"])
            rc, err = await finished(proc)
            assert rc == 0, err  # for uac_hold.xml SIPp checked a=recvonly in our answer to its a=sendonly
            await events.until(lambda: len(events.statuses.get("CA-in-1", [])) == 2, what="end")
            assert events.inbound == [("acme", "+15550100", "+15550199", Codec.G711_ULAW, "CA-in-1")]
            assert events.statuses["CA-in-1"] == [(S.IN_PROGRESS, None), (S.COMPLETED, R.CALLER_HANGUP)]
            assert gw.stats.holds == (1 if scenario == "uac_hold.xml" else 0)

    run(main())


def test_inbound_call_over_tcp() -> None:
    async def main() -> None:
        events = RecordingEvents()
        async with gateway(sip_config(free_port()), events) as gw:
            proc = await sipp(
                "uac_call.xml",
                local_port=free_port(),
                remote=(LOOPBACK, gw.port),
                extra=["-t", "t1", "-s", "+15550199"],
            )
            rc, err = await finished(proc)
            assert rc == 0, err
            await events.until(lambda: len(events.statuses.get("CA-in-1", [])) == 2, what="end")
            assert events.statuses["CA-in-1"] == [(S.IN_PROGRESS, None), (S.COMPLETED, R.CALLER_HANGUP)]
            assert gw.layer.retransmissions == 0  # a reliable transport: no timer A/E/G retransmits

    run(main())


@pytest.mark.parametrize(
    ("scenario", "reason"), [("uas_answer_bye.xml", R.CALLEE_HANGUP), ("uas_answer.xml", R.API_HANGUP)]
)
def test_outbound_call_over_tcp(scenario: str, reason: EndReason) -> None:
    async def main() -> None:
        carrier = free_port(socket.SOCK_STREAM)
        events = RecordingEvents()
        async with gateway(sip_config(carrier, trunk_transport="tcp"), events) as gw:
            proc = await sipp(scenario, local_port=carrier, extra=["-t", "t1"])
            await asyncio.sleep(0.5)  # SIPp listens on TCP
            await gw.dial("CA-t", "acme", "+15550001", "+15550100", Codec.G711_ULAW, 10.0)
            await events.until(lambda: (S.IN_PROGRESS, None) in events.statuses.get("CA-t", []), what="answer")
            if reason == R.API_HANGUP:
                await gw.hangup("CA-t")
            rc, err = await finished(proc)
            assert rc == 0, err
            await events.until(lambda: len(events.statuses["CA-t"]) == 3, what="end")
            assert events.statuses["CA-t"][-1] == (S.COMPLETED, reason)
            assert gw.layer.retransmissions == 0

    run(main())
