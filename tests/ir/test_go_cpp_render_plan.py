"""The Go and C++ wire emitters render the codec plan: change the plan and their output follows.

Each case alters one thing in the plan (a limit, a reason, the op order, a stream limit, the
parser bound) and checks that the rendered codec changed exactly that way; a renderer that
re-derived the semantics from the IR's wire section would fail here. Where the Go runtime's
reader raises a failure itself, a plan asking for another reason is refused at generation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apirpc_compiler.backends.common import WireGenError
from apirpc_compiler.ir import plan
from apirpc_compiler.pipeline import compile_idl

from .plan_edits import alter_protocol, map_states

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ir() -> Any:
    return compile_idl(str(ROOT / "api" / "clutchcall.json"))


def _go(ir: Any) -> dict[str, str]:
    from apirpc_compiler.backends.go.emit_wire import WireEmitter
    from apirpc_compiler.backends.go.namer import GoNamer

    n = GoNamer()
    return {p["name"]: WireEmitter(p, n, "example.com/m", 1 << 25).emit()[1] for p in ir["wire"]}


def _cpp(ir: Any) -> dict[str, str]:
    from apirpc_compiler.backends.cpp.emit_wire import ProtocolEmitter
    from apirpc_compiler.backends.cpp.namer import CppNamer

    n = CppNamer()
    return {p["name"]: "\n".join([*(e := ProtocolEmitter(p, n)).header(), *e.source()]) for p in ir["wire"]}


RENDERERS: dict[str, Callable[[Any], dict[str, str]]] = {"go": _go, "cpp": _cpp}
# Per target: the Envelope payload's limit check and the read of the payload's length.
ENVELOPE = {
    "go": ("if n12 > 16777216 {", "n12, err := r.Varint(end)"),
    "cpp": ("if (n6 > 16777216u)", "if (!r.varint(end, n6))"),
}
# Per target: the control stream's Length check as spelled, and with the plan's limit at 1234.
STREAM_LIMIT = {
    "go": ("MaxLength: 65535,", "MaxLength: 1234,"),
    "cpp": (".max_length = 65535u,", ".max_length = 1234u,"),
}
REASON = {"go": "rt.ReasonUnknownType", "cpp": "Reason::kUnknownType"}


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
    before = _all(target, ir)
    assert before.count("16777216") >= 4  # decode and encode, each in its check and its message
    assert "4321" not in before

    def lower_limit(op: plan.Op) -> plan.Op:
        return dataclasses.replace(op, limit=4321) if isinstance(op, plan.Limit) and op.limit == 16777216 else op

    _altered(monkeypatch, "Envelope", lambda s: _map_ops(s, lower_limit))
    after = _all(target, ir)
    assert "16777216" not in after
    assert after.count("4321") == before.count("16777216")


@pytest.mark.parametrize("target", sorted(RENDERERS))
def test_a_reason_comes_from_the_plan(ir: Any, target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def reason(op: plan.Op) -> plan.Op:
        if isinstance(op, plan.Check) and op.where == "Envelope.version":
            return dataclasses.replace(op, reason="unknown_type")
        return op

    before = _all(target, ir)
    _altered(monkeypatch, "Envelope", lambda s: _map_ops(s, reason))
    assert _all(target, ir).count(REASON[target]) == before.count(REASON[target]) + 1


@pytest.mark.parametrize("target", sorted(RENDERERS))
def test_the_check_order_comes_from_the_plan(ir: Any, target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The payload's limit moved ahead of the read of its length comes out ahead of it."""

    def limit_first(s: plan.StructPlan) -> plan.StructPlan:
        ops = list(s.decode)
        i = next(i for i, op in enumerate(ops) if isinstance(op, plan.Limit))
        ops[i - 1], ops[i] = ops[i], ops[i - 1]
        return dataclasses.replace(s, decode=tuple(ops))

    limit, length_read = ENVELOPE[target]
    before = RENDERERS[target](ir)["envelope"]
    assert before.index(limit) > before.index(length_read)
    _altered(monkeypatch, "Envelope", limit_first)
    after = RENDERERS[target](ir)["envelope"]
    assert after.index(limit) < after.index(length_read)


