"""C# spellings of IR names, and the collisions the C# target would produce.

Types, properties, methods, enum members and constants are PascalCase (the .NET design
guidelines); locals and parameters are camelCase and escaped with `@` when they are keywords.
A member spelled like its enclosing type is not allowed in C# (CS0542), so it is reported.
"""

from __future__ import annotations

from ...ir.model import IR, Enum, Message
from ...ir.naming import lower_camel, pascal
from ..base import NameClash
from ..common import NameScope, claim_method_constants, escape_reserved, pointer

# C# keywords (contextual ones only matter for locals; escaping them with @ is always legal).
KEYWORDS = frozenset(
    """
    abstract as base bool break byte case catch char checked class const continue decimal default
    delegate do double else enum event explicit extern false finally fixed float for foreach goto if
    implicit in int interface internal is lock long namespace new null object operator out override
    params private protected public readonly ref return sbyte sealed short sizeof stackalloc static
    string struct switch this throw true try typeof uint ulong unchecked unsafe ushort using virtual
    void volatile while add alias ascending async await by descending dynamic equals from get global
    group into join let nameof on orderby partial remove select set value var when where yield
    """.split()  # noqa: SIM905 (a word list reads better than 110 quoted strings)
)

# Public members every generated message has (the Message base class and generated helpers).
MESSAGE_MEMBERS = frozenset(
    [
        "Encode",
        "Decode",
        "MergeFrom",
        "ToJson",
        "ToJsonValue",
        "FromJson",
        "MergeJson",
        "MergeJsonValue",
        "UnknownFields",
        "Unknown",
        "MaxMessageSize",
        "Equals",
        "GetHashCode",
        "ToString",
        "GetType",
        "WriteTo",
        "ToJsonObject",
        "KnownNumbers",
    ]
)
# Names the generated package defines next to the IDL's types (namespace ClutchCall.V1).
PACKAGE_NAMES = frozenset(
    [
        "DecodeException",
        "EncodeException",
        "DecodeErrorReason",
        "DecodeErrorReasons",
        "Message",
        "Json",
        "JsonNumber",
        "JsonObject",
        "ProtoJson",
        "ProtoReader",
        "ProtoWriter",
        "Bits",
        "Utf8",
        "MessageType",
        "Messages",
        "Services",
        "ServiceDescriptor",
        "MethodDescriptor",
        "HttpRule",
        "Streaming",
        "Bridges",
        "BridgeDescriptor",
        "BridgeTrack",
        "BridgeRole",
        "TrackKind",
        "MethodIds",
        "Wire",
        "Quic",
    ]
)


def _type_name(words: list[str]) -> str:
    return pascal(words)


class CSharpNamer:
    """The one place the C# target spells names."""

    def type_name(self, words: list[str]) -> str:
        return _type_name(words)

    def member(self, words: list[str]) -> str:
        # PascalCase never collides with a (lower-case) C# keyword.
        return pascal(words)

    def local(self, words: list[str]) -> str:
        return escape_reserved(lower_camel(words), KEYWORDS, suffix="", prefix="@")

    def or_default(self, words: list[str]) -> str:
        return pascal(words) + "OrDefault"

    def case_property(self, words: list[str]) -> str:
        return pascal(words) + "Case"

    def case_enum(self, words: list[str]) -> str:
        return pascal(words) + "OneofCase"

    def method_const(self, service_words: list[str], method_words: list[str]) -> str:
        return pascal(service_words) + pascal(method_words)

    def namespace_part(self, words: list[str]) -> str:
        return pascal(words)


