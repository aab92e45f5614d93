"""Helpers every language backend shares, so that no backend re-implements them.

- `template_env`: the jinja2 environment every backend renders with (strict undefined, no
  autoescape, templates next to the backend).
- `NameScope` and `pointer`: collision checking for a backend's `check_names`;
  `claim_types` and `claim_method_constants` claim the spellings every SDK defines.
- `escape_reserved`: keyword escaping with a language's suffix or prefix.
- `wrap_text`: doc comments wrapped to a width (each backend adds its own comment syntax).
- `proto_varint`, `quic_varint`: compile-time encodings (tag bytes, constants).
- `fields_by_number`: the canonical encoding order of a message's fields.
- Wire-protocol facts every codec backend needs: `INT_SIZE`, `INT_MAX`, `min_size` (the
  fewest bytes a wire type encodes to), `cond_text` (a `when` in words, for error messages and
  comments) and `embedded_args` (the flags an embedded struct receives). The front end's wire
  rules already guarantee that `when` and length references name earlier integer fields, so
  backends only spell them in their language.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2

from ..ir.model import IR, Field, Message, WireCond, WireStruct, WireType
from .base import NameClash


def template_env(template_dir: Path, filters: dict[str, Callable[..., Any]] | None = None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters.update(filters or {})
    return env


def pointer(*parts: str) -> str:
    """An RFC 6901 JSON pointer into the IDL from its unescaped parts."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


class NameScope:
    """One namespace of a target language: the first claimant of a spelling owns it, later
    claimants are reported as clashes at their own IDL location."""

    def __init__(self, out: list[NameClash], language: str, what: str, taken: dict[str, str] | None = None) -> None:
        self.out = out
        self.language = language
        self.what = what
        self.names: dict[str, str] = dict(taken or {})

    def claim(self, name: str, owner: str, at: str) -> None:
        if name in self.names:
            self.out.append(
                NameClash(
                    at,
                    f"{owner} is spelled {name!r} in {self.language}, "
                    f"which is already {self.names[name]} in {self.what}",
                    "rename one of them in the IDL",
                )
            )
        else:
            self.names[name] = owner


def claim_types(scope: NameScope, ir: IR, spell: Callable[[list[str]], str]) -> None:
    """Claim the type spelling of every enum and then every message in `scope`."""
    for enum in ir["enums"]:
        scope.claim(spell(enum["words"]), f"enum {enum['name']}", pointer("enums", enum["name"]))
    for msg in ir["messages"]:
        scope.claim(spell(msg["words"]), f"message {msg['name']}", pointer("messages", msg["name"]))


def claim_method_constants(scope: NameScope, ir: IR, spell: Callable[[list[str], list[str]], str]) -> None:
    """Claim `spell(service words, method words)`, every method's id constant, in `scope`."""
    for svc in ir["services"]:
        for m in svc["methods"]:
            scope.claim(
                spell(svc["words"], m["words"]),
                f"method {svc['name']}.{m['name']}",
                pointer("services", svc["name"], "methods", m["name"]),
            )


def escape_reserved(name: str, reserved: frozenset[str], suffix: str = "_", prefix: str = "") -> str:
    return f"{prefix}{name}{suffix}" if name in reserved else name


def wrap_text(text: str, width: int) -> list[str]:
    """Doc text as lines of at most `width` columns (words are never broken); [] for no text."""
    flat = " ".join(text.split())
    if not flat:
        return []
    return textwrap.wrap(flat, width=max(width, 20), break_long_words=False, break_on_hyphens=False)


