"""IR wire protocols -> the `clutchcall.wire` package: one codec module per protocol.

The generated code is straight-line: every field of every struct becomes its own few lines of
reads, checks and writes, so nothing interprets the IR at runtime. The per-field code is
emitted here (it is recursive: lists of structs of lists …); the templates in
`templates/wire/` lay out the modules around it and hold the small shared runtime
(`_quic.py`: varints and the bounds-checked reader, `_json.py`: the vector value format).

Code sets are `enum.IntEnum`s. A field of a closed set is typed and decoded as the enum; a field of
an open set as `Enum | int`: the member when the value is known, the bare int otherwise (what
protobuf's Python open enums do; no pseudo-members, so untrusted input cannot grow the class).
A length field that only measures one later bytes or list field is derived from it: a read-only
property, not a constructor argument, so a mismatching value cannot be written.
"""

from __future__ import annotations

import json
import keyword
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jinja2

from ...ir import model as m
from ...ir.naming import pascal, snake, upper_snake
from ..base import GeneratedFile, header_lines
from ..common import INT_MAX, INT_SIZE, WireGenError, cond_text, embedded_args, min_size

_TEMPLATES = Path(__file__).parent / "templates" / "wire"
# Keywords, and builtins the generated classes use in annotations inside their own bodies.
_PY_RESERVED = frozenset(keyword.kwlist) | {"type", "object", "bytes", "int", "str", "list", "bool"}


class WireNamer(Protocol):
    def class_name(self, words: list[str]) -> str: ...

    def attr_name(self, words: list[str]) -> str: ...

    def const_name(self, words: list[str]) -> str: ...


class LocalNamer:
    """Stand-in with the Python backend namer's interface (used when none is passed)."""

    def class_name(self, words: list[str]) -> str:
        return pascal(words)

    def attr_name(self, words: list[str]) -> str:
        name = snake(words)
        return name + "_" if name in _PY_RESERVED else name

    def const_name(self, words: list[str]) -> str:
        return upper_snake(words)


def _hexint(n: int) -> str:
    return hex(n) if n > 9 else str(n)


_LINE = 120
_BODY_INDENT = 8  # generated method bodies sit two levels deep


def _split_top(text: str) -> list[str]:
    """Split at commas outside brackets and string literals."""
    parts: list[str] = []
    depth, quote, start, i = 0, "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
        i += 1
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return parts


def wrap_call(line: str, indent: str, width: int = _LINE) -> list[str]:
    """`head(a, b, c)` longer than `width` -> one argument per line (the way ruff format would)."""
    if len(indent) + len(line) <= width or not line.endswith(")") or "(" not in line:
        return [indent + line]
    open_at = line.index("(")
    args = _split_top(line[open_at + 1 : -1])
    if len(args) < 1:
        return [indent + line]
    inner = indent + "    "
    return [indent + line[: open_at + 1], *(inner + a + "," for a in args), indent + ")"]


def wrap_seq(items: list[str], opener: str, closer: str, indent: str, used: int) -> str:
    """`(a, b)` on one line if it fits after `used` characters, else one item per line."""
    one = opener + ", ".join(items) + ("," if len(items) == 1 and opener == "(" else "") + closer
    if used + len(one) <= _LINE:
        return one
    return opener + "\n" + "".join(f"{indent}    {x},\n" for x in items) + indent + closer


@dataclass
class _Code:
    lines: list[str] = field(default_factory=list)
    depth: int = 0

    def add(self, indent: int, line: str) -> None:
        pad = "    " * indent
        if _BODY_INDENT + len(pad) + len(line) > _LINE and line.startswith("raise "):
            self.lines += wrap_call(line, pad, _LINE - _BODY_INDENT)
            return
        self.lines.append(pad + line)

    def fresh(self, prefix: str) -> str:
        self.depth += 1
        return f"{prefix}{self.depth}"


