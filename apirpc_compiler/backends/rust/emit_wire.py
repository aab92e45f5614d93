"""IR wire protocols -> `src/wire/<protocol>.rs`: structs, code sets and stream parsers.

The generated code is straight-line: every field of every struct becomes its own few lines of
reads, checks and writes, so nothing interprets the IR at run time. The semantics (check order,
error reasons, streaming retries) mirror the Python target's `wire.py` exactly.
"""

from __future__ import annotations

import re

from ...ir import model as m
from ..common import INT_MAX, INT_SIZE, WireGenError, cond_text, embedded_args, min_size
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


def _bool(b: bool) -> str:
    return "true" if b else "false"


def _enc_err(msg: str) -> str:
    return f"return Err(EncodeError::new({rust_str(msg)}));"


def _err(reason: str, msg: str) -> str:
    return f"return Err(err(R::{reason}, {rust_str(msg)}));"


class _Struct:
    def __init__(self, p: _Proto, s: m.WireStruct) -> None:
        self.p = p
        self.s = s
        self.n = p.n
        self.cls = p.cls(s["name"])
        self.fields = {f["name"]: f for f in s["fields"]}
        self.attrs = {f["name"]: self.n.field_name(f["words"]) for f in s["fields"]}
        self.flag_vars = {x: "f_" + x for x in [*s["flags"], *s["args"]]}
        self.tmp = 0

    def fresh(self, prefix: str) -> str:
        self.tmp += 1
        return f"{prefix}{self.tmp}"

    def var(self, fname: str) -> str:
        return "v_" + fname

    def rtype(self, t: m.WireType) -> str:
        k = t["type"]
        if k in INT_MAX:
            return "u64"
        if k == "bytes":
            return "Vec<u8>"
        if k == "string":
            return "String"
        if k == "list":
            assert t["element"] is not None
            return f"Vec<{self.rtype(t['element'])}>"
        return self.p.cls(self.struct_name(t))

    def struct_name(self, t: m.WireType) -> str:
        name = t["struct"]
        if name is None or name not in self.p.structs:
            raise WireGenError(f"{self.s['name']}: unknown struct {name!r}")
        return name

    def where(self, fname: str) -> str:
        return f"{self.s['name']}.{fname}"

    def cond(self, c: m.WireCond) -> str:
        # The front end guarantees a declared flag or arg, or an earlier integer field.
        if c["op"] == "flag":
            fv = self.flag_vars[c["name"]]
            return fv if c["value"] else f"!{fv}"
        ref = self.fields[c["name"]]
        v = self.var(c["name"])
        opt = ref["when"] is not None
        op, value = c["op"], c["value"]
        if op in ("eq", "ne"):
            rhs = _h(int(value))  # type: ignore[arg-type]
            if opt:
                rhs = f"Some({rhs})"
            return f"{v} {'==' if op == 'eq' else '!='} {rhs}"
        if op in ("in", "not_in"):
            assert isinstance(value, list)
            alts = " | ".join(_patterns([int(x) for x in value]))  # type: ignore[arg-type]
            pat = f"Some({alts})" if opt else alts
            test = f"matches!({v}, {pat})"
            return test if op == "in" else f"!{test}"
        rem = "0" if op == "even" else "1"
        if opt:
            return f"{v}.is_some_and(|x| x & 1 == {rem})"
        return f"{v} & 1 == {rem}"

    def cond_text(self, c: m.WireCond) -> str:
        return cond_text(c)

    def length_ref(self, fname: str | None) -> str:
        # The front end guarantees `fname` is an earlier integer field.
        v = self.var(str(fname))
        return f"{v}.unwrap_or(0)" if self.fields[str(fname)]["when"] is not None else v

    def struct_args(self, t: m.WireType) -> str:
        target = self.p.structs[self.struct_name(t)]
        return "".join(", " + self.flag_vars[a] for a in embedded_args(self.s, target))

    def min_size(self, t: m.WireType) -> int:
        return min_size(t, self.p.structs)

    # ---- decode ----
    def int_checks(self, c: Lines, t: m.WireType, v: str, where: str, encode: bool, at: str = "") -> None:
        """Range checks of an integer; a decode error names the value and `at`, where it began."""

        def fail(cond: str, msg: str) -> None:
            c.open(f"if {cond} {{")
            if encode:
                c(f"return Err(EncodeError::new({rust_str(where + ': ' + msg)}));")
            else:
                c(f"return Err(r.fail_value({at}, R::InvalidValue, {rust_str(where + ': ' + msg)}, {v}));")
            c.close()

        if t["const"] is not None:
            fail(f"{v} != {_h(t['const'])}", f"not the constant {_h(t['const'])}")
        if t["codes"] is not None and t["closed"]:
            fail(f"{self.p.code_class(t['codes'])}::name_of({v}).is_none()", f"not a {t['codes']} code")
        if t["min"] is not None and t["min"] > 0:
            fail(f"{v} < {_h(t['min'])}", f"below {t['min']}")
        if t["max"] is not None and t["max"] < INT_MAX[t["type"]]:
            fail(f"{v} > {_h(t['max'])}", f"above {t['max']}")
        if t["mask"] is not None:
            fail(f"{v} & !{_h(t['mask'])} != 0", f"bits outside {_h(t['mask'])}")

    def too_large(self, c: Lines, n: str, mx: int | None, where: str, what: str) -> None:
        if mx is not None:
            c.open(f"if {n} > {mx} {{")
            value = f"{n} as u64" if n.endswith(".len()") else n
            msg = rust_str(f"{where}: more than {mx} {what}")
            c(f"return Err(r.fail_value(r.pos, R::TooLarge, {msg}, {value}));")
            c.close()

    def length_expr(self, c: Lines, ln: m.WireLength, end: str) -> str:
        if ln["kind"] == "varint":
            n = self.fresh("n")
            c(f"let {n} = r.varint({end})?;")
            return n
        if ln["kind"] == "field":
            return self.length_ref(ln["field"])
        if ln["kind"] == "fixed":
            return str(ln["size"])
        return f"({end} - r.pos) as u64"

    def frame_decode(self, c: Lines, t: m.WireType, end: str, where: str) -> str:
        """Open the byte frame of `t`; `max_bytes` (too_large) is checked before the bytes."""
        ln = t["frame"]
        assert ln is not None
        sub = self.fresh("e")
        if ln["kind"] == "rest":
            c(f"let {sub} = {end};")
            return sub
        n = self.length_expr(c, ln, end)
        self.too_large(c, n, t.get("max_bytes"), where, "bytes")
        c(f"let {sub} = r.sub_end({n}, {end})?;")
        return sub

    def too_few(self, c: Lines, n: str, t: m.WireType, where: str) -> None:
        if t["min"]:
            empty = t["min"] == 1 and n.endswith(".len()")
            c.open(f"if {n.removesuffix('.len()')}.is_empty() {{" if empty else f"if {n} < {t['min']} {{")
            c(_err("InvalidValue", f"{where}: fewer than {t['min']} elements"))
            c.close()

    def trailing(self, c: Lines, sub: str, where: str) -> None:
        c.open(f"if r.pos != {sub} {{")
        c(f"return Err(r.fail_at(r.pos, R::TrailingBytes, {rust_str(where + ': bytes left in its frame')}));")
        c.close()

    def decode_value(self, c: Lines, t: m.WireType, target: str, end: str, where: str) -> None:
        k = t["type"]
        if k in INT_MAX:
            read = f"r.varint({end})?" if k == "varint" else f"r.uint({INT_SIZE[k]}, {end})?"
            at = ""
            checked = (t["min"] or 0) > 0 or (t["max"] is not None and t["max"] < INT_MAX[k])
            if checked or t["const"] is not None or t["mask"] is not None or (t["codes"] and t["closed"]):
                at = self.fresh("o")
                c(f"let {at} = r.pos;")
            c(f"let {target} = {read};")
            self.int_checks(c, t, target, where, False, at)
            return
        if k in ("bytes", "string"):
            ln = t["length"]
            assert ln is not None
            if ln["kind"] == "fixed":
                raw = f"r.fixed({ln['size']}, {end})?"
            else:
                n = self.length_expr(c, ln, end)
                if ln["kind"] != "rest":
                    self.too_large(c, n, t["max"], where, "bytes")
                raw = f"r.raw({n}, {end})?"
            if k == "string":
                c(f"let {target} = utf8({raw})?;")
            else:
                c(f"let {target} = {raw}.to_vec();")
            if ln["kind"] == "rest" and t["max"] is not None:
                self.too_large(c, f"{target}.len()", t["max"], where, "bytes")
            return
        if k == "struct":
            cls = self.p.cls(self.struct_name(t))
            if t["frame"] is None:
                c(f"let {target} = {cls}::decode_from(r, {end}{self.struct_args(t)})?;")
                return
            sub = self.frame_decode(c, t, end, where)
            c(f"let {target} = {cls}::decode_from(r, {sub}{self.struct_args(t)})?;")
            self.trailing(c, sub, where)
            return
        elem, ln = t["element"], t["length"]
        assert elem is not None and ln is not None
        e = end
        if t["frame"] is not None:
            e = self.frame_decode(c, t, end, where)
        item = self.fresh("x")
        c(f"let mut {target}: {self.rtype(t)} = Vec::new();")
        if ln["kind"] == "rest":
            if self.min_size(elem) == 0:
                raise WireGenError(f"{where}: a list read to its end needs elements of at least one byte")
            c.open(f"while r.pos < {e} {{")
            if t["max"] is not None:
                c.open(f"if {target}.len() >= {t['max']} {{")
                c(_err("TooLarge", f"{where}: more than {t['max']} elements"))
                c.close()
        else:
            count = self.length_expr(c, ln, e)
            self.too_large(c, count, t["max"], where, "elements")
            self.too_few(c, count, t, where)
            # Every element takes at least a byte: a count the input cannot hold fails first.
            c(f"r.need({count}.saturating_mul({max(1, self.min_size(elem))}), {e}, {rust_str(where)})?;")
            c.open(f"for _ in 0..{count} {{")
        self.decode_value(c, elem, item, e, where + "[]")
        c(f"{target}.push({item});")
        c.close()
        if ln["kind"] == "rest":
            self.too_few(c, f"{target}.len()", t, where)
        if t["frame"] is not None and ln["kind"] != "rest":
            self.trailing(c, e, where)

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

    def unpack_flags(self, c: Lines) -> None:
        flags = self.s["flags"]
        if flags:
            used = self.used_flags()
            for i, x in enumerate(flags):
                if x in used:
                    c(f"let {self.flag_vars[x]} = flags[{i}];")

    def decode_fn(self, c: Lines) -> None:
        s = self.s
        params = "".join(f", {self.flag_vars[a]}: bool" for a in s["args"])
        c.open(f"pub(crate) fn decode_from(r: &mut Reader<'_>, end: usize{params}) -> Result<Self, DecodeError> {{")
        for i, f in enumerate(s["fields"]):
            v = self.var(f["name"])
            where = self.where(f["name"])
            if f["when"] is None:
                self.decode_value(c, f["type"], v, "end", where)
            else:
                c(f"let mut {v} = None;")
                c.open(f"if {self.cond(f['when'])} {{")
                tmp = self.fresh("t")
                self.decode_value(c, f["type"], tmp, "end", where)
                c(f"{v} = Some({tmp});")
                c.close()
            if i == 0 and s["variants"]:
                if f["type"]["type"] not in INT_MAX or f["when"] is not None:
                    raise WireGenError(f"{s['name']}: a struct with variants starts with its integer type code")
                if s["flags"]:
                    c.open(f"let Some(flags) = {self.cls}::variant_flags({v}) else {{")
                    c(_err("UnknownType", f"{s['name']}: unknown type code"))
                    c.close("};")
                    self.unpack_flags(c)
                else:
                    c.open(f"if {self.cls}::variant_flags({v}).is_none() {{")
                    c(_err("UnknownType", f"{s['name']}: unknown type code"))
                    c.close()
        if not s["fields"]:
            c("let _ = (r, end);")
        c.struct_lit("Ok(", self.cls, [(self.attrs[f["name"]], self.var(f["name"])) for f in s["fields"]], ")")
        c.close()

    # ---- encode ----
    def length_encode(self, c: Lines, ln: m.WireLength, n: str, out: str, where: str) -> None:
        if ln["kind"] == "varint":
            c(f"write_varint({out}, {n} as u64)?;")
        elif ln["kind"] == "field":
            c.open(f"if {n} as u64 != {self.length_ref(ln['field'])} {{")
            c(_enc_err(where + ": length does not match " + str(ln["field"])))
            c.close()
        elif ln["kind"] == "fixed":
            c.open(f"if {n} != {ln['size']} {{")
            c(f"return Err(EncodeError::new({rust_str(where + ': wrong fixed length')}));")
            c.close()

    def too_large_enc(self, c: Lines, n: str, mx: int | None, where: str) -> None:
        if mx is not None:
            c.open(f"if {n} > {mx} {{")
            c(f"return Err(EncodeError::new({rust_str(where + f': over the limit of {mx}')}));")
            c.close()

    def encode_value(self, c: Lines, t: m.WireType, v: str, out: str, where: str) -> None:
        """`v` is a u64 for integers, a reference otherwise."""
        k = t["type"]
        if k in INT_MAX:
            self.int_checks(c, t, v, where, True)
            if k == "varint":
                c(f"write_varint({out}, {v})?;")
            else:
                c(f"write_uint({out}, {v}, {INT_SIZE[k]})?;")
            return
        if k in ("bytes", "string"):
            ln = t["length"]
            assert ln is not None
            raw = self.fresh("b")
            c(f"let {raw} = {v}.as_bytes();" if k == "string" else f"let {raw}: &[u8] = {v};")
            self.too_large_enc(c, f"{raw}.len()", t["max"], where)
            self.length_encode(c, ln, f"{raw}.len()", out, where)
            c(f"{out}.extend_from_slice({raw});")
            return
        if k == "struct":
            if t["frame"] is None:
                c(f"{v}.encode_into({out}{self.struct_args(t)})?;")
                return
            buf = self.fresh("buf")
            c(f"let mut {buf} = Vec::new();")
            c(f"{v}.encode_into(&mut {buf}{self.struct_args(t)})?;")
            self.too_large_enc(c, f"{buf}.len()", t.get("max_bytes"), where)
            self.length_encode(c, t["frame"], f"{buf}.len()", out, where)
            c(f"{out}.extend_from_slice(&{buf});")
            return
        elem, ln = t["element"], t["length"]
        assert elem is not None and ln is not None
        target = out
        if t["frame"] is not None:
            buf = self.fresh("buf")
            c(f"let mut {buf}: Vec<u8> = Vec::new();")
            target = f"&mut {buf}"
        self.too_large_enc(c, f"{v}.len()", t["max"], where)
        if t["min"]:
            c.open(f"if {v}.is_empty() {{" if t["min"] == 1 else f"if {v}.len() < {t['min']} {{")
            c(f"return Err(EncodeError::new({rust_str(where + ': too few elements')}));")
            c.close()
        self.length_encode(c, ln, f"{v}.len()", target, where)
        item = self.fresh("x")
        pat = f"&{item}" if elem["type"] in INT_MAX else item
        c.open(f"for {pat} in {v} {{")
        self.encode_value(c, elem, item, target, where + "[]")
        c.close()
        if t["frame"] is not None:
            self.too_large_enc(c, f"{target[5:]}.len()", t.get("max_bytes"), where)
            self.length_encode(c, t["frame"], f"{target[5:]}.len()", out, where)
            c(f"{out}.extend_from_slice(&{target[5:]});")

    def encode_fn(self, c: Lines) -> None:
        s = self.s
        params = "".join(f", {self.flag_vars[a]}: bool" for a in s["args"])
        c.open(f"pub(crate) fn encode_into(&self, out: &mut Vec<u8>{params}) -> Result<(), EncodeError> {{")
        for f in s["fields"]:
            a = self.attrs[f["name"]]
            is_int = f["type"]["type"] in INT_MAX
            c(f"let {self.var(f['name'])} = {'' if is_int else '&'}self.{a};")
        for i, f in enumerate(s["fields"]):
            v = self.var(f["name"])
            where = self.where(f["name"])
            if f["when"] is None:
                self.encode_value(c, f["type"], v, "out", where)
            else:
                c.open(f"if {self.cond(f['when'])} {{")
                tmp = self.fresh("t")
                c.open(f"let Some({tmp}) = {v} else {{")
                c(_enc_err(where + " is required when " + self.cond_text(f["when"])))
                c.close("};")
                self.encode_value(c, f["type"], tmp, "out", where)
                c.close()
                c.open(f"else if {v}.is_some() {{")
                c(_enc_err(where + " must be absent unless " + self.cond_text(f["when"])))
                c.close()
            if i == 0 and s["variants"]:
                if s["flags"]:
                    c.open(f"let Some(flags) = {self.cls}::variant_flags({v}) else {{")
                else:
                    c.open(f"if {self.cls}::variant_flags({v}).is_none() {{")
                c(f"return Err(EncodeError::new({rust_str(s['name'] + ': unknown type code')}));")
                c.close("};" if s["flags"] else "}")
                self.unpack_flags(c)
        if not s["fields"]:
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
            c(f"let {self.var(f['name'])} = j.{get}({rust_str(f['name'])})?;")
        c("j.end()?;")
        c.struct_lit("Ok(", self.cls, [(self.attrs[f["name"]], self.var(f["name"])) for f in s["fields"]], ")")
        c.close()

    def emit(self, c: Lines) -> None:
        s = self.s
        c()
        c.doc(s["doc"] or s["name"])
        if s["args"]:
            c("///")
            c.doc(f"Args (passed in by the stream): {', '.join(s['args'])}.")
        consts = {
            f["name"]: f["type"]["const"] for f in s["fields"] if f["type"]["const"] is not None and not f["when"]
        }
        c(f"#[derive(Clone, Debug, {'' if consts else 'Default, '}PartialEq, Eq)]")
        c.open(f"pub struct {self.cls} {{")
        for f in s["fields"]:
            c.doc(
                (f["doc"] or f["name"]) + (" Present only when " + self.cond_text(f["when"]) + "." if f["when"] else "")
            )
            t = self.rtype(f["type"])
            c(f"pub {self.attrs[f['name']]}: {f'Option<{t}>' if f['when'] is not None else t},")
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
        if s["variants"]:
            n = len(s["flags"])
            c.doc(f"The flags ({', '.join(s['flags']) or 'none'}) of a type code; `None` for an unknown code.")
            c.open(f"pub fn variant_flags(code: u64) -> Option<[bool; {n}]> {{")
            c.open("match code {")
            for v in s["variants"]:
                c(f"{_h(v['code'])} => Some([{', '.join(_bool(v['flags'][fl]) for fl in s['flags'])}]),")
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
        c(_err("TrailingBytes", f"bytes left after {s['name']}"))
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
        self.structs = {s["name"]: s for s in proto["structs"]}
        self.code_sets = {c["name"]: c for c in proto["codes"]}

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
        c("pub const DEFAULT_MAX_BUFFER: usize = 1 << 25;")
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
        attr = self.n.plain(self.n.fn_name(st["words"]))
        parser = self.n.type_name([*st["words"], "parser"])
        c()
        c(f"// ---- stream `{st['name']}` ({kind}) ----")
        if kind == "datagram":
            msg = st["message"]
            if msg is None or msg not in self.structs or self.structs[msg]["args"]:
                raise WireGenError(f"stream {st['name']}: message {msg!r} must be a struct without args")
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
            msg = st["message"]
            if msg is None or msg not in self.structs or self.structs[msg]["args"]:
                raise WireGenError(f"stream {st['name']}: message {msg!r} must be a struct without args")
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
            c(_err("InvalidValue", f"{st['name']}: an empty message cannot advance the stream"))
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
            c(_err("Truncated", f"{st['name']}: stream ended inside a message"))
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
        c(_err("TooLarge", f"{st['name']}: too many bytes buffered"))
        c.close()

    def framed(self, c: Lines, st: m.WireStream, attr: str, parser: str) -> None:
        dispatch = st["dispatch"]
        if dispatch is None or dispatch not in self.code_sets:
            raise WireGenError(f"stream {st['name']}: dispatch {dispatch!r} is not a code set")
        rows: list[tuple[int, str]] = []
        by_struct: dict[str, list[int]] = {}
        for cv in self.code_sets[dispatch]["values"]:
            if cv["struct"] is None:
                continue
            if cv["struct"] not in self.structs or self.structs[cv["struct"]]["args"]:
                raise WireGenError(
                    f"stream {st['name']}: {cv['name']} names {cv['struct']!r}, not a struct without args"
                )
            rows.append((cv["value"], cv["struct"]))
            by_struct.setdefault(cv["struct"], []).append(cv["value"])
        length = st["length"] or "varint"
        type_kind = st["type"] or "varint"
        limit = INT_MAX[length] if st["max"] is None else min(st["max"], INT_MAX[length])
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
        c(_err("UnknownType", f"{st['name']}: unknown message type"))
        c.close()
        c.open(f"if length > {const}_MAX_LENGTH || length > self.max_buffer as u64 {{")
        c(_err("TooLarge", f"{st['name']}: a message is over the limit"))
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
        c(_err("TrailingBytes", f"{st['name']}: bytes left in the message"))
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
        c(_err("LengthPastEnd", f"{st['name']}: stream ended inside a message"))
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
        headers = []
        for h in st["headers"]:
            hs = self.structs.get(h["header"])
            obj = self.structs.get(h["object"])
            if hs is None or obj is None or not hs["fields"]:
                raise WireGenError(f"stream {st['name']}: header {h['header']!r} or object {h['object']!r} unknown")
            if not h["codes"]:
                raise WireGenError(f"stream {st['name']}: header {h['header']} has no type codes")
            first = hs["fields"][0]["type"]["type"]
            if first not in INT_MAX:
                raise WireGenError(f"stream {st['name']}: header {h['header']} must start with its type code")
            idx: list[int] = []
            for a in obj["args"]:
                flag = h["args"].get(a)
                if flag is None or flag not in hs["flags"]:
                    raise WireGenError(f"stream {st['name']}: object arg {a!r} is not mapped to a header flag")
                idx.append(hs["flags"].index(flag))
            headers.append((h, hs, obj, first, idx))
        names: list[str] = []
        for h, _hs, _obj, _f, _i in headers:
            for x in (h["header"], h["object"]):
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
        c(f"failed = Some(err(R::InvalidValue, {rust_str(st['name'] + ': an empty object cannot advance')}));")
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
        c(_err("TooLarge", f"{st['name']}: too many bytes buffered"))
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
        c(_err("Truncated", f"{st['name']}: stream ended inside an object"))
        c.close()
        c("Ok(())")
        c.close()
        c()
        c.open(f"fn start(&mut self, r: &mut Reader<'_>) -> Result<{item_alias}, DecodeError> {{")
        c("let stop = r.buf.len();")
        c("let mut peek = Reader::new(r.buf, true);")
        c("peek.pos = r.pos;")
        c(f"let code = {self.read_int(headers[0][3], 'stop').replace('r.', 'peek.')}?;")
        for i, (h, hs, _obj, first, _idx) in enumerate(headers):
            if i and first != headers[0][3]:
                raise WireGenError(f"stream {st['name']}: headers must share their type code encoding")
            hc = self.cls(h["header"])
            c.matches("if ", "code", _patterns(h["codes"]), " {")
            c.level += 1
            c(f"let h = {hc}::decode_from(r, stop)?;")
            if hs["variants"]:
                first_attr = self.n.field_name(hs["fields"][0]["words"])
                c(f"self.flags = flags_of({hc}::variant_flags(h.{first_attr}));")
            c(f"self.header = Some({i});")
            c(f"return Ok({item_alias}::{hc}(h));")
            c.close()
        c(_err("UnknownType", f"{st['name']}: unknown stream type").removeprefix("return ").removesuffix(";"))
        c.close()
        c()
        c.open(f"fn object(&self, r: &mut Reader<'_>) -> Result<{item_alias}, DecodeError> {{")
        c("let stop = r.buf.len();")
        c.open("match self.header {")
        for i, (h, _hs, _obj, _first, idx) in enumerate(headers):
            oc = self.cls(h["object"])
            args = "".join(f", self.flags[{x}]" for x in idx)
            one = f"Some({i}) => Ok({item_alias}::{oc}({oc}::decode_from(r, stop{args})?)),"
            if len(one) + 4 * c.level <= 100:
                c(one)
            else:
                c.open(f"Some({i}) => {{")
                c(f"let v = {oc}::decode_from(r, stop{args})?;")
                c(f"Ok({item_alias}::{oc}(v))")
                c.close()
        c(_err("UnknownType", f"{st['name']}: no header").replace("return ", "_ => ").replace(";", ","))
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
        for i, (h, hs, obj, _first, idx) in enumerate(headers):
            hc, oc = self.cls(h["header"]), self.cls(h["object"])
            c.open(f"({item_alias}::{hc}(h), None) if i == 0 => {{")
            c("out.extend(h.encode()?);")
            if hs["variants"]:
                first_attr = self.n.field_name(hs["fields"][0]["words"])
                c(f"let f = flags_of({hc}::variant_flags(h.{first_attr}));")
                c(f"flags = Some(({i}, f));")
            else:
                c(f"flags = Some(({i}, Vec::new()));")
            c.close()
            args = ", ".join(f"f[{x}]" for x in idx)
            fpat = "f" if idx else "_"
            c(f"({item_alias}::{oc}(o), Some(({i}, {fpat}))) => out.extend(o.encode({args})?),")
            del obj
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
