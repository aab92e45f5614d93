"""The DTO vectors against the official protobuf runtime (upb), both directions.

Proves that tests/vectors/dto.json, the generated .proto and upb agree: upb decodes every
positive `hex` to `json` and re-encodes it byte for byte, ParseDict(json) encodes to the bytes
without unknown fields, and upb rejects every negative case unless the case says it does not.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.internal import api_implementation
from google.protobuf.message import DecodeError

DTO = Path(__file__).resolve().parents[1] / "vectors" / "dto.json"
CASES: list[dict[str, Any]] = json.loads(DTO.read_text(encoding="utf-8"))["cases"]
POSITIVE = [c for c in CASES if "error" not in c]
NEGATIVE = [c for c in CASES if "error" in c]


def test_runtime_is_upb() -> None:
    # The vectors were made with upb; the pure-Python runtime differs in corner cases.
    assert api_implementation.Type() == "upb"


def test_vector_file_shape(ir: Any) -> None:
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))
    assert len(CASES) >= 150
    assert {c["type"] for c in POSITIVE} == {m["name"] for m in ir["messages"]}
    reasons = {e["name"] for e in ir["decode_errors"]}
    assert {c["error"] for c in NEGATIVE} <= reasons
    for wanted in (
        "truncated",
        "length_past_end",
        "varint_overlong",
        "bad_wire_type",
        "invalid_field_number",
        "invalid_utf8",
    ):
        assert any(c["error"] == wanted and not c.get("upb_accepts") for c in NEGATIVE), wanted
    for c in POSITIVE:
        assert c.get("unknown_fields", False) == ("known_hex" in c), c["name"]


@pytest.mark.parametrize("case", POSITIVE, ids=[c["name"] for c in POSITIVE])
def test_positive_case(upb: dict[str, Any], case: dict[str, Any]) -> None:
    cls = upb[case["type"]]
    data = bytes.fromhex(case["hex"])
    msg = cls.FromString(data)
    assert json_format.MessageToDict(msg, preserving_proto_field_name=False) == case["json"]
    assert msg.SerializeToString(deterministic=True) == data
    known = bytes.fromhex(case.get("known_hex", case["hex"]))
    assert json_format.ParseDict(case["json"], cls()).SerializeToString(deterministic=True) == known
    if case.get("unknown_fields"):
        assert known != data
        msg.DiscardUnknownFields()
        assert msg.SerializeToString(deterministic=True) == known


@pytest.mark.parametrize("case", NEGATIVE, ids=[c["name"] for c in NEGATIVE])
def test_negative_case(upb: dict[str, Any], case: dict[str, Any]) -> None:
    cls = upb[case["type"]]
    data = bytes.fromhex(case["hex"])
    if case.get("upb_accepts"):
        cls.FromString(data)  # upb is more lenient here; the case says so
    else:
        with pytest.raises(DecodeError):
            cls.FromString(data)


def test_vector_file_is_up_to_date(make_vectors: ModuleType) -> None:
    fresh = make_vectors.build()
    assert fresh == DTO.read_text(encoding="utf-8"), "run: python tests/vectors/make_dto_vectors.py"