class _StructGen:
    """Emits the decode/encode/JSON code of one struct."""

    def __init__(self, proto: _ProtoGen, s: m.WireStruct) -> None:
        self.p = proto
        self.s = s
        self.cls = proto.cls(s["name"])
        self.fields = {f["name"]: f for f in s["fields"]}
        self.attrs = {f["name"]: proto.namer.attr_name(f["words"]) for f in s["fields"]}
        self.flag_vars = {n: "f_" + snake(n.split("_")) for n in [*s["flags"], *s["args"]]}
        self.variants_table = f"_{proto.namer.const_name(s['words'])}_VARIANTS" if s["variants"] else None
        self.derived = self.derived_lengths()

    def derived_lengths(self) -> dict[str, str]:
        """Length field -> the one later field it measures, for the length fields encode derives.

        Derived: an unconditional integer field (no const, code set or mask) whose only use as a
        length is the top-level `length` of one unconditional bytes or list field, so its value
        is always len() of that field. Anything else (a byte frame, a nested use, a conditional
        side) stays an ordinary field that encode checks against what it measures."""
        uses: dict[str, list[tuple[m.WireField, str]]] = {}

        def walk(t: m.WireType, owner: m.WireField, top: bool) -> None:
            for key, ln in (("length", t["length"]), ("frame", t["frame"])):
                if ln is not None and ln["kind"] == "field":
                    how = f"{key} {t['type']}" if top else "nested"
                    uses.setdefault(str(ln["field"]), []).append((owner, how))
            if t["element"] is not None:
                walk(t["element"], owner, False)

        for f in self.s["fields"]:
            walk(f["type"], f, True)
        out: dict[str, str] = {}
        for name, refs in uses.items():
            lf = self.fields[name]
            lt = lf["type"]
            if len(refs) != 1 or refs[0][1] not in ("length bytes", "length list"):
                continue
            if lf["when"] is not None or refs[0][0]["when"] is not None or lt["type"] not in INT_MAX:
                continue
            if lt["const"] is not None or lt["codes"] is not None or lt["mask"] is not None:
                continue
            out[name] = refs[0][0]["name"]
        return out

    # ---- names and types ----
    def var(self, fname: str) -> str:
        return "v_" + self.attrs[fname]

    def py_type(self, t: m.WireType) -> str:
        k = t["type"]
        if k in INT_MAX:
            if t["codes"] is None:
                return "int"
            cls = self.p.code_class(t["codes"])
            return cls if t["closed"] else f"{cls} | int"
        if k == "bytes":
            return "bytes"
        if k == "string":
            return "str"
        if k == "list":
            assert t["element"] is not None
            return f"list[{self.py_type(t['element'])}]"
        return self.p.cls(self._struct_name(t))

    def field_type(self, f: m.WireField) -> str:
        base = self.py_type(f["type"])
        return f"{base} | None" if f["when"] is not None else base

    def _struct_name(self, t: m.WireType) -> str:
        name = t["struct"]
        if name is None or name not in self.p.structs:
            raise WireGenError(f"{self.s['name']}: unknown struct {name!r}")
        return name

    def where(self, fname: str) -> str:
        return f"{self.s['name']}.{fname}"

    # ---- conditions ----
    def cond(self, c: m.WireCond) -> str:
        # The front end guarantees a declared flag or arg, or an earlier integer field.
        if c["op"] == "flag":
            fv = self.flag_vars[c["name"]]
            return fv if c["value"] else f"not {fv}"
        ref = self.fields[c["name"]]
        v = self.var(c["name"])
        op, value = c["op"], c["value"]
        if op == "eq":
            test = f"{v} == {_hexint(int(value))}"  # type: ignore[arg-type]
        elif op == "ne":
            test = f"{v} != {_hexint(int(value))}"  # type: ignore[arg-type]
        elif op in ("in", "not_in"):
            assert isinstance(value, list)
            items = ", ".join(_hexint(int(x)) for x in value)  # type: ignore[arg-type]
            word = "in" if op == "in" else "not in"
            test = f"{v} {word} ({items}{',' if len(value) == 1 else ''})"
        elif op == "even":
            test = f"{v} % 2 == 0"
        else:
            test = f"{v} % 2 == 1"
        if ref["when"] is not None:
            return f"({v} is not None and {test})"
        return test

    def cond_text(self, c: m.WireCond) -> str:
        return cond_text(c)

    def length_ref(self, fname: str | None) -> str:
        # The front end guarantees `fname` is an earlier integer field.
        v = self.var(str(fname))
        return f"({v} or 0)" if self.fields[str(fname)]["when"] is not None else v

    def struct_args(self, t: m.WireType) -> str:
        target = self.p.structs[self._struct_name(t)]
        return "".join(", " + self.flag_vars[a] for a in embedded_args(self.s, target))

    # ---- decode ----
    def min_size(self, t: m.WireType) -> int:
        return min_size(t, self.p.structs)

    def int_checks_decode(self, c: _Code, ind: int, t: m.WireType, v: str, where: str, start: str) -> None:
        def fail(cond: str, msg: str) -> None:
            c.add(ind, f"if {cond}:")
            c.add(ind + 1, f'raise DecodeError("invalid_value", f"{where}: {msg}", r.offset({start}))')

        if t["const"] is not None:
            fail(f"{v} != {_hexint(t['const'])}", f"{{{v}}} is not the constant {_hexint(t['const'])}")
        if t["codes"] is not None and t["closed"]:
            fail(f"{v} not in {self.p.code_table(t['codes'], 'NAMES')}", f"{{{v}}} is not a {t['codes']} code")
        if t["min"] is not None:
            fail(f"{v} < {_hexint(t['min'])}", f"{{{v}}} is below {t['min']}")
        if t["max"] is not None and t["max"] < INT_MAX[t["type"]]:
            fail(f"{v} > {_hexint(t['max'])}", f"{{{v}}} is above {t['max']}")
        if t["mask"] is not None:
            fail(f"{v} & ~{_hexint(t['mask'])}", f"{{{v}:#x}} has bits outside {_hexint(t['mask'])}")

    def too_large_decode(self, c: _Code, ind: int, n: str, mx: int | None, where: str, what: str) -> None:
        if mx is not None:
            c.add(ind, f"if {n} > {mx}:")
            c.add(ind + 1, f'raise DecodeError("too_large", f"{where}: {{{n}}} {what}, at most {mx}", r.offset())')

    def frame_decode(self, c: _Code, ind: int, t: m.WireType, end: str, where: str) -> str:
        """Open the sub-frame of `t` (a byte-length prefix); returns the variable holding its end.

        Like every declared length, the frame's is checked against `max_bytes` (too_large)
        before it is checked against the bytes that are there (length_past_end)."""
        ln = t["frame"]
        assert ln is not None
        sub = c.fresh("e")
        if ln["kind"] == "rest":
            c.add(ind, f"{sub} = {end}")
            return sub
        n = self.length_expr_decode(c, ind, ln, end)
        self.too_large_decode(c, ind, n, t["max_bytes"], where, "bytes")
        c.add(ind, f'{sub} = r.sub_end({n}, {end}, "{where}")')
        return sub

    def too_few_decode(self, c: _Code, ind: int, n: str, t: m.WireType, where: str, start: str) -> None:
        """A list's `min` element count: below it is invalid_value, reported at the list's start."""
        if t["min"]:
            c.add(ind, f"if {n} < {t['min']}:")
            c.add(
                ind + 1,
                f'raise DecodeError("invalid_value", f"{where}: {{{n}}} elements, at least {t["min"]}", '
                f"r.offset({start}))",
            )

    def length_expr_decode(self, c: _Code, ind: int, ln: m.WireLength, end: str) -> str:
        if ln["kind"] == "varint":
            n = c.fresh("n")
            c.add(ind, f"{n} = r.varint({end})")
            return n
        if ln["kind"] == "field":
            return self.length_ref(ln["field"])
        if ln["kind"] == "fixed":
            return str(ln["size"])
        return f"({end} - r.pos)"

    def decode_value(self, c: _Code, ind: int, t: m.WireType, target: str, end: str, where: str) -> None:
        k = t["type"]
        if k in INT_MAX:
            checks = (
                any(t[x] is not None for x in ("const", "min", "mask"))
                or (t["codes"] is not None and t["closed"])
                or (t["max"] is not None and t["max"] < INT_MAX[k])
            )
            start = "o"
            if checks:
                start = c.fresh("o")
                c.add(ind, f"{start} = r.pos")
            read = f"r.varint({end})" if k == "varint" else f"r.uint({INT_SIZE[k]}, {end})"
            raw = target if t["codes"] is None else c.fresh("c")
            c.add(ind, f"{raw} = {read}")
            if checks:
                self.int_checks_decode(c, ind, t, raw, where, start)
            if t["codes"] is not None:
                members = self.p.code_table(t["codes"], "MEMBERS")
                # A closed set's value was checked above, so the lookup cannot miss.
                c.add(ind, f"{target} = {members}[{raw}]" if t["closed"] else f"{target} = {members}.get({raw}, {raw})")
            return
        if k in ("bytes", "string"):
            ln = t["length"]
            assert ln is not None
            start = c.fresh("o")
            if k == "string":
                c.add(ind, f"{start} = r.pos")
            if ln["kind"] == "fixed":
                c.add(ind, f"{target}{'_raw' if k == 'string' else ''} = r.fixed({ln['size']}, {end})")
            else:
                n = self.length_expr_decode(c, ind, ln, end)
                if ln["kind"] != "rest":
                    self.too_large_decode(c, ind, n, t["max"], where, "bytes")
                raw_target = f"{target}_raw" if k == "string" else target
                c.add(ind, f"{raw_target} = r.raw({n}, {end})")
                if ln["kind"] == "rest" and t["max"] is not None:
                    self.too_large_decode(c, ind, f"len({raw_target})", t["max"], where, "bytes")
            if k == "string":
                if ln["kind"] != "fixed":
                    c.add(ind, f"{start} = r.pos - len({target}_raw)")
                c.add(ind, f"{target} = r.text({target}_raw, {start})")
            return
        if k == "struct":
            cls = self.p.cls(self._struct_name(t))
            if t["frame"] is None:
                c.add(ind, f"{target} = {cls}._decode_from(r, {end}{self.struct_args(t)})")
                return
            sub = self.frame_decode(c, ind, t, end, where)
            c.add(ind, f"{target} = {cls}._decode_from(r, {sub}{self.struct_args(t)})")
            self.trailing_check(c, ind, sub, where)
            return
        # list
        elem = t["element"]
        ln = t["length"]
        assert elem is not None and ln is not None
        e = end
        start = "o"
        if t["min"]:
            start = c.fresh("o")
            c.add(ind, f"{start} = r.pos")
        if t["frame"] is not None:
            e = self.frame_decode(c, ind, t, end, where)
        item = c.fresh("x")
        etype = self.py_type(elem)
        c.add(ind, f"{target}: list[{etype}] = []")
        if ln["kind"] == "rest":
            if self.min_size(elem) == 0:
                # Reading "until the end" an element that may take no input would never end.
                raise WireGenError(f"{where}: a list read to its end needs elements of at least one byte")
            c.add(ind, f"while r.pos < {e}:")
            if t["max"] is not None:
                c.add(ind + 1, f"if len({target}) >= {t['max']}:")
                c.add(
                    ind + 2,
                    f'raise DecodeError("too_large", "{where}: more than {t["max"]} elements", r.offset())',
                )
        else:
            count = self.length_expr_decode(c, ind, ln, e)
            self.too_large_decode(c, ind, count, t["max"], where, "elements")
            self.too_few_decode(c, ind, count, t, where, start)
            # Every element takes at least one byte (or its fixed minimum): a count the remaining
            # input cannot hold fails before anything is allocated.
            c.add(ind, f'r.need({count} * {max(1, self.min_size(elem))}, {e}, "{where}")')
            c.add(ind, f"for _ in range({count}):")
        self.decode_value(c, ind + 1, elem, item, e, where + "[]")
        c.add(ind + 1, f"{target}.append({item})")
        if ln["kind"] == "rest":
            self.too_few_decode(c, ind, f"len({target})", t, where, start)
        if t["frame"] is not None and ln["kind"] != "rest":
            self.trailing_check(c, ind, e, where)

    def trailing_check(self, c: _Code, ind: int, sub: str, where: str) -> None:
        c.add(ind, f"if r.pos != {sub}:")
        c.add(ind + 1, f'raise DecodeError("trailing_bytes", f"{where}: {{{sub} - r.pos}} byte(s) left", r.offset())')

    def decode_body(self) -> list[str]:
        c = _Code()
        s = self.s
        for i, f in enumerate(s["fields"]):
            v = self.var(f["name"])
            where = self.where(f["name"])
            if f["when"] is None:
                self.decode_value(c, 0, f["type"], v, "end", where)
            else:
                c.add(0, f"{v}: {self.field_type(f)} = None")
                c.add(0, f"if {self.cond(f['when'])}:")
                tmp = c.fresh("t")
                self.decode_value(c, 1, f["type"], tmp, "end", where)
                c.add(1, f"{v} = {tmp}")
            if i == 0 and self.variants_table is not None:
                if f["type"]["type"] not in INT_MAX or f["when"] is not None:
                    raise WireGenError(f"{s['name']}: a struct with variants starts with its integer type code")
                c.add(0, f"flags = {self.variants_table}.get({v})")
                c.add(0, "if flags is None:")
                c.add(1, f'raise DecodeError("unknown_type", f"{s["name"]}: unknown type {{{v}:#x}}", r.offset())')
                self.unpack_flags(c)
        if not s["fields"]:
            c.add(0, "return cls()")
            return c.lines
        c.add(0, "return cls(")
        for f in s["fields"]:
            if f["name"] not in self.derived:
                c.add(1, f"{self.attrs[f['name']]}={self.var(f['name'])},")
        c.add(0, ")")
        return c.lines

    def used_flags(self) -> set[str]:
        used: set[str] = set()

        def walk(t: m.WireType) -> None:
            if t["type"] == "struct" and t["struct"] in self.p.structs:
                used.update(self.p.structs[t["struct"]]["args"])
            if t["element"] is not None:
                walk(t["element"])

        for f in self.s["fields"]:
            if f["when"] is not None and f["when"]["op"] == "flag":
                used.add(f["when"]["name"])
            walk(f["type"])
        return used

    def unpack_flags(self, c: _Code) -> None:
        flags = self.s["flags"]
        if flags:
            used = self.used_flags()
            names = ", ".join(self.flag_vars[n] if n in used else "_" + self.flag_vars[n] for n in flags)
            c.add(0, f"{names}{',' if len(flags) == 1 else ''} = flags")

    # ---- encode ----
    def int_checks_encode(self, c: _Code, ind: int, t: m.WireType, v: str, where: str) -> None:
        def fail(cond: str, msg: str) -> None:
            c.add(ind, f"if {cond}:")
            c.add(ind + 1, f'raise EncodeError(f"{where}: {msg}")')

        if t["const"] is not None:
            fail(f"{v} != {_hexint(t['const'])}", f"{{{v}}} is not the constant {_hexint(t['const'])}")
        if t["codes"] is not None and t["closed"]:
            fail(f"{v} not in {self.p.code_table(t['codes'], 'NAMES')}", f"{{{v}}} is not a {t['codes']} code")
        if t["min"] is not None:
            fail(f"{v} < {_hexint(t['min'])}", f"{{{v}}} is below {t['min']}")
        if t["max"] is not None and t["max"] < INT_MAX[t["type"]]:
            fail(f"{v} > {_hexint(t['max'])}", f"{{{v}}} is above {t['max']}")
        if t["mask"] is not None:
            fail(f"{v} & ~{_hexint(t['mask'])}", f"{{{v}:#x}} has bits outside {_hexint(t['mask'])}")

    def length_encode(self, c: _Code, ind: int, ln: m.WireLength, n: str, out: str, where: str) -> None:
        if ln["kind"] == "varint":
            c.add(ind, f"write_varint({out}, {n})")
        elif ln["kind"] == "field" and ln["field"] in self.derived:
            pass  # the length field was derived from this very value
        elif ln["kind"] == "field":
            ref = self.length_ref(ln["field"])
            c.add(ind, f"if {n} != {ref}:")
            c.add(ind + 1, f'raise EncodeError("{where}: its length does not match {ln["field"]}")')
        elif ln["kind"] == "fixed":
            c.add(ind, f"if {n} != {ln['size']}:")
            c.add(ind + 1, f'raise EncodeError(f"{where}: length {{{n}}} is not {ln["size"]}")')

    def too_large_encode(self, c: _Code, ind: int, n: str, mx: int | None, where: str, what: str) -> None:
        if mx is not None:
            c.add(ind, f"if {n} > {mx}:")
            c.add(ind + 1, f'raise EncodeError(f"{where}: {{{n}}} {what}, at most {mx}")')

    def encode_value(self, c: _Code, ind: int, t: m.WireType, v: str, out: str, where: str) -> None:
        k = t["type"]
        if k in INT_MAX:
            self.int_checks_encode(c, ind, t, v, where)
            if k == "varint":
                c.add(ind, f"write_varint({out}, {v})")
            else:
                c.add(ind, f"write_uint({out}, {v}, {INT_SIZE[k]})")
            return
        if k in ("bytes", "string"):
            ln = t["length"]
            assert ln is not None
            raw = v
            if k == "string":
                raw = c.fresh("b")
                c.add(ind, f'{raw} = utf8({v}, "{where}")')
            self.too_large_encode(c, ind, f"len({raw})", t["max"], where, "bytes")
            self.length_encode(c, ind, ln, f"len({raw})", out, where)
            c.add(ind, f"{out} += {raw}")
            return
        if k == "struct":
            if t["frame"] is None:
                c.add(ind, f"{v}._encode_into({out}{self.struct_args(t)})")
                return
            buf = c.fresh("buf")
            c.add(ind, f"{buf} = bytearray()")
            c.add(ind, f"{v}._encode_into({buf}{self.struct_args(t)})")
            self.too_large_encode(c, ind, f"len({buf})", t["max_bytes"], where, "bytes")
            self.length_encode(c, ind, t["frame"], f"len({buf})", out, where)
            c.add(ind, f"{out} += {buf}")
            return
        elem = t["element"]
        ln = t["length"]
        assert elem is not None and ln is not None
        target = out
        if t["frame"] is not None:
            target = c.fresh("buf")
            c.add(ind, f"{target} = bytearray()")
        self.too_large_encode(c, ind, f"len({v})", t["max"], where, "elements")
        if t["min"]:
            c.add(ind, f"if len({v}) < {t['min']}:")
            c.add(ind + 1, f'raise EncodeError(f"{where}: {{len({v})}} elements, at least {t["min"]}")')
        self.length_encode(c, ind, ln, f"len({v})", target, where)
        item = c.fresh("x")
        c.add(ind, f"for {item} in {v}:")
        self.encode_value(c, ind + 1, elem, item, target, where + "[]")
        if t["frame"] is not None:
            self.too_large_encode(c, ind, f"len({target})", t["max_bytes"], where, "bytes")
            self.length_encode(c, ind, t["frame"], f"len({target})", out, where)
            c.add(ind, f"{out} += {target}")

    def encode_body(self) -> list[str]:
        c = _Code()
        s = self.s
        for f in s["fields"]:
            if f["name"] not in self.derived:
                c.add(0, f"{self.var(f['name'])} = self.{self.attrs[f['name']]}")
        for length, measured in self.derived.items():
            c.add(0, f"{self.var(length)} = len({self.var(measured)})")
        for i, f in enumerate(s["fields"]):
            v = self.var(f["name"])
            where = self.where(f["name"])
            if f["when"] is None:
                self.encode_value(c, 0, f["type"], v, "out", where)
            else:
                c.add(0, f"if {self.cond(f['when'])}:")
                c.add(1, f"if {v} is None:")
                c.add(2, f'raise EncodeError("{where} is required when {self.cond_text(f["when"])}")')
                self.encode_value(c, 1, f["type"], v, "out", where)
                c.add(0, f"elif {v} is not None:")
                c.add(1, f'raise EncodeError("{where} must be absent unless {self.cond_text(f["when"])}")')
            if i == 0 and self.variants_table is not None:
                c.add(0, f"flags = {self.variants_table}.get({v})")
                c.add(0, "if flags is None:")
                c.add(1, f'raise EncodeError(f"{s["name"]}: unknown type {{{v}:#x}}")')
                self.unpack_flags(c)
        if not s["fields"]:
            c.add(0, "pass")
        return c.lines

    # ---- JSON ----
    def to_json_expr(self, t: m.WireType, v: str, depth: int = 0) -> str:
        k = t["type"]
        if k in INT_MAX:
            return f"_json.num({v})"
        if k == "string":
            return v
        if k == "bytes":
            return f"{v}.hex()"
        if k == "struct":
            return f"{v}.to_json()"
        assert t["element"] is not None
        x = f"j{depth}"
        return f"[{self.to_json_expr(t['element'], x, depth + 1)} for {x} in {v}]"

    def from_json_field(self, f: m.WireField) -> str:
        """The expression reading field `f` from `j`, a `_json.Obj`."""
        t, name = f["type"], f["name"]
        k = t["type"]
        if k in INT_MAX:
            expr = f'j.integer("{name}")'
            if t["codes"] is not None:
                kind = "closed" if t["closed"] else "open"
                expr = f'j.{kind}_code("{name}", {self.p.code_table(t["codes"], "MEMBERS")})'
        elif k == "bytes":
            expr = f'j.hexbytes("{name}")'
        elif k == "string":
            expr = f'j.text("{name}")'
        elif k == "struct":
            expr = f'{self.p.cls(self._struct_name(t))}.from_json(j.get("{name}"))'
        else:
            assert t["element"] is not None
            inner = self.from_json_expr(t["element"], "j0", self.where(name) + "[]", 1)
            expr = f'[{inner} for j0 in j.array("{name}")]'
        return expr if f["when"] is None else f'None if j.absent("{name}") else {expr}'

    def code_from_json(self, t: m.WireType, expr: str, where: str) -> str:
        """An integer read from JSON, as its code set's member where it has one."""
        if t["codes"] is None:
            return expr
        members = self.p.code_table(t["codes"], "MEMBERS")
        if t["closed"]:
            return f'_json.closed_code({expr}, {members}, "{where}")'
        return f"_json.open_code({expr}, {members})"

    def from_json_expr(self, t: m.WireType, v: str, where: str, depth: int = 0) -> str:
        k = t["type"]
        if k in INT_MAX:
            return self.code_from_json(t, f'_json.integer({v}, "{where}")', where)
        if k == "bytes":
            return f'_json.hexbytes({v}, "{where}")'
        if k == "string":
            return f'_json.text({v}, "{where}")'
        if k == "struct":
            return f"{self.p.cls(self._struct_name(t))}.from_json({v})"
        assert t["element"] is not None
        x = f"j{depth}"
        inner = self.from_json_expr(t["element"], x, where + "[]", depth + 1)
        return f'[{inner} for {x} in _json.array({v}, "{where}")]'

    def context(self) -> dict[str, Any]:
        s = self.s
        fields = [
            {
                "name": f["name"],
                "attr": self.attrs[f["name"]],
                "type": self.field_type(f),
                "doc": f["doc"],
                "optional": f["when"] is not None,
                "default": (
                    "None"
                    if f["when"] is not None
                    else (_hexint(f["type"]["const"]) if f["type"]["const"] is not None else None)
                ),
                "to_json": self.to_json_expr(f["type"], f"self.{self.attrs[f['name']]}"),
                "to_json_opt": self.to_json_expr(f["type"], f"v_{self.attrs[f['name']]}"),
                "from_json": self.from_json_field(f),
                "measures": self.attrs[self.derived[f["name"]]] if f["name"] in self.derived else None,
            }
            for f in s["fields"]
        ]
        args = [{"name": a, "param": self.p.namer.attr_name(a.split("_")), "var": self.flag_vars[a]} for a in s["args"]]
        variants = None
        if s["variants"]:
            n = len(s["flags"])
            tuple_type = f"tuple[{', '.join(['bool'] * n)}]" if n else "tuple[()]"
            variants = {
                "table": self.variants_table,
                "type": tuple_type,
                "rows": [
                    (
                        _hexint(v["code"]),
                        "(" + ", ".join(str(v["flags"][fl]) for fl in s["flags"]) + ("," if n == 1 else "") + ")",
                    )
                    for v in s["variants"]
                ],
                "flags": s["flags"],
            }
        return {
            "name": s["name"],
            "cls": self.cls,
            "doc": s["doc"],
            "fields": fields,
            "derived": bool(self.derived),
            "request_ctor": self.p.envelope_request() if s["name"] == "Envelope" else None,
            "slots": sorted(a for n, a in self.attrs.items() if n not in self.derived),
            "args": args,
            "variants": variants,
            "decode_body": self.decode_body(),
            "encode_body": self.encode_body(),
        }


