"""C++ spellings of IR names, and the collisions the C++ target would produce.

Types and enums are PascalCase (`CallStatus`), fields, functions and namespaces snake_case
(`created_at_ms`, `moqt_d14`), enumerators and constants `k` + PascalCase (`kInProgress`,
`kMethodVoiceCallsGet`). C++ keywords and a few standard macros get a trailing underscore.
"""

from __future__ import annotations

from ...ir.model import IR, Enum, Message, WireProtocol
from ..base import NameClash
from ..common import NameScope, claim_method_constants, claim_types, escape_reserved, pointer

KEYWORDS = frozenset(
    [
        "alignas",
        "alignof",
        "and",
        "and_eq",
        "asm",
        "auto",
        "bitand",
        "bitor",
        "bool",
        "break",
        "case",
        "catch",
        "char",
        "char8_t",
        "char16_t",
        "char32_t",
        "class",
        "compl",
        "concept",
        "const",
        "consteval",
        "constexpr",
        "constinit",
        "const_cast",
        "continue",
        "co_await",
        "co_return",
        "co_yield",
        "decltype",
        "default",
        "delete",
        "do",
        "double",
        "dynamic_cast",
        "else",
        "enum",
        "explicit",
        "export",
        "extern",
        "false",
        "float",
        "for",
        "friend",
        "goto",
        "if",
        "inline",
        "int",
        "long",
        "mutable",
        "namespace",
        "new",
        "noexcept",
        "not",
        "not_eq",
        "nullptr",
        "operator",
        "or",
        "or_eq",
        "private",
        "protected",
        "public",
        "register",
        "reinterpret_cast",
        "requires",
        "return",
        "short",
        "signed",
        "sizeof",
        "static",
        "static_assert",
        "static_cast",
        "struct",
        "switch",
        "template",
        "this",
        "thread_local",
        "throw",
        "true",
        "try",
        "typedef",
        "typeid",
        "typename",
        "union",
        "unsigned",
        "using",
        "virtual",
        "void",
        "volatile",
        "wchar_t",
        "while",
        "xor",
        "xor_eq",
        "errno",
        "assert",
        "NULL",
        "EOF",
    ]
)

# Names the package defines in namespace clutchcall next to the IDL's types.
PACKAGE_NAMES = frozenset(
    [
        "Bytes",
        "ByteVec",
        "Reason",
        "Error",
        "Status",
        "Result",
        "Arena",
        "Json",
        "MethodDescriptor",
        "HttpRule",
        "Streaming",
        "ServiceDescriptor",
        "Bridge",
        "BridgeTrack",
        "BridgeRole",
        "TrackKind",
        "MessageOps",
        "WireStructOps",
        "StreamOps",
        "WireArg",
        "pb",
        "pj",
        "quic",
        "wire",
    ]
)
# Members every generated message defines.
MESSAGE_MEMBERS = frozenset(
    [
        "kName",
        "unknown_fields",
        "encode",
        "encode_to",
        "encoded_size",
        "decode",
        "decode_from",
        "to_json",
        "from_json",
        "to_json_text",
        "from_json_text",
    ]
)
# Members every generated wire struct defines.
STRUCT_MEMBERS = frozenset(["kName", "Args", "encode", "encode_to", "decode", "decode_from", "to_json", "from_json"])


def _cap(w: str) -> str:
    return w[:1].upper() + w[1:]


class CppNamer:
    """The one place the C++ target spells names."""

    def type_name(self, words: list[str]) -> str:
        return escape_reserved("".join(_cap(w) for w in words), KEYWORDS)

    def field(self, words: list[str]) -> str:
        return escape_reserved("_".join(w.lower() for w in words), KEYWORDS)

    def func(self, words: list[str]) -> str:
        return self.field(words)

    def const(self, words: list[str]) -> str:
        return "k" + "".join(_cap(w) for w in words)

    def namespace(self, words: list[str]) -> str:
        return self.field(words)

    def which(self, words: list[str]) -> str:
        return "which_" + "_".join(words)

    def or_default(self, words: list[str]) -> str:
        return "_".join(words) + "_or_default"

    def oneof_case(self, words: list[str]) -> str:
        return self.type_name([*words, "case"])


