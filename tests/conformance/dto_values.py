"""DTO values: random ProtoJSON from the IR, the upb oracle, and JSON comparison by value.

Random values are valid ProtoJSON, not necessarily canonical (explicit zeros, proto field
names as keys, unknown enum numbers); the expected canonical binary and JSON come from the
official protobuf runtime (upb), the same oracle that wrote tests/vectors/dto.json.
"""

from __future__ import annotations

import base64
import importlib.util
import math
import random
import struct
from typing import Any

from google.protobuf import json_format

from apirpc_compiler.ir.model import IR, Field, Message

from .build import ROOT

INT_RANGES = {
    "int32": (-(2**31), 2**31 - 1),
    "sint32": (-(2**31), 2**31 - 1),
    "sfixed32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "fixed32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "sint64": (-(2**63), 2**63 - 1),
    "sfixed64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
    "fixed64": (0, 2**64 - 1),
}
INT64 = frozenset({"int64", "sint64", "sfixed64", "uint64", "fixed64"})
TEXT_POOL = [
    "a", "Z", "0", " ", "+14155550100", "voice/CA12/uplink", '"', "\\", "/", "\n", "\t", "\x00", "\x1f", "\x7f",
    "é", "ß", "中", "文", "\u2028", "\u2029", "\ufeff", "\uffff", "😀", "𝄞", "\U0010ffff", "<", "&", "'",
]  # fmt: skip
F32_EXTREMES = [0.0, -0.0, 1.0, -1.0, 0.5, 3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45,
                1.1754943508222875e-38, math.inf, -math.inf, math.nan, 16777216.0, 0.1]  # fmt: skip
F64_EXTREMES = [0.0, -0.0, 1.0, -1.5, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                -1.7976931348623157e308, math.inf, -math.inf, math.nan, 2.0**53, 0.1, 1e21, 1e-7]  # fmt: skip


