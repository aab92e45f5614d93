"""The codec plan (ir/plan.py) -> `src/wire/<protocol>.rs`: structs, code sets and stream parsers.

A renderer: each op of a struct's plan becomes its few lines of straight-line Rust, and each
stream's state machine its incremental parser, so nothing interprets the plan at run time. The
order of reads and checks, the reasons, the limits and the stream grammar all come from the
plan; only the spelling (and which errors carry an offset) is decided here.
"""

from __future__ import annotations

import re

from ...ir import model as m
from ...ir import plan
from ...ir.wire import code_sets_by_name, structs_by_name
from ..common import INT_SIZE, WireGenError, plan_cond_text
from .namer import RustNamer
from .text import Lines, rust_str


def _h(n: int) -> str:
    return hex(n) if n > 9 else str(n)


def _patterns(values: list[int]) -> list[str]:
    """Match alternatives for `values`, runs of three or more as ranges (clippy's
    manual_range_patterns)."""
    out: list[str] = []
    vs = sorted(set(values))
    i = 0
    while i < len(vs):
        j = i
        while j + 1 < len(vs) and vs[j + 1] == vs[j] + 1:
            j += 1
        if j - i >= 2:
            out.append(f"{_h(vs[i])}..={_h(vs[j])}")
        else:
            out.extend(_h(x) for x in vs[i : j + 1])
        i = j + 1
    return out


def _power(n: int) -> str:
    return f"1 << {n.bit_length() - 1}" if n > 0 and n & (n - 1) == 0 else str(n)


def _bool(b: bool) -> str:
    return "true" if b else "false"


def _enc_err(msg: str) -> str:
    return f"return Err(EncodeError::new({rust_str(msg)}));"


def _reason(reason: str) -> str:
    return "R::" + "".join(w.capitalize() for w in reason.split("_"))


def _err(reason: str, msg: str) -> str:
    return f"return Err(err({_reason(reason)}, {rust_str(msg)}));"


