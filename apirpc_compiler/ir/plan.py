"""The codec plan: every wire struct and stream grammar lowered, once, into ordered steps.

This is the IR pass `lower_plan` (run after `build_ir`, see `pipeline.compile_idl`). A struct
becomes two op lists, `decode` and `encode`, in the exact order a codec performs them; every op
that can fail names the decode error reason it raises. A stream grammar becomes a state machine.
A renderer walks the ops and spells each in its language: it decides nothing about the wire
(no check order, no reason, no limit, no length rule comes from a backend any more).

Values live in named slots: `v_<field>` for a struct's fields, `f_<flag>` for variant flags and
struct args, `end` for the end of the enclosing frame, `out` for the encoder's output, and
temporaries numbered in plan order per struct (`o` value starts, `n` lengths and counts, `e`
frame ends, `x` list items, `t` optional values, `b` encoded bytes, `buf` sub-buffers).
The JSON form (`plan_json`) is what `apirpc-compiler ir` prints under `plan` and plugins read;
docs/plan.md describes every node. The error-order contract of tests/vectors/README.md is stated
by the op order here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from . import model as m
from .wire import code_sets_by_name, structs_by_name

Width = Literal["varint", "u8", "u16", "u32", "u64"]
Reason = Literal[
    "truncated", "length_past_end", "invalid_utf8", "too_large", "invalid_value", "unknown_type", "trailing_bytes"
]
INT_SIZE: dict[str, int] = {"u8": 1, "u16": 2, "u32": 4, "u64": 8}
INT_MAX: dict[str, int] = {"varint": (1 << 62) - 1, "u8": 0xFF, "u16": 0xFFFF, "u32": 0xFFFFFFFF, "u64": (1 << 64) - 1}


class PlanError(ValueError):
    """The wire section uses the DSL in a way no codec can implement. `pointer`: the JSON
    pointer of the protocol at fault in the IDL."""

    pointer = ""


# ---- conditions: an expression tree over flags and earlier fields ----


@dataclass(frozen=True)
class FlagIs:
    """A variant flag or struct arg equals `value`."""

    flag: str
    value: bool
    node: Literal["flag_is"] = "flag_is"


@dataclass(frozen=True)
class FieldTest:
    """An earlier integer field compared with constants. `optional`: the field is itself
    conditional; when it is absent the test is false."""

    field: str
    test: Literal["eq", "ne", "in", "not_in", "even", "odd"]
    values: tuple[int, ...]
    optional: bool
    node: Literal["field_test"] = "field_test"


Cond: TypeAlias = FlagIs | FieldTest


# ---- operands: where a length, count or limit subject comes from ----


@dataclass(frozen=True)
class Var:
    """The value of slot `name` (an integer read earlier)."""

    name: str
    node: Literal["var"] = "var"


@dataclass(frozen=True)
class FieldValue:
    """An earlier integer field's value (0 when `optional` and absent)."""

    field: str
    optional: bool
    node: Literal["field_value"] = "field_value"


@dataclass(frozen=True)
class Const:
    value: int
    node: Literal["const"] = "const"


@dataclass(frozen=True)
class Remaining:
    """The bytes left before `end` (the current frame's end)."""

    end: str
    node: Literal["remaining"] = "remaining"


@dataclass(frozen=True)
class LenOf:
    """The length of slot `name`: bytes of a byte string or buffer, elements of a list."""

    name: str
    node: Literal["len_of"] = "len_of"


Operand: TypeAlias = Var | FieldValue | Const | Remaining | LenOf


# ---- value types (for declaring slots; no wire meaning) ----


@dataclass(frozen=True)
class TypeDesc:
    """`codes`: an integer's code set (closed when it is one of the protocol's `code_sets`)."""

    kind: Literal["int", "bytes", "string", "struct", "list"]
    struct: str | None = None
    element: TypeDesc | None = None
    codes: str | None = None


# ---- ops ----


@dataclass(frozen=True)
class Begin:
    """The ops of field `field` (slot `var`) start here: a boundary, it does nothing by itself."""

    field: str
    var: str
    optional: bool
    op: Literal["begin"] = "begin"


@dataclass(frozen=True)
class Mark:
    """Remember the cursor in `var`: where the next value starts (an error's offset)."""

    var: str
    op: Literal["mark"] = "mark"


@dataclass(frozen=True)
class ReadInt:
    """Read a `width` integer into `var`; past `end` it is `error`."""

    var: str
    width: Width
    end: str
    where: str
    error: Reason = "truncated"
    op: Literal["read_int"] = "read_int"


