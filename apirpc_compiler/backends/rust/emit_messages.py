"""IR enums and messages -> `src/enums.rs` and `src/messages.rs`.

Enums are open: a newtype over i32 with one associated constant per value, so unknown numbers
survive a decode/encode round trip. Messages are plain structs: implicit scalars hold their
zero value, `optional` scalars are `Option<T>`, message fields `Option<T>` (boxed when the type
can reach itself), repeated fields `Vec<T>`, a oneof one `Option<enum>`; unknown fields are kept
as raw bytes and re-emitted after the known ones.
"""

from __future__ import annotations

from ...ir.model import IR, Enum, Field, Message
from ..common import encode_tag, fields_by_number, message_components, proto_varint, type_index
from .namer import RustNamer
from .text import Lines, runs, rust_str

_RUST_SCALAR = {
    "bool": "bool",
    "int32": "i32",
    "int64": "i64",
    "uint32": "u32",
    "uint64": "u64",
    "sint32": "i32",
    "sint64": "i64",
    "fixed32": "u32",
    "fixed64": "u64",
    "sfixed32": "i32",
    "sfixed64": "i64",
    "float": "f32",
    "double": "f64",
    "string": "String",
    "bytes": "Vec<u8>",
}
_COPY = frozenset(_RUST_SCALAR) - {"string", "bytes"}
_ATTR_TYPE = {"bool": "bool", "string": "&'static str", "float": "f32", "double": "f64", "bytes": "&'static [u8]"}


def _lit(v: object, scalar: str) -> str:
    if scalar == "bool":
        return "true" if v else "false"
    if scalar == "string":
        return rust_str(str(v))
    if scalar in ("float", "double"):
        s = repr(float(v))  # type: ignore[arg-type]
        return s if ("." in s or "e" in s) else s + ".0"
    return str(v)


