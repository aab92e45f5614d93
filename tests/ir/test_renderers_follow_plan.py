"""Renderers decide nothing about the wire: change the plan and their output follows.

Each case alters one thing in the plan (a limit, a reason, a check order, a stream limit) and
checks that the rendered codec changed exactly that way, so a renderer that re-derived the
semantics from the IR's wire section instead would fail here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apirpc_compiler.ir import plan
from apirpc_compiler.pipeline import compile_idl

from .plan_edits import alter_protocol, map_states

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ir() -> Any:
    return compile_idl(str(ROOT / "api" / "clutchcall.json"))


def _rust(ir: Any) -> dict[str, str]:
    from apirpc_compiler.backends.rust.emit_wire import wire_modules
    from apirpc_compiler.backends.rust.namer import RustNamer

    return wire_modules(ir, RustNamer())


def _java(ir: Any) -> dict[str, str]:
    from apirpc_compiler.backends.java.emit_wire import generate_wire
    from apirpc_compiler.backends.java.namer import JavaNamer

    return dict(generate_wire(ir, "dev.example", "// header", JavaNamer()))


def _csharp(ir: Any) -> dict[str, str]:
    from apirpc_compiler.backends.csharp.emit_wire import WireEmitter
    from apirpc_compiler.backends.csharp.namer import CSharpNamer

    n = CSharpNamer()
    return {f"{p['name']}.cs": WireEmitter(p, n, "Example").source("// header") for p in ir["wire"]}


def _typescript(ir: Any) -> dict[str, str]:
    from apirpc_compiler.backends.typescript.emit_wire import WireEmitter
    from apirpc_compiler.backends.typescript.namer import TsNamer

    return {f"{p['name']}.ts": "\n".join(WireEmitter(p, TsNamer()).module()) for p in ir["wire"]}


RENDERERS: dict[str, Callable[[Any], dict[str, str]]] = {
    "rust": _rust,
    "java": _java,
    "csharp": _csharp,
    "typescript": _typescript,
}
# Per target: the Envelope's file, its payload limit check, and the read of the payload's length.
ENVELOPE = {
    "rust": ("envelope", "more than 16777216 bytes", "let n5 = "),
    "java": ("envelope/Envelope.java", "Long.compareUnsigned(n1, 0x1000000L) > 0", "long n1 = r.varint"),
    "csharp": ("envelope.cs", "if (n5 > 0x1000000UL)", "ulong n5 = r.Varint"),
    "typescript": ("envelope.ts", '"limit":16777216', '{"var":"n5","width":"varint"'),
}
# Per target: how a framed stream's length limit is spelled, and that spelling with the limit 1234.
STREAM_LIMIT = {
    "rust": ("MAX_LENGTH", "MAX_LENGTH: u64 = 1234"),
    "java": ("MAX_LENGTH", "MAX_LENGTH = 1234L"),
    "csharp": ("MaxLength = ", "MaxLength = 1234UL"),
    "typescript": ('"max_length":', '"max_length":1234'),
}
# Per target: how a check's reason `unknown_type` is spelled, and how many times an altered
# check shows it (TypeScript carries the plan whole: the encoder's check keeps its reason too).
REASON = {
    "rust": ("UnknownType", 1),
    "java": ("UNKNOWN_TYPE", 1),
    "csharp": ("UnknownType", 1),
    "typescript": ('"reason":"unknown_type"', 2),
}


def _all(target: str, ir: Any) -> str:
    return "\n".join(RENDERERS[target](ir).values())


def _altered(
    monkeypatch: pytest.MonkeyPatch, struct: str, change: Callable[[plan.StructPlan], plan.StructPlan]
) -> None:
    def on_struct(p: plan.ProtocolPlan) -> plan.ProtocolPlan:
        return dataclasses.replace(p, structs=tuple(change(s) if s.name == struct else s for s in p.structs))

    alter_protocol(monkeypatch, on_struct)


def _map_ops(s: plan.StructPlan, f: Callable[[plan.Op], plan.Op]) -> plan.StructPlan:
    return dataclasses.replace(s, decode=tuple(f(op) for op in s.decode), encode=tuple(f(op) for op in s.encode))


@pytest.mark.parametrize("target", sorted(RENDERERS))
def test_a_limit_comes_from_the_plan(ir: Any, target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    count_before = _all(target, ir).count("16777216")
    assert count_before >= 2  # decode and encode
    assert "4321" not in _all(target, ir)

    def lower_limit(op: plan.Op) -> plan.Op:
        return dataclasses.replace(op, limit=4321) if isinstance(op, plan.Limit) and op.limit == 16777216 else op

    _altered(monkeypatch, "Envelope", lambda s: _map_ops(s, lower_limit))
    text = _all(target, ir)
    assert "16777216" not in text
    assert text.count("4321") >= count_before  # every place the limit was (a renderer may spell it in hex)


@pytest.mark.parametrize("target", sorted(RENDERERS))
def test_a_reason_comes_from_the_plan(ir: Any, target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def reason(op: plan.Op) -> plan.Op:
        if isinstance(op, plan.Check) and op.where == "Envelope.version":
            return dataclasses.replace(op, reason="unknown_type")
        return op

    word, more = REASON[target]
    before = _all(target, ir)
    _altered(monkeypatch, "Envelope", lambda s: _map_ops(s, reason))
    after = _all(target, ir)
    assert after.count(word) == before.count(word) + more


@pytest.mark.parametrize("target", sorted(RENDERERS))
def test_the_check_order_comes_from_the_plan(ir: Any, target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reversed decode ops come out reversed (the renderer does not reorder)."""

    def first_two_swapped(s: plan.StructPlan) -> plan.StructPlan:
        ops = list(s.decode)
        i = next(i for i, op in enumerate(ops) if isinstance(op, plan.Limit))
        ops[i - 1], ops[i] = ops[i], ops[i - 1]  # the limit before its length is read
        return dataclasses.replace(s, decode=tuple(ops))

    path, limit_text, length_read = ENVELOPE[target]
    before = RENDERERS[target](ir)[path]
    assert before.index(limit_text) > before.index(length_read)
    _altered(monkeypatch, "Envelope", first_two_swapped)
    after = RENDERERS[target](ir)[path]
    assert after.index(limit_text) < after.index(length_read)