class _Struct:
    """Renders one struct's plan (`ir.plan.StructPlan`) as Rust: every op is spelled as it comes."""

    def __init__(self, p: _Proto, s: m.WireStruct) -> None:
        self.p = p
        self.s = s
        self.n = p.n
        self.plan = p.struct_plans[s["name"]]
        self.cls = p.cls(s["name"])
        self.attrs = {f["name"]: self.n.field_name(f["words"]) for f in s["fields"]}
        self.marks: set[str] = set()

    def rtype(self, t: plan.TypeDesc) -> str:
        if t.kind == "int":
            return "u64"
        if t.kind == "bytes":
            return "Vec<u8>"
        if t.kind == "string":
            return "String"
        if t.kind == "list":
            assert t.element is not None
            return f"Vec<{self.rtype(t.element)}>"
        return self.p.cls(str(t.struct))

    def cond(self, c: plan.Cond) -> str:
        if isinstance(c, plan.FlagIs):
            return f"f_{c.flag}" if c.value else f"!f_{c.flag}"
        v = "v_" + c.field
        if c.test in ("eq", "ne"):
            rhs = f"Some({_h(c.values[0])})" if c.optional else _h(c.values[0])
            if c.optional and c.test == "ne":  # an absent field fails every test
                return f"{v}.is_some_and(|x| x != {_h(c.values[0])})"
            return f"{v} {'==' if c.test == 'eq' else '!='} {rhs}"
        if c.test in ("in", "not_in"):
            alts = " | ".join(_patterns(list(c.values)))
            test = f"matches!({v}, {f'Some({alts})' if c.optional else alts})"
            if c.test == "not_in" and c.optional:
                return f"{v}.is_some_and(|x| !matches!(x, {alts}))"
            return test if c.test == "in" else f"!{test}"
        rem = "0" if c.test == "even" else "1"
        return f"{v}.is_some_and(|x| x & 1 == {rem})" if c.optional else f"{v} & 1 == {rem}"

    def operand(self, o: plan.Operand) -> str:
        if isinstance(o, plan.Var):
            return o.name
        if isinstance(o, plan.FieldValue):
            return f"v_{o.field}.unwrap_or(0)" if o.optional else f"v_{o.field}"
        if isinstance(o, plan.Const):
            return str(o.value)
        if isinstance(o, plan.Remaining):
            return f"({o.end} - r.pos) as u64"
        return f"{o.name}.len()"

    @staticmethod
    def out(name: str) -> str:
        return name if name == "out" else f"&mut {name}"

    def args(self, args: tuple[str, ...]) -> str:
        return "".join(", " + a for a in args)

    def check(self, c: Lines, op: plan.Check, encode: bool) -> None:
        v = op.var
        if op.test == "const":
            cond, msg = f"{v} != {_h(op.bound or 0)}", f"not the constant {_h(op.bound or 0)}"
        elif op.test == "codes":
            cond, msg = f"{self.p.code_class(str(op.codes))}::name_of({v}).is_none()", f"not a {op.codes} code"
        elif op.test == "min":
            cond, msg = f"{v} < {_h(op.bound or 0)}", f"below {op.bound}"
        elif op.test == "max":
            cond, msg = f"{v} > {_h(op.bound or 0)}", f"above {op.bound}"
        else:
            cond, msg = f"{v} & !{_h(op.bound or 0)} != 0", f"bits outside {_h(op.bound or 0)}"
        c.open(f"if {cond} {{")
        text = rust_str(f"{op.where}: {msg}")
        if encode:
            c(f"return Err(EncodeError::new({text}));")
        else:
            c(f"return Err(r.fail_value({op.at}, {_reason(op.reason)}, {text}, {v}));")
        c.close()

    def min_count(self, c: Lines, op: plan.MinCount, encode: bool) -> None:
        n = self.operand(op.subject)
        empty = op.min == 1 and isinstance(op.subject, plan.LenOf)
        c.open(f"if {op.subject.name}.is_empty() {{" if empty else f"if {n} < {op.min} {{")  # type: ignore[union-attr]
        if encode:
            c(f"return Err(EncodeError::new({rust_str(op.where + ': too few elements')}));")
        else:
            c(_err(op.reason, f"{op.where}: fewer than {op.min} elements"))
        c.close()

    def variant(self, c: Lines, op: plan.Variant, encode: bool) -> None:
        if op.flags:
            c.open(f"let Some(flags) = {self.cls}::variant_flags({op.var}) else {{")
        else:
            c.open(f"if {self.cls}::variant_flags({op.var}).is_none() {{")
        if encode:
            c(f"return Err(EncodeError::new({rust_str(op.struct + ': unknown type code')}));")
        else:
            c(_err(op.reason, f"{op.struct}: unknown type code"))
        c.close("};" if op.flags else "}")
        for f in op.flags:
            if f.used:
                c(f"let {f.var} = flags[{f.index}];")

    def decode_ops(self, c: Lines, ops: tuple[plan.Op, ...]) -> None:
        for op in ops:
            if isinstance(op, plan.Begin):
                continue
            if isinstance(op, plan.Mark):
                if op.var in self.marks:  # Rust reports offsets only for integer checks
                    c(f"let {op.var} = r.pos;")
            elif isinstance(op, plan.ReadInt):
                read = f"r.varint({op.end})?" if op.width == "varint" else f"r.uint({INT_SIZE[op.width]}, {op.end})?"
                c(f"let {op.var} = {read};")
            elif isinstance(op, plan.Check):
                self.check(c, op, False)
            elif isinstance(op, plan.Limit):
                n = self.operand(op.subject)
                value = f"{n} as u64" if isinstance(op.subject, plan.LenOf) else n
                c.open(f"if {n} > {op.limit} {{")
                msg = rust_str(f"{op.where}: more than {op.limit} {op.unit}")
                c(f"return Err(r.fail_value(r.pos, {_reason(op.reason)}, {msg}, {value}));")
                c.close()
            elif isinstance(op, (plan.ReadBytes, plan.ReadFixed)):
                if isinstance(op, plan.ReadFixed):
                    raw = f"r.fixed({op.size}, {op.end})?"
                else:
                    raw = f"r.raw({self.operand(op.length)}, {op.end})?"
                c(f"let {op.var} = utf8({raw})?;" if op.utf8 else f"let {op.var} = {raw}.to_vec();")
            elif isinstance(op, plan.OpenFrame):
                if isinstance(op.length, plan.Remaining):
                    c(f"let {op.var} = {op.end};")
                else:
                    c(f"let {op.var} = r.sub_end({self.operand(op.length)}, {op.end})?;")
            elif isinstance(op, plan.ExpectEnd):
                c.open(f"if r.pos != {op.end} {{")
                msg = rust_str(op.where + ": bytes left in its frame")
                c(f"return Err(r.fail_at(r.pos, {_reason(op.reason)}, {msg}));")
                c.close()
            elif isinstance(op, plan.DecodeStruct):
                c(f"let {op.var} = {self.p.cls(op.struct)}::decode_from(r, {op.end}{self.args(op.args)})?;")
            elif isinstance(op, plan.NewList):
                c(f"let mut {op.var}: {self.rtype(op.type)} = Vec::new();")
            elif isinstance(op, plan.MinCount):
                self.min_count(c, op, False)
            elif isinstance(op, plan.Need):
                n = self.operand(op.count)
                c(f"r.need({n}.saturating_mul({op.min_bytes}), {op.end}, {rust_str(op.where)})?;")
            elif isinstance(op, plan.Room):
                c.open(f"if {op.list}.len() >= {op.max} {{")
                c(_err(op.reason, f"{op.where}: more than {op.max} elements"))
                c.close()
            elif isinstance(op, plan.Repeat):
                c.open(f"for _ in 0..{self.operand(op.count)} {{")
                self.decode_ops(c, op.body)
                c.close()
            elif isinstance(op, plan.UntilEnd):
                c.open(f"while r.pos < {op.end} {{")
                self.decode_ops(c, op.body)
                c.close()
            elif isinstance(op, plan.Append):
                c(f"{op.list}.push({op.item});")
            elif isinstance(op, plan.Optional):
                c(f"let mut {op.var} = None;")
                c.open(f"if {self.cond(op.cond)} {{")
                self.decode_ops(c, op.body)
                c(f"{op.var} = Some({op.item});")
                c.close()
            elif isinstance(op, plan.Variant):
                self.variant(c, op, False)
            else:
                raise WireGenError(f"{self.s['name']}: {op.op} is not a decode op")

    def encode_ops(self, c: Lines, ops: tuple[plan.Op, ...]) -> None:
        for op in ops:
            if isinstance(op, plan.Begin):
                continue
            if isinstance(op, plan.Check):
                self.check(c, op, True)
            elif isinstance(op, plan.WriteInt):
                out = self.out(op.out)
                if op.width == "varint":
                    c(f"write_varint({out}, {op.value})?;")
                else:
                    c(f"write_uint({out}, {op.value}, {INT_SIZE[op.width]})?;")
            elif isinstance(op, plan.AsBytes):
                c(f"let {op.var} = {op.value}.as_bytes();" if op.utf8 else f"let {op.var}: &[u8] = {op.value};")
            elif isinstance(op, plan.Limit):
                c.open(f"if {self.operand(op.subject)} > {op.limit} {{")
                c(f"return Err(EncodeError::new({rust_str(op.where + f': over the limit of {op.limit}')}));")
                c.close()
            elif isinstance(op, plan.MinCount):
                self.min_count(c, op, True)
            elif isinstance(op, plan.WriteLength):
                n = self.operand(op.subject)
                if op.kind == "varint":
                    c(f"write_varint({self.out(op.out)}, {n} as u64)?;")
                elif op.kind == "field" and op.field is not None:
                    c.open(f"if {n} as u64 != {self.operand(op.field)} {{")
                    c(_enc_err(op.where + ": length does not match " + op.field.field))
                    c.close()
                elif op.kind == "fixed":
                    c.open(f"if {n} != {op.size} {{")
                    c(f"return Err(EncodeError::new({rust_str(op.where + ': wrong fixed length')}));")
                    c.close()
            elif isinstance(op, plan.WriteBytes):
                c(f"{self.out(op.out)}.extend_from_slice({op.value});")
            elif isinstance(op, plan.EncodeStruct):
                c(f"{op.value}.encode_into({self.out(op.out)}{self.args(op.args)})?;")
            elif isinstance(op, plan.NewBuffer):
                typed = "" if op.holds == "struct" else ": Vec<u8>"
                c(f"let mut {op.var}{typed} = Vec::new();")
            elif isinstance(op, plan.WriteBuffer):
                c(f"{self.out(op.out)}.extend_from_slice(&{op.buffer});")
            elif isinstance(op, plan.ForEach):
                c.open(f"for {'&' if op.item_is_int else ''}{op.item} in {op.list} {{")
                self.encode_ops(c, op.body)
                c.close()
            elif isinstance(op, plan.Optional):
                c.open(f"if {self.cond(op.cond)} {{")
                c.open(f"let Some({op.item}) = {op.var} else {{")
                c(_enc_err(op.where + " is required when " + plan_cond_text(op.cond)))
                c.close("};")
                self.encode_ops(c, op.body)
                c.close()
                c.open(f"else if {op.var}.is_some() {{")
                c(_enc_err(op.where + " must be absent unless " + plan_cond_text(op.cond)))
                c.close()
            elif isinstance(op, plan.Variant):
                self.variant(c, op, True)
            else:
                raise WireGenError(f"{self.s['name']}: {op.op} is not an encode op")

    def decode_fn(self, c: Lines) -> None:
        params = "".join(f", f_{a}: bool" for a in self.plan.args)
        c.open(f"pub(crate) fn decode_from(r: &mut Reader<'_>, end: usize{params}) -> Result<Self, DecodeError> {{")
        self.marks = {at for op in plan.walk(self.plan.decode) if isinstance(op, plan.Check) and (at := op.at)}
        self.decode_ops(c, self.plan.decode)
        if not self.plan.fields:
            c("let _ = (r, end);")
        c.struct_lit("Ok(", self.cls, [(self.attrs[f.name], f.var) for f in self.plan.fields], ")")
        c.close()

    def encode_fn(self, c: Lines) -> None:
        params = "".join(f", f_{a}: bool" for a in self.plan.args)
        c.open(f"pub(crate) fn encode_into(&self, out: &mut Vec<u8>{params}) -> Result<(), EncodeError> {{")
        for f in self.plan.fields:
            c(f"let {f.var} = {'' if f.type.kind == 'int' else '&'}self.{self.attrs[f.name]};")
        self.encode_ops(c, self.plan.encode)
        if not self.plan.fields:
            c("let _ = out;")
        c("Ok(())")
        c.close()

    # ---- JSON ----
    def json_kind(self, t: m.WireType) -> str:
        """Which `ObjOut`/`Obj` method carries a field of type `t`: lists of any
        `JsonField` element go through `list`, everything else through `put`/`req`."""
        if t["type"] != "list":
            return "one"
        assert t["element"] is not None
        if t["element"]["type"] == "list":
            raise WireGenError(f"{self.s['name']}: the rust target has no JSON mapping for lists of lists")
        return "list"

    def json_fns(self, c: Lines) -> None:
        s = self.s
        c.doc("This value in the vector value format (absent conditional fields are left out).")
        c.open("pub fn to_json(&self) -> Value {")
        c(f"let mut m = ObjOut::with_capacity({len(s['fields'])});")
        for f in s["fields"]:
            a = self.attrs[f["name"]]
            put = "list" if self.json_kind(f["type"]) == "list" else "put"
            key = rust_str(f["name"])
            if f["when"] is None:
                c(f"m.{put}({key}, &self.{a});")
            else:
                c.open(f"if let Some(v) = &self.{a} {{")
                c(f"m.{put}({key}, v);")
                c.close()
        c("m.done()")
        c.close()
        c()
        c.doc("Parse the vector value format; `invalid_json` if `value` does not match.")
        c.open("pub fn from_json(value: &Value) -> Result<Self, DecodeError> {")
        c(f"let j = Obj::new(value, {rust_str(s['name'])})?;")
        for f in s["fields"]:
            kind = self.json_kind(f["type"])
            get = {("one", True): "req", ("list", True): "list", ("one", False): "opt", ("list", False): "opt_list"}[
                (kind, f["when"] is None)
            ]
            c(f"let v_{f['name']} = j.{get}({rust_str(f['name'])})?;")
        c("j.end()?;")
        c.struct_lit("Ok(", self.cls, [(self.attrs[f["name"]], "v_" + f["name"]) for f in s["fields"]], ")")
        c.close()

    def emit(self, c: Lines) -> None:
        s = self.s
        c()
        c.doc(s["doc"] or s["name"])
        if s["args"]:
            c("///")
            c.doc(f"Args (passed in by the stream): {', '.join(s['args'])}.")
        consts = {f.name: f.initial for f in self.plan.fields if f.initial is not None}
        c(f"#[derive(Clone, Debug, {'' if consts else 'Default, '}PartialEq, Eq)]")
        c.open(f"pub struct {self.cls} {{")
        for f, pf in zip(s["fields"], self.plan.fields, strict=True):
            c.doc((f["doc"] or f["name"]) + (" Present only when " + plan_cond_text(pf.cond) + "." if pf.cond else ""))
            t = self.rtype(pf.type)
            c(f"pub {self.attrs[f['name']]}: {f'Option<{t}>' if pf.cond is not None else t},")
        c.close()
        if consts:
            # A derived default would hold 0 in a constant field and fail to encode.
            c()
            c.open(f"impl Default for {self.cls} {{")
            c("/// Every field at its zero value, but constant fields at their constant.")
            c.open("fn default() -> Self {")
            c.open(f"{self.cls} {{")
            for f in s["fields"]:
                name = self.attrs[f["name"]]
                c(f"{name}: {consts[f['name']]}," if f["name"] in consts else f"{name}: Default::default(),")
            c.close()
            c.close()
            c.close()
        c()
        c.open(f"impl {self.cls} {{")
        if self.plan.variants:
            flags = self.plan.flags
            c.doc(f"The flags ({', '.join(flags) or 'none'}) of a type code; `None` for an unknown code.")
            c.open(f"pub fn variant_flags(code: u64) -> Option<[bool; {len(flags)}]> {{")
            c.open("match code {")
            for v in self.plan.variants:
                c(f"{_h(v.code)} => Some([{', '.join(_bool(x) for x in v.flags)}]),")
            c("_ => None,")
            c.close()
            c.close()
            c()
        args_sig = "".join(f", {a}: bool" for a in s["args"])
        args_call = "".join(f", {a}" for a in s["args"])
        c.doc(f"Decode all of `data`; an error if it is not exactly one {s['name']}.")
        c.open(f"pub fn decode(data: &[u8]{args_sig}) -> Result<Self, DecodeError> {{")
        c("let mut r = Reader::new(data, false);")
        c(f"let v = Self::decode_from(&mut r, data.len(){args_call})?;")
        c.open("if r.pos != data.len() {")
        c(_err(self.plan.whole_reason, f"bytes left after {s['name']}"))
        c.close()
        c("Ok(v)")
        c.close()
        c()
        c.doc("The wire bytes; an error if a field breaks its declaration.")
        c.open(f"pub fn encode(&self{args_sig}) -> Result<Vec<u8>, EncodeError> {{")
        c("let mut out = Vec::new();")
        c(f"self.encode_into(&mut out{args_call})?;")
        c("Ok(out)")
        c.close()
        c()
        self.decode_fn(c)
        c()
        self.encode_fn(c)
        c()
        self.json_fns(c)
        c.close()
        c()
        c.open(f"impl WireArgs for {self.cls} {{")
        c(f"const ARGS: &'static [&'static str] = &[{', '.join(rust_str(a) for a in s['args'])}];")
        c()
        c.open("fn decode_args(data: &[u8], args: &[bool]) -> Result<Self, DecodeError> {")
        if s["args"]:
            c(f"Self::decode(data{''.join(f', arg(args, {i})' for i in range(len(s['args'])))})")
        else:
            c("let _ = args;")
            c("Self::decode(data)")
        c.close()
        c()
        c.open("fn encode_args(&self, args: &[bool]) -> Result<Vec<u8>, EncodeError> {")
        if s["args"]:
            c(f"self.encode({', '.join(f'arg(args, {i})' for i in range(len(s['args'])))})")
        else:
            c("let _ = args;")
            c("self.encode()")
        c.close()
        c.close()
        c()
        c.open(f"impl WireStruct for {self.cls} {{")
        c(f"const NAME: &'static str = {rust_str(s['name'])};")
        c()
        c.open("fn to_json_value(&self) -> Value {")
        c("self.to_json()")
        c.close()
        c()
        c.open("fn from_json_value(value: &Value) -> Result<Self, DecodeError> {")
        c("Self::from_json(value)")
        c.close()
        c.close()
        c()
        c.open(f"impl JsonField for {self.cls} {{")
        c.open("fn to_field(&self) -> Value {")
        c("self.to_json()")
        c.close()
        c()
        c.open("fn from_field(v: &Value, _where: &str) -> Result<Self, DecodeError> {")
        c("Self::from_json(v)")
        c.close()
        c.close()


