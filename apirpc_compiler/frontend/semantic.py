"""Semantic rules over a schema-valid IDL document: enums, messages, services, bridges, auth.

Each rule has a stable name; every violation is reported (none stops the pass). The
document's shape is guaranteed by the schema, so lookups here need no type checks. Every
loop is linear in the document (sets and dicts, sorted ranges), never pairwise.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections import deque
from typing import Any

from ..ir.model import SCALARS
from ..ir.naming import proto_json_name
from .report import Reporter, ptr

_INT_RANGES = {
    "int32": (-(2**31), 2**31 - 1),
    "sint32": (-(2**31), 2**31 - 1),
    "sfixed32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "sint64": (-(2**63), 2**63 - 1),
    "sfixed64": (-(2**63), 2**63 - 1),
    "uint32": (0, 2**32 - 1),
    "fixed32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
    "fixed64": (0, 2**64 - 1),
}
_FLOAT32_MAX = 3.4028234663852886e38
IMPLEMENTATION_RESERVED = (19000, 19999)
_TEMPLATE_VARS = frozenset(["sid", "codec"])
_BRACED = re.compile(r"\{([^{}]*)\}")


def scalar_value_problem(scalar: str, value: Any) -> str | None:
    """Why `value` is not a valid JSON literal of the protobuf scalar type, or None if it is."""
    if scalar == "bool":
        return None if isinstance(value, bool) else "expected true or false"
    if scalar in ("string", "bytes"):
        return None if isinstance(value, str) else "expected a string"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"expected a number of type {scalar}"
    if scalar in ("float", "double"):
        if not math.isfinite(value):
            return "expected a finite number"
        if scalar == "float" and abs(value) > _FLOAT32_MAX:
            return "out of range for float (32-bit)"
        return None
    lo, hi = _INT_RANGES[scalar]
    if isinstance(value, float):
        return f"expected an integer for {scalar}"
    if not lo <= value <= hi:
        return f"{value} is out of range for {scalar} ({lo} .. {hi})"
    return None


def _ranges(items: list[Any]) -> list[tuple[int, int, int]]:
    """(first, last, index in the list) of a reserved list of numbers and [first, last] ranges."""
    return [(it[0], it[1], i) if isinstance(it, list) else (it, it, i) for i, it in enumerate(items)]


class _Reserved:
    """Reserved numbers as sorted ranges (bisect lookups) plus reserved names."""

    def __init__(self, rep: Reporter, base: str, doc: dict[str, Any] | None, numbers_key: str = "numbers") -> None:
        doc = doc or {}
        spans = _ranges(doc.get(numbers_key, []))
        for lo, hi, i in spans:
            if lo > hi:
                rep.error(
                    base + ptr(numbers_key, i),
                    "invalid-reserved-range",
                    f"reserved range [{lo}, {hi}] is empty (first > last)",
                    "write [first, last] with first <= last",
                )
        spans = sorted((s for s in spans if s[0] <= s[1]), key=lambda s: (s[0], s[1]))
        for prev, cur in itertools.pairwise(spans):
            if cur[0] <= prev[1]:
                rep.error(
                    base + ptr(numbers_key, cur[2]),
                    "overlapping-reserved",
                    f"reserved {_span(cur)} overlaps reserved {_span(prev)}",
                    "merge the two entries",
                )
        self.starts = [s[0] for s in spans]
        self.spans = spans
        # A running maximum of range ends makes "is n inside any range" one bisect even with overlaps.
        self.max_end: list[int] = []
        for s in spans:
            self.max_end.append(max(s[1], self.max_end[-1]) if self.max_end else s[1])
        self.names = set(doc.get("names", []))

    def has(self, n: int) -> bool:
        i = bisect.bisect_right(self.starts, n) - 1
        return i >= 0 and self.max_end[i] >= n


def _span(s: tuple[int, int, int]) -> str:
    return str(s[0]) if s[0] == s[1] else f"[{s[0]}, {s[1]}]"


class SemanticChecker:
    def __init__(self, doc: dict[str, Any], rep: Reporter) -> None:
        self.doc = doc
        self.rep = rep
        self.enums: dict[str, Any] = doc.get("enums", {})
        self.messages: dict[str, Any] = doc.get("messages", {})

    def run(self) -> None:
        for name in self.enums:
            if name in self.messages:
                self.rep.error(
                    ptr("messages", name),
                    "duplicate-type-name",
                    f"{name} is declared both as an enum ({self.rep.where(ptr('enums', name))}) and a message",
                    "type names are shared by enums and messages; rename one",
                )
        for name, enum in self.enums.items():
            self.enum(name, enum)
        for name, message in self.messages.items():
            self.message(name, message)
        self.services()
        self.bridges()
        auth = self.doc.get("auth")
        if auth is not None and auth["claims"] not in self.messages:
            self.unresolved(ptr("auth", "claims"), auth["claims"], "the claims of the token")

    def unresolved(self, pointer: str, name: str, what: str) -> None:
        extra = " (it is an enum; a message is required)" if name in self.enums else ""
        self.rep.error(
            pointer,
            "unresolved-type",
            f"{what} names {name!r}, which is not a declared message{extra}",
            "declare the message under `messages` or fix the name",
        )

    # ---- enums ----

    def enum(self, name: str, enum: dict[str, Any]) -> None:
        rep = self.rep
        base = ptr("enums", name)
        values: dict[str, Any] = enum["values"]
        reserved = _Reserved(rep, base + "/reserved", enum.get("reserved"))
        by_number: dict[int, str] = {}
        for vname, value in values.items():
            number = value["number"]
            vptr = base + ptr("values", vname)
            first = by_number.setdefault(number, vname)
            if first != vname:
                rep.error(
                    vptr + "/number",
                    "duplicate-enum-number",
                    f"{name}.{vname} reuses number {number} of {name}.{first}",
                    "give each value its own number",
                )
            if reserved.has(number):
                rep.error(
                    vptr + "/number",
                    "reserved-number-used",
                    f"{name}.{vname} uses reserved number {number}",
                    "pick an unreserved number: reserved numbers belonged to removed values",
                )
            if vname in reserved.names:
                rep.error(vptr, "reserved-name-used", f"{name}.{vname} uses a reserved name", "choose another name")
        if 0 not in by_number:
            rep.error(
                base + "/values",
                "enum-missing-zero",
                f"enum {name} has no value with number 0",
                'add "unspecified": {"number": 0} (the proto3 default)',
            )
        self.enum_attributes(name, enum, base)
        if "transitions" in enum:
            self.transitions(name, enum, base)

    def enum_attributes(self, name: str, enum: dict[str, Any], base: str) -> None:
        declared: dict[str, Any] = enum.get("attributes", {})
        for vname, value in enum["values"].items():
            given: dict[str, Any] = value.get("attributes", {})
            vptr = base + ptr("values", vname)
            for attr, spec in declared.items():
                if attr not in given:
                    self.rep.error(
                        vptr,
                        "enum-attribute-missing",
                        f"{name}.{vname} does not give attribute {attr!r}",
                        f'add "attributes": {{"{attr}": ...}} ({spec["type"]})',
                    )
                    continue
                problem = scalar_value_problem(spec["type"], given[attr])
                if problem:
                    self.rep.error(
                        vptr + ptr("attributes", attr),
                        "enum-attribute-type",
                        f"attribute {attr} of {name}.{vname} is {spec['type']}: {problem}",
                    )
            for attr in given:
                if attr not in declared:
                    self.rep.error(
                        vptr + ptr("attributes", attr),
                        "enum-attribute-unknown",
                        f"{name} declares no attribute {attr!r}",
                        "declare it under the enum's `attributes`",
                    )

    def transitions(self, name: str, enum: dict[str, Any], base: str) -> None:
        rep = self.rep
        t = enum["transitions"]
        tbase = base + "/transitions"
        values: dict[str, Any] = enum["values"]
        edges: dict[str, list[str]] = t.get("edges", {})
        mentions: dict[str, str] = {}  # state -> pointer of its first mention
        refs: list[tuple[str, str]] = [(s, f"{tbase}/initial/{i}") for i, s in enumerate(t["initial"])]
        refs += [(s, f"{tbase}/terminal/{i}") for i, s in enumerate(t["terminal"])]
        for src, dsts in edges.items():
            refs.append((src, tbase + ptr("edges", src)))
            refs += [(d, tbase + ptr("edges", src, i)) for i, d in enumerate(dsts)]
        ok = True
        for state, pointer in refs:
            if state not in values:
                rep.error(
                    pointer, "transition-unknown-state", f"{name} has no value {state!r}", "name a declared value"
                )
                ok = False
            elif values[state]["number"] == 0:
                rep.error(
                    pointer,
                    "transition-zero-state",
                    f"{name}.{state} has number 0 and takes no part in transitions",
                    "remove it from the state machine",
                )
                ok = False
            else:
                mentions.setdefault(state, pointer)
        initial, terminal = set(t["initial"]), set(t["terminal"])
        for i, s in enumerate(t["initial"]):
            if s in terminal:
                rep.error(
                    f"{tbase}/initial/{i}",
                    "transition-initial-terminal",
                    f"{name}.{s} is both initial and terminal",
                    "a call-like state machine starts in a non-terminal state",
                )
        for src, dsts in edges.items():
            if src in terminal and dsts:
                rep.error(
                    tbase + ptr("edges", src),
                    "transition-terminal-outgoing",
                    f"terminal state {name}.{src} has outgoing edges",
                    "terminal states are final; remove its edges",
                )
        if not ok:
            return  # graph checks on a graph with unknown states would only repeat the errors above
        graph: dict[str, list[str]] = {s: [] for s in mentions}
        for src, dsts in edges.items():
            graph[src].extend(dsts)
        self.transition_cycles(name, tbase, graph)
        reach = _reachable(graph, initial)
        reverse: dict[str, list[str]] = {s: [] for s in graph}
        for src, dsts in graph.items():
            for d in dsts:
                reverse[d].append(src)
        can_finish = _reachable(reverse, terminal)
        for state, pointer in mentions.items():
            if state not in reach:
                rep.error(
                    pointer,
                    "transition-unreachable",
                    f"{name}.{state} cannot be reached from an initial state",
                    "add an edge into it or list it as initial",
                )
            if state not in can_finish:
                rep.error(
                    pointer,
                    "transition-dead-end",
                    f"{name}.{state} cannot reach a terminal state",
                    "add an edge toward a terminal state or list it as terminal",
                )

    def transition_cycles(self, name: str, tbase: str, graph: dict[str, list[str]]) -> None:
        # Iterative three-colour DFS; a grey target is a back edge, i.e. a cycle.
        colour: dict[str, int] = dict.fromkeys(graph, 0)
        for root in graph:
            if colour[root]:
                continue
            stack: list[tuple[str, int]] = [(root, 0)]
            colour[root] = 1
            while stack:
                node, i = stack[-1]
                if i < len(graph[node]):
                    stack[-1] = (node, i + 1)
                    nxt = graph[node][i]
                    if colour[nxt] == 1:
                        self.rep.error(
                            tbase + ptr("edges", node, i),
                            "transition-cycle",
                            f"edge {name}.{node} -> {nxt} closes a cycle",
                            "transitions must be monotonic",
                        )
                    elif colour[nxt] == 0:
                        colour[nxt] = 1
                        stack.append((nxt, 0))
                else:
                    colour[node] = 2
                    stack.pop()

    # ---- messages ----

    def message(self, name: str, message: dict[str, Any]) -> None:
        rep = self.rep
        base = ptr("messages", name)
        fields: dict[str, Any] = message.get("fields", {})
        oneofs: dict[str, Any] = message.get("oneofs", {})
        reserved = _Reserved(rep, base + "/reserved", message.get("reserved"))
        by_number: dict[int, str] = {}
        json_names: dict[str, str] = {}
        oneof_members: set[str] = set()
        for fname, f in fields.items():
            fptr = base + ptr("fields", fname)
            number = f["number"]
            first = by_number.setdefault(number, fname)
            if first != fname:
                rep.error(
                    fptr + "/number",
                    "duplicate-field-number",
                    f"{name}.{fname} reuses field number {number} of {name}.{first} "
                    f"({rep.where(base + ptr('fields', first))})",
                    "give each field its own number",
                )
            lo, hi = IMPLEMENTATION_RESERVED
            if lo <= number <= hi:
                rep.error(
                    fptr + "/number",
                    "field-number-implementation-reserved",
                    f"field number {number} is in {lo}-{hi}, reserved for the protobuf implementation",
                    "pick a number outside 19000-19999",
                )
            if reserved.has(number):
                rep.error(
                    fptr + "/number",
                    "reserved-number-used",
                    f"{name}.{fname} uses reserved field number {number}",
                    "reserved numbers belonged to removed fields; pick another",
                )
            if fname in reserved.names:
                rep.error(
                    fptr, "reserved-name-used", f"{name}.{fname} uses a reserved field name", "choose another name"
                )
            ftype = f["type"]
            if ftype not in SCALARS and ftype not in self.enums and ftype not in self.messages:
                rep.error(
                    fptr + "/type",
                    "unresolved-type",
                    f"type {ftype!r} of {name}.{fname} is not a scalar, enum or message",
                    "declare it or fix the spelling",
                )
            repeated, optional = bool(f.get("repeated")), bool(f.get("optional"))
            if repeated and optional:
                rep.error(
                    fptr,
                    "conflicting-labels",
                    f"{name}.{fname} is both repeated and optional",
                    "repeated fields have no presence; drop one",
                )
            if "oneof" in f:
                oneof = f["oneof"]
                oneof_members.add(oneof)
                if oneof not in oneofs:
                    rep.error(
                        fptr + "/oneof",
                        "unknown-oneof",
                        f"{name}.{fname} names oneof {oneof!r}, not declared",
                        f'declare it: "oneofs": {{"{oneof}": {{"doc": "..."}}}}',
                    )
                if repeated:
                    rep.error(
                        fptr + "/repeated",
                        "oneof-member-repeated",
                        f"oneof member {name}.{fname} is repeated",
                        "a oneof member is singular; wrap the list in a message",
                    )
                if optional:
                    rep.error(
                        fptr + "/optional",
                        "oneof-member-optional",
                        f"oneof member {name}.{fname} is marked optional",
                        "oneof members already have presence; drop optional",
                    )
            if "default" in f:
                self.default(name, fname, f, fptr)
            jname = f.get("json_name", proto_json_name(fname))
            other = json_names.setdefault(jname, fname)
            if other != fname:
                where = fptr + "/json_name" if "json_name" in f else fptr
                rep.error(
                    where,
                    "json-name-collision",
                    f"{name}.{fname} and {name}.{other} both have the JSON name {jname!r}",
                    "set a distinct json_name on one of them",
                )
        for oname in oneofs:
            if oname not in oneof_members:
                rep.error(
                    base + ptr("oneofs", oname),
                    "empty-oneof",
                    f"oneof {name}.{oname} has no member fields",
                    f'add "oneof": "{oname}" to its fields or remove it',
                )

    def default(self, name: str, fname: str, f: dict[str, Any], fptr: str) -> None:
        ftype = f["type"]
        dptr = fptr + "/default"
        if f.get("repeated") or not f.get("optional") or "oneof" in f or ftype in self.messages:
            why = (
                "repeated"
                if f.get("repeated")
                else "a message"
                if ftype in self.messages
                else "a oneof member"
                if "oneof" in f
                else "not optional"
            )
            self.rep.error(
                dptr,
                "default-not-allowed",
                f"{name}.{fname} is {why}; only optional scalar or enum fields take a default",
                'mark it "optional": true or remove the default',
            )
            return
        value = f["default"]
        if ftype in self.enums:
            values = self.enums[ftype]["values"]
            if not isinstance(value, str) or value not in values:
                self.rep.error(
                    dptr,
                    "invalid-default",
                    f"default {value!r} of {name}.{fname} is not a value of enum {ftype}",
                    f"use one of: {', '.join(values)}",
                )
            return
        if ftype in SCALARS:
            problem = scalar_value_problem(ftype, value)
            if problem:
                self.rep.error(dptr, "invalid-default", f"default {value!r} of {name}.{fname} ({ftype}): {problem}")

    # ---- services ----

    def services(self) -> None:
        rep = self.rep
        ids: dict[int, str] = {}
        routes: dict[tuple[str, str], str] = {}
        for sname, service in self.doc.get("services", {}).items():
            base = ptr("services", sname)
            reserved = _Reserved(rep, base + "/reserved", service.get("reserved"), "ids")
            for mname, method in service["methods"].items():
                mptr = base + ptr("methods", mname)
                mid = method["id"]
                first = ids.setdefault(mid, mptr)
                if first != mptr:
                    rep.error(
                        mptr + "/id",
                        "duplicate-method-id",
                        f"method id {mid} of {sname}.{mname} is already used at {first} ({rep.where(first)})",
                        "method ids share one envelope and are unique across the API",
                    )
                if reserved.has(mid):
                    rep.error(
                        mptr + "/id",
                        "reserved-id-used",
                        f"{sname}.{mname} uses reserved method id {mid}",
                        "reserved ids belonged to removed methods; pick another",
                    )
                if mname in reserved.names:
                    rep.error(
                        mptr,
                        "reserved-name-used",
                        f"{sname}.{mname} uses a reserved method name",
                        "choose another name",
                    )
                for key in ("request", "response"):
                    if method[key] not in self.messages:
                        self.unresolved(mptr + "/" + key, method[key], f"the {key} of {sname}.{mname}")
                if "http" in method:
                    self.http(sname, mname, method, mptr, routes)

    def http(
        self, sname: str, mname: str, method: dict[str, Any], mptr: str, routes: dict[tuple[str, str], str]
    ) -> None:
        rep = self.rep
        http = method["http"]
        path: str = http["path"]
        hptr = mptr + "/http"
        request = self.messages.get(method["request"])
        fields: dict[str, Any] = request.get("fields", {}) if request is not None else {}
        if path.count("{") != path.count("}") or len(_BRACED.findall(path)) != path.count("{"):
            rep.error(
                hptr + "/path",
                "http-path-variable",
                f"path {path!r} has unbalanced braces",
                "write variables as {field}",
            )
        for var in _BRACED.findall(path):
            if request is None:
                break
            f = fields.get(var)
            if f is None:
                rep.error(
                    hptr + "/path",
                    "http-path-variable",
                    f"path variable {{{var}}} is not a field of {method['request']}",
                    "name a top-level field of the request",
                )
            elif f.get("repeated") or f["type"] not in SCALARS or f["type"] == "bytes":
                rep.error(
                    hptr + "/path",
                    "http-path-variable",
                    f"path variable {{{var}}} must be a singular scalar field; {method['request']}.{var} is not",
                    "bind a singular string or number field",
                )
        body = http.get("body")
        if body is not None and body != "*" and request is not None:
            f = fields.get(body)
            if f is None:
                rep.error(
                    hptr + "/body",
                    "http-body",
                    f"body {body!r} is not a field of {method['request']}",
                    'use "*" or the name of a message field of the request',
                )
            elif f["type"] not in self.messages or f.get("repeated"):
                rep.error(
                    hptr + "/body",
                    "http-body",
                    f"body field {method['request']}.{body} is not a singular message field",
                    'use "*" or a message-typed field',
                )
        route = (http["method"], _BRACED.sub("{}", path))
        first = routes.setdefault(route, hptr)
        if first != hptr:
            rep.error(
                hptr + "/path",
                "duplicate-http-route",
                f"{http['method']} {path} is already routed by {first} ({rep.where(first)})",
                "give each method its own (verb, path)",
            )

    # ---- bridges ----

    def bridges(self) -> None:
        rep = self.rep
        kinds = self.doc.get("tracks", {}).get("kinds", {})
        for bname, bridge in self.doc.get("bridges", {}).items():
            base = ptr("bridges", bname)
            for key in ("namespace", "capability"):
                template: str = bridge[key]
                bad = [v for v in _BRACED.findall(template) if v not in _TEMPLATE_VARS]
                if bad or template.count("{") != len(_BRACED.findall(template)):
                    rep.error(
                        base + "/" + key,
                        "bridge-template-variable",
                        f"{key} template {template!r} uses "
                        + (", ".join("{" + v + "}" for v in bad) or "unbalanced braces"),
                        "the only template variables are {sid} and {codec}",
                    )
            tracks: dict[str, Any] = bridge["tracks"]
            for tname, track in tracks.items():
                if track["kind"] not in kinds:
                    rep.error(
                        base + ptr("tracks", tname, "kind"),
                        "unknown-track-kind",
                        f"track {tname} has kind {track['kind']!r}, not declared under tracks.kinds",
                        f"use one of: {', '.join(kinds) or '(none declared)'}",
                    )
            for rname, role in bridge["roles"].items():
                for key in ("publish", "subscribe"):
                    for i, tname in enumerate(role.get(key, [])):
                        if tname not in tracks:
                            rep.error(
                                base + ptr("roles", rname, key, i),
                                "unknown-track",
                                f"role {rname} {key}s {tname!r}, which is not a track of {bname}",
                                f"use one of: {', '.join(tracks)}",
                            )


def _reachable(graph: dict[str, list[str]], roots: set[str]) -> set[str]:
    seen = {r for r in roots if r in graph}
    queue = deque(seen)
    while queue:
        for nxt in graph[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen
