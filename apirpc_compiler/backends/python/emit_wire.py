"""The codec plan (ir/plan.py) -> the `clutchcall.wire` package: one codec module per protocol.

A renderer: each op of a struct's plan becomes its few lines of straight-line Python; each
stream's state machine becomes a table (`Grammar`) that the one generic parser in `_stream.py`
runs. The order of reads and checks, the reasons, the limits, the derived length fields and the
stream grammars all come from the plan; only names and spelling are decided here (the shared
parts of that through `wire_render`). The templates in `templates/wire/` lay out the modules and
hold the static runtime (`_quic.py`: varints and the bounds-checked reader, `_stream.py`: the
stream parsers and encoders, `_json.py`: the vector value format).

Code sets are `enum.IntEnum`s. A field of a closed set is typed and decoded as the enum; a field of
an open set as `Enum | int`: the member when the value is known, the bare int otherwise (what
protobuf's Python open enums do; no pseudo-members, so untrusted input cannot grow the class).
A length field the plan marks as measuring one later field (`measures`) is derived from it: a
read-only property, not a constructor argument, so a mismatching value cannot be written.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path
from typing import Any

import jinja2

from ...ir import model as m
from ...ir import plan
from ...ir.naming import snake
from ..base import GeneratedFile, header_lines
from ..common import INT_SIZE, WireGenError, plan_cond_text, shift_literal, template_env
from ..wire_render import Code, Operators, ProtocolView, check_test, cond_test, loop_item
from .namer import PythonNamer
from .text import LINE

_TEMPLATES = Path(__file__).parent / "templates" / "wire"


def _hexint(n: int) -> str:
    return hex(n) if n > 9 else str(n)


def _tuple(items: list[str]) -> str:
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


_BODY_INDENT = 8  # generated method bodies sit two levels deep
_OPS = Operators(
    literal=_hexint,
    member=lambda v, values: f"{v} in {_tuple([_hexint(x) for x in values])}",
    outside_mask="{a} & ~{b}",
    parity="{a} % 2 == {b}",
    negate_name="not {a}",
)
# `not x in y` is spelled `x not in y` (ruff's E713)
_NOT_IN = dataclasses.replace(_OPS, member=lambda v, values: f"{v} not in {_tuple([_hexint(x) for x in values])}")


class _Code(Code):
    def raise_(self, indent: int, head: str, args: list[str]) -> None:
        """`raise head(args)`, one argument a line when the line would be too long."""
        pad = self.unit * indent
        one = f"raise {head}({', '.join(args)})"
        if _BODY_INDENT + len(pad) + len(one) <= LINE:
            self.lines.append(pad + one)
        else:
            self.lines += [f"{pad}raise {head}(", *(f"{pad}    {a}," for a in args), pad + ")"]

    def fail(self, indent: int, test: str, head: str, args: list[str]) -> None:
        self.add(indent, f"if {test}:")
        self.raise_(indent + 1, head, args)


def _defines(op: plan.Op, operand: plan.Operand) -> bool:
    """Whether `op` reads or limits `operand` (the ops that precede the value it measures)."""
    if isinstance(op, plan.ReadInt):
        return isinstance(operand, plan.Var) and op.var == operand.name
    if isinstance(op, (plan.Limit, plan.MinCount)):
        return op.subject == operand
    return isinstance(op, plan.Need) and op.count == operand


def _last_check(ops: tuple[plan.Op, ...], i: int, var: str) -> int:
    """The index of the last of the `check` ops of `var` right after ops[i] (i if none)."""
    while i + 1 < len(ops) and isinstance(nxt := ops[i + 1], plan.Check) and nxt.var == var:
        i += 1
    return i


class _StructGen:
    """Renders one struct's plan (`ir.plan.StructPlan`): each op becomes its Python lines, in plan
    order. Only names are chosen here; the checks, their order, reasons and limits are the plan's."""

    def __init__(self, proto: _ProtoGen, s: m.WireStruct) -> None:
        self.p = proto
        self.s = s
        self.plan = proto.struct_plans[s["name"]]
        self.cls = proto.cls(s["name"])
        self.attrs = {f["name"]: proto.namer.attr_name(f["words"]) for f in s["fields"]}
        self.derived = {f.name: f.measures for f in self.plan.fields if f.measures is not None}
        self.variants_table = f"_{proto.namer.const_name(s['words'])}_VARIANTS" if self.plan.variants else None
        self.c = _Code()
        self.names: dict[str, str] = {}
        self.types: dict[str, plan.TypeDesc] = {}
        self.strings: set[str] = set()  # decoded string slots (their bytes are `<name>_raw`)

    # ---- names and types ----
    def name(self, slot: str) -> str:
        if slot in self.names:
            return self.names[slot]
        if slot.startswith("v_") and slot[2:] in self.attrs:
            return "v_" + self.attrs[slot[2:]]
        if slot.startswith("f_"):
            return "f_" + snake(slot[2:].split("_"))
        return slot  # end, out

    def fresh(self, slot: str, prefix: str) -> str:
        self.names[slot] = self.c.fresh(prefix)
        return self.names[slot]

    def py_type(self, t: plan.TypeDesc) -> str:
        if t.kind == "int":
            if t.codes is None:
                return "int"
            cls = self.p.code_class(t.codes)
            return cls if t.codes in self.p.closed_code_sets else f"{cls} | int"
        if t.kind in ("bytes", "string"):
            return "bytes" if t.kind == "bytes" else "str"
        if t.kind == "list":
            assert t.element is not None
            return f"list[{self.py_type(t.element)}]"
        return self.p.cls(str(t.struct))

    def field_type(self, f: plan.PlanField) -> str:
        return self.py_type(f.type) + (" | None" if f.cond is not None else "")

    def cond(self, c: plan.Cond) -> str:
        ops = _OPS
        if isinstance(c, plan.FieldTest) and c.test == "not_in":
            c, ops = dataclasses.replace(c, test="in"), _NOT_IN
        return cond_test(
            c,
            ops,
            lambda flag: self.name("f_" + flag),
            lambda field: self.name("v_" + field),
            lambda v, test: f"({v} is not None and {test(v)})",
        )

    def operand(self, o: plan.Operand) -> str:
        if isinstance(o, plan.Var):
            return self.name(o.name)
        if isinstance(o, plan.FieldValue):
            v = self.name("v_" + o.field)
            return f"({v} or 0)" if o.optional else v
        if isinstance(o, plan.Const):
            return str(o.value)
        if isinstance(o, plan.Remaining):
            return f"({self.name(o.end)} - r.pos)"
        return f"len({self.name(o.name)}{'_raw' if o.name in self.strings else ''})"

    def args(self, args: tuple[str, ...]) -> str:
        return "".join(", " + self.name(a) for a in args)

    def fail(self, ind: int, test: str, msg: str, reason: str | None = None, at: str = "") -> None:
        """`if test: raise` a DecodeError with `reason` (at the cursor, or at `at`), else an EncodeError."""
        if reason is None:
            self.c.fail(ind, test, "EncodeError", [msg])
        else:
            self.c.fail(ind, test, "DecodeError", [f'"{reason}"', msg, f"r.offset({at})"])

    def check(self, ind: int, op: plan.Check, v: str, decode: bool) -> None:
        test, words = check_test(op, v, _OPS, lambda codes, v: f"{v} not in {self.p.code_table(codes, 'NAMES')}")
        value = f"{{{v}:#x}}" if op.test == "mask" else f"{{{v}}}"
        self.fail(ind, test, f'f"{op.where}: {value} {words}"', op.reason if decode else None, self.name(str(op.at)))

    def variant(self, ind: int, op: plan.Variant, decode: bool) -> None:
        v = self.name(op.var)
        self.c.add(ind, f"flags = {self.variants_table}.get({v})")
        self.fail(ind, "flags is None", f'f"{op.struct}: unknown type {{{v}:#x}}"', op.reason if decode else None)
        if op.flags:
            names = ", ".join(self.name(f.var) if f.used else "_" + self.name(f.var) for f in op.flags)
            self.c.add(ind, f"{names}{',' if len(op.flags) == 1 else ''} = flags")

    # ---- decode ----
    def prelude(self, ind: int, op: plan.Op) -> None:
        """What the generated code allocates before a value's length or count is read: the start
        of a byte string, the end of a frame, the item of a list."""
        if isinstance(op, (plan.ReadBytes, plan.ReadFixed)):
            start = self.fresh(op.var + "@start", "o")
            if op.utf8:
                self.c.add(ind, f"{start} = r.pos")
        elif isinstance(op, plan.OpenFrame):
            self.fresh(op.var, "e")
        elif isinstance(op, (plan.Repeat, plan.UntilEnd)):
            self.fresh(loop_item(op.body)[0], "x")

    def preludes(self, ops: tuple[plan.Op, ...]) -> dict[int, plan.Op]:
        """Index of the first op of each value that has a prelude (its length's read and limits)."""
        out: dict[int, plan.Op] = {}
        for j, op in enumerate(ops):
            measure: plan.Operand | None = None
            if isinstance(op, (plan.ReadBytes, plan.OpenFrame)):
                measure = op.length
            elif isinstance(op, plan.Repeat):
                measure = op.count
            elif not isinstance(op, (plan.ReadFixed, plan.UntilEnd)):
                continue
            i = j
            while measure is not None and i > 0 and _defines(ops[i - 1], measure):
                i -= 1
            out[i] = op
        return out

    def decode_ops(self, ind: int, ops: tuple[plan.Op, ...]) -> None:
        c = self.c
        starts = self.preludes(ops)
        after: dict[int, str] = {}  # a coded integer becomes its member once its checks passed
        raw_of: dict[str, str] = {}
        for i, op in enumerate(ops):
            if i in starts:
                self.prelude(ind, starts[i])
            if isinstance(op, plan.Begin):
                pass
            elif isinstance(op, plan.Mark):
                c.add(ind, f"{self.fresh(op.var, 'o')} = r.pos")
            elif isinstance(op, plan.ReadInt):
                read = f"r.varint({self.name(op.end)})"
                if op.width != "varint":
                    read = f"r.uint({INT_SIZE[op.width]}, {self.name(op.end)})"
                t = self.types.get(op.var)
                if op.var not in self.names and op.var not in self.types:
                    self.fresh(op.var, "n")  # a length or count
                target = self.name(op.var)
                if t is not None and t.codes is not None:
                    raw = raw_of[op.var] = c.fresh("c")
                    last = _last_check(ops, i, op.var)
                    members = self.p.code_table(t.codes, "MEMBERS")
                    closed = t.codes in self.p.closed_code_sets
                    after[last] = (
                        f"{target} = {members}[{raw}]" if closed else f"{target} = {members}.get({raw}, {raw})"
                    )
                    target = raw
                c.add(ind, f"{target} = {read}")
            elif isinstance(op, plan.Check):
                self.check(ind, op, raw_of.get(op.var, self.name(op.var)), True)
            elif isinstance(op, plan.Limit):
                n = self.operand(op.subject)
                self.fail(ind, f"{n} > {op.limit}", f'f"{op.where}: {{{n}}} {op.unit}, at most {op.limit}"', op.reason)
            elif isinstance(op, (plan.ReadBytes, plan.ReadFixed)):
                target, start = self.name(op.var), self.names[op.var + "@start"]
                raw = target + "_raw" if op.utf8 else target
                if isinstance(op, plan.ReadFixed):
                    c.add(ind, f"{raw} = r.fixed({op.size}, {self.name(op.end)})")
                else:
                    c.add(ind, f"{raw} = r.raw({self.operand(op.length)}, {self.name(op.end)})")
                if op.utf8:
                    self.strings.add(op.var)
                    if isinstance(op, plan.ReadBytes):
                        c.add(ind, f"{start} = r.pos - len({raw})")
                    c.add(ind, f"{target} = r.text({raw}, {start})")
            elif isinstance(op, plan.OpenFrame):
                if op.var not in self.names:
                    self.fresh(op.var, "e")
                e, end = self.name(op.var), self.name(op.end)
                if isinstance(op.length, plan.Remaining):
                    c.add(ind, f"{e} = {end}")
                else:
                    c.add(ind, f'{e} = r.sub_end({self.operand(op.length)}, {end}, "{op.where}")')
            elif isinstance(op, plan.ExpectEnd):
                e = self.name(op.end)
                self.fail(ind, f"r.pos != {e}", f'f"{op.where}: {{{e} - r.pos}} byte(s) left"', op.reason)
            elif isinstance(op, plan.DecodeStruct):
                cls = self.p.cls(op.struct)
                c.add(ind, f"{self.name(op.var)} = {cls}._decode_from(r, {self.name(op.end)}{self.args(op.args)})")
            elif isinstance(op, plan.NewList):
                self.types[op.var] = op.type
                assert op.type.element is not None
                c.add(ind, f"{self.name(op.var)}: list[{self.py_type(op.type.element)}] = []")
            elif isinstance(op, plan.MinCount):
                n = self.operand(op.subject)
                msg = f'f"{op.where}: {{{n}}} elements, at least {op.min}"'
                self.fail(ind, f"{n} < {op.min}", msg, op.reason, self.name(str(op.at)))
            elif isinstance(op, plan.Need):
                n = self.operand(op.count)
                c.add(ind, f'r.need({n} * {op.min_bytes}, {self.name(op.end)}, "{op.where}")')
            elif isinstance(op, plan.Room):
                lst = self.name(op.list)
                self.fail(ind, f"len({lst}) >= {op.max}", f'"{op.where}: more than {op.max} elements"', op.reason)
            elif isinstance(op, (plan.Repeat, plan.UntilEnd)):
                item, lst = loop_item(op.body)[0], next(a.list for a in op.body if isinstance(a, plan.Append))
                element = self.types[lst].element
                assert element is not None
                self.types[item] = element
                if item not in self.names:
                    self.fresh(item, "x")
                if isinstance(op, plan.Repeat):
                    c.add(ind, f"for _ in range({self.operand(op.count)}):")
                else:
                    c.add(ind, f"while r.pos < {self.name(op.end)}:")
                self.decode_ops(ind + 1, op.body)
            elif isinstance(op, plan.Append):
                c.add(ind, f"{self.name(op.list)}.append({self.name(op.item)})")
            elif isinstance(op, plan.Optional):
                v = self.name(op.var)
                c.add(ind, f"{v}: {self.py_type(self.types[op.var])} | None = None")
                c.add(ind, f"if {self.cond(op.cond)}:")
                self.types[op.item] = self.types[op.var]
                tmp = self.fresh(op.item, "t")
                self.decode_ops(ind + 1, op.body)
                c.add(ind + 1, f"{v} = {tmp}")
            elif isinstance(op, plan.Variant):
                self.variant(ind, op, True)
            else:
                raise WireGenError(f"{self.s['name']}: {op.op} is not a decode op")
            if i in after:
                c.add(ind, after[i])

    def decode_body(self) -> list[str]:
        self.c, self.names, self.strings = _Code(), {}, set()
        self.types = {f.var: f.type for f in self.plan.fields}
        self.decode_ops(0, self.plan.decode)
        if not self.plan.fields:
            self.c.add(0, "return cls()")
            return self.c.lines
        self.c.add(0, "return cls(")
        for f in self.plan.fields:
            if f.measures is None:
                self.c.add(1, f"{self.attrs[f.name]}={self.name(f.var)},")
        self.c.add(0, ")")
        return self.c.lines

    # ---- encode ----
    def write_length(self, ind: int, op: plan.WriteLength) -> None:
        n, out = self.operand(op.subject), self.name(op.out)
        if op.kind == "varint":
            self.c.add(ind, f"write_varint({out}, {n})")
        elif op.kind == "field" and op.field is not None and op.field.field not in self.derived:
            # a derived length field was computed from this very value
            self.fail(
                ind, f"{n} != {self.operand(op.field)}", f'"{op.where}: its length does not match {op.field.field}"'
            )
        elif op.kind == "fixed":
            self.fail(ind, f"{n} != {op.size}", f'f"{op.where}: length {{{n}}} is not {op.size}"')

    def encode_ops(self, ind: int, ops: tuple[plan.Op, ...]) -> None:
        c = self.c
        for op in ops:
            if isinstance(op, plan.Begin):
                pass
            elif isinstance(op, plan.Check):
                self.check(ind, op, self.name(op.var), False)
            elif isinstance(op, plan.WriteInt):
                v, out = self.name(op.value), self.name(op.out)
                if op.width == "varint":
                    c.add(ind, f"write_varint({out}, {v})")
                else:
                    c.add(ind, f"write_uint({out}, {v}, {INT_SIZE[op.width]})")
            elif isinstance(op, plan.AsBytes):
                if op.utf8:
                    c.add(ind, f'{self.fresh(op.var, "b")} = utf8({self.name(op.value)}, "{op.where}")')
                else:
                    self.names[op.var] = self.name(op.value)
            elif isinstance(op, plan.Limit):
                n = self.operand(op.subject)
                self.fail(ind, f"{n} > {op.limit}", f'f"{op.where}: {{{n}}} {op.unit}, at most {op.limit}"')
            elif isinstance(op, plan.MinCount):
                n = self.operand(op.subject)
                self.fail(ind, f"{n} < {op.min}", f'f"{op.where}: {{{n}}} elements, at least {op.min}"')
            elif isinstance(op, plan.WriteLength):
                self.write_length(ind, op)
            elif isinstance(op, (plan.WriteBytes, plan.WriteBuffer)):
                value = op.value if isinstance(op, plan.WriteBytes) else op.buffer
                c.add(ind, f"{self.name(op.out)} += {self.name(value)}")
            elif isinstance(op, plan.EncodeStruct):
                c.add(ind, f"{self.name(op.value)}._encode_into({self.name(op.out)}{self.args(op.args)})")
            elif isinstance(op, plan.NewBuffer):
                c.add(ind, f"{self.fresh(op.var, 'buf')} = bytearray()")
            elif isinstance(op, plan.ForEach):
                c.add(ind, f"for {self.fresh(op.item, 'x')} in {self.name(op.list)}:")
                self.encode_ops(ind + 1, op.body)
            elif isinstance(op, plan.Optional):
                v, text = self.name(op.var), plan_cond_text(op.cond)
                self.names[op.item] = v
                c.add(ind, f"if {self.cond(op.cond)}:")
                self.fail(ind + 1, f"{v} is None", f'"{op.where} is required when {text}"')
                self.encode_ops(ind + 1, op.body)
                c.add(ind, f"elif {v} is not None:")
                c.raise_(ind + 1, "EncodeError", [f'"{op.where} must be absent unless {text}"'])
            elif isinstance(op, plan.Variant):
                self.variant(ind, op, False)
            else:
                raise WireGenError(f"{self.s['name']}: {op.op} is not an encode op")

    def encode_body(self) -> list[str]:
        self.c, self.names, self.strings = _Code(), {}, set()
        for f in self.plan.fields:
            if f.measures is None:
                self.c.add(0, f"{self.name(f.var)} = self.{self.attrs[f.name]}")
        for f in self.plan.fields:
            if f.measures is not None:
                self.c.add(0, f"{self.name(f.var)} = len({self.name('v_' + f.measures)})")
        self.encode_ops(0, self.plan.encode)
        if not self.plan.fields:
            self.c.add(0, "pass")
        return self.c.lines

    # ---- JSON (the vector value format) ----
    def to_json_expr(self, t: plan.TypeDesc, v: str, depth: int = 0) -> str:
        if t.kind == "int":
            return f"_json.num({v})"
        if t.kind in ("string", "bytes"):
            return v if t.kind == "string" else f"{v}.hex()"
        if t.kind == "struct":
            return f"{v}.to_json()"
        assert t.element is not None
        x = f"j{depth}"
        return f"[{self.to_json_expr(t.element, x, depth + 1)} for {x} in {v}]"

    def from_json_field(self, f: plan.PlanField) -> str:
        """The expression reading field `f` from `j`, a `_json.Obj`."""
        t, name = f.type, f.name
        if t.kind == "int":
            expr = f'j.integer("{name}")'
            if t.codes is not None:
                kind = "closed" if t.codes in self.p.closed_code_sets else "open"
                expr = f'j.{kind}_code("{name}", {self.p.code_table(t.codes, "MEMBERS")})'
        elif t.kind in ("bytes", "string"):
            expr = f'j.{"hexbytes" if t.kind == "bytes" else "text"}("{name}")'
        elif t.kind == "struct":
            expr = f'{self.p.cls(str(t.struct))}.from_json(j.get("{name}"))'
        else:
            assert t.element is not None
            inner = self.from_json_expr(t.element, "j0", f"{self.s['name']}.{name}[]", 1)
            expr = f'[{inner} for j0 in j.array("{name}")]'
        return expr if f.cond is None else f'None if j.absent("{name}") else {expr}'

    def from_json_expr(self, t: plan.TypeDesc, v: str, where: str, depth: int = 0) -> str:
        if t.kind == "int":
            expr = f'_json.integer({v}, "{where}")'
            if t.codes is None:
                return expr
            members = self.p.code_table(t.codes, "MEMBERS")
            if t.codes in self.p.closed_code_sets:
                return f'_json.closed_code({expr}, {members}, "{where}")'
            return f"_json.open_code({expr}, {members})"
        if t.kind in ("bytes", "string"):
            return f'_json.{"hexbytes" if t.kind == "bytes" else "text"}({v}, "{where}")'
        if t.kind == "struct":
            return f"{self.p.cls(str(t.struct))}.from_json({v})"
        assert t.element is not None
        x = f"j{depth}"
        inner = self.from_json_expr(t.element, x, where + "[]", depth + 1)
        return f'[{inner} for {x} in _json.array({v}, "{where}")]'

    def context(self) -> dict[str, Any]:
        s = self.s
        docs = {f["name"]: f["doc"] for f in s["fields"]}
        fields = [
            {
                "name": f.name,
                "attr": self.attrs[f.name],
                "type": self.field_type(f),
                "doc": docs[f.name],
                "optional": f.cond is not None,
                "default": "None" if f.cond is not None else (_hexint(f.initial) if f.initial is not None else None),
                "to_json": self.to_json_expr(f.type, f"self.{self.attrs[f.name]}"),
                "to_json_opt": self.to_json_expr(f.type, f"v_{self.attrs[f.name]}"),
                "from_json": self.from_json_field(f),
                "measures": self.attrs[f.measures] if f.measures is not None else None,
            }
            for f in self.plan.fields
        ]
        args = [
            {"name": a, "param": self.p.namer.attr_name(a.split("_")), "var": self.name("f_" + a)}
            for a in self.plan.args
        ]
        variants = None
        if self.plan.variants:
            n = len(self.plan.flags)
            variants = {
                "table": self.variants_table,
                "type": f"tuple[{', '.join(['bool'] * n)}]" if n else "tuple[()]",
                "rows": [
                    (_hexint(v.code), "(" + ", ".join(str(x) for x in v.flags) + ("," if n == 1 else "") + ")")
                    for v in self.plan.variants
                ],
                "flags": list(self.plan.flags),
            }
        return {
            **s,
            "cls": self.cls,
            "fields": fields,
            "derived": bool(self.derived),
            "request_ctor": self.p.envelope_request() if s["name"] == "Envelope" else None,
            "slots": sorted(a for n, a in self.attrs.items() if n not in self.derived),
            "args": args,
            "variants": variants,
            "whole_reason": self.plan.whole_reason,
            "decode_body": self.decode_body(),
            "encode_body": self.encode_body(),
        }