@dataclass(frozen=True)
class Check:
    """Integer constraint on `var`. Decoding fails with `reason` at offset `at` (a Mark slot);
    encoding fails with an encode error. `test` fails when: const: var != bound; codes: var is
    not a value of code set `codes`; min: var < bound; max: var > bound; mask: var has bits
    outside bound."""

    var: str
    test: Literal["const", "codes", "min", "max", "mask"]
    bound: int | None
    codes: str | None
    at: str | None
    where: str
    reason: Reason = "invalid_value"
    op: Literal["check"] = "check"


@dataclass(frozen=True)
class Limit:
    """`subject` > `limit` fails with `reason` at the cursor (`unit`: what is counted).
    A declared length is checked here before the bytes it declares are looked at."""

    subject: Operand
    limit: int
    unit: Literal["bytes", "elements"]
    where: str
    reason: Reason = "too_large"
    op: Literal["limit"] = "limit"


@dataclass(frozen=True)
class ReadBytes:
    """Read `length` bytes into `var` (`utf8`: as a string, else `utf8_error`); a length past
    `end` is `error`."""

    var: str
    length: Operand
    end: str
    utf8: bool
    where: str
    error: Reason = "length_past_end"
    utf8_error: Reason = "invalid_utf8"
    op: Literal["read_bytes"] = "read_bytes"


@dataclass(frozen=True)
class ReadFixed:
    """Read exactly `size` bytes into `var`; fewer before `end` is `error` (like an integer)."""

    var: str
    size: int
    end: str
    utf8: bool
    where: str
    error: Reason = "truncated"
    utf8_error: Reason = "invalid_utf8"
    op: Literal["read_fixed"] = "read_fixed"


@dataclass(frozen=True)
class OpenFrame:
    """`var` = the end of a sub-frame of `length` bytes from here; past `end` is `error`.
    With a `Remaining` length the frame is the rest of `end`'s frame (no check)."""

    var: str
    length: Operand
    end: str
    where: str
    error: Reason = "length_past_end"
    op: Literal["open_frame"] = "open_frame"


@dataclass(frozen=True)
class ExpectEnd:
    """The cursor must be at `end`, else `reason`."""

    end: str
    where: str
    reason: Reason = "trailing_bytes"
    op: Literal["expect_end"] = "expect_end"


@dataclass(frozen=True)
class DecodeStruct:
    """Decode struct `struct` up to `end` into `var`, passing `args` (flag/arg slots)."""

    var: str
    struct: str
    end: str
    args: tuple[str, ...]
    op: Literal["decode_struct"] = "decode_struct"


@dataclass(frozen=True)
class NewList:
    var: str
    type: TypeDesc
    op: Literal["new_list"] = "new_list"


@dataclass(frozen=True)
class MinCount:
    """`subject` < `min` elements fails with `reason` at `at` (the list's start, a Mark slot;
    None when encoding) or with an encode error."""

    subject: Operand
    min: int
    where: str
    at: str | None
    reason: Reason = "invalid_value"
    op: Literal["min_count"] = "min_count"


@dataclass(frozen=True)
class Need:
    """`count` elements of at least `min_bytes` each must fit before `end`, else `error`:
    a count the input cannot hold fails before anything is allocated."""

    count: Operand
    min_bytes: int
    end: str
    where: str
    error: Reason = "truncated"
    op: Literal["need"] = "need"


@dataclass(frozen=True)
class Room:
    """`list` already holds `max` elements and another would start: `reason`."""

    list: str
    max: int
    where: str
    reason: Reason = "too_large"
    op: Literal["room"] = "room"


@dataclass(frozen=True)
class Repeat:
    """Run `body` `count` times."""

    count: Operand
    body: tuple[Op, ...]
    op: Literal["repeat"] = "repeat"


@dataclass(frozen=True)
class UntilEnd:
    """Run `body` while the cursor is before `end`."""

    end: str
    body: tuple[Op, ...]
    op: Literal["until_end"] = "until_end"


@dataclass(frozen=True)
class Append:
    list: str
    item: str
    op: Literal["append"] = "append"


@dataclass(frozen=True)
class Optional:
    """Decode: `var` is absent unless `cond` holds; then `body` decodes it into `item`.
    Encode: when `cond` holds `var` must be present (its value is `item` in `body`), else absent."""

    var: str
    cond: Cond
    item: str
    body: tuple[Op, ...]
    where: str
    op: Literal["optional"] = "optional"


