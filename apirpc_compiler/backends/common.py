"""Helpers every language backend shares, so that no backend re-implements them.

- `package_version`: the version every SDK package carries.
- `template_env`: the jinja2 environment every backend renders with (strict undefined, no
  autoescape, templates next to the backend).
- `NameScope` and `pointer`: collision checking for a backend's `check_names`;
  `claim_types` and `claim_method_constants` claim the spellings every SDK defines.
- `escape_reserved`: keyword escaping with a language's suffix or prefix.
- `wrap_text`: doc text wrapped to a width; `line_doc` (`///`, `//` lines) and `block_doc` (`/** */`)
  the two comment shapes built on it (each backend escapes for its language).
- `proto_varint`, `quic_varint`: compile-time encodings (tag bytes, constants); `shift_literal`: a
  power of two spelled as a shift (buffer bounds in C-like languages).
- `fields_by_number`: the canonical encoding order of a message's fields.
- Wire-protocol facts every codec backend needs: `INT_SIZE`, `INT_MAX`, `min_size` (from ir/plan.py; the
  fewest bytes a wire type encodes to), `plan_cond_text` (the plan's condition in words,
  for error messages and comments) and `embedded_args` (the flags an
  embedded struct receives). The front end's wire rules already guarantee that `when` and
  length references name earlier integer fields, so backends only spell them in their language.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from ..diagnostics import pointer as pointer  # re-exported: the backends' name checks locate clashes with it
from ..ir import plan
from ..ir.graph import strongly_connected
from ..ir.model import IR, Enum, Field, Message, Method, Service, WireAuth, WireStruct
from ..ir.plan import INT_MAX as INT_MAX  # the plan owns the wire's integer facts; re-exported
from ..ir.plan import INT_SIZE as INT_SIZE
from ..ir.plan import min_size as min_size
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


def package_version(ir: IR) -> str:
    """The SDK packages' version: `clutchcall.v1` -> 1.0.0; a package without a version suffix is 0.1.0."""
    m = re.search(r"\.v(\d+)$", ir["package"])
    return f"{m.group(1)}.0.0" if m else "0.1.0"


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


def line_doc(text: str, width: int, pad: str = "", lead: str = "///") -> list[str]:
    """`text` as `lead` comment lines (`/// `, `// `) at indent `pad`, each at most `width` columns."""
    return [f"{pad}{lead} {line}" for line in wrap_text(text, width - len(pad) - len(lead) - 1)]


def block_doc(text: str, width: int, pad: str = "") -> list[str]:
    """`text` as a `/** ... */` comment at indent `pad` (one line when it fits), at most `width` columns.
    The caller escapes what its language reads inside the comment (`*/` at least)."""
    lines = wrap_text(text, width - len(pad) - 3)
    if not lines:
        return []
    if len(lines) == 1 and len(pad) + len(lines[0]) + 7 <= width:
        return [f"{pad}/** {lines[0]} */"]
    return [f"{pad}/**", *(f"{pad} * {line}" for line in lines), f"{pad} */"]


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


def shift_literal(n: int, one: str = "1") -> str:
    """`n` as `one << k` when it is a power of two (`one`: the language's typed 1), else in decimal."""
    return f"{one} << {n.bit_length() - 1}" if n > 0 and n & (n - 1) == 0 else str(n)


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


@dataclass(frozen=True)
class TypeIndex:
    """The IR's messages and enums by name: every backend resolves a field's type reference here."""

    messages: dict[str, Message]
    enums: dict[str, Enum]

    def words(self, name: str) -> list[str]:
        """The words of the enum or message called `name` (what a backend spells its type name from)."""
        return (self.enums.get(name) or self.messages[name])["words"]


def type_index(ir: IR) -> TypeIndex:
    return TypeIndex({m["name"]: m for m in ir["messages"]}, {e["name"]: e for e in ir["enums"]})


def unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without repeats (deterministic, unlike set())."""
    return list(dict.fromkeys(items))


# ---- wire protocols ----


class WireGenError(ValueError):
    """The wire section uses the DSL in a way a backend cannot generate."""


def plan_cond_text(c: plan.Cond, clear: str = "clear") -> str:
    """A plan condition in words ("fin is set", "kind in [1, 2]") for error messages and docs; `clear`
    names a false flag."""
    if isinstance(c, plan.FlagIs):
        return f"{c.flag} is {'set' if c.value else clear}"
    value = str(c.values[0]) if c.test in ("eq", "ne") else str(list(c.values)) if c.values else ""
    return f"{c.field} {c.test} {value}".rstrip()


def embedded_args(cur: WireStruct, target: WireStruct) -> list[str]:
    """The names of `cur`'s flags or args that an embedded `target` receives, in its arg order."""
    scope = {*cur["flags"], *cur["args"]}
    for a in target["args"]:
        if a not in scope:
            raise WireGenError(f"{cur['name']}: embedded {target['name']} needs arg {a!r}, which is not in scope")
    return list(target["args"])


def message_components(ir: IR) -> dict[str, int]:
    """Each message's strongly connected component in the message-reference graph,
    numbered so that every component comes after the ones it refers to."""
    by_name = {m["name"]: m for m in ir["messages"]}

    def refs(name: str) -> list[str]:
        return [f["type"]["name"] for f in by_name[name]["fields"] if f["type"]["kind"] == "message"]

    return {name: n for n, component in enumerate(strongly_connected(by_name, refs)) for name in component}


# ---- the RPC surface: REST routes, paging and error policy, derived once for every backend ----


@dataclass(frozen=True)
class PathSegment:
    """One `/`-separated piece of a route: a literal, or a variable bound to a top-level request field."""

    text: str  # the literal, or the bound field's IDL name
    field: Field | None  # the bound field (None for a literal)


@dataclass(frozen=True)
class QueryParam:
    """A request field that travels in the query string (google.api.http: fields bound neither by path nor body).

    `name` is its dotted ProtoJSON path (`pageSize`, `agent.turnDetection.mode`); `path` the IDL field
    names from the request down; `kind` the JSON value kind a server rebuilds from the text."""

    name: str
    path: tuple[str, ...]
    json_path: tuple[str, ...]
    kind: str  # "string", "bytes", "bool", "int", "int64", "float", "enum"
    type_name: str  # the scalar name, or the enum's IDL name
    repeated: bool
    doc: str


@dataclass(frozen=True)
class RestRoute:
    """A method's HTTP rule, parsed: what a client needs to build a request and a server to route one."""

    verb: str
    template: str  # the IDL's path template, e.g. /v1/calls/{sid}:transfer
    segments: tuple[PathSegment, ...]
    custom_verb: str | None  # the ":verb" suffix of the last segment
    path_fields: tuple[Field, ...]
    body: str | None  # "*", a request field's IDL name, or None
    body_field: Field | None  # the field named by `body`
    query: tuple[QueryParam, ...]


@dataclass(frozen=True)
class Paging:
    """A list method's paging: the request's page token, the response's next token and repeated items."""

    page_token: Field
    next_page_token: Field
    items: Field
    page_size: Field | None


@dataclass(frozen=True)
class ErrorCodeInfo:
    """One ErrorCode value with the HTTP status and retryability the IDL gives it."""

    name: str
    words: list[str]
    number: int
    json_name: str
    http_status: int
    retryable: bool
    doc: str


@dataclass(frozen=True)
class ErrorModel:
    """The enum whose values carry `http_status` and `retryable`, and the message whose `code` field holds it."""

    enum: Enum
    status_message: Message
    codes: tuple[ErrorCodeInfo, ...]


@dataclass(frozen=True)
class RpcMethod:
    """A method as client and server generators see it."""

    service: Service
    method: Method
    request: Message
    response: Message
    route: RestRoute | None
    paging: Paging | None


_QUERY_KINDS = {
    "bool": "bool",
    "string": "string",
    "bytes": "bytes",
    "float": "float",
    "double": "float",
    "int64": "int64",
    "uint64": "int64",
    "sint64": "int64",
    "fixed64": "int64",
    "sfixed64": "int64",
}


def _messages(ir: IR) -> dict[str, Message]:
    return type_index(ir).messages


