"""CallService: each method, tenant isolation, paging, idempotency, watchers with bounded queues, the gateway's
events, and the end of orphaned calls after a restart. Against SqliteCallStore and a fake gateway.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from calls_support import FakeBinder, FakeDownlinks, FakeSignalling
from cancel_race import cancel_as_it_completes
from clutchcall import (
    AgentBinding,
    AudioShape,
    BargeMode,
    BargeRequest,
    CallStatus,
    Codec,
    Direction,
    EndReason,
    ErrorCode,
    ListCallsRequest,
    OriginateRequest,
    PushAudioRequest,
    TransferRequest,
)
from clutchcall_engine.calls.ports import SupervisorTarget, supervisor_target
from clutchcall_engine.calls.service import CallService, TenantRates, WatchEvent, encode_page_token
from clutchcall_engine.calls.store import SqliteCallStore
from clutchcall_engine.config import Limits
from clutchcall_runtime.rpc.errors import ApiError

T = TypeVar("T")
TO, FROM = "+14155550100", "+14155550199"


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


def make(
    tmp_path: Path,
    limits: Limits | None = None,
    sid_prefix: str = "CA",
    binder: FakeBinder | None = None,
    gateway: FakeSignalling | None = None,
) -> tuple[CallService, FakeSignalling]:
    gateway = gateway or FakeSignalling()
    clock = itertools.count(1000)
    sids = (f"{sid_prefix}{i:04}" for i in itertools.count())
    service = CallService(
        SqliteCallStore(tmp_path / "calls.db"),
        gateway,
        limits,
        binder=binder,
        clock_ms=lambda: next(clock),
        new_sid=lambda: next(sids),
    )
    return service, gateway


def expect_error(coro: Awaitable[object], code: ErrorCode, field: str = "") -> ApiError:
    with pytest.raises(ApiError) as info:
        run(coro)
    assert (info.value.code, info.value.field) == (code, field), info.value
    return info.value


def test_originate_stores_a_dialing_call_and_dials_the_gateway(tmp_path: Path) -> None:
    service, gateway = make(tmp_path)
    request = OriginateRequest(to=TO, from_=FROM, audio=AudioShape(codec=Codec.G711_ULAW), ring_timeout_s=12)
    call = run(service.originate("acme", request))
    assert (call.sid, call.status, call.direction, call.tenant_id) == ("CA0000", 1, Direction.OUTBOUND, "acme")
    assert (call.uplink_track, call.downlink_track) == ("voice/CA0000/uplink", "voice/CA0000/downlink")
    assert call.created_at_ms == 1000 and call.default_app == request.default_app_or_default()
    assert gateway.dialed == [("CA0000", "acme", TO, FROM, Codec.G711_ULAW, 12.0)]
    assert run(service.get("acme", "CA0000")) == call


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (OriginateRequest(to="4155550100", from_=FROM), "to"),
        (OriginateRequest(to=TO, from_="+0123"), "from"),
        (OriginateRequest(to=TO + "1234567", from_=FROM), "to"),
        (OriginateRequest(to=TO, from_=FROM, ring_timeout_s=0), "ringTimeoutS"),
        (OriginateRequest(to=TO, from_=FROM, ring_timeout_s=601), "ringTimeoutS"),
        (OriginateRequest(to=TO, from_=FROM, idempotency_key="k" * 257), "idempotencyKey"),
    ],
)
def test_originate_names_the_bad_field(tmp_path: Path, request_: OriginateRequest, field: str) -> None:
    service, gateway = make(tmp_path)
    expect_error(service.originate("acme", request_), ErrorCode.INVALID_ARGUMENT, field)
    assert gateway.dialed == []


def test_idempotency_key_replays_and_conflicts(tmp_path: Path) -> None:
    service, gateway = make(tmp_path)
    request = OriginateRequest(to=TO, from_=FROM, idempotency_key="retry-1")
    first = run(service.originate("acme", request))
    assert run(service.originate("acme", request)).sid == first.sid
    assert len(gateway.dialed) == 1 and service.stats.idempotent_replays == 1
    other = OriginateRequest(to="+442071234567", from_=FROM, idempotency_key="retry-1")
    expect_error(service.originate("acme", other), ErrorCode.ALREADY_EXISTS, "idempotencyKey")
    assert run(service.originate("globex", request)).sid != first.sid


def test_idempotency_survives_a_new_service_on_the_same_file(tmp_path: Path) -> None:
    service, _ = make(tmp_path)
    request = OriginateRequest(to=TO, from_=FROM, idempotency_key="retry-1")
    sid = run(service.originate("acme", request)).sid
    service.store.close()
    again, gateway = make(tmp_path, sid_prefix="CB")
    assert run(again.originate("acme", request)).sid == sid
    assert gateway.dialed == []


def test_gateway_failure_at_dial_fails_the_call(tmp_path: Path) -> None:
    service, gateway = make(tmp_path)
    gateway.fail_with = OSError("trunk unreachable")
    call = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM)))
    assert (call.status, call.end_reason) == (CallStatus.FAILED, EndReason.NETWORK_ERROR)
    assert service.stats.signalling_failures == 1


def test_a_gateway_that_hangs_is_bounded_by_the_signalling_timeout(tmp_path: Path) -> None:
    service, gateway = make(tmp_path, Limits(signalling_timeout_s=0.1))
    gateway.delay_s = 5.0
    call = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM)))
    assert (call.status, call.end_reason) == (CallStatus.FAILED, EndReason.NETWORK_ERROR)
    sid = run(service.inbound_call("acme", FROM, TO, Codec.G711_ULAW))
    run(service.status_changed(sid, CallStatus.IN_PROGRESS))
    expect_error(service.transfer("acme", TransferRequest(sid=sid, pstn_number=FROM)), ErrorCode.DEADLINE_EXCEEDED)
    assert service.stats.signalling_failures == 2


def test_no_gateway_is_unavailable(tmp_path: Path) -> None:
    service = CallService(SqliteCallStore(tmp_path / "calls.db"), None)
    err = expect_error(service.originate("acme", OriginateRequest(to=TO, from_=FROM)), ErrorCode.UNAVAILABLE)
    assert err.retryable and err.http_status == 503


def test_live_call_quota_per_tenant(tmp_path: Path) -> None:
    service, _ = make(tmp_path, Limits(max_live_calls_per_tenant=2))
    a = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM)))
    run(service.originate("acme", OriginateRequest(to=TO, from_=FROM)))
    expect_error(service.originate("acme", OriginateRequest(to=TO, from_=FROM)), ErrorCode.RESOURCE_EXHAUSTED)
    run(service.originate("globex", OriginateRequest(to=TO, from_=FROM)))
    run(service.hangup("acme", a.sid))
    run(service.originate("acme", OriginateRequest(to=TO, from_=FROM)))
    assert service.stats.refused_live_call_quota == 1


def test_a_retry_gets_its_call_even_at_the_quota_and_rate_bounds(tmp_path: Path) -> None:
    limits = Limits(max_live_calls_per_tenant=1, originate_rate_per_tenant=0.1, originate_burst_per_tenant=1)
    service, gateway = make(tmp_path, limits)
    request = OriginateRequest(to=TO, from_=FROM, idempotency_key="k")
    sid = run(service.originate("acme", request)).sid
    expect_error(service.originate("acme", OriginateRequest(to=TO, from_=FROM)), ErrorCode.RESOURCE_EXHAUSTED)
    assert run(service.originate("acme", request)).sid == sid and len(gateway.dialed) == 1
    other = OriginateRequest(to=FROM, from_=TO, idempotency_key="k")
    expect_error(service.originate("acme", other), ErrorCode.ALREADY_EXISTS, "idempotencyKey")


def test_another_tenants_sid_is_not_found_everywhere(tmp_path: Path) -> None:
    service, gateway = make(tmp_path)
    sid = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
    run(service.status_changed(sid, CallStatus.IN_PROGRESS))
    expect_error(service.get("globex", sid), ErrorCode.NOT_FOUND)
    expect_error(service.hangup("globex", sid), ErrorCode.NOT_FOUND)
    expect_error(service.transfer("globex", TransferRequest(sid=sid, pstn_number=TO)), ErrorCode.NOT_FOUND)
    assert run(service.list("globex", ListCallsRequest())).calls == []
    assert gateway.hung_up == [] and gateway.transferred == []
    assert run(service.get("acme", sid)).status == CallStatus.IN_PROGRESS
    expect_error(service.get("acme", "CA-nope"), ErrorCode.NOT_FOUND)
    expect_error(service.get("acme", ""), ErrorCode.INVALID_ARGUMENT, "sid")


def test_list_pages_through_every_call_newest_first(tmp_path: Path) -> None:
    service, _ = make(tmp_path)
    sids = [run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid for _ in range(7)]
    run(service.originate("globex", OriginateRequest(to=TO, from_=FROM)))
    run(service.status_changed(sids[2], CallStatus.NO_ANSWER, EndReason.NO_ANSWER))
    seen, token = [], ""
    while True:
        page = run(service.list("acme", ListCallsRequest(page_size=3, page_token=token)))
        assert len(page.calls) <= 3
        seen += [c.sid for c in page.calls]
        token = page.next_page_token
        if not token:
            break
    assert seen == sids[::-1]
    only = run(service.list("acme", ListCallsRequest(status=[CallStatus.NO_ANSWER])))
    assert [c.sid for c in only.calls] == [sids[2]] and only.next_page_token == ""
    assert len(run(service.list("acme", ListCallsRequest())).calls) == 7
    many = ListCallsRequest(status=[CallStatus.NO_ANSWER, CallStatus.DIALING] * 50_000)  # past SQLite's 32,766
    assert len(run(service.list("acme", many)).calls) == 7


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (ListCallsRequest(page_size=0), "pageSize"),
        (ListCallsRequest(page_size=1001), "pageSize"),
        (ListCallsRequest(page_token="garbage!"), "pageToken"),
        (ListCallsRequest(page_token=encode_page_token(5)[:-2] + "zz"), "pageToken"),
        (ListCallsRequest(status=[CallStatus.DIALING, 99]), "status[1]"),
        (ListCallsRequest(status=[CallStatus.UNSPECIFIED]), "status[0]"),
    ],
)
def test_list_names_the_bad_field(tmp_path: Path, request_: ListCallsRequest, field: str) -> None:
    service, _ = make(tmp_path)
    expect_error(service.list("acme", request_), ErrorCode.INVALID_ARGUMENT, field)


def test_transfer_to_a_number_refers_and_keeps_the_sid(tmp_path: Path) -> None:
    service, gateway = make(tmp_path)
    sid = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
    expect_error(
        service.transfer("acme", TransferRequest(sid=sid, pstn_number="+442071234567")), ErrorCode.INVALID_TRANSITION
    )
    run(service.status_changed(sid, CallStatus.IN_PROGRESS))
    call = run(service.transfer("acme", TransferRequest(sid=sid, pstn_number="+442071234567")))
    assert (call.sid, call.to, call.status) == (sid, "+442071234567", CallStatus.IN_PROGRESS)
    run(service.transfer("acme", TransferRequest(sid=sid, pstn_number="+442071234567")))  # repeated: no-op
    assert gateway.transferred == [(sid, "+442071234567")]
    expect_error(
        service.transfer("acme", TransferRequest(sid=sid, pstn_number="0207")), ErrorCode.INVALID_ARGUMENT, "pstnNumber"
    )
    expect_error(service.transfer("acme", TransferRequest(sid=sid)), ErrorCode.INVALID_ARGUMENT, "pstnNumber")


def test_transfer_to_an_agent_rebinds(tmp_path: Path) -> None:
    service, gateway = make(tmp_path, binder=FakeBinder())
    sid = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
    call = run(service.transfer("acme", TransferRequest(sid=sid, agent=AgentBinding(agent_id="support-bot"))))
    assert call.agent is not None and call.agent.agent_id == "support-bot"
    expect_error(
        service.transfer("acme", TransferRequest(sid=sid, agent=AgentBinding())),
        ErrorCode.INVALID_ARGUMENT,
        "agent.agentId",
    )
    assert gateway.transferred == []


def test_transfer_after_the_end_is_an_invalid_transition(tmp_path: Path) -> None:
    service, _ = make(tmp_path)
    sid = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
    run(service.hangup("acme", sid))
    err = expect_error(service.transfer("acme", TransferRequest(sid=sid, pstn_number=TO)), ErrorCode.INVALID_TRANSITION)
    assert err.http_status == 409 and not err.retryable


def test_gateway_failure_at_transfer_is_unavailable_and_changes_nothing(tmp_path: Path) -> None:
    service, gateway = make(tmp_path)
    sid = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
    run(service.status_changed(sid, CallStatus.IN_PROGRESS))
    gateway.fail_with = OSError("REFER refused")
    expect_error(service.transfer("acme", TransferRequest(sid=sid, pstn_number="+442071234567")), ErrorCode.UNAVAILABLE)
    assert run(service.get("acme", sid)).to == TO


def test_barge_dials_the_supervisor_into_an_answered_call_and_leaves_its_status(tmp_path: Path) -> None:
    service, gateway = make(tmp_path)
    sid = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
    run(service.status_changed(sid, CallStatus.IN_PROGRESS))
    for mode in (BargeMode.LISTEN, BargeMode.WHISPER, BargeMode.BARGE):
        run(service.barge("acme", BargeRequest(sid=sid, supervisor="sip:sup@10.0.0.7:5070", mode=mode)))
    run(service.barge("acme", BargeRequest(sid=sid, supervisor=FROM, mode=BargeMode.LISTEN)))
    run(service.barge("acme", BargeRequest(sid=sid, supervisor=FROM)))  # mode unset: the IDL says listen applies
    assert gateway.barged == [
        (sid, "sip:sup@10.0.0.7:5070", 1),
        (sid, "sip:sup@10.0.0.7:5070", 2),
        (sid, "sip:sup@10.0.0.7:5070", 3),
        (sid, FROM, 1),
        (sid, FROM, 1),
    ]
    assert run(service.get("acme", sid)).status == CallStatus.IN_PROGRESS


@pytest.mark.parametrize(
    ("supervisor", "mode", "field"),
    [
        ("", BargeMode.LISTEN, "supervisor"),
        ("14155550100", BargeMode.LISTEN, "supervisor"),
        ("sip:sup@", BargeMode.LISTEN, "supervisor"),
        ("sip:@host", BargeMode.LISTEN, "supervisor"),
        ("sip:sup@host:0", BargeMode.LISTEN, "supervisor"),
        ("sip:sup@host:70000", BargeMode.LISTEN, "supervisor"),
        ("sips:sup@host", BargeMode.LISTEN, "supervisor"),
        ("sip:sup@host\r\nX: y", BargeMode.LISTEN, "supervisor"),
        (FROM + "\n", BargeMode.LISTEN, "supervisor"),
        ("sip:sup@host\n", BargeMode.LISTEN, "supervisor"),
        (FROM, 9, "mode"),
    ],
)
def test_barge_names_the_bad_field(tmp_path: Path, supervisor: str, mode: int, field: str) -> None:
    service, gateway = make(tmp_path)
    sid = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
    run(service.status_changed(sid, CallStatus.IN_PROGRESS))
    expect_error(
        service.barge("acme", BargeRequest(sid=sid, supervisor=supervisor, mode=mode)),
        ErrorCode.INVALID_ARGUMENT,
        field,
    )
    assert gateway.barged == []


def test_barge_needs_an_answered_live_call_of_the_tenant(tmp_path: Path) -> None:
    service, gateway = make(tmp_path)
    sid = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
    request = BargeRequest(sid=sid, supervisor=FROM, mode=BargeMode.BARGE)
    expect_error(service.barge("acme", request), ErrorCode.INVALID_TRANSITION)  # dialing
    run(service.status_changed(sid, CallStatus.RINGING))
    expect_error(service.barge("acme", request), ErrorCode.INVALID_TRANSITION)  # ringing
    run(service.status_changed(sid, CallStatus.IN_PROGRESS))
    expect_error(service.barge("globex", request), ErrorCode.NOT_FOUND)
    run(service.hangup("acme", sid))
    err = expect_error(service.barge("acme", request), ErrorCode.INVALID_TRANSITION)  # ended
    assert err.http_status == 409
    assert gateway.barged == []


def test_the_gateway_s_reason_reaches_the_caller(tmp_path: Path) -> None:
    """A second supervisor is the gateway's ALREADY_EXISTS (its SignallingError's code), a plain failure UNAVAILABLE."""
    from clutchcall_engine.sip.gateway import SignallingError

    service, gateway = make(tmp_path)
    sid = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
    run(service.status_changed(sid, CallStatus.IN_PROGRESS))
    request = BargeRequest(sid=sid, supervisor=FROM, mode=BargeMode.LISTEN)
    gateway.fail_with = SignallingError("call has a supervisor leg already", ErrorCode.ALREADY_EXISTS)
    err = expect_error(service.barge("acme", request), ErrorCode.ALREADY_EXISTS)
    assert "supervisor leg already" in err.message and not err.retryable
    gateway.fail_with = OSError("no route")
    expect_error(service.barge("acme", request), ErrorCode.UNAVAILABLE)
    assert service.stats.signalling_failures == 1  # a refusal with a reason is no gateway failure


def test_supervisor_target_parses_numbers_and_sip_uris() -> None:
    assert supervisor_target("+14155550100") == SupervisorTarget("+14155550100")
    assert supervisor_target("sip:sup@10.0.0.7") == SupervisorTarget("sup", "10.0.0.7", 5060)
    assert supervisor_target("sip:+1555@pbx.example.com:5080") == SupervisorTarget("+1555", "pbx.example.com", 5080)


def test_hangup_completes_once_and_is_idempotent(tmp_path: Path) -> None:
    service, gateway = make(tmp_path)
    sid = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
    run(service.status_changed(sid, CallStatus.RINGING))
    run(service.status_changed(sid, CallStatus.IN_PROGRESS))
    ended = run(service.hangup("acme", sid))
    assert (ended.status, ended.end_reason) == (CallStatus.COMPLETED, EndReason.API_HANGUP)
    assert ended.answered_at_ms is not None and ended.ended_at_ms is not None
    assert ended.ended_at_ms > ended.answered_at_ms
    assert run(service.hangup("acme", sid)) == ended
    assert gateway.hung_up == [sid]
    # The gateway's BYE report arriving late is ignored, not an error.
    run(service.status_changed(sid, CallStatus.COMPLETED, EndReason.CALLEE_HANGUP))
    assert run(service.get("acme", sid)) == ended and service.stats.gateway_events_refused == 1


def test_hangup_ends_the_record_even_when_the_gateway_fails(tmp_path: Path) -> None:
    service, gateway = make(tmp_path)
    sid = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
    gateway.fail_with = OSError("gone")
    ended = run(service.hangup("acme", sid))  # still dialing: never answered
    assert (ended.status, ended.end_reason) == (CallStatus.NO_ANSWER, EndReason.API_HANGUP)


def test_gateway_outcomes_end_calls_with_their_reasons(tmp_path: Path) -> None:
    service, _ = make(tmp_path)
    outcomes = [
        (CallStatus.FAILED, EndReason.BUSY),
        (CallStatus.NO_ANSWER, EndReason.NO_ANSWER),
        (CallStatus.FAILED, EndReason.REJECTED),
    ]
    for status, reason in outcomes:
        sid = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
        run(service.status_changed(sid, CallStatus.RINGING))
        run(service.status_changed(sid, status, reason, "SIP 486"))
        call = run(service.get("acme", sid))
        assert (call.status, call.end_reason) == (status, reason)
    run(service.status_changed("CA-unknown", CallStatus.RINGING))
    assert service.stats.gateway_events_refused == 1


def test_inbound_call_is_a_call_like_any_other(tmp_path: Path) -> None:
    service, _ = make(tmp_path)
    sid = run(service.inbound_call("acme", FROM, TO, Codec.G711_ALAW))
    call = run(service.get("acme", sid))
    assert (call.status, call.direction, call.from_, call.to) == (CallStatus.RINGING, Direction.INBOUND, FROM, TO)
    assert call.uplink_track == f"voice/{sid}/uplink"
    expect_error(service.get("globex", sid), ErrorCode.NOT_FOUND)
    run(service.status_changed(sid, CallStatus.IN_PROGRESS))
    run(service.status_changed(sid, CallStatus.COMPLETED, EndReason.CALLER_HANGUP))
    assert run(service.get("acme", sid)).end_reason == EndReason.CALLER_HANGUP


def test_watchers_get_their_tenants_events_in_order(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[WatchEvent], list[WatchEvent]]:
        service, _ = make(tmp_path)
        acme = service.watch("acme")
        ended_only = service.watch("acme", [CallStatus.COMPLETED])
        globex = service.watch("globex")
        sid = (await service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
        await service.status_changed(sid, CallStatus.IN_PROGRESS)
        await service.dtmf(sid, "5", 120)
        await service.hangup("acme", sid)
        got = [await anext(acme) for _ in range(3)]
        ended = [await anext(ended_only)]
        assert all(w.queue.empty() for w in (acme, ended_only, globex))
        acme.close()
        assert service._watchers == {ended_only, globex}
        return got, ended

    got, ended = run(scenario())
    assert [
        (e.event.previous_status, e.event.call.status if e.event.call else 0, e.event.dtmf and e.event.dtmf.digit)
        for e in got
    ] == [
        (CallStatus.DIALING, CallStatus.IN_PROGRESS, None),
        (CallStatus.IN_PROGRESS, CallStatus.IN_PROGRESS, "5"),
        (CallStatus.IN_PROGRESS, CallStatus.COMPLETED, None),
    ]
    assert [e.event.sequence for e in got] == [1, 2, 3]
    assert got[1].event.dtmf is not None and got[1].event.dtmf.duration_ms == 120
    assert [e.event.sequence for e in ended] == [3]


def test_a_slow_watcher_loses_the_oldest_events_counted(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[int], int]:
        service, _ = make(tmp_path, Limits(call_watch_queue_events=4))
        slow = service.watch("acme")
        sid = (await service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
        await service.status_changed(sid, CallStatus.IN_PROGRESS)
        for digit in "0123456789":
            await service.dtmf(sid, digit, 100)
        got = [(await anext(slow)).event.sequence for _ in range(4)]
        return got, service.stats.watch_events_dropped

    got, dropped = run(scenario())
    assert got == [8, 9, 10, 11] and dropped == 7


def test_watcher_count_is_bounded(tmp_path: Path) -> None:
    async def scenario() -> None:
        service, _ = make(tmp_path, Limits(max_call_watchers=2))
        a = service.watch("acme")
        service.watch("acme")
        with pytest.raises(ApiError) as info:
            service.watch("acme")
        assert info.value.code == ErrorCode.RESOURCE_EXHAUSTED
        a.close()
        service.watch("acme")
        assert service.stats.refused_watchers == 1
        with pytest.raises(ApiError) as info:
            service.watch("acme", [CallStatus.COMPLETED, 42])
        assert (info.value.code, info.value.field) == (ErrorCode.INVALID_ARGUMENT, "status[1]")

    run(scenario())


def test_orphaned_calls_end_after_a_restart_with_a_stated_reason(tmp_path: Path) -> None:
    service, _ = make(tmp_path)
    live = [run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid for _ in range(3)]
    run(service.status_changed(live[1], CallStatus.IN_PROGRESS))
    done = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
    run(service.hangup("acme", done))
    service.store.close()  # as if killed: nothing else is written

    restarted, _ = make(tmp_path, sid_prefix="CB")
    ended = run(restarted.end_orphaned_calls())
    assert sorted(c.sid for c in ended) == sorted(live)
    for sid in live:
        call = run(restarted.get("acme", sid))
        assert (call.status, call.end_reason) == (CallStatus.FAILED, EndReason.NETWORK_ERROR)
        assert call.ended_at_ms is not None
    assert run(restarted.get("acme", done)).end_reason == EndReason.API_HANGUP
    assert restarted._live_per_tenant == {"acme": 0}


def test_agents_bind_unbind_and_end_with_the_call(tmp_path: Path) -> None:
    binder = FakeBinder()
    service, _ = make(tmp_path, binder=binder)
    sid = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
    call = run(service.bind_agent("acme", sid, AgentBinding(agent_id="replay")))
    assert call.agent == AgentBinding(agent_id="replay") == binder.bound[sid]
    expect_error(service.bind_agent("globex", sid, AgentBinding(agent_id="replay")), ErrorCode.NOT_FOUND)
    expect_error(
        service.bind_agent("acme", sid, AgentBinding(agent_id="unknown")), ErrorCode.NOT_FOUND, "agent.agentId"
    )
    assert run(service.unbind_agent("acme", sid)).agent is None and sid not in binder.bound
    assert run(service.unbind_agent("acme", sid)).agent is None  # twice: a no-op
    run(service.bind_agent("acme", sid, AgentBinding(agent_id="prompt")))
    run(service.hangup("acme", sid))
    assert binder.unbinds[-1] == sid and sid not in binder.bound
    expect_error(service.bind_agent("acme", sid, AgentBinding(agent_id="replay")), ErrorCode.INVALID_TRANSITION)


def test_agents_without_a_runtime_are_unavailable(tmp_path: Path) -> None:
    service, _ = make(tmp_path)
    sid = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
    expect_error(service.bind_agent("acme", sid, AgentBinding(agent_id="replay")), ErrorCode.UNAVAILABLE)


async def _stream(*requests: PushAudioRequest) -> AsyncIterator[PushAudioRequest]:
    for request in requests:
        yield request


def test_push_audio_writes_frames_in_order_onto_the_downlink(tmp_path: Path) -> None:
    service, _ = make(tmp_path)
    downlinks = FakeDownlinks()
    service.downlinks = downlinks
    sid = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
    frames = [bytes([i]) * 160 for i in range(5)]
    ulaw = Codec.G711_ULAW
    done = run(
        service.push_audio(
            "acme",
            _stream(
                PushAudioRequest(sid=sid, codec=ulaw, sequence=2**32 - 2, frames=frames[:3]),  # wraps at 2^32
                PushAudioRequest(sid=sid, codec=ulaw, sequence=1, frames=frames[3:], end_of_stream=True),
                PushAudioRequest(sid=sid, codec=ulaw, sequence=3, frames=[b"never read"]),
            ),
        )
    )
    assert done.accepted_through == 2
    [(opened_sid, codec, writer)] = downlinks.opened
    assert (opened_sid, codec, writer.frames, writer.closed) == (sid, ulaw, frames, True)


@pytest.mark.parametrize(
    ("second", "field"),
    [
        (PushAudioRequest(sid="CA-other", codec=Codec.G711_ULAW, frames=[b"x"]), "sid"),
        (PushAudioRequest(codec=Codec.OPUS, frames=[b"x"]), "codec"),
        (PushAudioRequest(codec=Codec.G711_ULAW, frames=[b"x" * 8193]), "frames[0]"),
        (PushAudioRequest(codec=Codec.G711_ULAW, frames=[b"x", b""]), "frames[1]"),
        (PushAudioRequest(codec=Codec.G711_ULAW, frames=[b"x"] * 501), "frames"),
    ],
)
def test_push_audio_names_the_bad_field_and_closes_the_downlink(
    tmp_path: Path, second: PushAudioRequest, field: str
) -> None:
    service, _ = make(tmp_path)
    downlinks = FakeDownlinks()
    service.downlinks = downlinks
    sid = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
    if not second.sid:
        second.sid = sid
    first = PushAudioRequest(sid=sid, codec=Codec.G711_ULAW, frames=[b"ok"])
    expect_error(service.push_audio("acme", _stream(first, second)), ErrorCode.INVALID_ARGUMENT, field)
    [(_, _, writer)] = downlinks.opened
    assert writer.frames == [b"ok"] and writer.closed


def test_push_audio_refusals_before_any_audio(tmp_path: Path) -> None:
    service, _ = make(tmp_path)
    sid = run(service.originate("acme", OriginateRequest(to=TO, from_=FROM))).sid
    ulaw = PushAudioRequest(sid=sid, codec=Codec.G711_ULAW, frames=[b"x"])
    expect_error(service.push_audio("acme", _stream(ulaw)), ErrorCode.UNAVAILABLE)  # no relay attached
    downlinks = FakeDownlinks()
    service.downlinks = downlinks
    expect_error(service.push_audio("globex", _stream(ulaw)), ErrorCode.NOT_FOUND)
    no_codec = PushAudioRequest(sid=sid, frames=[b"x"])
    expect_error(service.push_audio("acme", _stream(no_codec)), ErrorCode.INVALID_ARGUMENT, "codec")
    expect_error(service.push_audio("acme", _stream()), ErrorCode.INVALID_ARGUMENT, "sid")
    run(service.hangup("acme", sid))
    expect_error(service.push_audio("acme", _stream(ulaw)), ErrorCode.INVALID_TRANSITION)
    assert downlinks.opened == []


def test_originate_rate_per_tenant_is_bounded(tmp_path: Path) -> None:
    service, gateway = make(tmp_path, Limits(originate_rate_per_tenant=1, originate_burst_per_tenant=2))
    for _ in range(2):
        run(service.originate("acme", OriginateRequest(to=TO, from_=FROM)))
    err = expect_error(service.originate("acme", OriginateRequest(to=TO, from_=FROM)), ErrorCode.RESOURCE_EXHAUSTED)
    assert err.retryable and err.retry_after_ms is not None and 900 <= err.retry_after_ms <= 1000
    run(service.originate("globex", OriginateRequest(to=TO, from_=FROM)))
    assert len(gateway.dialed) == 3 and service.stats.refused_originate_rate == 1


def test_tenant_rates_refill_and_stay_bounded() -> None:
    now = [0.0]
    rates = TenantRates(rate=2.0, burst=3, clock=lambda: now[0], max_tenants=5)
    assert [rates.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert rates.take("a") == pytest.approx(0.5)
    now[0] += 0.5
    assert rates.take("a") == 0.0
    for i in range(20):  # idle tenants' full buckets are forgotten, so the table does not grow without bound
        now[0] += 10.0
        assert rates.take(f"t{i}") == 0.0
    assert len(rates._buckets) <= 6


def test_concurrent_retries_with_one_key_dial_once(tmp_path: Path) -> None:
    service, gateway = make(tmp_path)
    gateway.delay_s = 0.05  # the first is still dialing while the others arrive

    async def burst() -> set[str]:
        request = OriginateRequest(to=TO, from_=FROM, idempotency_key="same")
        calls = await asyncio.gather(*(service.originate("acme", request) for _ in range(20)))
        return {c.sid for c in calls}

    assert len(run(burst())) == 1
    assert len(gateway.dialed) == 1 and service.stats.idempotent_replays == 19


@dataclass
class _HangupAnsweredByTheTest(FakeSignalling):
    answer: asyncio.Future[None] | None = None

    async def hangup(self, sid: str) -> None:
        self.answer = asyncio.get_running_loop().create_future()
        await self.answer


def test_a_hangup_cancelled_as_the_gateway_answers_ends_cancelled(tmp_path: Path) -> None:
    """asyncio.wait_for on Python 3.11 dropped that cancel, and the cancelled hangup went on to end the call."""
    gateway = _HangupAnsweredByTheTest()
    service, _ = make(tmp_path, gateway=gateway)

    async def main() -> None:
        sid = await service.inbound_call("acme", FROM, TO, Codec.G711_ULAW)
        before = (await service.get("acme", sid)).status
        task = asyncio.get_running_loop().create_task(service.hangup("acme", sid))

        def answer() -> None:
            assert gateway.answer is not None
            gateway.answer.set_result(None)

        await cancel_as_it_completes(task, lambda: gateway.answer is not None, answer)
        assert (await service.get("acme", sid)).status == before  # the call was not ended

    run(main())
