"""Java spellings of IR names, and the collisions the Java target would produce.

Types are PascalCase, fields/methods/locals lowerCamelCase, constants UPPER_SNAKE and packages
lower case (`dev.clutchcall.v1.wire.moqt_d14`). Java keywords and literals get a trailing
underscore (`default` -> `default_`); accessor names that would override a final method of
`java.lang.Object` (`getClass`) are escaped the same way.
"""

from __future__ import annotations

from ...ir.model import IR, Enum, Message, WireProtocol
from ...ir.naming import lower_camel, pascal, snake, upper_snake
from ..base import NameClash
from ..common import NameScope, claim_method_constants, claim_types, escape_reserved, pointer

KEYWORDS = frozenset(
    [
        "abstract",
        "assert",
        "boolean",
        "break",
        "byte",
        "case",
        "catch",
        "char",
        "class",
        "const",
        "continue",
        "default",
        "do",
        "double",
        "else",
        "enum",
        "extends",
        "final",
        "finally",
        "float",
        "for",
        "goto",
        "if",
        "implements",
        "import",
        "instanceof",
        "int",
        "interface",
        "long",
        "native",
        "new",
        "package",
        "private",
        "protected",
        "public",
        "return",
        "short",
        "static",
        "strictfp",
        "super",
        "switch",
        "synchronized",
        "this",
        "throw",
        "throws",
        "transient",
        "try",
        "void",
        "volatile",
        "while",
        "true",
        "false",
        "null",
        "var",
        "record",
        "yield",
        "sealed",
        "permits",
    ]
)
# Locals and parameters the generated method bodies use next to field-derived names.
_LOCALS = frozenset(["r", "w", "end", "depth", "into", "tag", "start", "obj", "out", "value", "other", "o", "j"])

# Names every generated message class already has (interface methods and helpers).
MESSAGE_MEMBERS = frozenset(
    [
        "encode",
        "decode",
        "toJson",
        "toJsonString",
        "fromJson",
        "fromJsonString",
        "unknownFields",
        "writeTo",
        "decodeFrom",
        "fromJsonValue",
        "messageName",
        "getClass",
        "hashCode",
        "equals",
        "toString",
    ]
)
ENUM_MEMBERS = frozenset(
    [
        *("number", "jsonName", "forNumber", "forJsonName", "jsonNameOf", "canTransitionTo", "canTransition"),
        *("isTerminal", "isInitial", "values", "valueOf", "name", "ordinal"),
    ]
)
# Type names the package `dev.clutchcall.v1` defines next to the IDL's types.
PACKAGE_NAMES = frozenset(
    [
        "DecodeException",
        "EncodeException",
        "ProtoMessage",
        "MessageCodec",
        "Messages",
        "Services",
        "MethodDescriptor",
        "HttpRule",
        "Bridges",
        "Bridge",
        "BridgeTrack",
        "BridgeRole",
        "TrackKind",
        "Object",
        "String",
        "Override",
        "List",
        "Map",
        "Long",
        "Integer",
    ]
)
# Type names every wire protocol package defines next to the protocol's structs and code sets, and
# those its stream parsers use by simple name (the table types are members of their base class).
WIRE_PACKAGE_NAMES = frozenset(["Protocol", "Object", "String", "Override", "List", "Map", "Long", "Boolean"])
PARSER_NAMES = frozenset(["BufferedParser", "WireStruct", "Reason", "Table", "State", "Transition", "FrameHeader"])


def _escape(name: str) -> str:
    return escape_reserved(name, KEYWORDS | _LOCALS)


class JavaNamer:
    """The one place the Java target spells names."""

    def class_name(self, words: list[str]) -> str:
        return escape_reserved(pascal(words), KEYWORDS)

    def field_name(self, words: list[str]) -> str:
        return _escape(lower_camel(words))

    def const_name(self, words: list[str]) -> str:
        return escape_reserved(upper_snake(words), KEYWORDS)

    def package_name(self, words: list[str]) -> str:
        return escape_reserved(snake(words), KEYWORDS)

    def accessor(self, prefix: str, words: list[str]) -> str:
        """`get`/`set`/`has`/`clear` + PascalCase (`getClass` is escaped to `getClass_`)."""
        name = prefix + pascal(words)
        return name + "_" if name in ("getClass", "hashCode", "equals", "toString", "notify", "wait") else name

    def method_name(self, words: list[str]) -> str:
        return _escape(lower_camel(words))


