"""IR enums and messages -> Java enums and message classes with the protobuf binary and
ProtoJSON codecs, plus the by-name registry `Messages`.

Each message is one final class: private fields, get/set/has/clear accessors, a straight-line
`decodeFrom` (a switch on the tag) and `writeTo` (fields in number order), and the ProtoJSON
mapping. Enum fields hold the int number (enums are open), with a typed `get…Enum()` view.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...ir.model import IR, Enum, Field, Message
from ..common import encode_tag, proto_varint, type_index
from .namer import JavaNamer
from .text import javadoc, jint, jlong, jstr, method, ordered_map

# scalar (and enum) -> (Java type, read from `r` ({end}: the frame's end), ProtoWriter call, ProtoJson reader)
_SCALARS: dict[str, tuple[str, str, str, str]] = {
    "bool": ("boolean", "(int) r.varint() != 0", "raw({v} ? 1 : 0)", "bool"),
    "int32": ("int", "(int) r.varint()", "int32({v})", "int32"),
    "sint32": ("int", "ProtoReader.zigzag32(r.varint())", "sint32({v})", "int32"),
    "sfixed32": ("int", "r.fixed32({end})", "fixed32({v})", "int32"),
    "uint32": ("int", "(int) r.varint()", "uint32({v})", "uint32"),
    "fixed32": ("int", "r.fixed32({end})", "fixed32({v})", "uint32"),
    "enum": ("int", "(int) r.varint()", "int32({v})", "int32"),
    "int64": ("long", "r.varint()", "varint({v})", "int64"),
    "sint64": ("long", "ProtoReader.zigzag64(r.varint())", "sint64({v})", "int64"),
    "sfixed64": ("long", "r.fixed64({end})", "fixed64({v})", "int64"),
    "uint64": ("long", "r.varint()", "varint({v})", "uint64"),
    "fixed64": ("long", "r.fixed64({end})", "fixed64({v})", "uint64"),
    "float": ("float", "Float.intBitsToFloat(r.fixed32({end}))", "fixed32(Float.floatToRawIntBits({v}))", "float32"),
    "double": (
        "double",
        "Double.longBitsToDouble(r.fixed64({end}))",
        "fixed64(Double.doubleToRawLongBits({v}))",
        "float64",
    ),
    "string": ("String", "r.string(r.lenEnd({end}))", "string({v})", "string"),
    "bytes": ("byte[]", "r.bytes(r.lenEnd({end}))", "bytes({v})", "bytes"),
}
_BOXED = {"boolean": "Boolean", "int": "Integer", "long": "Long", "float": "Float", "double": "Double"}
_ZERO = {
    "boolean": "false",
    "int": "0",
    "long": "0L",
    "float": "0f",
    "double": "0.0",
    "String": '""',
    "byte[]": "EMPTY_BYTES",
}
# ProtoJson reader -> the JSON value of a field held in Java as {v}
_TO_JSON = {
    "uint32": "Integer.toUnsignedLong({v})",
    "int64": "Long.toString({v})",
    "uint64": "Long.toUnsignedString({v})",
    "float32": "ProtoJson.ofFloat({v})",
    "float64": "ProtoJson.ofDouble({v})",
    "bytes": "ProtoJson.ofBytes({v})",
}


def _attr_literal(kind: str, v: object) -> str:
    if kind == "bool":
        return "true" if v else "false"
    if kind == "string":
        return jstr(str(v))
    if kind in ("float",):
        return f"{float(v)}f"  # type: ignore[arg-type]
    if kind == "double":
        return repr(float(v))  # type: ignore[arg-type]
    if _SCALARS[kind][0] == "long":
        return jlong(int(v))  # type: ignore[call-overload]
    return jint(int(v))  # type: ignore[call-overload]


@dataclass
class _F:
    ir: Field
    kind: str  # scalar name, "enum" or "message"
    name: str  # java field name
    words: list[str]
    presence: str  # implicit | optional | oneof | repeated
    jtype: str  # storage type
    elem: str  # element / value type (unboxed for implicit scalars)
    boxed: str
    msg_type: str | None  # class of a message field
    enum_type: str | None


class MessageEmitter:
    def __init__(self, ir: IR, pkg: str, header: str, namer: JavaNamer) -> None:
        self.ir = ir
        self.pkg = pkg
        self.header = header
        self.n = namer
        self.types = type_index(ir)

    def cls(self, name: str) -> str:
        return self.n.class_name(self.types.words(name))

    # ---- enums ----
    def enum_file(self, e: Enum) -> tuple[str, str]:
        c = self.cls(e["name"])
        attrs = [(a, _SCALARS[a["type"]][0], self.n.field_name(a["words"])) for a in e["attributes"]]
        L = [self.header, f"package {self.pkg};", ""]
        L += javadoc(e["doc"] + " Open: message fields keep unknown numbers as plain ints.", 0)
        L.append(f"public enum {c} {{")
        for i, v in enumerate(e["values"]):
            L += javadoc(v["doc"], 2)
            args = [jint(v["number"]), jstr(v["json_name"])]
            args += [_attr_literal(a["type"], v["attributes"][a["name"]]) for a, _, _ in attrs]
            L.append(f"  {self.n.const_name(v['words'])}({', '.join(args)}){';' if i == len(e['values']) - 1 else ','}")
        L += ["", "  private final int number;", "  private final String jsonName;"]
        L += [f"  private final {jt} {fn};" for _, jt, fn in attrs]
        params = ", ".join(["int number", "String jsonName", *(f"{jt} {fn}" for _, jt, fn in attrs)])
        sets = [f"this.{fn} = {fn};" for fn in ["number", "jsonName", *(fn for _, _, fn in attrs)]]
        L += method([], f"{c}({params})", *sets)
        L += method("The protobuf number of this value.", "public int number()", "return number;")
        L += method("The ProtoJSON name of this value.", "public String jsonName()", "return jsonName;")
        for a, jt, fn in attrs:
            L += method(javadoc(a["doc"], 2), f"public {jt} {self.n.method_name(a['words'])}()", f"return {fn};")
        by_number = {v["number"]: self.n.const_name(v["words"]) for v in reversed(e["values"])}  # the first wins
        L += method(
            "The value with this number, or null for a number this version does not know.",
            f"public static {c} forNumber(int number)",
            *_switch("number", [(jint(k), by_number[k]) for k in dict.fromkeys(v["number"] for v in e["values"])]),
        )
        L += method(
            "The ProtoJSON name of a number, or null for an unknown number.",
            "public static String jsonNameOf(int number)",
            f"{c} v = forNumber(number);",
            "return v == null ? null : v.jsonName;",
        )
        L += method(
            "The number of a ProtoJSON name, or null when {@code name} is not one of them.",
            "public static Integer numberOfJsonName(Object name)",
            "if (!(name instanceof String)) {",
            "  return null;",
            "}",
            *_switch("(String) name", [(jstr(v["json_name"]), jint(v["number"])) for v in e["values"]]),
        )
        t = e["transitions"]
        if t is not None:
            by_name = {v["name"]: self.n.const_name(v["words"]) for v in e["values"]}
            init = " || ".join(f"this == {by_name[x]}" for x in t["initial"]) or "false"
            L += method("True for a state the lifecycle may start in.", "public boolean isInitial()", f"return {init};")
            term = " || ".join(f"this == {by_name[x]}" for x in t["terminal"]) or "false"
            doc = "True for a state the lifecycle ends in (no transition leaves it)."
            L += method(doc, "public boolean isTerminal()", f"return {term};")
            edges = [(by_name[s], " || ".join(f"to == {by_name[d]}" for d in ds)) for s, ds in t["edges"].items() if ds]
            L += method(
                "True if the state machine allows moving from this state to {@code to}.",
                f"public boolean canTransitionTo({c} to)",
                *_switch("this", edges, "false"),
            )
            L += method(
                "{@link #canTransitionTo} on numbers; false when either is unknown.",
                "public static boolean canTransition(int from, int to)",
                f"{c} a = forNumber(from);",
                f"{c} b = forNumber(to);",
                "return a != null && b != null && a.canTransitionTo(b);",
            )
        L.append("}")
        return f"{c}.java", "\n".join(L) + "\n"

    # ---- messages ----
    def fields(self, msg: Message) -> list[_F]:
        out = []
        for f in msg["fields"]:
            k = f["type"]["kind"]
            kind = f["type"]["name"] if k == "scalar" else k
            if f["label"] == "repeated":
                presence = "repeated"
            elif f["oneof"]:
                presence = "oneof"
            elif f["label"] == "optional":
                presence = "optional"
            else:
                presence = "implicit"
            msg_type = self.cls(f["type"]["name"]) if k == "message" else None
            enum_type = self.cls(f["type"]["name"]) if k == "enum" else None
            if k == "message":
                elem = boxed = str(msg_type)
            elif k == "enum":
                elem, boxed = "int", "Integer"
            else:
                elem = _SCALARS[kind][0]
                boxed = _BOXED.get(elem, elem)
            if presence == "repeated":
                jtype = f"List<{boxed}>"
            elif presence in ("optional", "oneof") or k == "message":
                jtype = boxed
            else:
                jtype = elem
            out.append(
                _F(
                    f,
                    kind,
                    self.n.field_name(f["words"]),
                    f["words"],
                    presence,
                    jtype,
                    elem,
                    boxed,
                    msg_type,
                    enum_type,
                )
            )
        return out

    def zero(self, f: _F) -> str:
        if f.presence == "repeated":
            return "new ArrayList<>()"
        if self.nullable(f):
            return "null"
        if f.jtype in ("int", "long", "boolean", "float", "double", "String", "byte[]"):
            return _ZERO[_SCALARS[f.kind][0]]
        return "null"

    def nullable(self, f: _F) -> bool:
        return f.presence in ("optional", "oneof") or f.kind == "message"

    def _tag_write(self, f: Field, packed: bool) -> str:
        tag = encode_tag(f) if packed or not f["packed"] else (f["number"] << 3) | f["wire_type"]
        b = proto_varint(tag)
        if len(b) == 1:
            return f"w.raw(0x{b[0]:02x});"
        if len(b) == 2:
            return f"w.raw(0x{b[0]:02x}, 0x{b[1]:02x});"
        return f"w.varint({jlong(tag)});"

    def _write_value(self, f: _F, v: str, w: str = "w") -> list[str]:
        if f.kind == "message":
            return [
                f"ProtoWriter c{f.ir['number']} = new ProtoWriter();",
                f"{v}.writeTo(c{f.ir['number']});",
                f"{w}.nested(c{f.ir['number']});",
            ]
        return [f"{w}." + _SCALARS[f.kind][2].format(v=v) + ";"]

    def _to_json_value(self, f: _F, v: str) -> str:
        if f.kind == "message":
            return f"{v}.toJson()"
        if f.kind == "enum":
            return f"ProtoMessages.enumJson({self.cls(f.ir['type']['name'])}.jsonNameOf({v}), {v})"
        return _TO_JSON.get(_SCALARS[f.kind][3], "{v}").format(v=v)

    def _from_json_value(self, f: _F, v: str) -> str:
        if f.kind == "message":
            return f"{f.msg_type}.fromJsonValue({v}, depth + 1, ign)"
        if f.kind == "enum":
            et = self.cls(f.ir["type"]["name"])
            return f"ProtoJson.enumNumber({v}, {et}.numberOfJsonName({v}), {jstr(f.ir['type']['name'])})"
        return f"ProtoJson.{_SCALARS[f.kind][3]}({v})"

    def _present(self, f: _F, v: str) -> str:
        if f.presence == "repeated":
            return f"!{v}.isEmpty()"
        if f.presence != "implicit" or f.kind == "message":
            return f"{v} != null"
        if f.kind == "bool":
            return v
        if f.kind == "string":
            return f"!{v}.isEmpty()"
        if f.kind == "bytes":
            return f"{v}.length != 0"
        if f.kind == "float":
            return f"Float.floatToRawIntBits({v}) != 0"
        if f.kind == "double":
            return f"Double.doubleToRawLongBits({v}) != 0"
        return f"{v} != 0"

    def _default_literal(self, f: _F) -> str:
        d = f.ir["default"]
        if f.kind == "enum":
            e = self.types.enums[f.ir["type"]["name"]]
            val = next(v for v in e["values"] if v["name"] == d)
            return f"{self.cls(e['name'])}.{self.n.const_name(val['words'])}.number()"
        return _attr_literal(f.kind, d)

    def message_file(self, msg: Message) -> tuple[str, str]:
        c = self.cls(msg["name"])
        fs = self.fields(msg)
        mname = msg["name"]
        L = [self.header, f"package {self.pkg};", ""]
        L.append(f"import {self.pkg}.internal.Json;")
        L.append(f"import {self.pkg}.internal.ProtoJson;")
        L.append(f"import {self.pkg}.internal.ProtoMessages;")
        L.append(f"import {self.pkg}.internal.ProtoReader;")
        L.append(f"import {self.pkg}.internal.ProtoWriter;")
        if any(f.presence == "repeated" for f in fs):
            L.append("import java.util.ArrayList;")
        L.append("import java.util.LinkedHashMap;")
        if any(f.presence == "repeated" for f in fs):
            L.append("import java.util.List;")
        L.append("import java.util.Map;")
        L.append("")
        L += javadoc(msg["doc"], 0)
        L.append(f"public final class {c} implements ProtoMessage {{")
        L.append("  private static final byte[] EMPTY_BYTES = new byte[0];")
        known = sorted(f["number"] for f in msg["fields"])
        L += _int_array("  private static final int[] KNOWN = ", [str(x) for x in known])
        L.append("")
        L.append(f"  /** The by-name codec of {c}. */")
        L.append("  public static final MessageCodec CODEC =")
        L.append(f"      new MessageCodec({jstr(mname)}, {c}::decode, {c}::fromJson, {c}::new);")
        L.append("")
        for f in fs:
            L.append(f"  private {f.jtype} {f.name} = {self.zero(f)};")
        L.append("  private byte[] unknown = EMPTY_BYTES;")
        L.append("")
        L.append(f"  /** An empty {c}: every field absent or at its default. */")
        L.append(f"  public {c}() {{}}")
        for o in msg["oneofs"]:
            ce = self.n.class_name([*o["words"], "case"])
            members = [f for f in fs if f.ir["oneof"] == o["name"]]
            L.append("")
            L += javadoc(f"Which member of oneof {o['name']} is set. {o['doc']}", 2)
            L.append(f"  public enum {ce} {{")
            for mf in members:
                L.append(f"    /** Field {mf.ir['name']} is set. */")
                L.append(f"    {self.n.const_name(mf.words)},")
            L.append("    /** No member is set. */")
            L.append("    NOT_SET")
            L.append("  }")
            tests = [
                x
                for mf in members
                for x in (f"if ({mf.name} != null) {{", f"  return {ce}.{self.n.const_name(mf.words)};", "}")
            ]
            head = f"public {ce} {self.n.accessor('get', [*o['words'], 'case'])}()"
            L += method(f"Which member of oneof {o['name']} is set.", head, *tests, f"return {ce}.NOT_SET;")
        for f in fs:
            L += self.accessors(c, msg, f, fs)
        L += self.codec(c, msg, fs)
        L.append("}")
        return f"{c}.java", "\n".join(L) + "\n"

    def accessors(self, c: str, msg: Message, f: _F, fs: list[_F]) -> list[str]:
        n, name, v = self.n, f.ir["name"], f.name
        doc = f.ir["doc"] + (" Deprecated." if f.ir["deprecated"] else "")
        get, set_ = n.accessor("get", f.words), n.accessor("set", f.words)
        if f.presence == "repeated":
            L = method(javadoc(doc + " The live, mutable list.", 2), f"public {f.jtype} {get}()", f"return {v};")
            L += method(
                f"Replace {name} with a copy of {{@code values}}.",
                f"public {c} {set_}(List<{f.boxed}> values)",
                f"this.{v} = new ArrayList<>(values);",
                "return this;",
            )
            add = f"public {c} {n.accessor('add', f.words)}({f.boxed} value)"
            return L + method(f"Append one value to {name}.", add, f"this.{v}.add(value);", "return this;")
        nullable = self.nullable(f)
        extra = " Null when absent." if nullable else ""
        if f.kind == "enum":
            extra += f" The number of a {f.enum_type} value (unknown numbers are kept)."
        L = method(javadoc(doc + extra, 2), f"public {f.jtype} {get}()", f"return {v};")
        siblings = [g for g in fs if f.ir["oneof"] is not None and g.ir["oneof"] == f.ir["oneof"] and g is not f]
        what = "null clears it" if nullable else "never null"
        sib = f"; setting it clears the other members of oneof {f.ir['oneof']}" if siblings else ""
        assign = f"this.{v} = value;"
        if not nullable and f.jtype in ("String", "byte[]"):
            assign = f"this.{v} = java.util.Objects.requireNonNull(value, {jstr(name)});"
        clear = ["if (value != null) {", *(f"  this.{g.name} = null;" for g in siblings), "}"] if siblings else []
        L += method(f"Set {name} ({what}{sib}).", f"public {c} {set_}({f.jtype} value)", assign, *clear, "return this;")
        if f.kind == "enum":
            et = f.enum_type
            view = f"{v} == null ? null : {et}.forNumber({v})" if nullable else f"{et}.forNumber({v})"
            doc = f"{name} as a {et}, or null when absent or unknown."
            L += method(doc, f"public {et} {n.accessor('get', [*f.words, 'enum'])}()", f"return {view};")
            L += method(
                f"Set {name} from a {et} value.", f"public {c} {set_}({et} value)", f"return {set_}(value.number());"
            )
        if nullable:
            L += method(
                f"True if {name} is present.", f"public boolean {n.accessor('has', f.words)}()", f"return {v} != null;"
            )
            clear_head = f"public {c} {n.accessor('clear', f.words)}()"
            L += method(f"Make {name} absent.", clear_head, f"this.{v} = null;", "return this;")
        if f.ir["default"] is not None:
            prim = _SCALARS[f.kind][0]
            L += method(
                f"{name}, or its IDL default ({f.ir['default']}) when absent.",
                f"public {prim} {n.accessor('get', [*f.words, 'or', 'default'])}()",
                f"return {v} == null ? {self._default_literal(f)} : {v};",
            )
        return L

    def codec(self, c: str, msg: Message, fs: list[_F]) -> list[str]:
        mname = msg["name"]
        by_num = {f.ir["number"]: f for f in fs}
        L = method(
            "Fields this version does not know, as received (tag and value bytes, in order).",
            "public byte[] unknownFields()",
            "return unknown.clone();",
        )
        L += method(None, "public String messageName()", f"return {jstr(mname)};")
        L += method(
            "Decode protobuf binary; throws only {@link DecodeException} on bad input.",
            f"public static {c} decode(byte[] data)",
            "ProtoReader r = new ProtoReader(data);",
            "return decodeFrom(r, data.length, 0, null);",
        )
        cases = []
        for num in sorted(by_num):
            f = by_num[num]
            forms = [(f.ir["number"] << 3) | f.ir["wire_type"]]
            if f.ir["packed"]:
                forms.append((f.ir["number"] << 3) | 2)
            for i, tag in enumerate(forms):
                cases += [
                    f"    case {jint(tag)}:",
                    *("      " + x for x in self._read_field(f, fs, i == 1)),
                    "      break;",
                ]
        L += method(
            "Decode the fields in [r.pos, end), merging into {@code into} when it is not null.",
            f"static {c} decodeFrom(ProtoReader r, int end, int depth, {c} into)",
            f"{c} m = into != null ? into : new {c}();",
            "ProtoWriter unk = null;",
            "while (r.pos < end) {",
            "  int start = r.pos;",
            "  long tag = r.tag();",
            "  switch ((int) tag) {",
            *cases,
            "    default:",
            f"      r.skip(tag, start, end, KNOWN, {jstr(mname)});",
            "      if (unk == null) {",
            "        unk = new ProtoWriter();",
            "      }",
            "      unk.raw(r.slice(start, r.pos));",
            "  }",
            "}",
            "r.finish(end);",
            "if (unk != null) {",
            "  m.unknown = ProtoMessages.concat(m.unknown, unk.toByteArray());",
            "}",
            "return m;",
        )
        L += method(
            None,
            "public byte[] encode()",
            "ProtoWriter w = new ProtoWriter();",
            "try {",
            "  writeTo(w);",
            "} catch (NullPointerException e) {",
            f"  throw new EncodeException({jstr(mname + ': a list holds null')});",
            "}",
            "return w.toByteArray();",
        )
        writes = []
        for f in sorted(fs, key=lambda x: x.ir["number"]):
            v = f.name
            writes.append(f"if ({self._present(f, v)}) {{")
            if f.presence == "repeated" and f.ir["packed"]:
                writes += ["  ProtoWriter p = new ProtoWriter();", f"  for ({f.boxed} x : {v}) {{"]
                writes += ["    " + x for x in self._write_value(f, "x", "p")]
                writes += ["  }", "  " + self._tag_write(f.ir, True), "  w.nested(p);"]
            elif f.presence == "repeated":
                writes += [f"  for ({f.boxed} x : {v}) {{", "    " + self._tag_write(f.ir, False)]
                writes += ["    " + x for x in self._write_value(f, "x")]
                writes.append("  }")
            else:
                writes.append("  " + self._tag_write(f.ir, False))
                writes += ["  " + x for x in self._write_value(f, v)]
            writes.append("}")
        doc = "Append the canonical encoding: fields in number order, then unknown fields."
        L += method(doc, "void writeTo(ProtoWriter w)", *writes, "w.raw(unknown);")
        puts = []
        for f in fs:
            v, key = f.name, jstr(f.ir["json_name"])
            puts.append(f"if ({self._present(f, v)}) {{")
            if f.presence == "repeated":
                puts += ["  java.util.List<Object> a = new ArrayList<>();", f"  for ({f.boxed} x : {v}) {{"]
                puts += [f"    a.add({self._to_json_value(f, 'x')});", "  }", f"  j.put({key}, a);"]
            else:
                puts.append(f"  j.put({key}, {self._to_json_value(f, v)});")
            puts.append("}")
        L += method(
            None,
            "public Map<String, Object> toJson()",
            "Map<String, Object> j = new LinkedHashMap<>();",
            *puts,
            "return j;",
        )
        L += method(None, "public String toJsonString()", "return Json.write(toJson());")
        L += method(
            "Read a parsed ProtoJSON value; unknown keys fail with {@code invalid_json}.",
            f"public static {c} fromJson(Object value)",
            "return fromJsonValue(value, 0, false);",
        )
        L += method(
            "Parse a ProtoJSON document; throws only {@link DecodeException}.",
            f"public static {c} fromJsonString(String text)",
            "return fromJsonValue(Json.parse(text), 0, false);",
        )
        dual = [f"seen{f.name[:1].upper() + f.name[1:]}" for f in fs if f.ir["json_name"] != f.ir["name"]]
        reads = []
        for f in fs:
            jn, name = f.ir["json_name"], f.ir["name"]
            reads.append(f"    case {jstr(jn)}:")
            if jn != name:
                sv = f"seen{f.name[:1].upper() + f.name[1:]}"
                reads += [f"    case {jstr(name)}:", f"      if ({sv}) {{"]
                reads += [f"        throw ProtoJson.error({jstr(f'{mname}: field {name} given twice')});", "      }"]
                reads.append(f"      {sv} = true;")
            reads.append("      if (v != null) {")
            if f.presence == "repeated":
                reads.append(f"        for (Object x : ProtoJson.list(v, {jstr(mname + '.' + jn)})) {{")
                reads += [f"          m.{f.name}.add({self._from_json_value(f, 'x')});", "        }"]
            else:
                if f.presence == "oneof":
                    members = [g for g in fs if g.ir["oneof"] == f.ir["oneof"]]
                    cond = " || ".join(f"m.{g.name} != null" for g in members)
                    err = f"{mname}: more than one member of oneof {f.ir['oneof']}"
                    reads += [f"        if ({cond}) {{", f"          throw ProtoJson.error({jstr(err)});", "        }"]
                reads.append(f"        m.{f.name} = {self._from_json_value(f, 'v')};")
            reads += ["      }", "      break;"]
        L += method(
            "Read a parsed ProtoJSON value at nesting {@code depth}; {@code ign} skips unknown keys.",
            f"public static {c} fromJsonValue(Object value, int depth, boolean ign)",
            "if (depth > ProtoReader.MAX_DEPTH) {",
            "  throw ProtoReader.tooDeep();",
            "}",
            f"Map<?, ?> d = ProtoJson.object(value, {jstr(mname)});",
            f"{c} m = new {c}();",
            *(f"boolean {sv} = false;" for sv in dual),
            "for (Map.Entry<?, ?> e : d.entrySet()) {",
            "  Object v = e.getValue();",
            "  switch (String.valueOf(e.getKey())) {",
            *reads,
            "    default:",
            "      if (!ign) {",
            f"        throw ProtoJson.error({jstr(mname + ': unknown field ')} + e.getKey());",
            "      }",
            "  }",
            "}",
            "return m;",
        )
        L += method(
            ["  /** Equal when both map to the same ProtoJSON and carry the same unknown fields. */", "  @Override"],
            "public boolean equals(Object o)",
            f"return o instanceof {c}",
            f"    && toJson().equals((({c}) o).toJson())",
            f"    && java.util.Arrays.equals(unknown, (({c}) o).unknown);",
        )
        L += method(None, "public int hashCode()", "return toJson().hashCode();")
        return L + method(None, "public String toString()", f"return {jstr(c)} + toJsonString();")

    def _read_field(self, f: _F, fs: list[_F], packed: bool) -> list[str]:
        if f.kind == "message":
            into = "null" if f.presence == "repeated" else f"m.{f.name}"
            L = [
                "{",
                "  int e = r.lenEnd(end);",
                "  if (depth >= ProtoReader.MAX_DEPTH) {",
                "    throw ProtoReader.tooDeep();",
                "  }",
                f"  {f.msg_type} x = {f.msg_type}.decodeFrom(r, e, depth + 1, {into});",
            ]
            L.append(f"  m.{f.name}.add(x);" if f.presence == "repeated" else f"  m.{f.name} = x;")
            L += self._clear_siblings(f, fs, "  ")
            L.append("}")
            return L
        if packed:
            read = _SCALARS[f.kind][1].format(end="e")
            return [
                "{",
                "  int e = r.lenEnd(end);",
                "  while (r.pos < e) {",
                f"    m.{f.name}.add({read});",
                "  }",
                "  r.finish(e);",
                "}",
            ]
        read = _SCALARS[f.kind][1].format(end="end")
        if f.presence == "repeated":
            return [f"m.{f.name}.add({read});"]
        return [f"m.{f.name} = {read};", *self._clear_siblings(f, fs, "")]

    def _clear_siblings(self, f: _F, fs: list[_F], ind: str) -> list[str]:
        if f.ir["oneof"] is None:
            return []
        return [f"{ind}m.{g.name} = null;" for g in fs if g.ir["oneof"] == f.ir["oneof"] and g is not f]

    def registry_file(self) -> tuple[str, str]:
        L = [self.header, f"package {self.pkg};", ""]
        L.append("import java.util.Collections;")
        L.append("import java.util.LinkedHashMap;")
        L.append("import java.util.Map;")
        L.append("")
        L.append("/** Every message type of the package by its IDL name (for tools and the conformance testee). */")
        L.append("public final class Messages {")
        L.append("  private Messages() {}")
        L.append("")
        L.append("  /** IDL message name -> codec, in IDL order. */")
        L.append("  public static final Map<String, MessageCodec> BY_NAME;")
        L.append("")
        L += ordered_map(
            "BY_NAME",
            "String, MessageCodec",
            [(jstr(x["name"]), f"{self.cls(x['name'])}.CODEC") for x in self.ir["messages"]],
        )
        L.append("}")
        return "Messages.java", "\n".join(L) + "\n"


def _int_array(head: str, items: list[str], width: int = 100) -> list[str]:
    """`head{a, b, ...};` as google-java-format lays it out: one line if it fits, else the
    elements filled into lines of at most `width` columns at +2 indent, `};` on its own line."""
    one = f"{head}{{{', '.join(items)}}};"
    if len(one) <= width:
        return [one]
    indent = " " * (len(head) - len(head.lstrip()) + 2)
    lines = [f"{head}{{"]
    line = ""
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        if line and len(indent) + len(line) + 1 + len(piece) > width:
            lines.append(indent + line)
            line = piece
        else:
            line = f"{line} {piece}" if line else piece
    lines.append(indent + line)
    lines.append(head[: len(head) - len(head.lstrip())] + "};")
    return lines


def _switch(subject: str, cases: list[tuple[str, str]], default: str = "null") -> list[str]:
    """`switch (subject)` returning each case's value, else `default`."""
    body = [x for label, value in cases for x in (f"  case {label}:", f"    return {value};")]
    return [f"switch ({subject}) {{", *body, "  default:", f"    return {default};", "}"]