def rest_route(ir: IR, method: Method) -> RestRoute | None:
    """The parsed HTTP rule of `method`, or None when it has none (the front end validated the template)."""
    http = method["http"]
    if http is None:
        return None
    msgs = _messages(ir)
    request = msgs[method["request"]]
    fields = {f["name"]: f for f in request["fields"]}
    parts = http["path"].split("/")[1:]
    custom_verb = None
    if ":" in parts[-1].rsplit("}", 1)[-1]:
        parts[-1], custom_verb = parts[-1].rsplit(":", 1)
    segments = tuple(
        PathSegment(p[1:-1], fields[p[1:-1]]) if p.startswith("{") else PathSegment(p, None) for p in parts
    )
    path_fields = tuple(s.field for s in segments if s.field is not None)
    body = http["body"]
    body_field = fields.get(body) if body not in (None, "*") else None
    query: list[QueryParam] = []
    if body != "*":
        bound = {f["name"] for f in path_fields} | ({body} if body else set())

        def walk(msg: Message, path: tuple[str, ...], json_path: tuple[str, ...], seen: frozenset[str]) -> None:
            for f in msg["fields"]:
                if not path and f["name"] in bound:
                    continue
                p, jp = (*path, f["name"]), (*json_path, f["json_name"])
                kind = f["type"]["kind"]
                if kind == "message":
                    if f["type"]["name"] not in seen:  # a recursive message cannot be spelled in a query
                        walk(msgs[f["type"]["name"]], p, jp, seen | {f["type"]["name"]})
                    continue
                scalar = f["type"]["name"]
                query.append(
                    QueryParam(
                        name=".".join(jp),
                        path=p,
                        json_path=jp,
                        kind="enum" if kind == "enum" else _QUERY_KINDS.get(scalar, "int"),
                        type_name=scalar,
                        repeated=f["label"] == "repeated",
                        doc=f["doc"],
                    )
                )

        walk(request, (), (), frozenset({request["name"]}))
    return RestRoute(
        verb=http["method"],
        template=http["path"],
        segments=segments,
        custom_verb=custom_verb,
        path_fields=path_fields,
        body=body,
        body_field=body_field,
        query=tuple(query),
    )


def paging(ir: IR, method: Method) -> Paging | None:
    """Paging when the request has `page_token` and the response `next_page_token` and one repeated message field."""
    msgs = _messages(ir)
    if method["request"] not in msgs or method["response"] not in msgs:  # names are checked on broken IDLs too
        return None
    req = {f["name"]: f for f in msgs[method["request"]]["fields"]}
    resp = msgs[method["response"]]["fields"]
    token = req.get("page_token")
    nxt = next((f for f in resp if f["name"] == "next_page_token"), None)
    items = [f for f in resp if f["label"] == "repeated" and f["type"]["kind"] == "message"]
    if token is None or nxt is None or len(items) != 1 or method["streaming"] != "none":
        return None
    return Paging(token, nxt, items[0], req.get("page_size"))


def error_model(ir: IR) -> ErrorModel | None:
    """The error enum (values with `http_status` and `retryable`) and the status message carrying it as `code`."""
    for enum in ir["enums"]:
        attrs = {a["name"] for a in enum["attributes"]}
        if not {"http_status", "retryable"} <= attrs:
            continue
        status = next(
            (
                m
                for m in ir["messages"]
                if any(f["name"] == "code" and f["type"] == {"kind": "enum", "name": enum["name"]} for f in m["fields"])
            ),
            None,
        )
        if status is None:
            continue
        codes = tuple(
            ErrorCodeInfo(
                v["name"],
                v["words"],
                v["number"],
                v["json_name"],
                int(v["attributes"]["http_status"]),  # type: ignore[arg-type]
                bool(v["attributes"]["retryable"]),
                v["doc"],
            )
            for v in enum["values"]
        )
        return ErrorModel(enum, status, codes)
    return None


def rpc_methods(ir: IR, service: Service) -> list[RpcMethod]:
    msgs = _messages(ir)
    return [
        RpcMethod(service, m, msgs[m["request"]], msgs[m["response"]], rest_route(ir, m), paging(ir, m))
        for m in service["methods"]
    ]


def envelope_alpn(ir: IR) -> str | None:
    """The ALPN of the envelope-family wire protocol (the legacy RPC over QUIC), if the IDL declares one."""
    return next((p["alpn"] for p in ir["wire"] if p["family"] == "envelope"), None)


def envelope_auth(ir: IR) -> WireAuth | None:
    """How the envelope RPC presents the tenant token (the method ID it is sent under), if the IDL declares it."""
    return next((p["auth"] for p in ir["wire"] if p["family"] == "envelope"), None)