def _check_message(n: CSharpNamer, msg: Message, cls: str, out: list[NameClash]) -> None:
    taken = {m: "a generated member" for m in MESSAGE_MEMBERS}
    taken[cls] = "the enclosing type (CS0542)"
    scope = NameScope(out, "C#", f"message {msg['name']}", taken)
    base = ("messages", msg["name"])
    for f in msg["fields"]:
        scope.claim(n.member(f["words"]), f"field {f['name']}", pointer(*base, "fields", f["name"]))
    for f in msg["fields"]:
        if f["default"] is not None:
            scope.claim(
                n.or_default(f["words"]),
                f"the default accessor of field {f['name']}",
                pointer(*base, "fields", f["name"]),
            )
    for o in msg["oneofs"]:
        at = pointer(*base, "oneofs", o["name"])
        scope.claim(n.case_property(o["words"]), f"the case accessor of oneof {o['name']}", at)
        scope.claim(n.case_enum(o["words"]), f"the case enum of oneof {o['name']}", at)


def _check_enum(n: CSharpNamer, enum: Enum, cls: str, out: list[NameClash]) -> None:
    scope = NameScope(out, "C#", f"enum {enum['name']}", {cls: "the enclosing type (CS0542)"})
    base = ("enums", enum["name"])
    for v in enum["values"]:
        scope.claim(n.member(v["words"]), f"value {v['name']}", pointer(*base, "values", v["name"]))
    helpers = NameScope(
        out,
        "C#",
        f"the extension methods of enum {enum['name']}",
        {
            m: "a generated enum helper"
            for m in ["JsonName", "IsKnown", "CanTransition", "IsTerminal", "IsInitial", "FromJsonName"]
        },
    )
    for a in enum["attributes"]:
        helpers.claim(n.member(a["words"]), f"attribute {a['name']}", pointer(*base, "attributes", a["name"]))


def check_csharp_names(ir: IR) -> list[NameClash]:
    n = CSharpNamer()
    out: list[NameClash] = []
    types = NameScope(
        out, "C#", f"namespace of {ir['package']}", {p: "a name the package defines" for p in PACKAGE_NAMES}
    )
    for enum in ir["enums"]:
        types.claim(n.type_name(enum["words"]), f"enum {enum['name']}", pointer("enums", enum["name"]))
        types.claim(
            n.type_name(enum["words"]) + "Extensions",
            f"the helpers of enum {enum['name']}",
            pointer("enums", enum["name"]),
        )
    for msg in ir["messages"]:
        types.claim(n.type_name(msg["words"]), f"message {msg['name']}", pointer("messages", msg["name"]))
    for enum in ir["enums"]:
        _check_enum(n, enum, n.type_name(enum["words"]), out)
    for msg in ir["messages"]:
        _check_message(n, msg, n.type_name(msg["words"]), out)
    methods = NameScope(out, "C#", "class MethodIds")
    claim_method_constants(methods, ir, n.method_const)
    protocols = NameScope(out, "C#", "namespace Wire")
    for p in ir["wire"]:
        protocols.claim(
            n.namespace_part(p["words"]), f"wire protocol {p['name']}", pointer("wire", "protocols", p["name"])
        )
        scope = NameScope(
            out,
            "C#",
            f"namespace Wire.{n.namespace_part(p['words'])}",
            {"Protocol": "the generated protocol descriptor class"},
        )
        for s in p["structs"]:
            scope.claim(
                n.type_name(s["words"]),
                f"struct {s['name']}",
                pointer("wire", "protocols", p["name"], "structs", s["name"]),
            )
        for c in p["codes"]:
            scope.claim(
                n.type_name(c["words"]),
                f"code set {c['name']}",
                pointer("wire", "protocols", p["name"], "codes", c["name"]),
            )
        for s in p["structs"]:
            cls = n.type_name(s["words"])
            fields = NameScope(
                out,
                "C#",
                f"wire struct {p['name']}.{s['name']}",
                {cls: "the enclosing type (CS0542)", "Decode": "a generated member", "Encode": "a generated member"},
            )
            for f in s["fields"]:
                fields.claim(
                    n.member(f["words"]),
                    f"field {f['name']}",
                    pointer("wire", "protocols", p["name"], "structs", s["name"], "fields", f["name"]),
                )
    return out