@dataclass(frozen=True)
class VariantFlag:
    name: str
    index: int
    var: str
    used: bool  # whether anything in the struct reads it


@dataclass(frozen=True)
class Variant:
    """`var` (the first field) selects a variant: unknown codes fail with `reason`; the
    variant's flags are bound to their slots."""

    var: str
    struct: str
    flags: tuple[VariantFlag, ...]
    reason: Reason = "unknown_type"
    op: Literal["variant"] = "variant"


@dataclass(frozen=True)
class WriteInt:
    value: str
    width: Width
    out: str
    op: Literal["write_int"] = "write_int"


@dataclass(frozen=True)
class AsBytes:
    """`var` = the bytes of `value` (UTF-8 when `utf8`; a string that has none is an encode error)."""

    var: str
    value: str
    utf8: bool
    where: str
    op: Literal["as_bytes"] = "as_bytes"


@dataclass(frozen=True)
class WriteLength:
    """Put `subject`'s length: `varint` writes it; `field` requires it to equal the field;
    `fixed` requires it to equal `size`."""

    subject: Operand
    kind: Literal["varint", "field", "fixed", "rest"]
    field: FieldValue | None
    size: int | None
    out: str
    where: str
    op: Literal["write_length"] = "write_length"


@dataclass(frozen=True)
class WriteBytes:
    value: str
    out: str
    op: Literal["write_bytes"] = "write_bytes"


@dataclass(frozen=True)
class EncodeStruct:
    value: str
    struct: str
    out: str
    args: tuple[str, ...]
    op: Literal["encode_struct"] = "encode_struct"


@dataclass(frozen=True)
class NewBuffer:
    """A sub-buffer whose length is written in front of it (`holds`: a struct or elements)."""

    var: str
    holds: Literal["struct", "elements"]
    op: Literal["new_buffer"] = "new_buffer"


@dataclass(frozen=True)
class WriteBuffer:
    buffer: str
    out: str
    op: Literal["write_buffer"] = "write_buffer"


@dataclass(frozen=True)
class ForEach:
    list: str
    item: str
    item_is_int: bool
    body: tuple[Op, ...]
    op: Literal["for_each"] = "for_each"


Op: TypeAlias = (
    Begin
    | Mark
    | ReadInt
    | Check
    | Limit
    | ReadBytes
    | ReadFixed
    | OpenFrame
    | ExpectEnd
    | DecodeStruct
    | NewList
    | MinCount
    | Need
    | Room
    | Repeat
    | UntilEnd
    | Append
    | Optional
    | Variant
    | WriteInt
    | AsBytes
    | WriteLength
    | WriteBytes
    | EncodeStruct
    | NewBuffer
    | WriteBuffer
    | ForEach
)


def walk(ops: Iterable[Op]) -> Iterator[Op]:
    """Every op of `ops` and of the bodies nested in them, in order (each op before its body)."""
    for op in ops:
        yield op
        if isinstance(op, (Repeat, UntilEnd, Optional, ForEach)):
            yield from walk(op.body)


# ---- structs ----


@dataclass(frozen=True)
class PlanField:
    """A field: its slot, type and condition; `initial` is the value a new instance holds (the
    constant of a `const` field, so that a default-built value encodes), None for the type's zero.
    `measures`: the one later field whose length this field always is (an unconditional plain
    integer used only as the length of one unconditional bytes or list field), so an encoder may
    derive it instead of checking it; None otherwise."""

    name: str
    var: str
    type: TypeDesc
    cond: Cond | None
    initial: int | None
    measures: str | None = None


@dataclass(frozen=True)
class PlanVariant:
    code: int
    flags: tuple[bool, ...]  # in the order of StructPlan.flags


@dataclass(frozen=True)
class StructPlan:
    name: str
    args: tuple[str, ...]
    flags: tuple[str, ...]
    variants: tuple[PlanVariant, ...]
    fields: tuple[PlanField, ...]
    min_size: int  # the fewest bytes an encoding takes
    decode: tuple[Op, ...]
    encode: tuple[Op, ...]
    whole_reason: Reason = "trailing_bytes"  # decoding a whole struct that leaves bytes unused


# ---- streams: state machines ----


@dataclass(frozen=True)
class ArgBinding:
    """The object's struct arg `arg` takes the header's flag at `index` (named `flag`)."""

    arg: str
    flag: str
    index: int


