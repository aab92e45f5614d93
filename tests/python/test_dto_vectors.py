"""The generated Python SDK against the golden DTO vectors (tests/vectors/dto.json).

Every positive vector: `decode(hex)` then `encode()` gives the same bytes (unknown fields kept),
`to_json()` equals the vector's ProtoJSON, and `from_json(json).encode()` gives the bytes
without unknown fields. Every negative vector: `decode` raises DecodeError with its reason.
"""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path
from typing import Any

import pytest

DTO = Path(__file__).resolve().parents[1] / "vectors" / "dto.json"
CASES: list[dict[str, Any]] = json.loads(DTO.read_text(encoding="utf-8"))["cases"]
POSITIVE = [c for c in CASES if "error" not in c]
NEGATIVE = [c for c in CASES if "error" in c]


@pytest.fixture(scope="module")
def sdk(python_sdk: Path) -> tuple[Any, Any]:
    messages = importlib.import_module("clutchcall.messages")
    errors = importlib.import_module("clutchcall.errors")
    return messages, errors.DecodeError


def same_json(got: Any, want: Any, path: str = "$") -> None:
    """JSON equality that, unlike ==, tells true from 1 and -0.0 from 0.0."""
    if isinstance(want, bool) or isinstance(got, bool):
        assert got is want, f"{path}: {got!r} != {want!r}"
    elif isinstance(want, (int, float)):
        assert isinstance(got, (int, float)), f"{path}: {got!r} is not a number (want {want!r})"
        assert got == want, f"{path}: {got!r} != {want!r}"
        assert math.copysign(1.0, got) == math.copysign(1.0, want), f"{path}: sign of zero differs"
    elif isinstance(want, dict):
        assert isinstance(got, dict), f"{path}: {got!r} is not an object"
        assert sorted(got) == sorted(want), f"{path}: keys {sorted(got)} != {sorted(want)}"
        for k in want:
            same_json(got[k], want[k], f"{path}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{path}: {got!r} != {want!r}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            same_json(g, w, f"{path}[{i}]")
    else:
        assert type(got) is type(want) and got == want, f"{path}: {got!r} != {want!r}"


def test_same_json_is_strict() -> None:
    same_json({"a": [1, -0.0, "x"]}, {"a": [1.0, -0.0, "x"]})
    for got, want in [(1, True), (0.0, -0.0), ({"a": 1}, {"a": 1, "b": 2}), ("1", 1)]:
        with pytest.raises(AssertionError):
            same_json(got, want)


@pytest.mark.parametrize("case", POSITIVE, ids=[c["name"] for c in POSITIVE])
def test_positive_vector(sdk: tuple[Any, Any], case: dict[str, Any]) -> None:
    messages, _ = sdk
    cls = getattr(messages, case["type"])
    data = bytes.fromhex(case["hex"])
    msg = cls.decode(data)
    assert msg.encode() == data
    same_json(msg.to_json(), case["json"])
    known = bytes.fromhex(case.get("known_hex", case["hex"]))
    assert cls.from_json(case["json"]).encode() == known


@pytest.mark.parametrize("case", NEGATIVE, ids=[c["name"] for c in NEGATIVE])
def test_negative_vector(sdk: tuple[Any, Any], case: dict[str, Any]) -> None:
    messages, decode_error = sdk
    cls = getattr(messages, case["type"])
    with pytest.raises(decode_error) as info:
        cls.decode(bytes.fromhex(case["hex"]))
    reason = info.value.reason
    assert getattr(reason, "value", reason) == case["error"], str(info.value)