def proto_varint(n: int) -> bytes:
    """The protobuf base-128 varint of a non-negative int (negative ints: pass n & (2**64 - 1))."""
    if n < 0:
        raise ValueError("proto_varint takes a non-negative int")
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def quic_varint(n: int) -> bytes:
    """The shortest RFC 9000 section 16 encoding of 0 <= n < 2**62."""
    if n < 0 or n >= 1 << 62:
        raise ValueError(f"{n} does not fit a QUIC varint")
    if n < 1 << 6:
        return n.to_bytes(1, "big")
    if n < 1 << 14:
        return (n | 0x4000).to_bytes(2, "big")
    if n < 1 << 30:
        return (n | 0x80000000).to_bytes(4, "big")
    return (n | 0xC000000000000000).to_bytes(8, "big")


def encode_tag(f: Field) -> int:
    """The tag a canonical encoder writes for `f` (packed repeated fields use wire type 2)."""
    return (f["number"] << 3) | (2 if f["packed"] else f["wire_type"])


def fields_by_number(msg: Message) -> list[Field]:
    return sorted(msg["fields"], key=lambda f: f["number"])


def unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without repeats (deterministic, unlike set())."""
    return list(dict.fromkeys(items))


# ---- wire protocols ----

INT_SIZE = {"u8": 1, "u16": 2, "u32": 4, "u64": 8}  # fixed-width integers: bytes on the wire
INT_MAX = {"varint": (1 << 62) - 1, "u8": 0xFF, "u16": 0xFFFF, "u32": 0xFFFFFFFF, "u64": (1 << 64) - 1}


class WireGenError(ValueError):
    """The wire section uses the DSL in a way a backend cannot generate."""


def min_size(t: WireType, structs: Mapping[str, WireStruct]) -> int:
    """The fewest bytes a value of `t` encodes to: what a decoder may demand before reading it.

    Lengths that name a field, "rest" lengths and element lists count as 0; a framed struct
    counts its varint frame only; an unframed struct sums its unconditional fields."""
    k = t["type"]
    if k == "varint":
        return 1
    if k in INT_SIZE:
        return INT_SIZE[k]
    if k in ("bytes", "string", "list"):
        ln = t["frame"] or t["length"]
        if ln is not None and ln["kind"] == "varint":
            return 1
        if k != "list" and ln is not None and ln["kind"] == "fixed":
            return int(ln["size"] or 0)
        return 0
    if t["frame"] is not None and t["frame"]["kind"] == "varint":
        return 1
    s = structs[str(t["struct"])]
    return sum(min_size(f["type"], structs) for f in s["fields"] if f["when"] is None)


def cond_text(c: WireCond, clear: str = "clear") -> str:
    """A `when` condition in words ("fin is set", "kind in [1, 2]"); `clear` names a false flag."""
    if c["op"] == "flag":
        return f"{c['name']} is {'set' if c['value'] else clear}"
    return f"{c['name']} {c['op']} {c['value'] if c['value'] is not None else ''}".rstrip()


def embedded_args(cur: WireStruct, target: WireStruct) -> list[str]:
    """The names of `cur`'s flags or args that an embedded `target` receives, in its arg order."""
    scope = {*cur["flags"], *cur["args"]}
    for a in target["args"]:
        if a not in scope:
            raise WireGenError(f"{cur['name']}: embedded {target['name']} needs arg {a!r}, which is not in scope")
    return list(target["args"])


def message_components(ir: IR) -> dict[str, int]:
    """Each message's strongly connected component in the message-reference graph (Tarjan),
    numbered so that every component comes after the ones it refers to."""
    by_name = {m["name"]: m for m in ir["messages"]}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    comp: dict[str, int] = {}
    components: list[str] = []

    def refs(name: str) -> list[str]:
        return [f["type"]["name"] for f in by_name[name]["fields"] if f["type"]["kind"] == "message"]

    # Iterative, so a long chain of messages cannot hit Python's recursion limit.
    for root in by_name:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = len(index)
                stack.append(v)
                on_stack.add(v)
            out = refs(v)
            if i < len(out):
                work.append((v, i + 1))
                w = out[i]
                if w not in index:
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                n = len(components)
                components.append(v)
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp[w] = n
                    if w == v:
                        break
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return comp