@dataclass(frozen=True)
class Transition:
    """In a state: `codes` (None: always) selects reading `struct` (with `args`), then `next`.
    `binds_flags`: the struct is a variant header whose flags the next state's reads use."""

    codes: tuple[int, ...] | None
    struct: str
    args: tuple[ArgBinding, ...]
    next: str
    binds_flags: bool


@dataclass(frozen=True)
class FrameHeader:
    """A Type then a Length before each body. The Type must select a transition (else
    `unknown_type`), the Length is at most `max_length` (else `too_large`, checked before the body
    is awaited), and the body must fill Length exactly (else `trailing_bytes`)."""

    type: Width
    length: Width
    max_length: int
    unknown_reason: Reason = "unknown_type"
    too_large_reason: Reason = "too_large"
    past_end_reason: Reason = "length_past_end"  # the stream ends before Length bytes came
    trailing_reason: Reason = "trailing_bytes"


@dataclass(frozen=True)
class StreamState:
    """`peek`: the selecting code is peeked (the chosen struct reads it again). `frame`: each
    item is framed by a Type and Length (the Type selects). With neither, the one transition is
    taken. `at_end`: what the end of the stream means here with nothing buffered (`accept`, or
    a reason); a partial item at the end fails as decoding it fails. `trailing`: the item must
    use the whole input (a datagram), else this reason."""

    name: str
    peek: Width | None
    frame: FrameHeader | None
    transitions: tuple[Transition, ...]
    at_end: Literal["accept", "truncated"]
    trailing: Reason | None = None
    unknown_reason: Reason = "unknown_type"


@dataclass(frozen=True)
class StreamPlan:
    name: str
    kind: Literal["sequence", "framed", "header_objects", "datagram"]
    initial: str
    states: tuple[StreamState, ...]
    # an item that consumes no bytes would never advance the stream: refused with this reason
    empty_item_reason: Reason = "invalid_value"
    buffer_reason: Reason = "too_large"  # a parser holding more than its buffer bound


@dataclass(frozen=True)
class CodeSet:
    """The values of a closed code set (what a `codes` check accepts)."""

    name: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class ProtocolPlan:
    """`max_buffer`: the default bound on the bytes a stream parser holds for one unfinished item.
    While parsing a stream, a declared length (`read_bytes`, `open_frame`, a frame's Length) that
    the buffered bytes do not cover and that is above the bound fails at once with the stream's
    `buffer_reason`, instead of waiting for bytes that could never be held."""

    name: str
    code_sets: tuple[CodeSet, ...]
    structs: tuple[StructPlan, ...]
    streams: tuple[StreamPlan, ...]
    max_buffer: int = 1 << 25


@dataclass(frozen=True)
class Plan:
    protocols: tuple[ProtocolPlan, ...] = field(default_factory=tuple)


# ---- lowering ----


def min_size(t: m.WireType, structs: Mapping[str, m.WireStruct]) -> int:
    """The fewest bytes a value of `t` encodes to. Lengths naming a field, "rest" lengths and
    element lists count 0; a framed struct counts its varint frame only."""
    k = t["type"]
    if k == "varint":
        return 1
    if k in INT_SIZE:
        return INT_SIZE[k]
    if k in ("bytes", "string", "list"):
        ln = t["frame"] or t["length"]
        if ln is not None and ln["kind"] == "varint":
            return 1
        if k != "list" and ln is not None and ln["kind"] == "fixed":
            return int(ln["size"] or 0)
        return 0
    if t["frame"] is not None and t["frame"]["kind"] == "varint":
        return 1
    s = structs[str(t["struct"])]
    return sum(min_size(f["type"], structs) for f in s["fields"] if f["when"] is None)


def type_desc(t: m.WireType) -> TypeDesc:
    k = t["type"]
    if k in INT_MAX:
        return TypeDesc("int", codes=t["codes"])
    if k == "list":
        assert t["element"] is not None
        return TypeDesc("list", element=type_desc(t["element"]))
    if k == "struct":
        return TypeDesc("struct", struct=t["struct"])
    return TypeDesc("bytes" if k == "bytes" else "string")


def int_checks(t: m.WireType) -> list[tuple[Literal["const", "codes", "min", "max", "mask"], int | None]]:
    """The constraints of an integer, in the order they are checked; vacuous ones left out."""
    out: list[tuple[Literal["const", "codes", "min", "max", "mask"], int | None]] = []
    if t["const"] is not None:
        out.append(("const", t["const"]))
    if t["codes"] is not None and t["closed"]:
        out.append(("codes", None))
    if t["min"] is not None and t["min"] > 0:
        out.append(("min", t["min"]))
    if t["max"] is not None and t["max"] < INT_MAX[t["type"]]:
        out.append(("max", t["max"]))
    if t["mask"] is not None:
        out.append(("mask", t["mask"]))
    return out


