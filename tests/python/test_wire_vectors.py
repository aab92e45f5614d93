"""The generated wire codecs (`clutchcall.wire`) against the golden wire vectors.

tests/vectors/{varint,envelope,moqt_d14}.json are written by an independent oracle
(make_wire_vectors.py). For every positive struct case: decode(hex) == from_json(value),
encode(from_json(value)) == hex and to_json round-trips. Stream cases are fed whole, one byte
at a time and in seeded random chunks, and must give the same messages; encoding the messages
back gives the bytes. Negative cases raise DecodeError with the expected reason.
"""

from __future__ import annotations

import importlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apirpc_compiler.ir.model import IR, WireProtocol, WireStream
from apirpc_compiler.ir.naming import pascal, snake

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8")))


VARINT = _load("varint")
PROTOCOL_CASES = [(p, c) for p in ("envelope", "moqt_d14") for c in _load(p)["cases"]]
STRUCT_POS = [(p, c) for p, c in PROTOCOL_CASES if "struct" in c and "error" not in c]
STRUCT_NEG = [(p, c) for p, c in PROTOCOL_CASES if "struct" in c and "error" in c]
STREAM_POS = [(p, c) for p, c in PROTOCOL_CASES if "stream" in c and "error" not in c]
STREAM_NEG = [(p, c) for p, c in PROTOCOL_CASES if "stream" in c and "error" in c]