def _check_message(n: JavaNamer, msg: Message, out: list[NameClash]) -> None:
    scope = NameScope(out, "Java", f"message {msg['name']}", {m: "a generated method" for m in MESSAGE_MEMBERS})
    fields = NameScope(out, "Java", f"the fields of message {msg['name']}")
    base = ("messages", msg["name"])
    for f in msg["fields"]:
        at = pointer(*base, "fields", f["name"])
        fields.claim(n.field_name(f["words"]), f"field {f['name']}", at)
        for prefix in ("get", "set", "has", "clear", "add"):
            scope.claim(n.accessor(prefix, f["words"]), f"an accessor of field {f['name']}", at)
        if f["type"]["kind"] == "enum":
            scope.claim(n.accessor("get", [*f["words"], "enum"]), f"the enum accessor of field {f['name']}", at)
        if f["default"] is not None:
            scope.claim(n.accessor("get", [*f["words"], "or", "default"]), f"the default of field {f['name']}", at)
    for o in msg["oneofs"]:
        at = pointer(*base, "oneofs", o["name"])
        scope.claim(n.accessor("get", [*o["words"], "case"]), f"the case accessor of oneof {o['name']}", at)
        scope.claim(n.class_name([*o["words"], "case"]), f"the case enum of oneof {o['name']}", at)


def _check_enum(n: JavaNamer, enum: Enum, out: list[NameClash]) -> None:
    scope = NameScope(out, "Java", f"enum {enum['name']}", {m: "a generated enum helper" for m in ENUM_MEMBERS})
    base = ("enums", enum["name"])
    for v in enum["values"]:
        scope.claim(n.const_name(v["words"]), f"value {v['name']}", pointer(*base, "values", v["name"]))
    for a in enum["attributes"]:
        scope.claim(n.method_name(a["words"]), f"attribute {a['name']}", pointer(*base, "attributes", a["name"]))


def _check_wire(n: JavaNamer, p: WireProtocol, out: list[NameClash]) -> None:
    base = ("wire", "protocols", p["name"])
    types = NameScope(
        out,
        "Java",
        f"package {n.package_name(p['words'])}",
        {t: "a name the package defines" for t in WIRE_PACKAGE_NAMES | PARSER_NAMES},
    )
    for c in p["codes"]:
        types.claim(n.class_name(c["words"]), f"code set {c['name']}", pointer(*base, "codes", c["name"]))
        consts = NameScope(out, "Java", f"code set {c['name']}", {"NAMES": "the name table"})
        for v in c["values"]:
            consts.claim(n.const_name(v["words"]), f"code {v['name']}", pointer(*base, "codes", c["name"], v["name"]))
    for s in p["structs"]:
        types.claim(n.class_name(s["words"]), f"struct {s['name']}", pointer(*base, "structs", s["name"]))
        fields = NameScope(out, "Java", f"struct {s['name']}", {m: "a generated method" for m in MESSAGE_MEMBERS})
        for f in s["fields"]:
            fields.claim(n.accessor("get", f["words"]), f"field {f['name']}", pointer(*base, "structs", s["name"]))
    for st in p["streams"]:
        types.claim(
            n.class_name([*st["words"], "parser"]), f"the parser of stream {st['name']}", pointer(*base, "streams")
        )


def check_java_names(ir: IR) -> list[NameClash]:
    n = JavaNamer()
    out: list[NameClash] = []
    types = NameScope(out, "Java", f"package {ir['package']}", {p: "a name the package defines" for p in PACKAGE_NAMES})
    claim_types(types, ir, n.class_name)
    for enum in ir["enums"]:
        _check_enum(n, enum, out)
    for msg in ir["messages"]:
        _check_message(n, msg, out)
    methods = NameScope(out, "Java", "the method constants of Services")
    claim_method_constants(methods, ir, lambda s, m: n.const_name(["method", *s, *m]))
    packages = NameScope(out, "Java", "package dev.clutchcall.v1.wire")
    for p in ir["wire"]:
        packages.claim(
            n.package_name(p["words"]), f"wire protocol {p['name']}", pointer("wire", "protocols", p["name"])
        )
        _check_wire(n, p, out)
    return out