class _ProtoGen:
    def __init__(self, ir: m.IR, proto: m.WireProtocol, namer: WireNamer) -> None:
        self.ir = ir
        self.proto = proto
        self.namer = namer
        self.structs = {s["name"]: s for s in proto["structs"]}
        self.code_sets = {c["name"]: c for c in proto["codes"]}

    def cls(self, struct_name: str) -> str:
        return self.namer.class_name(self.structs[struct_name]["words"])

    def code_class(self, code_set: str) -> str:
        if code_set not in self.code_sets:
            raise WireGenError(f"{self.proto['name']}: unknown code set {code_set!r}")
        return self.namer.class_name(self.code_sets[code_set]["words"])

    def code_table(self, code_set: str, kind: str) -> str:
        """The module-level table of a code set: `NAMES` (value -> IDL name) or `MEMBERS` (value -> member)."""
        self.code_class(code_set)
        return f"_{self.namer.const_name(self.code_sets[code_set]['words'])}_{kind}"

    def envelope_request(self) -> dict[str, str] | None:
        """For the legacy RPC envelope (as in every SDK): the code constants `Envelope.request` sets."""
        if self.proto["family"] != "envelope":
            return None

        def const(code_set: str, value: str) -> str:
            found = [v for v in self.code_sets.get(code_set, {"values": []})["values"] if v["name"] == value]
            if not found:
                raise WireGenError(f"{self.proto['name']}: Envelope.request needs code {value!r} in {code_set}")
            return f"{self.code_class(code_set)}.{self.namer.const_name(found[0]['words'])}"

        return {"kind": const("EnvelopeKind", "request"), "flags": const("EnvelopeFlag", "final")}

    def read_int(self, kind: str, end: str) -> str:
        return f"r.varint({end})" if kind == "varint" else f"r.uint({INT_SIZE[kind]}, {end})"

    def write_int(self, kind: str, out: str, v: str) -> str:
        return f"write_varint({out}, {v})" if kind == "varint" else f"write_uint({out}, {v}, {INT_SIZE[kind]})"

    def stream_context(self, st: m.WireStream) -> dict[str, Any]:
        attr = self.namer.attr_name(st["words"])
        ctx: dict[str, Any] = {
            "name": st["name"],
            "kind": st["kind"],
            "doc": st["doc"],
            "attr": attr,
            "parser": self.namer.class_name([*st["words"], "parser"]),
            "const": self.namer.const_name(st["words"]),
        }
        kind = st["kind"]
        if kind in ("sequence", "datagram"):
            msg = st["message"]
            if msg is None or msg not in self.structs or self.structs[msg]["args"]:
                raise WireGenError(f"stream {st['name']}: message {msg!r} must be a struct without args")
            ctx["message"] = self.cls(msg)
        elif kind == "framed":
            dispatch = st["dispatch"]
            if dispatch is None or dispatch not in self.code_sets:
                raise WireGenError(f"stream {st['name']}: dispatch {dispatch!r} is not a code set")
            rows: list[tuple[str, str]] = []
            by_cls: dict[str, list[str]] = {}
            for cv in self.code_sets[dispatch]["values"]:
                if cv["struct"] is None:
                    continue
                if cv["struct"] not in self.structs or self.structs[cv["struct"]]["args"]:
                    raise WireGenError(
                        f"stream {st['name']}: {cv['name']} names {cv['struct']!r}, not a struct without args"
                    )
                cls = self.cls(cv["struct"])
                rows.append((_hexint(cv["value"]), cls))
                by_cls.setdefault(cls, []).append(_hexint(cv["value"]))
            length = st["length"] or "varint"
            type_kind = st["type"] or "varint"
            limit = INT_MAX[length] if st["max"] is None else min(st["max"], INT_MAX[length])
            ctx.update(
                {
                    "dispatch_table": rows,
                    "classes": list(by_cls),
                    "codes_by_class": [
                        (k, "(" + ", ".join(v) + ("," if len(v) == 1 else "") + ")") for k, v in by_cls.items()
                    ],
                    "read_type": self.read_int(type_kind, "r.stop"),
                    "read_length": self.read_int(length, "r.stop"),
                    "write_type": self.write_int(type_kind, "out", "code"),
                    "write_length": self.write_int(length, "out", "len(body)"),
                    "max": limit,
                    "alias": self.namer.class_name([*st["words"], "message"]),
                }
            )
        elif kind == "header_objects":
            headers = []
            for i, h in enumerate(st["headers"]):
                hs = self.structs.get(h["header"])
                obj = self.structs.get(h["object"])
                if hs is None or obj is None or not hs["fields"]:
                    raise WireGenError(f"stream {st['name']}: header {h['header']!r} or object {h['object']!r} unknown")
                if not h["codes"]:
                    raise WireGenError(f"stream {st['name']}: header {h['header']} has no type codes")
                first = hs["fields"][0]["type"]["type"]
                if first not in INT_MAX:
                    raise WireGenError(f"stream {st['name']}: header {h['header']} must start with its type code")
                flag_index: list[str] = []
                for a in obj["args"]:
                    flag = h["args"].get(a)
                    if flag is None or flag not in hs["flags"]:
                        raise WireGenError(f"stream {st['name']}: object arg {a!r} is not mapped to a header flag")
                    flag_index.append(str(hs["flags"].index(flag)))
                headers.append(
                    {
                        "index": i,
                        "cls": self.cls(h["header"]),
                        "obj": self.cls(h["object"]),
                        "codes": "("
                        + ", ".join(_hexint(x) for x in h["codes"])
                        + ("," if len(h["codes"]) == 1 else "")
                        + ")",
                        "peek": self.read_int(first, "r.stop")[2:],
                        "table": f"_{self.namer.const_name(hs['words'])}_VARIANTS" if hs["variants"] else None,
                        "first_attr": self.namer.attr_name(hs["fields"][0]["words"]),
                        "flag_index": flag_index,
                        "obj_args": obj["args"],
                        "obj_params": [self.namer.attr_name(a.split("_")) for a in obj["args"]],
                    }
                )
            ctx["headers"] = headers
            ctx["header_alias"] = self.namer.class_name([*st["words"], "header"])
            ctx["object_alias"] = self.namer.class_name([*st["words"], "object"])
            ctx["item_alias"] = self.namer.class_name([*st["words"], "item"])
        return ctx

    def context(self) -> dict[str, Any]:
        p = self.proto
        structs = [_StructGen(self, s).context() for s in p["structs"]]
        streams = [self.stream_context(st) for st in p["streams"]]
        code = "\n".join(line for s in structs for line in [*s["decode_body"], *s["encode_body"]])
        code += "\n".join(st.get("write_type", "") + st.get("write_length", "") for st in streams)
        runtime = ["Reader"]
        if any(st["kind"] != "datagram" for st in streams):
            runtime.append("Incomplete")
        runtime += [n for n in ("utf8", "write_uint", "write_varint") if n + "(" in code]
        kinds = {st["kind"] for st in streams}
        collections = [n for n, k in (("Callable", "framed"), ("Sequence", "header_objects")) if k in kinds]
        typing = ["Any", "Final"] + (["TypeAlias"] if kinds & {"framed", "header_objects"} else [])
        return {
            "uses_callable": "framed" in kinds,
            "uses_sequence": "header_objects" in kinds,
            "collections_imports": ", ".join(collections),
            "typing_imports": ", ".join(typing),
            "runtime_imports": ", ".join(sorted(runtime)),
            "name": p["name"],
            "doc": p["doc"],
            "family": p["family"],
            "version": p["version"],
            "alpn": p["alpn"],
            "module": self.namer.attr_name(p["words"]),
            "code_sets": [
                {
                    "name": c["name"],
                    "cls": self.namer.class_name(c["words"]),
                    "doc": c["doc"],
                    "closed": c["closed"],
                    "names_table": self.code_table(c["name"], "NAMES"),
                    "members_table": self.code_table(c["name"], "MEMBERS"),
                    "names": [f"{_hexint(v['value'])}: {json.dumps(v['name'])}" for v in c["values"]],
                    "consts": [
                        {
                            "const": self.namer.const_name(v["words"]),
                            "name": v["name"],
                            "value": _hexint(v["value"]),
                            "doc": v["doc"],
                        }
                        for v in c["values"]
                    ],
                }
                for c in p["codes"]
            ],
            "structs": structs,
            "streams": streams,
        }


