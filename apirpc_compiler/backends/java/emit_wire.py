"""IR wire protocols -> one Java package per protocol (`dev.clutchcall.v1.wire.<protocol>`).

Like the Python target, the code is straight-line: each field of each struct becomes its own
reads, checks and writes (recursively for lists of structs of lists), so nothing interprets
the IR at run time. The shared runtime (reader, writer, JSON value format, parser buffer) is in
`templates/wire/`; this module emits the per-protocol classes and the by-name registry.
"""

from __future__ import annotations

from ...ir import model as m
from ...ir import plan
from ..common import INT_MAX, INT_SIZE, WireGenError, plan_cond_text
from ..wire_render import Code, Operators, ProtocolView, check_test, cond_test
from .namer import JavaNamer
from .text import javadoc, jint, jlong, jstr, method, ordered_map, used_imports

# Java's long is signed: the plan's unsigned bounds compare with Long.compareUnsigned.
_OPS = Operators(
    literal=jlong,
    member=lambda v, values: "(" + " || ".join(f"{v} == {jlong(x)}" for x in values) + ")",
    lt="Long.compareUnsigned({a}, {b}) < 0",
    gt="Long.compareUnsigned({a}, {b}) > 0",
    negate="!{a}",
)


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
        q = jstr(f["name"])
        expr = self.from_json_expr(f["type"], f"j.get({q})", self.where(f["name"]))
        if f["when"] is None:
            return expr
        return f"j.absent({q}) ? null : {f'Long.valueOf({expr})' if f['type']['type'] in INT_MAX else expr}"

    # ---- the class ----
    def file(self) -> str:
        s, n, cls, name = self.s, self.p.n, self.cls, self.s["name"]
        args = s["args"]
        params = "".join(f", boolean {self.flag_vars[a]}" for a in args)
        argv = "".join(f", {self.flag_vars[a]}" for a in args)
        from_map = [f"arg(a, {jstr(x)})" for x in args]
        L = [f"public final class {cls} implements WireStruct {{"]
        L.append(
            f"  private static final Set<String> NAMES = Set.of({', '.join(jstr(f['name']) for f in s['fields'])});"
        )
        L += [
            "",
            f"  /** The by-name codec of {name}. */",
            "  public static final StructCodec CODEC =",
            "      new StructCodec() {",
        ]
        L += method(None, "public List<String> args()", f"return List.of({', '.join(jstr(a) for a in args)});", ind=8)[
            1:
        ]
        L += method(
            None,
            "public WireStruct decode(byte[] data, Map<String, Boolean> a)",
            f"return {cls}.decode({', '.join(['data', *from_map])});",
            ind=8,
        )
        L += method(
            None,
            "public byte[] encode(WireStruct value, Map<String, Boolean> a)",
            f"return (({cls}) value).encode({', '.join(from_map)});",
            ind=8,
        )
        L += method(None, "public WireStruct fromJson(Object value)", f"return {cls}.fromJson(value);", ind=8)
        L += ["      };", ""]
        L += [f"  private {self.field_type(f)} {self.attrs[f['name']]} = {self.zero(f)};" for f in s["fields"]]
        L += ["", f"  /** A {name} with constants set, other integers 0 and conditional fields absent. */"]
        L.append(f"  public {cls}() {{}}")
        if self.p.proto["name"] == "envelope" and name == "Envelope":
            # The legacy RPC envelope gets a request constructor, as in every SDK.
            request_doc = [
                "  /**",
                "   * The request envelope of one call of {@code methodId} (a {@code Services.METHOD_*} constant)",
                "   * carrying {@code message} in protobuf binary: version set, kind request, flag final (one request",
                "   * message).",
                "   */",
            ]
            chain = ["setKind(EnvelopeKind.REQUEST)", "setFlags(EnvelopeFlag.FINAL)", "setMethodId(methodId)"]
            chain += ["setRequestId(requestId)", "setPayload(message.encode());"]
            request = "public static Envelope request(long methodId, long requestId, ProtoMessage message)"
            L += method(request_doc, request, "return new Envelope()", *(f"    .{x}" for x in chain))
        if args:
            need = f"throw new IllegalArgumentException({jstr(name + ' needs arg ')} + name);"
            L += method(
                [],
                "private static boolean arg(Map<String, Boolean> a, String name)",
                "Boolean v = a.get(name);",
                "if (v == null) {",
                f"  {need}",
                "}",
                "return v;",
            )
        for f, pf in zip(s["fields"], self.plan.fields, strict=True):
            ft, a = self.field_type(f), self.attrs[f["name"]]
            extra = "" if pf.cond is None else f" Present only when {plan_cond_text(pf.cond)}; null otherwise."
            L += method(javadoc(f["doc"] + extra, 2), f"public {ft} {n.accessor('get', f['words'])}()", f"return {a};")
            setter = f"public {cls} {n.accessor('set', f['words'])}({ft} value)"
            L += method(f"Set {f['name']}.", setter, f"this.{a} = value;", "return this;")
        if s["variants"]:
            tests = []
            L.append("")
            for i, vr in enumerate(s["variants"]):
                vals = ", ".join("true" if vr["flags"].get(fl, False) else "false" for fl in s["flags"])
                L.append(f"  private static final boolean[] VARIANT_{i} = new boolean[] {{{vals}}};")
                tests += [f"if (code == {jlong(vr['code'])}) {{", f"  return VARIANT_{i};", "}"]
            doc = (
                f"The flags ({', '.join(s['flags']) or 'none'}) of a type code, or null for an unknown code;"
                " one shared array per code, never written (a header's decode and its stream read them)."
            )
            L += method(javadoc(doc, 2), "static boolean[] variants(long code)", *tests, "return null;")
        L += method(None, "public String structName()", f"return {jstr(name)};")
        L += method(
            "The wire bytes; EncodeException if a field breaks its declaration.",
            f"public byte[] encode({params[2:]})",
            "WireWriter w = new WireWriter();",
            f"encodeTo(w{argv});",
            "return w.toByteArray();",
        )
        encode = self.body(self.plan.encode, True)
        L += method("Append the wire bytes to {@code w}.", f"public void encodeTo(WireWriter w{params})", *encode)
        left = f"(data.length - r.pos) + {jstr(' byte(s) left after ' + name)}"
        L += method(
            f"Decode all of {{@code data}}; {{@code trailing_bytes}} if it is not exactly one {name}.",
            f"public static {cls} decode(byte[] data{params})",
            "WireReader r = new WireReader(data);",
            f"{cls} value = decodeFrom(r, data.length{argv});",
            "if (r.pos != data.length) {",
            f"  throw r.error(Reason.{self.plan.whole_reason.upper()}, {left});",
            "}",
            "return value;",
        )
        L += method(
            "Decode one value from {@code r}, reading no further than {@code end}.",
            f"public static {cls} decodeFrom(WireReader r, int end{params})",
            *self.body(self.plan.decode, False),
        )
        to_json = ["Map<String, Object> out = new LinkedHashMap<>();"]
        for f in s["fields"]:
            a = self.attrs[f["name"]]
            put = f"out.put({jstr(f['name'])}, {self.to_json_expr(f['type'], a)});"
            to_json += [put] if f["when"] is None else [f"if ({a} != null) {{", f"  {put}", "}"]
        L += method(None, "public Map<String, Object> toJson()", *to_json, "return out;")
        L += method(
            "Read the vector value format; {@code invalid_json} if {@code value} does not match.",
            f"public static {cls} fromJson(Object value)",
            f"WireJson.Obj j = new WireJson.Obj(value, {jstr(name)}, NAMES);",
            f"{cls} o = new {cls}();",
            *(f"o.{self.attrs[f['name']]} = {self.from_json_field(f)};" for f in s["fields"]),
            "return o;",
        )
        same = f"return other instanceof {cls} && toJson().equals((({cls}) other).toJson());"
        L += method(None, "public boolean equals(Object other)", same)
        L += method(None, "public int hashCode()", "return toJson().hashCode();")
        L += method(None, "public String toString()", f"return {jstr(name)} + toJson();")
        L.append("}")
        text = "\n".join(L) + "\n"
        r = self.p.root
        imports = [f"{r}.DecodeException.Reason", f"{r}.EncodeException", f"{r}.ProtoMessage", f"{r}.internal.Utf8"]
        imports += [f"{r}.wire.{x}" for x in ("StructCodec", "WireJson", "WireReader", "WireStruct", "WireWriter")]
        imports += [f"java.util.{x}" for x in ("ArrayList", "LinkedHashMap", "List", "Map", "Set")]
        head = [
            self.p.header,
            f"package {self.p.package};",
            "",
            *used_imports(imports, text),
            "",
            *javadoc(s["doc"], 0),
        ]
        return "\n".join(head) + "\n" + text


