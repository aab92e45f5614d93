"""Python spellings of IR names, and the collisions the Python target would produce.

Types are PascalCase, attributes/functions/modules snake_case, constants UPPER_SNAKE. Keywords,
soft keywords and the few builtins that generated code relies on inside its own classes get a
trailing underscore (`from` -> `from_`), as PEP 8 recommends.
"""

from __future__ import annotations

import keyword

from ...ir.model import IR, Enum, Message
from ...ir.naming import pascal, snake, upper_snake
from ..base import NameClash
from ..common import NameScope, claim_method_constants, claim_types, pointer

# Builtins that generated code names inside class bodies and methods (annotations, helpers):
# an attribute or parameter spelled like one of them would shadow it there.
_SHADOWING = frozenset(
    [
        "self",
        "cls",
        "bool",
        "bytes",
        "int",
        "float",
        "str",
        "list",
        "dict",
        "object",
        "type",
        "isinstance",
        "len",
        "super",
        "property",
        "classmethod",
        "staticmethod",
        "print",
        "None",
        "True",
        "False",
    ]
)
_RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | _SHADOWING
# Builtins that rpc.py only ever names through `_builtins.`, so a service method may take their spelling.
_RPC_SAFE = frozenset(["list", "dict"])

# Public names every message class has (base class `Message` and generated methods).
MESSAGE_METHODS = frozenset(["encode", "decode", "to_json", "to_json_str", "from_json", "from_json_str"])
# Names an IntEnum class already uses, plus the helpers generated on every enum.
ENUM_MEMBERS = frozenset(
    [
        "name",
        "value",
        "from_number",
        "is_known",
        "from_json_name",
        "json_name",
        "can_transition",
        "is_terminal",
        "is_initial",
        "mro",
    ]
)
# Names the package itself defines next to the IDL's types (errors, services, bridges, bases).
PACKAGE_NAMES = frozenset(
    [
        "DecodeError",
        "EncodeError",
        "DecodeErrorReason",
        "MethodDescriptor",
        "Message",
        "HttpRule",
        "BridgeRole",
        "BridgeTrack",
        "Bridge",
        "TrackKind",
    ]
)


def _escape(name: str) -> str:
    return name + "_" if name in _RESERVED else name


class PythonNamer:
    """The one place the Python target spells names (the wire module uses it too)."""

    def class_name(self, words: list[str]) -> str:
        return _escape(pascal(words))

    def attr_name(self, words: list[str]) -> str:
        return _escape(snake(words))

    def const_name(self, words: list[str]) -> str:
        return _escape(upper_snake(words))

    def method_name(self, words: list[str]) -> str:
        """A service method in rpc.py: `list` stays `list`, since that module spells the builtin `_builtins.list`."""
        name = snake(words)
        return name if name in _RPC_SAFE else _escape(name)

    def module_name(self, words: list[str]) -> str:
        return _escape(snake(words))

    def or_default_name(self, words: list[str]) -> str:
        return snake(words) + "_or_default"

    def which_name(self, words: list[str]) -> str:
        return "which_" + snake(words)


def _check_message(n: PythonNamer, msg: Message, out: list[NameClash]) -> None:
    taken = {m: "a generated method" for m in MESSAGE_METHODS}
    scope = NameScope(out, "Python", f"message {msg['name']}", taken)
    base = ("messages", msg["name"])
    for f in msg["fields"]:
        scope.claim(n.attr_name(f["words"]), f"field {f['name']}", pointer(*base, "fields", f["name"]))
    for f in msg["fields"]:
        if f["default"] is not None:
            scope.claim(
                n.or_default_name(f["words"]),
                f"the default accessor of field {f['name']}",
                pointer(*base, "fields", f["name"]),
            )
    for o in msg["oneofs"]:
        scope.claim(
            n.which_name(o["words"]), f"the case accessor of oneof {o['name']}", pointer(*base, "oneofs", o["name"])
        )


def _check_enum(n: PythonNamer, enum: Enum, out: list[NameClash]) -> None:
    scope = NameScope(out, "Python", f"enum {enum['name']}", {m: "a generated enum helper" for m in ENUM_MEMBERS})
    base = ("enums", enum["name"])
    for v in enum["values"]:
        scope.claim(n.const_name(v["words"]), f"value {v['name']}", pointer(*base, "values", v["name"]))
    for a in enum["attributes"]:
        scope.claim(n.attr_name(a["words"]), f"attribute {a['name']}", pointer(*base, "attributes", a["name"]))


def check_python_names(ir: IR) -> list[NameClash]:
    n = PythonNamer()
    out: list[NameClash] = []
    types = NameScope(
        out, "Python", f"package {ir['package']}", {p: "a name the package defines" for p in PACKAGE_NAMES}
    )
    claim_types(types, ir, n.class_name)
    for enum in ir["enums"]:
        _check_enum(n, enum, out)
    for msg in ir["messages"]:
        _check_message(n, msg, out)
    methods = NameScope(out, "Python", "the method constants of services.py")
    claim_method_constants(methods, ir, lambda s, m: n.const_name(["method", *s, *m]))
    return out
