"""IR wire protocols -> one Java package per protocol (`dev.clutchcall.v1.wire.<protocol>`).

Like the Python target, the code is straight-line: each field of each struct becomes its own
reads, checks and writes (recursively for lists of structs of lists), so nothing interprets
the IR at run time. The shared runtime (reader, writer, JSON value format, parser buffer) is in
`templates/wire/`; this module emits the per-protocol classes and the by-name registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...ir import model as m
from ...ir import plan
from ...ir.wire import code_sets_by_name, structs_by_name
from ..common import INT_MAX, INT_SIZE, WireGenError, plan_cond_text
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
    """Renders one struct's plan (`ir.plan.StructPlan`) as Java: every op is spelled as it comes."""

    def __init__(self, p: _Proto, s: m.WireStruct) -> None:
        self.p = p
        self.s = s
        self.plan = p.struct_plans[s["name"]]
        self.cls = p.cls(s["name"])
        self.fields = {f["name"]: f for f in s["fields"]}
        self.attrs = {f["name"]: p.n.field_name(f["words"]) for f in s["fields"]}
        self.flag_vars = {x: "f" + p.n.class_name(x.split("_")) for x in [*s["flags"], *s["args"]]}

    def var(self, name: str) -> str:
        return "v" + self.p.n.class_name(self.fields[name]["words"])

    def jtype(self, t: m.WireType, boxed: bool = False) -> str:
        return self.jdesc(plan.type_desc(t), boxed)

    def jdesc(self, t: plan.TypeDesc, boxed: bool = False) -> str:
        if t.kind == "int":
            return "Long" if boxed else "long"
        if t.kind == "bytes":
            return "byte[]"
        if t.kind == "string":
            return "String"
        if t.kind == "list":
            assert t.element is not None
            return f"List<{self.jdesc(t.element, True)}>"
        return self.p.cls(str(t.struct))

    def field_type(self, f: m.WireField) -> str:
        return self.jtype(f["type"], f["when"] is not None)

    def where(self, name: str) -> str:
        return f"{self.s['name']}.{name}"

    def _sname(self, t: m.WireType) -> str:
        return str(t["struct"])

    def zero(self, f: m.WireField) -> str:
        if f["when"] is not None:
            return "null"
        t = f["type"]
        k = t["type"]
        if k in INT_MAX:
            initial = next(x.initial for x in self.plan.fields if x.name == f["name"])
            return jlong(initial) if initial is not None else "0L"
        if k == "bytes":
            return "new byte[0]"
        if k == "string":
            return '""'
        if k == "list":
            return "new ArrayList<>()"
        return f"new {self.jtype(t)}()"

    def body(self, ops: tuple[plan.Op, ...], encode: bool) -> list[str]:
        return _Body(self, encode).render(ops)

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
        for f, pf in zip(s["fields"], self.plan.fields, strict=True):
            ft = self.field_type(f)
            a = self.attrs[f["name"]]
            extra = ""
            if pf.cond is not None:
                extra = f" Present only when {plan_cond_text(pf.cond)}; null otherwise."
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
        L += ["    " + x for x in self.body(self.plan.encode, True)]
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
        L.append(f"      throw r.error(Reason.{self.plan.whole_reason.upper()}, {msg});")
        L.append("    }")
        L.append("    return value;")
        L.append("  }")
        L.append("")
        L.append("  /** Decode one value from {@code r}, reading no further than {@code end}. */")
        L.append(f"  public static {cls} decodeFrom(WireReader r, int end{params}) {{")
        L += ["    " + x for x in self.body(self.plan.decode, False)]
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


