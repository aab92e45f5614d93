"""IR wire protocols -> one Java package per protocol (`dev.clutchcall.v1.wire.<protocol>`).

Like the Python target, the code is straight-line: each field of each struct becomes its own
reads, checks and writes (recursively for lists of structs of lists), so nothing interprets
the IR at run time. The shared runtime (reader, writer, JSON value format, parser buffer) is in
`templates/wire/`; this module emits the per-protocol classes and the by-name registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...ir import model as m
from ..common import INT_MAX, INT_SIZE, WireGenError, cond_text, embedded_args, min_size
from .namer import JavaNamer
from .text import javadoc, jlong, jstr


@dataclass
class _Code:
    lines: list[str] = field(default_factory=list)
    n: int = 0

    def add(self, ind: int, line: str) -> None:
        self.lines.append("  " * ind + line)

    def fresh(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"


class _Struct:
    def __init__(self, p: _Proto, s: m.WireStruct) -> None:
        self.p = p
        self.s = s
        self.cls = p.cls(s["name"])
        self.fields = {f["name"]: f for f in s["fields"]}
        self.attrs = {f["name"]: p.n.field_name(f["words"]) for f in s["fields"]}
        self.flag_vars = {x: "f" + p.n.class_name(x.split("_")) for x in [*s["flags"], *s["args"]]}

    def var(self, name: str) -> str:
        return "v" + self.p.n.class_name(self.fields[name]["words"])

    def where(self, name: str) -> str:
        return f"{self.s['name']}.{name}"

    def jtype(self, t: m.WireType, boxed: bool = False) -> str:
        k = t["type"]
        if k in INT_MAX:
            return "Long" if boxed else "long"
        if k == "bytes":
            return "byte[]"
        if k == "string":
            return "String"
        if k == "list":
            assert t["element"] is not None
            return f"List<{self.jtype(t['element'], True)}>"
        return self.p.cls(self._sname(t))

    def field_type(self, f: m.WireField) -> str:
        return self.jtype(f["type"], f["when"] is not None)

    def _sname(self, t: m.WireType) -> str:
        name = t["struct"]
        if name is None or name not in self.p.structs:
            raise WireGenError(f"{self.s['name']}: unknown struct {name!r}")
        return name

    def zero(self, f: m.WireField) -> str:
        if f["when"] is not None:
            return "null"
        t = f["type"]
        k = t["type"]
        if k in INT_MAX:
            return jlong(t["const"]) if t["const"] is not None else "0L"
        if k == "bytes":
            return "new byte[0]"
        if k == "string":
            return '""'
        if k == "list":
            return "new ArrayList<>()"
        return f"new {self.jtype(t)}()"

    # ---- conditions ----
    def cond(self, c: m.WireCond) -> str:
        # The front end guarantees a declared flag or arg, or an earlier integer field.
        if c["op"] == "flag":
            fv = self.flag_vars[c["name"]]
            return fv if c["value"] else f"!{fv}"
        ref = self.fields[c["name"]]
        v = self.var(c["name"])
        op, value = c["op"], c["value"]
        if op in ("eq", "ne"):
            test = f"{v} {'==' if op == 'eq' else '!='} {jlong(int(value))}"  # type: ignore[arg-type]
        elif op in ("in", "not_in"):
            assert isinstance(value, list)
            test = " || ".join(f"{v} == {jlong(int(x))}" for x in value)  # type: ignore[arg-type]
            test = f"({test})" if op == "in" else f"!({test})"
        elif op == "even":
            test = f"({v} & 1) == 0"
        else:
            test = f"({v} & 1) == 1"
        if ref["when"] is not None:
            return f"({v} != null && {test})"
        return test

    def cond_text(self, c: m.WireCond) -> str:
        return cond_text(c)

    def length_ref(self, fname: str | None) -> str:
        # The front end guarantees `fname` is an earlier integer field.
        v = self.var(str(fname))
        return f"({v} == null ? 0L : {v})" if self.fields[str(fname)]["when"] is not None else v

    def struct_args(self, t: m.WireType) -> str:
        target = self.p.structs[self._sname(t)]
        return "".join(", " + self.flag_vars[a] for a in embedded_args(self.s, target))

    def min_size(self, t: m.WireType) -> int:
        return min_size(t, self.p.structs)

    # ---- decode ----
    def _fail(self, c: _Code, ind: int, cond: str, reason: str, msg: str) -> None:
        c.add(ind, f"if ({cond}) {{")
        c.add(ind + 1, f"throw r.error(Reason.{reason}, {msg});")
        c.add(ind, "}")

    def int_checks(self, c: _Code, ind: int, t: m.WireType, v: str, where: str, enc: bool) -> None:
        def fail(cond: str, msg: str) -> None:
            if enc:
                c.add(ind, f"if ({cond}) {{")
                c.add(ind + 1, f"throw new EncodeException({jstr(where + ': ')} + {msg});")
                c.add(ind, "}")
            else:
                self._fail(c, ind, cond, "INVALID_VALUE", f"{jstr(where + ': ')} + {msg}")

        us = f"Long.toUnsignedString({v})"
        if t["const"] is not None:
            fail(f"{v} != {jlong(t['const'])}", f"{us} + {jstr(' is not the constant ' + str(t['const']))}")
        if t["codes"] is not None and t["closed"]:
            cc = self.p.code_class(t["codes"])
            fail(f"!{cc}.isDefined({v})", f"{us} + {jstr(' is not a ' + t['codes'] + ' code')}")
        if t["min"] is not None:
            fail(f"Long.compareUnsigned({v}, {jlong(t['min'])}) < 0", f"{us} + {jstr(' is below ' + str(t['min']))}")
        if t["max"] is not None and t["max"] < INT_MAX[t["type"]]:
            fail(f"Long.compareUnsigned({v}, {jlong(t['max'])}) > 0", f"{us} + {jstr(' is above ' + str(t['max']))}")
        if t["mask"] is not None:
            fail(f"({v} & ~{jlong(t['mask'])}) != 0", f"{us} + {jstr(' has bits outside ' + hex(t['mask']))}")

    def too_large(self, c: _Code, ind: int, n: str, mx: int | None, where: str, what: str) -> None:
        if mx is not None:
            msg = f"{jstr(where + ': ')} + Long.toUnsignedString({n}) + {jstr(' ' + what + ', at most ' + str(mx))}"
            self._fail(c, ind, f"Long.compareUnsigned({n}, {jlong(mx)}) > 0", "TOO_LARGE", msg)

    def length_expr(self, c: _Code, ind: int, ln: m.WireLength, end: str) -> str:
        if ln["kind"] == "varint":
            n = c.fresh("n")
            c.add(ind, f"long {n} = r.varint({end});")
            return n
        if ln["kind"] == "field":
            return self.length_ref(ln["field"])
        if ln["kind"] == "fixed":
            return f"{ln['size']}L"
        return f"(long) ({end} - r.pos)"

    def frame_decode(self, c: _Code, ind: int, t: m.WireType, end: str, where: str) -> str:
        """Open the byte frame of `t`; `max_bytes` is checked before the bytes that are there."""
        ln = t["frame"]
        assert ln is not None
        sub = c.fresh("e")
        if ln["kind"] == "rest":
            c.add(ind, f"int {sub} = {end};")
            return sub
        n = self.length_expr(c, ind, ln, end)
        self.too_large(c, ind, n, t.get("max_bytes"), where, "bytes")
        c.add(ind, f"int {sub} = r.subEnd({n}, {end}, {jstr(where)});")
        return sub

    def too_few(self, c: _Code, ind: int, n: str, t: m.WireType, where: str) -> None:
        if t["min"]:
            msg = f"{jstr(where + ': ')} + {n} + {jstr(' elements, at least ' + str(t['min']))}"
            self._fail(c, ind, f"Long.compareUnsigned({n}, {t['min']}L) < 0", "INVALID_VALUE", msg)

    def trailing(self, c: _Code, ind: int, sub: str, where: str) -> None:
        msg = f"{jstr(where + ': ')} + ({sub} - r.pos) + {jstr(' byte(s) left')}"
        self._fail(c, ind, f"r.pos != {sub}", "TRAILING_BYTES", msg)

    def decode_value(self, c: _Code, ind: int, t: m.WireType, target: str, end: str, where: str) -> None:
        k = t["type"]
        if k in INT_MAX:
            read = f"r.varint({end})" if k == "varint" else f"r.uint({INT_SIZE[k]}, {end})"
            c.add(ind, f"long {target} = {read};")
            self.int_checks(c, ind, t, target, where, False)
            return
        if k in ("bytes", "string"):
            ln = t["length"]
            assert ln is not None
            raw = f"{target}Raw" if k == "string" else target
            if ln["kind"] == "fixed":
                c.add(ind, f"byte[] {raw} = r.fixed({ln['size']}, {end});")
            else:
                n = self.length_expr(c, ind, ln, end)
                if ln["kind"] != "rest":
                    self.too_large(c, ind, n, t["max"], where, "bytes")
                c.add(ind, f"byte[] {raw} = r.raw({n}, {end});")
                if ln["kind"] == "rest" and t["max"] is not None:
                    self.too_large(c, ind, f"(long) {raw}.length", t["max"], where, "bytes")
            if k == "string":
                c.add(ind, f"String {target} = r.text({raw});")
            return
        if k == "struct":
            cls = self.p.cls(self._sname(t))
            if t["frame"] is None:
                c.add(ind, f"{cls} {target} = {cls}.decodeFrom(r, {end}{self.struct_args(t)});")
                return
            sub = self.frame_decode(c, ind, t, end, where)
            c.add(ind, f"{cls} {target} = {cls}.decodeFrom(r, {sub}{self.struct_args(t)});")
            self.trailing(c, ind, sub, where)
            return
        elem, ln = t["element"], t["length"]
        assert elem is not None and ln is not None
        e = end
        if t["frame"] is not None:
            e = self.frame_decode(c, ind, t, end, where)
        item = c.fresh("x")
        c.add(ind, f"{self.jtype(t)} {target} = new ArrayList<>();")
        if ln["kind"] == "rest":
            if self.min_size(elem) == 0:
                # Reading "until the end" an element that may take no input would never end.
                raise WireGenError(f"{where}: a list read to its end needs elements of at least one byte")
            c.add(ind, f"while (r.pos < {e}) {{")
            if t["max"] is not None:
                msg = jstr(f"{where}: more than {t['max']} elements")
                self._fail(c, ind + 1, f"{target}.size() >= {t['max']}", "TOO_LARGE", msg)
        else:
            count = self.length_expr(c, ind, ln, e)
            self.too_large(c, ind, count, t["max"], where, "elements")
            self.too_few(c, ind, count, t, where)
            # Every element takes at least one byte: a count the input cannot hold fails first.
            c.add(ind, f"r.needCount({count}, {max(1, self.min_size(elem))}, {e}, {jstr(where)});")
            i = c.fresh("i")
            c.add(ind, f"for (long {i} = 0; {i} < {count}; {i}++) {{")
        self.decode_value(c, ind + 1, elem, item, e, where + "[]")
        c.add(ind + 1, f"{target}.add({item});")
        c.add(ind, "}")
        if ln["kind"] == "rest":
            self.too_few(c, ind, f"(long) {target}.size()", t, where)
        if t["frame"] is not None and ln["kind"] != "rest":
            self.trailing(c, ind, e, where)

    def decode_body(self) -> list[str]:
        c = _Code()
        s = self.s
        for i, f in enumerate(s["fields"]):
            v = self.var(f["name"])
            where = self.where(f["name"])
            if f["when"] is None:
                self.decode_value(c, 0, f["type"], v, "end", where)
            else:
                c.add(0, f"{self.field_type(f)} {v} = null;")
                c.add(0, f"if ({self.cond(f['when'])}) {{")
                tmp = c.fresh("t")
                self.decode_value(c, 1, f["type"], tmp, "end", where)
                c.add(1, f"{v} = {tmp};")
                c.add(0, "}")
            if i == 0 and s["variants"]:
                if f["type"]["type"] not in INT_MAX or f["when"] is not None:
                    raise WireGenError(f"{s['name']}: a struct with variants starts with its integer type code")
                c.add(0, f"boolean[] flags = variants({v});")
                msg = f"{jstr(s['name'] + ': unknown type 0x')} + Long.toHexString({v})"
                self._fail(c, 0, "flags == null", "UNKNOWN_TYPE", msg)
                for j, fl in enumerate(s["flags"]):
                    c.add(0, f"boolean {self.flag_vars[fl]} = flags[{j}];")
        c.add(0, f"{self.cls} o = new {self.cls}();")
        for f in s["fields"]:
            c.add(0, f"o.{self.attrs[f['name']]} = {self.var(f['name'])};")
        c.add(0, "return o;")
        return c.lines

    # ---- encode ----
    def length_encode(self, c: _Code, ind: int, ln: m.WireLength, n: str, w: str, where: str) -> None:
        if ln["kind"] == "varint":
            c.add(ind, f"{w}.varint({n});")
        elif ln["kind"] == "field":
            ref = self.length_ref(ln["field"])
            c.add(ind, f"if ({n} != {ref}) {{")
            c.add(
                ind + 1,
                f"throw new EncodeException({jstr(where + ': its length does not match ' + str(ln['field']))});",
            )
            c.add(ind, "}")
        elif ln["kind"] == "fixed":
            c.add(ind, f"if ({n} != {ln['size']}) {{")
            c.add(ind + 1, f"throw new EncodeException({jstr(where + ': length is not ' + str(ln['size']))});")
            c.add(ind, "}")

    def too_large_enc(self, c: _Code, ind: int, n: str, mx: int | None, where: str, what: str) -> None:
        if mx is not None:
            c.add(ind, f"if ({n} > {mx}L) {{")
            c.add(
                ind + 1,
                f"throw new EncodeException({jstr(where + ': ')} + {n} + {jstr(' ' + what + ', at most ' + str(mx))});",
            )
            c.add(ind, "}")

    def encode_value(self, c: _Code, ind: int, t: m.WireType, v: str, w: str, where: str) -> None:
        k = t["type"]
        if k in INT_MAX:
            self.int_checks(c, ind, t, v, where, True)
            c.add(ind, f"{w}.varint({v});" if k == "varint" else f"{w}.uint({v}, {INT_SIZE[k]});")
            return
        if k in ("bytes", "string"):
            ln = t["length"]
            assert ln is not None
            raw = v
            if k == "string":
                raw = c.fresh("b")
                c.add(ind, f"byte[] {raw} = Utf8.encode({v});")
            self.too_large_enc(c, ind, f"(long) {raw}.length", t["max"], where, "bytes")
            self.length_encode(c, ind, ln, f"(long) {raw}.length", w, where)
            c.add(ind, f"{w}.raw({raw});")
            return
        if k == "struct":
            if t["frame"] is None:
                c.add(ind, f"{v}.encodeTo({w}{self.struct_args(t)});")
                return
            buf = c.fresh("buf")
            c.add(ind, f"WireWriter {buf} = new WireWriter();")
            c.add(ind, f"{v}.encodeTo({buf}{self.struct_args(t)});")
            self.too_large_enc(c, ind, f"(long) {buf}.size()", t.get("max_bytes"), where, "bytes")
            self.length_encode(c, ind, t["frame"], f"(long) {buf}.size()", w, where)
            c.add(ind, f"{w}.raw({buf});")
            return
        elem, ln = t["element"], t["length"]
        assert elem is not None and ln is not None
        target = w
        if t["frame"] is not None:
            target = c.fresh("buf")
            c.add(ind, f"WireWriter {target} = new WireWriter();")
        self.too_large_enc(c, ind, f"(long) {v}.size()", t["max"], where, "elements")
        if t["min"]:
            c.add(ind, f"if ({v}.size() < {t['min']}) {{")
            text = jstr(where + ": ")
            c.add(
                ind + 1,
                f"throw new EncodeException({text} + {v}.size() + {jstr(' elements, at least ' + str(t['min']))});",
            )
            c.add(ind, "}")
        self.length_encode(c, ind, ln, f"(long) {v}.size()", target, where)
        item = c.fresh("x")
        c.add(ind, f"for ({self.jtype(elem, True)} {item} : {v}) {{")
        self.encode_value(c, ind + 1, elem, item, target, where + "[]")
        c.add(ind, "}")
        if t["frame"] is not None:
            self.too_large_enc(c, ind, f"(long) {target}.size()", t.get("max_bytes"), where, "bytes")
            self.length_encode(c, ind, t["frame"], f"(long) {target}.size()", w, where)
            c.add(ind, f"{w}.raw({target});")

    def encode_body(self) -> list[str]:
        c = _Code()
        s = self.s
        for f in s["fields"]:
            c.add(0, f"{self.field_type(f)} {self.var(f['name'])} = this.{self.attrs[f['name']]};")
        for i, f in enumerate(s["fields"]):
            v = self.var(f["name"])
            where = self.where(f["name"])
            if f["when"] is None:
                if f["type"]["type"] not in INT_MAX:
                    c.add(0, f"if ({v} == null) {{")
                    c.add(1, f"throw new EncodeException({jstr(where + ' is null')});")
                    c.add(0, "}")
                self.encode_value(c, 0, f["type"], v, "w", where)
            else:
                c.add(0, f"if ({self.cond(f['when'])}) {{")
                c.add(1, f"if ({v} == null) {{")
                c.add(
                    2, f"throw new EncodeException({jstr(where + ' is required when ' + self.cond_text(f['when']))});"
                )
                c.add(1, "}")
                self.encode_value(c, 1, f["type"], v, "w", where)
                c.add(0, f"}} else if ({v} != null) {{")
                text = jstr(where + " must be absent unless " + self.cond_text(f["when"]))
                c.add(
                    1,
                    f"throw new EncodeException({text});",
                )
                c.add(0, "}")
            if i == 0 and s["variants"]:
                c.add(0, f"boolean[] flags = variants({v});")
                c.add(0, "if (flags == null) {")
                c.add(1, f"throw new EncodeException({jstr(s['name'] + ': unknown type 0x')} + Long.toHexString({v}));")
                c.add(0, "}")
                for j, fl in enumerate(s["flags"]):
                    c.add(0, f"boolean {self.flag_vars[fl]} = flags[{j}];")
        return c.lines

    # ---- JSON ----
    def to_json_expr(self, t: m.WireType, v: str, depth: int = 0) -> str:
        k = t["type"]
        if k in INT_MAX:
            return f"WireJson.num({v})"
        if k == "string":
            return v
        if k == "bytes":
            return f"WireJson.hex({v})"
        if k == "struct":
            return f"{v}.toJson()"
        assert t["element"] is not None
        x = f"j{depth}"
        return f"WireJson.list({v}, {x} -> {self.to_json_expr(t['element'], x, depth + 1)})"

    def from_json_expr(self, t: m.WireType, v: str, where: str, depth: int = 0) -> str:
        k = t["type"]
        if k in INT_MAX:
            return f"WireJson.integer({v}, {jstr(where)})"
        if k == "bytes":
            return f"WireJson.unhex({v}, {jstr(where)})"
        if k == "string":
            return f"WireJson.text({v}, {jstr(where)})"
        if k == "struct":
            return f"{self.p.cls(self._sname(t))}.fromJson({v})"
        assert t["element"] is not None
        x = f"j{depth}"
        inner = self.from_json_expr(t["element"], x, where + "[]", depth + 1)
        return f"WireJson.mapList(WireJson.array({v}, {jstr(where)}), {x} -> {inner})"

    def from_json_field(self, f: m.WireField) -> str:
        t, name = f["type"], f["name"]
        k = t["type"]
        q = jstr(name)
        if k in INT_MAX:
            expr = f"j.integer({q})"
        elif k == "bytes":
            expr = f"j.hexbytes({q})"
        elif k == "string":
            expr = f"j.text({q})"
        elif k == "struct":
            expr = f"{self.p.cls(self._sname(t))}.fromJson(j.get({q}))"
        else:
            assert t["element"] is not None
            inner = self.from_json_expr(t["element"], "j0", self.where(name) + "[]", 1)
            expr = f"WireJson.mapList(j.array({q}), j0 -> {inner})"
        if f["when"] is None:
            return expr
        if k in INT_MAX:
            return f"j.absent({q}) ? null : Long.valueOf({expr})"
        return f"j.absent({q}) ? null : {expr}"

    # ---- the class ----
    def file(self) -> str:
        s, n, cls = self.s, self.p.n, self.cls
        pkg = self.p.package
        L = [self.p.header, f"package {pkg};", ""]
        for imp in [
            f"{self.p.root}.DecodeException.Reason",
            f"{self.p.root}.EncodeException",
            f"{self.p.root}.ProtoMessage",
            f"{self.p.root}.internal.Utf8",
            f"{self.p.root}.wire.StructCodec",
            f"{self.p.root}.wire.WireJson",
            f"{self.p.root}.wire.WireReader",
            f"{self.p.root}.wire.WireStruct",
            f"{self.p.root}.wire.WireWriter",
            "java.util.ArrayList",
            "java.util.LinkedHashMap",
            "java.util.List",
            "java.util.Map",
            "java.util.Set",
        ]:
            L.append(f"import {imp};")
        L.append("")
        doc = s["doc"]
        L += javadoc(doc, 0)
        L.append(f"public final class {cls} implements WireStruct {{")
        names = ", ".join(jstr(f["name"]) for f in s["fields"])
        L.append(f"  private static final Set<String> NAMES = Set.of({names});")
        args = s["args"]
        params = "".join(f", boolean {self.flag_vars[a]}" for a in args)
        argv = "".join(f", {self.flag_vars[a]}" for a in args)
        L.append("")
        L.append(f"  /** The by-name codec of {s['name']}. */")
        L.append("  public static final StructCodec CODEC =")
        L.append("      new StructCodec() {")
        L.append("        @Override")
        L.append("        public List<String> args() {")
        L.append(f"          return List.of({', '.join(jstr(a) for a in args)});")
        L.append("        }")
        L.append("")
        L.append("        @Override")
        L.append("        public WireStruct decode(byte[] data, Map<String, Boolean> a) {")
        L.append(f"          return {cls}.decode(data{''.join(f', arg(a, {jstr(x)})' for x in args)});")
        L.append("        }")
        L.append("")
        L.append("        @Override")
        L.append("        public byte[] encode(WireStruct value, Map<String, Boolean> a) {")
        L.append(f"          return (({cls}) value).encode({', '.join(f'arg(a, {jstr(x)})' for x in args)});")
        L.append("        }")
        L.append("")
        L.append("        @Override")
        L.append("        public WireStruct fromJson(Object value) {")
        L.append(f"          return {cls}.fromJson(value);")
        L.append("        }")
        L.append("      };")
        L.append("")
        for f in s["fields"]:
            L.append(f"  private {self.field_type(f)} {self.attrs[f['name']]} = {self.zero(f)};")
        L.append("")
        L.append(f"  /** A {s['name']} with constants set, other integers 0 and conditional fields absent. */")
        L.append(f"  public {cls}() {{}}")
        if self.p.proto["name"] == "envelope" and s["name"] == "Envelope":
            # The legacy RPC envelope gets a request constructor, as in every SDK.
            L += [
                "",
                "  /**",
                "   * The request envelope of one call of {@code methodId} (a {@code Services.METHOD_*} constant)",
                "   * carrying {@code message} in protobuf binary: version set, kind request, flag final (one request",
                "   * message).",
                "   */",
                "  public static Envelope request(long methodId, long requestId, ProtoMessage message) {",
                "    return new Envelope()",
                "        .setKind(EnvelopeKind.REQUEST)",
                "        .setFlags(EnvelopeFlag.FINAL)",
                "        .setMethodId(methodId)",
                "        .setRequestId(requestId)",
                "        .setPayload(message.encode());",
                "  }",
            ]
        if args:
            L.append("")
            L.append("  private static boolean arg(Map<String, Boolean> a, String name) {")
            L.append("    Boolean v = a.get(name);")
            L.append("    if (v == null) {")
            L.append(f"      throw new IllegalArgumentException({jstr(s['name'] + ' needs arg ')} + name);")
            L.append("    }")
            L.append("    return v;")
            L.append("  }")
        for f in s["fields"]:
            ft = self.field_type(f)
            a = self.attrs[f["name"]]
            extra = ""
            if f["when"] is not None:
                extra = f" Present only when {self.cond_text(f['when'])}; null otherwise."
            L.append("")
            L += javadoc(f["doc"] + extra, 2)
            L.append(f"  public {ft} {n.accessor('get', f['words'])}() {{")
            L.append(f"    return {a};")
            L.append("  }")
            L.append("")
            L.append(f"  /** Set {f['name']}. */")
            L.append(f"  public {cls} {n.accessor('set', f['words'])}({ft} value) {{")
            L.append(f"    this.{a} = value;")
            L.append("    return this;")
            L.append("  }")
        if s["variants"]:
            L.append("")
            L.append(
                f"  /** The flags ({', '.join(s['flags']) or 'none'}) of a type code, or null for an unknown code. */"
            )
            L.append("  static boolean[] variants(long code) {")
            for vr in s["variants"]:
                vals = ", ".join("true" if vr["flags"].get(fl, False) else "false" for fl in s["flags"])
                L.append(f"    if (code == {jlong(vr['code'])}) {{")
                L.append(f"      return new boolean[] {{{vals}}};")
                L.append("    }")
            L.append("    return null;")
            L.append("  }")
        L.append("")
        L.append("  @Override")
        L.append("  public String structName() {")
        L.append(f"    return {jstr(s['name'])};")
        L.append("  }")
        L.append("")
        L.append("  /** The wire bytes; EncodeException if a field breaks its declaration. */")
        L.append(f"  public byte[] encode({params[2:]}) {{")
        L.append("    WireWriter w = new WireWriter();")
        L.append(f"    encodeTo(w{argv});")
        L.append("    return w.toByteArray();")
        L.append("  }")
        L.append("")
        L.append("  /** Append the wire bytes to {@code w}. */")
        L.append(f"  public void encodeTo(WireWriter w{params}) {{")
        L += ["    " + x for x in self.encode_body()]
        L.append("  }")
        L.append("")
        L.append(
            f"  /** Decode all of {{@code data}}; {{@code trailing_bytes}} if it is not exactly one {s['name']}. */"
        )
        L.append(f"  public static {cls} decode(byte[] data{params}) {{")
        L.append("    WireReader r = new WireReader(data);")
        L.append(f"    {cls} value = decodeFrom(r, data.length{argv});")
        L.append("    if (r.pos != data.length) {")
        msg = f"(data.length - r.pos) + {jstr(' byte(s) left after ' + s['name'])}"
        L.append(f"      throw r.error(Reason.TRAILING_BYTES, {msg});")
        L.append("    }")
        L.append("    return value;")
        L.append("  }")
        L.append("")
        L.append("  /** Decode one value from {@code r}, reading no further than {@code end}. */")
        L.append(f"  public static {cls} decodeFrom(WireReader r, int end{params}) {{")
        L += ["    " + x for x in self.decode_body()]
        L.append("  }")
        L.append("")
        L.append("  @Override")
        L.append("  public Map<String, Object> toJson() {")
        L.append("    Map<String, Object> out = new LinkedHashMap<>();")
        for f in s["fields"]:
            a = self.attrs[f["name"]]
            if f["when"] is None:
                L.append(f"    out.put({jstr(f['name'])}, {self.to_json_expr(f['type'], a)});")
            else:
                L.append(f"    if ({a} != null) {{")
                L.append(f"      out.put({jstr(f['name'])}, {self.to_json_expr(f['type'], a)});")
                L.append("    }")
        L.append("    return out;")
        L.append("  }")
        L.append("")
        L.append("  /** Read the vector value format; {@code invalid_json} if {@code value} does not match. */")
        L.append(f"  public static {cls} fromJson(Object value) {{")
        L.append(f"    WireJson.Obj j = new WireJson.Obj(value, {jstr(s['name'])}, NAMES);")
        L.append(f"    {cls} o = new {cls}();")
        for f in s["fields"]:
            L.append(f"    o.{self.attrs[f['name']]} = {self.from_json_field(f)};")
        L.append("    return o;")
        L.append("  }")
        L.append("")
        L.append("  @Override")
        L.append("  public boolean equals(Object other) {")
        L.append(f"    return other instanceof {cls} && toJson().equals((({cls}) other).toJson());")
        L.append("  }")
        L.append("")
        L.append("  @Override")
        L.append("  public int hashCode() {")
        L.append("    return toJson().hashCode();")
        L.append("  }")
        L.append("")
        L.append("  @Override")
        L.append("  public String toString() {")
        L.append(f"    return {jstr(s['name'])} + toJson();")
        L.append("  }")
        L.append("}")
        out = "\n".join(L) + "\n"
        for imp, used in [
            ("import java.util.ArrayList;\n", "new ArrayList"),
            (f"import {self.p.root}.internal.Utf8;\n", "Utf8."),
            (f"import {self.p.root}.DecodeException.Reason;\n", "Reason."),
            (f"import {self.p.root}.EncodeException;\n", "EncodeException("),
            (f"import {self.p.root}.ProtoMessage;\n", "ProtoMessage "),
        ]:
            if used not in out.replace(imp, ""):
                out = out.replace(imp, "")
        return out


def _parser_constructors(pname: str) -> list[str]:
    return [
        "  /** A parser with the default buffer bound. */",
        f"  public {pname}() {{",
        "    super(DEFAULT_MAX_BUFFER);",
        "  }",
        "",
        "  /** A parser holding at most {@code maxBuffer} bytes of one unfinished item. */",
        f"  public {pname}(int maxBuffer) {{",
        "    super(maxBuffer);",
        "  }",
    ]


class _Proto:
    def __init__(self, ir: m.IR, proto: m.WireProtocol, root: str, header: str, n: JavaNamer) -> None:
        self.ir = ir
        self.proto = proto
        self.root = root
        self.header = header
        self.n = n
        self.package = f"{root}.wire.{n.package_name(proto['words'])}"
        self.structs = {s["name"]: s for s in proto["structs"]}
        self.code_sets = {c["name"]: c for c in proto["codes"]}

    def cls(self, struct_name: str) -> str:
        return self.n.class_name(self.structs[struct_name]["words"])

    def code_class(self, name: str) -> str:
        if name not in self.code_sets:
            raise WireGenError(f"{self.proto['name']}: unknown code set {name!r}")
        return self.n.class_name(self.code_sets[name]["words"])

    def read_int(self, kind: str, end: str) -> str:
        return f"r.varint({end})" if kind == "varint" else f"r.uint({INT_SIZE[kind]}, {end})"

    def write_int(self, kind: str, w: str, v: str) -> str:
        return f"{w}.varint({v});" if kind == "varint" else f"{w}.uint({v}, {INT_SIZE[kind]});"

    def files(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        out.append(("Protocol.java", self.protocol_file()))
        for c in self.proto["codes"]:
            out.append((f"{self.n.class_name(c['words'])}.java", self.code_set_file(c)))
        for s in self.proto["structs"]:
            out.append((f"{self.cls(s['name'])}.java", _Struct(self, s).file()))
        for st in self.proto["streams"]:
            out.append((f"{self.parser_name(st)}.java", self.stream_file(st)))
        return out

    def parser_name(self, st: m.WireStream) -> str:
        return self.n.class_name([*st["words"], "parser"])

    def protocol_file(self) -> str:
        p = self.proto
        L = [self.header, f"package {self.package};", ""]
        L += javadoc(f"Wire protocol {p['name']} (family {p['family']}, version {hex(p['version'])}). {p['doc']}", 0)
        L.append("public final class Protocol {")
        L.append("  private Protocol() {}")
        L.append("")
        L.append("  /** The protocol family. */")
        L.append(f"  public static final String FAMILY = {jstr(p['family'])};")
        L.append("")
        L.append("  /** The protocol version. */")
        L.append(f"  public static final long VERSION = {jlong(p['version'])};")
        L.append("")
        L.append("  /** The ALPN string, or null. */")
        L.append(f"  public static final String ALPN = {'null' if p['alpn'] is None else jstr(p['alpn'])};")
        L.append("}")
        return "\n".join(L) + "\n"

    def code_set_file(self, c: m.WireCodeSet) -> str:
        cls = self.n.class_name(c["words"])
        L = [self.header, f"package {self.package};", ""]
        L.append("import java.util.Collections;")
        L.append("import java.util.LinkedHashMap;")
        L.append("import java.util.Map;")
        L.append("")
        closed = "Closed: values outside this set are rejected." if c["closed"] else "Open: unknown values are kept."
        L += javadoc(f"{c['doc']} {closed}", 0)
        L.append(f"public final class {cls} {{")
        L.append(f"  private {cls}() {{}}")
        for v in c["values"]:
            L.append("")
            L += javadoc(v["doc"], 2)
            L.append(f"  public static final long {self.n.const_name(v['words'])} = {jlong(v['value'])};")
        L.append("")
        L.append("  /** Value -> IDL name. */")
        L.append("  public static final Map<Long, String> NAMES;")
        L.append("")
        L.append("  static {")
        L.append("    Map<Long, String> m = new LinkedHashMap<>();")
        for v in c["values"]:
            L.append(f"    m.put({jlong(v['value'])}, {jstr(v['name'])});")
        L.append("    NAMES = Collections.unmodifiableMap(m);")
        L.append("  }")
        L.append("")
        L.append("  /** True if this set defines {@code value}. */")
        L.append("  public static boolean isDefined(long value) {")
        L.append("    return NAMES.containsKey(value);")
        L.append("  }")
        L.append("")
        L.append("  /** The IDL name of {@code value}, or null. */")
        L.append("  public static String nameOf(long value) {")
        L.append("    return NAMES.get(value);")
        L.append("  }")
        L.append("}")
        return "\n".join(L) + "\n"

    def _stream_head(self, st: m.WireStream, imports: list[str]) -> list[str]:
        L = [self.header, f"package {self.package};", ""]
        for imp in sorted(imports):  # google-java-format orders imports in ASCII order
            L.append(f"import {imp};")
        L.append("")
        L += javadoc(f"Incremental parser of the `{st['name']}` stream ({st['kind']}). {st['doc']}", 0)
        return L

    def stream_file(self, st: m.WireStream) -> str:
        kind = st["kind"]
        r = self.root
        base_imports = [
            f"{r}.DecodeException",
            f"{r}.DecodeException.Reason",
            f"{r}.wire.BufferedParser",
            f"{r}.wire.Incomplete",
            f"{r}.wire.StreamParser",
            f"{r}.wire.WireReader",
            f"{r}.wire.WireStruct",
            "java.util.ArrayList",
            "java.util.List",
        ]
        pname = self.parser_name(st)
        if kind in ("sequence", "datagram"):
            msg = st["message"]
            if msg is None or msg not in self.structs or self.structs[msg]["args"]:
                raise WireGenError(f"stream {st['name']}: message {msg!r} must be a struct without args")
            mc = self.cls(msg)
        if kind == "datagram":
            L = self._stream_head(
                st, [f"{r}.wire.BufferedParser", f"{r}.wire.StreamParser", f"{r}.wire.WireStruct", "java.util.List"]
            )
            L.append(f"public final class {pname} extends BufferedParser implements StreamParser {{")
            L.append("  /** A parser; the datagram's bytes are decoded whole at close. */")
            L.append(f"  public {pname}() {{")
            L.append("    super(DEFAULT_MAX_BUFFER);")
            L.append("  }")
            L.append("")
            L.append("  /** Decode one whole datagram. */")
            L.append(f"  public static {mc} decode(byte[] data) {{")
            L.append(f"    return {mc}.decode(data);")
            L.append("  }")
            L.append("")
            L.append("  /** The datagram carrying {@code msg}. */")
            L.append(f"  public static byte[] encode({mc} msg) {{")
            L.append("    return msg.encode();")
            L.append("  }")
            L.append("")
            L.append("  @Override")
            L.append("  public List<WireStruct> feedItems(byte[] data, int off, int n) {")
            L.append("    append(data, off, n);")
            L.append("    return List.of();")
            L.append("  }")
            L.append("")
            L.append("  @Override")
            L.append("  public List<WireStruct> close() {")
            L.append(f"    return List.of({mc}.decode(java.util.Arrays.copyOf(buf, len)));")
            L.append("  }")
            L.append("}")
            return "\n".join(L) + "\n"
        if kind == "sequence":
            L = self._stream_head(st, base_imports)
            L.append(f"public final class {pname} extends BufferedParser implements StreamParser {{")
            L += _parser_constructors(pname)
            L.append("")
            L.append("  /** Every message completed by {@code data}. */")
            L.append(f"  public List<{mc}> feed(byte[] data, int off, int n) {{")
            L.append("    append(data, off, n);")
            L.append(f"    List<{mc}> out = new ArrayList<>();")
            L.append("    int pos = 0;")
            L.append("    while (pos < len) {")
            L.append("      WireReader r = streaming(pos);")
            L.append(f"      {mc} item;")
            L.append("      try {")
            L.append(f"        item = {mc}.decodeFrom(r, r.stop);")
            L.append("      } catch (Incomplete e) {")
            L.append("        break;")
            L.append("      }")
            L.append("      if (r.pos == pos) {")
            text = jstr(st["name"] + ": an empty message cannot advance the stream")
            L.append(f"        throw r.error(Reason.INVALID_VALUE, {text});")
            L.append("      }")
            L.append("      out.add(item);")
            L.append("      pos = r.pos;")
            L.append("    }")
            L.append(f"    consume(pos, {jstr(st['name'])});")
            L.append("    return out;")
            L.append("  }")
            L.append("")
            L.append("  @Override")
            L.append("  public List<WireStruct> feedItems(byte[] data, int off, int n) {")
            L.append("    return new ArrayList<>(feed(data, off, n));")
            L.append("  }")
            L.append("")
            L.append("  @Override")
            L.append("  public List<WireStruct> close() {")
            L.append("    if (len > 0) {")
            L.append(f"      {mc}.decodeFrom(whole(), len);")
            text = jstr(st["name"] + ": stream ended inside a message")
            L.append(f"      throw new DecodeException(Reason.TRUNCATED, {text});")
            L.append("    }")
            L.append("    return List.of();")
            L.append("  }")
            L.append("")
            L.append("  /** One message of the stream. */")
            L.append(f"  public static byte[] encode({mc} msg) {{")
            L.append("    return msg.encode();")
            L.append("  }")
            L.append("}")
            return "\n".join(L) + "\n"
        if kind == "framed":
            return self.framed_file(st, base_imports, pname)
        return self.header_objects_file(st, base_imports, pname)

    def framed_file(self, st: m.WireStream, imports: list[str], pname: str) -> str:
        dispatch = st["dispatch"]
        if dispatch is None or dispatch not in self.code_sets:
            raise WireGenError(f"stream {st['name']}: dispatch {dispatch!r} is not a code set")
        rows: list[tuple[int, str]] = []
        for cv in self.code_sets[dispatch]["values"]:
            if cv["struct"] is None:
                continue
            if cv["struct"] not in self.structs or self.structs[cv["struct"]]["args"]:
                raise WireGenError(
                    f"stream {st['name']}: {cv['name']} names {cv['struct']!r}, not a struct without args"
                )
            rows.append((cv["value"], self.cls(cv["struct"])))
        length = st["length"] or "varint"
        type_kind = st["type"] or "varint"
        limit = INT_MAX[length] if st["max"] is None else min(st["max"], INT_MAX[length])
        L = self._stream_head(st, [*imports, f"{self.root}.EncodeException", f"{self.root}.wire.WireWriter"])
        L.append(f"public final class {pname} extends BufferedParser implements StreamParser {{")
        L.append("  /** The largest body Length accepted. */")
        L.append(f"  public static final long MAX_LENGTH = {jlong(limit)};")
        L.append("")
        L.append("  /** One message: its type code and its body. */")
        L.append("  public record Frame(long type, WireStruct message) {}")
        L.append("")
        L += _parser_constructors(pname)
        L.append("")
        L.append("  /** True if {@code code} is a message type of this stream. */")
        L.append("  public static boolean knows(long code) {")
        cond = " || ".join(f"code == {jlong(v)}" for v, _ in rows) or "false"
        L.append(f"    return {cond};")
        L.append("  }")
        L.append("")
        L.append("  /** Decode the body of a message of type {@code code} (which must be known). */")
        L.append("  static WireStruct decodeBody(long code, WireReader r, int end) {")
        for v, c in rows:
            L.append(f"    if (code == {jlong(v)}) {{")
            L.append(f"      return {c}.decodeFrom(r, end);")
            L.append("    }")
        L.append('    throw r.error(Reason.UNKNOWN_TYPE, "unknown message type 0x" + Long.toHexString(code));')
        L.append("  }")
        L.append("")
        L.append("  /** True if a message of type {@code code} carries {@code msg}'s struct. */")
        L.append("  public static boolean carries(long code, WireStruct msg) {")
        for v, c in rows:
            L.append(f"    if (code == {jlong(v)}) {{")
            L.append(f"      return msg instanceof {c};")
            L.append("    }")
        L.append("    return false;")
        L.append("  }")
        L.append("")
        L.append("  /** Every message completed by {@code data}. */")
        L.append("  public List<Frame> feed(byte[] data, int off, int n) {")
        L.append("    append(data, off, n);")
        L.append("    List<Frame> out = new ArrayList<>();")
        L.append("    int pos = 0;")
        L.append("    while (pos < len) {")
        L.append("      WireReader r = streaming(pos);")
        L.append("      long code;")
        L.append("      long length;")
        L.append("      try {")
        L.append(f"        code = {self.read_int(type_kind, 'r.stop')};")
        L.append(f"        length = {self.read_int(length, 'r.stop')};")
        L.append("      } catch (Incomplete e) {")
        L.append("        break;")
        L.append("      }")
        L.append("      if (!knows(code)) {")
        text = jstr(st["name"] + ": unknown message type 0x")
        L.append(f"        throw new DecodeException(Reason.UNKNOWN_TYPE, {text} + Long.toHexString(code));")
        L.append("      }")
        L.append(
            "      if (Long.compareUnsigned(length, MAX_LENGTH) > 0 || Long.compareUnsigned(length, maxBuffer) > 0) {"
        )
        text = jstr(st["name"] + ": a message of ")
        L.append(
            f"        throw new DecodeException(Reason.TOO_LARGE, {text} + Long.toUnsignedString(length)"
            ' + " bytes is over the limit");'
        )
        L.append("      }")
        L.append("      if (length > len - r.pos) {")
        L.append("        break;")
        L.append("      }")
        L.append("      int bodyEnd = r.pos + (int) length;")
        L.append("      WireReader body = new WireReader(buf, r.pos, bodyEnd, false, base);")
        L.append("      WireStruct msg = decodeBody(code, body, bodyEnd);")
        L.append("      if (body.pos != bodyEnd) {")
        text = jstr(st["name"] + ": ")
        L.append(
            f"        throw body.error(Reason.TRAILING_BYTES, {text} + (bodyEnd - body.pos)"
            ' + " byte(s) left in the message");'
        )
        L.append("      }")
        L.append("      out.add(new Frame(code, msg));")
        L.append("      pos = bodyEnd;")
        L.append("    }")
        L.append(f"    consume(pos, {jstr(st['name'])});")
        L.append("    return out;")
        L.append("  }")
        L.append("")
        L.append("  @Override")
        L.append("  public List<WireStruct> feedItems(byte[] data, int off, int n) {")
        L.append("    List<WireStruct> out = new ArrayList<>();")
        L.append("    for (Frame f : feed(data, off, n)) {")
        L.append("      out.add(f.message());")
        L.append("    }")
        L.append("    return out;")
        L.append("  }")
        L.append("")
        L.append("  /** The stream ended: {@code truncated} inside Type or Length, else {@code length_past_end}. */")
        L.append("  @Override")
        L.append("  public List<WireStruct> close() {")
        L.append("    if (len > 0) {")
        L.append("      WireReader r = whole();")
        L.append(f"      {self.read_int(type_kind, 'r.stop')};")
        L.append(f"      {self.read_int(length, 'r.stop')};")
        text = jstr(st["name"] + ": stream ended inside a message")
        L.append(f"      throw new DecodeException(Reason.LENGTH_PAST_END, {text});")
        L.append("    }")
        L.append("    return List.of();")
        L.append("  }")
        L.append("")
        L.append("  /** Type, Length and body of {@code msg} as a message of type {@code code}. */")
        L.append("  public static byte[] encode(long code, WireStruct msg) {")
        L.append("    if (!carries(code, msg)) {")
        text = jstr(st["name"] + ": type 0x")
        L.append(
            f'      throw new EncodeException({text} + Long.toHexString(code) + " does not carry " + msg.structName());'
        )
        L.append("    }")
        L.append("    byte[] body = encodeBody(msg);")
        L.append("    if (body.length > MAX_LENGTH) {")
        text = jstr(st["name"] + ": a body of ")
        L.append(f'      throw new EncodeException({text} + body.length + " bytes is over the limit");')
        L.append("    }")
        L.append("    WireWriter w = new WireWriter();")
        L.append("    " + self.write_int(type_kind, "w", "code"))
        L.append("    " + self.write_int(length, "w", "body.length"))
        L.append("    w.raw(body);")
        L.append("    return w.toByteArray();")
        L.append("  }")
        L.append("")
        L.append("  /** Type, Length and body of {@code msg}, whose struct must serve exactly one type. */")
        L.append("  public static byte[] encode(WireStruct msg) {")
        L.append("    long found = -1;")
        L.append("    int count = 0;")
        for v, _ in rows:
            L.append(f"    if (carries({jlong(v)}, msg)) {{")
            L.append(f"      found = {jlong(v)};")
            L.append("      count++;")
            L.append("    }")
        L.append("    if (count != 1) {")
        L.append(
            f"      throw new EncodeException({jstr(st['name'] + ': pass the type code for ')} + msg.structName());"
        )
        L.append("    }")
        L.append("    return encode(found, msg);")
        L.append("  }")
        L.append("")
        L.append("  private static byte[] encodeBody(WireStruct msg) {")
        for c in dict.fromkeys(c for _, c in rows):
            L.append(f"    if (msg instanceof {c}) {{")
            L.append(f"      return (({c}) msg).encode();")
            L.append("    }")
        L.append(f"    throw new EncodeException({jstr(st['name'] + ': not a message of this stream')});")
        L.append("  }")
        L.append("}")
        return "\n".join(L) + "\n"

    def header_objects_file(self, st: m.WireStream, imports: list[str], pname: str) -> str:
        L = self._stream_head(st, [*imports, f"{self.root}.EncodeException", f"{self.root}.wire.WireWriter"])
        L.append(f"public final class {pname} extends BufferedParser implements StreamParser {{")
        L.append("  private int header = -1;")
        L.append("  private boolean[] flags = new boolean[0];")
        L.append("")
        L += _parser_constructors(pname)
        L.append("")
        L.append("  /** The header (first) and then every object completed by {@code data}. */")
        L.append("  public List<WireStruct> feed(byte[] data, int off, int n) {")
        L.append("    append(data, off, n);")
        L.append("    List<WireStruct> out = new ArrayList<>();")
        L.append("    int pos = 0;")
        L.append("    while (pos < len) {")
        L.append("      WireReader r = streaming(pos);")
        L.append("      WireStruct item;")
        L.append("      try {")
        L.append("        item = header >= 0 ? object(r) : start(r, true);")
        L.append("      } catch (Incomplete e) {")
        L.append("        break;")
        L.append("      }")
        L.append("      if (r.pos == pos) {")
        L.append(
            f"        throw r.error(Reason.INVALID_VALUE, {jstr(st['name'] + ': an empty object cannot advance')});"
        )
        L.append("      }")
        L.append("      out.add(item);")
        L.append("      pos = r.pos;")
        L.append("    }")
        L.append(f"    consume(pos, {jstr(st['name'])});")
        L.append("    return out;")
        L.append("  }")
        L.append("")
        L.append("  @Override")
        L.append("  public List<WireStruct> feedItems(byte[] data, int off, int n) {")
        L.append("    return feed(data, off, n);")
        L.append("  }")
        L.append("")
        L.append("  /** The stream ended: a pending object (or a missing header) is a decode error. */")
        L.append("  @Override")
        L.append("  public List<WireStruct> close() {")
        L.append("    if (len > 0 || header < 0) {")
        L.append("      WireReader r = whole();")
        L.append("      if (header >= 0) {")
        L.append("        object(r);")
        L.append("      } else {")
        L.append("        start(r, false);")
        L.append("      }")
        text = jstr(st["name"] + ": stream ended inside an object")
        L.append(f"      throw new DecodeException(Reason.TRUNCATED, {text});")
        L.append("    }")
        L.append("    return List.of();")
        L.append("  }")
        L.append("")
        L.append("  private WireStruct start(WireReader r, boolean streaming) {")
        L.append("    long code = 0;")
        headers = st["headers"]
        for i, h in enumerate(headers):
            hs = self.structs.get(h["header"])
            obj = self.structs.get(h["object"])
            if hs is None or obj is None or not hs["fields"] or not h["codes"]:
                raise WireGenError(f"stream {st['name']}: header {h['header']!r} or object {h['object']!r} unknown")
            first = hs["fields"][0]["type"]["type"]
            if first not in INT_MAX:
                raise WireGenError(f"stream {st['name']}: header {h['header']} must start with its type code")
            hc = self.cls(h["header"])
            peek = self.read_int(first, "r.stop").replace("r.", "r.fork(streaming).", 1)
            L.append(f"    code = {peek};")
            cond = " || ".join(f"code == {jlong(x)}" for x in h["codes"])
            L.append(f"    if ({cond}) {{")
            L.append(f"      {hc} h = {hc}.decodeFrom(r, r.stop);")
            if hs["variants"]:
                first_attr = self.n.accessor("get", hs["fields"][0]["words"])
                L.append(f"      flags = {hc}.variants(h.{first_attr}());")
            L.append(f"      header = {i};")
            L.append("      return h;")
            L.append("    }")
        text = jstr(st["name"] + ": unknown stream type 0x")
        L.append(f"    throw r.error(Reason.UNKNOWN_TYPE, {text} + Long.toHexString(code));")
        L.append("  }")
        L.append("")
        L.append("  private WireStruct object(WireReader r) {")
        for i, h in enumerate(headers):
            hs = self.structs[h["header"]]
            obj = self.structs[h["object"]]
            idx = []
            for a in obj["args"]:
                flag = h["args"].get(a)
                if flag is None or flag not in hs["flags"]:
                    raise WireGenError(f"stream {st['name']}: object arg {a!r} is not mapped to a header flag")
                idx.append(hs["flags"].index(flag))
            L.append(f"    if (header == {i}) {{")
            args = "".join(f", flags[{x}]" for x in idx)
            L.append(f"      return {self.cls(h['object'])}.decodeFrom(r, r.stop{args});")
            L.append("    }")
        L.append(f"    throw r.error(Reason.UNKNOWN_TYPE, {jstr(st['name'] + ': no header')});")
        L.append("  }")
        L.append("")
        L.append("  /** A whole stream: the header, then each object (with the header's flags as args). */")
        L.append("  public static byte[] encode(WireStruct header, List<? extends WireStruct> objects) {")
        L.append("    WireWriter w = new WireWriter();")
        for h in headers:
            hs = self.structs[h["header"]]
            obj = self.structs[h["object"]]
            hc, oc = self.cls(h["header"]), self.cls(h["object"])
            L.append(f"    if (header instanceof {hc}) {{")
            L.append(f"      {hc} h = ({hc}) header;")
            if hs["variants"]:
                first_attr = self.n.accessor("get", hs["fields"][0]["words"])
                L.append(f"      boolean[] fl = {hc}.variants(h.{first_attr}());")
                L.append("      if (fl == null) {")
                L.append(f"        throw new EncodeException({jstr(st['name'] + ': unknown header type')});")
                L.append("      }")
            L.append("      w.raw(h.encode());")
            L.append("      for (WireStruct o : objects) {")
            L.append(f"        if (!(o instanceof {oc})) {{")
            text = jstr(st["name"] + ": a " + h["header"] + " stream carries " + h["object"] + " objects")
            L.append(f"          throw new EncodeException({text});")
            L.append("        }")
            idx = [hs["flags"].index(h["args"][a]) for a in obj["args"]]
            L.append(f"        w.raw((({oc}) o).encode({', '.join(f'fl[{x}]' for x in idx)}));")
            L.append("      }")
            L.append("      return w.toByteArray();")
            L.append("    }")
        L.append(f"    throw new EncodeException({jstr(st['name'] + ': not a header of this stream')});")
        L.append("  }")
        L.append("}")
        return "\n".join(L) + "\n"


def generate_wire(ir: m.IR, root: str, header: str, n: JavaNamer) -> list[tuple[str, str]]:
    """(path under src/main/java/<root>/wire, content) for every protocol, plus the registry."""
    files: list[tuple[str, str]] = []
    structs: list[tuple[str, str]] = []
    streams: list[tuple[str, str]] = []
    for p in ir["wire"]:
        g = _Proto(ir, p, root, header, n)
        sub = n.package_name(p["words"])
        for name, text in g.files():
            files.append((f"{sub}/{name}", text))
        for s in p["structs"]:
            structs.append((f"{p['name']}.{s['name']}", f"{g.package}.{g.cls(s['name'])}"))
        for st in p["streams"]:
            streams.append((f"{p['name']}.{st['name']}", f"{g.package}.{g.parser_name(st)}"))
    L = [header, f"package {root}.wire;", ""]
    L.append("import java.util.Collections;")
    L.append("import java.util.LinkedHashMap;")
    L.append("import java.util.Map;")
    L.append("import java.util.function.Supplier;")
    L.append("")
    L.append("/** Wire structs by {@code protocol.Struct} and stream parsers by {@code protocol.stream}. */")
    L.append("public final class WireRegistry {")
    L.append("  private WireRegistry() {}")
    L.append("")
    L.append("  /** {@code protocol.Struct} -> codec. */")
    L.append("  public static final Map<String, StructCodec> STRUCTS;")
    L.append("")
    L.append("  /** {@code protocol.stream} -> a new parser. */")
    L.append("  public static final Map<String, Supplier<StreamParser>> STREAMS;")
    L.append("")
    L.append("  static {")
    L.append("    Map<String, StructCodec> s = new LinkedHashMap<>();")
    for key, cls in structs:
        L.append(f"    s.put({jstr(key)}, {cls}.CODEC);")
    L.append("    STRUCTS = Collections.unmodifiableMap(s);")
    L.append("    Map<String, Supplier<StreamParser>> p = new LinkedHashMap<>();")
    for key, cls in streams:
        L.append(f"    p.put({jstr(key)}, {cls}::new);")
    L.append("    STREAMS = Collections.unmodifiableMap(p);")
    L.append("  }")
    L.append("}")
    files.append(("WireRegistry.java", "\n".join(L) + "\n"))
    return files