@pytest.mark.parametrize("target", sorted(RENDERERS))
def test_a_stream_limit_comes_from_the_plan(ir: Any, target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def framed_1234(s: plan.StreamState) -> plan.StreamState:
        return dataclasses.replace(s, frame=dataclasses.replace(s.frame, max_length=1234)) if s.frame else s

    marker, limited = STREAM_LIMIT[target]
    assert marker in _all(target, ir)
    assert "1234" not in _all(target, ir)
    alter_protocol(monkeypatch, lambda p: map_states(p, framed_1234))
    assert limited in _all(target, ir)


def test_csharp_stream_tables_come_from_the_plan(ir: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """C# walks each stream's state machine as a table: a state's end-of-stream reason, the item
    that must fill a datagram and a struct's whole-value reason are the plan's, as written."""

    def change(p: plan.ProtocolPlan) -> plan.ProtocolPlan:
        p = map_states(p, lambda s: dataclasses.replace(s, at_end="invalid_utf8") if s.at_end == "truncated" else s)
        return dataclasses.replace(
            p, structs=tuple(dataclasses.replace(s, whole_reason="unknown_type") for s in p.structs)
        )

    before = _all("csharp", ir)
    assert before.count("AtEnd = DecodeErrorReason.Truncated") == 2  # the data header and the datagram
    assert "WholeReason = DecodeErrorReason.TrailingBytes" in before
    alter_protocol(monkeypatch, change)
    after = _all("csharp", ir)
    assert "AtEnd = DecodeErrorReason.Truncated" not in after
    assert after.count("AtEnd = DecodeErrorReason.InvalidUtf8") == 2
    assert after.count("WholeReason = DecodeErrorReason.UnknownType") == before.count("WholeReason = ")


def test_typescript_runs_the_plan_it_carries(ir: Any) -> None:
    """Each TypeScript protocol module embeds its plan whole (integers above 2^53 - 1 as decimal
    strings, which its runtime reads with BigInt), and nothing else of the wire rules."""
    import json

    for p in ir["wire"]:
        text = _typescript(ir)[f"{p['name']}.ts"]
        literal = text.split("const PLAN: ProtocolPlan = JSON.parse(\n  ", 1)[1].split(",\n);", 1)[0]
        assert literal[0] == "'" and literal[-1] == "'"  # prettier's quotes for a string holding "
        carried = json.loads(literal[1:-1])

        def exact(v: Any) -> Any:
            if isinstance(v, dict):
                return {k: exact(x) for k, x in v.items()}
            if isinstance(v, list):
                return [exact(x) for x in v]
            return str(v) if isinstance(v, int) and not isinstance(v, bool) and v >= 1 << 53 else v

        assert carried == exact(plan.to_json(plan.lower_protocol(p)))
        assert "16777216n" not in text and "max:" not in text  # no limits beside the plan