def _ids(cases: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [f"{p}:{c['name']}" for p, c in cases]


class Wire:
    """The generated wire package plus the IR, to find each stream's API by its IDL name."""

    def __init__(self, ir: IR) -> None:
        self.quic = importlib.import_module("clutchcall.wire._quic")
        self.errors = importlib.import_module("clutchcall.errors")
        self.protocols: dict[str, WireProtocol] = {p["name"]: p for p in ir["wire"]}
        self.modules = {n: importlib.import_module(f"clutchcall.wire.{n}") for n in self.protocols}

    def struct(self, proto: str, name: str) -> Any:
        words = next(s["words"] for s in self.protocols[proto]["structs"] if s["name"] == name)
        return getattr(self.modules[proto], pascal(words))

    def value(self, proto: str, item: dict[str, Any]) -> Any:
        return self.struct(proto, item["struct"]).from_json(item["value"])

    def stream(self, proto: str, name: str) -> WireStream:
        return next(s for s in self.protocols[proto]["streams"] if s["name"] == name)

    def parser(self, proto: str, name: str, **kw: Any) -> Any:
        st = self.stream(proto, name)
        return getattr(self.modules[proto], pascal([*st["words"], "parser"]))(**kw)

    def fn(self, proto: str, prefix: str, name: str) -> Any:
        return getattr(self.modules[proto], f"{prefix}_{snake(self.stream(proto, name)['words'])}")


@pytest.fixture(scope="module")
def wire(python_sdk: Path, ir: IR) -> Wire:
    return Wire(ir)


def _args(case: dict[str, Any]) -> dict[str, Any]:
    return dict(case.get("args", {}))


# ---------------------------------------------------------------------------- varints


def test_varint_vectors(wire: Wire) -> None:
    q = wire.quic
    assert VARINT["cases"] and VARINT["errors"]
    for c in VARINT["cases"]:
        data = bytes.fromhex(c["hex"])
        assert q.decode_varint(data) == (int(c["value"]), len(data)), c["name"]
        assert q.encode_varint(int(c["value"])) == data, c["name"]
    for c in VARINT["decode_only"]:
        data = bytes.fromhex(c["hex"])
        assert q.decode_varint(data) == (int(c["value"]), len(data)), c["name"]
    for c in VARINT["encode_errors"]:
        with pytest.raises(wire.errors.EncodeError):
            q.encode_varint(int(c["value"]))
    for c in VARINT["errors"]:
        with pytest.raises(wire.errors.DecodeError) as e:
            q.decode_varint(bytes.fromhex(c["hex"]))
        assert e.value.reason == c["error"], c["name"]


def test_varint_sizes_exhaustive_at_boundaries(wire: Wire) -> None:
    q = wire.quic
    for bound, size in [(0, 1), (63, 1), (64, 2), (16383, 2), (16384, 4), (2**30 - 1, 4), (2**30, 8), (2**62 - 1, 8)]:
        enc = q.encode_varint(bound)
        assert len(enc) == size
        assert q.decode_varint(enc + b"\xff") == (bound, size)
    with pytest.raises(wire.errors.EncodeError):
        q.encode_varint(-1)


def _rfc9000_varint(value: int) -> bytes:
    """RFC 9000 section 16 written out independently: the smallest of the four sizes that holds
    the value, its two-bit length code in the top bits of the first byte."""
    for code, size in enumerate((1, 2, 4, 8)):
        if value < 1 << (8 * size - 2):
            return ((code << (8 * size - 2)) | value).to_bytes(size, "big")
    raise AssertionError(value)


@settings(max_examples=2000, deadline=None)
@given(
    value=st.one_of(
        st.integers(0, 2**62 - 1),
        st.sampled_from([b + d for b in (1 << 6, 1 << 14, 1 << 30, 1 << 62) for d in (-2, -1, 0, 1)]),
        st.integers(-(2**64), -1),
        st.integers(2**62, 2**70),
    ),
    split=st.integers(0, 8),
)
def test_varints_match_rfc9000_and_streaming_reads(wire: Wire, value: int, split: int) -> None:
    """write_varint/encode_varint and Reader.varint (also mid-buffer and cut short while streaming)
    agree with an independent encoder on every size and just past each boundary."""
    q = wire.quic
    if not 0 <= value < 2**62:
        with pytest.raises(wire.errors.EncodeError):
            q.encode_varint(value)
        return
    data = _rfc9000_varint(value)
    out = bytearray(b"\x07")
    q.write_varint(out, value)
    assert q.encode_varint(value) == data and bytes(out) == b"\x07" + data
    r = q.Reader(b"\x07" + data + b"\x3f", 1)
    assert (r.varint(r.stop), r.pos) == (value, 1 + len(data))
    if split < len(data):  # the varint cut short: a streaming reader waits, a whole-input one fails
        r = q.Reader(data[:split], streaming=True)
        with pytest.raises(q.Incomplete):
            r.varint(r.stop)
        with pytest.raises(wire.errors.DecodeError) as e:
            q.decode_varint(data[:split])
        assert e.value.reason == "truncated" and e.value.offset == 0
        r = q.Reader(data + b"\x00", 0)
        with pytest.raises(wire.errors.DecodeError) as e:  # the frame ends before the varint does
            r.varint(split)
        assert "past the end of its frame" in str(e.value) and not isinstance(e.value, q.Incomplete)


# ---------------------------------------------------------------------------- structs


@pytest.mark.parametrize(("proto", "case"), STRUCT_POS, ids=_ids(STRUCT_POS))
def test_struct_positive(wire: Wire, proto: str, case: dict[str, Any]) -> None:
    cls = wire.struct(proto, case["struct"])
    data = bytes.fromhex(case["hex"])
    want = cls.from_json(case["value"])
    got = cls.decode(data, **_args(case))
    assert got == want
    assert got.to_json() == case["value"]
    assert cls.from_json(got.to_json()) == got
    assert cls.decode(memoryview(data), **_args(case)) == want
    if not case.get("decode_only"):
        assert want.encode(**_args(case)).hex() == case["hex"]


@pytest.mark.parametrize(("proto", "case"), STRUCT_NEG, ids=_ids(STRUCT_NEG))
def test_struct_negative(wire: Wire, proto: str, case: dict[str, Any]) -> None:
    cls = wire.struct(proto, case["struct"])
    with pytest.raises(wire.errors.DecodeError) as e:
        cls.decode(bytes.fromhex(case["hex"]), **_args(case))
    assert e.value.reason == case["error"], str(e.value)


# ---------------------------------------------------------------------------- streams


def _splits(data: bytes, seed: int) -> list[list[bytes]]:
    rng = random.Random(seed)
    out = [[data], [data[i : i + 1] for i in range(len(data))]]
    for _ in range(5):
        chunks, i = [], 0
        while i < len(data):
            n = rng.randint(0, 7)  # 0-byte chunks must be harmless too
            chunks.append(data[i : i + n])
            i += n
        out.append(chunks)
    return out


def _feed_all(wire: Wire, proto: str, name: str, chunks: list[bytes]) -> list[Any]:
    parser = wire.parser(proto, name)
    items: list[Any] = []
    for chunk in chunks:
        items += parser.feed(chunk)
    parser.close()
    return items


def _expected(wire: Wire, proto: str, case: dict[str, Any]) -> list[Any]:
    kind = wire.stream(proto, case["stream"])["kind"]
    if kind == "header_objects":
        return [wire.value(proto, case["header"]), *(wire.value(proto, o) for o in case["objects"])]
    if kind == "datagram":
        return [wire.value(proto, case["message"])]
    return [wire.value(proto, m) for m in case["messages"]]


@pytest.mark.parametrize(("proto", "case"), STREAM_POS, ids=_ids(STREAM_POS))
def test_stream_positive(wire: Wire, proto: str, case: dict[str, Any]) -> None:
    name = case["stream"]
    kind = wire.stream(proto, name)["kind"]
    data = bytes.fromhex(case["hex"])
    want = _expected(wire, proto, case)
    if kind == "datagram":
        assert wire.fn(proto, "decode", name)(data) == want[0]
        if not case.get("decode_only"):
            assert wire.fn(proto, "encode", name)(want[0]).hex() == case["hex"]
        return
    for i, chunks in enumerate(_splits(data, seed=len(data))):
        items = _feed_all(wire, proto, name, chunks)
        if kind == "framed":
            assert all(isinstance(code, int) for code, _ in items)
            items = [msg for _, msg in items]
        assert items == want, f"split #{i}"
    if case.get("decode_only"):
        return
    encode = wire.fn(proto, "encode", name)
    if kind == "header_objects":
        assert encode(want[0], want[1:]).hex() == case["hex"]
    else:
        assert b"".join(encode(m) for m in want).hex() == case["hex"]


@pytest.mark.parametrize(("proto", "case"), STREAM_NEG, ids=_ids(STREAM_NEG))
def test_stream_negative(wire: Wire, proto: str, case: dict[str, Any]) -> None:
    name = case["stream"]
    data = bytes.fromhex(case["hex"])
    if wire.stream(proto, name)["kind"] == "datagram":
        with pytest.raises(wire.errors.DecodeError) as e:
            wire.fn(proto, "decode", name)(data)
        assert e.value.reason == case["error"], str(e.value)
        return
    for chunks in _splits(data, seed=len(data))[:3]:
        with pytest.raises(wire.errors.DecodeError) as e:
            _feed_all(wire, proto, name, chunks)
        assert e.value.reason == case["error"], str(e.value)


def test_vector_files_cover_every_kind() -> None:
    # The suites above are only as good as the files: make sure none is silently empty.
    assert len(STRUCT_POS) > 100 and len(STRUCT_NEG) > 50
    assert len(STREAM_POS) > 30 and len(STREAM_NEG) > 20
    assert {c["stream"] for _, c in STREAM_POS} >= {"rpc", "control", "data", "datagram"}
