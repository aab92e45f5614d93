"""The Rust streams are tables of their plan's state machines, walked by one runtime parser
(`templates/wire/stream.rs.j2`): every reason and limit a table holds is the plan's, as written."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from apirpc_compiler.backends.rust.emit_wire import wire_modules
from apirpc_compiler.backends.rust.namer import RustNamer
from apirpc_compiler.ir import plan
from apirpc_compiler.pipeline import compile_idl

from .plan_edits import alter_protocol, map_states, map_streams

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ir() -> Any:
    return compile_idl(str(ROOT / "api" / "clutchcall.json"))


def _rust(ir: Any) -> str:
    return "\n".join(wire_modules(ir, RustNamer()).values())


def test_stream_tables_come_from_the_plan(ir: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def state(s: plan.StreamState) -> plan.StreamState:
        s = dataclasses.replace(s, unknown_reason="invalid_json")
        if s.at_end == "truncated":
            s = dataclasses.replace(s, at_end="invalid_utf8")  # type: ignore[arg-type]
        if s.frame is not None:
            s = dataclasses.replace(s, frame=dataclasses.replace(s.frame, trailing_reason="too_deep"))
        return s

    def change(p: plan.ProtocolPlan) -> plan.ProtocolPlan:
        return map_streams(
            map_states(p, state),
            lambda st: dataclasses.replace(st, empty_item_reason="length_past_end", buffer_reason="truncated"),
        )

    before = _rust(ir)
    tables = len(re.findall(r"^static ", before, re.M))
    assert tables == 3  # rpc, control and data (a datagram is one struct, not a parser)
    assert before.count("at_end: Some(R::Truncated)") == 1  # the data stream's header state
    assert before.count("empty_item: R::InvalidValue") == tables
    assert before.count("buffer: R::TooLarge") == tables
    assert "trailing: R::TrailingBytes" in before
    alter_protocol(monkeypatch, change)
    after = _rust(ir)
    assert "at_end: Some(R::Truncated)" not in after
    assert after.count("at_end: Some(R::InvalidUtf8)") == 1
    assert after.count("empty_item: R::LengthPastEnd") == tables
    assert after.count("buffer: R::Truncated") == tables
    assert after.count("unknown: R::InvalidJson") == before.count("unknown: R::UnknownType,") - 1  # but the frame's
    assert "trailing: R::TooDeep" in after and "trailing: R::TrailingBytes" not in after


def test_the_initial_state_leads_its_table(ir: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parser starts at a table's first state: the plan's initial state comes first whatever
    its place in the plan, and transitions name their next state by its index in the table."""

    def data_table(text: str) -> str:
        return text.split("static DATA_STREAM", 1)[1].split("\n};", 1)[0]

    before = data_table(_rust(ir))
    alter_protocol(monkeypatch, lambda p: map_streams(p, lambda st: dataclasses.replace(st, states=st.states[::-1])))
    after = data_table(_rust(ir))
    for table in (before, after):
        first = table.split("State {")[1]
        assert "peek: Some(VARINT)" in first and "at_end: Some(R::Truncated)" in first
    # The SUBGROUP header goes to the subgroup objects' state: second in the plan, last reversed.
    assert "Transition(Some(&[(0x10, 0x15), (0x18, 0x1d)]), 0, 1)" in before
    assert "Transition(Some(&[(0x10, 0x15), (0x18, 0x1d)]), 0, 2)" in after
