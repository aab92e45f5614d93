"""The Python wire emitter decides nothing about the wire: change the plan and its output follows.

Like test_renderers_follow_plan.py for Rust, Java and C#: each case alters one thing in the plan
(a limit, a reason, the op order, a stream's limit or reasons, the parsers' buffer bound, a derived
length field, a field's code set) and checks the rendered Python changed exactly that way. A
renderer that re-derived any of it from the IR's wire section would fail here. Where an altered
module is also imported, the change is checked as behaviour, not only as text.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from apirpc_compiler.backends.common import WireGenError
from apirpc_compiler.backends.python.emit_wire import generate_wire
from apirpc_compiler.backends.python.namer import PythonNamer
from apirpc_compiler.ir import plan
from apirpc_compiler.pipeline import compile_idl

from .plan_edits import alter_protocol, map_states

ROOT = Path(__file__).resolve().parents[2]
ENVELOPE = "clutchcall/wire/envelope.py"
MOQT = "clutchcall/wire/moqt_d14.py"


@pytest.fixture(scope="module")
def ir() -> Any:
    return compile_idl(str(ROOT / "api" / "clutchcall.json"))


def _render(ir: Any) -> dict[str, str]:
    return {f.path: f.content for f in generate_wire(ir, PythonNamer())}


def _alter_struct(
    monkeypatch: pytest.MonkeyPatch, struct: str, change: Callable[[plan.StructPlan], plan.StructPlan]
) -> None:
    def per_protocol(p: plan.ProtocolPlan) -> plan.ProtocolPlan:
        return dataclasses.replace(p, structs=tuple(change(s) if s.name == struct else s for s in p.structs))

    alter_protocol(monkeypatch, per_protocol)


def _map_ops(s: plan.StructPlan, f: Callable[[plan.Op], plan.Op]) -> plan.StructPlan:
    return dataclasses.replace(s, decode=tuple(f(op) for op in s.decode), encode=tuple(f(op) for op in s.encode))


@pytest.fixture
def load(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], ModuleType]]:
    """Import a rendered `clutchcall.wire` beside the real package's other modules (a fresh copy)."""
    real = ROOT / "generated" / "python" / "clutchcall"
    saved = {k: v for k, v in sys.modules.items() if k == "clutchcall" or k.startswith("clutchcall.")}

    def go(files: dict[str, str]) -> ModuleType:
        pkg = tmp_path / "clutchcall"
        pkg.mkdir()
        for src in real.glob("*.py"):
            (pkg / src.name).write_text(src.read_text())
        (pkg / "wire").mkdir()
        for path, text in files.items():
            (tmp_path / path).write_text(text)
        for k in list(sys.modules):
            if k == "clutchcall" or k.startswith("clutchcall."):
                del sys.modules[k]
        sys.path.insert(0, str(tmp_path))
        import clutchcall.wire

        return clutchcall.wire

    yield go
    sys.path[:] = [p for p in sys.path if p != str(tmp_path)]
    for k in list(sys.modules):
        if k == "clutchcall" or k.startswith("clutchcall."):
            del sys.modules[k]
    sys.modules.update(saved)


def test_the_plan_renders_the_committed_sdk(ir: Any) -> None:
    """Unaltered, the renderer reproduces the committed package (but its source-sha header)."""
    for path, text in _render(ir).items():
        committed = (ROOT / "generated" / "python" / path).read_text()
        strip = re.compile(r"^# source sha256: .*\n", re.M)
        assert strip.sub("", text) == strip.sub("", committed), path


def test_a_limit_comes_from_the_plan(ir: Any, monkeypatch: pytest.MonkeyPatch, load: Any) -> None:
    before = _render(ir)[ENVELOPE]
    assert before.count("16777216") == 4  # decode: test and message; encode: test and message
    assert "4321" not in before

    def lower(op: plan.Op) -> plan.Op:
        return dataclasses.replace(op, limit=4321) if isinstance(op, plan.Limit) and op.limit == 16777216 else op

    _alter_struct(monkeypatch, "Envelope", lambda s: _map_ops(s, lower))
    files = _render(ir)
    after = files[ENVELOPE]
    assert "16777216" not in after
    assert after.count("4321") == 4
    wire = load(files)
    env = wire.envelope.Envelope.request(7, 1, _Payload(b"x" * 4322))
    with pytest.raises(Exception, match="4322 bytes, at most 4321"):
        env.encode()