def load_oracle() -> dict[str, Any]:
    """{message name: upb class}, built by tests/vectors/make_dto_vectors.py from the IDL."""
    path = ROOT / "tests" / "vectors" / "make_dto_vectors.py"
    spec = importlib.util.spec_from_file_location("_conformance_make_dto_vectors", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    classes, _ir = module.load_message_classes()
    return dict(classes)


class DtoGenerator:
    """Seeded random ProtoJSON values of the IR's messages, of bounded depth."""

    def __init__(self, ir: IR, rng: random.Random, max_depth: int = 4) -> None:
        self.messages = {m["name"]: m for m in ir["messages"]}
        self.enums = {e["name"]: e for e in ir["enums"]}
        self.rng = rng
        self.max_depth = max_depth

    def message(self, name: str, depth: int = 0) -> dict[str, Any]:
        rng = self.rng
        msg = self.messages[name]
        density = rng.choice([0.0, 0.3, 0.6, 1.0]) if depth == 0 else rng.choice([0.2, 0.5])
        out: dict[str, Any] = {}
        chosen_oneof: dict[str, str] = {}
        for oneof in msg["oneofs"]:
            if rng.random() < 0.8:
                chosen_oneof[oneof["name"]] = rng.choice(oneof["fields"])
        for field in msg["fields"]:
            if field["oneof"] is not None:
                if chosen_oneof.get(field["oneof"]) != field["name"]:
                    continue
            elif rng.random() >= density:
                continue
            if field["type"]["kind"] == "message" and depth >= self.max_depth:
                continue
            key = field["name"] if rng.random() < 0.1 else field["json_name"]
            if field["label"] == "repeated":
                count = rng.choice([0, 1, 1, 2, 3, 5]) if depth < 2 else rng.choice([0, 1])
                out[key] = [self.value(field, depth) for _ in range(count)]
            else:
                out[key] = self.value(field, depth)
        return out

    def value(self, field: Field, depth: int) -> Any:
        rng = self.rng
        ref = field["type"]
        if ref["kind"] == "message":
            return self.message(ref["name"], depth + 1)
        if ref["kind"] == "enum":
            values = self.enums[ref["name"]]["values"]
            r = rng.random()
            if r < 0.75:
                return rng.choice(values)["json_name"]
            known = {v["number"] for v in values}
            unknown = [n for n in (rng.randint(1, 1000), 2**31 - 1, -1, -(2**31)) if n not in known]
            return rng.choice(unknown) if r < 0.95 or not unknown else unknown[0]
        return self.scalar(ref["name"])

    def scalar(self, kind: str) -> Any:
        rng = self.rng
        if kind in INT_RANGES:
            lo, hi = INT_RANGES[kind]
            r = rng.random()
            if r < 0.25:
                v = rng.choice([lo, hi, 0, 1, -1 if lo < 0 else 2, hi // 2 + 1, 127, 128, 16383, 16384])
            else:
                bits = rng.randint(1, (hi - lo).bit_length())
                v = rng.getrandbits(bits) * (rng.choice([1, -1]) if lo < 0 else 1)
                v = max(lo, min(hi, v))
            return str(v) if kind in INT64 else v
        if kind == "bool":
            return rng.random() < 0.5
        if kind == "float":
            x = rng.choice(F32_EXTREMES) if rng.random() < 0.3 else _random_f32(rng)
            return _json_number(x)
        if kind == "double":
            x = rng.choice(F64_EXTREMES) if rng.random() < 0.3 else _random_f64(rng)
            return _json_number(x)
        if kind == "string":
            n = rng.choice([0, 1, 3, 8, 20]) if rng.random() < 0.97 else 300
            return "".join(rng.choice(TEXT_POOL) for _ in range(n))
        if kind == "bytes":
            n = rng.choice([0, 1, 2, 3, 4, 16, 33])
            return base64.b64encode(bytes(rng.getrandbits(8) for _ in range(n))).decode()
        raise ValueError(f"unknown scalar {kind}")


def _random_f32(rng: random.Random) -> float:
    while True:
        (x,) = struct.unpack("<f", struct.pack("<I", rng.getrandbits(32)))
        if not math.isnan(x):
            return float(x)


def _random_f64(rng: random.Random) -> float:
    while True:
        (x,) = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))
        if not math.isnan(x):
            return float(x)


def _json_number(x: float) -> Any:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def oracle_expect(cls: Any, value: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """(canonical binary, canonical ProtoJSON) of `value` per upb; ValueError if upb rejects it."""
    msg = cls()
    json_format.ParseDict(value, msg)
    return msg.SerializeToString(deterministic=True), json_format.MessageToDict(msg)


class Mismatch(Exception):
    """A JSON document does not have the shape of its message (path and reason)."""


class JsonNormalizer:
    """Turns ProtoJSON into a comparable value, checking the printer's obligations."""

    def __init__(self, ir: IR) -> None:
        self.messages: dict[str, Message] = {m["name"]: m for m in ir["messages"]}

    def message(self, value: Any, name: str, path: str = "$") -> dict[str, Any]:
        if not isinstance(value, dict):
            raise Mismatch(f"{path}: expected an object for {name}, got {type(value).__name__}")
        fields = {f["json_name"]: f for f in self.messages[name]["fields"]}
        out: dict[str, Any] = {}
        for key, item in value.items():
            field = fields.get(key)
            if field is None:
                raise Mismatch(f"{path}: {name} has no field with the JSON name {key!r}")
            where = f"{path}.{key}"
            if field["label"] == "repeated":
                if not isinstance(item, list):
                    raise Mismatch(f"{where}: expected an array")
                out[key] = [self.value(x, field, f"{where}[{i}]") for i, x in enumerate(item)]
            else:
                out[key] = self.value(item, field, where)
        return out

    def value(self, value: Any, field: Field, path: str) -> Any:
        ref = field["type"]
        if ref["kind"] == "message":
            return self.message(value, ref["name"], path)
        kind = ref["name"]
        if ref["kind"] == "enum":
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise Mismatch(f"{path}: an enum must be a name or a number, got {value!r}")
            return value
        if kind in INT64:
            if not isinstance(value, str):
                raise Mismatch(f"{path}: a 64-bit integer must be a JSON string, got {value!r}")
            try:
                return int(value)
            except ValueError:
                raise Mismatch(f"{path}: {value!r} is not a decimal integer") from None
        if kind in INT_RANGES:
            if isinstance(value, bool) or not isinstance(value, int):
                raise Mismatch(f"{path}: a 32-bit integer must be a JSON number, got {value!r}")
            return value
        if kind in ("float", "double"):
            x = _float(value, path)
            if kind == "float" and not math.isnan(x):
                (x,) = struct.unpack("<f", struct.pack("<f", x))  # compare float fields as float32
            return ("nan",) if math.isnan(x) else (x, math.copysign(1.0, x))
        if kind == "bool":
            if not isinstance(value, bool):
                raise Mismatch(f"{path}: expected true or false, got {value!r}")
            return value
        if not isinstance(value, str):
            raise Mismatch(f"{path}: expected a string, got {value!r}")
        return value


def _float(value: Any, path: str) -> float:
    if isinstance(value, str):
        special = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
        if value in special:
            return special[value]
        raise Mismatch(f"{path}: {value!r} is not a number, NaN or Infinity")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Mismatch(f"{path}: expected a number, got {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise Mismatch(f"{path}: {value!r} is out of range") from None


def diff(expected: Any, actual: Any, path: str = "$") -> str:
    """The first difference between two normalized values, or ''."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                return f"{path}.{key}: missing (expected {expected[key]!r})"
            if key not in expected:
                return f"{path}.{key}: unexpected {actual[key]!r}"
            d = diff(expected[key], actual[key], f"{path}.{key}")
            if d:
                return d
        return ""
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{path}: {len(actual)} element(s), expected {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            d = diff(e, a, f"{path}[{i}]")
            if d:
                return d
        return ""
    if expected != actual or type(expected) is not type(actual):
        return f"{path}: got {actual!r}, expected {expected!r}"
    return ""