class _Body:
    """One decode or encode body: plan slots get Java names in the order Java declares them."""

    def __init__(self, st: _Struct, encode: bool) -> None:
        self.st = st
        self.encode = encode
        self.c = _Code()
        self.names: dict[str, str] = {}
        self.types: dict[str, plan.TypeDesc] = {}
        for f in st.plan.fields:
            self.names[f.var] = st.var(f.name)
            self.types[f.var] = f.type
        for a in [*st.plan.flags, *st.plan.args]:
            self.names["f_" + a] = st.flag_vars[a]
        self.names["end"] = "end"
        self.names["out"] = "w"
        self.loops: dict[int, str] = {}

    def name(self, slot: str) -> str:
        return self.names[slot]

    def number(self, ops: tuple[plan.Op, ...]) -> None:
        """Name every temporary before anything is written, in the order Java has always declared
        them: by plan slot number, with each loop index right after what precedes its loop."""
        keyed: list[tuple[float, str, plan.Op | None]] = []
        seen: set[str] = set()
        last = 0.0

        for op in plan.walk(ops):
            if isinstance(op, plan.Repeat):
                keyed.append((last + 0.5, "i", op))
            slot = _defined(op, self.encode)
            if slot is not None and slot not in self.names and slot not in seen:
                seen.add(slot)
                last = max(last, _slot_number(slot))
                keyed.append((_slot_number(slot), slot, None))
        for _, slot, loop in sorted(keyed, key=lambda k: k[0]):
            if loop is not None:
                self.loops[id(loop)] = self.c.fresh("i")
            else:
                self.names[slot] = self.c.fresh(slot.rstrip("0123456789"))

    def operand(self, o: plan.Operand) -> str:
        if isinstance(o, plan.Var):
            return self.name(o.name)
        if isinstance(o, plan.FieldValue):
            v = self.name("v_" + o.field)
            return f"({v} == null ? 0L : {v})" if o.optional else v
        if isinstance(o, plan.Const):
            return f"{o.value}L"
        if isinstance(o, plan.Remaining):
            return f"(long) ({self.name(o.end)} - r.pos)"
        t = self.types.get(o.name)
        if t is not None and t.kind == "list":
            return f"(long) {self.name(o.name)}.size()"
        if t is not None and t.kind == "string":
            return f"(long) {self.name(o.name)}Raw.length"
        if t is None:  # a sub-buffer
            return f"(long) {self.name(o.name)}.size()"
        return f"(long) {self.name(o.name)}.length"

    def fail(self, ind: int, cond: str, reason: str, msg: str) -> None:
        self.c.add(ind, f"if ({cond}) {{")
        if self.encode:
            self.c.add(ind + 1, f"throw new EncodeException({msg});")
        else:
            self.c.add(ind + 1, f"throw r.error(Reason.{reason.upper()}, {msg});")
        self.c.add(ind, "}")

    def check(self, ind: int, op: plan.Check) -> None:
        v = self.name(op.var)
        us = f"Long.toUnsignedString({v})"
        bound = op.bound or 0
        if op.test == "const":
            cond, msg = f"{v} != {jlong(bound)}", f" is not the constant {bound}"
        elif op.test == "codes":
            cond, msg = f"!{self.st.p.code_class(str(op.codes))}.isDefined({v})", f" is not a {op.codes} code"
        elif op.test == "min":
            cond, msg = f"Long.compareUnsigned({v}, {jlong(bound)}) < 0", f" is below {bound}"
        elif op.test == "max":
            cond, msg = f"Long.compareUnsigned({v}, {jlong(bound)}) > 0", f" is above {bound}"
        else:
            cond, msg = f"({v} & ~{jlong(bound)}) != 0", f" has bits outside {hex(bound)}"
        self.fail(ind, cond, op.reason, f"{jstr(op.where + ': ')} + {us} + {jstr(msg)}")

    def cond(self, c: plan.Cond) -> str:
        if isinstance(c, plan.FlagIs):
            fv = self.name("f_" + c.flag)
            return fv if c.value else f"!{fv}"
        v = self.name("v_" + c.field)
        if c.test in ("eq", "ne"):
            test = f"{v} {'==' if c.test == 'eq' else '!='} {jlong(c.values[0])}"
        elif c.test in ("in", "not_in"):
            test = " || ".join(f"{v} == {jlong(x)}" for x in c.values)
            test = f"({test})" if c.test == "in" else f"!({test})"
        else:
            test = f"({v} & 1) == {0 if c.test == 'even' else 1}"
        return f"({v} != null && {test})" if c.optional else test

    def render(self, ops: tuple[plan.Op, ...]) -> list[str]:
        s = self.st.plan
        self.number(ops)
        if self.encode:
            for f in self.st.s["fields"]:
                self.c.add(0, f"{self.st.field_type(f)} {self.st.var(f['name'])} = this.{self.st.attrs[f['name']]};")
            self.ops(0, ops)
            return self.c.lines
        self.ops(0, ops)
        self.c.add(0, f"{self.st.cls} o = new {self.st.cls}();")
        for pf in s.fields:
            self.c.add(0, f"o.{self.st.attrs[pf.name]} = {self.name(pf.var)};")
        self.c.add(0, "return o;")
        return self.c.lines

    def ops(self, ind: int, ops: tuple[plan.Op, ...]) -> None:
        for i, op in enumerate(ops):
            if isinstance(op, plan.Repeat):
                index = self.loops[id(op)]
                self.c.add(ind, f"for (long {index} = 0; {index} < {self.operand(op.count)}; {index}++) {{")
                self.ops(ind + 1, op.body)
                self.c.add(ind, "}")
            elif self.encode:
                self.encode_op(ind, op)
            else:
                self.decode_op(ind, op, ops[i + 1 :])

    def decode_op(self, ind: int, op: plan.Op, rest: tuple[plan.Op, ...]) -> None:
        c = self.c
        if isinstance(op, (plan.Begin, plan.Mark)):  # Java reports errors where the reader stands
            return
        if isinstance(op, plan.ReadInt):
            read = f"r.varint({op.end})" if op.width == "varint" else f"r.uint({INT_SIZE[op.width]}, {op.end})"
            c.add(ind, f"long {self.name(op.var)} = {read};")
        elif isinstance(op, plan.Check):
            self.check(ind, op)
        elif isinstance(op, plan.Limit):
            n = self.operand(op.subject)
            msg = f"{jstr(op.where + ': ')} + Long.toUnsignedString({n}) + {jstr(f' {op.unit}, at most {op.limit}')}"
            self.fail(ind, f"Long.compareUnsigned({n}, {jlong(op.limit)}) > 0", op.reason, msg)
        elif isinstance(op, (plan.ReadBytes, plan.ReadFixed)):
            target = self.name(op.var)
            self.types[op.var] = plan.TypeDesc("string" if op.utf8 else "bytes")
            raw = f"{target}Raw" if op.utf8 else target
            if isinstance(op, plan.ReadFixed):
                c.add(ind, f"byte[] {raw} = r.fixed({op.size}, {self.name(op.end)});")
            else:
                c.add(ind, f"byte[] {raw} = r.raw({self.operand(op.length)}, {self.name(op.end)});")
            if op.utf8:
                c.add(ind, f"String {target} = r.text({raw});")
        elif isinstance(op, plan.OpenFrame):
            sub = self.name(op.var)
            if isinstance(op.length, plan.Remaining):
                c.add(ind, f"int {sub} = {self.name(op.end)};")
            else:
                n = self.operand(op.length)
                c.add(ind, f"int {sub} = r.subEnd({n}, {self.name(op.end)}, {jstr(op.where)});")
        elif isinstance(op, plan.ExpectEnd):
            sub = self.name(op.end)
            msg = f"{jstr(op.where + ': ')} + ({sub} - r.pos) + {jstr(' byte(s) left')}"
            self.fail(ind, f"r.pos != {sub}", op.reason, msg)
        elif isinstance(op, plan.DecodeStruct):
            cls = self.st.p.cls(op.struct)
            args = "".join(", " + self.name(a) for a in op.args)
            c.add(ind, f"{cls} {self.name(op.var)} = {cls}.decodeFrom(r, {self.name(op.end)}{args});")
        elif isinstance(op, plan.NewList):
            self.types[op.var] = op.type
            c.add(ind, f"{self.st.jdesc(op.type)} {self.name(op.var)} = new ArrayList<>();")
        elif isinstance(op, plan.MinCount):
            n = self.operand(op.subject)
            msg = f"{jstr(op.where + ': ')} + {n} + {jstr(f' elements, at least {op.min}')}"
            self.fail(ind, f"Long.compareUnsigned({n}, {op.min}L) < 0", op.reason, msg)
        elif isinstance(op, plan.Need):
            n = self.operand(op.count)
            c.add(ind, f"r.needCount({n}, {op.min_bytes}, {self.name(op.end)}, {jstr(op.where)});")
        elif isinstance(op, plan.Room):
            msg = jstr(f"{op.where}: more than {op.max} elements")
            self.fail(ind, f"{self.name(op.list)}.size() >= {op.max}", op.reason, msg)
        elif isinstance(op, plan.UntilEnd):
            c.add(ind, f"while (r.pos < {self.name(op.end)}) {{")
            self.ops(ind + 1, op.body)
            c.add(ind, "}")
        elif isinstance(op, plan.Append):
            c.add(ind, f"{self.name(op.list)}.add({self.name(op.item)});")
        elif isinstance(op, plan.Optional):
            f = self.st.fields[op.var.removeprefix("v_")]
            c.add(ind, f"{self.st.field_type(f)} {self.name(op.var)} = null;")
            c.add(ind, f"if ({self.cond(op.cond)}) {{")
            self.ops(ind + 1, op.body)
            c.add(ind + 1, f"{self.name(op.var)} = {self.name(op.item)};")
            c.add(ind, "}")
        elif isinstance(op, plan.Variant):
            v = self.name(op.var)
            c.add(ind, f"boolean[] flags = variants({v});")
            msg = f"{jstr(op.struct + ': unknown type 0x')} + Long.toHexString({v})"
            self.fail(ind, "flags == null", op.reason, msg)
            for fl in op.flags:
                c.add(ind, f"boolean {self.name(fl.var)} = flags[{fl.index}];")
        else:
            raise WireGenError(f"{self.st.s['name']}: {op.op} is not a decode op")
        del rest

    def encode_op(self, ind: int, op: plan.Op) -> None:
        c = self.c
        if isinstance(op, plan.Begin):
            if not op.optional and self.types[op.var].kind != "int":  # Java fields can hold null
                c.add(ind, f"if ({self.name(op.var)} == null) {{")
                c.add(ind + 1, f"throw new EncodeException({jstr(self.st.s['name'] + '.' + op.field + ' is null')});")
                c.add(ind, "}")
        elif isinstance(op, plan.Check):
            self.check(ind, op)
        elif isinstance(op, plan.WriteInt):
            v, w = self.name(op.value), self.name(op.out)
            c.add(ind, f"{w}.varint({v});" if op.width == "varint" else f"{w}.uint({v}, {INT_SIZE[op.width]});")
        elif isinstance(op, plan.AsBytes):
            if op.utf8:
                self.types[op.var] = plan.TypeDesc("bytes")
                c.add(ind, f"byte[] {self.name(op.var)} = Utf8.encode({self.name(op.value)});")
            else:
                self.names[op.var] = self.name(op.value)  # a byte[] already
                self.types[op.var] = plan.TypeDesc("bytes")
        elif isinstance(op, plan.Limit):
            n = self.operand(op.subject)
            c.add(ind, f"if ({n} > {op.limit}L) {{")
            tail = jstr(f" {op.unit}, at most {op.limit}")
            c.add(ind + 1, f"throw new EncodeException({jstr(op.where + ': ')} + {n} + {tail});")
            c.add(ind, "}")
        elif isinstance(op, plan.MinCount):
            v = self.name(op.subject.name)  # type: ignore[union-attr]
            c.add(ind, f"if ({v}.size() < {op.min}) {{")
            tail = jstr(f" elements, at least {op.min}")
            c.add(ind + 1, f"throw new EncodeException({jstr(op.where + ': ')} + {v}.size() + {tail});")
            c.add(ind, "}")
        elif isinstance(op, plan.WriteLength):
            n, w = self.operand(op.subject), self.name(op.out)
            if op.kind == "varint":
                c.add(ind, f"{w}.varint({n});")
            elif op.kind == "field" and op.field is not None:
                c.add(ind, f"if ({n} != {self.operand(op.field)}) {{")
                text = jstr(op.where + ": its length does not match " + op.field.field)
                c.add(ind + 1, f"throw new EncodeException({text});")
                c.add(ind, "}")
            elif op.kind == "fixed":
                c.add(ind, f"if ({n} != {op.size}) {{")
                c.add(ind + 1, f"throw new EncodeException({jstr(op.where + ': length is not ' + str(op.size))});")
                c.add(ind, "}")
        elif isinstance(op, plan.WriteBytes):
            c.add(ind, f"{self.name(op.out)}.raw({self.name(op.value)});")
        elif isinstance(op, plan.EncodeStruct):
            args = "".join(", " + self.name(a) for a in op.args)
            c.add(ind, f"{self.name(op.value)}.encodeTo({self.name(op.out)}{args});")
        elif isinstance(op, plan.NewBuffer):
            c.add(ind, f"WireWriter {self.name(op.var)} = new WireWriter();")
        elif isinstance(op, plan.WriteBuffer):
            c.add(ind, f"{self.name(op.out)}.raw({self.name(op.buffer)});")
        elif isinstance(op, plan.ForEach):
            element = self.types[op.list].element
            assert element is not None
            self.types[op.item] = element
            c.add(ind, f"for ({self.st.jdesc(element, True)} {self.name(op.item)} : {self.name(op.list)}) {{")
            self.ops(ind + 1, op.body)
            c.add(ind, "}")
        elif isinstance(op, plan.Optional):
            v = self.name(op.var)
            self.names[op.item] = v  # Java tests the nullable field itself
            self.types[op.item] = self.types[op.var]
            text = plan_cond_text(op.cond)
            c.add(ind, f"if ({self.cond(op.cond)}) {{")
            c.add(ind + 1, f"if ({v} == null) {{")
            c.add(ind + 2, f"throw new EncodeException({jstr(op.where + ' is required when ' + text)});")
            c.add(ind + 1, "}")
            self.ops(ind + 1, op.body)
            c.add(ind, f"}} else if ({v} != null) {{")
            c.add(ind + 1, f"throw new EncodeException({jstr(op.where + ' must be absent unless ' + text)});")
            c.add(ind, "}")
        elif isinstance(op, plan.Variant):
            v = self.name(op.var)
            c.add(ind, "boolean[] flags = variants(" + v + ");")
            c.add(ind, "if (flags == null) {")
            text = jstr(op.struct + ": unknown type 0x")
            c.add(ind + 1, f"throw new EncodeException({text} + Long.toHexString({v}));")
            c.add(ind, "}")
            for fl in op.flags:
                c.add(ind, f"boolean {self.name(fl.var)} = flags[{fl.index}];")
        else:
            raise WireGenError(f"{self.st.s['name']}: {op.op} is not an encode op")