def _check_message(n: CppNamer, msg: Message, out: list[NameClash]) -> None:
    scope = NameScope(out, "C++", f"message {msg['name']}", {m: "a generated member" for m in MESSAGE_MEMBERS})
    base = ("messages", msg["name"])
    for f in msg["fields"]:
        scope.claim(n.field(f["words"]), f"field {f['name']}", pointer(*base, "fields", f["name"]))
        if f["default"] is not None:
            scope.claim(
                n.or_default(f["words"]), f"the default accessor of {f['name']}", pointer(*base, "fields", f["name"])
            )
    for o in msg["oneofs"]:
        scope.claim(n.which(o["words"]), f"the case accessor of oneof {o['name']}", pointer(*base, "oneofs", o["name"]))
        scope.claim(
            n.oneof_case(o["words"]), f"the case enum of oneof {o['name']}", pointer(*base, "oneofs", o["name"])
        )


def _check_enum(n: CppNamer, enum: Enum, out: list[NameClash]) -> None:
    scope = NameScope(out, "C++", f"enum {enum['name']}")
    base = ("enums", enum["name"])
    for v in enum["values"]:
        scope.claim(n.const(v["words"]), f"value {v['name']}", pointer(*base, "values", v["name"]))


def _check_wire(n: CppNamer, p: WireProtocol, out: list[NameClash]) -> None:
    scope = NameScope(out, "C++", f"namespace wire::{n.namespace(p['words'])}")
    base = ("wire", "protocols", p["name"])
    for cs in p["codes"]:
        scope.claim(n.type_name(cs["words"]), f"code set {cs['name']}", pointer(*base, "codes", cs["name"]))
        consts = NameScope(
            out, "C++", f"code set {cs['name']}", {"name_of": "a generated member", "contains": "a generated member"}
        )
        for c in cs["values"]:
            consts.claim(
                n.const(c["words"]), f"code {c['name']}", pointer(*base, "codes", cs["name"], "values", c["name"])
            )
    for s in p["structs"]:
        at = pointer(*base, "structs", s["name"])
        scope.claim(n.type_name(s["words"]), f"struct {s['name']}", at)
        scope.claim(n.type_name([*s["words"], "args"]), f"the args type of struct {s['name']}", at)
        fields = NameScope(out, "C++", f"struct {s['name']}", {m: "a generated member" for m in STRUCT_MEMBERS})
        for f in s["fields"]:
            fields.claim(n.field(f["words"]), f"field {f['name']}", pointer(*base, "structs", s["name"], "fields"))
    for st in p["streams"]:
        at = pointer(*base, "streams", st["name"])
        scope.claim(n.type_name([*st["words"], "parser"]), f"the parser of stream {st['name']}", at)
        scope.claim(n.type_name([*st["words"], "item"]), f"the item type of stream {st['name']}", at)
        scope.claim(n.type_name([*st["words"], "grammar"]), f"the grammar of stream {st['name']}", at)


def check_cpp_names(ir: IR) -> list[NameClash]:
    n = CppNamer()
    out: list[NameClash] = []
    top = NameScope(out, "C++", f"namespace {ir['package']}", {p: "a name the package defines" for p in PACKAGE_NAMES})
    claim_types(top, ir, n.type_name)
    for enum in ir["enums"]:
        _check_enum(n, enum, out)
    for msg in ir["messages"]:
        _check_message(n, msg, out)
    claim_method_constants(NameScope(out, "C++", "the method constants"), ir, lambda s, m: n.const(["method", *s, *m]))
    protos = NameScope(out, "C++", "namespace wire")
    for p in ir["wire"]:
        protos.claim(n.namespace(p["words"]), f"protocol {p['name']}", pointer("wire", "protocols", p["name"]))
        _check_wire(n, p, out)
    return out