class _StructLowering:
    def __init__(self, s: m.WireStruct, structs: dict[str, m.WireStruct]) -> None:
        self.s = s
        self.structs = structs
        self.fields = {f["name"]: f for f in s["fields"]}
        self.tmp = 0

    def fresh(self, prefix: str) -> str:
        self.tmp += 1
        return f"{prefix}{self.tmp}"

    def where(self, fname: str) -> str:
        return f"{self.s['name']}.{fname}"

    def field_value(self, fname: str | None) -> FieldValue:
        f = self.fields.get(str(fname))
        if f is None or f["type"]["type"] not in INT_MAX:
            raise PlanError(f"{self.s['name']}: {fname!r} is not an integer field")
        return FieldValue(str(fname), f["when"] is not None)

    def cond(self, c: m.WireCond) -> Cond:
        if c["op"] == "flag":
            if c["name"] not in (*self.s["flags"], *self.s["args"]):
                raise PlanError(f"{self.s['name']}: unknown flag {c['name']!r}")
            return FlagIs(c["name"], bool(c["value"]))
        ref = self.field_value(c["name"])
        value = c["value"]
        values: tuple[int, ...]
        if isinstance(value, list):
            values = tuple(int(x) for x in value)  # type: ignore[arg-type]
        elif isinstance(value, int):
            values = (value,)
        else:
            values = ()
        return FieldTest(ref.field, c["op"], values, ref.optional)

    def struct_args(self, t: m.WireType) -> tuple[str, ...]:
        name = t["struct"]
        if name is None or name not in self.structs:
            raise PlanError(f"{self.s['name']}: unknown struct {name!r}")
        scope = {*self.s["flags"], *self.s["args"]}
        target = self.structs[name]
        for a in target["args"]:
            if a not in scope:
                raise PlanError(f"{self.s['name']}: embedded {name} needs arg {a!r}, which is not in scope")
        return tuple("f_" + a for a in target["args"])

    # ---- decode ----
    def length_operand(self, ops: list[Op], ln: m.WireLength, end: str, where: str) -> Operand:
        if ln["kind"] == "varint":
            n = self.fresh("n")
            ops.append(ReadInt(n, "varint", end, where))
            return Var(n)
        if ln["kind"] == "field":
            return self.field_value(ln["field"])
        if ln["kind"] == "fixed":
            return Const(int(ln["size"] or 0))
        return Remaining(end)

    def open_frame(self, ops: list[Op], t: m.WireType, end: str, where: str) -> str:
        ln = t["frame"]
        assert ln is not None
        sub = self.fresh("e")
        if ln["kind"] == "rest":
            ops.append(OpenFrame(sub, Remaining(end), end, where))
            return sub
        n = self.length_operand(ops, ln, end, where)
        if t["max_bytes"] is not None:
            ops.append(Limit(n, t["max_bytes"], "bytes", where))
        ops.append(OpenFrame(sub, n, end, where))
        return sub

    def decode_value(self, ops: list[Op], t: m.WireType, target: str, end: str, where: str) -> None:
        k = t["type"]
        if k in INT_MAX:
            checks = int_checks(t)
            at = self.fresh("o") if checks else None
            if at is not None:
                ops.append(Mark(at))
            ops.append(ReadInt(target, k, end, where))  # type: ignore[arg-type]
            codes = t["codes"]
            ops += [Check(target, test, bound, codes if test == "codes" else None, at, where) for test, bound in checks]
            return
        if k in ("bytes", "string"):
            ln = t["length"]
            assert ln is not None
            if ln["kind"] == "fixed":
                ops.append(ReadFixed(target, int(ln["size"] or 0), end, k == "string", where))
                return
            n = self.length_operand(ops, ln, end, where)
            if ln["kind"] != "rest" and t["max"] is not None:
                ops.append(Limit(n, t["max"], "bytes", where))
            ops.append(ReadBytes(target, n, end, k == "string", where))
            if ln["kind"] == "rest" and t["max"] is not None:
                ops.append(Limit(LenOf(target), t["max"], "bytes", where))
            return
        if k == "struct":
            args = self.struct_args(t)
            if t["frame"] is None:
                ops.append(DecodeStruct(target, str(t["struct"]), end, args))
                return
            sub = self.open_frame(ops, t, end, where)
            ops.append(DecodeStruct(target, str(t["struct"]), sub, args))
            ops.append(ExpectEnd(sub, where))
            return
        elem, ln = t["element"], t["length"]
        assert elem is not None and ln is not None
        start = None
        if t["min"]:
            start = target + "_at"
            ops.append(Mark(start))
        e = self.open_frame(ops, t, end, where) if t["frame"] is not None else end
        item = self.fresh("x")
        ops.append(NewList(target, type_desc(t)))
        body: list[Op] = []
        if ln["kind"] == "rest":
            if min_size(elem, self.structs) == 0:
                raise PlanError(f"{where}: a list read to its end needs elements of at least one byte")
            if t["max"] is not None:
                body.append(Room(target, t["max"], where))
        else:
            count = self.length_operand(ops, ln, e, where)
            if t["max"] is not None:
                ops.append(Limit(count, t["max"], "elements", where))
            if t["min"]:
                ops.append(MinCount(count, t["min"], where, start))
            ops.append(Need(count, max(1, min_size(elem, self.structs)), e, where))
        self.decode_value(body, elem, item, e, where + "[]")
        body.append(Append(target, item))
        if ln["kind"] == "rest":
            ops.append(UntilEnd(e, tuple(body)))
            if t["min"]:
                ops.append(MinCount(LenOf(target), t["min"], where, start))
        else:
            ops.append(Repeat(count, tuple(body)))
            if t["frame"] is not None:
                ops.append(ExpectEnd(e, where))

    def variant(self) -> Variant:
        s = self.s
        first = s["fields"][0]
        if first["type"]["type"] not in INT_MAX or first["when"] is not None:
            raise PlanError(f"{s['name']}: a struct with variants starts with its integer type code")
        used = self.used_flags()
        flags = tuple(VariantFlag(x, i, "f_" + x, x in used) for i, x in enumerate(s["flags"]))
        return Variant("v_" + first["name"], s["name"], flags)

    def used_flags(self) -> set[str]:
        used: set[str] = set()

        def walk(t: m.WireType) -> None:
            if t["type"] == "struct" and t["struct"] in self.structs:
                used.update(self.structs[t["struct"]]["args"])
            if t["element"] is not None:
                walk(t["element"])

        for f in self.s["fields"]:
            if f["when"] is not None and f["when"]["op"] == "flag":
                used.add(f["when"]["name"])
            walk(f["type"])
        return used

    def decode(self) -> tuple[Op, ...]:
        ops: list[Op] = []
        for i, f in enumerate(self.s["fields"]):
            v, where = "v_" + f["name"], self.where(f["name"])
            ops.append(Begin(f["name"], v, f["when"] is not None))
            if f["when"] is None:
                self.decode_value(ops, f["type"], v, "end", where)
            else:
                cond = self.cond(f["when"])
                tmp = self.fresh("t")
                body: list[Op] = []
                self.decode_value(body, f["type"], tmp, "end", where)
                ops.append(Optional(v, cond, tmp, tuple(body), where))
            if i == 0 and self.s["variants"]:
                ops.append(self.variant())
        return tuple(ops)

    # ---- encode ----
    def write_length(self, ops: list[Op], ln: m.WireLength, subject: Operand, out: str, where: str) -> None:
        fv = self.field_value(ln["field"]) if ln["kind"] == "field" else None
        if ln["kind"] != "rest":
            ops.append(WriteLength(subject, ln["kind"], fv, ln["size"], out, where))

    def encode_value(self, ops: list[Op], t: m.WireType, v: str, out: str, where: str) -> None:
        k = t["type"]
        if k in INT_MAX:
            codes = t["codes"]
            ops += [
                Check(v, test, bound, codes if test == "codes" else None, None, where) for test, bound in int_checks(t)
            ]
            ops.append(WriteInt(v, k, out))  # type: ignore[arg-type]
            return
        if k in ("bytes", "string"):
            ln = t["length"]
            assert ln is not None
            raw = self.fresh("b")
            ops.append(AsBytes(raw, v, k == "string", where))
            if t["max"] is not None:
                ops.append(Limit(LenOf(raw), t["max"], "bytes", where))
            self.write_length(ops, ln, LenOf(raw), out, where)
            ops.append(WriteBytes(raw, out))
            return
        if k == "struct":
            args = self.struct_args(t)
            if t["frame"] is None:
                ops.append(EncodeStruct(v, str(t["struct"]), out, args))
                return
            buf = self.fresh("buf")
            ops.append(NewBuffer(buf, "struct"))
            ops.append(EncodeStruct(v, str(t["struct"]), buf, args))
            if t["max_bytes"] is not None:
                ops.append(Limit(LenOf(buf), t["max_bytes"], "bytes", where))
            self.write_length(ops, t["frame"], LenOf(buf), out, where)
            ops.append(WriteBuffer(buf, out))
            return
        elem, ln = t["element"], t["length"]
        assert elem is not None and ln is not None
        target = out
        if t["frame"] is not None:
            target = self.fresh("buf")
            ops.append(NewBuffer(target, "elements"))
        if t["max"] is not None:
            ops.append(Limit(LenOf(v), t["max"], "elements", where))
        if t["min"]:
            ops.append(MinCount(LenOf(v), t["min"], where, None))
        self.write_length(ops, ln, LenOf(v), target, where)
        item = self.fresh("x")
        body: list[Op] = []
        self.encode_value(body, elem, item, target, where + "[]")
        ops.append(ForEach(v, item, elem["type"] in INT_MAX, tuple(body)))
        if t["frame"] is not None:
            if t["max_bytes"] is not None:
                ops.append(Limit(LenOf(target), t["max_bytes"], "bytes", where))
            self.write_length(ops, t["frame"], LenOf(target), out, where)
            ops.append(WriteBuffer(target, out))

    def encode(self) -> tuple[Op, ...]:
        ops: list[Op] = []
        for i, f in enumerate(self.s["fields"]):
            v, where = "v_" + f["name"], self.where(f["name"])
            ops.append(Begin(f["name"], v, f["when"] is not None))
            if f["when"] is None:
                self.encode_value(ops, f["type"], v, "out", where)
            else:
                cond = self.cond(f["when"])
                tmp = self.fresh("t")
                body: list[Op] = []
                self.encode_value(body, f["type"], tmp, "out", where)
                ops.append(Optional(v, cond, tmp, tuple(body), where))
            if i == 0 and self.s["variants"]:
                ops.append(self.variant())
        return tuple(ops)

    def derived_lengths(self) -> dict[str, str]:
        """Length field -> the field it measures, for the length fields whose value is always
        len() of that field: unconditional plain integers (no const, code set or mask) whose only
        use is the top-level `length` of one unconditional bytes or list field. A byte frame, a
        nested use or a conditional side leaves an ordinary field, checked on encode."""
        uses: dict[str, list[tuple[m.WireField, bool]]] = {}

        def walk(t: m.WireType, owner: m.WireField, top: bool) -> None:
            for key, ln in (("length", t["length"]), ("frame", t["frame"])):
                if ln is not None and ln["kind"] == "field":
                    direct = top and key == "length" and t["type"] in ("bytes", "list")
                    uses.setdefault(str(ln["field"]), []).append((owner, direct))
            if t["element"] is not None:
                walk(t["element"], owner, False)

        for f in self.s["fields"]:
            walk(f["type"], f, True)
        out: dict[str, str] = {}
        for name, refs in uses.items():
            lf = self.fields[name]
            lt = lf["type"]
            if len(refs) != 1 or not refs[0][1] or lf["when"] is not None or refs[0][0]["when"] is not None:
                continue
            if lt["type"] in INT_MAX and lt["const"] is None and lt["codes"] is None and lt["mask"] is None:
                out[name] = refs[0][0]["name"]
        return out

    def plan(self) -> StructPlan:
        s = self.s
        decode = self.decode()
        encode = self.encode()
        derived = self.derived_lengths()
        return StructPlan(
            name=s["name"],
            args=tuple(s["args"]),
            flags=tuple(s["flags"]),
            variants=tuple(PlanVariant(v["code"], tuple(v["flags"][x] for x in s["flags"])) for v in s["variants"]),
            fields=tuple(
                PlanField(
                    f["name"],
                    "v_" + f["name"],
                    type_desc(f["type"]),
                    self.cond(f["when"]) if f["when"] else None,
                    f["type"]["const"] if f["when"] is None else None,
                    derived.get(f["name"]),
                )
                for f in s["fields"]
            ),
            min_size=sum(min_size(f["type"], self.structs) for f in s["fields"] if f["when"] is None),
            decode=decode,
            encode=encode,
        )


