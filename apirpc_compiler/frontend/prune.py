"""The parts of a document that passed the schema, so the semantic rules can still run on them.

A schema error drops the smallest item that holds it (an enum, a message, a method, a service,
a bridge, a wire code set, struct or stream, a wire protocol, or a top-level key); what remains
has the shape the semantic rules rely on. The names of dropped items are kept, so that a
reference to an item that exists but is broken is not reported again as unresolved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..diagnostics import pointer_tokens

# Most specific first; "*" matches any one token. The first pattern a pointer starts with names
# the item to drop; a pointer shorter than every pattern drops the node it points at.
_UNITS: tuple[tuple[str, ...], ...] = (
    ("wire", "protocols", "*", "codes", "*"),
    ("wire", "protocols", "*", "structs", "*"),
    ("wire", "protocols", "*", "streams", "*"),
    ("wire", "protocols", "*"),
    ("wire", "*"),
    ("services", "*", "methods", "*"),
    ("services", "*"),
    ("enums", "*"),
    ("messages", "*"),
    ("bridges", "*"),
    ("*",),
)

# build_ir needs a package; when the document's is broken, name checks run under this one.
STAND_IN_PACKAGE = "unnamed.v1"


@dataclass
class Checkable:
    """The schema-valid part of a document, and what was dropped from it."""

    document: dict[str, Any]
    dropped: set[tuple[str, ...]] = field(default_factory=set)

    def is_dropped(self, *tokens: str) -> bool:
        """Whether the item at these pointer tokens (or one holding it) was dropped for a schema error."""
        return any(tokens[:i] in self.dropped for i in range(1, len(tokens) + 1))

    def broken_type(self, name: str) -> bool:
        return self.is_dropped("enums", name) or self.is_dropped("messages", name)


def _unit(tokens: list[str]) -> tuple[str, ...]:
    for pattern in _UNITS:
        if len(tokens) >= len(pattern) and all(p in ("*", t) for p, t in zip(pattern, tokens, strict=False)):
            return tuple(tokens[: len(pattern)])
    return tuple(tokens)


def _drop(document: dict[str, Any], path: tuple[str, ...]) -> None:
    """Remove the member at `path`, copying each object on the way so the input stays untouched."""
    node = document
    for token in path[:-1]:
        child = node.get(token)
        if not isinstance(child, dict):
            return  # an ancestor is already gone or not an object: nothing left to drop
        node[token] = child = dict(child)
        node = child
    node.pop(path[-1], None)


def checkable(document: dict[str, Any], error_pointers: Iterable[str]) -> Checkable:
    out = Checkable(dict(document))
    for pointer in error_pointers:
        unit = _unit(pointer_tokens(pointer))
        if unit and unit not in out.dropped:
            out.dropped.add(unit)
            _drop(out.document, unit)
    if not isinstance(out.document.get("package"), str):
        out.document["package"] = STAND_IN_PACKAGE
    return out