@pytest.mark.parametrize("target", sorted(RENDERERS))
def test_a_stream_limit_comes_from_the_plan(ir: Any, target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def framed_1234(p: plan.ProtocolPlan) -> plan.ProtocolPlan:
        return map_states(
            p, lambda s: dataclasses.replace(s, frame=dataclasses.replace(s.frame, max_length=1234)) if s.frame else s
        )

    spelled, limited = STREAM_LIMIT[target]
    assert spelled in _all(target, ir)
    alter_protocol(monkeypatch, framed_1234)
    after = _all(target, ir)
    assert limited in after and spelled not in after


def test_go_encodes_the_plans_min_count(ir: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The encoder refuses too few elements where the plan says so, and only there."""
    text = _all("go", ir)
    assert 'rt.EncErrf("TrackNamespace.fields: too few elements")' in text

    def no_encode_min(s: plan.StructPlan) -> plan.StructPlan:
        return dataclasses.replace(s, encode=tuple(op for op in s.encode if not isinstance(op, plan.MinCount)))

    _altered(monkeypatch, "TrackNamespace", no_encode_min)
    assert 'rt.EncErrf("TrackNamespace.fields: too few elements")' not in _all("go", ir)


def test_go_parser_bound_comes_from_the_plan(ir: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A protocol whose parser bound is not the runtime's default spells its own."""
    assert "MaxBuffer: rt.DefaultMaxBuffer" in _all("go", ir)
    alter_protocol(monkeypatch, lambda p: dataclasses.replace(p, max_buffer=4096))
    text = _all("go", ir)
    assert "rt.DefaultMaxBuffer" not in text
    assert text.count("MaxBuffer: 4096") == len(_all_streams(ir))


def _all_streams(ir: Any) -> list[str]:
    return [st["name"] for p in ir["wire"] for st in p["streams"]]


def test_go_refuses_a_reason_its_runtime_cannot_raise(ir: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """r.Trailing reports trailing_bytes: a plan asking for another reason there is not silently ignored."""

    def other(s: plan.StructPlan) -> plan.StructPlan:
        return dataclasses.replace(s, whole_reason="too_large")

    _altered(monkeypatch, "Envelope", other)
    with pytest.raises(WireGenError, match=r"r\.Trailing fails with trailing_bytes, the plan asks for too_large"):
        _all("go", ir)


def test_cpp_stream_and_whole_value_reasons_come_from_the_plan(ir: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parsers' buffer and empty-item reasons, a struct's whole-value reason and the parser bound."""
    before = _all("cpp", ir)
    assert "kDefaultMaxBuffer = std::size_t{1} << 25;" in before
    assert before.count('Reason::kTrailingBytes, "bytes left after ') == len(_all_structs(ir))

    def change(p: plan.ProtocolPlan) -> plan.ProtocolPlan:
        streams = tuple(
            dataclasses.replace(
                st,
                buffer_reason="invalid_utf8",
                empty_item_reason="unknown_type",
                # a datagram's leftover bytes are its struct's whole-value reason
                states=tuple(dataclasses.replace(x, trailing="too_large") if x.trailing else x for x in st.states),
            )
            for st in p.streams
        )
        structs = tuple(dataclasses.replace(s, whole_reason="too_large") for s in p.structs)
        return dataclasses.replace(p, streams=streams, structs=structs, max_buffer=1000)

    alter_protocol(monkeypatch, change)
    after = _all("cpp", ir)
    assert "kDefaultMaxBuffer = 1000;" in after
    assert 'Reason::kTrailingBytes, "bytes left after ' not in after
    assert after.count('Reason::kTooLarge, "bytes left after ') == len(_all_structs(ir))
    assert after.count(".buffer_reason = Reason::kInvalidUtf8,") == len(_all_streams(ir)) - 1  # not the datagram's
    assert after.count(".empty_item_reason = Reason::kUnknownType,") == len(_all_streams(ir)) - 1


def _all_structs(ir: Any) -> list[str]:
    return [s["name"] for p in ir["wire"] for s in p["structs"]]
