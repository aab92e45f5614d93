"""Straight-line Python for every message: class, binary codec and ProtoJSON codec.

Speed matters more than brevity in the output (pure Python pays per bytecode, so the emitted
code avoids calls, slices and temporaries on the common path):
- encode: `_enc(out)` appends to one bytearray shared by the whole message tree; tags and
  1-/2-byte varints are appended inline, nested messages are written in place behind a
  patched length byte.
- decode: one function per message over (buf, pos, end); an in-order pass reads the fields
  as canonical encoders write them, then a tag-dispatch loop takes anything else (see
  "binary decode" below). Values stay in locals until the object is filled at the end.
Tags appear as their integer value, (field number << 3) | wire type. The emitted text is
already `ruff format`-clean (tests check it).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...ir.model import IR, Enum, Field, Message
from ..common import proto_varint
from .namer import PythonNamer
from .text import docstring, pyrepr, tuple_lines, wrap_call

_VARINT_SCALARS = ("bool", "int32", "int64", "uint32", "uint64", "sint32", "sint64")
_FIXED = {
    "fixed32": ("u32", 4, "I"),
    "sfixed32": ("i32", 4, "i"),
    "float": ("f32", 4, "f"),
    "fixed64": ("u64", 8, "Q"),
    "sfixed64": ("i64", 8, "q"),
    "double": ("f64", 8, "d"),
}
_PY_SCALAR = {
    "bool": "bool",
    "string": "str",
    "bytes": "bytes",
    "float": "float",
    "double": "float",
}
_ZERO = {"bool": "False", "string": '""', "bytes": 'b""', "float": "0.0", "double": "0.0"}
# The uint64 value of a varint -> the field's value (slow path only; 1-byte values are as is;
# sint32 is cut to 32 bits and sint64, uint64 are as is before the zigzag).
_CONVERT = {
    "int32": "_to_int32({v})",
    "enum": "_to_int32({v})",
    "int64": "_to_int64({v})",
    "uint32": "{v} & 0xFFFFFFFF",
}
_JSON_FROM = {
    "int32": "_json_int32",
    "sint32": "_json_int32",
    "sfixed32": "_json_int32",
    "uint32": "_json_uint32",
    "fixed32": "_json_uint32",
    "int64": "_json_int64",
    "sint64": "_json_int64",
    "sfixed64": "_json_int64",
    "uint64": "_json_uint64",
    "fixed64": "_json_uint64",
    "bool": "_json_to_bool",
    "string": "_json_to_str",
    "bytes": "_json_to_bytes",
    "float": "_json_to_float",
    "double": "_json_to_double",
}
_INT64 = ("int64", "uint64", "sint64", "fixed64", "sfixed64")
LINE = 120


def _bytes_lit(data: bytes) -> str:
    return 'b"' + "".join(f"\\x{c:02x}" for c in data) + '"'


@dataclass
class F:
    """One field, with everything the emitter needs precomputed."""

    ir: Field
    attr: str  # public attribute name
    slot: str  # storage (differs for oneof members: a private slot behind a property)
    local: str  # local variable in the decoder
    kind: str  # scalar name, "enum" or "message"
    type_name: str  # enum or message class name ("" for scalars)
    presence: str  # implicit | optional | oneof | repeated
    elem_type: str  # Python type of one value
    oneof: str | None

    @property
    def number(self) -> int:
        return self.ir["number"]

    @property
    def ann(self) -> str:
        if self.presence == "repeated":
            return f"list[{self.elem_type}]"
        if self.presence == "implicit" and self.kind != "message":
            return self.elem_type
        return f"{self.elem_type} | None"

    @property
    def zero(self) -> str:
        if self.presence == "repeated":
            return "[]"
        if self.presence != "implicit" or self.kind == "message":
            return "None"
        if self.kind == "enum":
            return f"{self.type_name}.{_ZERO_ENUM[self.type_name]}"
        return _ZERO.get(self.kind, "0")

    def param(self, ann: str) -> str:
        """This field as a keyword parameter annotated `ann` (a repeated field also takes None)."""
        return (
            f"{self.attr}: {ann} | None = None" if self.presence == "repeated" else f"{self.attr}: {ann} = {self.zero}"
        )

    def tag(self, wt: int | None = None) -> bytes:
        return proto_varint((self.number << 3) | (self.ir["wire_type"] if wt is None else wt))


_ZERO_ENUM: dict[str, str] = {}


class MessageEmitter:
    def __init__(self, ir: IR, namer: PythonNamer) -> None:
        self.ir = ir
        self.n = namer
        self.enums: dict[str, Enum] = {e["name"]: e for e in ir["enums"]}
        self.msgs: dict[str, Message] = {m["name"]: m for m in ir["messages"]}
        for e in ir["enums"]:
            zero = next(v for v in e["values"] if v["number"] == 0)
            _ZERO_ENUM[self.n.class_name(e["words"])] = self.n.const_name(zero["words"])

    # ---- names ----

    def cls(self, name: str) -> str:
        if name in self.enums:
            return self.n.class_name(self.enums[name]["words"])
        return self.n.class_name(self.msgs[name]["words"])

    def enum_key(self, name: str) -> str:
        return self.n.const_name(self.enums[name]["words"])

    def dec_fn(self, msg_name: str) -> str:
        return "_dec_" + "_".join(self.msgs[msg_name]["words"])

    def fj_fn(self, msg_name: str) -> str:
        return "_fj_" + "_".join(self.msgs[msg_name]["words"])

    def fields(self, msg: Message) -> list[F]:
        out: list[F] = []
        for f in msg["fields"]:
            kind = f["type"]["kind"]
            k = f["type"]["name"] if kind == "scalar" else kind
            tn = "" if kind == "scalar" else self.cls(f["type"]["name"])
            if f["label"] == "repeated":
                presence = "repeated"
            elif f["oneof"]:
                presence = "oneof"
            else:
                presence = f["label"]
            if kind == "enum":
                et = f"{tn} | int"
            elif kind == "message":
                et = tn
            else:
                et = _PY_SCALAR.get(k, "int")
            attr = self.n.attr_name(f["words"])
            slot = "_" + "_".join(f["words"]) if presence == "oneof" else attr
            out.append(F(f, attr, slot, "f_" + "_".join(f["words"]), k, tn, presence, et, f["oneof"]))
        return out

    # ---- module ----

    def module_body(self) -> str:
        parts: list[str] = []
        parts.append(self.enum_tables())
        for msg in self.ir["messages"]:
            parts.append(self.class_def(msg))
        for msg in self.ir["messages"]:
            parts.append(self.decoder(msg))
        for msg in self.ir["messages"]:
            parts.append(self.json_decoder(msg))
        hooks = []
        for msg in self.ir["messages"]:
            c = self.cls(msg["name"])
            hooks.append(f"{c}._dec = {self.dec_fn(msg['name'])}")
            hooks.append(f"{c}._fj = {self.fj_fn(msg['name'])}")
        parts.append("\n".join(hooks) + "\n")
        return "\n\n".join(p.rstrip("\n") + "\n" for p in parts if p)

    def enum_tables(self) -> str:
        used = sorted(
            {f["type"]["name"] for m in self.ir["messages"] for f in m["fields"] if f["type"]["kind"] == "enum"},
            key=lambda n: list(self.enums).index(n),
        )
        blocks: list[str] = []
        for name in used:
            e = self.enums[name]
            key = self.enum_key(name)
            c = self.cls(name)
            L = [f"_{key} = {{int(m): m for m in {c}}}.get"]
            L.append(f"_{key}_JSON: dict[int, str] = {{")
            L.extend(f"    {v['number']}: {pyrepr(v['json_name'])}," for v in e["values"])
            L.append("}")
            L.append(f"_{key}_BY_NAME: dict[str, int] = {{")
            L.extend(f"    {pyrepr(v['json_name'])}: {v['number']}," for v in e["values"])
            L.append("}")
            L.append("")
            L.append("")
            L.append(f"def _{key}_FJ(v: object) -> {c} | int:")
            L.append(f"    n = _json_to_enum(v, _{key}_BY_NAME, {pyrepr(name)})")
            L.append(f"    return _{key}(n, n)")
            blocks.append("\n".join(L) + "\n")
        return "\n\n".join(blocks)

    # ---- class ----

    def class_def(self, msg: Message) -> str:
        c = self.cls(msg["name"])
        fs = self.fields(msg)
        L: list[str] = [f"class {c}(Message):"]
        L.append(docstring(msg["doc"] or msg["name"], 4))
        L.append("")
        slots = [f.slot for f in fs]
        if not slots:
            L.append("    __slots__ = ()")
        elif len(slots) == 1:
            L.append(f"    __slots__ = ({pyrepr(slots[0])},)")
        else:
            L.append("    __slots__ = (")
            L.extend(f"        {pyrepr(s)}," for s in slots)
            L.append("    )")
        L.append("")
        L.extend(tuple_lines("    _FIELDS = ", "", [pyrepr(f.attr) for f in fs], 4))
        implicit = [f.attr for f in fs if f.presence in ("implicit", "repeated")]
        if implicit:
            L.extend(tuple_lines("    _IMPLICIT = frozenset(", ")", [pyrepr(a) for a in implicit], 4))
        L.append("")
        for f in fs:
            L.append(f"    {f.slot}: {f.ann}")
            if f.presence != "oneof":
                L.append(docstring(self.field_doc(f), 4))
        if fs:
            L.append("")
        # __init__
        if fs:
            L.append("    def __init__(")
            L.append("        self,")
            L.append("        *,")
            L.extend(f"        {f.param(f.ann)}," for f in fs)
            L.append("    ) -> None:")
        else:
            L.append("    def __init__(self) -> None:")
        for o in msg["oneofs"]:
            members = [f for f in fs if f.oneof == o["name"]]
            if len(members) > 1:
                cond = " + ".join(f"({f.attr} is not None)" for f in members) + " > 1"
                L.append(f"        if {cond}:")
                L.append(
                    f'            raise ValueError("at most one of {", ".join(f.attr for f in members)} may be set")'
                )
        for f in fs:
            L.extend(self.type_check(c, f))
        for f in fs:
            if f.presence == "repeated":
                L.append(f"        self.{f.slot} = [] if {f.attr} is None else {f.attr}")
            else:
                L.append(f"        self.{f.slot} = {f.attr}")
        L.append('        self._unknown = b""')
        # oneof properties and case accessors
        for o in msg["oneofs"]:
            members = [f for f in fs if f.oneof == o["name"]]
            for f in members:
                L.append("")
                L.append("    @property")
                L.append(f"    def {f.attr}(self) -> {f.ann}:")
                L.append(
                    docstring(self.field_doc(f) + f" Setting it clears the other members of oneof {o['name']}.", 8)
                )
                L.append(f"        return self.{f.slot}")
                L.append("")
                L.append(f"    @{f.attr}.setter")
                L.append(f"    def {f.attr}(self, value: {f.ann}) -> None:")
                for g in members:
                    if g is not f:
                        L.append(f"        self.{g.slot} = None")
                L.append(f"        self.{f.slot} = value")
            L.append("")
            L.append(f"    def {self.n.which_name(o['words'])}(self) -> str | None:")
            L.append(docstring(f"Which member of oneof {o['name']} is set, or None. {o['doc']}".strip(), 8))
            for f in members:
                L.append(f"        if self.{f.slot} is not None:")
                L.append(f"            return {pyrepr(f.attr)}")
            L.append("        return None")
        # default accessors
        for f in fs:
            if f.ir["default"] is None:
                continue
            L.append("")
            rt = f.elem_type
            L.append(f"    def {self.n.or_default_name(f.ir['words'])}(self) -> {rt}:")
            L.append(docstring(f"`{f.attr}`, or its default ({f.ir['default']}) when it is absent.", 8))
            L.append(f"        v = self.{f.slot}")
            L.append(f"        return {self.default_expr(f)} if v is None else v")
        # __eq__
        L.append("")
        L.append("    def __eq__(self, other: object) -> bool:")
        L.append(f"        if not isinstance(other, {c}):")
        L.append("            return NotImplemented")
        conds = [f"self.{f.slot} == other.{f.slot}" for f in fs] + ["self._unknown == other._unknown"]
        one = "        return " + " and ".join(conds)
        if len(one) <= LINE:
            L.append(one)
        else:
            L.append("        return (")
            L.append(f"            {conds[0]}")
            L.extend(f"            and {cnd}" for cnd in conds[1:])
            L.append("        )")
        L.append("")
        L.extend(self.encoder(msg, fs))
        L.append("")
        L.extend(self.json_encoder(msg, fs))
        return "\n".join(L) + "\n"

    def _value_type(self, f: F) -> tuple[str, str]:
        """(the isinstance() argument, the type named in the error) of one value of `f`."""
        if f.kind == "message":
            return f.type_name, f.type_name
        if f.kind == "enum":
            return "int", f"{f.type_name} | int"
        if f.kind in ("float", "double"):
            return "(int, float)", "float"
        t = _PY_SCALAR.get(f.kind, "int")
        return t, t

    def type_check(self, cls: str, f: F) -> list[str]:
        """The constructor's check of one argument: a None for a field that is never absent, or a
        value of the wrong type, is a TypeError naming message and field, raised where the value
        was given. Optional, oneof and message fields take None (absent). Encode's hot path does
        not repeat the type checks; it only refuses a None assigned later (`_none_assigned`)."""
        types, expected = self._value_type(f)
        if f.presence == "repeated":
            test = f"{f.attr} is not None and not _all_of({f.attr}, {types})"
            expected = f"list[{expected}]"
        elif f.presence == "implicit" and f.kind != "message":
            test = f"not isinstance({f.attr}, {types})"
        else:
            test = f"{f.attr} is not None and not isinstance({f.attr}, {types})"
            expected += " or None"
        args = [pyrepr(f"{cls}.{f.attr}"), pyrepr(expected), f.attr]
        return [f"        if {test}:", *wrap_call("_wrong_type", args, "", 12)]

    def field_doc(self, f: F) -> str:
        doc = f.ir["doc"] or f.ir["name"]
        if f.ir["default"] is not None:
            doc += f" Absent (None) reads as {f.ir['default']}: see `{self.n.or_default_name(f.ir['words'])}()`."
        if f.ir["deprecated"]:
            doc += " Deprecated."
        return doc

    def default_expr(self, f: F) -> str:
        d = f.ir["default"]
        if f.kind == "enum":
            e = self.enums[f.ir["type"]["name"]]
            v = next(v for v in e["values"] if v["name"] == d)
            return f"{f.type_name}.{self.n.const_name(v['words'])}"
        if f.kind in ("float", "double"):
            return repr(float(d))  # type: ignore[arg-type]
        if f.kind == "bytes":
            return _bytes_lit(str(d).encode())
        return pyrepr(d)

    # ---- binary encode ----
    #
    # `_enc(out)` appends the message to one shared bytearray; `put` is `out.append`, so a
    # one-byte tag or value costs a single call. A nested message or packed run is written in
    # place behind a one-byte length placeholder, which is patched afterwards (and widened, by
    # a memmove of the body, in the rare case the length needs more than one byte).

    def _put_tag(self, L: list[str], ind: str, tag: bytes) -> None:
        L.append(f"{ind}put({tag[0]})" if len(tag) == 1 else f"{ind}out += {_bytes_lit(tag)}")

    def _put_len(self, L: list[str], ind: str, var: str) -> None:
        L.append(f"{ind}n = len({var})")
        L.append(f"{ind}if n < 128:")
        L.append(f"{ind}    put(n)")
        L.append(f"{ind}else:")
        L.append(f"{ind}    out += _uvarint(n)")

    def _begin_len(self, L: list[str], ind: str) -> None:
        L.append(f"{ind}put(0)  # the length, patched below")
        L.append(f"{ind}p = len(out)")

    def _end_len(self, L: list[str], ind: str) -> None:
        L.append(f"{ind}n = len(out) - p")
        L.append(f"{ind}if n < 128:")
        L.append(f"{ind}    out[p - 1] = n")
        L.append(f"{ind}else:")
        L.append(f"{ind}    out[p - 1 : p] = _uvarint(n)")

    def _put_varint(self, L: list[str], ind: str, k: str, v: str) -> None:
        """Emit value `v` of varint kind k: 1- and 2-byte values inline, the rest range-checked."""
        put_big = "_put_int32" if k == "enum" else f"_put_{k}"
        if k in ("sint32", "sint64"):
            L.append(f"{ind}if -64 <= {v} < 64:")
            L.append(f"{ind}    put(({v} << 1) ^ ({v} >> 63))  # zigzag")
        else:
            L.append(f"{ind}if 0 <= {v} < 128:")
            L.append(f"{ind}    put({v})")
            L.append(f"{ind}elif 0 < {v} < 0x4000:")
            L.append(f"{ind}    put({v} & 0x7F | 0x80)")
            L.append(f"{ind}    put({v} >> 7)")
        L.append(f"{ind}else:")
        L.append(f"{ind}    {put_big}(out, {v})")

    def _write_value(self, L: list[str], ind: str, f: F, v: str) -> None:
        """Emit tag + one value `v` of field f (not packed)."""
        k = f.kind
        tag = f.tag()
        if k == "bool":
            on, off = _bytes_lit(tag + b"\x01"), _bytes_lit(tag + b"\x00")
            L.append(f"{ind}out += {on} if {v} else {off}")
        elif k in _VARINT_SCALARS or k == "enum":
            self._put_tag(L, ind, tag)
            self._put_varint(L, ind, k, v)
        elif k in _FIXED:
            short = _FIXED[k][0]
            if len(tag) == 1:
                L.append(f"{ind}out += _pack_tag_{short}({tag[0]}, {v})")
            else:
                L.append(f"{ind}out += {_bytes_lit(tag)}")
                L.append(f"{ind}out += _pack_{short}({v})")
        elif k == "message":
            self._put_tag(L, ind, tag)
            self._begin_len(L, ind)
            L.append(f"{ind}{v}._enc(out)")
            self._end_len(L, ind)
        else:
            b = f"b{f.number}"
            L.append(f"{ind}{b} = {v}.encode()" if k == "string" else f"{ind}{b} = {v}")
            self._put_tag(L, ind, tag)
            self._put_len(L, ind, b)
            L.append(f"{ind}out += {b}")

    def encoder(self, msg: Message, fs: list[F]) -> list[str]:
        L = ["    def _enc(self, out: bytearray) -> None:", "        put = out.append"]
        cls = self.cls(msg["name"])
        for f in sorted(fs, key=lambda f: f.number):
            v = f"v{f.number}"
            L.append(f"        {v} = self.{f.slot}")
            ind = "            "
            if f.presence == "repeated":
                L.append(f"        if {v}:")
                if f.ir["packed"]:
                    self._write_packed(L, ind, f, v)
                else:
                    L.append(f"{ind}for x in {v}:")
                    self._write_value(L, ind + "    ", f, "x")
                self._none_assigned(L, cls, f, v)
                continue
            if f.presence == "implicit" and f.kind != "message":
                if f.kind in ("float", "double"):
                    L.append(f"        if {v} or _is_neg_zero({v}):")
                else:
                    L.append(f"        if {v}:")
                if f.kind == "bool":
                    on = _bytes_lit(f.tag() + b"\x01")
                    L.append(f"{ind}out += {on}")
                else:
                    self._write_value(L, ind, f, v)
                self._none_assigned(L, cls, f, v)
                continue
            L.append(f"        if {v} is not None:")
            self._write_value(L, ind, f, v)
        L.append("        if self._unknown:")
        L.append("            out += self._unknown")
        if not any("put(" in line for line in L):
            L.remove("        put = out.append")
        return L

    def _none_assigned(self, L: list[str], cls: str, f: F, v: str) -> None:
        """A None assigned after construction to a field that is never absent: refused (as a
        TypeError, which encode() reports as EncodeError) instead of encoding as unset. Only the
        empty-value path pays for the test."""
        expected = self._value_type(f)[1]
        if f.presence == "repeated":
            expected = f"list[{expected}]"
        L.append(f"        elif {v} is None:")
        L.extend(wrap_call("_wrong_type", [pyrepr(f"{cls}.{f.attr}"), pyrepr(expected), v], "", 12))

    def _write_packed(self, L: list[str], ind: str, f: F, v: str) -> None:
        k = f.kind
        if k in _FIXED:
            b = f"b{f.number}"
            L.append(f'{ind}{b} = _struct.pack(f"<{{len({v})}}{_FIXED[k][2]}", *{v})')
            self._put_tag(L, ind, f.tag(2))
            self._put_len(L, ind, b)
            L.append(f"{ind}out += {b}")
            return
        self._put_tag(L, ind, f.tag(2))
        self._begin_len(L, ind)
        L.append(f"{ind}for x in {v}:")
        if k == "bool":
            L.append(f"{ind}    put(1 if x else 0)")
        else:
            self._put_varint(L, ind + "    ", k, "x")
        self._end_len(L, ind)

    # ---- binary decode ----
    #
    # One function per message over (buf, pos, end): no slices but the values themselves.
    # A first straight-line pass reads the fields in ascending number order, each tried once,
    # which is how every canonical encoder writes them; whatever it does not recognize (other
    # orders, repeats, non-minimal tags, unknown or malformed fields) is left to a general
    # tag-dispatch loop. Both use the same value readers, so they accept and reject the same.

    def _read_uvarint(self, L: list[str], ind: str, var: str, slow: list[str]) -> None:
        """Read a varint into `var`, 1- and 2-byte values inline; `slow` runs after the general reader."""
        L.append(f"{ind}{var} = buf[pos]")
        L.append(f"{ind}if {var} < 0x80:")
        L.append(f"{ind}    pos += 1")
        L.append(f"{ind}elif buf[pos + 1] < 0x80:")
        L.append(f"{ind}    {var} = ({var} & 0x7F) | (buf[pos + 1] << 7)")
        L.append(f"{ind}    pos += 2")
        L.append(f"{ind}else:")
        L.append(f"{ind}    {var}, pos = _read_varint(buf, pos)")
        L.extend(f"{ind}    {s}" for s in slow)

    def _read_varint(self, L: list[str], ind: str, k: str) -> None:
        # Values below 2^14 need no conversion (but zigzag); larger ones are cut to the type's width.
        if k == "sint32":
            self._read_uvarint(L, ind, "v", ["v &= 0xFFFFFFFF"])
        elif k in _CONVERT:
            self._read_uvarint(L, ind, "v", [f"v = {_CONVERT[k].format(v='v')}"])
        else:
            self._read_uvarint(L, ind, "v", [])
        if k in ("sint32", "sint64"):
            L.append(f"{ind}v = (v >> 1) ^ -(v & 1)  # zigzag")

    def _read_len(self, L: list[str], ind: str) -> None:
        self._read_uvarint(L, ind, "n", [])
        L.append(f"{ind}e = pos + n")
        L.append(f"{ind}if e > end:")
        L.append(f"{ind}    raise _length_past_end(pos, n, end)")

    def _read_value(self, L: list[str], ind: str, f: F, assign: str) -> None:
        """Read one (unpacked) value of f at pos and run `assign` with it (`{}` is the value)."""
        k = f.kind
        if k in _VARINT_SCALARS or k == "enum":
            self._read_varint(L, ind, "int32" if k == "bool" else k)
            if k == "bool":
                L.append(f"{ind}{assign.format('v != 0')}")
            elif k == "enum":
                conv = f"_{self.enum_key(f.ir['type']['name'])}(v, v)"
                L.append(f"{ind}{assign.format(conv)}")
            else:
                L.append(f"{ind}{assign.format('v')}")
        elif k in _FIXED:
            size = _FIXED[k][1]
            L.append(f"{ind}e = pos + {size}")
            L.append(f"{ind}if e > end:")
            L.append(f"{ind}    raise _truncated(pos)")
            L.append(f"{ind}{assign.format(f'_unpack_{_FIXED[k][0]}(buf, pos)[0]')}")
            L.append(f"{ind}pos = e")
        else:
            self._read_len(L, ind)
            if k == "string":
                L.append(f"{ind}{assign.format('buf[pos:e].decode()')}")
            elif k == "bytes":
                L.append(f"{ind}{assign.format('buf[pos:e]')}")
            else:
                L.append(f"{ind}if depth >= _MAX_DEPTH:")
                L.append(f"{ind}    raise _too_deep(pos)")
                into = f.local if f.presence != "repeated" else "None"
                call = f"{self.dec_fn(f.ir['type']['name'])}(buf, pos, e, depth + 1, {into})"
                L.append(f"{ind}{assign.format(call)}")
            L.append(f"{ind}pos = e")

    def _read_field(self, L: list[str], ind: str, f: F, packed: bool, fs: list[F]) -> None:
        """Read one occurrence of f (its tag already consumed) into its local."""
        if packed:
            self._read_packed(L, ind, f)
        elif f.presence == "repeated":
            self._read_value(L, ind, f, f.local + ".append({})")
        else:
            self._read_value(L, ind, f, f.local + " = {}")
            for g in fs:
                if f.oneof is not None and g.oneof == f.oneof and g is not f:
                    L.append(f"{ind}{g.local} = None")

    def _in_order(self, L: list[str], fs: list[F]) -> None:
        """The straight-line pass: each field with a tag of at most 2 bytes, in number order."""
        L.append("    # Each field once, in number order, as canonical encoders write them; the loop below")
        L.append("    # takes anything else. `tag` is the next byte, or 0 at the end.")
        L.append("    tag = buf[pos] if pos < end else 0")
        forms: list[tuple[F, bytes, bool]] = []  # (field, tag bytes, packed)
        for f in sorted(fs, key=lambda f: f.number):
            forms.append((f, f.tag(), False))
            if f.presence == "repeated" and f.ir["packed"]:
                forms.append((f, f.tag(2), True))
        forms = [x for x in forms if len(x[1]) <= 2]
        for i, (f, tag, packed) in enumerate(forms):
            # A repeated field's occurrences are consecutive: keep reading while the tag matches.
            kw = "while" if f.presence == "repeated" and not packed else "if"
            if len(tag) == 1:
                L.append(f"    {kw} tag == {tag[0]}:")
                L.append("        pos += 1")
            else:
                L.append(f"    {kw} tag == {tag[0]} and pos + 1 < end and buf[pos + 1] == {tag[1]}:")
                L.append("        pos += 2")
            self._read_field(L, "        ", f, packed, fs)
            if kw == "while" or i < len(forms) - 1:  # the loop below reads its own tags
                L.append("        tag = buf[pos] if pos < end else 0")

    def decoder(self, msg: Message) -> str:
        c = self.cls(msg["name"])
        fs = self.fields(msg)
        fn = self.dec_fn(msg["name"])
        known = sorted(f.number for f in fs)
        L = wrap_call(
            f"def {fn}", ["buf: bytes", "pos: int", "end: int", "depth: int", f"into: {c} | None"], f" -> {c}:", 0
        )
        L.append("    if into is None:")
        L.append(f"        obj = {c}.__new__({c})")
        for f in fs:
            L.append(f"        {f.local}: {f.ann} = {f.zero}")
        L.append('        unknown = b""')
        L.append("    else:")
        L.append("        obj = into")
        for f in fs:
            L.append(f"        {f.local} = obj.{f.slot}")
        L.append("        unknown = obj._unknown")
        if fs:
            self._in_order(L, fs)
        L.append("    if pos != end:")
        L.append("        # Other orders, repeats, non-minimal tags, unknown fields; or a varint ran past the end.")
        L.append("        unk: list[bytes] = []")
        L.append("        while pos < end:")
        L.append("            start = pos")
        L.append("            tag = buf[pos]")
        L.append("            pos += 1")
        L.append("            if tag >= 0x80:")
        L.append("                tag, pos = _read_tag(buf, start)")
        kw = "if"
        ind = "                "
        for f in sorted(fs, key=lambda f: f.number):
            L.append(f"            {kw} tag == {(f.number << 3) | f.ir['wire_type']}:")
            kw = "elif"
            self._read_field(L, ind, f, False, fs)
            if f.presence == "repeated" and f.ir["packed"]:
                L.append(f"            elif tag == {(f.number << 3) | 2}:")
                self._read_field(L, ind, f, True, fs)
        known_set = f"_KNOWN_{self.n.const_name(msg['words'])}"
        ind = "            "
        if kw == "elif":
            L.append("            else:")
            ind = "                "
        skip_args = ["buf", "start", "pos", "tag", "end", known_set, pyrepr(c)]
        L.extend(wrap_call("pos = _skip_field", skip_args, "", len(ind)))
        L.append(f"{ind}unk.append(buf[start:pos])")
        L.append("        if pos != end:")
        L.append("            raise _truncated(end)")
        L.append("        if unk:")
        L.append('            unknown += b"".join(unk)')
        for f in fs:
            L.append(f"    obj.{f.slot} = {f.local}")
        L.append("    obj._unknown = unknown")
        L.append("    return obj")
        kname = f"_KNOWN_{self.n.const_name(msg['words'])}"
        if known:
            known_line = "\n".join(tuple_lines(f"{kname} = frozenset(", ")", [str(k) for k in known], 0))
        else:
            known_line = f"{kname}: frozenset[int] = frozenset()"
        return known_line + "\n\n\n" + "\n".join(L) + "\n"

    def _read_packed(self, L: list[str], ind: str, f: F) -> None:
        k = f.kind
        self._read_len(L, ind)
        if k in _FIXED:
            size = _FIXED[k][1]
            L.append(f"{ind}if n % {size}:")
            L.append(f"{ind}    raise _truncated(e)")
            L.append(f'{ind}{f.local}.extend(_struct.unpack_from(f"<{{n // {size}}}{_FIXED[k][2]}", buf, pos))')
            L.append(f"{ind}pos = e")
            return
        L.append(f"{ind}while pos < e:")
        inner = ind + "    "
        self._read_varint(L, inner, "int32" if k == "bool" else k)
        if k == "bool":
            L.append(f"{inner}{f.local}.append(v != 0)")
        elif k == "enum":
            L.append(f"{inner}{f.local}.append(_{self.enum_key(f.ir['type']['name'])}(v, v))")
        else:
            L.append(f"{inner}{f.local}.append(v)")
        L.append(f"{ind}if pos != e:")
        L.append(f"{ind}    raise _truncated(e)")

    # ---- ProtoJSON ----

    def _to_json_value(self, f: F, v: str) -> str:
        k = f.kind
        if k in _INT64:
            return f"str({v})"
        if k == "enum":
            return f"_{self.enum_key(f.ir['type']['name'])}_JSON.get({v}, {v})"
        if k == "float":
            return f"_json_float({v})"
        if k == "double":
            return f"_json_double({v})"
        if k == "bytes":
            return f"_json_bytes({v})"
        if k == "message":
            return f"{v}.to_json()"
        return v

    def json_encoder(self, msg: Message, fs: list[F]) -> list[str]:
        L = ["    def to_json(self) -> dict[str, _t.Any]:"]
        L.append(docstring("This message as a ProtoJSON object (fields at their default are left out).", 8))
        L.append("        d: dict[str, _t.Any] = {}")
        for f in fs:
            v = f"v{f.number}"
            key = pyrepr(f.ir["json_name"])
            L.append(f"        {v} = self.{f.slot}")
            if f.presence == "repeated":
                L.append(f"        if {v}:")
                conv = self._to_json_value(f, "x")
                if conv == "x":
                    L.append(f"            d[{key}] = list({v})")
                else:
                    L.append(f"            d[{key}] = [{conv} for x in {v}]")
                continue
            if f.presence == "implicit" and f.kind != "message":
                if f.kind in ("float", "double"):
                    L.append(f"        if {v} or _is_neg_zero({v}):")
                else:
                    L.append(f"        if {v}:")
            else:
                L.append(f"        if {v} is not None:")
            L.append(f"            d[{key}] = {self._to_json_value(f, v)}")
        L.append("        return d")
        return L

    def _from_json_fn(self, f: F) -> tuple[str, str]:
        """The function that reads one ProtoJSON value of `f`'s type, and its arguments after the value."""
        k = f.kind
        if k == "enum":
            return f"_{self.enum_key(f.ir['type']['name'])}_FJ", ""
        if k == "message":
            return self.fj_fn(f.ir["type"]["name"]), "depth + 1, ign"
        return _JSON_FROM[k], ""

    def json_decoder(self, msg: Message) -> str:
        c = self.cls(msg["name"])
        fs = self.fields(msg)
        L = wrap_call(f"def {self.fj_fn(msg['name'])}", ["value: object", "depth: int", "ign: bool"], f" -> {c}:", 0)
        L.append("    if depth > _MAX_DEPTH:")
        L.append("        raise _too_deep(None)")
        L.append(f"    d = _json_object(value, {pyrepr(c)})")
        L.append(f"    obj = {c}()")
        aliases = {f.ir["name"]: f.ir["json_name"] for f in fs if f.ir["json_name"] != f.ir["name"]}
        if aliases:
            L.append("    seen: set[str] = set()")
        # The loop sits in a try so that any error inside a field's value names that field (its JSON name).
        L.append("    try:")
        L.append("        for key, v in d.items():" if fs else "        for key in d:")
        kw = "if"
        for f in fs:
            jn, name = f.ir["json_name"], f.ir["name"]
            if jn != name:
                L.append(f"            {kw} key == {pyrepr(jn)} or key == {pyrepr(name)}:")
                L.append(f"                if {pyrepr(name)} in seen:")
                err = pyrepr(f"{msg['name']}: field {name} given twice")
                L.append(f"                    raise _json_error({err})")
                L.append(f"                seen.add({pyrepr(name)})")
            else:
                L.append(f"            {kw} key == {pyrepr(jn)}:")
            kw = "elif"
            L.append("                if v is not None:")
            ind = "                    "
            fn, args = self._from_json_fn(f)
            if f.presence == "repeated":
                call_args = [pyrepr(f"{msg['name']}.{jn}"), fn] + ([args] if args else [])
                L.extend(wrap_call(f"obj.{f.slot} = _json_repeated", ["v", *call_args], "", len(ind)))
            else:
                if f.presence == "oneof":
                    L.append(f"{ind}if obj.{self.n.which_name(self._oneof_words(msg, f.oneof))}() is not None:")
                    err = pyrepr(f"{msg['name']}: more than one member of oneof {f.oneof}")
                    L.append(f"{ind}    raise _json_error({err})")
                L.append(f"{ind}obj.{f.slot} = {fn}(v{', ' + args if args else ''})")
        if kw == "elif":
            L.append("            elif not ign:")
        else:
            L.append("            if not ign:")
        mname = msg["name"]
        L.append(f'                raise _json_error(f"{mname}: unknown field {{key!r}}")')
        L.append("    except DecodeError as e:")
        if aliases:
            items = [f"{pyrepr(k)}: {pyrepr(v)}" for k, v in aliases.items()]
            one = f"        json_names = {{{', '.join(items)}}}"
            L.extend(
                [one]
                if len(one) <= LINE
                else ["        json_names = {", *(f"            {i}," for i in items), "        }"]
            )
            L.append("        raise e.within(json_names.get(key, key)) from None")
        else:
            L.append("        raise e.within(key) from None")
        L.append("    return obj")
        return "\n".join(L) + "\n"

    def _oneof_words(self, msg: Message, name: str | None) -> list[str]:
        return next(o["words"] for o in msg["oneofs"] if o["name"] == name)
