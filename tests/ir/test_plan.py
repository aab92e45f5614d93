"""The codec plan (apirpc_compiler/ir/plan.py), proved without any backend.

- Goldens: the plan of a few hand-picked structs and of one stream grammar, checked in as JSON
  under tests/ir/golden/. Regenerate with `APIRPC_UPDATE_GOLDEN=1 pytest tests/ir`, then review
  the diff: a change there is a change of every SDK's wire behaviour.
- Vectors: a reference interpreter (plan_interp.py) that walks the plan's JSON must reproduce
  every case of tests/vectors/{moqt_d14,envelope,varint}.json: decode to the value, encode to the
  bytes, and fail every negative case with exactly its reason.
- Offsets: where the interpreter fails, the generated Python SDK (an independent implementation)
  fails at the same offset.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from apirpc_compiler.ir.plan import PlanError, lower, lower_protocol, to_json
from apirpc_compiler.pipeline import compile_idl

from .plan_interp import Codec, DecodeFailure, EncodeFailure

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("APIRPC_UPDATE_GOLDEN") == "1"

# name in the golden file -> (protocol, struct or stream)
GOLDEN_STRUCTS = {
    "envelope.Envelope": ("envelope", "Envelope"),  # const, closed codes, mask, max, a bounded bytes length
    "moqt_d14.KeyValuePair": ("moqt_d14", "KeyValuePair"),  # parity conditions
    "moqt_d14.Subscribe": ("moqt_d14", "Subscribe"),  # counted list with min/max, conditions on a code set
    "moqt_d14.SubgroupObject": ("moqt_d14", "SubgroupObject"),  # args, framed list, a length from a field
    "moqt_d14.ObjectDatagram": ("moqt_d14", "ObjectDatagram"),  # variants and their flags, rest-length payload
}
GOLDEN_STREAMS = {"moqt_d14.data": ("moqt_d14", "data"), "moqt_d14.control": ("moqt_d14", "control")}


@pytest.fixture(scope="module")
def ir() -> Any:
    return compile_idl(str(ROOT / "api" / "clutchcall.json"))


@pytest.fixture(scope="module")
def codecs(ir: Any) -> dict[str, Codec]:
    return {p["name"]: Codec(p) for p in ir["plan"]["protocols"]}


def _find(ir: Any, protocol: str, key: str, name: str) -> Any:
    proto = next(p for p in ir["plan"]["protocols"] if p["name"] == protocol)
    return next(x for x in proto[key] if x["name"] == name)


def _golden(path: Path, actual: Any) -> None:
    text = json.dumps(actual, indent=1, sort_keys=True) + "\n"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with APIRPC_UPDATE_GOLDEN=1"
    assert path.read_text(encoding="utf-8") == text, f"{path.name} changed; regenerate with APIRPC_UPDATE_GOLDEN=1"


@pytest.mark.parametrize("name", sorted(GOLDEN_STRUCTS))
def test_struct_plan_golden(ir: Any, name: str) -> None:
    protocol, struct = GOLDEN_STRUCTS[name]
    _golden(GOLDEN / f"struct.{name}.json", _find(ir, protocol, "structs", struct))


@pytest.mark.parametrize("name", sorted(GOLDEN_STREAMS))
def test_stream_plan_golden(ir: Any, name: str) -> None:
    protocol, stream = GOLDEN_STREAMS[name]
    _golden(GOLDEN / f"stream.{name}.json", _find(ir, protocol, "streams", stream))


def test_plan_is_deterministic_json(ir: Any) -> None:
    again = to_json(lower(ir))
    assert json.dumps(again, sort_keys=True) == json.dumps(ir["plan"], sort_keys=True)
    assert json.loads(json.dumps(ir["plan"])) == ir["plan"]


def test_ir_command_prints_the_plan(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from apirpc_compiler.cli import main

    out = tmp_path / "ir.json"
    result = CliRunner().invoke(main, ["ir", str(ROOT / "api" / "clutchcall.json"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    printed = json.loads(out.read_text(encoding="utf-8"))
    assert printed["format"] == "apirpc-ir/2"
    assert [p["name"] for p in printed["plan"]["protocols"]] == ["envelope", "moqt_d14"]


# ---- every vector through the interpreter ----


def _cases(file: str) -> list[dict[str, Any]]:
    return list(json.loads((VECTORS / file).read_text(encoding="utf-8"))["cases"])


def _args(codec: Codec, case: dict[str, Any]) -> list[bool]:
    struct = codec.structs[case["struct"]]
    return [bool(case.get("args", {})[a]) for a in struct["args"]]


def _stream_items(case: dict[str, Any]) -> list[tuple[str, Any]]:
    if case["stream"] == "data":
        return [(case["header"]["struct"], case["header"]["value"])] + [
            (o["struct"], o["value"]) for o in case["objects"]
        ]
    if case["stream"] == "datagram":
        return [(case["message"]["struct"], case["message"]["value"])]
    return [(x["struct"], x["value"]) for x in case["messages"]]


def _decode(codec: Codec, case: dict[str, Any]) -> Any:
    data = bytes.fromhex(case["hex"])
    if "struct" in case:
        return codec.decode_whole(case["struct"], data, _args(codec, case))
    return codec.decode_stream(case["stream"], data)


def _run_case(codec: Codec, case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(DecodeFailure) as failure:
            _decode(codec, case)
        assert failure.value.reason == case["error"], case["name"]
        return
    decoded = _decode(codec, case)
    if "struct" in case:
        assert decoded == case["value"], case["name"]
        encoded = codec.encode_whole(case["struct"], case["value"], _args(codec, case))
    else:
        items = _stream_items(case)
        assert decoded == items, case["name"]
        encoded = codec.encode_stream(case["stream"], items)
    if not case.get("decode_only"):
        assert encoded.hex() == case["hex"], case["name"]


@pytest.mark.parametrize("file", ["moqt_d14.json", "envelope.json"])
def test_interpreter_reproduces_every_vector(codecs: dict[str, Codec], file: str) -> None:
    cases = _cases(file)
    codec = codecs[json.loads((VECTORS / file).read_text(encoding="utf-8"))["protocol"]]
    assert len(cases) > 40
    for case in cases:
        _run_case(codec, case)


def test_interpreter_reproduces_the_varint_vectors(codecs: dict[str, Codec]) -> None:
    """varint.json through the plan's integer read and write (what every `read_int` op does)."""
    doc = json.loads((VECTORS / "varint.json").read_text(encoding="utf-8"))
    codec = codecs["envelope"]
    for case in doc["cases"] + doc["decode_only"]:
        data = bytes.fromhex(case["hex"])
        value, pos = codec.read_int(data, 0, "varint", len(data), "truncated", case["name"])
        assert (value, pos) == (int(case["value"]), len(data)), case["name"]
    for case in doc["cases"]:
        out = bytearray()
        codec.write_int(out, int(case["value"]), "varint")
        assert out.hex() == case["hex"], case["name"]
    for case in doc["errors"]:
        data = bytes.fromhex(case["hex"])
        with pytest.raises(DecodeFailure) as failure:
            codec.read_int(data, 0, "varint", len(data), "truncated", case["name"])
        assert failure.value.reason == case["error"]
    for case in doc["encode_errors"]:
        with pytest.raises(EncodeFailure):
            codec.write_int(bytearray(), int(case["value"]), "varint")


