"""C# source of the enums and DTO classes: protobuf binary and ProtoJSON codecs per message.

The per-field code is too specialized for a template, so it is emitted here as lines; the
shared behaviour (varints, UTF-8, JSON values) lives in the generated runtime (Runtime.cs).
"""

# Lines of emitted C# are kept whole (one C# line per literal) so the output stays greppable here.
# ruff: noqa: E501

from __future__ import annotations

from ...ir.model import IR, Enum, Field, JsonValue, Message
from ..common import encode_tag, fields_by_number, proto_varint, type_index
from .namer import CSharpNamer
from .text import cs_string, doc_lines

# scalar -> (C# type, reader/writer suffix, JSON out helper, JSON in helper)
SCALARS: dict[str, tuple[str, str, str, str]] = {
    "bool": ("bool", "Bool", "", "ToBool"),
    "int32": ("int", "Int32", "Num", "ToInt32"),
    "int64": ("long", "Int64", "Str", "ToInt64"),
    "uint32": ("uint", "UInt32", "Num", "ToUInt32"),
    "uint64": ("ulong", "UInt64", "Str", "ToUInt64"),
    "sint32": ("int", "SInt32", "Num", "ToInt32"),
    "sint64": ("long", "SInt64", "Str", "ToInt64"),
    "fixed32": ("uint", "Fixed32", "Num", "ToUInt32"),
    "fixed64": ("ulong", "Fixed64", "Str", "ToUInt64"),
    "sfixed32": ("int", "SFixed32", "Num", "ToInt32"),
    "sfixed64": ("long", "SFixed64", "Str", "ToInt64"),
    "float": ("float", "Float", "Float", "ToFloat"),
    "double": ("double", "Double", "Double", "ToDouble"),
    "string": ("string", "String", "", "ToStr"),
    "bytes": ("byte[]", "Bytes", "Base64", "ToBytes"),
}
_LITERAL_SUFFIX = {"uint": "U", "long": "L", "ulong": "UL", "float": "F"}