class MessageEmitter:
    def __init__(self, ir: IR, namer: RustNamer) -> None:
        self.ir = ir
        self.n = namer
        self.types = type_index(ir)
        self.components = message_components(ir)

    # ---- names ----
    def ty(self, name: str) -> str:
        words = self.types.words(name)
        return self.n.type_name(words)

    def fname(self, f: Field) -> str:
        return self.n.field_name(f["words"])

    def oneof_type(self, msg: Message, oneof: str) -> str:
        o = next(x for x in msg["oneofs"] if x["name"] == oneof)
        return self.n.type_name([*msg["words"], *o["words"]])

    def oneof_attr(self, msg: Message, oneof: str) -> str:
        o = next(x for x in msg["oneofs"] if x["name"] == oneof)
        return self.n.field_name(o["words"])

    def oneof_parts(self, msg: Message, f: Field) -> tuple[str, str, str]:
        """A oneof member's struct field, enum type and variant."""
        assert f["oneof"] is not None
        return self.oneof_attr(msg, f["oneof"]), self.oneof_type(msg, f["oneof"]), self.n.type_name(f["words"])

    def boxed(self, msg: Message, f: Field) -> bool:
        """Boxed: a singular message field that can reach its own message (else the type would
        be infinitely sized), and every message case of a oneof (so the enum stays as small as
        its smallest cases instead of its largest: clippy's large_enum_variant)."""
        if f["type"]["kind"] != "message" or f["label"] == "repeated":
            return False
        return f["oneof"] is not None or self.components[f["type"]["name"]] == self.components[msg["name"]]

    def elem_type(self, f: Field) -> str:
        t = f["type"]
        return _RUST_SCALAR[t["name"]] if t["kind"] == "scalar" else self.ty(t["name"])

    def field_type(self, msg: Message, f: Field) -> str:
        e = self.elem_type(f)
        if f["label"] == "repeated":
            return f"Vec<{e}>"
        if self.boxed(msg, f):
            e = f"Box<{e}>"
        if f["label"] == "optional" or f["type"]["kind"] == "message":
            return f"Option<{e}>"
        return e

    # ---- enums ----
    def enums_rs(self, out: Lines) -> None:
        for e in self.ir["enums"]:
            self.enum(out, e)

    def enum(self, out: Lines, e: Enum) -> None:
        n = self.n
        cls = self.ty(e["name"])
        consts = {v["name"]: n.const_name(v["words"]) for v in e["values"]}
        out()
        out.doc(e["doc"] or e["name"])
        out("///")
        out.doc("Open: any i32 is a valid value; numbers this version does not name are kept as-is.")
        out("#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]")
        out(f"pub struct {cls}(pub i32);")
        out()
        out.open(f"impl {cls} {{")
        for v in e["values"]:
            out.doc(v["doc"] or v["name"])
            out(f"pub const {consts[v['name']]}: {cls} = {cls}({v['number']});")
        out.doc("Every value this version names, in declaration order.")
        out(f"pub const ALL: [{cls}; {len(e['values'])}] = [")
        for v in e["values"]:
            out(f"    {cls}::{consts[v['name']]},")
        out("];")
        out()
        out.doc("The IDL name of this value (`None` for a number this version does not name).")
        self.match_fn(
            out,
            "name",
            "Option<&'static str>",
            [(v["number"], f"Some({rust_str(v['name'])})") for v in e["values"]],
            "None",
        )
        out()
        out.doc("The protobuf / ProtoJSON name of this value.")
        self.match_fn(
            out,
            "json_name",
            "Option<&'static str>",
            [(v["number"], f"Some({rust_str(v['json_name'])})") for v in e["values"]],
            "None",
        )
        out()
        out.doc("The value with this ProtoJSON name.")
        out.open(f"pub fn from_json_name(name: &str) -> Option<{cls}> {{")
        out.open("match name {")
        for v in e["values"]:
            out(f"{rust_str(v['json_name'])} => Some({cls}::{consts[v['name']]}),")
        out("_ => None,")
        out.close()
        out.close()
        out()
        out.doc("Whether this version names this number.")
        out.open("pub fn is_known(self) -> bool {")
        out("self.name().is_some()")
        out.close()
        for a in e["attributes"]:
            rtype = _ATTR_TYPE.get(a["type"], _RUST_SCALAR[a["type"]])
            out()
            out.doc(f"{a['doc'] or a['name']} (`None` for an unknown value).")
            rows = [(v["number"], f"Some({_lit(v['attributes'][a['name']], a['type'])})") for v in e["values"]]
            self.match_fn(out, n.fn_name(a["words"]), f"Option<{rtype}>", rows, "None")
        t = e["transitions"]
        if t is not None:
            out()
            out.doc("Whether the state machine allows a move from this state to `to`.")
            out.open(f"pub fn can_transition(self, to: {cls}) -> bool {{")
            out.open("match self {")
            for src, dsts in t["edges"].items():
                if not dsts:
                    continue
                out.matches(f"{cls}::{consts[src]} => ", "to", [f"{cls}::{consts[d]}" for d in dsts], ",")
            out("_ => false,")
            out.close()
            out.close()
            for fn, names, what in (
                ("is_terminal", t["terminal"], "a terminal state (no way out)"),
                ("is_initial", t["initial"], "an initial state"),
            ):
                out()
                out.doc(f"Whether this is {what}.")
                out.open(f"pub fn {fn}(self) -> bool {{")
                out.matches("", "self", [f"{cls}::{consts[x]}" for x in names], "")
                out.close()
        out.close()

    def match_fn(self, out: Lines, name: str, rtype: str, rows: list[tuple[int, str]], default: str) -> None:
        out.open(f"pub fn {name}(self) -> {rtype} {{")
        out.open("match self.0 {")
        for num, expr in rows:
            out(f"{num} => {expr},")
        out(f"_ => {default},")
        out.close()
        out.close()

    # ---- messages ----
    def messages_rs(self, out: Lines) -> None:
        used = sorted(
            {f["type"]["name"] for m in self.ir["messages"] for f in m["fields"] if f["type"]["kind"] == "enum"}
        )
        for name in used:
            cls = self.ty(name)
            out()
            out(
                f"fn {self.n.plain(self.n.fn_name(self.types.enums[name]['words']))}_from_json"
                f"(v: &Value) -> Result<{cls}, DecodeError> {{"
            )
            out(f"    let by_name = |s: &str| {cls}::from_json_name(s).map(|e| e.0);")
            out(f"    let n = json_enum(v, by_name, {rust_str(name)})?;")
            out(f"    Ok({cls}(n))")
            out("}")
        for m in self.ir["messages"]:
            self.message_struct(out, m)
            self.message_impl(out, m)

    def message_struct(self, out: Lines, msg: Message) -> None:
        cls = self.ty(msg["name"])
        out()
        out.doc(msg["doc"] or msg["name"])
        out("#[derive(Clone, Debug, Default, PartialEq)]")
        out.open(f"pub struct {cls} {{")
        done_oneofs: set[str] = set()
        for f in msg["fields"]:
            if f["oneof"] is not None:
                if f["oneof"] in done_oneofs:
                    continue
                done_oneofs.add(f["oneof"])
                o = next(x for x in msg["oneofs"] if x["name"] == f["oneof"])
                out.doc(o["doc"] or o["name"])
                out(f"pub {self.oneof_attr(msg, o['name'])}: Option<{self.oneof_type(msg, o['name'])}>,")
                continue
            text = f["doc"] or f["name"]
            if f["default"] is not None:
                text += f" Absent reads as {f['default']}: see `{self.n.plain(self.fname(f))}_or_default()`."
            out.doc(text)
            if f["deprecated"]:
                out("///")
                out("/// Deprecated.")
            out(f"pub {self.fname(f)}: {self.field_type(msg, f)},")
        out.doc("Fields this version does not know, as received (tag and value bytes, in order).")
        out("pub unknown_fields: Vec<u8>,")
        out.close()
        for o in msg["oneofs"]:
            out()
            out.doc(o["doc"] or o["name"])
            out("#[derive(Clone, Debug, PartialEq)]")
            out.open(f"pub enum {self.oneof_type(msg, o['name'])} {{")
            for fname in o["fields"]:
                f = next(x for x in msg["fields"] if x["name"] == fname)
                out.doc(f["doc"] or f["name"])
                e = self.elem_type(f)
                if self.boxed(msg, f):
                    e = f"Box<{e}>"
                out(f"{self.n.type_name(f['words'])}({e}),")
            out.close()

    def message_impl(self, out: Lines, msg: Message) -> None:
        cls = self.ty(msg["name"])
        defaults = [f for f in msg["fields"] if f["default"] is not None and f["oneof"] is None]
        if defaults:
            out()
            out.open(f"impl {cls} {{")
            for f in defaults:
                fn = self.n.plain(self.fname(f)) + "_or_default"
                out.doc(f"`{self.n.plain(self.fname(f))}`, or its IDL default {f['default']} when absent.")
                t = f["type"]
                if t["kind"] == "enum":
                    e = self.types.enums[t["name"]]
                    v = next(x for x in e["values"] if x["name"] == f["default"])
                    rt, dv = self.ty(t["name"]), f"{self.ty(t['name'])}::{self.n.const_name(v['words'])}"
                    out.open(f"pub fn {fn}(&self) -> {rt} {{")
                    out.chain(f"self.{self.fname(f)}", [f"unwrap_or({dv})"])
                elif t["name"] in ("string", "bytes"):
                    rt = "&str" if t["name"] == "string" else "&[u8]"
                    dv = _lit(f["default"], t["name"]) if t["name"] == "string" else f"b{rust_str(str(f['default']))}"
                    out.open(f"pub fn {fn}(&self) -> {rt} {{")
                    out.chain(f"self.{self.fname(f)}", ["as_deref()", f"unwrap_or({dv})"])
                else:
                    out.open(f"pub fn {fn}(&self) -> {_RUST_SCALAR[t['name']]} {{")
                    out.chain(f"self.{self.fname(f)}", [f"unwrap_or({_lit(f['default'], t['name'])})"])
                out.close()
            out.close()
        out()
        out.open(f"impl Message for {cls} {{")
        out(f"const NAME: &'static str = {rust_str(msg['name'])};")
        out()
        self.encode_fn(out, msg)
        out()
        self.write_json_fn(out, msg)
        out.close()
        out()
        out.open(f"impl MessageCodec for {cls} {{")
        self.merge_fn(out, msg)
        out()
        self.from_json_fn(out, msg)
        out.close()

    # ---- binary decode ----
    def read_expr(self, f: Field, c: str) -> str:
        t = f["type"]
        if t["kind"] == "enum":
            return f"{self.ty(t['name'])}({c}.varint()? as i32)"
        s = t["name"]
        return {
            "bool": f"{c}.varint()? != 0",
            "int32": f"{c}.varint()? as i32",
            "int64": f"{c}.varint()? as i64",
            "uint32": f"{c}.varint()? as u32",
            "uint64": f"{c}.varint()?",
            "sint32": f"zigzag32({c}.varint()?)",
            "sint64": f"zigzag64({c}.varint()?)",
            "fixed32": f"{c}.fixed32()?",
            "sfixed32": f"{c}.fixed32()? as i32",
            "float": f"f32::from_bits({c}.fixed32()?)",
            "fixed64": f"{c}.fixed64()?",
            "sfixed64": f"{c}.fixed64()? as i64",
            "double": f"f64::from_bits({c}.fixed64()?)",
            "string": f"{c}.string()?",
            "bytes": f"{c}.bytes()?.to_vec()",
        }[s]

    def merge_fn(self, out: Lines, msg: Message) -> None:
        known = sorted(f["number"] for f in msg["fields"])
        out.open("fn merge_from(&mut self, buf: &[u8], base: usize, depth: u32) -> Result<(), DecodeError> {")
        if not any(f["type"]["kind"] == "message" for f in msg["fields"]):
            out("let _ = depth;")
        out("let mut c = Cursor::new(buf, base);")
        out.open("while c.more() {")
        out("let start = c.pos;")
        out("let tag = c.tag()?;")
        if not msg["fields"]:
            out("let raw = c.skip(start, tag, &[])?;")
            out("self.unknown_fields.extend_from_slice(raw);")
            out.close()
        else:
            out.open("match tag {")
            for f in fields_by_number(msg):
                self.merge_arm(out, msg, f)
            out.open("_ => {")
            out(f"let raw = c.skip(start, tag, &[{', '.join(f'({lo}, {hi})' for lo, hi in runs(known))}])?;")
            out("self.unknown_fields.extend_from_slice(raw);")
            out.close()
            out.close()
            out.close()
        out("Ok(())")
        out.close()

    def merge_arm(self, out: Lines, msg: Message, f: Field) -> None:
        name = self.fname(f)
        elem_tag = (f["number"] << 3) | f["wire_type"]
        t = f["type"]
        if t["kind"] == "message":
            out.open(f"{elem_tag} => {{")
            out("let (b, at) = c.frame()?;")
            out.open("if depth >= MAX_DEPTH {")
            out("return Err(too_deep().at(at));")
            out.close()
            if f["label"] == "repeated":
                out(f"let mut m = {self.ty(t['name'])}::default();")
                out("m.merge_from(b, at, depth + 1)?;")
                out(f"self.{name}.push(m);")
            elif f["oneof"] is not None:
                attr, ot, case = self.oneof_parts(msg, f)
                out.guard(
                    f"!matches!(self.{attr}, Some({ot}::{case}(_)))",
                    f"self.{attr} = Some({ot}::{case}(Default::default()));",
                )
                out.guard(f"let Some({ot}::{case}(m)) = &mut self.{attr}", "m.merge_from(b, at, depth + 1)?;")
            else:
                out(f"self.{name}")
                out("    .get_or_insert_with(Default::default)")
                out("    .merge_from(b, at, depth + 1)?;")
            out.close()
            return
        read = self.read_expr(f, "c")
        if f["label"] == "repeated":
            out(f"{elem_tag} => self.{name}.push({read}),")
            if f["packed"]:
                out.open(f"{(f['number'] << 3) | 2} => {{")
                out("let (b, at) = c.frame()?;")
                out("let mut p = Cursor::new(b, at);")
                out.open("while p.more() {")
                out(f"self.{name}.push({self.read_expr(f, 'p')});")
                out.close()
                out.close()
        elif f["oneof"] is not None:
            attr, ot, case = self.oneof_parts(msg, f)
            out(f"{elem_tag} => self.{attr} = Some({ot}::{case}({read})),")
        elif f["label"] == "optional":
            out(f"{elem_tag} => self.{name} = Some({read}),")
        else:
            out(f"{elem_tag} => self.{name} = {read},")

    # ---- binary encode ----
    def put_tag(self, out: Lines, tag: int) -> None:
        b = proto_varint(tag)
        if len(b) == 1:
            out(f"out.push({b[0]:#04x});")
        else:
            out(f"out.extend_from_slice(&[{', '.join(f'{x:#04x}' for x in b)}]);")

    def put_value(self, out: Lines, f: Field, v: str, o: str = "out") -> None:
        """Append scalar/enum value `v` (a value for Copy types, a reference otherwise)."""
        t = f["type"]
        if t["kind"] == "enum":
            out(f"put_varint({o}, {v}.0 as i64 as u64);")
            return
        s = t["name"]
        expr = {
            "bool": f"put_varint({o}, u64::from({v}));",
            "int32": f"put_varint({o}, {v} as i64 as u64);",
            "int64": f"put_varint({o}, {v} as u64);",
            "uint32": f"put_varint({o}, u64::from({v}));",
            "uint64": f"put_varint({o}, {v});",
            "sint32": f"put_varint({o}, zz32({v}));",
            "sint64": f"put_varint({o}, zz64({v}));",
            "string": f"put_bytes({o}, {v}.as_bytes());",
            "bytes": f"put_bytes({o}, {v});",
        }.get(s, f"{o}.extend_from_slice(&{v}.to_le_bytes());")
        out(expr)

    def encode_fn(self, out: Lines, msg: Message) -> None:
        out.open("fn encode_to(&self, out: &mut Vec<u8>) {")
        for f in fields_by_number(msg):
            self.encode_field(out, msg, f)
        out("out.extend_from_slice(&self.unknown_fields);")
        out.close()

    def encode_field(self, out: Lines, msg: Message, f: Field) -> None:
        name = self.fname(f)
        t = f["type"]
        tag = encode_tag(f)
        if t["kind"] == "message":
            if f["label"] == "repeated":
                out.open(f"for m in &self.{name} {{")
            elif f["oneof"] is not None:
                attr, ot, case = self.oneof_parts(msg, f)
                out.open(f"if let Some({ot}::{case}(m)) = &self.{attr} {{")
            else:
                out.open(f"if let Some(m) = &self.{name} {{")
            self.put_tag(out, tag)
            out("put_nested(out, |o| m.encode_to(o));")
            out.close()
            return
        if f["label"] == "repeated":
            if f["packed"]:
                out.open(f"if !self.{name}.is_empty() {{")
                self.put_tag(out, tag)
                out.open("put_nested(out, |o| {")
                out.open(f"for &v in &self.{name} {{")
                self.put_value(out, f, "v", "o")
                out.close()
                out.close("});")
                out.close()
            else:
                out.open(f"for v in &self.{name} {{")
                self.put_tag(out, tag)
                self.put_value(out, f, "v")
                out.close()
            return
        v = self.open_present(out, msg, f)
        self.put_tag(out, tag)
        self.put_value(out, f, v)
        out.close()

    def open_present(self, out: Lines, msg: Message, f: Field) -> str:
        """Open the test that singular field `f` is present (set, or an implicit field off its
        zero value); returns how its value is spelled inside (a value for Copy types, else a
        reference)."""
        name, t = self.fname(f), f["type"]
        copy = t["kind"] == "enum" or t["name"] in _COPY
        if f["oneof"] is not None:
            attr, ot, case = self.oneof_parts(msg, f)
            out.open(f"if let Some({ot}::{case}({'&v' if copy else 'v'})) = &self.{attr} {{")
            return "v"
        if f["label"] == "optional" or t["kind"] == "message":
            out.open(f"if let Some(v) = self.{name} {{" if copy else f"if let Some(v) = &self.{name} {{")
            return "v"
        s = t["name"]
        if t["kind"] == "enum":
            cond = f"self.{name}.0 != 0"
        elif s == "bool":
            cond = f"self.{name}"
        elif s in ("string", "bytes"):
            cond = f"!self.{name}.is_empty()"
        elif s in ("float", "double"):
            cond = f"self.{name}.to_bits() != 0"
        else:
            cond = f"self.{name} != 0"
        out.open(f"if {cond} {{")
        return f"self.{name}" if copy else f"&self.{name}"

    # ---- ProtoJSON ----
    def json_value(self, out: Lines, f: Field, v: str) -> None:
        """Append the JSON of one element `v` (a value for Copy types, a reference otherwise)."""
        t = f["type"]
        if t["kind"] == "enum":
            out(f"let e = {v};")
            out("json_enum_out(out, e.json_name(), e.0);")
            return
        if t["kind"] == "message":
            out(f"{v}.write_json(out);")
            return
        s = t["name"]
        if s in ("int64", "uint64", "sint64", "fixed64", "sfixed64"):
            out("out.push('\"');")
            out(f"out.push_str(&{v}.to_string());")
            out("out.push('\"');")
        elif s == "bool":
            out(f'out.push_str(if {v} {{ "true" }} else {{ "false" }});')
        elif s == "float":
            out(f"json_f32(out, {v});")
        elif s == "double":
            out(f"json_f64(out, {v});")
        elif s == "string":
            out(f"write_string(out, {v});")
        elif s == "bytes":
            out(f"write_string(out, &base64({v}));")
        else:
            out(f"out.push_str(&{v}.to_string());")

    def write_json_fn(self, out: Lines, msg: Message) -> None:
        out.open("fn write_json(&self, out: &mut String) {")
        out("out.push('{');")
        if msg["fields"]:
            out("let mut first = true;")
        for f in msg["fields"]:
            name = self.fname(f)
            t = f["type"]
            copy = t["kind"] == "enum" or t["name"] in _COPY
            key = f"put_key(out, &mut first, {rust_str(f['json_name'])});"
            if f["label"] == "repeated":
                out.open(f"if !self.{name}.is_empty() {{")
                out(key)
                out("out.push('[');")
                out.open(f"for (i, {'&' if copy else ''}v) in self.{name}.iter().enumerate() {{")
                out.open("if i > 0 {")
                out("out.push(',');")
                out.close()
                self.json_value(out, f, "v")
                out.close()
                out("out.push(']');")
                out.close()
                continue
            v = self.open_present(out, msg, f)
            out(key)
            self.json_value(out, f, v)
            out.close()
        out("out.push('}');")
        out.close()

    def from_json_elem(self, f: Field, v: str, depth: bool = True) -> str:
        t = f["type"]
        if t["kind"] == "enum":
            return f"{self.n.plain(self.n.fn_name(self.types.enums[t['name']]['words']))}_from_json({v})?"
        if t["kind"] == "message":
            return f"{self.ty(t['name'])}::from_json_value({v}, d, ign)?"
        s = t["name"]
        # json_i32, json_u64, ... by the Rust type; floats are read range-checked (`_in`).
        fn = {"float": "json_f32_in", "double": "json_f64_in", "string": "json_string", "bytes": "json_bytes"}
        return f"{fn.get(s, 'json_' + _RUST_SCALAR[s])}({v})?"

    def from_json_fn(self, out: Lines, msg: Message) -> None:
        cls = self.ty(msg["name"])
        out.open("fn from_json_value(value: &Value, depth: u32, ign: bool) -> Result<Self, DecodeError> {")
        out.open("if depth > MAX_DEPTH {")
        out("return Err(too_deep());")
        out.close()
        out(f"let members = json_object(value, {rust_str(msg['name'])})?;")
        if not msg["fields"]:
            out(f"let m = {cls}::default();")
            out.open("if !ign {")
            out.open("if let Some((key, _)) = members.first() {")
            out(f"return Err(unknown_field({rust_str(msg['name'])}, key));")
            out.close()
            out.close()
            out("Ok(m)")
            out.close()
            return
        out(f"let mut m = {cls}::default();")
        if any(f["type"]["kind"] == "message" for f in msg["fields"]):
            out("let d = depth + 1;")
        twice = [f for f in msg["fields"] if f["json_name"] != f["name"]]
        for f in twice:
            out(f'let mut seen_{self.n.plain(self.fname(f))} = "";')
        out.open("for (key, v) in members {")
        out.open("match key.as_str() {")
        for f in msg["fields"]:
            name = self.fname(f)
            pat = (
                rust_str(f["json_name"])
                if f["json_name"] == f["name"]
                else f"{rust_str(f['json_name'])} | {rust_str(f['name'])}"
            )
            out.open(f"{pat} => {{")
            if f in twice:
                sv = f"seen_{self.n.plain(name)}"
                out.guard(
                    f"!{sv}.is_empty() && {sv} != key",
                    f"return Err(json_error({rust_str(msg['name'] + ': field ' + f['name'] + ' given twice')}));",
                )
                out(f"{sv} = key;")
            out.open("if !matches!(v, Value::Null) {")
            if f["label"] == "repeated":
                out.open(f"for x in json_array(v, {rust_str(f['name'])})? {{")
                out(f"let e = {self.from_json_elem(f, 'x')};")
                out(f"m.{name}.push(e);")
                out.close()
            elif f["oneof"] is not None:
                attr, ot, case = self.oneof_parts(msg, f)
                out.open(f"if m.{attr}.is_some() {{")
                out(
                    f"return Err(json_error("
                    f"{rust_str(msg['name'] + ': more than one member of oneof ' + f['oneof'])}));"
                )
                out.close()
                out(f"let x = {self.from_json_elem(f, 'v')};")
                out(f"m.{attr} = Some({ot}::{case}({'Box::new(x)' if self.boxed(msg, f) else 'x'}));")
            elif f["label"] == "optional" or f["type"]["kind"] == "message":
                out(f"let x = {self.from_json_elem(f, 'v')};")
                out(f"m.{name} = Some({'Box::new(x)' if self.boxed(msg, f) else 'x'});")
            else:
                out(f"m.{name} = {self.from_json_elem(f, 'v')};")
            out.close()
            out.close()
        out.open("_ => {")
        out.open("if !ign {")
        out(f"return Err(unknown_field({rust_str(msg['name'])}, key));")
        out.close()
        out.close()
        out.close()
        out.close()
        if not any(f["type"]["kind"] == "message" for f in msg["fields"]):
            out("let _ = ign;")
        out("Ok(m)")
        out.close()