class _Body:
    """One decode or encode body: each plan slot gets its Java name where it is declared."""

    def __init__(self, st: _Struct, encode: bool) -> None:
        self.st = st
        self.encode = encode
        self.c = Code("  ")
        self.names: dict[str, str] = {}
        self.types: dict[str, plan.TypeDesc] = {}
        for f in st.plan.fields:
            self.names[f.var] = st.var(f.name)
            self.types[f.var] = f.type
        for a in [*st.plan.flags, *st.plan.args]:
            self.names["f_" + a] = st.flag_vars[a]
        self.names["end"] = "end"
        self.names["out"] = "w"

    def name(self, slot: str) -> str:
        """A slot's Java name; a temporary is named where the plan first uses it (defines it)."""
        if slot not in self.names:
            self.names[slot] = self.c.fresh(slot.rstrip("0123456789"))
        return self.names[slot]

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
        cond, words = check_test(op, v, _OPS, lambda codes, x: f"!{self.st.p.code_class(codes)}.isDefined({x})")
        self.fail(ind, cond, op.reason, f"{jstr(op.where + ': ')} + Long.toUnsignedString({v}) + {jstr(' ' + words)}")

    def cond(self, c: plan.Cond) -> str:
        return cond_test(
            c,
            _OPS,
            lambda flag: self.name("f_" + flag),
            lambda field: self.name("v_" + field),
            lambda v, test: f"({v} != null && {test(v)})",
        )

    def limit(self, ind: int, op: plan.Limit | plan.MinCount) -> None:
        n = self.operand(op.subject)
        if isinstance(op, plan.Limit):
            cond, tail = _OPS.gt.format(a=n, b=jlong(op.limit)), f" {op.unit}, at most {op.limit}"
        else:
            cond, tail = _OPS.lt.format(a=n, b=jlong(op.min)), f" elements, at least {op.min}"
        self.fail(ind, cond, op.reason, f"{jstr(op.where + ': ')} + Long.toUnsignedString({n}) + {jstr(tail)}")

    def render(self, ops: tuple[plan.Op, ...]) -> list[str]:
        s = self.st.plan
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
        """Each op; those spelled alike both ways here, the others by `encode_op` or `decode_op`."""
        for op in ops:
            if isinstance(op, plan.Repeat):
                index = self.c.fresh("i")
                self.c.add(ind, f"for (long {index} = 0; {index} < {self.operand(op.count)}; {index}++) {{")
                self.ops(ind + 1, op.body)
                self.c.add(ind, "}")
            elif isinstance(op, plan.Check):
                self.check(ind, op)
            elif isinstance(op, (plan.Limit, plan.MinCount)):
                self.limit(ind, op)
            elif isinstance(op, plan.Variant):
                v = self.name(op.var)
                self.c.add(ind, f"boolean[] flags = variants({v});")
                self.fail(
                    ind, "flags == null", op.reason, f"{jstr(op.struct + ': unknown type 0x')} + Long.toHexString({v})"
                )
                for fl in op.flags:
                    self.c.add(ind, f"boolean {self.name(fl.var)} = flags[{fl.index}];")
            elif self.encode:
                self.encode_op(ind, op)
            else:
                self.decode_op(ind, op)

    def decode_op(self, ind: int, op: plan.Op) -> None:
        c = self.c
        if isinstance(op, (plan.Begin, plan.Mark)):  # Java reports errors where the reader stands
            return
        if isinstance(op, plan.ReadInt):
            read = f"r.varint({op.end})" if op.width == "varint" else f"r.uint({INT_SIZE[op.width]}, {op.end})"
            c.add(ind, f"long {self.name(op.var)} = {read};")
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
        else:
            raise WireGenError(f"{self.st.s['name']}: {op.op} is not a decode op")

    def encode_op(self, ind: int, op: plan.Op) -> None:
        c = self.c
        if isinstance(op, plan.Begin):
            if not op.optional and self.types[op.var].kind != "int":  # Java fields can hold null
                self.fail(ind, f"{self.name(op.var)} == null", "", jstr(f"{self.st.s['name']}.{op.field} is null"))
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
        elif isinstance(op, plan.WriteLength):
            n, w = self.operand(op.subject), self.name(op.out)
            if op.kind == "varint":
                c.add(ind, f"{w}.varint({n});")
            elif op.kind == "field" and op.field is not None:
                text = jstr(op.where + ": its length does not match " + op.field.field)
                self.fail(ind, f"{n} != {self.operand(op.field)}", "", text)
            elif op.kind == "fixed":
                self.fail(ind, f"{n} != {op.size}", "", jstr(f"{op.where}: length is not {op.size}"))
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
        else:
            raise WireGenError(f"{self.st.s['name']}: {op.op} is not an encode op")


