"""Services (method descriptors with HTTP rules), bridges, the message registry and the wire registry:
`src/Services.cs`, `src/Bridges.cs`, `src/Registry.cs`, `src/Wire/WireRegistry.cs`."""

# Lines of emitted C# are kept whole (one C# line per literal) so the output stays greppable here.
# ruff: noqa: E501

from __future__ import annotations

from ...ir.model import IR
from ..common import type_index
from .namer import CSharpNamer
from .text import cs_string, doc_lines


def _msg(ir: IR, n: CSharpNamer, name: str) -> str:
    return n.type_name(type_index(ir).messages[name]["words"])


def services(ir: IR, n: CSharpNamer, header: str, ns: str) -> str:
    out = [header, "using System;", "using System.Collections.Generic;", "", f"namespace {ns}", "{"]
    out += [
        "    /// <summary>Which side streams.</summary>",
        "    public enum Streaming",
        "    {",
        "        /// <summary>One request, one response.</summary>",
        "        None,",
        "        /// <summary>The client streams requests.</summary>",
        "        Client,",
        "        /// <summary>The server streams responses.</summary>",
        "        Server,",
        "        /// <summary>Both stream.</summary>",
        "        Bidi,",
        "    }",
        "",
        "    /// <summary>The HTTP mapping of a method.</summary>",
        "    public sealed class HttpRule",
        "    {",
        "        /// <summary>GET, POST, ...</summary>",
        "        public string Method;",
        "        /// <summary>The path template.</summary>",
        "        public string Path;",
        "        /// <summary>Request fields named in the path.</summary>",
        "        public string[] PathParams;",
        '        /// <summary>"*", a field name, or null.</summary>',
        "        public string Body;",
        "    }",
        "",
        "    /// <summary>One RPC method.</summary>",
        "    public sealed class MethodDescriptor",
        "    {",
        "        /// <summary>The service's IDL name.</summary>",
        "        public string Service;",
        "        /// <summary>The method's IDL name.</summary>",
        "        public string Name;",
        "        /// <summary>The method ID (unique across the API).</summary>",
        "        public uint Id;",
        "        /// <summary>The request message type.</summary>",
        "        public Type Request;",
        "        /// <summary>The response message type.</summary>",
        "        public Type Response;",
        "        /// <summary>Safe to retry.</summary>",
        "        public bool Idempotent;",
        "        /// <summary>Which side streams.</summary>",
        "        public Streaming Streaming;",
        "        /// <summary>The HTTP mapping, or null.</summary>",
        "        public HttpRule Http;",
        "        /// <summary>The method's documentation.</summary>",
        "        public string Doc;",
        "    }",
        "",
        "    /// <summary>One service and its methods.</summary>",
        "    public sealed class ServiceDescriptor",
        "    {",
        "        /// <summary>The IDL name.</summary>",
        "        public string Name;",
        "        /// <summary>True for a legacy (envelope-only) service.</summary>",
        "        public bool Legacy;",
        "        /// <summary>The methods, in IDL order.</summary>",
        "        public MethodDescriptor[] Methods;",
        "        /// <summary>Method IDs this service reserves (inclusive ranges).</summary>",
        "        public uint[][] ReservedIds;",
        "        /// <summary>Method names this service reserves.</summary>",
        "        public string[] ReservedNames;",
        "    }",
        "",
        "    /// <summary>Method ID constants: the envelope's method_id of each method.</summary>",
        "    public static class MethodIds",
        "    {",
    ]
    for s in ir["services"]:
        for m in s["methods"]:
            out += doc_lines(f"{s['name']}.{m['name']}: {m['doc']}", 8)
            out.append(f"        public const uint {n.method_const(s['words'], m['words'])} = {m['id']};")
    out += [
        "    }",
        "",
        "    /// <summary>Every service of the API.</summary>",
        "    public static class Services",
        "    {",
    ]
    for s in ir["services"]:
        out += doc_lines(s["doc"] or s["name"], 8)
        out += [
            f"        public static readonly ServiceDescriptor {n.type_name(s['words'])} = new ServiceDescriptor",
            "        {",
        ]
        out.append(f"            Name = {cs_string(s['name'])},")
        out.append(f"            Legacy = {'true' if s['legacy'] else 'false'},")
        ranges = ", ".join(f"new uint[] {{ {lo}, {hi} }}" for lo, hi in s["reserved_ids"])
        out.append(f"            ReservedIds = new uint[][] {{ {ranges} }},")
        out.append(
            "            ReservedNames = new string[] { " + ", ".join(cs_string(x) for x in s["reserved_names"]) + " },"
        )
        out += ["            Methods = new MethodDescriptor[]", "            {"]
        for m in s["methods"]:
            h = m["http"]
            http = "null"
            if h is not None:
                params = ", ".join(cs_string(x) for x in h["path_params"])
                body = cs_string(h["body"]) if h["body"] is not None else "null"
                http = (
                    f"new HttpRule {{ Method = {cs_string(h['method'])}, Path = {cs_string(h['path'])}, "
                    f"PathParams = new string[] {{ {params} }}, Body = {body} }}"
                )
            out += [
                "                new MethodDescriptor",
                "                {",
                f"                    Service = {cs_string(s['name'])},",
                f"                    Name = {cs_string(m['name'])},",
                f"                    Id = MethodIds.{n.method_const(s['words'], m['words'])},",
                f"                    Request = typeof({_msg(ir, n, m['request'])}),",
                f"                    Response = typeof({_msg(ir, n, m['response'])}),",
                f"                    Idempotent = {'true' if m['idempotent'] else 'false'},",
                f"                    Streaming = Streaming.{m['streaming'].capitalize()},",
                f"                    Http = {http},",
                f"                    Doc = {cs_string(m['doc'])},",
                "                },",
            ]
        out += ["            },", "        };", ""]
    names = ", ".join(n.type_name(s["words"]) for s in ir["services"])
    out += [
        "        /// <summary>All services, in IDL order.</summary>",
        f"        public static readonly ServiceDescriptor[] All = {{ {names} }};",
        "",
        "        /// <summary>The method with this ID, or null.</summary>",
        "        public static MethodDescriptor ById(uint id)",
        "        {",
        "            foreach (var s in All)",
        "            {",
        "                foreach (var m in s.Methods)",
        "                {",
        "                    if (m.Id == id)",
        "                    {",
        "                        return m;",
        "                    }",
        "                }",
        "            }",
        "            return null;",
        "        }",
        "",
        '        /// <summary>True when <paramref name="id"/> is reserved by any service (never reuse it).</summary>',
        "        public static bool IsReservedId(uint id)",
        "        {",
        "            foreach (var s in All)",
        "            {",
        "                foreach (var r in s.ReservedIds)",
        "                {",
        "                    if (id >= r[0] && id <= r[1])",
        "                    {",
        "                        return true;",
        "                    }",
        "                }",
        "            }",
        "            return false;",
        "        }",
        "    }",
        "}",
        "",
    ]
    return "\n".join(out)


