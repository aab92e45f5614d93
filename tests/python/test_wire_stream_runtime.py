"""The generic stream runtime (`clutchcall.wire._stream`) on toy grammars, for the paths the real
protocols do not take: an item decoder with two header flags, an item that consumes no bytes in
the middle of a feed, a header of a subclass of the table's header class, a framed stream whose
Type has a fixed width. Each is checked against bytes and values worked out by hand. The runtime
is the one the compiler generates now (the `python_sdk` fixture).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest


@pytest.fixture(scope="module")
def rt(python_sdk: Path) -> ModuleType:
    return importlib.import_module("clutchcall.wire._stream")


class Head:
    """A header: one byte, its type code; the variants table gives its flags."""

    __slots__ = ("kind",)

    def __init__(self, kind: int) -> None:
        self.kind = kind

    def encode(self) -> bytes:
        return bytes([self.kind])

    @classmethod
    def _decode_from(cls, r: Any, end: int) -> Head:
        return cls(r.uint(1, end))


class Item:
    """An object: a 16-bit value, prefixed by one byte 0xA0 | flags when the header passes two
    flags. A first byte 0xFF is read as an item of no bytes (one that cannot advance the stream)."""

    __slots__ = ("flags", "value")

    def __init__(self, value: int, flags: tuple[bool, ...] = ()) -> None:
        self.value = value
        self.flags = flags

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Item) and (other.value, other.flags) == (self.value, self.flags)

    def __repr__(self) -> str:
        return f"Item({self.value}, {self.flags})"

    def _encode_into(self, out: bytearray, *flags: bool) -> None:
        if len(flags) == 2:
            out.append(0xA0 | flags[0] << 1 | flags[1])
        out += self.value.to_bytes(2, "big")

    @classmethod
    def _decode_from(cls, r: Any, end: int, *flags: bool) -> Item:
        if len(flags) == 2:
            assert r.uint(1, end) == 0xA0 | flags[0] << 1 | flags[1]
        if r.pos < end and r.buf[r.pos] == 0xFF:
            return cls(0, flags)
        return cls(r.uint(2, end), flags)


FLAGS = {1: (True, False), 2: (False, True)}


def _grammar(rt: ModuleType, args: tuple[int, ...]) -> Any:
    """A header of kind 1 or 2 (its flags from FLAGS), then items taking the flags at `args`."""
    Grammar, State, Transition = rt.Grammar, rt.State, rt.Transition
    return Grammar(
        "toy",
        "object",
        (
            State(
                (Transition(Head, 1, (1, 2), variants=(FLAGS, "kind")),),
                peek=1,
                at_end="truncated",
                unknown_reason="unknown_type",
            ),
            State((Transition(Item, 1, args=args),), at_end="accept", unknown_reason="unknown_type"),
        ),
        empty_reason="invalid_value",
        buffer_reason="too_large",
    )


def _parser(rt: ModuleType, g: Any, framed: bool = False) -> Any:
    class ToyParser(rt.FramedParser if framed else rt.Parser):  # type: ignore[misc]
        grammar = g

    return ToyParser(1000)


@pytest.mark.parametrize(
    ("args", "flags"), [((), ()), ((1,), (False,)), ((0, 1), (True, False)), ((1, 0), (False, True))]
)
def test_items_get_the_flags_at_their_indexes(rt: ModuleType, args: tuple[int, ...], flags: tuple[bool, ...]) -> None:
    g = _grammar(rt, args)
    values = [5, 300, 0xFE00]
    data = g.encode_stream(Head(1), [Item(v) for v in values])
    prefix = bytes([0xA0 | flags[0] << 1 | flags[1]]) if len(flags) == 2 else b""
    assert data == b"\x01" + b"".join(prefix + b for b in (b"\x00\x05", b"\x01\x2c", b"\xfe\x00"))
    want = [Item(v, flags) for v in values]
    whole = _parser(rt, g).feed(data)
    assert isinstance(whole[0], Head) and whole[0].kind == 1 and whole[1:] == want
    bytewise = _parser(rt, g)
    got = [x for i in range(len(data)) for x in bytewise.feed(data[i : i + 1])]
    assert got[1:] == want
    bytewise.close()


def test_an_item_of_no_bytes_fails_at_its_offset_mid_feed(rt: ModuleType) -> None:
    parser = _parser(rt, _grammar(rt, (1,)))
    with pytest.raises(rt.DecodeError) as e:
        parser.feed(b"\x01\x00\x05\x00\x06\xff")
    assert (e.value.reason, e.value.offset) == ("invalid_value", 5)
    assert "an empty object cannot advance the stream" in str(e.value)


def test_a_header_subclass_encodes_as_its_base_and_the_errors_name_the_tables_classes(rt: ModuleType) -> None:
    class SubHead(Head):
        __slots__ = ()

    g = _grammar(rt, (1,))
    assert g.encode_object(SubHead(2), Item(300)) == g.encode_object(Head(2), Item(300)) == b"\x01\x2c"
    with pytest.raises(rt.EncodeError, match="a Head stream carries Item objects, not str"):
        g.encode_object(SubHead(2), "x")
    with pytest.raises(rt.EncodeError, match="unknown header type 0x3"):
        g.encode_object(Head(3), Item(1))
    with pytest.raises(rt.EncodeError, match="int is not a header of this stream"):
        g.encode_object(7, Item(1))


class Body:
    """A framed message: its bytes as they are."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Body) and other.data == self.data

    def _encode_into(self, out: bytearray) -> None:
        out += self.data

    @classmethod
    def _decode_from(cls, r: Any, end: int) -> Body:
        return cls(r.fixed(end - r.pos, end))


# Type and Length of a 3-byte message of type 0x41 and of a 100-byte one of type 7, by hand (width 0: a varint)
@pytest.mark.parametrize(
    ("type_width", "length_width", "head_a", "head_b"),
    [
        (1, 0, b"\x41\x03", b"\x07\x40\x64"),
        (0, 2, b"\x40\x41\x00\x03", b"\x07\x00\x64"),
        (2, 1, b"\x00\x41\x03", b"\x00\x07\x64"),
    ],
)
def test_framed_widths(rt: ModuleType, type_width: int, length_width: int, head_a: bytes, head_b: bytes) -> None:
    frame = rt.Frame(
        type=type_width,
        length=length_width,
        max_length=200,
        unknown_reason="unknown_type",
        too_large_reason="too_large",
        past_end_reason="length_past_end",
        trailing_reason="trailing_bytes",
    )
    state = rt.State((rt.Transition(Body, 0, (0x41, 7)),), frame=frame, at_end="accept", unknown_reason="unknown_type")
    g = rt.Grammar("toyframes", "message", (state,), empty_reason="invalid_value", buffer_reason="too_large")
    a, b = g.encode_frame(Body(b"abc"), 0x41), g.encode_frame(Body(bytes(100)), 7)
    assert (a, b) == (head_a + b"abc", head_b + bytes(100))
    assert _parser(rt, g, framed=True).feed(a + b + a[:2]) == [(0x41, Body(b"abc")), (7, Body(bytes(100)))]
    with pytest.raises(rt.EncodeError, match="serves types"):
        g.encode_frame(Body(b""), None)
    with pytest.raises(rt.EncodeError, match="over the limit"):
        g.encode_frame(Body(bytes(201)), 7)