def _width(kind: str | None) -> str:
    """A stream table's integer width: -1 none, 0 a QUIC varint, else the size in bytes."""
    return "-1" if kind is None else "0" if kind == "varint" else str(INT_SIZE[kind])


def _reason(reason: str | None) -> str:
    return "null" if reason is None or reason == "accept" else f"Reason.{reason.upper()}"


class _Proto(ProtocolView):
    def __init__(self, proto: m.WireProtocol, root: str, header: str, n: JavaNamer) -> None:
        super().__init__(proto, "java")
        self.root = root
        self.header = header
        self.n = n
        self.package = f"{root}.wire.{n.package_name(proto['words'])}"

    def cls(self, struct_name: str) -> str:
        return self.n.class_name(self.struct_words(struct_name))

    def code_class(self, name: str) -> str:
        return self.n.class_name(self.code_words(name))

    def files(self) -> list[tuple[str, str]]:
        out = [("Protocol.java", self.protocol_file())]
        out += [(f"{self.n.class_name(c['words'])}.java", self.code_set_file(c)) for c in self.proto["codes"]]
        out += [(f"{self.cls(s['name'])}.java", _Struct(self, s).file()) for s in self.proto["structs"]]
        out += [(f"{self.parser_name(st)}.java", self.stream_file(st)) for st in self.proto["streams"]]
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
        L += ["import java.util.Collections;", "import java.util.LinkedHashMap;", "import java.util.Map;", ""]
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
        L += ordered_map("NAMES", "Long, String", [(jlong(v["value"]), jstr(v["name"])) for v in c["values"]])
        L += method(
            "True if this set defines {@code value}.",
            "public static boolean isDefined(long value)",
            "return NAMES.containsKey(value);",
        )
        L += method(
            "The IDL name of {@code value}, or null.",
            "public static String nameOf(long value)",
            "return NAMES.get(value);",
        )
        L.append("}")
        return "\n".join(L) + "\n"

    def transition(self, t: plan.Transition, index: dict[str, int], args: tuple[plan.ArgBinding, ...]) -> str:
        """A table row: the struct's decoder and encoder (args from the header's flags), its next
        state, the flags a header binds, and the codes that select it."""
        c = self.cls(t.struct)
        flags = "".join(f", f[{b.index}]" for b in args)
        decoder = f"(r, end, f) -> {c}.decodeFrom(r, end{flags})"
        encoder = f"(w, v, f) -> (({c}) v).encodeTo(w{flags})"
        binds = "null"
        if t.binds_flags:
            first = self.n.accessor("get", self.structs[t.struct]["fields"][0]["words"])
            binds = f"v -> {c}.variants((({c}) v).{first}())"
        codes = "".join(f", {jlong(x)}" for x in t.codes or ())
        return f"new Transition({c}.class, {decoder}, {encoder}, {index[t.next]}, {binds}{codes})"

    def table(self, sp: plan.StreamPlan) -> str:
        """The stream's plan as a `BufferedParser.Table` (the runtime walks it)."""
        index = {s.name: i for i, s in enumerate(sp.states)}
        states = []
        for s in sp.states:
            frame = "null"
            if s.frame is not None:
                f = s.frame
                reasons = ", ".join(map(_reason, (f.unknown_reason, f.too_large_reason, f.past_end_reason)))
                frame = f"new FrameHeader({_width(f.type)}, {_width(f.length)}, MAX_LENGTH, {reasons}, "
                frame += f"{_reason(f.trailing_reason)})"
            rows = "".join(", " + self.transition(t, index, t.args) for t in s.transitions)
            head = f"{_width(s.peek)}, {frame}, {_reason(s.at_end)}, {_reason(s.trailing)}, {_reason(s.unknown_reason)}"
            states.append(f"new State({head}{rows})")
        head = f"{jstr(sp.name)}, {index[sp.initial]}, {_reason(sp.empty_item_reason)}, {_reason(sp.buffer_reason)}"
        return f"new Table({head}, {jint(self.plan.max_buffer)}, {', '.join(states)})"

    def stream_file(self, st: m.WireStream) -> str:
        sp = self.stream_plans[st["name"]]
        first = next(s for s in sp.states if s.name == sp.initial)
        pname = self.parser_name(st)
        item = self.cls(first.transitions[0].struct)
        L = [f"public final class {pname} extends BufferedParser {{"]
        if first.frame is not None:
            L.append("  /** The largest body Length accepted. */")
            L.append(f"  public static final long MAX_LENGTH = {jlong(first.frame.max_length)};")
            L.append("")
            L.append("  /** One message: its type code and its body. */")
            L.append("  public record Frame(long type, WireStruct message) {}")
            L.append("")
        L.append(f"  static final Table TABLE = {self.table(sp)};")
        L += method("A parser with the plan's buffer bound.", f"public {pname}()", "super(TABLE, TABLE.maxBuffer());")
        L += method(
            "A parser holding at most {@code maxBuffer} bytes of one unfinished item.",
            f"public {pname}(int maxBuffer)",
            "super(TABLE, maxBuffer);",
        )
        feed = "Every item completed by {@code data}."
        if sp.kind == "sequence":
            L += method(
                feed,
                f"public List<{item}> feed(byte[] data, int off, int n)",
                f"return parse(data, off, n, (code, item) -> ({item}) item);",
            )
            L += method(
                "One message of the stream.", f"public static byte[] encode({item} msg)", "return msg.encode();"
            )
        elif sp.kind == "datagram":
            L += method(
                "Decode one whole datagram.",
                f"public static {item} decode(byte[] data)",
                f"return {item}.decode(data);",
            )
            L += method(
                "The datagram carrying {@code msg}.", f"public static byte[] encode({item} msg)", "return msg.encode();"
            )
        elif sp.kind == "framed":
            L += method(
                feed, "public List<Frame> feed(byte[] data, int off, int n)", "return parse(data, off, n, Frame::new);"
            )
            L += method(
                "True if {@code code} is a message type of this stream.",
                "public static boolean knows(long code)",
                "return TABLE.knows(code);",
            )
            L += method(
                "True if a message of type {@code code} carries {@code msg}'s struct.",
                "public static boolean carries(long code, WireStruct msg)",
                "return TABLE.carries(code, msg);",
            )
            L += method(
                "Type, Length and body of {@code msg} as a message of type {@code code}.",
                "public static byte[] encode(long code, WireStruct msg)",
                "return TABLE.encodeFrame(code, msg);",
            )
            L += method(
                "Type, Length and body of {@code msg}, whose struct must serve exactly one type.",
                "public static byte[] encode(WireStruct msg)",
                "return TABLE.encodeFrame(msg);",
            )
        else:
            L += method(
                feed,
                "public List<WireStruct> feed(byte[] data, int off, int n)",
                "return parse(data, off, n, (code, item) -> item);",
            )
            L += method(
                "A whole stream: the header, then each object (with the header's flags as args).",
                "public static byte[] encode(WireStruct header, List<? extends WireStruct> objects)",
                "return TABLE.encodeStream(header, objects);",
            )
        L.append("}")
        body = "\n".join(L) + "\n"
        r = self.root
        imports = [f"{r}.DecodeException.Reason", f"{r}.wire.BufferedParser", f"{r}.wire.WireStruct", "java.util.List"]
        head = [self.header, f"package {self.package};", "", *used_imports(imports, body), ""]
        head += javadoc(f"Incremental parser of the `{st['name']}` stream ({st['kind']}). {st['doc']}", 0)
        return "\n".join(head) + "\n" + body