def _doc_lines(text: str, width: int = 100, first: str = "", rest: str = "") -> list[str]:
    """Wrap a doc string for a docstring; backslashes and triple quotes cannot end it early."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest) or [first.rstrip()]


def _union(classes: list[str], used: int) -> str:
    one = " | ".join(classes)
    if used + len(one) <= _LINE:
        return one
    return "(\n" + "".join(f"    {'| ' if i else ''}{c}\n" for i, c in enumerate(classes)) + ")"


def _kwarg(text: str, indent: int) -> str:
    """`name=expr`, parenthesized over three lines when it would not fit; a conditional
    expression that still does not fit goes one part per line (as ruff format does)."""
    if indent + len(text) + 1 <= _LINE:
        return text
    name, expr = text.split("=", 1)
    pad = " " * indent
    inner = pad + "    "
    if len(inner) + len(expr) > _LINE and expr.startswith("None if ") and " else " in expr:
        # from_json_field's only conditional: `None if j.absent("f") else <expr>`.
        cond, rest = expr.removeprefix("None ").split(" else ", 1)
        return f"{name}=(\n{inner}None\n{inner}{cond}\n{inner}else {rest}\n{pad})"
    return f"{name}=(\n{inner}{expr}\n{pad})"


def _seq(items: list[str], opener: str, closer: str, indent: str, used: int) -> str:
    return wrap_seq(list(items), opener, closer, indent, used)


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters["doc"] = _doc_lines
    env.filters["union"] = _union
    env.filters["seq"] = _seq
    env.filters["kwarg"] = _kwarg
    return env


def generate_wire(ir: m.IR, namer: WireNamer | None = None) -> list[GeneratedFile]:
    """The `clutchcall/wire/` package: runtime modules plus one codec module per protocol."""
    namer = namer or LocalNamer()
    env = _env()
    header = "\n".join("# " + line for line in header_lines(ir))
    protocols = [_ProtoGen(ir, p, namer).context() for p in ir["wire"]]
    files = [
        GeneratedFile(
            "clutchcall/wire/__init__.py", env.get_template("__init__.py.j2").render(header=header, protocols=protocols)
        ),
        GeneratedFile("clutchcall/wire/_quic.py", env.get_template("_quic.py.j2").render(header=header)),
        GeneratedFile("clutchcall/wire/_json.py", env.get_template("_json.py.j2").render(header=header)),
    ]
    module = env.get_template("module.py.j2")
    for p in protocols:
        files.append(GeneratedFile(f"clutchcall/wire/{p['module']}.py", module.render(header=header, p=p)))
    return files
