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
from .text import javadoc, jint, jlong, jstr

# scalar -> (java type, boxed type, zero literal)
_TYPES: dict[str, tuple[str, str, str]] = {
    "bool": ("boolean", "Boolean", "false"),
    "int32": ("int", "Integer", "0"),
    "sint32": ("int", "Integer", "0"),
    "sfixed32": ("int", "Integer", "0"),
    "uint32": ("int", "Integer", "0"),
    "fixed32": ("int", "Integer", "0"),
    "int64": ("long", "Long", "0L"),
    "sint64": ("long", "Long", "0L"),
    "sfixed64": ("long", "Long", "0L"),
    "uint64": ("long", "Long", "0L"),
    "fixed64": ("long", "Long", "0L"),
    "float": ("float", "Float", "0f"),
    "double": ("double", "Double", "0.0"),
    "string": ("String", "String", '""'),
    "bytes": ("byte[]", "byte[]", "EMPTY_BYTES"),
}
_READ = {
    "bool": "(int) r.varint() != 0",
    "int32": "(int) r.varint()",
    "uint32": "(int) r.varint()",
    "sint32": "ProtoReader.zigzag32(r.varint())",
    "int64": "r.varint()",
    "uint64": "r.varint()",
    "sint64": "ProtoReader.zigzag64(r.varint())",
    "fixed32": "r.fixed32({end})",
    "sfixed32": "r.fixed32({end})",
    "float": "Float.intBitsToFloat(r.fixed32({end}))",
    "fixed64": "r.fixed64({end})",
    "sfixed64": "r.fixed64({end})",
    "double": "Double.longBitsToDouble(r.fixed64({end}))",
    "string": "r.string(r.lenEnd({end}))",
    "bytes": "r.bytes(r.lenEnd({end}))",
    "enum": "(int) r.varint()",
}
_WRITE = {
    "bool": "{w}.raw({v} ? 1 : 0)",
    "int32": "{w}.int32({v})",
    "enum": "{w}.int32({v})",
    "uint32": "{w}.uint32({v})",
    "sint32": "{w}.sint32({v})",
    "int64": "{w}.varint({v})",
    "uint64": "{w}.varint({v})",
    "sint64": "{w}.sint64({v})",
    "fixed32": "{w}.fixed32({v})",
    "sfixed32": "{w}.fixed32({v})",
    "float": "{w}.fixed32(Float.floatToRawIntBits({v}))",
    "fixed64": "{w}.fixed64({v})",
    "sfixed64": "{w}.fixed64({v})",
    "double": "{w}.fixed64(Double.doubleToRawLongBits({v}))",
    "string": "{w}.string({v})",
    "bytes": "{w}.bytes({v})",
}
_TO_JSON = {
    "bool": "{v}",
    "int32": "{v}",
    "sint32": "{v}",
    "sfixed32": "{v}",
    "uint32": "Integer.toUnsignedLong({v})",
    "fixed32": "Integer.toUnsignedLong({v})",
    "int64": "Long.toString({v})",
    "sint64": "Long.toString({v})",
    "sfixed64": "Long.toString({v})",
    "uint64": "Long.toUnsignedString({v})",
    "fixed64": "Long.toUnsignedString({v})",
    "float": "ProtoJson.ofFloat({v})",
    "double": "ProtoJson.ofDouble({v})",
    "string": "{v}",
    "bytes": "ProtoJson.ofBytes({v})",
}
_FROM_JSON = {
    "bool": "ProtoJson.bool({v})",
    "int32": "ProtoJson.int32({v})",
    "sint32": "ProtoJson.int32({v})",
    "sfixed32": "ProtoJson.int32({v})",
    "uint32": "ProtoJson.uint32({v})",
    "fixed32": "ProtoJson.uint32({v})",
    "int64": "ProtoJson.int64({v})",
    "sint64": "ProtoJson.int64({v})",
    "sfixed64": "ProtoJson.int64({v})",
    "uint64": "ProtoJson.uint64({v})",
    "fixed64": "ProtoJson.uint64({v})",
    "float": "ProtoJson.float32({v})",
    "double": "ProtoJson.float64({v})",
    "string": "ProtoJson.string({v})",
    "bytes": "ProtoJson.bytes({v})",
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
    if _TYPES[kind][0] == "long":
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
        attrs = e["attributes"]
        L = [self.header, f"package {self.pkg};", ""]
        L += javadoc(e["doc"] + " Open: message fields keep unknown numbers as plain ints.", 0)
        L.append(f"public enum {c} {{")
        for i, v in enumerate(e["values"]):
            L += javadoc(v["doc"], 2)
            args = [jint(v["number"]), jstr(v["json_name"])]
            args += [_attr_literal(a["type"], v["attributes"][a["name"]]) for a in attrs]
            L.append(f"  {self.n.const_name(v['words'])}({', '.join(args)}){';' if i == len(e['values']) - 1 else ','}")
        L.append("")
        L.append("  private final int number;")
        L.append("  private final String jsonName;")
        params = ["int number", "String jsonName"]
        for a in attrs:
            jt = _TYPES[a["type"]][0]
            L.append(f"  private final {jt} {self.n.field_name(a['words'])};")
            params.append(f"{jt} {self.n.field_name(a['words'])}")
        L.append("")
        L.append(f"  {c}({', '.join(params)}) {{")
        L.append("    this.number = number;")
        L.append("    this.jsonName = jsonName;")
        for a in attrs:
            fn = self.n.field_name(a["words"])
            L.append(f"    this.{fn} = {fn};")
        L.append("  }")
        L.append("")
        L.append("  /** The protobuf number of this value. */")
        L.append("  public int number() {")
        L.append("    return number;")
        L.append("  }")
        L.append("")
        L.append("  /** The ProtoJSON name of this value. */")
        L.append("  public String jsonName() {")
        L.append("    return jsonName;")
        L.append("  }")
        for a in attrs:
            fn = self.n.field_name(a["words"])
            L.append("")
            L += javadoc(a["doc"], 2)
            L.append(f"  public {_TYPES[a['type']][0]} {self.n.method_name(a['words'])}() {{")
            L.append(f"    return {fn};")
            L.append("  }")
        L.append("")
        L.append("  /** The value with this number, or null for a number this version does not know. */")
        L.append(f"  public static {c} forNumber(int number) {{")
        L.append("    switch (number) {")
        seen: set[int] = set()
        for v in e["values"]:
            if v["number"] in seen:
                continue
            seen.add(v["number"])
            L.append(f"      case {jint(v['number'])}:")
            L.append(f"        return {self.n.const_name(v['words'])};")
        L.append("      default:")
        L.append("        return null;")
        L.append("    }")
        L.append("  }")
        L.append("")
        L.append("  /** The ProtoJSON name of a number, or null for an unknown number. */")
        L.append("  public static String jsonNameOf(int number) {")
        L.append(f"    {c} v = forNumber(number);")
        L.append("    return v == null ? null : v.jsonName;")
        L.append("  }")
        L.append("")
        L.append("  /** The number of a ProtoJSON name, or null when {@code name} is not one of them. */")
        L.append("  public static Integer numberOfJsonName(Object name) {")
        L.append("    if (!(name instanceof String)) {")
        L.append("      return null;")
        L.append("    }")
        L.append("    switch ((String) name) {")
        for v in e["values"]:
            L.append(f"      case {jstr(v['json_name'])}:")
            L.append(f"        return {jint(v['number'])};")
        L.append("      default:")
        L.append("        return null;")
        L.append("    }")
        L.append("  }")
        t = e["transitions"]
        if t is not None:
            by_name = {v["name"]: self.n.const_name(v["words"]) for v in e["values"]}
            L.append("")
            L.append("  /** True for a state the lifecycle may start in. */")
            L.append("  public boolean isInitial() {")
            init = " || ".join(f"this == {by_name[x]}" for x in t["initial"]) or "false"
            L.append(f"    return {init};")
            L.append("  }")
            L.append("")
            L.append("  /** True for a state the lifecycle ends in (no transition leaves it). */")
            L.append("  public boolean isTerminal() {")
            term = " || ".join(f"this == {by_name[x]}" for x in t["terminal"]) or "false"
            L.append(f"    return {term};")
            L.append("  }")
            L.append("")
            L.append("  /** True if the state machine allows moving from this state to {@code to}. */")
            L.append(f"  public boolean canTransitionTo({c} to) {{")
            L.append("    switch (this) {")
            for src, dsts in t["edges"].items():
                if not dsts:
                    continue
                L.append(f"      case {by_name[src]}:")
                L.append("        return " + " || ".join(f"to == {by_name[d]}" for d in dsts) + ";")
            L.append("      default:")
            L.append("        return false;")
            L.append("    }")
            L.append("  }")
            L.append("")
            L.append("  /** {@link #canTransitionTo} on numbers; false when either is unknown. */")
            L.append("  public static boolean canTransition(int from, int to) {")
            L.append(f"    {c} a = forNumber(from);")
            L.append(f"    {c} b = forNumber(to);")
            L.append("    return a != null && b != null && a.canTransitionTo(b);")
            L.append("  }")
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
                elem, boxed = _TYPES[kind][0], _TYPES[kind][1]
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
            return "0" if f.kind == "enum" else _TYPES[f.kind][2]
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
        return [_WRITE[f.kind].format(w=w, v=v) + ";"]

    def _to_json_value(self, f: _F, v: str) -> str:
        if f.kind == "message":
            return f"{v}.toJson()"
        if f.kind == "enum":
            return f"ProtoMessages.enumJson({self.cls(f.ir['type']['name'])}.jsonNameOf({v}), {v})"
        return _TO_JSON[f.kind].format(v=v)

    def _from_json_value(self, f: _F, v: str) -> str:
        if f.kind == "message":
            return f"{f.msg_type}.fromJsonValue({v}, depth + 1, ign)"
        if f.kind == "enum":
            et = self.cls(f.ir["type"]["name"])
            return f"ProtoJson.enumNumber({v}, {et}.numberOfJsonName({v}), {jstr(f.ir['type']['name'])})"
        return _FROM_JSON[f.kind].format(v=v)

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
            L.append("")
            L.append(f"  /** Which member of oneof {o['name']} is set. */")
            L.append(f"  public {ce} {self.n.accessor('get', [*o['words'], 'case'])}() {{")
            for mf in members:
                L.append(f"    if ({mf.name} != null) {{")
                L.append(f"      return {ce}.{self.n.const_name(mf.words)};")
                L.append("    }")
            L.append(f"    return {ce}.NOT_SET;")
            L.append("  }")
        for f in fs:
            L += self.accessors(c, msg, f, fs)
        L += self.codec(c, msg, fs)
        L.append("}")
        return f"{c}.java", "\n".join(L) + "\n"

    def accessors(self, c: str, msg: Message, f: _F, fs: list[_F]) -> list[str]:
        n = self.n
        doc = f.ir["doc"]
        if f.ir["deprecated"]:
            doc += " Deprecated."
        L: list[str] = [""]
        get, set_ = n.accessor("get", f.words), n.accessor("set", f.words)
        if f.presence == "repeated":
            L += javadoc(doc + " The live, mutable list.", 2)
            L.append(f"  public {f.jtype} {get}() {{")
            L.append(f"    return {f.name};")
            L.append("  }")
            L.append("")
            L.append(f"  /** Replace {f.ir['name']} with a copy of {{@code values}}. */")
            L.append(f"  public {c} {set_}(List<{f.boxed}> values) {{")
            L.append(f"    this.{f.name} = new ArrayList<>(values);")
            L.append("    return this;")
            L.append("  }")
            L.append("")
            L.append(f"  /** Append one value to {f.ir['name']}. */")
            L.append(f"  public {c} {n.accessor('add', f.words)}({f.boxed} value) {{")
            L.append(f"    this.{f.name}.add(value);")
            L.append("    return this;")
            L.append("  }")
            return L
        nullable = self.nullable(f)
        extra = ""
        if f.presence in ("optional", "oneof") or f.kind == "message":
            extra = " Null when absent."
        if f.kind == "enum":
            extra += f" The number of a {f.enum_type} value (unknown numbers are kept)."
        L += javadoc(doc + extra, 2)
        L.append(f"  public {f.jtype} {get}() {{")
        L.append(f"    return {f.name};")
        L.append("  }")
        L.append("")
        siblings = [g for g in fs if f.ir["oneof"] is not None and g.ir["oneof"] == f.ir["oneof"] and g is not f]
        what = "null clears it" if nullable else "never null"
        sib = f"; setting it clears the other members of oneof {f.ir['oneof']}" if siblings else ""
        L.append(f"  /** Set {f.ir['name']} ({what}{sib}). */")
        L.append(f"  public {c} {set_}({f.jtype} value) {{")
        if not nullable and f.jtype in ("String", "byte[]"):
            L.append(f"    this.{f.name} = java.util.Objects.requireNonNull(value, {jstr(f.ir['name'])});")
        else:
            L.append(f"    this.{f.name} = value;")
        if siblings:
            L.append("    if (value != null) {")
            for g in siblings:
                L.append(f"      this.{g.name} = null;")
            L.append("    }")
        L.append("    return this;")
        L.append("  }")
        if f.kind == "enum":
            et = f.enum_type
            L.append("")
            L.append(f"  /** {f.ir['name']} as a {et}, or null when absent or unknown. */")
            L.append(f"  public {et} {n.accessor('get', [*f.words, 'enum'])}() {{")
            if nullable:
                L.append(f"    return {f.name} == null ? null : {et}.forNumber({f.name});")
            else:
                L.append(f"    return {et}.forNumber({f.name});")
            L.append("  }")
            L.append("")
            L.append(f"  /** Set {f.ir['name']} from a {et} value. */")
            L.append(f"  public {c} {set_}({et} value) {{")
            L.append(f"    return {set_}(value.number());")
            L.append("  }")
        if nullable:
            L.append("")
            L.append(f"  /** True if {f.ir['name']} is present. */")
            L.append(f"  public boolean {n.accessor('has', f.words)}() {{")
            L.append(f"    return {f.name} != null;")
            L.append("  }")
            L.append("")
            L.append(f"  /** Make {f.ir['name']} absent. */")
            L.append(f"  public {c} {n.accessor('clear', f.words)}() {{")
            L.append(f"    this.{f.name} = null;")
            L.append("    return this;")
            L.append("  }")
        if f.ir["default"] is not None:
            prim = "int" if f.kind == "enum" else _TYPES[f.kind][0]
            L.append("")
            L.append(f"  /** {f.ir['name']}, or its IDL default ({f.ir['default']}) when absent. */")
            L.append(f"  public {prim} {n.accessor('get', [*f.words, 'or', 'default'])}() {{")
            L.append(f"    return {f.name} == null ? {self._default_literal(f)} : {f.name};")
            L.append("  }")
        return L

    def codec(self, c: str, msg: Message, fs: list[_F]) -> list[str]:
        mname = msg["name"]
        by_num = {f.ir["number"]: f for f in fs}
        L = [""]
        L.append("  /** Fields this version does not know, as received (tag and value bytes, in order). */")
        L.append("  public byte[] unknownFields() {")
        L.append("    return unknown.clone();")
        L.append("  }")
        L.append("")
        L.append("  @Override")
        L.append("  public String messageName() {")
        L.append(f"    return {jstr(mname)};")
        L.append("  }")
        # decode
        L.append("")
        L.append("  /** Decode protobuf binary; throws only {@link DecodeException} on bad input. */")
        L.append(f"  public static {c} decode(byte[] data) {{")
        L.append("    ProtoReader r = new ProtoReader(data);")
        L.append("    return decodeFrom(r, data.length, 0, null);")
        L.append("  }")
        L.append("")
        L.append("  /** Decode the fields in [r.pos, end), merging into {@code into} when it is not null. */")
        L.append(f"  static {c} decodeFrom(ProtoReader r, int end, int depth, {c} into) {{")
        L.append(f"    {c} m = into != null ? into : new {c}();")
        L.append("    ProtoWriter unk = null;")
        L.append("    while (r.pos < end) {")
        L.append("      int start = r.pos;")
        L.append("      long tag = r.tag();")
        L.append("      switch ((int) tag) {")
        for num in sorted(by_num):
            f = by_num[num]
            forms = [(f.ir["number"] << 3) | f.ir["wire_type"]]
            if f.ir["packed"]:
                forms.append((f.ir["number"] << 3) | 2)
            for i, tag in enumerate(forms):
                packed = i == 1
                L.append(f"        case {jint(tag)}:")
                L += ["          " + x for x in self._read_field(f, fs, packed)]
                L.append("          break;")
        L.append("        default:")
        L.append(f"          r.skip(tag, start, end, KNOWN, {jstr(mname)});")
        L.append("          if (unk == null) {")
        L.append("            unk = new ProtoWriter();")
        L.append("          }")
        L.append("          unk.raw(r.slice(start, r.pos));")
        L.append("      }")
        L.append("    }")
        L.append("    r.finish(end);")
        L.append("    if (unk != null) {")
        L.append("      m.unknown = ProtoMessages.concat(m.unknown, unk.toByteArray());")
        L.append("    }")
        L.append("    return m;")
        L.append("  }")
        # encode
        L.append("")
        L.append("  @Override")
        L.append("  public byte[] encode() {")
        L.append("    ProtoWriter w = new ProtoWriter();")
        L.append("    try {")
        L.append("      writeTo(w);")
        L.append("    } catch (NullPointerException e) {")
        L.append(f"      throw new EncodeException({jstr(mname + ': a list holds null')});")
        L.append("    }")
        L.append("    return w.toByteArray();")
        L.append("  }")
        L.append("")
        L.append("  /** Append the canonical encoding: fields in number order, then unknown fields. */")
        L.append("  void writeTo(ProtoWriter w) {")
        for f in sorted(fs, key=lambda x: x.ir["number"]):
            v = f.name
            L.append(f"    if ({self._present(f, v)}) {{")
            if f.presence == "repeated" and f.ir["packed"]:
                L.append("      ProtoWriter p = new ProtoWriter();")
                L.append(f"      for ({f.boxed} x : {v}) {{")
                L += ["        " + x for x in self._write_value(f, "x", "p")]
                L.append("      }")
                L.append("      " + self._tag_write(f.ir, True))
                L.append("      w.nested(p);")
            elif f.presence == "repeated":
                L.append(f"      for ({f.boxed} x : {v}) {{")
                L.append("        " + self._tag_write(f.ir, False))
                L += ["        " + x for x in self._write_value(f, "x")]
                L.append("      }")
            else:
                L.append("      " + self._tag_write(f.ir, False))
                L += ["      " + x for x in self._write_value(f, v)]
            L.append("    }")
        L.append("    w.raw(unknown);")
        L.append("  }")
        # JSON out
        L.append("")
        L.append("  @Override")
        L.append("  public Map<String, Object> toJson() {")
        L.append("    Map<String, Object> j = new LinkedHashMap<>();")
        for f in fs:
            v = f.name
            key = jstr(f.ir["json_name"])
            L.append(f"    if ({self._present(f, v)}) {{")
            if f.presence == "repeated":
                L.append("      java.util.List<Object> a = new ArrayList<>();")
                L.append(f"      for ({f.boxed} x : {v}) {{")
                L.append(f"        a.add({self._to_json_value(f, 'x')});")
                L.append("      }")
                L.append(f"      j.put({key}, a);")
            else:
                L.append(f"      j.put({key}, {self._to_json_value(f, v)});")
            L.append("    }")
        L.append("    return j;")
        L.append("  }")
        L.append("")
        L.append("  @Override")
        L.append("  public String toJsonString() {")
        L.append("    return Json.write(toJson());")
        L.append("  }")
        # JSON in
        L.append("")
        L.append("  /** Read a parsed ProtoJSON value; unknown keys fail with {@code invalid_json}. */")
        L.append(f"  public static {c} fromJson(Object value) {{")
        L.append("    return fromJsonValue(value, 0, false);")
        L.append("  }")
        L.append("")
        L.append("  /** Parse a ProtoJSON document; throws only {@link DecodeException}. */")
        L.append(f"  public static {c} fromJsonString(String text) {{")
        L.append("    return fromJsonValue(Json.parse(text), 0, false);")
        L.append("  }")
        L.append("")
        L.append("  /** Read a parsed ProtoJSON value at nesting {@code depth}; {@code ign} skips unknown keys. */")
        L.append(f"  public static {c} fromJsonValue(Object value, int depth, boolean ign) {{")
        L.append("    if (depth > ProtoReader.MAX_DEPTH) {")
        L.append("      throw ProtoReader.tooDeep();")
        L.append("    }")
        L.append(f"    Map<?, ?> d = ProtoJson.object(value, {jstr(mname)});")
        L.append(f"    {c} m = new {c}();")
        dual = [f for f in fs if f.ir["json_name"] != f.ir["name"]]
        for f in dual:
            L.append(f"    boolean seen{f.name[:1].upper() + f.name[1:]} = false;")
        L.append("    for (Map.Entry<?, ?> e : d.entrySet()) {")
        L.append("      Object v = e.getValue();")
        L.append("      switch (String.valueOf(e.getKey())) {")
        for f in fs:
            jn, name = f.ir["json_name"], f.ir["name"]
            L.append(f"        case {jstr(jn)}:")
            if jn != name:
                sv = f"seen{f.name[:1].upper() + f.name[1:]}"
                L.append(f"        case {jstr(name)}:")
                L.append(f"          if ({sv}) {{")
                L.append(f"            throw ProtoJson.error({jstr(f'{mname}: field {name} given twice')});")
                L.append("          }")
                L.append(f"          {sv} = true;")
            L.append("          if (v != null) {")
            if f.presence == "repeated":
                L.append(f"            for (Object x : ProtoJson.list(v, {jstr(mname + '.' + jn)})) {{")
                L.append(f"              m.{f.name}.add({self._from_json_value(f, 'x')});")
                L.append("            }")
            else:
                if f.presence == "oneof":
                    members = [g for g in fs if g.ir["oneof"] == f.ir["oneof"]]
                    cond = " || ".join(f"m.{g.name} != null" for g in members)
                    L.append(f"            if ({cond}) {{")
                    err = f"{mname}: more than one member of oneof {f.ir['oneof']}"
                    L.append(f"              throw ProtoJson.error({jstr(err)});")
                    L.append("            }")
                L.append(f"            m.{f.name} = {self._from_json_value(f, 'v')};")
            L.append("          }")
            L.append("          break;")
        L.append("        default:")
        L.append("          if (!ign) {")
        L.append(f"            throw ProtoJson.error({jstr(mname + ': unknown field ')} + e.getKey());")
        L.append("          }")
        L.append("      }")
        L.append("    }")
        L.append("    return m;")
        L.append("  }")
        # equality
        L.append("")
        L.append("  /** Equal when both map to the same ProtoJSON and carry the same unknown fields. */")
        L.append("  @Override")
        L.append("  public boolean equals(Object o) {")
        L.append(f"    return o instanceof {c}")
        L.append(f"        && toJson().equals((({c}) o).toJson())")
        L.append(f"        && java.util.Arrays.equals(unknown, (({c}) o).unknown);")
        L.append("  }")
        L.append("")
        L.append("  @Override")
        L.append("  public int hashCode() {")
        L.append("    return toJson().hashCode();")
        L.append("  }")
        L.append("")
        L.append("  @Override")
        L.append("  public String toString() {")
        L.append(f"    return {jstr(c)} + toJsonString();")
        L.append("  }")
        return L

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
            read = _READ[f.kind].format(end="e")
            return [
                "{",
                "  int e = r.lenEnd(end);",
                "  while (r.pos < e) {",
                f"    m.{f.name}.add({read});",
                "  }",
                "  r.finish(e);",
                "}",
            ]
        read = _READ[f.kind].format(end="end")
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
        L.append("  static {")
        L.append("    Map<String, MessageCodec> m = new LinkedHashMap<>();")
        for msg in self.ir["messages"]:
            L.append(f"    m.put({jstr(msg['name'])}, {self.cls(msg['name'])}.CODEC);")
        L.append("    BY_NAME = Collections.unmodifiableMap(m);")
        L.append("  }")
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