def generate_wire(ir: m.IR, root: str, header: str, n: JavaNamer) -> list[tuple[str, str]]:
    """(path under src/main/java/<root>/wire, content) for every protocol, plus the registry."""
    files: list[tuple[str, str]] = []
    structs: list[tuple[str, str]] = []
    streams: list[tuple[str, str]] = []
    for p in ir["wire"]:
        g = _Proto(p, root, header, n)
        sub = n.package_name(p["words"])
        files += [(f"{sub}/{name}", text) for name, text in g.files()]
        structs += [(jstr(f"{p['name']}.{s['name']}"), f"{g.package}.{g.cls(s['name'])}.CODEC") for s in p["structs"]]
        streams += [(jstr(f"{p['name']}.{st['name']}"), f"{g.package}.{g.parser_name(st)}::new") for st in p["streams"]]
    L = [header, f"package {root}.wire;", ""]
    L += ["import java.util.Collections;", "import java.util.LinkedHashMap;", "import java.util.Map;"]
    L += ["import java.util.function.Supplier;", ""]
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
    L += ordered_map("STRUCTS", "String, StructCodec", structs)
    L.append("")
    L += ordered_map("STREAMS", "String, Supplier<StreamParser>", streams)
    L.append("}")
    files.append(("WireRegistry.java", "\n".join(L) + "\n"))
    return files