def _argless(structs: dict[str, m.WireStruct], name: str | None, what: str) -> str:
    if name is None or name not in structs or structs[name]["args"]:
        raise PlanError(f"{what}: {name!r} must be a struct without args")
    return name


def _stream(st: m.WireStream, proto: m.WireProtocol, structs: dict[str, m.WireStruct]) -> StreamPlan:
    kind = st["kind"]
    what = f"stream {st['name']}"
    if kind in ("sequence", "datagram"):
        msg = _argless(structs, st["message"], what)
        if kind == "sequence":
            state = StreamState("message", None, None, (Transition(None, msg, (), "message", False),), "accept")
            return StreamPlan(st["name"], kind, "message", (state,))
        one = StreamState(
            "datagram", None, None, (Transition(None, msg, (), "done", False),), "truncated", "trailing_bytes"
        )
        return StreamPlan(st["name"], kind, "datagram", (one, StreamState("done", None, None, (), "accept")))
    if kind == "framed":
        code_sets = code_sets_by_name(proto)
        dispatch = st["dispatch"]
        if dispatch is None or dispatch not in code_sets:
            raise PlanError(f"{what}: dispatch {dispatch!r} is not a code set")
        transitions = tuple(
            Transition((cv["value"],), _argless(structs, cv["struct"], f"{what}: {cv['name']}"), (), "frame", False)
            for cv in code_sets[dispatch]["values"]
            if cv["struct"] is not None
        )
        length: Width = st["length"] or "varint"
        limit = INT_MAX[length] if st["max"] is None else min(st["max"], INT_MAX[length])
        frame = FrameHeader(st["type"] or "varint", length, limit)
        state = StreamState("frame", None, frame, transitions, "accept")
        return StreamPlan(st["name"], kind, "frame", (state,))
    header_ts: list[Transition] = []
    object_states: list[StreamState] = []
    peek: Width | None = None
    for i, h in enumerate(st["headers"]):
        hs, obj = structs.get(h["header"]), structs.get(h["object"])
        if hs is None or obj is None or not hs["fields"]:
            raise PlanError(f"{what}: header {h['header']!r} or object {h['object']!r} unknown")
        if not h["codes"]:
            raise PlanError(f"{what}: header {h['header']} has no type codes")
        first = hs["fields"][0]["type"]["type"]
        if first not in INT_MAX:
            raise PlanError(f"{what}: header {h['header']} must start with its type code")
        if peek is not None and first != peek:
            raise PlanError(f"{what}: headers must share their type code encoding")
        peek = first  # type: ignore[assignment]
        binds: list[ArgBinding] = []
        for a in obj["args"]:
            flag = h["args"].get(a)
            if flag is None or flag not in hs["flags"]:
                raise PlanError(f"{what}: object arg {a!r} is not mapped to a header flag")
            binds.append(ArgBinding(a, flag, hs["flags"].index(flag)))
        nxt = f"objects_{i}"
        header_ts.append(Transition(tuple(h["codes"]), h["header"], (), nxt, bool(hs["variants"])))
        obj_t = Transition(None, h["object"], tuple(binds), nxt, False)
        object_states.append(StreamState(nxt, None, None, (obj_t,), "accept"))
    start = StreamState("header", peek, None, tuple(header_ts), "truncated")
    return StreamPlan(st["name"], "header_objects", "header", (start, *object_states))