def bridges(ir: IR, n: CSharpNamer, header: str, ns: str) -> str:
    out = [header, "using System;", "using System.Collections.Generic;", "", f"namespace {ns}", "{"]
    out += [
        "    /// <summary>A kind of MoQT track: how its objects are delivered and prioritized.</summary>",
        "    public sealed class TrackKind",
        "    {",
        "        /// <summary>audio, video, frame or text.</summary>",
        "        public string Name;",
        "        /// <summary>subgroup and/or datagram.</summary>",
        "        public string[] Delivery;",
        "        /// <summary>per_track or per_object.</summary>",
        "        public string Priority;",
        "        /// <summary>Documentation.</summary>",
        "        public string Doc;",
        "    }",
        "",
        "    /// <summary>Media bridges, track kinds and the tenant token.</summary>",
        "    public static class Bridges",
        "    {",
        "        /// <summary>Track kind name to kind.</summary>",
        "        public static readonly Dictionary<string, TrackKind> TrackKinds = new Dictionary<string, TrackKind>",
        "        {",
    ]
    for k in ir["track_kinds"]:
        deliv = ", ".join(cs_string(d) for d in k["delivery"])
        out.append(
            f"            {{ {cs_string(k['name'])}, new TrackKind {{ Name = {cs_string(k['name'])}, Delivery = new string[] {{ {deliv} }}, "
            f"Priority = {cs_string(k['priority'])}, Doc = {cs_string(k['doc'])} }} }},"
        )
    out.append("        };")
    auth = ir["auth"]
    if auth is not None:
        out += [
            "",
            *doc_lines(f"How a tenant token is encoded. {auth['doc']}", 8),
            f"        public const string AuthScheme = {cs_string(auth['scheme'])};",
            "",
            "        /// <summary>The message type of the token's claims.</summary>",
            f"        public static readonly Type AuthClaims = typeof({_msg(ir, n, auth['claims'])});",
        ]
    out.append("    }")
    codec = next((e for e in ir["enums"] if e["words"] == ["codec"]), None)
    for b in ir["bridges"]:
        cls = n.type_name(b["words"])
        out += ["", *doc_lines(b["doc"] or b["name"], 4), f"    public static class {cls}", "    {"]
        out += [
            "        /// <summary>The bridge's IDL name.</summary>",
            f"        public const string Name = {cs_string(b['name'])};",
            "        /// <summary>The namespace template.</summary>",
            f"        public const string NamespaceTemplate = {cs_string(b['namespace'])};",
            "        /// <summary>The capability template.</summary>",
            f"        public const string CapabilityTemplate = {cs_string(b['capability'])};",
            "",
            '        /// <summary>The MoQT namespace of the call <paramref name="sid"/>.</summary>',
            "        public static string Namespace(string sid)",
            "        {",
            '            return NamespaceTemplate.Replace("{sid}", sid);',
            "        }",
        ]
        for t in b["tracks"]:
            example = b["namespace"].replace("{sid}", "CA12") + "/" + t["name"]
            out += [
                "",
                *doc_lines(f"The {t['name']} track ({t['kind']}) of call sid, e.g. {example}. {t['doc']}", 8),
                f"        public static string {n.member([*t['words'], 'track'])}(string sid)",
                "        {",
                f"            return Namespace(sid) + {cs_string('/' + t['name'])};",
                "        }",
            ]
        out += ["", "        /// <summary>Tracks a role publishes, by role name.</summary>"]
        out.append(
            "        public static readonly Dictionary<string, string[]> RolePublishes = new Dictionary<string, string[]>"
        )
        out.append("        {")
        for r in b["roles"]:
            out.append(
                f"            {{ {cs_string(r['name'])}, new string[] {{ {', '.join(cs_string(x) for x in r['publish'])} }} }},"
            )
        out += ["        };", "", "        /// <summary>Tracks a role subscribes, by role name.</summary>"]
        out.append(
            "        public static readonly Dictionary<string, string[]> RoleSubscribes = new Dictionary<string, string[]>"
        )
        out.append("        {")
        for r in b["roles"]:
            out.append(
                f"            {{ {cs_string(r['name'])}, new string[] {{ {', '.join(cs_string(x) for x in r['subscribe'])} }} }},"
            )
        out.append("        };")
        if "{codec}" in b["capability"] and codec is not None:
            ccls = n.type_name(codec["words"])
            example = b["capability"].replace("{codec}", "opus")
            out += [
                "",
                f'        /// <summary>The capability tag of a track carrying <paramref name="codec"/>, e.g. {example}.</summary>',
            ]
            out += [
                f"        public static string Capability({ccls} codec)",
                "        {",
                "            switch (codec)",
                "            {",
            ]
            for v in codec["values"]:
                tag = b["capability"].replace("{codec}", v["name"])
                out.append(f"                case {ccls}.{n.member(v['words'])}: return {cs_string(tag)};")
            out += [
                '                default: throw new ArgumentException("unknown codec " + (int)codec);',
                "            }",
                "        }",
            ]
        out.append("    }")
    out += ["}", ""]
    return "\n".join(out)