class MessageEmitter:
    def __init__(self, ir: IR, namer: CSharpNamer, ns: str) -> None:
        self.ns = ns
        self.ir = ir
        self.n = namer
        self.types = type_index(ir)

    # ---- types ----

    def elem_type(self, f: Field) -> str:
        t = f["type"]
        if t["kind"] == "scalar":
            return SCALARS[t["name"]][0]
        if t["kind"] == "enum":
            return self.n.type_name(self.types.enums[t["name"]]["words"])
        return self.n.type_name(self.types.messages[t["name"]]["words"])

    def is_value_type(self, f: Field) -> bool:
        t = f["type"]
        return t["kind"] == "enum" or (t["kind"] == "scalar" and t["name"] not in ("string", "bytes"))

    def explicit(self, f: Field) -> bool:
        return f["label"] == "optional" or f["oneof"] is not None

    def prop_type(self, f: Field) -> str:
        et = self.elem_type(f)
        if f["label"] == "repeated":
            return f"List<{et}>"
        if self.explicit(f) and self.is_value_type(f):
            return et + "?"
        return et

    def literal(self, f: Field, v: JsonValue) -> str:
        t = f["type"]
        if t["kind"] == "enum":
            e = self.types.enums[t["name"]]
            val = next(x for x in e["values"] if x["name"] == v)
            # global:: because a property may be spelled like its enum type (the Color Color case).
            return f"global::{self.ns}.{self.n.type_name(e['words'])}.{self.n.member(val['words'])}"
        et = SCALARS[t["name"]][0]
        if et == "bool":
            return "true" if v else "false"
        if et == "string":
            return cs_string(str(v))
        if et == "byte[]":
            raise ValueError("bytes defaults are not supported")
        text = repr(v) if isinstance(v, float) else str(v)
        if et == "double" and isinstance(v, int):
            text += ".0"
        return text + _LITERAL_SUFFIX.get(et, "")

    # ---- enums ----

    def enum_source(self, e: Enum) -> list[str]:
        n = self.n
        cls = n.type_name(e["words"])
        out = doc_lines(e["doc"] or e["name"], 4)
        out += [f"    public enum {cls}", "    {"]
        for v in e["values"]:
            out += doc_lines(f"{v['json_name']}: {v['doc']}" if v["doc"] else v["json_name"], 8)
            out.append(f"        {n.member(v['words'])} = {v['number']},")
        out += ["    }", ""]
        out += doc_lines(f"Names, attributes and state-machine helpers of {cls}.", 4)
        out += [f"    public static class {cls}Extensions", "    {"]
        out += [
            "        /// <summary>The protobuf / ProtoJSON name of a known value, null for an unknown number.</summary>",
            f"        public static string JsonName(this {cls} value)",
            "        {",
            "            switch (value)",
            "            {",
        ]
        for v in e["values"]:
            out.append(f"                case {cls}.{n.member(v['words'])}: return {cs_string(v['json_name'])};")
        out += ["                default: return null;", "            }", "        }", ""]
        out += [
            "        /// <summary>True when the number is a value this version of the IDL defines.</summary>",
            f"        public static bool IsKnown(this {cls} value)",
            "        {",
            "            return JsonName(value) != null;",
            "        }",
            "",
            "        /// <summary>The value with this protobuf / ProtoJSON name, or null.</summary>",
            f"        public static {cls}? FromJsonName(string name)",
            "        {",
            "            int? n = NumberOf(name);",
            f"            return n == null ? ({cls}?)null : ({cls})n.Value;",
            "        }",
            "",
            "        internal static int? NumberOf(string name)",
            "        {",
            "            switch (name)",
            "            {",
        ]
        for v in e["values"]:
            out.append(f"                case {cs_string(v['json_name'])}: return {v['number']};")
        out += ["                default: return null;", "            }", "        }", ""]
        out += [
            f"        internal static object ToJsonValue({cls} value)",
            "        {",
            "            string name = JsonName(value);",
            "            return name != null ? (object)name : ProtoJson.Num((int)value);",
            "        }",
        ]
        for a in e["attributes"]:
            at = SCALARS[a["type"]][0]
            out.append("")
            out += doc_lines(a["doc"] or a["name"], 8)
            out += [
                f"        public static {at} {n.member(a['words'])}(this {cls} value)",
                "        {",
                "            switch (value)",
                "            {",
            ]
            for v in e["values"]:
                raw = v["attributes"][a["name"]]
                lit = (
                    ("true" if raw else "false")
                    if at == "bool"
                    else (cs_string(str(raw)) if at == "string" else str(raw) + _LITERAL_SUFFIX.get(at, ""))
                )
                out.append(f"                case {cls}.{n.member(v['words'])}: return {lit};")
            default = {"bool": "false", "string": "null", "byte[]": "null"}.get(at, "0")
            out += [f"                default: return {default};", "            }", "        }"]
        t = e["transitions"]
        if t is not None:

            def member_of(name: str) -> str:
                v = next(x for x in e["values"] if x["name"] == name)
                return f"{cls}.{n.member(v['words'])}"

            def set_check(fn: str, doc: str, names: list[str]) -> list[str]:
                lines = [
                    "",
                    f"        /// <summary>{doc}</summary>",
                    f"        public static bool {fn}(this {cls} value)",
                    "        {",
                ]
                lines += ["            switch (value)", "            {"]
                lines += [f"                case {member_of(x)}:" for x in names]
                if names:
                    lines.append("                    return true;")
                lines += ["                default:", "                    return false;", "            }", "        }"]
                return lines

            out += set_check("IsInitial", "True for a state a new instance may start in.", t["initial"])
            out += set_check("IsTerminal", "True for a final state (no transition leaves it).", t["terminal"])
            out += [
                "",
                '        /// <summary>True when the state machine allows moving from <paramref name="from"/> to <paramref name="to"/>.</summary>',
                f"        public static bool CanTransition(this {cls} from, {cls} to)",
                "        {",
                "            switch (from)",
                "            {",
            ]
            for src, dsts in t["edges"].items():
                if not dsts:
                    continue
                cond = " || ".join(f"to == {member_of(d)}" for d in dsts)
                out.append(f"                case {member_of(src)}: return {cond};")
            out += ["                default: return false;", "            }", "        }"]
        out += ["    }"]
        return out

    # ---- messages ----

    def message_source(self, m: Message) -> list[str]:
        n = self.n
        cls = n.type_name(m["words"])
        out = doc_lines(m["doc"] or m["name"], 4)
        out += [f"    public sealed partial class {cls} : Message", "    {"]
        numbers = ", ".join(str(f["number"]) for f in fields_by_number(m))
        out.append(f"        private static readonly int[] KnownNumbers = {{ {numbers} }};")
        for o in m["oneofs"]:
            members = [f for f in m["fields"] if f["oneof"] == o["name"]]
            out += ["", *doc_lines(f"Which member of oneof {o['name']} is set.", 8)]
            out += [f"        public enum {n.case_enum(o['words'])}", "        {", "            None = 0,"]
            out += [f"            {n.member(f['words'])} = {f['number']}," for f in members]
            out += ["        }", ""]
            out += doc_lines(o["doc"] or f"The member of {o['name']} that is set.", 8)
            out += [
                f"        public {n.case_enum(o['words'])} {n.case_property(o['words'])}",
                "        {",
                "            get",
                "            {",
            ]
            for f in members:
                test = "HasValue" if self.is_value_type(f) else None
                fld = "_" + n.local(f["words"]).lstrip("@")
                cond = f"{fld}.HasValue" if test else f"{fld} != null"
                out.append(f"                if ({cond})")
                out += [
                    "                {",
                    f"                    return {n.case_enum(o['words'])}.{n.member(f['words'])};",
                    "                }",
                ]
            out += [f"                return {n.case_enum(o['words'])}.None;", "            }", "        }"]
        for f in m["fields"]:
            out.append("")
            out += self.property(m, f)
        out.append("")
        out += self.write_to(m)
        out.append("")
        out += self.merge_from(m)
        out.append("")
        out += self.to_json(m)
        out.append("")
        out += self.merge_json(m)
        out += [
            "",
            "        /// <summary>Decodes protobuf binary; throws only DecodeException on bad input.</summary>",
            f"        public static {cls} Decode(byte[] data)",
            "        {",
            f"            var m = new {cls}();",
            "            m.MergeFrom(data);",
            "            return m;",
            "        }",
            "",
            "        /// <summary>Parses ProtoJSON text; throws only DecodeException (invalid_json, too_deep).</summary>",
            f"        public static {cls} FromJson(string text, bool ignoreUnknownFields = false)",
            "        {",
            f"            var m = new {cls}();",
            "            m.MergeJson(text, ignoreUnknownFields);",
            "            return m;",
            "        }",
            "    }",
        ]
        return out

    def property(self, m: Message, f: Field) -> list[str]:
        n = self.n
        name = n.member(f["words"])
        pt = self.prop_type(f)
        out = doc_lines(f["doc"] or f["name"], 8)
        if f.get("deprecated"):
            out.append("        [Obsolete]")
        if f["oneof"] is not None:
            fld = "_" + n.local(f["words"]).lstrip("@")
            siblings = [g for g in m["fields"] if g["oneof"] == f["oneof"] and g is not f]
            has = "value.HasValue" if self.is_value_type(f) else "value != null"
            out = [f"        private {pt} {fld};", "", *out]
            out += [
                f"        public {pt} {name}",
                "        {",
                f"            get {{ return {fld}; }}",
                "            set",
                "            {",
            ]
            out.append(f"                {fld} = value;")
            if siblings:
                out += [f"                if ({has})", "                {"]
                out += [f"                    _{n.local(g['words']).lstrip('@')} = null;" for g in siblings]
                out.append("                }")
            out += ["            }", "        }"]
        elif f["label"] == "repeated":
            out.append(f"        public {pt} {name} {{ get; }} = new {pt}();")
        elif self.explicit(f) or f["type"]["kind"] == "message":
            out.append(f"        public {pt} {name} {{ get; set; }}")
        else:
            init = {"string": ' = "";', "byte[]": " = new byte[0];"}.get(pt, "")
            out.append(f"        public {pt} {name} {{ get; set; }}{init}")
        if f["default"] is not None:
            et = self.elem_type(f)
            out += ["", *doc_lines(f"{name}, or its IDL default when absent.", 8)]
            out.append(
                f"        public {et} {n.or_default(f['words'])} {{ get {{ return {name} ?? {self.literal(f, f['default'])}; }} }}"
            )
        return out

    # ---- binary ----

    def _tag_lines(self, f: Field, pad: str) -> list[str]:
        return [f"{pad}w.WriteByte(0x{b:02x});" for b in proto_varint(encode_tag(f))]

    def _write_elem(self, f: Field, expr: str, pad: str) -> list[str]:
        t = f["type"]
        if t["kind"] == "enum":
            return [f"{pad}w.WriteInt32((int){expr});"]
        if t["kind"] == "message":
            return [f"{pad}int mark = w.BeginLength();", f"{pad}{expr}.WriteTo(w);", f"{pad}w.EndLength(mark);"]
        return [f"{pad}w.Write{SCALARS[t['name']][1]}({expr});"]

    def _present(self, f: Field, expr: str) -> str:
        t = f["type"]
        if self.explicit(f):
            return f"{expr}.HasValue" if self.is_value_type(f) else f"{expr} != null"
        if t["kind"] == "message":
            return f"{expr} != null"
        if t["kind"] == "enum":
            return f"(int){expr} != 0"
        s = t["name"]
        if s == "bool":
            return expr
        if s == "string":
            return f"!string.IsNullOrEmpty({expr})"
        if s == "bytes":
            return f"{expr} != null && {expr}.Length != 0"
        if s in ("float", "double"):
            return f"BitConverter.DoubleToInt64Bits({expr}) != 0"
        return f"{expr} != 0"

    def _value(self, f: Field, expr: str) -> str:
        return f"{expr}.Value" if self.explicit(f) and self.is_value_type(f) else expr

    def write_to(self, m: Message) -> list[str]:
        n = self.n
        out = ["        internal override void WriteTo(ProtoWriter w)", "        {"]
        for f in fields_by_number(m):
            name = n.member(f["words"])
            if f["label"] == "repeated":
                out.append(f"            if ({name}.Count != 0)")
                out.append("            {")
                if f["packed"]:
                    out += self._tag_lines(f, "                ")
                    out.append("                int packed = w.BeginLength();")
                    out.append(f"                foreach (var x in {name})")
                    out += ["                {", *self._write_elem(f, "x", "                    "), "                }"]
                    out.append("                w.EndLength(packed);")
                else:
                    out.append(f"                foreach (var x in {name})")
                    out += ["                {", *self._tag_lines(f, "                    ")]
                    out += self._write_elem(f, "x", "                    ")
                    out.append("                }")
                out.append("            }")
                continue
            out.append(f"            if ({self._present(f, name)})")
            out += ["            {", *self._tag_lines(f, "                ")]
            out += self._write_elem(f, self._value(f, name), "                ")
            out.append("            }")
        out += [
            "            if (Unknown != null)",
            "            {",
            "                w.WriteRaw(Unknown, 0, Unknown.Length);",
            "            }",
            "        }",
        ]
        return out

    def _read(self, f: Field, end: str) -> str:
        t = f["type"]
        if t["kind"] == "enum":
            return f"({self.elem_type(f)})r.ReadInt32({end})"
        return f"r.Read{SCALARS[t['name']][1]}({end})"

    def merge_from(self, m: Message) -> list[str]:
        n = self.n
        out = [
            "        internal override void MergeFrom(ProtoReader r, int end, int depth)",
            "        {",
            "            while (r.Pos < end)",
            "            {",
            "                int start = r.Pos;",
            "                uint tag = r.ReadTag(end);",
            "                switch (tag)",
            "                {",
        ]
        pad = "                    "
        for f in fields_by_number(m):
            name = n.member(f["words"])
            wt_tag = (f["number"] << 3) | f["wire_type"]
            t = f["type"]
            if t["kind"] == "message":
                mt = self.elem_type(f)
                out += [f"{pad[:-4]}case {wt_tag}:", f"{pad}{{", f"{pad}    int e = r.ReadLength(end);"]
                out += [
                    f"{pad}    if (depth >= ProtoReader.MaxDepth)",
                    f"{pad}    {{",
                    f"{pad}        throw ProtoReader.TooDeep();",
                    f"{pad}    }}",
                ]
                if f["label"] == "repeated":
                    out += [
                        f"{pad}    var m = new {mt}();",
                        f"{pad}    m.MergeFrom(r, e, depth + 1);",
                        f"{pad}    {name}.Add(m);",
                    ]
                else:
                    out += [
                        f"{pad}    var m = {name} ?? new {mt}();",
                        f"{pad}    m.MergeFrom(r, e, depth + 1);",
                        f"{pad}    {name} = m;",
                    ]
                out += [f"{pad}    break;", f"{pad}}}"]
                continue
            if f["label"] == "repeated":
                if f["packed"]:
                    ptag = (f["number"] << 3) | 2
                    out += [f"{pad[:-4]}case {ptag}:", f"{pad}{{", f"{pad}    int e = r.ReadLength(end);"]
                    out += [
                        f"{pad}    while (r.Pos < e)",
                        f"{pad}    {{",
                        f"{pad}        {name}.Add({self._read(f, 'e')});",
                        f"{pad}    }}",
                    ]
                    out += [f"{pad}    break;", f"{pad}}}"]
                out += [f"{pad[:-4]}case {wt_tag}:", f"{pad}{name}.Add({self._read(f, 'end')});", f"{pad}break;"]
                continue
            out += [f"{pad[:-4]}case {wt_tag}:", f"{pad}{name} = {self._read(f, 'end')};", f"{pad}break;"]
        out += [
            f"{pad[:-4]}default:",
            f"{pad}r.SkipField(tag, end, KnownNumbers);",
            f"{pad}Unknown = ProtoReader.Append(Unknown, r.Buf, start, r.Pos);",
            f"{pad}break;",
            "                }",
            "            }",
            "        }",
        ]
        return out

    # ---- ProtoJSON ----

    def _json_out(self, f: Field, expr: str) -> str:
        t = f["type"]
        if t["kind"] == "enum":
            return f"{self.elem_type(f)}Extensions.ToJsonValue({expr})"
        if t["kind"] == "message":
            return f"{expr}.ToJsonObject()"
        helper = SCALARS[t["name"]][2]
        return f"ProtoJson.{helper}({expr})" if helper else expr

    def to_json(self, m: Message) -> list[str]:
        n = self.n
        out = [
            "        internal override JsonObject ToJsonObject()",
            "        {",
            "            var o = new JsonObject();",
        ]
        for f in m["fields"]:
            name = n.member(f["words"])
            key = cs_string(f["json_name"])
            if f["label"] == "repeated":
                out += [
                    f"            if ({name}.Count != 0)",
                    "            {",
                    "                var a = new List<object>();",
                ]
                out += [
                    f"                foreach (var x in {name})",
                    "                {",
                    f"                    a.Add({self._json_out(f, 'x')});",
                    "                }",
                ]
                out += [f"                o.Members.Add(new KeyValuePair<string, object>({key}, a));", "            }"]
                continue
            out += [f"            if ({self._present(f, name)})", "            {"]
            out.append(
                f"                o.Members.Add(new KeyValuePair<string, object>({key}, {self._json_out(f, self._value(f, name))}));"
            )
            out.append("            }")
        out += ["            return o;", "        }"]
        return out

    def _json_in(self, f: Field, expr: str) -> str:
        t = f["type"]
        if t["kind"] == "enum":
            et = self.elem_type(f)
            return f"({et})ProtoJson.ToEnum({expr}, {et}Extensions.NumberOf, {cs_string(t['name'])})"
        return f"ProtoJson.{SCALARS[t['name']][3]}({expr})"

    def merge_json(self, m: Message) -> list[str]:
        n = self.n
        cls = n.type_name(m["words"])
        two_names = [f for f in m["fields"] if f["json_name"] != f["name"]]
        out = [
            "        internal override void MergeJson(JsonObject o, int depth, bool ignoreUnknown)",
            "        {",
            "            if (depth > ProtoReader.MaxDepth)",
            "            {",
            "                throw ProtoReader.TooDeep();",
            "            }",
        ]
        if two_names:
            out.append("            var seen = new HashSet<string>();")
        out += [
            "            foreach (var kv in o.Members)",
            "            {",
            "                object v = kv.Value;",
            "                switch (kv.Key)",
            "                {",
        ]
        pad = "                    "
        for f in m["fields"]:
            name = n.member(f["words"])
            labels = [f["json_name"]] + ([f["name"]] if f["json_name"] != f["name"] else [])
            out += [f"{pad[:-4]}case {cs_string(x)}:" for x in labels]
            out.append(f"{pad}{{")
            if f["json_name"] != f["name"]:
                out.append(f"{pad}    ProtoJson.Once(seen, {cs_string(f['name'])}, {cs_string(cls)});")
            out += [f"{pad}    if (v != null)", f"{pad}    {{"]
            t = f["type"]
            ip = pad + "        "
            if f["label"] == "repeated":
                out += [f"{ip}foreach (var x in ProtoJson.ToList(v, {cs_string(f['name'])}))", f"{ip}{{"]
                if t["kind"] == "message":
                    mt = self.elem_type(f)
                    out += [
                        f"{ip}    var m = new {mt}();",
                        f"{ip}    m.MergeJson(ProtoJson.ToObject(x, {cs_string(t['name'])}), depth + 1, ignoreUnknown);",
                        f"{ip}    {name}.Add(m);",
                    ]
                else:
                    out.append(f"{ip}    {name}.Add({self._json_in(f, 'x')});")
                out.append(f"{ip}}}")
            elif t["kind"] == "message":
                mt = self.elem_type(f)
                out += [
                    f"{ip}var m = new {mt}();",
                    f"{ip}m.MergeJson(ProtoJson.ToObject(v, {cs_string(t['name'])}), depth + 1, ignoreUnknown);",
                    f"{ip}{name} = m;",
                ]
            else:
                out.append(f"{ip}{name} = {self._json_in(f, 'v')};")
            out += [f"{pad}    }}", f"{pad}    break;", f"{pad}}}"]
        out += [
            f"{pad[:-4]}default:",
            f"{pad}if (!ignoreUnknown)",
            f"{pad}{{",
            f"{pad}    throw Json.Error({cs_string(cls + ': unknown field ')} + kv.Key);",
            f"{pad}}}",
            f"{pad}break;",
            "                }",
            "            }",
            "        }",
        ]
        return out
