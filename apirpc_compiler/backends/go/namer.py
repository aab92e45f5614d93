"""Go spellings of IR names, and the collisions the Go target would produce.

Exported identifiers are MixedCaps with Go's initialisms upper-cased (`agent_id` -> `AgentID`,
`http_status` -> `HTTPStatus`); unexported helpers are lowerCamel. Go keywords and predeclared
identifiers only matter for unexported names, which get a trailing underscore. Package names
are the protocol's words run together in lower case (`moqt_d14` -> `moqtd14`).
"""

from __future__ import annotations

from ...ir.model import IR, Enum, Message, WireProtocol
from ..base import NameClash
from ..common import NameScope, escape_reserved, pointer

KEYWORDS = frozenset(
    [
        "break",
        "case",
        "chan",
        "const",
        "continue",
        "default",
        "defer",
        "else",
        "fallthrough",
        "for",
        "func",
        "go",
        "goto",
        "if",
        "import",
        "interface",
        "map",
        "package",
        "range",
        "return",
        "select",
        "struct",
        "switch",
        "type",
        "var",
    ]
)
PREDECLARED = frozenset(
    [
        "any",
        "bool",
        "byte",
        "comparable",
        "complex64",
        "complex128",
        "error",
        "float32",
        "float64",
        "int",
        "int8",
        "int16",
        "int32",
        "int64",
        "rune",
        "string",
        "uint",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "uintptr",
        "true",
        "false",
        "iota",
        "nil",
        "append",
        "cap",
        "clear",
        "close",
        "complex",
        "copy",
        "delete",
        "imag",
        "len",
        "make",
        "max",
        "min",
        "new",
        "panic",
        "print",
        "println",
        "real",
        "recover",
    ]
)
RESERVED = KEYWORDS | PREDECLARED

INITIALISMS = frozenset(
    [
        "id",
        "ids",
        "http",
        "https",
        "url",
        "uri",
        "json",
        "api",
        "ip",
        "sip",
        "rtp",
        "rtcp",
        "ntp",
        "utf8",
        "quic",
        "tls",
        "ttl",
        "uuid",
        "xml",
        "html",
        "tcp",
        "udp",
        "alpn",
        "dto",
        # golint's list (lint.go commonInitialisms) and this domain's: AI, RPC, SDP, DTMF, VAD.
        "acl",
        "ascii",
        "cpu",
        "css",
        "dns",
        "eof",
        "guid",
        "lhs",
        "qps",
        "ram",
        "rhs",
        "sla",
        "smtp",
        "sql",
        "ssh",
        "ui",
        "uid",
        "vm",
        "xmpp",
        "xsrf",
        "xss",
        "ai",
        "rpc",
        "sdp",
        "dtmf",
        "vad",
    ]
)

# Methods every generated message has (a field spelled like one would not compile).
MESSAGE_METHODS = frozenset(
    [
        "MarshalBinary",
        "UnmarshalBinary",
        "MarshalJSON",
        "UnmarshalJSON",
        "UnmarshalProtoJSON",
        "MessageName",
        "AppendBinary",
        "UnknownFields",
        "Reset",
    ]
)
ENUM_METHODS = frozenset(["Enum", "String", "JSONName", "IsKnown", "CanTransition", "IsTerminal", "IsInitial"])
WIRE_METHODS = frozenset(["WireName", "MarshalJSON", "UnmarshalJSON", "AppendWire", "MarshalWire"])
# Names the root package defines next to the IDL's types.
PACKAGE_NAMES = frozenset(
    [
        "DecodeError",
        "EncodeError",
        "Reason",
        "Message",
        "NewMessage",
        "MessageNames",
        "MethodDescriptor",
        "ServiceDescriptor",
        "HTTPRule",
        "Services",
        "MethodByID",
        "TrackKind",
        "TrackKinds",
        "Bridge",
        "BridgeTrack",
        "BridgeRole",
        "Bridges",
        "AuthScheme",
        "AuthClaims",
        "Package",
        "NewRequestEnvelope",
        "Ptr",
        "Bool",
        "Int32",
        "Int64",
        "Uint32",
        "Uint64",
        "Float32",
        "Float64",
        "String",
    ]
)
WIRE_PACKAGE_NAMES = frozenset(
    ["Family", "Version", "ALPN", "Value", "Parser", "StructCodec", "StreamCodec", "Structs", "Streams"]
)


def _word(w: str) -> str:
    if w in INITIALISMS:
        return "IDs" if w == "ids" else w.upper()
    return w[:1].upper() + w[1:]


class GoNamer:
    """The one place the Go target spells names."""

    def exported(self, words: list[str]) -> str:
        name = "".join(_word(w) for w in words)
        if name[:1].isdigit():
            name = "X" + name
        return name

    def local(self, words: list[str]) -> str:
        e = self.exported(words)
        # Lower the leading initialism or word: AgentID -> agentID, HTTPStatus -> httpStatus.
        first = _word(words[0]) if words else ""
        name = first.lower() + e[len(first) :]
        return escape_reserved(name, RESERVED)

    def type_name(self, words: list[str]) -> str:
        return self.exported(words)

    def field_name(self, words: list[str]) -> str:
        return self.exported(words)

    def enum_const(self, enum_words: list[str], value_words: list[str]) -> str:
        return self.exported(enum_words + value_words)

    def getter(self, words: list[str]) -> str:
        return "Get" + self.exported(words)

    def which(self, words: list[str]) -> str:
        return "Which" + self.exported(words)

    def method_const(self, svc_words: list[str], m_words: list[str]) -> str:
        return "Method" + self.exported(svc_words + m_words)

    def service_var(self, svc_words: list[str]) -> str:
        return "Service" + self.exported(svc_words)

    def bridge_var(self, words: list[str]) -> str:
        return "Bridge" + self.exported(words)

    def package(self, words: list[str]) -> str:
        return escape_reserved("".join(words).lower(), RESERVED, suffix="pkg")

    def code_const(self, set_words: list[str], value_words: list[str]) -> str:
        return self.exported(set_words + value_words)