class _Proto:
    def __init__(self, ir: m.IR, proto: m.WireProtocol, namer: RustNamer) -> None:
        self.ir = ir
        self.proto = proto
        self.n = namer
        self.structs = structs_by_name(proto)
        self.code_sets = code_sets_by_name(proto)
        self.plan = plan.lower_protocol(proto)
        self.struct_plans = {x.name: x for x in self.plan.structs}
        self.stream_plans = {x.name: x for x in self.plan.streams}

    def cls(self, struct_name: str) -> str:
        return self.n.type_name(self.structs[struct_name]["words"])

    def code_class(self, code_set: str) -> str:
        if code_set not in self.code_sets:
            raise WireGenError(f"{self.proto['name']}: unknown code set {code_set!r}")
        return self.n.type_name(self.code_sets[code_set]["words"])

    def read_int(self, kind: str, end: str) -> str:
        return f"r.varint({end})" if kind == "varint" else f"r.uint({INT_SIZE[kind]}, {end})"

    def module(self) -> str:
        p = self.proto
        c = Lines()
        c.doc("The protocol family.")
        c(f"pub const FAMILY: &str = {rust_str(p['family'])};")
        c.doc("The protocol version.")
        c(f"pub const VERSION: u64 = {p['version']:#x};")
        c.doc("The ALPN string, if the protocol has one.")
        c(f"pub const ALPN: Option<&str> = {'Some(' + rust_str(p['alpn']) + ')' if p['alpn'] else 'None'};")
        c.doc("Default bound on the bytes an incremental parser holds for one unfinished item.")
        bound = self.plan.max_buffer
        c(f"pub const DEFAULT_MAX_BUFFER: usize = {_power(bound)};")
        for cs in p["codes"]:
            cls = self.n.type_name(cs["words"])
            c()
            c.doc(cs["doc"] or cs["name"])
            c("///")
            c.doc("Closed: values outside this set are rejected." if cs["closed"] else "Open: unknown values are kept.")
            c(f"pub struct {cls};")
            c()
            c.open(f"impl {cls} {{")
            for v in cs["values"]:
                c.doc(v["doc"] or v["name"])
                c(f"pub const {self.n.const_name(v['words'])}: u64 = {_h(v['value'])};")
            c.doc("The IDL name of `value`, or `None` for a value this set does not define.")
            c.open("pub fn name_of(value: u64) -> Option<&'static str> {")
            c.open("match value {")
            for v in cs["values"]:
                c(f"{_h(v['value'])} => Some({rust_str(v['name'])}),")
            c("_ => None,")
            c.close()
            c.close()
            c.close()
        for s in p["structs"]:
            _Struct(self, s).emit(c)
        for st in p["streams"]:
            self.stream(c, st)
        self.registry(c)
        body = c.text()
        code = "\n".join(x for x in body.splitlines() if not x.lstrip().startswith("//"))
        uses = []
        for path, names in (
            ("crate::error", ["DecodeError", "DecodeErrorReason as R", "EncodeError"]),
            ("crate::json", ["Value"]),
            ("crate::wire::quic", ["utf8", "write_uint", "write_varint", "Reader"]),
            ("crate::wire::value", ["item", "item_parts", "items_of", "parse_item", "JsonField", "Obj", "ObjOut"]),
            ("crate::wire", ["arg", "err", "feed_all", "flags_of", "WireStruct"]),
            ("crate::wire::sealed", ["WireArgs"]),
        ):
            used = [x for x in names if re.search(r"\b" + x.split(" as ")[-1] + r"\b", code)]
            if used:
                inner = ", ".join(used)
                uses.append(f"use {path}::{{{inner}}};" if len(used) > 1 else f"use {path}::{inner};")
        return "\n".join(sorted(uses)) + "\n\n" + body

    # ---- streams ----
    def stream(self, c: Lines, st: m.WireStream) -> None:
        kind = st["kind"]
        sp = self.stream_plans[st["name"]]
        attr = self.n.plain(self.n.fn_name(st["words"]))
        parser = self.n.type_name([*st["words"], "parser"])
        c()
        c(f"// ---- stream `{st['name']}` ({kind}) ----")
        if kind == "datagram":
            msg = sp.states[0].transitions[0].struct
            cls = self.cls(msg)
            c()
            c.doc(st["doc"] or st["name"])
            c(f"pub fn decode_{attr}(data: &[u8]) -> Result<{cls}, DecodeError> {{")
            c(f"    {cls}::decode(data)")
            c("}")
            c()
            c.doc("The datagram carrying `msg`.")
            c(f"pub fn encode_{attr}(msg: &{cls}) -> Result<Vec<u8>, EncodeError> {{")
            c("    msg.encode()")
            c("}")
            c()
            c.open(f"fn parse_{attr}_json(data: &[u8], _chunk: usize) -> Result<Value, DecodeError> {{")
            c(f"let v = decode_{attr}(data)?;")
            c(f"Ok(Value::Array(vec![item({rust_str(msg)}, v.to_json())]))")
            c.close()
            return
        if kind == "sequence":
            msg = sp.states[0].transitions[0].struct
            cls = self.cls(msg)
            self.parser_struct(c, st, parser, "")
            c.open(f"impl {parser} {{")
            self.parser_new(c)
            c.doc("Take bytes in any chunking; return every complete message so far.")
            c.open(f"pub fn feed(&mut self, data: &[u8]) -> Result<Vec<{cls}>, DecodeError> {{")
            c("self.buf.extend_from_slice(data);")
            c("let mut out = Vec::new();")
            c("let mut pos = 0;")
            c.open("while pos < self.buf.len() {")
            c("let mut r = Reader::resume(&self.buf, pos, self.consumed, self.max_buffer);")
            c.open(f"match {cls}::decode_from(&mut r, self.buf.len()) {{")
            c("Err(e) if e.incomplete => break,")
            c("Err(e) => return Err(e),")
            c("Ok(v) => out.push(v),")
            c.close()
            c.open("if r.pos == pos {")
            c(_err(sp.empty_item_reason, f"{st['name']}: an empty message cannot advance the stream"))
            c.close()
            c("pos = r.pos;")
            c.close()
            self.parser_tail(c, st)
            c("Ok(out)")
            c.close()
            c()
            c.doc("The stream ended: an error if a message is incomplete.")
            c.open("pub fn close(&mut self) -> Result<(), DecodeError> {")
            c.open("if !self.buf.is_empty() {")
            c("let mut r = Reader::new(&self.buf, false);")
            c(f"{cls}::decode_from(&mut r, self.buf.len())?;")
            c(_err("truncated", f"{st['name']}: stream ended inside a message"))
            c.close()
            c("Ok(())")
            c.close()
            c.close()
            c()
            c.doc(f"One message of the `{st['name']}` stream.")
            c(f"pub fn encode_{attr}(msg: &{cls}) -> Result<Vec<u8>, EncodeError> {{")
            c("    msg.encode()")
            c("}")
            c()
            c.open(f"fn parse_{attr}_json(data: &[u8], chunk: usize) -> Result<Value, DecodeError> {{")
            c(f"let mut p = {parser}::new();")
            c("let items = feed_all(data, chunk, |b| p.feed(b))?;")
            c("p.close()?;")
            c(f"Ok(items_of({rust_str(msg)}, &items))")
            c.close()
            return
        if kind == "framed":
            self.framed(c, st, attr, parser)
            return
        self.header_objects(c, st, attr, parser)

    def parser_struct(self, c: Lines, st: m.WireStream, parser: str, extra: str) -> None:
        c()
        c.doc(f"Incremental parser of the `{st['name']}` stream: feed bytes in any chunking, then close.")
        c("///")
        c.doc(st["doc"] or st["name"])
        c("#[derive(Debug)]")
        c.open(f"pub struct {parser} {{")
        c("buf: Vec<u8>,")
        c("consumed: usize,")
        c("max_buffer: usize,")
        if extra:
            for line in extra.split("\n"):
                c(line)
        c.close()
        c()
        c.open(f"impl Default for {parser} {{")
        c.open("fn default() -> Self {")
        c("Self::new()")
        c.close()
        c.close()
        c()

    def parser_new(self, c: Lines, extra: str = "") -> None:
        c.doc("A parser holding at most `DEFAULT_MAX_BUFFER` bytes of one unfinished item.")
        c.open("pub fn new() -> Self {")
        c("Self::with_max_buffer(DEFAULT_MAX_BUFFER)")
        c.close()
        c()
        c.doc("A parser holding at most `max_buffer` bytes of one unfinished item.")
        c.open("pub fn with_max_buffer(max_buffer: usize) -> Self {")
        c.open("Self {")
        c("buf: Vec::new(),")
        c("consumed: 0,")
        c("max_buffer,")
        for line in extra.split("\n") if extra else []:
            c(line)
        c.close()
        c.close()
        c()

    def parser_tail(self, c: Lines, st: m.WireStream) -> None:
        c("self.buf.drain(..pos);")
        c("self.consumed += pos;")
        c.open("if self.buf.len() > self.max_buffer {")
        c(_err(self.stream_plans[st["name"]].buffer_reason, f"{st['name']}: too many bytes buffered"))
        c.close()

    def framed(self, c: Lines, st: m.WireStream, attr: str, parser: str) -> None:
        sp = self.stream_plans[st["name"]]
        state = sp.states[0]
        assert state.frame is not None
        frame = state.frame
        rows: list[tuple[int, str]] = []
        by_struct: dict[str, list[int]] = {}
        for t in state.transitions:
            for code in t.codes or ():
                rows.append((code, t.struct))
                by_struct.setdefault(t.struct, []).append(code)
        length, type_kind, limit = frame.length, frame.type, frame.max_length
        alias = self.n.type_name([*st["words"], "message"])
        const = self.n.const_name(st["words"])
        c()
        c.doc(f"A message of the `{st['name']}` stream.")
        c("#[derive(Clone, Debug, PartialEq, Eq)]")
        c.open(f"pub enum {alias} {{")
        for sname in by_struct:
            c.doc(f"A {sname}.")
            c(f"{self.cls(sname)}({self.cls(sname)}),")
        c.close()
        c()
        c.open(f"impl {alias} {{")
        c.doc("The IDL name of the message's struct.")
        c.open("pub fn struct_name(&self) -> &'static str {")
        c.open("match self {")
        for sname in by_struct:
            c(f"{alias}::{self.cls(sname)}(_) => {rust_str(sname)},")
        c.close()
        c.close()
        c()
        c.doc("The message in the vector value format.")
        c.open("pub fn to_json(&self) -> Value {")
        c.open("match self {")
        for sname in by_struct:
            c(f"{alias}::{self.cls(sname)}(m) => m.to_json(),")
        c.close()
        c.close()
        c()
        c.doc("The type codes that carry this message's struct.")
        c.open("pub fn codes(&self) -> &'static [u64] {")
        c.open("match self {")
        for sname, codes in by_struct.items():
            c(f"{alias}::{self.cls(sname)}(_) => &[{', '.join(_h(x) for x in codes)}],")
        c.close()
        c.close()
        c()
        c.open("fn encode_body(&self) -> Result<Vec<u8>, EncodeError> {")
        c.open("match self {")
        for sname in by_struct:
            c(f"{alias}::{self.cls(sname)}(m) => m.encode(),")
        c.close()
        c.close()
        c()
        c.open(f"fn decode_body(code: u64, r: &mut Reader<'_>, end: usize) -> Option<Result<{alias}, DecodeError>> {{")
        c.open("Some(match code {")
        for code, sname in rows:
            one = f"{_h(code)} => {self.cls(sname)}::decode_from(r, end).map({alias}::{self.cls(sname)}),"
            if len(one) + 4 * c.level <= 100:
                c(one)
            else:
                c.open(f"{_h(code)} => {{")
                c(f"let v = {self.cls(sname)}::decode_from(r, end);")
                c(f"v.map({alias}::{self.cls(sname)})")
                c.close()
        c("_ => return None,")
        c.close("})")
        c.close()
        c.close()
        c()
        c.doc(f"Largest body length of a `{st['name']}` message.")
        c(f"pub const {const}_MAX_LENGTH: u64 = {limit};")
        self.parser_struct(c, st, parser, "")
        c.open(f"impl {parser} {{")
        self.parser_new(c)
        c.doc("Take bytes in any chunking; return every complete (type code, message) so far.")
        c("///")
        c.doc("A whole frame is awaited before its body is decoded, so each byte is decoded once.")
        c.open(f"pub fn feed(&mut self, data: &[u8]) -> Result<Vec<(u64, {alias})>, DecodeError> {{")
        c("self.buf.extend_from_slice(data);")
        c("let mut out = Vec::new();")
        c("let mut pos = 0;")
        c.open("while pos < self.buf.len() {")
        c("let mut r = Reader::resume(&self.buf, pos, self.consumed, self.max_buffer);")
        c.open(f"let (code, length) = match read_{attr}_frame(&mut r) {{")
        c("Err(e) if e.incomplete => break,")
        c("Err(e) => return Err(e),")
        c("Ok(v) => v,")
        c.close("};")
        c.open(f"if {alias}::name_of_code(code).is_none() {{")
        c(_err(frame.unknown_reason, f"{st['name']}: unknown message type"))
        c.close()
        c.open(f"if length > {const}_MAX_LENGTH || length > self.max_buffer as u64 {{")
        c(_err(frame.too_large_reason, f"{st['name']}: a message is over the limit"))
        c.close()
        c.open("if length > (self.buf.len() - r.pos) as u64 {")
        c("break;")
        c.close()
        c("let stop = r.pos + length as usize;")
        c("let mut body = Reader::new(&self.buf[..stop], false);")
        c("body.pos = r.pos;")
        c("body.base = self.consumed;")
        c.open(f"let msg = match {alias}::decode_body(code, &mut body, stop) {{")
        c("Some(v) => v?,")
        c("None => unreachable!(),")
        c.close("};")
        c.open("if body.pos != stop {")
        c(_err(frame.trailing_reason, f"{st['name']}: bytes left in the message"))
        c.close()
        c("out.push((code, msg));")
        c("pos = stop;")
        c.close()
        self.parser_tail(c, st)
        c("Ok(out)")
        c.close()
        c()
        c.doc("The stream ended: `truncated` if a Type or Length is cut, `length_past_end` if a")
        c.doc("Length points past the end of the stream.")
        c.open("pub fn close(&mut self) -> Result<(), DecodeError> {")
        c.open("if !self.buf.is_empty() {")
        c("let mut r = Reader::new(&self.buf, false);")
        c(f"read_{attr}_frame(&mut r)?;")
        c(_err(frame.past_end_reason, f"{st['name']}: stream ended inside a message"))
        c.close()
        c("Ok(())")
        c.close()
        c.close()
        c()
        c.open(f"fn read_{attr}_frame(r: &mut Reader<'_>) -> Result<(u64, u64), DecodeError> {{")
        c("let stop = r.buf.len();")
        c(f"let code = {self.read_int(type_kind, 'stop')}?;")
        c(f"let length = {self.read_int(length, 'stop')}?;")
        c("Ok((code, length))")
        c.close()
        c()
        c.open(f"impl {alias} {{")
        c.doc("The IDL name of the struct a type code carries.")
        c.open("pub fn name_of_code(code: u64) -> Option<&'static str> {")
        c.open("match code {")
        for code, sname in rows:
            c(f"{_h(code)} => Some({rust_str(sname)}),")
        c("_ => None,")
        c.close()
        c.close()
        c.close()
        c()
        c.doc("Type, Length and body of `msg`; `code` is needed only when its struct serves")
        c.doc("several types.")
        c.open(f"pub fn encode_{attr}(msg: &{alias}, code: Option<u64>) -> Result<Vec<u8>, EncodeError> {{")
        c("let codes = msg.codes();")
        c.open("let code = match code {")
        c("Some(x) if codes.contains(&x) => x,")
        c('Some(_) => return Err(EncodeError::new("the type does not carry this struct")),')
        c("None if codes.len() == 1 => codes[0],")
        c('None => return Err(EncodeError::new("this struct serves several types")),')
        c.close("};")
        c("let body = msg.encode_body()?;")
        c.open(f"if body.len() as u64 > {const}_MAX_LENGTH {{")
        c('return Err(EncodeError::new("the body is over the limit"));')
        c.close()
        c("let mut out = Vec::with_capacity(body.len() + 4);")
        w = (
            "write_varint(&mut out, code)?;"
            if type_kind == "varint"
            else f"write_uint(&mut out, code, {INT_SIZE[type_kind]})?;"
        )
        c(w)
        lw = (
            "write_varint(&mut out, body.len() as u64)?;"
            if length == "varint"
            else f"write_uint(&mut out, body.len() as u64, {INT_SIZE[length]})?;"
        )
        c(lw)
        c("out.extend_from_slice(&body);")
        c("Ok(out)")
        c.close()
        c()
        c.open(f"fn parse_{attr}_json(data: &[u8], chunk: usize) -> Result<Value, DecodeError> {{")
        c(f"let mut p = {parser}::new();")
        c("let items = feed_all(data, chunk, |b| p.feed(b))?;")
        c("p.close()?;")
        c("let mut out = Vec::with_capacity(items.len());")
        c.open("for (_, m) in &items {")
        c("out.push(item(m.struct_name(), m.to_json()));")
        c.close()
        c("Ok(Value::Array(out))")
        c.close()
        c()
        c.open(f"fn encode_{attr}_json(items: &[Value]) -> Result<Vec<u8>, String> {{")
        c("let mut out = Vec::new();")
        c.open("for it in items {")
        c("let (name, value) = item_parts(it)?;")
        c.open("let msg = match name {")
        for sname in by_struct:
            c.arm(rust_str(sname), f"{alias}::{self.cls(sname)}(parse_item(value)?)")
        c('_ => return Err(format!("{name} is not a message of this stream")),')
        c.close("};")
        c(f"out.extend(encode_{attr}(&msg, None).map_err(|e| e.to_string())?);")
        c.close()
        c("Ok(out)")
        c.close()

    def header_objects(self, c: Lines, st: m.WireStream, attr: str, parser: str) -> None:
        item_alias = self.n.type_name([*st["words"], "item"])
        sp = self.stream_plans[st["name"]]
        states = {x.name: x for x in sp.states}
        start_state = states[sp.initial]
        assert start_state.peek is not None
        headers: list[tuple[plan.Transition, plan.Transition]] = [
            (t, states[t.next].transitions[0]) for t in start_state.transitions
        ]
        names: list[str] = []
        for h, o in headers:
            for x in (h.struct, o.struct):
                if x not in names:
                    names.append(x)
        c()
        c.doc(f"A header or object of the `{st['name']}` stream.")
        c("#[derive(Clone, Debug, PartialEq, Eq)]")
        c.open(f"pub enum {item_alias} {{")
        for x in names:
            c.doc(f"A {x}.")
            c(f"{self.cls(x)}({self.cls(x)}),")
        c.close()
        c()
        c.open(f"impl {item_alias} {{")
        c.doc("The IDL name of the item's struct.")
        c.open("pub fn struct_name(&self) -> &'static str {")
        c.open("match self {")
        for x in names:
            c(f"{item_alias}::{self.cls(x)}(_) => {rust_str(x)},")
        c.close()
        c.close()
        c()
        c.doc("The item in the vector value format.")
        c.open("pub fn to_json(&self) -> Value {")
        c.open("match self {")
        for x in names:
            c(f"{item_alias}::{self.cls(x)}(m) => m.to_json(),")
        c.close()
        c.close()
        c.close()
        self.parser_struct(c, st, parser, "header: Option<usize>,\nflags: Vec<bool>,")
        c.open(f"impl {parser} {{")
        self.parser_new(c, "header: None,\nflags: Vec::new(),")
        c.doc("Take bytes in any chunking; return the header (first), then every complete object.")
        c.open(f"pub fn feed(&mut self, data: &[u8]) -> Result<Vec<{item_alias}>, DecodeError> {{")
        c("let mut buf = std::mem::take(&mut self.buf);")
        c("buf.extend_from_slice(data);")
        c("let mut out = Vec::new();")
        c("let mut pos = 0;")
        c("let mut failed = None;")
        c.open("while pos < buf.len() {")
        c("let mut r = Reader::resume(&buf, pos, self.consumed, self.max_buffer);")
        c.open("let item = match self.header {")
        c("Some(_) => self.object(&mut r),")
        c("None => self.start(&mut r),")
        c.close("};")
        c.open("match item {")
        c("Err(e) if e.incomplete => break,")
        c.open("Err(e) => {")
        c("failed = Some(e);")
        c("break;")
        c.close()
        c("Ok(v) => out.push(v),")
        c.close()
        c.open("if r.pos == pos {")
        empty = rust_str(st["name"] + ": an empty object cannot advance")
        c(f"failed = Some(err({_reason(sp.empty_item_reason)}, {empty}));")
        c("break;")
        c.close()
        c("pos = r.pos;")
        c.close()
        c("buf.drain(..pos);")
        c("self.consumed += pos;")
        c("self.buf = buf;")
        c.open("if let Some(e) = failed {")
        c("return Err(e);")
        c.close()
        c.open("if self.buf.len() > self.max_buffer {")
        c(_err(sp.buffer_reason, f"{st['name']}: too many bytes buffered"))
        c.close()
        c("Ok(out)")
        c.close()
        c()
        c.doc("The stream ended: an error if the header or an object is incomplete (a stream")
        c.doc("without its header is `truncated`).")
        c.open("pub fn close(&mut self) -> Result<(), DecodeError> {")
        c.open("if !self.buf.is_empty() || self.header.is_none() {")
        c("let buf = std::mem::take(&mut self.buf);")
        c("let mut r = Reader::new(&buf, false);")
        c.open("match self.header {")
        c("Some(_) => self.object(&mut r)?,")
        c("None => self.start(&mut r)?,")
        c.close("};")
        c(_err(start_state.at_end, f"{st['name']}: stream ended inside an object"))
        c.close()
        c("Ok(())")
        c.close()
        c()
        c.open(f"fn start(&mut self, r: &mut Reader<'_>) -> Result<{item_alias}, DecodeError> {{")
        c("let stop = r.buf.len();")
        c("let mut peek = Reader::new(r.buf, true);")
        c("peek.pos = r.pos;")
        c(f"let code = {self.read_int(start_state.peek, 'stop').replace('r.', 'peek.')}?;")
        for i, (h, _o) in enumerate(headers):
            hc = self.cls(h.struct)
            c.matches("if ", "code", _patterns(list(h.codes or ())), " {")
            c.level += 1
            c(f"let h = {hc}::decode_from(r, stop)?;")
            if h.binds_flags:
                first_attr = self.n.field_name(self.structs[h.struct]["fields"][0]["words"])
                c(f"self.flags = flags_of({hc}::variant_flags(h.{first_attr}));")
            c(f"self.header = Some({i});")
            c(f"return Ok({item_alias}::{hc}(h));")
            c.close()
        unknown = _err(start_state.unknown_reason, f"{st['name']}: unknown stream type")
        c(unknown.removeprefix("return ").removesuffix(";"))
        c.close()
        c()
        c.open(f"fn object(&self, r: &mut Reader<'_>) -> Result<{item_alias}, DecodeError> {{")
        c("let stop = r.buf.len();")
        c.open("match self.header {")
        for i, (_h, o) in enumerate(headers):
            oc = self.cls(o.struct)
            args = "".join(f", self.flags[{b.index}]" for b in o.args)
            one = f"Some({i}) => Ok({item_alias}::{oc}({oc}::decode_from(r, stop{args})?)),"
            if len(one) + 4 * c.level <= 100:
                c(one)
            else:
                c.open(f"Some({i}) => {{")
                c(f"let v = {oc}::decode_from(r, stop{args})?;")
                c(f"Ok({item_alias}::{oc}(v))")
                c.close()
        c(_err("unknown_type", f"{st['name']}: no header").replace("return ", "_ => ").replace(";", ","))
        c.close()
        c.close()
        c.close()
        c()
        c.doc(f"A whole `{st['name']}` stream: the header, then each object.")
        c.open(f"pub fn encode_{attr}(items: &[{item_alias}]) -> Result<Vec<u8>, EncodeError> {{")
        c("let mut out = Vec::new();")
        c("let mut flags: Option<(usize, Vec<bool>)> = None;")
        c.open("for (i, it) in items.iter().enumerate() {")
        c.open("match (it, &flags) {")
        for i, (h, o) in enumerate(headers):
            hc, oc = self.cls(h.struct), self.cls(o.struct)
            c.open(f"({item_alias}::{hc}(h), None) if i == 0 => {{")
            c("out.extend(h.encode()?);")
            if h.binds_flags:
                first_attr = self.n.field_name(self.structs[h.struct]["fields"][0]["words"])
                c(f"let f = flags_of({hc}::variant_flags(h.{first_attr}));")
                c(f"flags = Some(({i}, f));")
            else:
                c(f"flags = Some(({i}, Vec::new()));")
            c.close()
            args = ", ".join(f"f[{b.index}]" for b in o.args)
            fpat = "f" if o.args else "_"
            c(f"({item_alias}::{oc}(o), Some(({i}, {fpat}))) => out.extend(o.encode({args})?),")
        c('_ => return Err(EncodeError::new("a header first, then its objects")),')
        c.close()
        c.close()
        c("Ok(out)")
        c.close()
        c()
        c.open(f"fn parse_{attr}_json(data: &[u8], chunk: usize) -> Result<Value, DecodeError> {{")
        c(f"let mut p = {parser}::new();")
        c("let items = feed_all(data, chunk, |b| p.feed(b))?;")
        c("p.close()?;")
        c("let mut out = Vec::with_capacity(items.len());")
        c.open("for m in &items {")
        c("out.push(item(m.struct_name(), m.to_json()));")
        c.close()
        c("Ok(Value::Array(out))")
        c.close()
        c()
        c.open(f"fn encode_{attr}_json(items: &[Value]) -> Result<Vec<u8>, String> {{")
        c("let mut decoded = Vec::new();")
        c.open("for it in items {")
        c("let (name, value) = item_parts(it)?;")
        c.open("decoded.push(match name {")
        for x in names:
            c.arm(rust_str(x), f"{item_alias}::{self.cls(x)}(parse_item(value)?)")
        c('_ => return Err(format!("{name} is not an item of this stream")),')
        c.close("});")
        c.close()
        c(f"encode_{attr}(&decoded).map_err(|e| e.to_string())")
        c.close()

    def registry(self, c: Lines) -> None:
        p = self.proto
        c()
        c.doc(f"The struct codec of `{p['name']}.<name>`.")
        c.open("pub fn struct_codec(name: &str) -> Option<crate::wire::StructCodec> {")
        c("use crate::wire::StructCodec as C;")
        c.open("Some(match name {")
        for s in p["structs"]:
            c(f"{rust_str(s['name'])} => C::of::<{self.cls(s['name'])}>(),")
        c("_ => return None,")
        c.close("})")
        c.close()
        c()
        c.doc(f"The stream codec of `{p['name']}.<name>`.")
        c.open("pub fn stream_codec(name: &str) -> Option<crate::wire::StreamCodec> {")
        c.open("Some(match name {")
        for st in p["streams"]:
            attr = self.n.plain(self.n.fn_name(st["words"]))
            enc = "None" if st["kind"] == "datagram" else f"Some(encode_{attr}_json)"
            if st["kind"] == "sequence":
                enc = "None"
            c.open(f"{rust_str(st['name'])} => crate::wire::StreamCodec {{")
            c(f"kind: {rust_str(st['kind'])},")
            c(f"parse: parse_{attr}_json,")
            c(f"encode: {enc},")
            c.close("},")
        c("_ => return None,")
        c.close("})")
        c.close()


def wire_modules(ir: m.IR, namer: RustNamer) -> dict[str, str]:
    """Module name -> Rust source (without the header) for each protocol."""
    return {namer.plain(namer.fn_name(p["words"])): _Proto(ir, p, namer).module() for p in ir["wire"]}