class _Payload:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def encode(self) -> bytes:
        return self.data


def test_a_reason_comes_from_the_plan(ir: Any, monkeypatch: pytest.MonkeyPatch, load: Any) -> None:
    def reason(op: plan.Op) -> plan.Op:
        if isinstance(op, plan.Check) and op.where == "Envelope.version":
            return dataclasses.replace(op, reason="unknown_type")
        return op

    before = _render(ir)[ENVELOPE]
    _alter_struct(monkeypatch, "Envelope", lambda s: _map_ops(s, reason))
    files = _render(ir)
    assert files[ENVELOPE].count('"unknown_type"') == before.count('"unknown_type"') + 1
    wire = load(files)
    with pytest.raises(wire.envelope.DecodeError) as err:
        wire.envelope.Envelope.decode(bytes([2, 0, 0, 0, 0, 0]))
    assert err.value.reason == "unknown_type"


def test_the_check_order_comes_from_the_plan(ir: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A limit moved before the read of its length comes out before it (the renderer does not reorder)."""

    def limit_first(s: plan.StructPlan) -> plan.StructPlan:
        ops = list(s.decode)
        i = next(i for i, op in enumerate(ops) if isinstance(op, plan.Limit))
        ops[i - 1], ops[i] = ops[i], ops[i - 1]
        return dataclasses.replace(s, decode=tuple(ops))

    def between_limit_and_payload(text: str) -> str:
        decode = text[text.index("def _decode_from") :]
        return decode[decode.index("> 16777216:") : decode.index("v_payload = r.raw(")]

    assert "= r.varint(end)" not in between_limit_and_payload(_render(ir)[ENVELOPE])
    _alter_struct(monkeypatch, "Envelope", limit_first)
    assert "= r.varint(end)" in between_limit_and_payload(_render(ir)[ENVELOPE])


def test_a_checks_order_within_a_value_comes_from_the_plan(ir: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A check the plan puts before another check of the same integer comes out before it."""

    def min_first(s: plan.StructPlan) -> plan.StructPlan:
        ops = list(s.decode)
        i = next(i for i, op in enumerate(ops) if isinstance(op, plan.Check) and op.where == "Envelope.method_id")
        extra = dataclasses.replace(ops[i], test="min", bound=5)  # type: ignore[arg-type]
        ops.insert(i, extra)
        return dataclasses.replace(s, decode=tuple(ops))

    _alter_struct(monkeypatch, "Envelope", min_first)
    decode = _render(ir)[ENVELOPE].split("def _decode_from")[1]
    assert decode.index("is below 5") < decode.index("is above 4294967295")


def test_stream_limits_and_reasons_come_from_the_plan(ir: Any, monkeypatch: pytest.MonkeyPatch, load: Any) -> None:
    """The generated grammars carry the plan's limits and reasons, and the runtime parser fails with them."""
    before = _render(ir)[MOQT]
    assert "CONTROL_MAX_LENGTH: Final = 65535" in before
    assert "DEFAULT_MAX_BUFFER: Final = 1 << 25" in before

    def state(x: plan.StreamState) -> plan.StreamState:
        if x.frame is not None:
            frame = dataclasses.replace(x.frame, max_length=1234, unknown_reason="invalid_value")
            return dataclasses.replace(x, frame=frame)
        if x.peek is not None:
            return dataclasses.replace(x, unknown_reason="invalid_value", at_end="length_past_end")  # type: ignore[arg-type]
        return x

    def protocol(p: plan.ProtocolPlan) -> plan.ProtocolPlan:
        p = map_states(p, state)
        p = dataclasses.replace(
            p, streams=tuple(dataclasses.replace(st, buffer_reason="truncated") for st in p.streams)
        )
        return dataclasses.replace(p, max_buffer=1000)

    alter_protocol(monkeypatch, protocol)
    files = _render(ir)
    after = files[MOQT]
    assert "CONTROL_MAX_LENGTH: Final = 1234" in after
    assert "DEFAULT_MAX_BUFFER: Final = 1000" in after
    assert 'at_end="length_past_end"' in after  # only a pending item decoding whole at close would raise it
    moqt = load(files).moqt_d14

    def reason(parser: Any, data: bytes) -> str:
        with pytest.raises(moqt.DecodeError) as e:
            parser.feed(data)
        return str(e.value.reason)

    assert reason(moqt.ControlParser(), bytes([0x3F, 0, 0])) == "invalid_value"  # unknown message type
    assert reason(moqt.ControlParser(5000), bytes([0x15, 0x04, 0xD3])) == "too_large"  # 1235 > the frame's 1234
    assert moqt.ControlParser(5000).feed(bytes([0x15, 0x04, 0xD2])) == []  # 1234: waits for the body
    assert reason(moqt.DataParser(), bytes([0x3F])) == "invalid_value"  # unknown stream type
    # a 1000-byte frame (within the bound) of which 1002 bytes are buffered: over the bound of 1000
    assert reason(moqt.ControlParser(), bytes([0x15, 0x03, 0xE8]) + bytes(999)) == "truncated"


def test_the_whole_value_reason_comes_from_the_plan(ir: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _alter_struct(monkeypatch, "Envelope", lambda s: dataclasses.replace(s, whole_reason="length_past_end"))
    text = _render(ir)[ENVELOPE]
    assert '"length_past_end", f"{r.stop - r.pos} byte(s) left after Envelope"' in text


def test_derived_length_fields_come_from_the_plan(ir: Any, monkeypatch: pytest.MonkeyPatch, load: Any) -> None:
    """SubgroupObject.payload_length is derived because the plan says it measures payload: without
    that it is an ordinary field again, passed to the constructor and checked on encode."""
    before = _render(ir)[MOQT]
    assert "payload_length as written on the wire: always len(payload)" in before

    def not_derived(s: plan.StructPlan) -> plan.StructPlan:
        return dataclasses.replace(s, fields=tuple(dataclasses.replace(f, measures=None) for f in s.fields))

    _alter_struct(monkeypatch, "SubgroupObject", not_derived)
    files = _render(ir)
    after = files[MOQT]
    start = after.index("class SubgroupObject(Struct):")
    sub = after[start : after.index("class", start + 5)]
    assert "always len(payload)" not in sub
    assert "its length does not match payload_length" in sub
    wire = load(files)
    obj = wire.moqt_d14.SubgroupObject(object_id_delta=0, payload_length=3, payload=b"ab")
    with pytest.raises(wire.moqt_d14.EncodeError, match="does not match payload_length"):
        obj.encode(has_extensions=False)


def test_a_fields_code_set_comes_from_the_plan(ir: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Envelope.kind is typed and decoded as its code set's enum only because its type says so."""
    before = _render(ir)[ENVELOPE]
    assert "kind: EnvelopeKind" in before and "_ENVELOPE_KIND_MEMBERS[c3]" in before

    def untyped(s: plan.StructPlan) -> plan.StructPlan:
        fields = tuple(
            dataclasses.replace(f, type=dataclasses.replace(f.type, codes=None)) if f.name == "kind" else f
            for f in s.fields
        )
        return dataclasses.replace(s, fields=fields)

    _alter_struct(monkeypatch, "Envelope", untyped)
    after = _render(ir)[ENVELOPE]
    assert "    kind: int\n" in after
    assert "_ENVELOPE_KIND_MEMBERS[" not in after.split("def _decode_from")[1].split("def to_json")[0]


def test_a_stream_the_runtime_parsers_cannot_run_is_refused(ir: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The generic parsers run a framed stream as one state looping to itself, and others without
    frames: a plan outside that is a generation error, not a parser that silently misreads."""

    def unframed(x: plan.StreamState) -> plan.StreamState:
        return dataclasses.replace(x, frame=None) if x.frame is not None else x

    alter_protocol(monkeypatch, lambda p: map_states(p, unframed))
    with pytest.raises(WireGenError, match="control: state frame is not one the runtime parsers take"):
        _render(ir)
