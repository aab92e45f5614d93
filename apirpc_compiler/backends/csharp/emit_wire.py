"""C# source of one wire protocol: code sets, the descriptor tables of its structs and streams
(interpreted by the generated WireRuntime.cs), and typed record classes per struct.

Everything comes from the IR's `wire` list; nothing here knows a particular protocol.
"""

# Lines of emitted C# are kept whole (one C# line per literal) so the output stays greppable here.
# ruff: noqa: E501

from __future__ import annotations

from ...ir.model import WireLength, WireProtocol, WireStream, WireStruct, WireType
from .emit_messages import cs_string, doc_lines
from .namer import CSharpNamer

_KIND = {
    "varint": "Varint",
    "u8": "U8",
    "u16": "U16",
    "u32": "U32",
    "u64": "U64",
    "bytes": "Bytes",
    "string": "String",
    "list": "List",
    "struct": "Struct",
}
_SCALAR_MAX = {"varint": (1 << 62) - 1, "u8": 0xFF, "u16": 0xFFFF, "u32": 0xFFFFFFFF, "u64": (1 << 64) - 1}


def _ul(v: int) -> str:
    return f"0x{v:X}UL"


class WireEmitter:
    def __init__(self, proto: WireProtocol, namer: CSharpNamer, root_ns: str) -> None:
        self.p = proto
        self.n = namer
        self.root_ns = root_ns
        self.ns = f"{root_ns}.Wire.{namer.namespace_part(proto['words'])}"
        self.structs = {s["name"]: s for s in proto["structs"]}
        self.codes = {c["name"]: c for c in proto["codes"]}

    # ---- descriptors ----

    def _length(self, ln: WireLength | None) -> str:
        if ln is None:
            return "null"
        kind = {"varint": "Varint", "rest": "Rest", "field": "Field", "fixed": "Fixed"}[ln["kind"]]
        parts = [f"Kind = WireLengthKind.{kind}"]
        if ln["field"] is not None:
            parts.append(f"Field = {cs_string(ln['field'])}")
        if ln["size"] is not None:
            parts.append(f"Size = {ln['size']}")
        return "new WireLength { " + ", ".join(parts) + " }"

    def _type(self, t: WireType) -> str:
        parts = [f"Kind = WireKind.{_KIND[t['type']]}"]
        if t["length"] is not None:
            parts.append(f"Length = {self._length(t['length'])}")
        if t["frame"] is not None:
            parts.append(f"Frame = {self._length(t['frame'])}")
        if t["element"] is not None:
            parts.append(f"Element = {self._type(t['element'])}")
        if t["struct"] is not None:
            parts.append(f"Struct = {cs_string(t['struct'])}")
        for key, prop in (
            ("max", "Max"),
            ("min", "Min"),
            ("const", "Const"),
            ("mask", "Mask"),
            ("max_bytes", "MaxBytes"),
        ):
            v = t.get(key)
            if isinstance(v, int):
                parts.append(f"{prop} = {_ul(v)}")
        if t["codes"] is not None:
            parts.append(f"Codes = {cs_string(t['codes'])}")
            if t["closed"]:
                values = ", ".join(_ul(c["value"]) for c in self.codes[t["codes"]]["values"])
                parts.append(f"ClosedValues = new HashSet<ulong> {{ {values} }}")
        return "new WireType { " + ", ".join(parts) + " }"

    def _struct_desc(self, s: WireStruct) -> list[str]:
        cls = self.n.type_name(s["words"])
        out = ["            Table.Add(new WireStruct", "            {"]
        out.append(f"                Name = {cs_string(s['name'])},")
        out.append("                Args = new string[] { " + ", ".join(cs_string(a) for a in s["args"]) + " },")
        out.append("                Variants = new Dictionary<ulong, Dictionary<string, bool>>")
        out.append("                {")
        for v in s["variants"]:
            flags = ", ".join(
                f"{{ {cs_string(k)}, {'true' if b else 'false'} }}" for k, b in sorted(v["flags"].items())
            )
            out.append(f"                    {{ {_ul(v['code'])}, new Dictionary<string, bool> {{ {flags} }} }},")
        out.append("                },")
        out.append("                Fields = new WireField[]")
        out.append("                {")
        for f in s["fields"]:
            w = f["when"]
            when = "null"
            if w is not None:
                if w["op"] == "flag":
                    when = f'new WireCond {{ Op = "flag", Name = {cs_string(w["name"])}, Flag = {"true" if w["value"] else "false"} }}'
                else:
                    raw = w["value"]
                    vals = raw if isinstance(raw, list) else ([] if raw is None else [raw])
                    arr = ", ".join(_ul(int(x)) for x in vals)  # type: ignore[arg-type]
                    when = f"new WireCond {{ Op = {cs_string(w['op'])}, Name = {cs_string(w['name'])}, Values = new ulong[] {{ {arr} }} }}"
            out.append(
                f"                    new WireField {{ Name = {cs_string(f['name'])}, Type = {self._type(f['type'])}, When = {when} }},"
            )
        out.append("                },")
        out.append(f"                Create = () => new {cls}(),")
        out.append("            });")
        return out

    # ---- typed records ----

    def _cs_type(self, t: WireType) -> str:
        k = t["type"]
        if k in _SCALAR_MAX:
            return "ulong"
        if k == "bytes":
            return "byte[]"
        if k == "string":
            return "string"
        if k == "struct":
            assert t["struct"] is not None
            return self.n.type_name(self.structs[t["struct"]]["words"])
        assert t["element"] is not None
        inner = self._cs_type(t["element"])
        return f"List<{inner if t['element']['type'] != 'list' else 'object'}>"

    def _record_class(self, s: WireStruct) -> list[str]:
        cls = self.n.type_name(s["words"])
        doc = s["doc"] or s["name"]
        out = doc_lines(doc, 4)
        out += [f"    public sealed class {cls} : WireRecord", "    {"]
        consts = [f for f in s["fields"] if f["type"]["const"] is not None and f["when"] is None]
        out += [
            "        /// <summary>A value with its constant fields set (set every other required field before encoding).</summary>",
            f"        public {cls}()",
            "        {",
            f"            Descriptor = Protocol.Table.Structs[{cs_string(s['name'])}];",
            *(f"            Set({cs_string(f['name'])}, {_ul(int(f['type']['const'] or 0))});" for f in consts),
            "        }",
        ]
        if self.p["name"] == "envelope" and s["name"] == "Envelope":
            # The legacy RPC envelope gets a request constructor, as in every SDK.
            out += [
                "",
                "        /// <summary>",
                '        /// The request envelope of one call of <paramref name="methodId"/> (a <c>MethodIds</c> constant)',
                '        /// carrying <paramref name="message"/> in protobuf binary: version set, kind request, flag',
                "        /// final (one request message).",
                "        /// </summary>",
                f"        public static Envelope Request(ulong methodId, ulong requestId, global::{self.root_ns}.Message message)",
                "        {",
                "            return new Envelope { Kind = EnvelopeKind.Request, Flags = EnvelopeFlag.Final, MethodId = methodId, RequestId = requestId, Payload = message.Encode() };",
                "        }",
            ]
        for f in s["fields"]:
            name = self.n.member(f["words"])
            key = cs_string(f["name"])
            t = f["type"]
            ct = self._cs_type(t)
            out.append("")
            out += doc_lines((f["doc"] or f["name"]) + (" (conditional: null when absent)" if f["when"] else ""), 8)
            if ct == "ulong":
                if f["when"] is None:
                    out.append(
                        f"        public ulong {name} {{ get {{ return GetInt({key}); }} set {{ Set({key}, value); }} }}"
                    )
                else:
                    out.append(
                        f"        public ulong? {name} {{ get {{ return GetOptInt({key}); }} set {{ SetOptInt({key}, value); }} }}"
                    )
            elif ct.startswith("List<"):
                inner = ct[5:-1]
                out.append(
                    f"        public {ct} {name} {{ get {{ return GetList<{inner}>({key}); }} set {{ SetList({key}, value); }} }}"
                )
            else:
                out.append(
                    f"        public {ct} {name} {{ get {{ return ({ct})Get({key}); }} set {{ Set({key}, value); }} }}"
                )
        args = "Dictionary<string, bool> args = null"
        out += [
            "",
            '        /// <summary>Decodes all of <paramref name="data"/>; DecodeException if it is not exactly one value.</summary>',
            f"        public static {cls} Decode(byte[] data, {args})",
            "        {",
            f"            return ({cls})WireCodec.Decode(Protocol.Table.Structs[{cs_string(s['name'])}], data, args);",
            "        }",
            "",
            "        /// <summary>Reads the vector value format; DecodeException(invalid_json) if it does not match.</summary>",
            f"        public static {cls} FromJson(string text)",
            "        {",
            f"            return ({cls})WireCodec.FromJson(Protocol.Table.Structs[{cs_string(s['name'])}], Json.Parse(text));",
            "        }",
            "    }",
        ]
        return out

    def _code_set(self, c: dict) -> list[str]:  # type: ignore[type-arg]
        cls = self.n.type_name(c["words"])
        status = "Closed: values outside this set are rejected." if c["closed"] else "Open: unknown values are kept."
        out = doc_lines(f"{c['doc']} {status}", 4)
        out += [f"    public static class {cls}", "    {"]
        for v in c["values"]:
            out += doc_lines(v["doc"] or v["name"], 8)
            out.append(f"        public const ulong {self.n.member(v['words'])} = {_ul(v['value'])};")
        out += [
            "",
            '        /// <summary>The IDL name of <paramref name="value"/>, or null for a value this set does not define.</summary>',
            "        public static string NameOf(ulong value)",
            "        {",
            "            switch (value)",
            "            {",
        ]
        for v in c["values"]:
            out.append(f"                case {_ul(v['value'])}: return {cs_string(v['name'])};")
        out += ["                default: return null;", "            }", "        }", "    }"]
        return out

    # ---- streams ----

    def _stream_factory(self, st: WireStream) -> list[str]:
        name = self.n.member(st["words"])
        key = cs_string(st["name"])
        out = doc_lines(f"A new incremental parser of the `{st['name']}` stream ({st['kind']}). {st['doc']}", 8)
        kind = st["kind"]
        if kind in ("sequence", "datagram"):
            cls = "SequenceParser" if kind == "sequence" else "DatagramParser"
            assert st["message"] is not None
            out += [
                f"        public static {cls} New{name}Parser()",
                "        {",
                f"            return new {cls}({key}, Table.Structs[{cs_string(st['message'])}]);",
                "        }",
            ]
        elif kind == "framed":
            assert st["dispatch"] is not None and st["type"] is not None and st["length"] is not None
            entries = [
                f"{{ {_ul(v['value'])}, Table.Structs[{cs_string(v['struct'])}] }}"
                for v in self.codes[st["dispatch"]]["values"]
                if v["struct"] is not None
            ]
            max_len = st["max"] if st["max"] is not None else _SCALAR_MAX[st["length"]]
            out += [
                f"        public static FramedParser New{name}Parser()",
                "        {",
                "            var dispatch = new Dictionary<ulong, WireStruct>",
                "            {",
                *(f"                {e}," for e in entries),
                "            };",
                f"            return new FramedParser({key}, WireKind.{_KIND[st['type']]}, WireKind.{_KIND[st['length']]}, dispatch, {_ul(max_len)});",
                "        }",
            ]
        else:
            out += [
                f"        public static HeaderObjectsParser New{name}Parser()",
                "        {",
                "            var headers = new StreamHeader[]",
                "            {",
            ]
            for h in st["headers"]:
                args = ", ".join(f"{{ {cs_string(k)}, {cs_string(v)} }}" for k, v in h["args"].items())
                codes = ", ".join(_ul(c) for c in h["codes"])
                out.append(
                    f"                new StreamHeader {{ Header = Table.Structs[{cs_string(h['header'])}], Object = Table.Structs[{cs_string(h['object'])}], "
                    f"Args = new Dictionary<string, string> {{ {args} }}, Codes = new ulong[] {{ {codes} }} }},"
                )
            out += ["            };", f"            return new HeaderObjectsParser({key}, headers);", "        }"]
        return out

    def source(self, header: str) -> str:
        p = self.p
        out = [header, "using System.Collections.Generic;", "", f"namespace {self.ns}", "{"]
        out += doc_lines(
            f"Wire protocol `{p['name']}` (family {p['family']}, version 0x{p['version']:x}). {p['doc']}", 4
        )
        out += ["    public static class Protocol", "    {"]
        out += [
            "        /// <summary>The protocol family.</summary>",
            f"        public const string Family = {cs_string(p['family'])};",
            "        /// <summary>The protocol version.</summary>",
            f"        public const ulong Version = {_ul(p['version'])};",
            "        /// <summary>The ALPN string, or null.</summary>",
            f"        public const string Alpn = {cs_string(p['alpn']) if p['alpn'] is not None else 'null'};",
            "",
            "        /// <summary>The struct descriptors of this protocol.</summary>",
            f"        public static readonly WireProtocol Table = new WireProtocol({cs_string(p['name'])});",
            "",
            "        static Protocol()",
            "        {",
        ]
        for s in p["structs"]:
            out += self._struct_desc(s)
        out += ["        }"]
        for st in p["streams"]:
            out.append("")
            out += self._stream_factory(st)
        out += [
            "",
            "        /// <summary>A new parser of the stream with this IDL name, or null.</summary>",
            "        public static StreamParser NewParser(string stream)",
            "        {",
            "            switch (stream)",
            "            {",
        ]
        for st in p["streams"]:
            out.append(f"                case {cs_string(st['name'])}: return New{self.n.member(st['words'])}Parser();")
        out += ["                default: return null;", "            }", "        }", "    }"]
        for c in p["codes"]:
            out.append("")
            out += self._code_set(c)  # type: ignore[arg-type]
        for s in p["structs"]:
            out.append("")
            out += self._record_class(s)
        out += ["}", ""]
        return "\n".join(out)
