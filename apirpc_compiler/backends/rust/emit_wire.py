"""The codec plan (ir/plan.py) -> `src/wire/<protocol>.rs`: structs, code sets and stream tables.

Each op of a struct's plan becomes its few lines of straight-line Rust. Each stream's state
machine becomes a table (`stream::Stream`: states, transitions, frame widths, limits, reasons)
that the runtime's one incremental parser (`templates/wire/stream.rs.j2`) walks, plus a
function decoding the stream's items. The order of reads and checks, the reasons, the limits
and the stream grammar all come from the plan; only the spelling (and which errors carry an
offset) is decided here.
"""

from __future__ import annotations

import re

from ...ir import model as m
from ...ir import plan
from ..common import INT_SIZE, WireGenError, plan_cond_text, shift_literal
from ..wire_render import Operators, ProtocolView, check_test, cond_test
from .namer import RustNamer
from .text import Lines, runs, rust_str


def _h(n: int) -> str:
    return hex(n) if n > 9 else str(n)


def _patterns(values: list[int]) -> list[str]:
    """Match alternatives for `values`, runs of three or more as ranges (clippy's
    manual_range_patterns)."""
    out: list[str] = []
    for lo, hi in runs(values):
        out.extend([f"{_h(lo)}..={_h(hi)}"] if hi - lo >= 2 else [_h(x) for x in range(lo, hi + 1)])
    return out


def _bool(b: bool) -> str:
    return "true" if b else "false"


def _enc_err(msg: str) -> str:
    return f"return Err(EncodeError::new({rust_str(msg)}));"


def _reason(reason: str) -> str:
    return "R::" + "".join(w.capitalize() for w in reason.split("_"))


def _err(reason: str, msg: str) -> str:
    return f"return Err(err({_reason(reason)}, {rust_str(msg)}));"


def _fail_value(at: str | None, reason: str, msg: str, value: str) -> str:
    return f"return Err(r.fail_value({at}, {_reason(reason)}, {rust_str(msg)}, {value}));"


_OPS = Operators(
    literal=_h,
    member=lambda v, values: f"matches!({v}, {' | '.join(_patterns(list(values)))})",
    outside_mask="{a} & !{b} != 0",
    parity="{a} & 1 == {b}",
)


class _Struct:
    """Renders one struct's plan (`ir.plan.StructPlan`) as Rust: every op is spelled as it comes."""

    def __init__(self, p: _Proto, s: m.WireStruct) -> None:
        self.p = p
        self.s = s
        self.n = p.n
        self.plan = p.view.struct_plans[s["name"]]
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
        return cond_test(c, _OPS, lambda f: f"f_{f}", lambda v: "v_" + v, lambda v, t: f"{v}.is_some_and(|x| {t('x')})")

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
        cond, words = check_test(
            op, op.var, _OPS, lambda codes, v: f"{self.p.code_class(codes)}::name_of({v}).is_none()"
        )
        msg = f"{op.where} {words}"
        c.guard(cond, _enc_err(msg) if encode else _fail_value(op.at, op.reason, msg, op.var))

    def min_count(self, c: Lines, op: plan.MinCount, encode: bool) -> None:
        n = self.operand(op.subject)
        empty = op.min == 1 and isinstance(op.subject, plan.LenOf)
        cond = f"{op.subject.name}.is_empty()" if empty else f"{n} < {op.min}"  # type: ignore[union-attr]
        c.guard(
            cond,
            _enc_err(op.where + ": too few elements")
            if encode
            else _err(op.reason, f"{op.where}: fewer than {op.min} elements"),
        )

    def variant(self, c: Lines, op: plan.Variant, encode: bool) -> None:
        if op.flags:
            c.open(f"let Some(flags) = {self.cls}::variant_flags({op.var}) else {{")
        else:
            c.open(f"if {self.cls}::variant_flags({op.var}).is_none() {{")
        c(_enc_err(op.struct + ": unknown type code") if encode else _err(op.reason, f"{op.struct}: unknown type code"))
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
                c.guard(
                    f"{n} > {op.limit}",
                    _fail_value("r.pos", op.reason, f"{op.where}: more than {op.limit} {op.unit}", value),
                )
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
                msg = rust_str(op.where + ": bytes left in its frame")
                c.guard(f"r.pos != {op.end}", f"return Err(r.fail_at(r.pos, {_reason(op.reason)}, {msg}));")
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
                c.guard(f"{op.list}.len() >= {op.max}", _err(op.reason, f"{op.where}: more than {op.max} elements"))
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
                c.guard(
                    f"{self.operand(op.subject)} > {op.limit}",
                    _enc_err(op.where + f": over the limit of {op.limit}"),
                )
            elif isinstance(op, plan.MinCount):
                self.min_count(c, op, True)
            elif isinstance(op, plan.WriteLength):
                n = self.operand(op.subject)
                if op.kind == "varint":
                    c(f"write_varint({self.out(op.out)}, {n} as u64)?;")
                elif op.kind == "field" and op.field is not None:
                    c.guard(
                        f"{n} as u64 != {self.operand(op.field)}",
                        _enc_err(op.where + ": length does not match " + op.field.field),
                    )
                elif op.kind == "fixed":
                    c.guard(
                        f"{n} != {op.size}",
                        _enc_err(op.where + ": wrong fixed length"),
                    )
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
                c.guard(f"let Some(v) = &self.{a}", f"m.{put}({key}, v);")
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
        self.decode_fn(c)
        c()
        self.encode_fn(c)
        c()
        self.json_fns(c)
        c.close()
        c()
        args = ", ".join(f"{a} = {i}" for i, a in enumerate(s["args"]))
        whole = _reason(self.plan.whole_reason).removeprefix("R::")
        c(f"wire_struct! {{ {self.cls}, {rust_str(s['name'])}, {whole}, [{args}] }}")


class _Proto:
    def __init__(self, proto: m.WireProtocol, namer: RustNamer) -> None:
        self.proto = proto
        self.n = namer
        self.view = ProtocolView(proto, "rust")

    def cls(self, struct_name: str) -> str:
        return self.n.type_name(self.view.structs[struct_name]["words"])

    def code_class(self, code_set: str) -> str:
        return self.n.type_name(self.view.code_words(code_set))

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
        bound = self.view.plan.max_buffer
        c(f"pub const DEFAULT_MAX_BUFFER: usize = {shift_literal(bound)};")
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
            ("crate::wire", ["err", "flags_of", "wire_struct"]),
            ("crate::wire::sealed", ["WireArgs"]),
            (
                "crate::wire::stream",
                [
                    "item_enum",
                    "parse_json",
                    "pick_code",
                    "stream_parser",
                    "Frame",
                    "State",
                    "Stream",
                    "Transition",
                    "VARINT",
                ],
            ),
        ):
            used = [x for x in names if re.search(r"\b" + x.split(" as ")[-1] + r"\b", code)]
            if used:
                inner = ", ".join(used)
                one = f"use {path}::{{{inner}}};" if len(used) > 1 else f"use {path}::{inner};"
                uses.append(one if len(one) <= 100 else f"use {path}::{{\n    {inner},\n}};")
        return "\n".join(sorted(uses)) + "\n\n" + body

    # ---- streams: the plan's state machine as a table for the runtime's parser (stream.rs) ----
    def stream(self, c: Lines, st: m.WireStream) -> None:
        sp = self.view.stream_plans[st["name"]]
        attr = self.n.plain(self.n.fn_name(st["words"]))
        const = self.n.const_name(st["words"])
        parser = self.n.type_name([*st["words"], "parser"])
        c()
        c(f"// ---- stream `{st['name']}` ({sp.kind}) ----")
        if sp.kind in ("datagram", "sequence"):  # one struct, whole or repeated
            msg = self.view.state(sp, sp.initial).transitions[0].struct
            cls = self.cls(msg)
            if sp.kind == "sequence":
                self.table(c, st, const)
                self.parser(c, st, parser, cls, const)
            else:
                c()
                c.doc(st["doc"] or st["name"])
                c(f"pub fn decode_{attr}(data: &[u8]) -> Result<{cls}, DecodeError> {{")
                c(f"    {cls}::decode(data)")
                c("}")
            c()
            c.doc(
                "The datagram carrying `msg`."
                if sp.kind == "datagram"
                else f"One message of the `{st['name']}` stream."
            )
            c(f"pub fn encode_{attr}(msg: &{cls}) -> Result<Vec<u8>, EncodeError> {{")
            c("    msg.encode()")
            c("}")
            c()
            chunk = "chunk" if sp.kind == "sequence" else "_chunk"
            c.open(f"fn parse_{attr}_json(data: &[u8], {chunk}: usize) -> Result<Value, DecodeError> {{")
            if sp.kind == "sequence":
                c(f"parse_json::<{parser}>(data, chunk, |m| item({rust_str(msg)}, m.to_json()))")
            else:
                c(f"let v = decode_{attr}(data)?;")
                c(f"Ok(Value::Array(vec![item({rust_str(msg)}, v.to_json())]))")
            c.close()
            return
        framed = sp.kind == "framed"
        alias = self.n.type_name([*st["words"], "message" if framed else "item"])
        items = self.items(sp)
        c()
        c.open("item_enum! {")
        c.doc(f"A {'message' if framed else 'header or object'} of the `{st['name']}` stream.")
        c(f"{alias} {{ {', '.join(dict.fromkeys(self.cls(t.struct) for t in items))} }}")
        c.close()
        c()
        c.open(f"impl {alias} {{")
        if framed:
            self.framed_codes(c, sp, alias)
        code, flags, out = ("code", "_flags", "(u64, Self)") if framed else ("_code", "flags", "Self")
        params = f"item: usize, {code}: u64, r: &mut Reader<'_>, end: usize, {flags}: &mut Vec<bool>"
        c("#[inline]")  # into the parser's loop: measured faster than a call (benchmarks/rust, MoQT parse)
        c.open(f"fn decode_at({params}) -> Result<{out}, DecodeError> {{")
        c.open("let v = match item {" if framed else "Ok(match item {")
        for i, t in enumerate(items):
            cls = self.cls(t.struct)
            args = "".join(f", flags[{b.index}]" for b in t.args)
            one = f"{i} => {alias}::{cls}({cls}::decode_from(r, end{args})?),"
            if not t.binds_flags and 4 * c.level + len(one) <= 100:
                c(one)
                continue
            c.open(f"{i} => {{")
            c(f"let h = {cls}::decode_from(r, end{args})?;")
            if t.binds_flags:
                c(f"*flags = flags_of({cls}::variant_flags(h.{self.first_attr(t.struct)}));")
            c(f"{alias}::{cls}(h)")
            c.close()
        c("_ => unreachable!(),")
        c.close("};" if framed else "})")
        if framed:
            c("Ok((code, v))")
        c.close()
        c.close()
        item_type = f"(u64, {alias})" if framed else alias
        self.table(c, st, const)
        self.parser(
            c,
            st,
            parser,
            item_type,
            const,
            f"|item, code, r, end, flags| {alias}::decode_at(item, code, r, end, flags)",
        )
        c()
        if framed:
            c.doc("Type, Length and body of `msg`; `code` is needed only when its struct serves")
            c.doc("several types.")
            c.open(f"pub fn encode_{attr}(msg: &{alias}, code: Option<u64>) -> Result<Vec<u8>, EncodeError> {{")
            c("let code = pick_code(msg.codes(), code)?;")
            c(f"{const}_STREAM.frame(code, &msg.encode_body()?)")
            c.close()
        else:
            self.encode_headed(c, st, sp, attr, alias)
        c()
        c.open(f"fn parse_{attr}_json(data: &[u8], chunk: usize) -> Result<Value, DecodeError> {{")
        each = "|(_, m)| item(m.struct_name(), m.to_json())" if framed else "|m| item(m.struct_name(), m.to_json())"
        c(f"parse_json::<{parser}>(data, chunk, {each})")
        c.close()
        c()
        c.open(f"fn encode_{attr}_json(items: &[Value]) -> Result<Vec<u8>, String> {{")
        if framed:
            c("let mut out = Vec::new();")
            c.open("for it in items {")
            c(f"let msg = {alias}::from_item(it)?;")
            c(f"out.extend(encode_{attr}(&msg, None).map_err(|e| e.to_string())?);")
            c.close()
            c("Ok(out)")
        else:
            c("let mut decoded = Vec::new();")
            c.open("for it in items {")
            c(f"decoded.push({alias}::from_item(it)?);")
            c.close()
            c(f"encode_{attr}(&decoded).map_err(|e| e.to_string())")
        c.close()

    def first_attr(self, struct: str) -> str:
        """The field of a variant header holding its type code."""
        return self.n.field_name(self.view.structs[struct]["fields"][0]["words"])

    @staticmethod
    def states(sp: plan.StreamPlan) -> list[plan.StreamState]:
        """The stream's states as its table lists them: the initial one first (the parser's start)."""
        return sorted(sp.states, key=lambda x: x.name != sp.initial)

    @staticmethod
    def item_key(t: plan.Transition) -> tuple[object, ...]:
        """What a transition reads: transitions reading the same share one item decoder."""
        return t.struct, t.args, t.binds_flags

    def items(self, sp: plan.StreamPlan) -> list[plan.Transition]:
        """The stream's distinct item reads, in table order."""
        out: dict[tuple[object, ...], plan.Transition] = {}
        for state in self.states(sp):
            for t in state.transitions:
                out.setdefault(self.item_key(t), t)
        return list(out.values())

    def table(self, c: Lines, st: m.WireStream, const: str) -> None:
        sp = self.view.stream_plans[st["name"]]
        states = self.states(sp)
        index = {x.name: i for i, x in enumerate(states)}
        keys = [self.item_key(t) for t in self.items(sp)]

        def width(w: str) -> str:
            return "VARINT" if w == "varint" else str(INT_SIZE[w])

        c()
        for state in states:
            if state.frame is not None:
                c.doc(f"Largest body length of a `{st['name']}` message.")
                c(f"pub const {const}_MAX_LENGTH: u64 = {state.frame.max_length};")
                c()
        c.open(f"static {const}_STREAM: Stream = Stream {{")
        c(f"name: {rust_str(st['name'])},")
        one = len(states) == 1  # rustfmt's overflow of a lone element: `&[State {`
        c.open("states: &[State {" if one else "states: &[")
        for state in states:
            if not one:
                c.open("State {")
            c(f"peek: {'None' if state.peek is None else f'Some({width(state.peek)})'},")
            f = state.frame
            if f is None:
                c("frame: None,")
            else:
                c.open("frame: Some(Frame {")
                c(f"type_width: {width(f.type)},")
                c(f"length_width: {width(f.length)},")
                c(f"max_length: {const}_MAX_LENGTH,")
                c(f"unknown: {_reason(f.unknown_reason)},")
                c(f"too_large: {_reason(f.too_large_reason)},")
                c(f"past_end: {_reason(f.past_end_reason)},")
                c(f"trailing: {_reason(f.trailing_reason)},")
                c.close("}),")
            calls = []
            for t in state.transitions:
                codes = "None"
                if t.codes is not None:
                    codes = f"Some(&[{', '.join(f'({_h(lo)}, {_h(hi)})' for lo, hi in runs(list(t.codes)))}])"
                calls.append(f"Transition({codes}, {keys.index(self.item_key(t))}, {index[t.next]})")
            c.array("transitions: &", calls, ",")
            c(f"at_end: {'None' if state.at_end == 'accept' else f'Some({_reason(state.at_end)})'},")
            c(f"unknown: {_reason(state.unknown_reason)},")
            if not one:
                c.close("},")
        c.close("}]," if one else "],")
        c("max_buffer: DEFAULT_MAX_BUFFER,")
        c(f"empty_item: {_reason(sp.empty_item_reason)},")
        c(f"buffer: {_reason(sp.buffer_reason)},")
        c.close("};")

    def parser(self, c: Lines, st: m.WireStream, parser: str, item_type: str, const: str, decode: str = "") -> None:
        c()
        c.open("stream_parser! {")
        c.doc(f"Incremental parser of the `{st['name']}` stream: feed bytes in any chunking, then close.")
        c("///")
        c.doc(st["doc"] or st["name"])
        c(f"{parser}({item_type}) = {const}_STREAM" + ("," if decode else ""))
        if decode:
            c(decode)
        c.close()

    def framed_codes(self, c: Lines, sp: plan.StreamPlan, alias: str) -> None:
        by_struct: dict[str, list[int]] = {}
        for t in self.view.state(sp, sp.initial).transitions:
            by_struct.setdefault(t.struct, []).extend(t.codes or ())
        c.doc("The IDL name of the struct a type code carries.")
        c.open("pub fn name_of_code(code: u64) -> Option<&'static str> {")
        c.open("match code {")
        for t in self.view.state(sp, sp.initial).transitions:
            for code in t.codes or ():
                c(f"{_h(code)} => Some({rust_str(t.struct)}),")
        c("_ => None,")
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

    def encode_headed(self, c: Lines, st: m.WireStream, sp: plan.StreamPlan, attr: str, alias: str) -> None:
        c.doc(f"A whole `{st['name']}` stream: the header, then each object.")
        c.open(f"pub fn encode_{attr}(items: &[{alias}]) -> Result<Vec<u8>, EncodeError> {{")
        c("let mut out = Vec::new();")
        c("let mut flags: Option<(usize, Vec<bool>)> = None;")
        c.open("for (i, it) in items.iter().enumerate() {")
        c.open("match (it, &flags) {")
        for i, h in enumerate(self.view.state(sp, sp.initial).transitions):
            o = self.view.state(sp, h.next).transitions[0]
            hc, oc = self.cls(h.struct), self.cls(o.struct)
            c.open(f"({alias}::{hc}(h), None) if i == 0 => {{")
            c("out.extend(h.encode()?);")
            if h.binds_flags:
                c(f"let f = flags_of({hc}::variant_flags(h.{self.first_attr(h.struct)}));")
                c(f"flags = Some(({i}, f));")
            else:
                c(f"flags = Some(({i}, Vec::new()));")
            c.close()
            args = ", ".join(f"f[{b.index}]" for b in o.args)
            c(f"({alias}::{oc}(o), Some(({i}, {'f' if o.args else '_'}))) => out.extend(o.encode({args})?),")
        c('_ => return Err(EncodeError::new("a header first, then its objects")),')
        c.close()
        c.close()
        c("Ok(out)")
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
    return {namer.plain(namer.fn_name(p["words"])): _Proto(p, namer).module() for p in ir["wire"]}
