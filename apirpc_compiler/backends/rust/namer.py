"""Rust spellings of IR names, and the collisions the Rust target would produce.

Types and enum-like constants' owners are PascalCase, fields/functions/modules snake_case,
constants UPPER_SNAKE (RFC 430). Keywords become raw identifiers (`r#type`), except the few
that cannot be raw (`self`, `super`, `crate`, `Self`), which take a trailing underscore.
"""

from __future__ import annotations

from ...ir.model import IR, Enum, Message
from ...ir.naming import pascal, snake, upper_snake
from ..base import NameClash
from ..common import NameScope, claim_method_constants, claim_types, escape_reserved, pointer

_KEYWORD_TEXT = """
as async await break const continue crate dyn else enum extern false fn for if impl in let loop match
mod move mut pub ref return self Self static struct super trait true type unsafe use where while
abstract become box do final gen macro override priv try typeof unsized virtual yield
"""
KEYWORDS = frozenset(_KEYWORD_TEXT.split())
# Keywords that `r#` cannot escape.
_NOT_RAW = frozenset(["self", "Self", "super", "crate"])
# Type names the package defines next to the IDL's own (and prelude types generated code uses).
PACKAGE_NAMES = frozenset(
    [
        "DecodeError",
        "DecodeErrorReason",
        "EncodeError",
        "Message",
        "MethodDescriptor",
        "ServiceDescriptor",
        "HttpRule",
        "Streaming",
        "Bridge",
        "BridgeTrack",
        "BridgeRole",
        "TrackKind",
        "Value",
        "Cursor",
        "Option",
        "Result",
        "Vec",
        "String",
        "Box",
        "Some",
        "None",
        "Ok",
        "Err",
        "Default",
    ]
)
# Members every message struct has besides its fields.
MESSAGE_MEMBERS = frozenset(["unknown_fields"])
# Associated functions/methods generated on every message.
MESSAGE_METHODS = frozenset(
    ["decode", "encode", "encode_to", "merge_from", "to_json", "write_json", "from_json", "from_json_value"]
)
ENUM_METHODS = frozenset(["json_name", "from_json_name", "is_known", "name", "values", "can_transition", "is_terminal"])


class RustNamer:
    """The one place the Rust target spells names."""

    def type_name(self, words: list[str]) -> str:
        name = pascal(words)
        return name + "_" if name in _NOT_RAW else name

    def field_name(self, words: list[str]) -> str:
        return self.escape(snake(words))

    def fn_name(self, words: list[str]) -> str:
        return self.escape(snake(words))

    def const_name(self, words: list[str]) -> str:
        return escape_reserved(upper_snake(words), _NOT_RAW)

    def escape(self, name: str) -> str:
        if name in _NOT_RAW:
            return name + "_"
        return "r#" + name if name in KEYWORDS else name

    def plain(self, name: str) -> str:
        """A name without its raw prefix (for composing longer identifiers)."""
        return name[2:] if name.startswith("r#") else name


def _check_message(n: RustNamer, msg: Message, out: list[NameClash]) -> None:
    taken = {m: "a generated member" for m in MESSAGE_MEMBERS | MESSAGE_METHODS}
    scope = NameScope(out, "Rust", f"message {msg['name']}", taken)
    base = ("messages", msg["name"])
    oneof_fields = {f for o in msg["oneofs"] for f in o["fields"]}
    for f in msg["fields"]:
        if f["name"] in oneof_fields:
            continue
        scope.claim(n.plain(n.field_name(f["words"])), f"field {f['name']}", pointer(*base, "fields", f["name"]))
    for o in msg["oneofs"]:
        scope.claim(n.plain(n.field_name(o["words"])), f"oneof {o['name']}", pointer(*base, "oneofs", o["name"]))
    for f in msg["fields"]:
        if f["default"] is not None:
            scope.claim(
                n.plain(n.fn_name([*f["words"], "or", "default"])),
                f"the default accessor of field {f['name']}",
                pointer(*base, "fields", f["name"]),
            )
    for o in msg["oneofs"]:
        cases = NameScope(out, "Rust", f"oneof {msg['name']}.{o['name']}")
        for fname in o["fields"]:
            f = next(x for x in msg["fields"] if x["name"] == fname)
            cases.claim(n.type_name(f["words"]), f"field {fname}", pointer(*base, "fields", fname))


def _check_enum(n: RustNamer, enum: Enum, out: list[NameClash]) -> None:
    scope = NameScope(out, "Rust", f"enum {enum['name']}", {m.upper(): "a generated constant" for m in ["ALL"]})
    base = ("enums", enum["name"])
    for v in enum["values"]:
        scope.claim(n.const_name(v["words"]), f"value {v['name']}", pointer(*base, "values", v["name"]))
    methods = NameScope(out, "Rust", f"enum {enum['name']}", {m: "a generated method" for m in ENUM_METHODS})
    for a in enum["attributes"]:
        methods.claim(n.plain(n.fn_name(a["words"])), f"attribute {a['name']}", pointer(*base, "attributes", a["name"]))


def check_rust_names(ir: IR) -> list[NameClash]:
    n = RustNamer()
    out: list[NameClash] = []
    types = NameScope(out, "Rust", f"crate {ir['package']}", {p: "a name the crate defines" for p in PACKAGE_NAMES})
    claim_types(types, ir, n.type_name)
    for msg in ir["messages"]:
        for o in msg["oneofs"]:
            types.claim(
                n.type_name([*msg["words"], *o["words"]]),
                f"the type of oneof {msg['name']}.{o['name']}",
                pointer("messages", msg["name"], "oneofs", o["name"]),
            )
    for enum in ir["enums"]:
        _check_enum(n, enum, out)
    for msg in ir["messages"]:
        _check_message(n, msg, out)
    methods = NameScope(out, "Rust", "the method constants of services.rs")
    claim_method_constants(methods, ir, lambda s, m: n.const_name(["method", *s, *m]))
    runtime = {x: "a runtime type of the wire modules" for x in ("Reader", "Frame", "State", "Stream", "Transition")}
    item = {"framed": "message", "header_objects": "item"}
    for p in ir["wire"]:
        scope = NameScope(out, "Rust", f"wire module {p['name']}", dict(runtime))
        at = ("wire", "protocols", p["name"])
        for s in p["structs"]:
            scope.claim(n.type_name(s["words"]), f"struct {s['name']}", pointer(*at, "structs", s["name"]))
        for c in p["codes"]:
            scope.claim(n.type_name(c["words"]), f"code set {c['name']}", pointer(*at, "codes", c["name"]))
        for st in p["streams"]:
            where = pointer(*at, "streams", st["name"])
            scope.claim(n.type_name([*st["words"], "parser"]), f"the parser of stream {st['name']}", where)
            if st["kind"] in item:
                scope.claim(n.type_name([*st["words"], item[st["kind"]]]), f"the items of stream {st['name']}", where)
    return out
