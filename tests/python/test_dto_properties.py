"""Property and fuzz tests of the generated Python DTOs, for every message of the real IDL.

Random DTO values (built from the IR, so new messages are covered automatically) survive
binary and ProtoJSON round trips; random and mutated bytes and random JSON values make the
decoders raise DecodeError or succeed, never anything else.
"""

from __future__ import annotations

import importlib
import json
import struct
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apirpc_compiler.backends.python.namer import PythonNamer
from apirpc_compiler.ir.model import IR, Field, Message

N = PythonNamer()
_INTS = {
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
_F32 = st.floats(width=32, allow_nan=False)
_F64 = st.floats(allow_nan=False)


@pytest.fixture(scope="module")
def cc(python_sdk: Path) -> ModuleType:
    return importlib.import_module("clutchcall")


def _scalar(name: str) -> st.SearchStrategy[Any]:
    if name in _INTS:
        lo, hi = _INTS[name]
        return st.one_of(st.integers(lo, hi), st.integers(max(lo, -130), min(hi, 130)))
    if name == "bool":
        return st.booleans()
    if name == "float":
        return _F32
    if name == "double":
        return _F64
    if name == "string":
        return st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
    return st.binary(max_size=20)


class Strategies:
    def __init__(self, ir: IR, cc: ModuleType) -> None:
        self.cc = cc
        self.msgs = {m["name"]: m for m in ir["messages"]}
        self.enums = {e["name"]: e for e in ir["enums"]}

    def value(self, f: Field, depth: int) -> st.SearchStrategy[Any]:
        kind, name = f["type"]["kind"], f["type"]["name"]
        if kind == "scalar":
            return _scalar(name)
        if kind == "enum":
            numbers = [v["number"] for v in self.enums[name]["values"]]
            return st.one_of(st.sampled_from(numbers), st.integers(-(2**31), 2**31 - 1))
        return self.message(self.msgs[name], depth + 1)

    def message(self, msg: Message, depth: int = 0) -> st.SearchStrategy[Any]:
        cls = getattr(self.cc, N.class_name(msg["words"]))
        kwargs: dict[str, st.SearchStrategy[Any]] = {}
        for f in msg["fields"]:
            if f["oneof"]:
                continue
            attr = N.attr_name(f["words"])
            if f["type"]["kind"] == "message" and depth > 3:
                continue
            v = self.value(f, depth)
            if f["label"] == "repeated":
                kwargs[attr] = st.lists(v, max_size=3)
            elif f["label"] == "optional" or f["type"]["kind"] == "message":
                kwargs[attr] = st.none() | v
            else:
                kwargs[attr] = v
        base = st.fixed_dictionaries(kwargs)
        for o in msg["oneofs"]:
            members = [f for f in msg["fields"] if f["oneof"] == o["name"]]
            choice = st.one_of(
                st.just({}), *(self.value(f, depth).map(lambda v, f=f: {N.attr_name(f["words"]): v}) for f in members)
            )
            base = st.tuples(base, choice).map(lambda t: {**t[0], **t[1]})
        return base.map(lambda kw: cls(**kw))


def _same(a: Any, b: Any) -> bool:
    # -0.0 == 0.0 in Python; the encodings tell them apart.
    return bool(a == b and a.encode() == b.encode())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_binary_and_json_round_trips(cc: ModuleType, ir: IR, data: st.DataObject) -> None:
    strategies = Strategies(ir, cc)
    for msg in ir["messages"]:
        x = data.draw(strategies.message(msg), label=msg["name"])
        cls = type(x)
        encoded = x.encode()
        assert _same(cls.decode(encoded), x)
        assert cls.decode(encoded).encode() == encoded  # canonical: re-encoding is stable
        assert _same(cls.from_json(x.to_json()), x)
        assert _same(cls.from_json_str(x.to_json_str()), x)
        json.loads(x.to_json_str())  # strict JSON (no NaN literals)


def _decode_only_decode_errors(cc: ModuleType, cls: Any, data: bytes) -> None:
    try:
        x = cls.decode(data)
    except cc.DecodeError as e:
        assert e.reason in cc.DecodeErrorReason.ALL
        return
    # Whatever decodes re-encodes (unknown enum numbers and unknown fields included) ...
    again = cls.decode(x.encode())
    assert again.encode() == x.encode()


@settings(max_examples=300, deadline=None)
@given(data=st.data(), raw=st.binary(max_size=64))
def test_fuzz_random_bytes(cc: ModuleType, ir: IR, data: st.DataObject, raw: bytes) -> None:
    msg = data.draw(st.sampled_from(ir["messages"]))
    _decode_only_decode_errors(cc, getattr(cc, N.class_name(msg["words"])), raw)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_fuzz_mutated_encodings(cc: ModuleType, ir: IR, data: st.DataObject) -> None:
    strategies = Strategies(ir, cc)
    msg = data.draw(st.sampled_from(ir["messages"]))
    x = data.draw(strategies.message(msg))
    buf = bytearray(x.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if op == "insert" or not buf:
            buf.insert(data.draw(st.integers(0, len(buf))), data.draw(st.integers(0, 255)))
        elif op == "flip":
            i = data.draw(st.integers(0, len(buf) - 1))
            buf[i] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "cut":
            del buf[data.draw(st.integers(0, len(buf) - 1)) :]
        else:
            del buf[data.draw(st.integers(0, len(buf) - 1))]
    _decode_only_decode_errors(cc, type(x), bytes(buf))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), doc=_JSON)
def test_fuzz_json_values(cc: ModuleType, ir: IR, data: st.DataObject, doc: Any) -> None:
    msg = data.draw(st.sampled_from(ir["messages"]))
    cls = getattr(cc, N.class_name(msg["words"]))
    # Give random values to real field names, so that the type checks are reached.
    if isinstance(doc, dict) and msg["fields"]:
        for _ in range(3):
            f = data.draw(st.sampled_from(msg["fields"]))
            doc[f["json_name"]] = data.draw(_JSON)
    try:
        cls.from_json(doc)
    except cc.DecodeError as e:
        assert e.reason in ("invalid_json", "too_deep")


def test_float32_values_are_stored_as_float32(cc: ModuleType) -> None:
    q = cc.CallQuality.from_json({"jitterMs": 0.1})
    assert q.jitter_ms == struct.unpack("<f", struct.pack("<f", 0.1))[0]
    assert cc.CallQuality.decode(q.encode()) == q