# A Python expression: a string, or a call (a tuple when the head is "" or ends in "=") and its arguments.
_Node = str | tuple[str, list["_Node"]]


def _flat(node: _Node) -> str:
    return node if isinstance(node, str) else _seq(node[1], node[0] + "(", ")", "", -LINE)


def _width(width: str) -> str:
    return "0" if width == "varint" else str(INT_SIZE[width])


class _ProtoGen(ProtocolView):
    def __init__(self, proto: m.WireProtocol, namer: PythonNamer) -> None:
        super().__init__(proto, "python")
        self.namer = namer

    def cls(self, struct_name: str) -> str:
        return self.namer.class_name(self.struct_words(struct_name))

    def code_class(self, code_set: str) -> str:
        return self.namer.class_name(self.code_words(code_set))

    def code_table(self, code_set: str, kind: str) -> str:
        """The module-level table of a code set: `NAMES` (value -> IDL name) or `MEMBERS` (value -> member)."""
        return f"_{self.namer.const_name(self.code_words(code_set))}_{kind}"

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

    def grammar(self, st: m.WireStream, sp: plan.StreamPlan, const: str) -> str:
        """The stream's state machine as a runtime `Grammar` (`_stream.py`): every limit and reason is the plan's."""
        index = {x.name: i for i, x in enumerate(sp.states)}

        def transition(t: plan.Transition) -> _Node:
            args: list[_Node] = [self.cls(t.struct), str(index[t.next])]
            if t.codes:
                args.append(("", [_hexint(c) for c in t.codes]))
            if t.args:
                args.append(("args=", [str(b.index) for b in t.args]))
            if t.binds_flags:
                attr = self.namer.attr_name(self.structs[t.struct]["fields"][0]["words"])
                table = f"_{self.namer.const_name(self.struct_words(t.struct))}_VARIANTS"
                args.append(f'variants=({table}, "{attr}")')
            return ("Transition", args)

        def state(x: plan.StreamState) -> _Node:
            # what the runtime's parsers take: a framed stream is one state, each frame back to it
            framed = sp.kind == "framed"
            if not x.transitions or (x.frame is not None) != framed or (framed and len(sp.states) > 1):
                raise self.fail(f"stream {st['name']}: state {x.name} is not one the runtime parsers take")
            args: list[_Node] = [("", [transition(t) for t in x.transitions])]
            if x.frame is not None:
                f = x.frame
                fields = [f"type={_width(f.type)}", f"length={_width(f.length)}", f"max_length={const}_MAX_LENGTH"]
                reasons = ("unknown_reason", "too_large_reason", "past_end_reason", "trailing_reason")
                fields += [f'{k}="{getattr(f, k)}"' for k in reasons]
                args.append(("frame=Frame", list[_Node](fields)))
            if x.peek is not None:
                args.append(f"peek={_width(x.peek)}")
            args += [f'at_end="{x.at_end}"', f'unknown_reason="{x.unknown_reason}"']
            return ("State", args)

        states = [state(x) for x in sp.states]
        noun = "object" if sp.kind == "header_objects" else "message"
        reasons = [f'empty_reason="{sp.empty_item_reason}"', f'buffer_reason="{sp.buffer_reason}"']
        head = f"_{const}: Final = Grammar"
        return head + _seq([f'"{st["name"]}"', f'"{noun}"', ("", states), *reasons], "(", ")", "", len(head))

    def stream_context(self, st: m.WireStream, sp: plan.StreamPlan) -> dict[str, Any]:
        """A stream's table and wrappers (its parser is the runtime's, `_stream.py`)."""
        first = sp.states[0]
        const = self.namer.const_name(st["words"])
        classes = list(dict.fromkeys(self.cls(t.struct) for t in first.transitions))
        ctx: dict[str, Any] = {
            **st,
            "kind": sp.kind,
            "attr": self.namer.attr_name(st["words"]),
            "parser": self.namer.class_name([*st["words"], "parser"]),
            "const": const,
            "message": classes[0],
            "item": classes[0],
            "grammar": self.grammar(st, sp, const) if sp.kind != "datagram" else None,
        }
        if sp.kind == "framed" and first.frame is not None:
            alias = self.namer.class_name([*st["words"], "message"])
            ctx.update(alias=alias, classes=classes, max=first.frame.max_length, item=f"tuple[int, {alias}]")
        elif sp.kind == "header_objects":
            objects = [self.cls(self.state(sp, t.next).transitions[0].struct) for t in first.transitions]
            ctx.update(
                headers=classes,
                objects=list(dict.fromkeys(objects)),
                header_alias=self.namer.class_name([*st["words"], "header"]),
                object_alias=self.namer.class_name([*st["words"], "object"]),
                item=self.namer.class_name([*st["words"], "item"]),
            )
        return ctx

    def context(self) -> dict[str, Any]:
        p = self.proto
        structs = [_StructGen(self, s).context() for s in p["structs"]]
        streams = [self.stream_context(st, self.stream_plans[st["name"]]) for st in p["streams"]]
        code = "\n".join(line for s in structs for line in [*s["decode_body"], *s["encode_body"]])
        runtime = ["Reader", "Struct"]
        runtime += [n for n in ("utf8", "write_uint", "write_varint") if n + "(" in code]
        kinds = {st["kind"] for st in streams}
        typing = ["Any", "Final"] + (["TypeAlias"] if kinds & {"framed", "header_objects"} else [])
        return {
            "uses_sequence": "header_objects" in kinds,
            "stream_imports": ", ".join(
                (["Frame", "FramedParser"] if "framed" in kinds else [])
                + ["Grammar"] * bool(kinds - {"datagram"})
                + ["Parser"] * bool(kinds & {"sequence", "header_objects"})
                + ["State", "Transition"] * bool(kinds - {"datagram"})
            ),
            "typing_imports": ", ".join(typing),
            "runtime_imports": ", ".join(sorted(runtime)),
            **p,
            "module": self.namer.attr_name(p["words"]),
            "max_buffer": shift_literal(self.plan.max_buffer),
            "code_sets": [
                {
                    **c,
                    "cls": self.namer.class_name(c["words"]),
                    "closed": c["name"] in self.closed_code_sets,
                    "names_table": self.code_table(c["name"], "NAMES"),
                    "members_table": self.code_table(c["name"], "MEMBERS"),
                    "names": [f"{_hexint(v['value'])}: {json.dumps(v['name'])}" for v in c["values"]],
                    "consts": [
                        {**v, "const": self.namer.const_name(v["words"]), "value": _hexint(v["value"])}
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
    if used + len(one) <= LINE:
        return one
    return "(\n" + "".join(f"    {'| ' if i else ''}{c}\n" for i, c in enumerate(classes)) + ")"


def _kwarg(text: str, indent: int) -> str:
    """`name=expr`, parenthesized over three lines when it would not fit; a conditional
    expression that still does not fit goes one part per line (as ruff format does)."""
    if indent + len(text) + 1 <= LINE:
        return text
    name, expr = text.split("=", 1)
    pad = " " * indent
    inner = pad + "    "
    if len(inner) + len(expr) > LINE and expr.startswith("None if ") and " else " in expr:
        # from_json_field's only conditional: `None if j.absent("f") else <expr>`.
        cond, rest = expr.removeprefix("None ").split(" else ", 1)
        return f"{name}=(\n{inner}None\n{inner}{cond}\n{inner}else {rest}\n{pad})"
    return f"{name}=(\n{inner}{expr}\n{pad})"


def _seq(items: list[_Node], opener: str, closer: str, indent: str, used: int) -> str:
    """`(a, b)` on one line if it fits after `used` characters, else one item per line (a call
    among them laid out likewise, as ruff format does; `used` < 0: always one line)."""
    one_tuple = len(items) == 1 and (opener == "(" or opener.endswith("=("))
    one = opener + ", ".join(_flat(x) for x in items) + ("," if one_tuple else "") + closer
    if used < 0 or used + len(one) <= LINE:
        return one
    pad = indent + "    "
    lines = (x if isinstance(x, str) else _seq(x[1], x[0] + "(", ")", pad, len(pad)) for x in items)
    return opener + "\n" + "".join(f"{pad}{x},\n" for x in lines) + indent + closer


def _env() -> jinja2.Environment:
    return template_env(_TEMPLATES, {"doc": _doc_lines, "union": _union, "seq": _seq, "kwarg": _kwarg})


def generate_wire(ir: m.IR, namer: PythonNamer | None = None) -> list[GeneratedFile]:
    """The `clutchcall/wire/` package: runtime modules plus one codec module per protocol."""
    namer = namer or PythonNamer()
    env = _env()
    header = "\n".join("# " + line for line in header_lines(ir))
    protocols = [_ProtoGen(p, namer).context() for p in ir["wire"]]
    files = [
        GeneratedFile(
            "clutchcall/wire/__init__.py", env.get_template("__init__.py.j2").render(header=header, protocols=protocols)
        ),
        GeneratedFile("clutchcall/wire/_quic.py", env.get_template("_quic.py.j2").render(header=header)),
        *(
            GeneratedFile(f"clutchcall/wire/{name}.py", env.get_template(f"{name}.py.j2").render(header=header))
            for name in ("_json", "_stream")
        ),
    ]
    module = env.get_template("module.py.j2")
    for p in protocols:
        files.append(GeneratedFile(f"clutchcall/wire/{p['module']}.py", module.render(header=header, p=p)))
    return files