def test_interpreter_can_fail(codecs: dict[str, Codec]) -> None:
    """The oracle is not vacuous: a wrong reason, a flipped byte and a wrong value are caught."""
    case = next(c for c in _cases("envelope.json") if c.get("error") == "invalid_value")
    with pytest.raises(AssertionError):
        _run_case(codecs["envelope"], {**case, "error": "truncated"})
    good = next(c for c in _cases("envelope.json") if "struct" in c and "error" not in c)
    with pytest.raises(AssertionError):
        _run_case(codecs["envelope"], {**good, "value": {**good["value"], "request_id": 99}})


# ---- offsets against an independent implementation (the generated Python SDK) ----


def test_failure_offsets_match_the_python_sdk(codecs: dict[str, Codec]) -> None:
    pytest.importorskip("clutchcall.wire")
    from clutchcall.errors import DecodeError  # type: ignore[import-not-found]
    from clutchcall.wire import envelope, moqt_d14  # type: ignore[import-not-found]

    modules = {"envelope": envelope, "moqt_d14": moqt_d14}
    compared = 0
    mismatched: list[str] = []
    for file in ("moqt_d14.json", "envelope.json"):
        for case in _cases(file):
            if "error" not in case or "struct" not in case:
                continue
            protocol = "envelope" if file == "envelope.json" else "moqt_d14"
            codec = codecs[protocol]
            with pytest.raises(DecodeFailure) as ours:
                _decode(codec, case)
            cls = getattr(modules[protocol], case["struct"])
            kwargs = {a: case["args"][a] for a in codec.structs[case["struct"]]["args"]}
            with pytest.raises(DecodeError) as theirs:
                cls.decode(bytes.fromhex(case["hex"]), **kwargs)
            assert theirs.value.reason == ours.value.reason, case["name"]
            compared += 1
            if theirs.value.offset != ours.value.offset:
                mismatched.append(f"{case['name']}: {ours.value.offset} vs {theirs.value.offset}")
    assert compared > 80
    assert not mismatched, mismatched


# ---- the lowering refuses what no codec could implement ----


def _proto(struct_fields: list[Any]) -> Any:
    from apirpc_compiler.ir.wire import build_wire

    _, protos = build_wire({"protocols": {"p": {"structs": {"S": {"fields": struct_fields}}}}})
    return protos[0]


def test_lowering_refuses_a_list_read_to_its_end_of_empty_elements() -> None:
    proto = _proto([{"name": "xs", "type": "list", "count": "rest", "element": {"type": "bytes", "length": 0}}])
    with pytest.raises(PlanError, match="at least one byte"):
        lower_protocol(proto)


def test_lowering_refuses_a_length_from_a_non_integer_field() -> None:
    proto = _proto([{"name": "a", "type": "bytes"}, {"name": "b", "type": "bytes", "length": {"field": "a"}}])
    with pytest.raises(PlanError, match="not an integer field"):
        lower_protocol(proto)


def test_a_plan_error_is_a_diagnostic_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should the front end ever let through what the plan cannot lower, the CLI names the place."""
    from click.testing import CliRunner

    from apirpc_compiler.cli import main
    from apirpc_compiler.ir import plan

    def refuse(proto: Any) -> Any:
        raise PlanError(f"{proto['name']}: cannot be lowered")

    monkeypatch.setattr(plan, "lower_protocol", refuse)
    result = CliRunner().invoke(main, ["ir", str(ROOT / "api" / "clutchcall.json")])
    assert result.exit_code == 1
    assert "[wire-plan] envelope: cannot be lowered (at /wire/protocols/envelope)" in result.output
    assert "Traceback" not in result.output
