"""One Go package per wire protocol (`wire/<name>`), generated from the IR's `wire` list.

Nothing here knows a protocol: structs, code sets, conditions, lengths, frames, variants and
stream grammars are read from the IR, with the same decode order and error reasons as the
Python target (see tests/vectors/README.md, "The order in which decode errors are found").
Conditional fields are pointers (nil = absent); integers are uint64.
"""

from __future__ import annotations

from typing import Any

from ...ir.model import WireCond, WireField, WireLength, WireProtocol, WireStream, WireStruct, WireType
from ..common import INT_MAX, INT_SIZE, WireGenError, cond_text, embedded_args, min_size
from .gotext import Code, go_string
from .namer import GoNamer


class _Fresh:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"


def _unparen(v: str) -> str:
    return v[1:-1] if v.startswith("(*") and v.endswith(")") else v


def _hex(n: int) -> str:
    return hex(n) if n > 9 else str(n)


class WireEmitter:
    def __init__(self, p: WireProtocol, namer: GoNamer, module: str) -> None:
        self.p = p
        self.n = namer
        self.module = module
        self.structs: dict[str, WireStruct] = {s["name"]: s for s in p["structs"]}
        self.codes = {cs["name"]: cs for cs in p["codes"]}
        self.pkg = namer.package(p["words"])

    # ---- names ----
    def t(self, struct: str) -> str:
        return self.n.type_name(self.structs[struct]["words"])

    def fname(self, f: WireField) -> str:
        return self.n.field_name(f["words"])

    def arg(self, name: str) -> str:
        return self.n.local(["arg", *name.split("_")])

    def flag(self, name: str) -> str:
        return "fl." + self.n.exported(name.split("_"))

    def go_type(self, t: WireType) -> str:
        k = t["type"]
        if k in INT_MAX:
            return "uint64"
        if k == "bytes":
            return "[]byte"
        if k == "string":
            return "string"
        if k == "struct":
            return self.t(str(t["struct"]))
        assert t["element"] is not None
        return "[]" + self.go_type(t["element"])

    def args_params(self, s: WireStruct) -> str:
        return "".join(f", {self.arg(a)} bool" for a in s["args"])

    def args_pass(self, s: WireStruct) -> str:
        return "".join(f", {self.arg(a)}" for a in s["args"])

    def struct_args(self, cur: WireStruct, target: str) -> str:
        names = embedded_args(cur, self.structs[target])
        return "".join(", " + (self.arg(a) if a in cur["args"] else self.flag(a)) for a in names)

    # ---- file ----
    def emit(self) -> tuple[list[str], str]:
        """The package doc lines and the body (after the imports)."""
        c = Code()
        p = self.p
        doc = Code()
        doc.doc(
            0,
            f"Package {self.pkg} is the wire protocol {p['name']} (family {p['family']}, version "
            f"{hex(p['version'])}): {p['doc']}",
        )
        doc.add(0, "//")
        doc.doc(
            0,
            "Decode<Struct> decodes a whole input (leftover bytes are trailing_bytes); AppendWire "
            "encodes and refuses values their declaration forbids (*EncodeError). MarshalJSON and "
            "UnmarshalJSON use the golden vectors' value format. Decoding returns only *DecodeError. "
            "Conditional fields are pointers: nil when the field is absent.",
        )
        c.add(0, "// Family is the protocol family.")
        c.add(0, f"const Family = {go_string(p['family'])}")
        c.add(0, "")
        c.add(0, "// Version is the protocol version.")
        c.add(0, f"const Version uint64 = {hex(p['version'])}")
        c.add(0, "")
        c.add(0, "// ALPN is the protocol's ALPN string (empty when it has none).")
        c.add(0, f"const ALPN = {go_string(p['alpn'] or '')}")
        c.add(0, "")
        c.add(0, "// Value is any struct of this package.")
        c.add(0, "type Value = rt.Value")
        c.add(0, "")
        c.add(0, "// Parser is an incremental stream parser.")
        c.add(0, "type Parser = rt.Parser")
        c.add(0, "")
        c.add(0, "// StructCodec is a by-name registry entry of a struct.")
        c.add(0, "type StructCodec = rt.StructCodec")
        c.add(0, "")
        c.add(0, "// StreamCodec describes one stream grammar.")
        c.add(0, "type StreamCodec = rt.StreamCodec")
        c.add(0, "")
        for cs in p["codes"]:
            self.code_set(c, cs)
        for s in p["structs"]:
            self.struct(c, s)
        for st in p["streams"]:
            self.stream(c, st)
        self.registry(c)
        return [line[3:] if line.startswith("// ") else "" for line in doc.lines], "\n".join(c.lines)

    def code_set(self, c: Code, cs: Any) -> None:
        c.add(0, f"// The codes of {cs['name']}.")
        c.add(0, "const (")
        for i, v in enumerate(cs["values"]):
            if i:
                c.add(0, "")
            c.doc(1, f"{self.n.code_const(cs['words'], v['words'])} ({cs['name']}): {v['doc']}", 92)
            c.add(1, f"{self.n.code_const(cs['words'], v['words'])} uint64 = {_hex(v['value'])}")
        c.add(0, ")")
        c.add(0, "")
        fn = self.n.exported([*cs["words"], "name"])
        c.doc(0, f"{fn} is the IDL name of a {cs['name']} value ({'closed' if cs['closed'] else 'open'}): {cs['doc']}")
        c.add(0, f"func {fn}(v uint64) (string, bool) {{")
        c.add(1, "switch v {")
        for v in cs["values"]:
            c.add(1, f"case {_hex(v['value'])}:")
            c.add(2, f"return {go_string(v['name'])}, true")
        c.add(1, "}")
        c.add(1, 'return "", false')
        c.add(0, "}")
        c.add(0, "")
        c.add(0, f"func is{fn}(v uint64) bool {{")
        c.add(1, f"_, ok := {fn}(v)")
        c.add(1, "return ok")
        c.add(0, "}")
        c.add(0, "")

    # ---- structs ----
    def struct(self, c: Code, s: WireStruct) -> None:
        t = self.t(s["name"])
        c.doc(0, f"{t}: {s['doc']}")
        if s["args"]:
            c.doc(0, f"Args (passed in by the stream): {', '.join(s['args'])}.")
        c.add(0, f"type {t} struct {{")
        for f in s["fields"]:
            doc = f["doc"] + (" Conditional: nil when absent." if f["when"] else "")
            c.doc(1, f"{self.fname(f)} ({f['name']}): {doc}")
            c.add(1, f"{self.fname(f)} {'*' if f['when'] else ''}{self.go_type(f['type'])}")
            c.add(0, "")
        if c.lines[-1] == "":
            c.lines.pop()
        c.add(0, "}")
        c.add(0, "")
        c.add(0, "// WireName is the IDL name of the struct.")
        c.add(0, f"func (s *{t}) WireName() string {{")
        c.add(1, f"return {go_string(s['name'])}")
        c.add(0, "}")
        c.add(0, "")
        consts = [f for f in s["fields"] if f["type"]["const"] is not None and f["when"] is None]
        if consts:
            # The zero value would fail to encode: offer a value with the constants already set.
            c.add(0, f"// New{t} returns a {t} with its constant fields set; the zero value fails to encode.")
            c.add(0, f"func New{t}() *{t} {{")
            sets = ", ".join(f"{self.fname(f)}: {_hex(int(f['type']['const'] or 0))}" for f in consts)
            c.add(1, f"return &{t}{{{sets}}}")
            c.add(0, "}")
            c.add(0, "")
        if s["variants"]:
            self.variants(c, s, t)
        self.decode(c, s, t)
        self.encode(c, s, t)
        self.to_json(c, s, t)
        self.from_json(c, s, t)

    def variants(self, c: Code, s: WireStruct, t: str) -> None:
        ft = t + "Flags"
        c.add(0, f"// {ft} are the flags a {s['name']} type code stands for.")
        c.add(0, f"type {ft} struct {{")
        for i, fl in enumerate(s["flags"]):
            if i:
                c.add(0, "")
            c.add(1, f"{self.n.exported(fl.split('_'))} bool")
        c.add(0, "}")
        c.add(0, "")
        c.add(0, f"func flags{t}(code uint64) ({ft}, bool) {{")
        c.add(1, "switch code {")
        for v in s["variants"]:
            c.add(1, f"case {_hex(v['code'])}:")
            vals = ", ".join(
                f"{self.n.exported(k.split('_'))}: {'true' if v['flags'].get(k) else 'false'}" for k in s["flags"]
            )
            c.add(2, f"return {ft}{{{vals}}}, true")
        c.add(1, "}")
        c.add(1, f"return {ft}{{}}, false")
        c.add(0, "}")
        c.add(0, "")
        c.add(0, "// TypeFlags are the flags of the struct's type code; false for a code it does not define.")
        c.add(0, f"func (s *{t}) TypeFlags() ({ft}, bool) {{")
        c.add(1, f"return flags{t}(s.{self.fname(s['fields'][0])})")
        c.add(0, "}")
        c.add(0, "")

    def refs(self, s: WireStruct) -> set[str]:
        out: set[str] = set()

        def walk(t: WireType) -> None:
            for ln in (t["length"], t["frame"]):
                if ln is not None and ln["kind"] == "field" and ln["field"]:
                    out.add(ln["field"])
            if t["element"] is not None:
                walk(t["element"])

        for f in s["fields"]:
            if f["when"] is not None and f["when"]["op"] != "flag":
                out.add(f["when"]["name"])
            walk(f["type"])
        return out

    def ref(self, name: str) -> str:
        return self.n.local(["f", *name.split("_")])

    def cond(self, s: WireStruct, w: WireCond) -> str:
        if w["op"] == "flag":
            x = self.arg(w["name"]) if w["name"] in s["args"] else self.flag(w["name"])
            return x if w["value"] else "!" + x
        v = self.ref(w["name"])
        val = w["value"]
        if w["op"] == "eq":
            return f"{v} == {val}"
        if w["op"] == "ne":
            return f"{v} != {val}"
        if w["op"] == "in":
            assert isinstance(val, list)
            return " || ".join(f"{v} == {x}" for x in val)
        if w["op"] == "not_in":
            assert isinstance(val, list)
            return " && ".join(f"{v} != {x}" for x in val)
        if w["op"] == "even":
            return f"{v}%2 == 0"
        return f"{v}%2 == 1"

    def cond_text(self, w: WireCond) -> str:
        return cond_text(w, clear="unset")

    def min_size(self, t: WireType) -> int:
        return min_size(t, self.structs)

    # ---- decode ----
    def length_dec(self, c: Code, ind: int, ln: WireLength, end: str, fresh: _Fresh) -> str:
        """A uint64 expression for a declared length or count."""
        if ln["kind"] == "varint":
            n = fresh("n")
            c.add(ind, f"{n}, err := r.Varint({end})")
            self.ret(c, ind)
            return n
        if ln["kind"] == "field":
            return self.ref(str(ln["field"]))
        if ln["kind"] == "fixed":
            return f"uint64({ln['size']})"
        return f"uint64({end}-r.Pos)"

    def ret(self, c: Code, ind: int, val: str = "err") -> None:
        c.add(ind, "if err != nil {")
        c.add(ind + 1, f"return {val}")
        c.add(ind, "}")

    def too_large_dec(self, c: Code, ind: int, n: str, mx: int | None, where: str, what: str) -> None:
        if mx is not None:
            c.add(ind, f"if {n} > {mx} {{")
            c.add(
                ind + 1, f'return rt.Errf(rt.ReasonTooLarge, r.Offset(r.Pos), "{where}: %d {what}, at most {mx}", {n})'
            )
            c.add(ind, "}")

    def int_checks(self, c: Code, ind: int, t: WireType, v: str, where: str, fail: str) -> None:
        """Constraint checks; `fail` formats one error return from a message format and args."""

        def check(cond: str, msg: str, *args: str) -> None:
            c.add(ind, f"if {cond} {{")
            c.add(ind + 1, fail.format(msg=f"{where}: {msg}", args="".join(", " + a for a in args)))
            c.add(ind, "}")

        if t["const"] is not None:
            check(f"{v} != {_hex(t['const'])}", f"%d is not the constant {t['const']}", v)
        if t["codes"] is not None and t["closed"]:
            fn = self.n.exported([*self.codes[t["codes"]]["words"], "name"])
            check(f"!is{fn}({v})", f"%d is not a {t['codes']} code", v)
        if t["min"] is not None and t["min"] > 0:
            check(f"{v} < {_hex(t['min'])}", f"%d is below {t['min']}", v)
        if t["max"] is not None and t["max"] < INT_MAX[t["type"]]:
            check(f"{v} > {_hex(t['max'])}", f"%d is above {t['max']}", v)
        if t["mask"] is not None:
            check(f"{v}&^{_hex(t['mask'])} != 0", f"%#x has bits outside {_hex(t['mask'])}", v)

    def frame_dec(self, c: Code, ind: int, t: WireType, end: str, where: str, fresh: _Fresh) -> str:
        ln = t["frame"]
        assert ln is not None
        sub = fresh("e")
        if ln["kind"] == "rest":
            c.add(ind, f"{sub} := {end}")
            return sub
        n = self.length_dec(c, ind, ln, end, fresh)
        self.too_large_dec(c, ind, n, t.get("max_bytes"), where, "bytes")
        c.add(ind, f'{sub}, err := r.SubEnd({n}, {end}, "{where}")')
        self.ret(c, ind)
        return sub

    def trailing_dec(self, c: Code, ind: int, sub: str, where: str) -> None:
        c.add(ind, f'if err := r.Trailing({sub}, "{where}"); err != nil {{')
        c.add(ind + 1, "return err")
        c.add(ind, "}")

    def dec_value(self, c: Code, ind: int, s: WireStruct, t: WireType, end: str, where: str, fresh: _Fresh) -> str:
        k = t["type"]
        v = fresh("t")
        if k in INT_MAX:
            o = fresh("o")
            has_checks = any(t[x] is not None for x in ("const", "min", "max", "mask")) or (
                t["codes"] is not None and t["closed"]
            )
            if has_checks:
                c.add(ind, f"{o} := r.Pos")
            if k == "varint":
                c.add(ind, f"{v}, err := r.Varint({end})")
            else:
                c.add(ind, f"{v}, err := r.Uint({INT_SIZE[k]}, {end})")
            self.ret(c, ind)
            if has_checks:
                self.int_checks(
                    c, ind, t, v, where, "return rt.Errf(rt.ReasonInvalidValue, r.Offset(" + o + '), "{msg}"{args})'
                )
            return v
        if k in ("bytes", "string"):
            ln = t["length"]
            assert ln is not None
            if ln["kind"] == "fixed":
                c.add(ind, f"{v}, err := r.Fixed({ln['size']}, {end})")
                self.ret(c, ind)
            else:
                n = self.length_dec(c, ind, ln, end, fresh)
                if ln["kind"] != "rest":
                    self.too_large_dec(c, ind, n, t["max"], where, "bytes")
                c.add(ind, f"{v}, err := r.Raw({n}, {end})")
                self.ret(c, ind)
                if ln["kind"] == "rest" and t["max"] is not None:
                    self.too_large_dec(c, ind, f"len({v})", t["max"], where, "bytes")
            if k == "string":
                sv = fresh("t")
                c.add(ind, f"{sv}, err := r.Text({v})")
                self.ret(c, ind)
                return sv
            return v
        if k == "struct":
            name = str(t["struct"])
            c.add(ind, f"var {v} {self.t(name)}")
            e = end
            if t["frame"] is not None:
                e = self.frame_dec(c, ind, t, end, where, fresh)
            c.add(ind, f"if err := {v}.decodeFrom(r, {e}{self.struct_args(s, name)}); err != nil {{")
            c.add(ind + 1, "return err")
            c.add(ind, "}")
            if t["frame"] is not None:
                self.trailing_dec(c, ind, e, where)
            return v
        # list
        elem = t["element"]
        ln = t["length"]
        assert elem is not None and ln is not None
        e = end
        if t["frame"] is not None:
            e = self.frame_dec(c, ind, t, end, where, fresh)
        c.add(ind, f"var {v} {self.go_type(t)}")
        if ln["kind"] == "rest":
            if self.min_size(elem) == 0:
                raise WireGenError(f"{where}: a list read to its end needs elements of at least one byte")
            c.add(ind, f"for r.Pos < {e} {{")
            if t["max"] is not None:
                c.add(ind + 1, f"if len({v}) >= {t['max']} {{")
                c.add(
                    ind + 2,
                    f'return rt.Errf(rt.ReasonTooLarge, r.Offset(r.Pos), "{where}: more than {t["max"]} elements")',
                )
                c.add(ind + 1, "}")
        else:
            count = self.length_dec(c, ind, ln, e, fresh)
            self.too_large_dec(c, ind, count, t["max"], where, "elements")
            if t.get("min"):
                c.add(ind, f"if {count} < {t['min']} {{")
                c.add(ind + 1, f'return rt.Errf(rt.ReasonInvalidValue, r.Offset(r.Pos), "{where}: too few elements")')
                c.add(ind, "}")
            c.add(ind, f'if err := r.NeedCount({count}, {max(1, self.min_size(elem))}, {e}, "{where}"); err != nil {{')
            c.add(ind + 1, "return err")
            c.add(ind, "}")
            i = fresh("i")
            c.add(ind, f"for {i} := uint64(0); {i} < {count}; {i}++ {{")
        x = self.dec_value(c, ind + 1, s, elem, e, where + "[]", fresh)
        c.add(ind + 1, f"{v} = append({v}, {x})")
        c.add(ind, "}")
        if ln["kind"] == "rest" and t.get("min"):
            c.add(ind, f"if len({v}) < {t['min']} {{")
            c.add(ind + 1, f'return rt.Errf(rt.ReasonInvalidValue, r.Offset(r.Pos), "{where}: too few elements")')
            c.add(ind, "}")
        if t["frame"] is not None and ln["kind"] != "rest":
            self.trailing_dec(c, ind, e, where)
        return v

    def decode(self, c: Code, s: WireStruct, t: str) -> None:
        args = self.args_params(s)
        c.add(0, f"// Decode{t} decodes all of b as one {s['name']}; errors are *DecodeError.")
        c.add(0, f"func Decode{t}(b []byte{args}) (*{t}, error) {{")
        c.add(1, "r := &rt.Reader{Buf: b}")
        c.add(1, f"s := new({t})")
        c.add(1, f"if err := s.decodeFrom(r, len(b){self.args_pass(s)}); err != nil {{")
        c.add(2, "return nil, err")
        c.add(1, "}")
        c.add(1, f'if err := r.Trailing(len(b), "{s["name"]}"); err != nil {{')
        c.add(2, "return nil, err")
        c.add(1, "}")
        c.add(1, "return s, nil")
        c.add(0, "}")
        c.add(0, "")
        fresh = _Fresh()
        refs = self.refs(s)
        c.add(0, f"func (s *{t}) decodeFrom(r *rt.Reader, end int{args}) error {{")
        for i, f in enumerate(s["fields"]):
            where = f"{s['name']}.{f['name']}"
            fn = "s." + self.fname(f)
            if f["when"] is None:
                v = self.dec_value(c, 1, s, f["type"], "end", where, fresh)
                c.add(1, f"{fn} = {v}")
                if f["name"] in refs:
                    c.add(1, f"{self.ref(f['name'])} := {v}")
            else:
                if f["name"] in refs:
                    c.add(1, f"var {self.ref(f['name'])} uint64")
                c.add(1, f"if {self.cond(s, f['when'])} {{")
                v = self.dec_value(c, 2, s, f["type"], "end", where, fresh)
                c.add(2, f"{fn} = &{v}")
                if f["name"] in refs:
                    c.add(2, f"{self.ref(f['name'])} = {v}")
                c.add(1, "}")
            if i == 0 and s["variants"]:
                c.add(1, f"fl, ok := flags{t}({fn})")
                c.add(1, "if !ok {")
                c.add(
                    2, f'return rt.Errf(rt.ReasonUnknownType, r.Offset(r.Pos), "{s["name"]}: unknown type %#x", {fn})'
                )
                c.add(1, "}")
                if not any(
                    f2["when"] and f2["when"]["op"] == "flag" and f2["when"]["name"] in s["flags"] for f2 in s["fields"]
                ) and not self.flags_used_by_structs(s):
                    c.add(1, "_ = fl")
        c.add(1, "return nil")
        c.add(0, "}")
        c.add(0, "")

    def flags_used_by_structs(self, s: WireStruct) -> bool:
        def walk(t: WireType) -> bool:
            if t["type"] == "struct":
                return any(a in s["flags"] for a in self.structs[str(t["struct"])]["args"])
            return t["element"] is not None and walk(t["element"])

        return any(walk(f["type"]) for f in s["fields"])

    # ---- encode ----
    def enc_err(self, msg: str, *args: str) -> str:
        return f'return b, rt.EncErrf("{msg}"{"".join(", " + a for a in args)})'

    def length_enc(self, c: Code, ind: int, ln: WireLength, n: str, where: str) -> None:
        if ln["kind"] == "varint":
            c.add(ind, f"b, err = rt.AppendQUICVarint(b, uint64({n}))")
            self.ret(c, ind, "b, err")
        elif ln["kind"] == "field":
            c.add(ind, f"if uint64({n}) != {self.ref(str(ln['field']))} {{")
            c.add(ind + 1, self.enc_err(f"{where}: its length does not match {ln['field']}"))
            c.add(ind, "}")
        elif ln["kind"] == "fixed":
            c.add(ind, f"if {n} != {ln['size']} {{")
            c.add(ind + 1, self.enc_err(f"{where}: %d, not exactly {ln['size']}", n))
            c.add(ind, "}")

    def enc_value(self, c: Code, ind: int, s: WireStruct, t: WireType, v: str, where: str, fresh: _Fresh) -> None:
        k = t["type"]
        if k in INT_MAX:
            self.int_checks(c, ind, t, v, where, 'return b, rt.EncErrf("{msg}"{args})')
            if k == "varint":
                c.add(ind, f"b, err = rt.AppendQUICVarint(b, {v})")
            else:
                c.add(ind, f"b, err = rt.AppendUint(b, {v}, {INT_SIZE[k]})")
            self.ret(c, ind, "b, err")
            return
        if k in ("bytes", "string"):
            ln = t["length"]
            assert ln is not None
            if k == "string":
                c.add(ind, f"if !utf8.ValidString({v}) {{")
                c.add(ind + 1, self.enc_err(f"{where}: not UTF-8"))
                c.add(ind, "}")
            if t["max"] is not None:
                c.add(ind, f"if len({v}) > {t['max']} {{")
                c.add(ind + 1, self.enc_err(f"{where}: %d bytes, at most {t['max']}", f"len({v})"))
                c.add(ind, "}")
            self.length_enc(c, ind, ln, f"len({v})", where)
            c.add(ind, f"b = append(b, {v}...)")
            return
        if k == "struct":
            name = str(t["struct"])
            if t["frame"] is None:
                c.add(ind, f"b, err = {v}.AppendWire(b{self.struct_args(s, name)})")
                self.ret(c, ind, "b, err")
                return
            sub = fresh("sub")
            c.add(ind, f"{sub}, err := {v}.AppendWire(nil{self.struct_args(s, name)})")
            self.ret(c, ind, "b, err")
            self.frame_enc(c, ind, t, sub, where)
            return
        elem = t["element"]
        ln = t["length"]
        assert elem is not None and ln is not None
        outer = None
        if t["frame"] is not None:
            outer = fresh("outer")
            c.add(ind, f"{outer} := b")
            c.add(ind, "b = nil")
        if t["max"] is not None:
            c.add(ind, f"if len({v}) > {t['max']} {{")
            c.add(ind + 1, self.enc_err(f"{where}: %d elements, at most {t['max']}", f"len({v})"))
            c.add(ind, "}")
        self.length_enc(c, ind, ln, f"len({v})", where)
        x = fresh("x")
        c.add(ind, f"for _, {x} := range {_unparen(v)} {{")
        self.enc_value(c, ind + 1, s, elem, x, where + "[]", fresh)
        c.add(ind, "}")
        if outer is not None:
            sub = fresh("sub")
            c.add(ind, f"{sub} := b")
            c.add(ind, f"b = {outer}")
            self.frame_enc(c, ind, t, sub, where)

    def frame_enc(self, c: Code, ind: int, t: WireType, sub: str, where: str) -> None:
        ln = t["frame"]
        assert ln is not None
        mb = t.get("max_bytes")
        if mb is not None:
            c.add(ind, f"if len({sub}) > {mb} {{")
            c.add(ind + 1, self.enc_err(f"{where}: %d bytes, at most {mb}", f"len({sub})"))
            c.add(ind, "}")
        self.length_enc(c, ind, ln, f"len({sub})", where)
        c.add(ind, f"b = append(b, {sub}...)")

    def encode(self, c: Code, s: WireStruct, t: str) -> None:
        args = self.args_params(s)
        c.add(0, "// MarshalWire encodes s; errors are *EncodeError.")
        c.add(0, f"func (s *{t}) MarshalWire({args.lstrip(', ')}) ([]byte, error) {{")
        c.add(1, f"return s.AppendWire(nil{self.args_pass(s)})")
        c.add(0, "}")
        c.add(0, "")
        fresh = _Fresh()
        refs = self.refs(s)
        body = Code()
        for i, f in enumerate(s["fields"]):
            where = f"{s['name']}.{f['name']}"
            fn = "s." + self.fname(f)
            if f["when"] is None:
                if f["name"] in refs:
                    body.add(1, f"{self.ref(f['name'])} := {fn}")
                self.enc_value(body, 1, s, f["type"], fn, where, fresh)
            else:
                if f["name"] in refs:
                    body.add(1, f"var {self.ref(f['name'])} uint64")
                    body.add(1, f"if {fn} != nil {{")
                    body.add(2, f"{self.ref(f['name'])} = *{fn}")
                    body.add(1, "}")
                body.add(1, f"if {self.cond(s, f['when'])} {{")
                body.add(2, f"if {fn} == nil {{")
                body.add(3, self.enc_err(f"{where} is required when {self.cond_text(f['when'])}"))
                body.add(2, "}")
                self.enc_value(body, 2, s, f["type"], f"(*{fn})", where, fresh)
                body.add(1, f"}} else if {fn} != nil {{")
                body.add(2, self.enc_err(f"{where} must be absent unless {self.cond_text(f['when'])}"))
                body.add(1, "}")
            if i == 0 and s["variants"]:
                body.add(1, f"fl, ok := flags{t}({fn})")
                body.add(1, "if !ok {")
                body.add(2, self.enc_err(f"{s['name']}: unknown type %#x", fn))
                body.add(1, "}")
                if not any(
                    f2["when"] and f2["when"]["op"] == "flag" and f2["when"]["name"] in s["flags"] for f2 in s["fields"]
                ) and not self.flags_used_by_structs(s):
                    body.add(1, "_ = fl")
        c.add(0, "// AppendWire appends the wire bytes of s to b; errors are *EncodeError.")
        c.add(0, f"func (s *{t}) AppendWire(b []byte{args}) ([]byte, error) {{")
        uses_err = any("err" in line for line in body.lines)
        if uses_err:
            c.add(1, "var err error")
        c.lines.extend(body.lines)
        c.add(1, "return b, nil")
        c.add(0, "}")
        c.add(0, "")

    # ---- JSON (vector value format) ----
    def json_value(self, c: Code, ind: int, t: WireType, v: str, fresh: _Fresh) -> None:
        k = t["type"]
        if k in INT_MAX:
            c.add(ind, f"b = rt.AppendWireInt(b, {v})")
        elif k == "bytes":
            c.add(ind, f"b = rt.AppendHex(b, {v})")
        elif k == "string":
            c.add(ind, f"b = rt.AppendString(b, {v})")
        elif k == "struct":
            c.add(ind, f"b = {v}.appendJSON(b)")
        else:
            assert t["element"] is not None
            i, x = fresh("i"), fresh("x")
            c.add(ind, "b = append(b, '[')")
            c.add(ind, f"for {i}, {x} := range {_unparen(v)} {{")
            c.add(ind + 1, f"if {i} > 0 {{")
            c.add(ind + 2, "b = append(b, ',')")
            c.add(ind + 1, "}")
            self.json_value(c, ind + 1, t["element"], x, fresh)
            c.add(ind, "}")
            c.add(ind, "b = append(b, ']')")

    def to_json(self, c: Code, s: WireStruct, t: str) -> None:
        c.add(0, "// MarshalJSON writes the vector value format (absent conditional fields are left out).")
        c.add(0, f"func (s {t}) MarshalJSON() ([]byte, error) {{")
        c.add(1, "return s.appendJSON(nil), nil")
        c.add(0, "}")
        c.add(0, "")
        fresh = _Fresh()
        c.add(0, f"func (s *{t}) appendJSON(b []byte) []byte {{")
        c.add(1, "start := len(b)")
        c.add(1, "b = append(b, '{')")
        for f in s["fields"]:
            fn = "s." + self.fname(f)
            key = f"b = append(b, {go_string(',' + go_string(f['name']) + ':')}...)"
            if f["when"] is None:
                c.add(1, key)
                self.json_value(c, 1, f["type"], fn, fresh)
            else:
                c.add(1, f"if {fn} != nil {{")
                c.add(2, key)
                self.json_value(c, 2, f["type"], f"(*{fn})", fresh)
                c.add(1, "}")
        c.add(1, "return rt.CloseObject(b, start)")
        c.add(0, "}")
        c.add(0, "")

    def json_read(self, c: Code, ind: int, t: WireType, src: str, where: str, fresh: _Fresh) -> str:
        k = t["type"]
        v = fresh("j")
        if k in INT_MAX or k in ("bytes", "string"):
            fn = "rt.WireInt" if k in INT_MAX else ("rt.WireHex" if k == "bytes" else "rt.WireText")
            c.add(ind, f'{v}, err := {fn}({src}, "{where}")')
            self.ret(c, ind)
            return v
        if k == "struct":
            c.add(ind, f"var {v} {self.t(str(t['struct']))}")
            c.add(ind, f'if err := {v}.fromJSON({src}, "{where}"); err != nil {{')
            c.add(ind + 1, "return err")
            c.add(ind, "}")
            return v
        assert t["element"] is not None
        arr = fresh("arr")
        c.add(ind, f'{arr}, err := rt.Array({src}, "{where}")')
        self.ret(c, ind)
        c.add(ind, f"{v} := {self.go_type(t)}{{}}")
        el = fresh("el")
        c.add(ind, f"for _, {el} := range {arr} {{")
        x = self.json_read(c, ind + 1, t["element"], el, where + "[]", fresh)
        c.add(ind + 1, f"{v} = append({v}, {x})")
        c.add(ind, "}")
        return v

    def from_json(self, c: Code, s: WireStruct, t: str) -> None:
        name = s["name"]
        c.add(0, "// UnmarshalJSON reads the vector value format; errors are *DecodeError (invalid_json).")
        c.add(0, f"func (s *{t}) UnmarshalJSON(data []byte) error {{")
        c.add(1, "v, err := rt.ParseJSON(data)")
        c.add(1, "if err != nil {")
        c.add(2, "return err")
        c.add(1, "}")
        c.add(1, f"*s = {t}{{}}")
        c.add(1, f'return s.fromJSON(v, "{name}")')
        c.add(0, "}")
        c.add(0, "")
        fresh = _Fresh()
        names = ", ".join(go_string(f["name"]) for f in s["fields"])
        c.add(0, f"func (s *{t}) fromJSON(v any, where string) error {{")
        c.add(1, f"m, err := rt.WireObj(v, where{', ' + names if names else ''})")
        c.add(1, "if err != nil {")
        c.add(2, "return err")
        c.add(1, "}")
        for f in s["fields"]:
            fn = "s." + self.fname(f)
            where = f"{name}.{f['name']}"
            if f["when"] is None:
                src = fresh("src")
                c.add(1, f'{src}, err := rt.WireField(m, {go_string(f["name"])}, "{name}")')
                self.ret(c, 1)
                x = self.json_read(c, 1, f["type"], src, where, fresh)
                c.add(1, f"{fn} = {x}")
            else:
                src = fresh("src")
                c.add(1, f"if {src} := m[{go_string(f['name'])}]; {src} != nil {{")
                x = self.json_read(c, 2, f["type"], src, where, fresh)
                c.add(2, f"{fn} = &{x}")
                c.add(1, "}")
        c.add(1, "return nil")
        c.add(0, "}")
        c.add(0, "")

    # ---- streams ----
    def stream(self, c: Code, st: WireStream) -> None:
        ptype = self.n.exported([*st["words"], "parser"])
        c.add(0, "// ---- stream " + st["name"] + " (" + st["kind"] + ") ----")
        c.add(0, "")
        c.doc(0, f"{ptype} is the incremental parser of the {st['name']} stream: {st['doc']}")
        c.add(0, "//")
        c.doc(
            0,
            "Feed takes bytes in any chunking (one byte at a time works) and returns every item "
            "completed so far; Close reports a pending partial item as the decode error its bytes give.",
        )
        c.add(0, f"type {ptype} struct {{")
        c.add(1, "// MaxBuffer bounds the bytes held for one unfinished item (too_large above it).")
        c.add(1, "MaxBuffer int")
        c.add(0, "")
        c.add(1, "buf []byte")
        c.add(0, "")
        c.add(1, "base int")
        if st["kind"] == "header_objects":
            c.add(0, "")
            c.add(1, "header int")
            c.add(0, "")
            c.add(1, "hdr Value")
        c.add(0, "}")
        c.add(0, "")
        c.add(0, f"// New{ptype} returns a parser at the start of a stream.")
        c.add(0, f"func New{ptype}() *{ptype} {{")
        extra = ", header: -1" if st["kind"] == "header_objects" else ""
        c.add(1, f"return &{ptype}{{MaxBuffer: rt.DefaultMaxBuffer{extra}}}")
        c.add(0, "}")
        c.add(0, "")
        getattr(self, "stream_" + st["kind"])(c, st, ptype)

    def feed_tail(self, c: Code, name: str) -> None:
        c.add(1, "p.buf = append(p.buf[:0], p.buf[pos:]...)")
        c.add(1, "p.base += pos")
        c.add(1, "if len(p.buf) > p.MaxBuffer {")
        c.add(
            2,
            f'return out, rt.Errf(rt.ReasonTooLarge, p.base, "{name}: %d bytes buffered, over the limit", len(p.buf))',
        )
        c.add(1, "}")
        c.add(1, "return out, nil")
        c.add(0, "}")
        c.add(0, "")

    def stream_sequence(self, c: Code, st: WireStream, ptype: str) -> None:
        msg = str(st["message"])
        t = self.t(msg)
        c.add(0, "// Feed adds bytes and returns the messages they complete.")
        c.add(0, f"func (p *{ptype}) Feed(data []byte) ([]Value, error) {{")
        c.add(1, "p.buf = append(p.buf, data...)")
        c.add(1, "var out []Value")
        c.add(1, "pos := 0")
        c.add(1, "for pos < len(p.buf) {")
        c.add(2, "r := &rt.Reader{Buf: p.buf, Pos: pos, Streaming: true, Base: p.base, MaxItem: p.MaxBuffer}")
        c.add(2, f"item := new({t})")
        c.add(2, f"if err := item.decodeFrom(r, len(p.buf){', false' * len(self.structs[msg]['args'])}); err != nil {{")
        c.add(3, "if rt.IsIncomplete(err) {")
        c.add(4, "break")
        c.add(3, "}")
        c.add(3, "return out, err")
        c.add(2, "}")
        c.add(2, "if r.Pos == pos {")
        c.add(
            3,
            f'return out, rt.Errf(rt.ReasonInvalidValue, r.Offset(pos), "{st["name"]}: an empty message cannot '
            'advance the stream")',
        )
        c.add(2, "}")
        c.add(2, "out = append(out, item)")
        c.add(2, "pos = r.Pos")
        c.add(1, "}")
        self.feed_tail(c, st["name"])
        c.add(0, "// Close ends the stream; a pending partial message is a decode error.")
        c.add(0, f"func (p *{ptype}) Close() ([]Value, error) {{")
        c.add(1, "if len(p.buf) > 0 {")
        c.add(2, "r := &rt.Reader{Buf: p.buf, Base: p.base}")
        c.add(
            2,
            f"if err := new({t}).decodeFrom(r, len(p.buf){', false' * len(self.structs[msg]['args'])}); err != nil {{",
        )
        c.add(3, "return nil, err")
        c.add(2, "}")
        c.add(2, f'return nil, rt.Errf(rt.ReasonTruncated, p.base, "{st["name"]}: stream ended inside a message")')
        c.add(1, "}")
        c.add(1, "return nil, nil")
        c.add(0, "}")
        c.add(0, "")
        enc = "Encode" + self.n.exported(st["words"])
        c.add(0, f"// {enc} encodes one message of the {st['name']} stream.")
        c.add(0, f"func {enc}(m *{t}) ([]byte, error) {{")
        c.add(1, f"return m.AppendWire(nil{', false' * len(self.structs[msg]['args'])})")
        c.add(0, "}")
        c.add(0, "")

    def read_scalar(self, kind: str, end: str) -> str:
        return "r.Varint(" + end + ")" if kind == "varint" else f"r.Uint({INT_SIZE[kind]}, {end})"

    def stream_framed(self, c: Code, st: WireStream, ptype: str) -> None:
        cs = self.codes[str(st["dispatch"])]
        name = st["name"]
        ltype = str(st["length"])
        mx = st["max"] if st["max"] is not None else (INT_MAX[ltype] if ltype != "varint" else None)
        body_fn = self.n.local([*st["words"], "body"])
        c.add(0, f"func {body_fn}(code uint64) interface {{")
        c.add(1, "Value")
        c.add(1, "decodeFrom(r *rt.Reader, end int) error")
        c.add(0, "} {")
        c.add(1, "switch code {")
        for v in cs["values"]:
            if v["struct"]:
                c.add(1, f"case {_hex(v['value'])}:")
                c.add(2, f"return new({self.t(v['struct'])})")
        c.add(1, "}")
        c.add(1, "return nil")
        c.add(0, "}")
        c.add(0, "")
        c.add(0, "// Feed adds bytes and returns the messages they complete.")
        c.add(0, f"func (p *{ptype}) Feed(data []byte) ([]Value, error) {{")
        c.add(1, "p.buf = append(p.buf, data...)")
        c.add(1, "var out []Value")
        c.add(1, "pos := 0")
        c.add(1, "for pos < len(p.buf) {")
        c.add(2, "r := &rt.Reader{Buf: p.buf, Pos: pos, Streaming: true, Base: p.base, MaxItem: p.MaxBuffer}")
        c.add(2, f"code, err := {self.read_scalar(str(st['type']), 'len(p.buf)')}")
        c.add(2, "if err != nil {")
        c.add(3, "if rt.IsIncomplete(err) {")
        c.add(4, "break")
        c.add(3, "}")
        c.add(3, "return out, err")
        c.add(2, "}")
        c.add(2, f"length, err := {self.read_scalar(ltype, 'len(p.buf)')}")
        c.add(2, "if err != nil {")
        c.add(3, "if rt.IsIncomplete(err) {")
        c.add(4, "break")
        c.add(3, "}")
        c.add(3, "return out, err")
        c.add(2, "}")
        c.add(2, f"item := {body_fn}(code)")
        c.add(2, "if item == nil {")
        c.add(3, f'return out, rt.Errf(rt.ReasonUnknownType, r.Offset(pos), "{name}: unknown message type %#x", code)')
        c.add(2, "}")
        lim = f"length > {mx} || " if mx is not None else ""
        c.add(2, f"if {lim}length > uint64(p.MaxBuffer) {{")
        c.add(
            3,
            f'return out, rt.Errf(rt.ReasonTooLarge, r.Offset(pos), "{name}: a %d-byte message is over the limit", '
            "length)",
        )
        c.add(2, "}")
        c.add(2, "if length > uint64(len(p.buf)-r.Pos) {")
        c.add(3, "break")
        c.add(2, "}")
        c.add(2, "n := int(length)")
        c.add(2, "body := &rt.Reader{Buf: p.buf[r.Pos : r.Pos+n], Base: r.Offset(r.Pos)}")
        c.add(2, "if err := item.decodeFrom(body, n); err != nil {")
        c.add(3, "return out, err")
        c.add(2, "}")
        c.add(2, f'if err := body.Trailing(n, "{name} message"); err != nil {{')
        c.add(3, "return out, err")
        c.add(2, "}")
        c.add(2, "out = append(out, item)")
        c.add(2, "pos = r.Pos + n")
        c.add(1, "}")
        self.feed_tail(c, name)
        c.add(0, "// Close ends the stream: a cut Type or Length is truncated, a Length past the end")
        c.add(0, "// length_past_end.")
        c.add(0, f"func (p *{ptype}) Close() ([]Value, error) {{")
        c.add(1, "if len(p.buf) > 0 {")
        c.add(2, "r := &rt.Reader{Buf: p.buf, Base: p.base}")
        c.add(2, f"if _, err := {self.read_scalar(str(st['type']), 'len(p.buf)')}; err != nil {{")
        c.add(3, "return nil, err")
        c.add(2, "}")
        c.add(2, f"if _, err := {self.read_scalar(ltype, 'len(p.buf)')}; err != nil {{")
        c.add(3, "return nil, err")
        c.add(2, "}")
        c.add(2, f'return nil, rt.Errf(rt.ReasonLengthPastEnd, p.base, "{name}: stream ended inside a message")')
        c.add(1, "}")
        c.add(1, "return nil, nil")
        c.add(0, "}")
        c.add(0, "")
        enc = "Encode" + self.n.exported(st["words"])
        c.add(0, f"// {enc}As encodes msg as a {name} message of type code.")
        c.add(0, f"func {enc}As(code uint64, msg Value) ([]byte, error) {{")
        c.add(1, f"want := {body_fn}(code)")
        c.add(1, "if want == nil || want.WireName() != msg.WireName() {")
        c.add(2, f'return nil, rt.EncErrf("{name}: type %#x does not carry %s", code, msg.WireName())')
        c.add(1, "}")
        c.add(1, "m, ok := msg.(interface {")
        c.add(2, "AppendWire(b []byte) ([]byte, error)")
        c.add(1, "})")
        c.add(1, "if !ok {")
        c.add(2, f'return nil, rt.EncErrf("{name}: %s takes args", msg.WireName())')
        c.add(1, "}")
        c.add(1, "body, err := m.AppendWire(nil)")
        c.add(1, "if err != nil {")
        c.add(2, "return nil, err")
        c.add(1, "}")
        if mx is not None:
            c.add(1, f"if len(body) > {mx} {{")
            c.add(2, f'return nil, rt.EncErrf("{name}: a %d-byte body is over the limit", len(body))')
            c.add(1, "}")
        c.add(1, "var out []byte")
        for kind, val in ((str(st["type"]), "code"), (ltype, "uint64(len(body))")):
            if kind == "varint":
                c.add(1, f"out, err = rt.AppendQUICVarint(out, {val})")
            else:
                c.add(1, f"out, err = rt.AppendUint(out, {val}, {INT_SIZE[kind]})")
            c.add(1, "if err != nil {")
            c.add(2, "return nil, err")
            c.add(1, "}")
        c.add(1, "return append(out, body...), nil")
        c.add(0, "}")
        c.add(0, "")
        by_struct: dict[str, list[int]] = {}
        for v in cs["values"]:
            if v["struct"]:
                by_struct.setdefault(v["struct"], []).append(v["value"])
        c.add(0, f"// {enc} encodes msg with its type code (an error when its struct serves several codes).")
        c.add(0, f"func {enc}(msg Value) ([]byte, error) {{")
        c.add(1, "switch msg.WireName() {")
        for sname, codes in by_struct.items():
            if len(codes) == 1:
                c.add(1, f"case {go_string(sname)}:")
                c.add(2, f"return {enc}As({_hex(codes[0])}, msg)")
        c.add(1, "}")
        c.add(1, f'return nil, rt.EncErrf("{name}: pass the type code of %s", msg.WireName())')
        c.add(0, "}")
        c.add(0, "")

    def stream_header_objects(self, c: Code, st: WireStream, ptype: str) -> None:
        name = st["name"]
        c.add(0, "// Feed adds bytes and returns the header (first) and every object they complete.")
        c.add(0, f"func (p *{ptype}) Feed(data []byte) ([]Value, error) {{")
        c.add(1, "p.buf = append(p.buf, data...)")
        c.add(1, "var out []Value")
        c.add(1, "pos := 0")
        c.add(1, "for pos < len(p.buf) {")
        c.add(2, "r := &rt.Reader{Buf: p.buf, Pos: pos, Streaming: true, Base: p.base, MaxItem: p.MaxBuffer}")
        c.add(2, "item, err := p.next(r)")
        c.add(2, "if err != nil {")
        c.add(3, "if rt.IsIncomplete(err) {")
        c.add(4, "break")
        c.add(3, "}")
        c.add(3, "return out, err")
        c.add(2, "}")
        c.add(2, "if r.Pos == pos {")
        c.add(3, f'return out, rt.Errf(rt.ReasonInvalidValue, r.Offset(pos), "{name}: an empty object cannot advance")')
        c.add(2, "}")
        c.add(2, "out = append(out, item)")
        c.add(2, "pos = r.Pos")
        c.add(1, "}")
        self.feed_tail(c, name)
        c.add(0, "// Close ends the stream; a missing header or a partial object is a decode error.")
        c.add(0, f"func (p *{ptype}) Close() ([]Value, error) {{")
        c.add(1, "if len(p.buf) > 0 || p.header < 0 {")
        c.add(2, "r := &rt.Reader{Buf: p.buf, Base: p.base}")
        c.add(2, "if _, err := p.next(r); err != nil {")
        c.add(3, "return nil, err")
        c.add(2, "}")
        c.add(2, f'return nil, rt.Errf(rt.ReasonTruncated, p.base, "{name}: stream ended inside an object")')
        c.add(1, "}")
        c.add(1, "return nil, nil")
        c.add(0, "}")
        c.add(0, "")
        c.add(0, f"func (p *{ptype}) next(r *rt.Reader) (Value, error) {{")
        c.add(1, "end := len(r.Buf)")
        c.add(1, "switch p.header {")
        for i, h in enumerate(st["headers"]):
            hs = self.structs[h["header"]]
            obj = self.structs[h["object"]]
            c.add(1, f"case {i}:")
            args = []
            for a in obj["args"]:
                flag = h["args"].get(a)
                args.append(f"fl.{self.n.exported(flag.split('_'))}" if flag else "false")
            if any(a != "false" for a in args):
                c.add(2, f"fl, _ := p.hdr.(*{self.t(hs['name'])}).TypeFlags()")
            c.add(2, f"o := new({self.t(obj['name'])})")
            c.add(2, f"if err := o.decodeFrom(r, end{''.join(', ' + a for a in args)}); err != nil {{")
            c.add(3, "return nil, err")
            c.add(2, "}")
            c.add(2, "return o, nil")
        c.add(1, "}")
        first = self.structs[st["headers"][0]["header"]]["fields"][0]["type"]["type"]
        c.add(1, "peek := &rt.Reader{Buf: r.Buf, Pos: r.Pos, Streaming: r.Streaming, Base: r.Base}")
        c.add(1, f"code, err := {self.read_scalar(first, 'end').replace('r.', 'peek.')}")
        c.add(1, "if err != nil {")
        c.add(2, "return nil, err")
        c.add(1, "}")
        c.add(1, "switch code {")
        for i, h in enumerate(st["headers"]):
            hs = self.structs[h["header"]]
            c.add(1, f"case {', '.join(_hex(x) for x in h['codes'])}:")
            c.add(2, f"h := new({self.t(hs['name'])})")
            c.add(2, f"if err := h.decodeFrom(r, end{', false' * len(hs['args'])}); err != nil {{")
            c.add(3, "return nil, err")
            c.add(2, "}")
            c.add(2, f"p.header = {i}")
            c.add(2, "p.hdr = h")
            c.add(2, "return h, nil")
        c.add(1, "}")
        c.add(1, f'return nil, rt.Errf(rt.ReasonUnknownType, r.Offset(r.Pos), "{name}: unknown stream type %#x", code)')
        c.add(0, "}")
        c.add(0, "")
        enc = "Encode" + self.n.exported(st["words"])
        c.add(0, f"// {enc} encodes a whole {name} stream: the header, then each object.")
        c.add(0, f"func {enc}(header Value, objects ...Value) ([]byte, error) {{")
        c.add(1, "switch h := header.(type) {")
        for h in st["headers"]:
            hs = self.structs[h["header"]]
            obj = self.structs[h["object"]]
            ht, ot = self.t(hs["name"]), self.t(obj["name"])
            c.add(1, f"case *{ht}:")
            c.add(2, f"b, err := h.AppendWire(nil{', false' * len(hs['args'])})")
            c.add(2, "if err != nil {")
            c.add(3, "return nil, err")
            c.add(2, "}")
            args = []
            for a in obj["args"]:
                flag = h["args"].get(a)
                args.append(f"fl.{self.n.exported(flag.split('_'))}" if flag else "false")
            if any(a != "false" for a in args):
                c.add(2, "fl, _ := h.TypeFlags()")
            c.add(2, "for _, v := range objects {")
            c.add(3, f"o, ok := v.(*{ot})")
            c.add(3, "if !ok {")
            c.add(
                4,
                f'return nil, rt.EncErrf("{name}: a {hs["name"]} stream carries {obj["name"]} objects, not %s", '
                "v.WireName())",
            )
            c.add(3, "}")
            c.add(3, f"b, err = o.AppendWire(b{''.join(', ' + a for a in args)})")
            c.add(3, "if err != nil {")
            c.add(4, "return nil, err")
            c.add(3, "}")
            c.add(2, "}")
            c.add(2, "return b, nil")
        c.add(1, "}")
        c.add(1, f'return nil, rt.EncErrf("{name}: %s is not a header of this stream", header.WireName())')
        c.add(0, "}")
        c.add(0, "")

    def stream_datagram(self, c: Code, st: WireStream, ptype: str) -> None:
        msg = str(st["message"])
        t = self.t(msg)
        nargs = ", false" * len(self.structs[msg]["args"])
        c.add(0, "// Feed collects the datagram's bytes (it is decoded whole on Close).")
        c.add(0, f"func (p *{ptype}) Feed(data []byte) ([]Value, error) {{")
        c.add(1, "p.buf = append(p.buf, data...)")
        c.add(1, "if len(p.buf) > p.MaxBuffer {")
        c.add(2, f'return nil, rt.Errf(rt.ReasonTooLarge, 0, "{st["name"]}: %d bytes, over the limit", len(p.buf))')
        c.add(1, "}")
        c.add(1, "return nil, nil")
        c.add(0, "}")
        c.add(0, "")
        c.add(0, "// Close decodes the collected bytes as one datagram.")
        c.add(0, f"func (p *{ptype}) Close() ([]Value, error) {{")
        c.add(1, f"m, err := Decode{t}(p.buf{nargs})")
        c.add(1, "if err != nil {")
        c.add(2, "return nil, err")
        c.add(1, "}")
        c.add(1, "return []Value{m}, nil")
        c.add(0, "}")
        c.add(0, "")
        enc = "Encode" + self.n.exported(st["words"])
        c.add(0, f"// {enc} is the datagram carrying m.")
        c.add(0, f"func {enc}(m *{t}) ([]byte, error) {{")
        c.add(1, f"return m.AppendWire(nil{nargs})")
        c.add(0, "}")
        c.add(0, "")

    # ---- registry ----
    def registry(self, c: Code) -> None:
        p = self.p
        for s in p["structs"]:
            t = self.t(s["name"])
            argv = "".join(f", args[{go_string(a)}]" for a in s["args"])
            c.add(0, f"func decodeAny{t}(b []byte, args map[string]bool) (Value, error) {{")
            if not s["args"]:
                c.add(1, "_ = args")
            c.add(1, f"return Decode{t}(b{argv})")
            c.add(0, "}")
            c.add(0, "")
            c.add(0, f"func encodeAny{t}(v Value, args map[string]bool) ([]byte, error) {{")
            if not s["args"]:
                c.add(1, "_ = args")
            c.add(1, f"s, ok := v.(*{t})")
            c.add(1, "if !ok {")
            c.add(2, f'return nil, rt.EncErrf("expected a {s["name"]}, got %s", v.WireName())')
            c.add(1, "}")
            c.add(1, f"return s.AppendWire(nil{argv})")
            c.add(0, "}")
            c.add(0, "")
            c.add(0, f"func fromJSONAny{t}(data []byte) (Value, error) {{")
            c.add(1, f"s := new({t})")
            c.add(1, "if err := s.UnmarshalJSON(data); err != nil {")
            c.add(2, "return nil, err")
            c.add(1, "}")
            c.add(1, "return s, nil")
            c.add(0, "}")
            c.add(0, "")
        for st in p["streams"]:
            ptype = self.n.exported([*st["words"], "parser"])
            c.add(0, f"func newAny{ptype}() Parser {{")
            c.add(1, f"return New{ptype}()")
            c.add(0, "}")
            c.add(0, "")
        c.add(0, "// Structs lists a by-name codec for every struct, in IDL order.")
        c.add(0, "var Structs = []StructCodec{")
        for s in p["structs"]:
            t = self.t(s["name"])
            args = "nil" if not s["args"] else "[]string{" + ", ".join(go_string(a) for a in s["args"]) + "}"
            c.add(
                1,
                f"{{Protocol: {go_string(p['name'])}, Name: {go_string(s['name'])}, Args: {args}, "
                f"Decode: decodeAny{t}, Encode: encodeAny{t}, FromJSON: fromJSONAny{t}}},",
            )
        c.add(0, "}")
        c.add(0, "")
        c.add(0, "// Streams lists every stream grammar, in IDL order.")
        c.add(0, "var Streams = []StreamCodec{")
        for st in p["streams"]:
            ptype = self.n.exported([*st["words"], "parser"])
            c.add(
                1,
                f"{{Protocol: {go_string(p['name'])}, Name: {go_string(st['name'])}, "
                f"Kind: {go_string(st['kind'])}, NewParser: newAny{ptype}}},",
            )
        c.add(0, "}")

    def closed_sets(self) -> list[str]:
        """Helper predicates `is<Set>Name` for closed code sets used in checks."""
        return []
