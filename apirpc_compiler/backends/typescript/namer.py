"""TypeScript spellings of IR names, and the collisions the TypeScript target would produce.

Types and wire structs are PascalCase, properties and functions lowerCamelCase, constants
UPPER_SNAKE (enum values, code values, method IDs). Reserved words, and the names generated
classes already use for their own members, get a trailing underscore (`default` ->
`default_`).
"""

from __future__ import annotations

from ...ir.model import IR, Enum, Message, WireProtocol
from ...ir.naming import lower_camel, pascal, upper_snake
from ..base import NameClash
from ..common import NameScope, claim_method_constants, claim_types, escape_reserved, pointer

# ECMAScript reserved words, strict-mode and TypeScript contextual keywords that cannot name
# a binding, plus globals generated code refers to unqualified.
_RESERVED = frozenset(
    [
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "import",
        "in",
        "instanceof",
        "new",
        "null",
        "return",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "as",
        "implements",
        "interface",
        "let",
        "package",
        "private",
        "protected",
        "public",
        "static",
        "yield",
        "any",
        "boolean",
        "number",
        "string",
        "symbol",
        "bigint",
        "unknown",
        "never",
        "object",
        "type",
        "declare",
        "namespace",
        "module",
        "require",
        "await",
        "async",
        "constructor",
        "arguments",
        "eval",
        "undefined",
        "NaN",
        "Infinity",
        "Object",
        "Array",
        "Map",
        "Set",
        "Error",
        "Uint8Array",
        "BigInt",
        "Number",
        "String",
        "JSON",
        "Math",
    ]
)

# Members every generated message class has (base class Message and generated statics).
MESSAGE_MEMBERS = frozenset(
    [
        "encode",
        "decode",
        "toJson",
        "toJsonString",
        "fromJson",
        "fromJsonString",
        "equals",
        "unknownFields",
        "$type",
        "type",
        "prototype",
        "name",
        "length",
    ]
)
# Names the package itself defines next to the IDL's types.
PACKAGE_NAMES = frozenset(
    [
        "DecodeError",
        "EncodeError",
        "DecodeErrorReason",
        "Message",
        "MessageType",
        "FieldInfo",
        "EnumInfo",
        "JsonValue",
        "JsonObject",
        "MethodDescriptor",
        "ServiceDescriptor",
        "HttpRule",
        "Bridge",
        "BridgeRole",
        "BridgeTrack",
        "TrackKind",
        "Writer",
        "Reader",
    ]
)


class TsNamer:
    """The one place the TypeScript target spells names."""

    def type_name(self, words: list[str]) -> str:
        return escape_reserved(pascal(words), _RESERVED)

    def prop_name(self, words: list[str]) -> str:
        return escape_reserved(lower_camel(words), _RESERVED)

    def const_name(self, words: list[str]) -> str:
        return escape_reserved(upper_snake(words), _RESERVED)

    def file_name(self, words: list[str]) -> str:
        return "_".join(words)

    def or_default_name(self, words: list[str]) -> str:
        return lower_camel([*words, "or", "default"])

    def enum_fn(self, enum_words: list[str], what: list[str]) -> str:
        """A helper function of an enum: callStatusCanTransition, errorCodeHttpStatus."""
        return lower_camel([*enum_words, *what])


def _check_message(n: TsNamer, msg: Message, out: list[NameClash]) -> None:
    scope = NameScope(out, "TypeScript", f"class {msg['name']}", {m: "a generated member" for m in MESSAGE_MEMBERS})
    base = ("messages", msg["name"])
    for o in msg["oneofs"]:
        scope.claim(n.prop_name(o["words"]), f"oneof {o['name']}", pointer(*base, "oneofs", o["name"]))
    for f in msg["fields"]:
        if f["oneof"] is None:
            scope.claim(n.prop_name(f["words"]), f"field {f['name']}", pointer(*base, "fields", f["name"]))
    for f in msg["fields"]:
        if f["default"] is not None:
            scope.claim(
                n.or_default_name(f["words"]),
                f"the default accessor of field {f['name']}",
                pointer(*base, "fields", f["name"]),
            )
    for o in msg["oneofs"]:
        cases = NameScope(out, "TypeScript", f"the cases of oneof {msg['name']}.{o['name']}")
        for f in msg["fields"]:
            if f["oneof"] == o["name"]:
                cases.claim(n.prop_name(f["words"]), f"field {f['name']}", pointer(*base, "fields", f["name"]))


def _check_enum(n: TsNamer, enum: Enum, out: list[NameClash]) -> None:
    scope = NameScope(out, "TypeScript", f"enum {enum['name']}")
    base = ("enums", enum["name"])
    for v in enum["values"]:
        scope.claim(n.const_name(v["words"]), f"value {v['name']}", pointer(*base, "values", v["name"]))


def _check_wire(n: TsNamer, p: WireProtocol, out: list[NameClash]) -> None:
    base = ("wire", "protocols", p["name"])
    names = NameScope(out, "TypeScript", f"module wire/{n.file_name(p['words'])}.ts")
    for c in p["codes"]:
        names.claim(n.type_name(c["words"]), f"code set {c['name']}", pointer(*base, "codes", c["name"]))
        values = NameScope(out, "TypeScript", f"code set {c['name']}")
        for v in c["values"]:
            values.claim(n.const_name(v["words"]), f"code {v['name']}", pointer(*base, "codes", c["name"], v["name"]))
    for s in p["structs"]:
        names.claim(n.type_name(s["words"]), f"struct {s['name']}", pointer(*base, "structs", s["name"]))
        props = NameScope(out, "TypeScript", f"struct {s['name']}")
        for f in s["fields"]:
            props.claim(n.prop_name(f["words"]), f"field {f['name']}", pointer(*base, "structs", s["name"]))
    for st in p["streams"]:
        names.claim(
            n.prop_name([*st["words"], "stream"]), f"stream {st['name']}", pointer(*base, "streams", st["name"])
        )


def check_typescript_names(ir: IR) -> list[NameClash]:
    n = TsNamer()
    out: list[NameClash] = []
    types = NameScope(
        out, "TypeScript", f"package {ir['package']}", {p: "a name the package defines" for p in PACKAGE_NAMES}
    )
    claim_types(types, ir, n.type_name)
    funcs = NameScope(out, "TypeScript", "the enum helpers of enums.ts")
    for enum in ir["enums"]:
        _check_enum(n, enum, out)
        for a in enum["attributes"]:
            funcs.claim(
                n.enum_fn(enum["words"], a["words"]),
                f"attribute {a['name']} of enum {enum['name']}",
                pointer("enums", enum["name"], "attributes", a["name"]),
            )
    for msg in ir["messages"]:
        _check_message(n, msg, out)
    methods = NameScope(out, "TypeScript", "the method constants of services.ts")
    claim_method_constants(methods, ir, lambda s, m: n.const_name(["method", *s, *m]))
    for p in ir["wire"]:
        _check_wire(n, p, out)
    return out