def lower_protocol(proto: m.WireProtocol) -> ProtocolPlan:
    structs = structs_by_name(proto)
    return ProtocolPlan(
        proto["name"],
        tuple(CodeSet(c["name"], tuple(v["value"] for v in c["values"])) for c in proto["codes"] if c["closed"]),
        tuple(_StructLowering(s, structs).plan() for s in proto["structs"]),
        tuple(_stream(st, proto, structs) for st in proto["streams"]),
    )


def lower(ir: m.IR) -> Plan:
    """The plan of every wire protocol of `ir` (raises PlanError on an unimplementable DSL use)."""
    out: list[ProtocolPlan] = []
    for p in ir["wire"]:
        try:
            out.append(lower_protocol(p))
        except PlanError as e:
            e.pointer = f"/wire/protocols/{p['name']}"
            raise
    return Plan(tuple(out))


def to_json(value: object) -> m.JsonValue:
    """The plan as plain JSON (dataclass fields in declaration order, tuples as arrays)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [to_json(x) for x in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise TypeError(f"not plan data: {value!r}")


def plan_json(ir: m.IR) -> m.JsonValue:
    return to_json(lower(ir))


def lower_plan(ir: m.IR) -> m.IR:
    """The named IR pass: `ir` with its codec plan under `plan` (what `ir` prints, plugins read)."""
    out = dict(ir)
    out["plan"] = plan_json(ir)
    return out  # type: ignore[return-value]