def _check_message(n: GoNamer, msg: Message, out: list[NameClash]) -> None:
    scope = NameScope(out, "Go", f"message {msg['name']}", {m: "a generated method" for m in MESSAGE_METHODS})
    base = ("messages", msg["name"])
    for f in msg["fields"]:
        scope.claim(n.field_name(f["words"]), f"field {f['name']}", pointer(*base, "fields", f["name"]))
    for f in msg["fields"]:
        if f["label"] == "optional" or f["oneof"]:
            scope.claim(n.getter(f["words"]), f"the getter of field {f['name']}", pointer(*base, "fields", f["name"]))
    for o in msg["oneofs"]:
        scope.claim(n.which(o["words"]), f"the case accessor of oneof {o['name']}", pointer(*base, "oneofs", o["name"]))


def _check_enum(n: GoNamer, enum: Enum, top: NameScope, out: list[NameClash]) -> None:
    base = ("enums", enum["name"])
    for v in enum["values"]:
        top.claim(
            n.enum_const(enum["words"], v["words"]),
            f"value {enum['name']}.{v['name']}",
            pointer(*base, "values", v["name"]),
        )
    methods = NameScope(out, "Go", f"enum {enum['name']}", {m: "a generated enum method" for m in ENUM_METHODS})
    for a in enum["attributes"]:
        methods.claim(n.exported(a["words"]), f"attribute {a['name']}", pointer(*base, "attributes", a["name"]))


def _check_wire(n: GoNamer, p: WireProtocol, out: list[NameClash]) -> None:
    scope = NameScope(
        out,
        "Go",
        f"package wire/{n.package(p['words'])}",
        {x: "a name the package defines" for x in WIRE_PACKAGE_NAMES},
    )
    base = ("wire", "protocols", p["name"])
    for cs in p["codes"]:
        for v in cs["values"]:
            scope.claim(
                n.code_const(cs["words"], v["words"]),
                f"code {cs['name']}.{v['name']}",
                pointer(*base, "codes", cs["name"], "values", v["name"]),
            )
    for s in p["structs"]:
        at = pointer(*base, "structs", s["name"])
        scope.claim(n.type_name(s["words"]), f"struct {s['name']}", at)
        scope.claim("Decode" + n.type_name(s["words"]), f"the decoder of struct {s['name']}", at)
        scope.claim("New" + n.type_name(s["words"]), f"the constructor of struct {s['name']}", at)
        if s["variants"]:
            scope.claim(n.type_name(s["words"]) + "Flags", f"the flags type of struct {s['name']}", at)
        methods = WIRE_METHODS | ({"TypeFlags"} if s["variants"] else frozenset())
        fields = NameScope(out, "Go", f"struct {s['name']}", {m: "a generated method" for m in methods})
        for f in s["fields"]:
            fields.claim(n.field_name(f["words"]), f"field {f['name']}", pointer(*base, "structs", s["name"], "fields"))
    for cs in p["codes"]:
        scope.claim(
            n.exported([*cs["words"], "name"]),
            f"the name lookup of code set {cs['name']}",
            pointer(*base, "codes", cs["name"]),
        )
    for st in p["streams"]:
        at = pointer(*base, "streams", st["name"])
        scope.claim(n.exported([*st["words"], "parser"]), f"the parser of stream {st['name']}", at)
        scope.claim("New" + n.exported([*st["words"], "parser"]), f"the parser constructor of {st['name']}", at)
        scope.claim("Encode" + n.exported(st["words"]), f"the encoder of stream {st['name']}", at)


def check_go_names(ir: IR) -> list[NameClash]:
    n = GoNamer()
    out: list[NameClash] = []
    top = NameScope(out, "Go", f"package {ir['package']}", {p: "a name the package defines" for p in PACKAGE_NAMES})
    for enum in ir["enums"]:
        top.claim(n.type_name(enum["words"]), f"enum {enum['name']}", pointer("enums", enum["name"]))
        top.claim(
            n.type_name(enum["words"]) + "FromJSONName",
            f"the lookup of enum {enum['name']}",
            pointer("enums", enum["name"]),
        )
    for msg in ir["messages"]:
        top.claim(n.type_name(msg["words"]), f"message {msg['name']}", pointer("messages", msg["name"]))
        top.claim(
            "Decode" + n.type_name(msg["words"]),
            f"the decoder of message {msg['name']}",
            pointer("messages", msg["name"]),
        )
    for enum in ir["enums"]:
        _check_enum(n, enum, top, out)
    for msg in ir["messages"]:
        _check_message(n, msg, out)
    for svc in ir["services"]:
        top.claim(n.service_var(svc["words"]), f"service {svc['name']}", pointer("services", svc["name"]))
        for m in svc["methods"]:
            top.claim(
                n.method_const(svc["words"], m["words"]),
                f"method {svc['name']}.{m['name']}",
                pointer("services", svc["name"], "methods", m["name"]),
            )
    for b in ir["bridges"]:
        top.claim(n.bridge_var(b["words"]), f"bridge {b['name']}", pointer("bridges", b["name"]))
    pkgs = NameScope(out, "Go", "the wire/ directory")
    for p in ir["wire"]:
        pkgs.claim(n.package(p["words"]), f"protocol {p['name']}", pointer("wire", "protocols", p["name"]))
        _check_wire(n, p, out)
    return out