def _defined(op: plan.Op, encode: bool) -> str | None:
    """The temporary slot an op declares in Java, if any."""
    if isinstance(op, (plan.ReadInt, plan.ReadBytes, plan.ReadFixed, plan.OpenFrame, plan.DecodeStruct)):
        return op.var
    if isinstance(op, (plan.NewList, plan.NewBuffer)):
        return op.var
    if isinstance(op, plan.AsBytes):
        return op.var if op.utf8 else None  # a byte[] is written as it is
    if isinstance(op, plan.ForEach):
        return op.item
    if isinstance(op, plan.Optional) and not encode:  # encoding tests the nullable field itself
        return op.item
    return None


def _slot_number(slot: str) -> int:
    digits = slot[len(slot.rstrip("0123456789")) :]
    return int(digits) if digits else 0


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
        self.structs = structs_by_name(proto)
        self.code_sets = code_sets_by_name(proto)
        self.plan = plan.lower_protocol(proto)
        self.struct_plans = {x.name: x for x in self.plan.structs}
        self.stream_plans = {x.name: x for x in self.plan.streams}

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
        sp = self.stream_plans[st["name"]]
        if kind in ("sequence", "datagram"):
            mc = self.cls(sp.states[0].transitions[0].struct)
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
            L.append(f"        throw r.error(Reason.{sp.empty_item_reason.upper()}, {text});")
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
        state = self.stream_plans[st["name"]].states[0]
        frame = state.frame
        assert frame is not None
        rows = [(code, self.cls(t.struct)) for t in state.transitions for code in t.codes or ()]
        length, type_kind, limit = frame.length, frame.type, frame.max_length
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
        unknown = frame.unknown_reason.upper()
        L.append(f"        throw new DecodeException(Reason.{unknown}, {text} + Long.toHexString(code));")
        L.append("      }")
        L.append(
            "      if (Long.compareUnsigned(length, MAX_LENGTH) > 0 || Long.compareUnsigned(length, maxBuffer) > 0) {"
        )
        text = jstr(st["name"] + ": a message of ")
        too_large = frame.too_large_reason.upper()
        L.append(
            f"        throw new DecodeException(Reason.{too_large}, {text} + Long.toUnsignedString(length)"
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
            f"        throw body.error(Reason.{frame.trailing_reason.upper()}, {text} + (bodyEnd - body.pos)"
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
        L.append(f"      throw new DecodeException(Reason.{frame.past_end_reason.upper()}, {text});")
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
        empty = jstr(st["name"] + ": an empty object cannot advance")
        L.append(f"        throw r.error(Reason.{self.stream_plans[st['name']].empty_item_reason.upper()}, {empty});")
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
        sp = self.stream_plans[st["name"]]
        states = {x.name: x for x in sp.states}
        start = states[sp.initial]
        assert start.peek is not None
        headers = [(t, states[t.next].transitions[0]) for t in start.transitions]
        for i, (h, _o) in enumerate(headers):
            first = start.peek
            hc = self.cls(h.struct)
            peek = self.read_int(first, "r.stop").replace("r.", "r.fork(streaming).", 1)
            L.append(f"    code = {peek};")
            cond = " || ".join(f"code == {jlong(x)}" for x in h.codes or ())
            L.append(f"    if ({cond}) {{")
            L.append(f"      {hc} h = {hc}.decodeFrom(r, r.stop);")
            if h.binds_flags:
                first_attr = self.n.accessor("get", self.structs[h.struct]["fields"][0]["words"])
                L.append(f"      flags = {hc}.variants(h.{first_attr}());")
            L.append(f"      header = {i};")
            L.append("      return h;")
            L.append("    }")
        text = jstr(st["name"] + ": unknown stream type 0x")
        L.append(f"    throw r.error(Reason.{start.unknown_reason.upper()}, {text} + Long.toHexString(code));")
        L.append("  }")
        L.append("")
        L.append("  private WireStruct object(WireReader r) {")
        for i, (_h, o) in enumerate(headers):
            idx = [b.index for b in o.args]
            L.append(f"    if (header == {i}) {{")
            args = "".join(f", flags[{x}]" for x in idx)
            L.append(f"      return {self.cls(o.struct)}.decodeFrom(r, r.stop{args});")
            L.append("    }")
        L.append(f"    throw r.error(Reason.UNKNOWN_TYPE, {jstr(st['name'] + ': no header')});")
        L.append("  }")
        L.append("")
        L.append("  /** A whole stream: the header, then each object (with the header's flags as args). */")
        L.append("  public static byte[] encode(WireStruct header, List<? extends WireStruct> objects) {")
        L.append("    WireWriter w = new WireWriter();")
        for h, o in headers:
            hc, oc = self.cls(h.struct), self.cls(o.struct)
            L.append(f"    if (header instanceof {hc}) {{")
            L.append(f"      {hc} h = ({hc}) header;")
            if h.binds_flags:
                first_attr = self.n.accessor("get", self.structs[h.struct]["fields"][0]["words"])
                L.append(f"      boolean[] fl = {hc}.variants(h.{first_attr}());")
                L.append("      if (fl == null) {")
                L.append(f"        throw new EncodeException({jstr(st['name'] + ': unknown header type')});")
                L.append("      }")
            L.append("      w.raw(h.encode());")
            L.append("      for (WireStruct o : objects) {")
            L.append(f"        if (!(o instanceof {oc})) {{")
            text = jstr(st["name"] + ": a " + h.struct + " stream carries " + o.struct + " objects")
            L.append(f"          throw new EncodeException({text});")
            L.append("        }")
            fl = ", ".join(f"fl[{b.index}]" for b in o.args)
            L.append(f"        w.raw((({oc}) o).encode({fl}));")
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