def registry(ir: IR, n: CSharpNamer, header: str, ns: str) -> str:
    out = [header, "using System;", "using System.Collections.Generic;", "", f"namespace {ns}", "{"]
    out += [
        "    /// <summary>Message types by IDL name (for generic tools such as the conformance testee).</summary>",
        "    public static class Messages",
        "    {",
        "        /// <summary>A new empty message of the type with this IDL name, or null.</summary>",
        "        public static Message New(string name)",
        "        {",
        "            switch (name)",
        "            {",
    ]
    for m in ir["messages"]:
        out.append(f"                case {cs_string(m['name'])}: return new {n.type_name(m['words'])}();")
    out += [
        "                default: return null;",
        "            }",
        "        }",
        "",
        "        /// <summary>Every IDL message name.</summary>",
    ]
    out.append(
        "        public static readonly string[] Names = { "
        + ", ".join(cs_string(m["name"]) for m in ir["messages"])
        + " };"
    )
    out += ["    }", "}", ""]
    return "\n".join(out)


def wire_registry(ir: IR, n: CSharpNamer, header: str, ns: str) -> str:
    out = [header, "using System.Collections.Generic;", "", f"namespace {ns}.Wire", "{"]
    out += [
        "    /// <summary>Wire structs by <c>protocol.Struct</c> and stream parsers by <c>protocol.stream</c>.</summary>",
        "    public static class WireRegistry",
        "    {",
        "        /// <summary>The struct descriptor named <c>protocol.Struct</c>, or null.</summary>",
        "        public static WireStruct Struct(string name)",
        "        {",
        "            int dot = name.IndexOf('.');",
        "            WireProtocol p = dot < 0 ? null : Protocol(name.Substring(0, dot));",
        "            WireStruct s;",
        "            return p != null && p.Structs.TryGetValue(name.Substring(dot + 1), out s) ? s : null;",
        "        }",
        "",
        "        /// <summary>The protocol table with this IDL name, or null.</summary>",
        "        public static WireProtocol Protocol(string name)",
        "        {",
        "            switch (name)",
        "            {",
    ]
    for p in ir["wire"]:
        out.append(
            f"                case {cs_string(p['name'])}: return {n.namespace_part(p['words'])}.Protocol.Table;"
        )
    out += [
        "                default: return null;",
        "            }",
        "        }",
        "",
        "        /// <summary>A new parser of the stream named <c>protocol.stream</c>, or null.</summary>",
        "        public static StreamParser NewParser(string name)",
        "        {",
        "            int dot = name.IndexOf('.');",
        '            string stream = dot < 0 ? "" : name.Substring(dot + 1);',
        '            switch (dot < 0 ? "" : name.Substring(0, dot))',
        "            {",
    ]
    for p in ir["wire"]:
        out.append(
            f"                case {cs_string(p['name'])}: return {n.namespace_part(p['words'])}.Protocol.NewParser(stream);"
        )
    out += ["                default: return null;", "            }", "        }", "    }", "}", ""]
    return "\n".join(out)
