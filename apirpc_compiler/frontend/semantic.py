"""Semantic rules over the schema-valid part of an IDL document (prune.py): the package, enums,
messages, services and their HTTP rules, bridges, auth.

Each rule has a stable name; every violation is reported (none stops the pass). The shape of
what is checked is guaranteed by the schema, so lookups here need no type checks; a name that
is declared but was left out for schema errors is never reported as unresolved. Every loop is
linear in the document (sets and dicts, sorted ranges), never pairwise.
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
from .prune import Checkable
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
FIELD_NUMBERS = (1, 2**29 - 1)
ENUM_NUMBERS = (-(2**31), 2**31 - 1)
METHOD_IDS = (1, 2**32 - 1)
# buf's PACKAGE_VERSION_SUFFIX: v1, v1beta1, v1p1alpha1, v1test...
_VERSION_SUFFIX = re.compile(r"v[0-9]+(p[0-9]+)?((alpha|beta)[0-9]*)?(test[a-z0-9]*)?")
# google.api.http path templates: "/" then literal or {variable} segments, an optional ":verb" at the end.
_LITERAL_SEGMENT = re.compile(r"[A-Za-z0-9_.~-]+")
_VARIABLE_SEGMENT = re.compile(r"\{[^{}]*\}")
# HTTP verbs that carry no request body, and those a client may retry (google.api.http, RFC 9110 §9.2.2).
_NO_BODY_VERBS = frozenset(["GET", "DELETE"])
_IDEMPOTENT_VERBS = frozenset(["GET", "PUT", "DELETE"])
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


class _Coverage:
    """Non-empty ranges (first, last, index) sorted for bisect lookups."""

    def __init__(self, spans: list[tuple[int, int, int]]) -> None:
        self.spans = sorted(spans, key=lambda s: (s[0], s[1]))
        self.starts = [s[0] for s in self.spans]
        # A running maximum of range ends makes "is n inside any range" one bisect even with overlaps.
        self.max_end: list[int] = []
        for s in self.spans:
            self.max_end.append(max(s[1], self.max_end[-1]) if self.max_end else s[1])

    def has(self, n: int) -> bool:
        i = bisect.bisect_right(self.starts, n) - 1
        return i >= 0 and self.max_end[i] >= n


class _Reserved(_Coverage):
    """Reserved numbers (reported when empty, out of range or overlapping) plus reserved names."""

    def __init__(
        self,
        rep: Reporter,
        base: str,
        doc: dict[str, Any] | None,
        bounds: tuple[int, int],
        what: str,
        numbers_key: str = "numbers",
    ) -> None:
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
            elif lo < bounds[0] or hi > bounds[1]:
                rep.error(
                    base + ptr(numbers_key, i),
                    "reserved-out-of-range",
                    f"reserved {_span((lo, hi, i))} is outside the {what} range {bounds[0]} .. {bounds[1]}",
                    f"reserve only {what}s that can exist",
                )
        spans = [s for s in spans if s[0] <= s[1]]
        super().__init__(spans)
        for prev, cur in itertools.pairwise(self.spans):
            if cur[0] <= prev[1]:
                rep.error(
                    base + ptr(numbers_key, cur[2]),
                    "overlapping-reserved",
                    f"reserved {_span(cur)} overlaps reserved {_span(prev)}",
                    "merge the two entries",
                )
        self.names = set(doc.get("names", []))


def _span(s: tuple[int, int, int]) -> str:
    return str(s[0]) if s[0] == s[1] else f"[{s[0]}, {s[1]}]"


class SemanticChecker:
    def __init__(self, checked: Checkable, rep: Reporter) -> None:
        self.checked = checked
        self.doc = checked.document
        self.rep = rep
        self.enums: dict[str, Any] = self.doc.get("enums", {})
        self.messages: dict[str, Any] = self.doc.get("messages", {})

    def run(self) -> None:
        self.package()
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

    def package(self) -> None:
        if self.checked.is_dropped("package"):
            return
        package = self.doc["package"]
        if not _VERSION_SUFFIX.fullmatch(package.rsplit(".", 1)[-1]):
            self.rep.error(
                "/package",
                "package-version-suffix",
                f"package {package!r} does not end in a version component",
                f"end it in a version, e.g. {package}.v1: a breaking change then gets a new package, v2",
            )

    def unresolved(self, pointer: str, name: str, what: str) -> None:
        if self.checked.broken_type(name):
            return  # declared, but with schema errors already reported
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
        reserved = _Reserved(rep, base + "/reserved", enum.get("reserved"), ENUM_NUMBERS, "enum number")
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
        else:
            self.enum_zero(name, values, base, by_number[0])
        self.enum_attributes(name, enum, base)
        if "transitions" in enum:
            self.transitions(name, enum, base)

    def enum_zero(self, name: str, values: dict[str, Any], base: str, zero: str) -> None:
        zptr = base + ptr("values", zero)
        first = next(iter(values))
        if first != zero:
            self.rep.error(
                zptr,
                "enum-zero-not-first",
                f"{name}.{zero} has number 0 but {name}.{first} is declared first",
                "declare the zero value first: protoc rejects a proto3 enum whose first value is not 0",
            )
        if zero != "unspecified":
            self.rep.error(
                zptr,
                "enum-zero-value-name",
                f"the zero value of {name} is named {zero!r}, not 'unspecified'",
                "name it unspecified: 0 is what an unset or unknown field reads as, never a real choice",
            )

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
                        f"write a JSON literal of type {spec['type']}",
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
        for vname, value in values.items():
            if value["number"] != 0 and vname not in mentions:
                rep.error(
                    base + ptr("values", vname),
                    "transition-missing-state",
                    f"{name}.{vname} is not a state of {name}'s state machine",
                    "list it as initial or terminal, or give it edges: every non-zero value is a state",
                )
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
        reserved = _Reserved(rep, base + "/reserved", message.get("reserved"), FIELD_NUMBERS, "field number")
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
            if (
                ftype not in SCALARS
                and ftype not in self.enums
                and ftype not in self.messages
                and not self.checked.broken_type(ftype)
            ):
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
            where = fptr + "/json_name" if "json_name" in f else fptr
            if other != fname:
                rep.error(
                    where,
                    "json-name-collision",
                    f"{name}.{fname} and {name}.{other} both have the JSON name {jname!r}",
                    "set a distinct json_name on one of them",
                )
            elif jname != fname and jname in fields:
                # ProtoJSON parsers accept a field's name as well as its JSON name.
                rep.error(
                    where,
                    "json-name-is-field-name",
                    f"the JSON name {jname!r} of {name}.{fname} is the name of field {name}.{jname}",
                    "a ProtoJSON parser accepts both spellings of a field, so the key would mean two fields; "
                    "choose another json_name",
                )
        for oname in oneofs:
            if oname in fields:
                rep.error(
                    base + ptr("oneofs", oname),
                    "oneof-name-conflict",
                    f"oneof {name}.{oname} has the name of field {name}.{oname}",
                    "oneofs and fields share one scope in protobuf; rename the oneof",
                )
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
        if self.checked.broken_type(ftype):
            return  # whether a default fits depends on that type, which has schema errors
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
                self.rep.error(
                    dptr,
                    "invalid-default",
                    f"default {value!r} of {name}.{fname} ({ftype}): {problem}",
                    f"write a JSON literal of type {ftype}",
                )

    # ---- services ----

    def services(self) -> None:
        rep = self.rep
        ids: dict[int, str] = {}
        routes: dict[tuple[str, str], str] = {}
        services: dict[str, Any] = self.doc.get("services", {})
        reserved_by = {
            sname: _Reserved(
                rep, ptr("services", sname, "reserved"), service.get("reserved"), METHOD_IDS, "method id", "ids"
            )
            for sname, service in services.items()
        }
        # Method ids share one envelope, so an id one service reserves is reserved in all of them.
        reserved_anywhere = _Coverage([span for r in reserved_by.values() for span in r.spans])
        for sname, service in services.items():
            base = ptr("services", sname)
            reserved = reserved_by[sname]
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
                elif reserved_anywhere.has(mid):
                    owner = next(s for s, r in reserved_by.items() if r.has(mid))
                    rep.error(
                        mptr + "/id",
                        "reserved-id-used",
                        f"{sname}.{mname} uses method id {mid}, which service {owner} reserves "
                        f"({rep.where(ptr('services', owner, 'reserved', 'ids'))})",
                        "method ids share one envelope, so a reserved id is reserved in every service; pick another",
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
        self.envelope_auth(ids, reserved_by)

    def envelope_auth(self, ids: dict[int, str], reserved_by: dict[str, _Reserved]) -> None:
        """The ID a protocol's `auth` sends the token under shares the envelope's method_id with every method,
        so no method and no reserved ID may have it; only the envelope family carries method IDs."""
        rep = self.rep
        protocols: dict[str, Any] = self.doc.get("wire", {}).get("protocols", {})
        for pname, proto in protocols.items():
            if "auth" not in proto:
                continue
            aptr = ptr("wire", "protocols", pname, "auth")
            if proto["family"] != "envelope":
                rep.error(
                    aptr,
                    "auth-not-envelope",
                    f"protocol {pname} is of family {proto['family']!r}; only the envelope family sends its token "
                    "under a method ID",
                    "remove auth; MoQT carries its token in CLIENT_SETUP's AUTHORIZATION TOKEN (the top-level auth)",
                )
                continue
            mid = proto["auth"]["method_id"]
            if mid in ids:
                rep.error(
                    aptr + "/method_id",
                    "auth-method-id-collision",
                    f"auth method id {mid} of {pname} is the id of method {ids[mid]} ({rep.where(ids[mid])})",
                    "the server could not tell the token from a call; give auth an id no method uses (0)",
                )
            owner = next((s for s, r in reserved_by.items() if r.has(mid)), None)
            if owner is not None:
                rep.error(
                    aptr + "/method_id",
                    "auth-method-id-collision",
                    f"auth method id {mid} of {pname} is reserved by service {owner} "
                    f"({rep.where(ptr('services', owner, 'reserved', 'ids'))})",
                    "a reserved id may still reach old servers as a call; give auth an id no method uses (0)",
                )

    def http(
        self, sname: str, mname: str, method: dict[str, Any], mptr: str, routes: dict[tuple[str, str], str]
    ) -> None:
        rep = self.rep
        http = method["http"]
        path: str = http["path"]
        hptr = mptr + "/http"
        streaming = method.get("streaming", "none")
        if streaming in ("client", "bidi"):
            rep.error(
                hptr,
                "http-streaming-requests",
                f"{sname}.{mname} streams its requests ({streaming}); REST carries one request body",
                "remove http and call it over the envelope RPC, or make it unary or server streaming "
                "(docs/idl-format.md says why)",
            )
        request = self.messages.get(method["request"])
        fields: dict[str, Any] = request.get("fields", {}) if request is not None else {}
        variables: list[str] = _BRACED.findall(path)
        if path.count("{") != path.count("}") or len(variables) != path.count("{"):
            rep.error(
                hptr + "/path",
                "http-path-variable",
                f"path {path!r} has unbalanced braces",
                "write variables as {field}",
            )
        else:
            problem = _path_template_problem(path)
            if problem:
                rep.error(
                    hptr + "/path",
                    "http-path-template",
                    f"path {path!r}: {problem}",
                    "write /literal/{field}/... with an optional :verb at the end, as google.api.http does",
                )
        seen_vars: set[str] = set()
        for var in variables:
            if var in seen_vars:
                rep.error(
                    hptr + "/path",
                    "http-path-variable-repeated",
                    f"path {path!r} binds {{{var}}} more than once",
                    "a field fills one place in the path; remove the repeated variable",
                )
            seen_vars.add(var)
            if request is None:
                continue
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
        verb = http["method"]
        if body is not None and verb in _NO_BODY_VERBS:
            rep.error(
                hptr + "/body",
                "http-body-not-allowed",
                f"{sname}.{mname} is {verb} with a body",
                f"remove body: a {verb} request carries none; the fields not in the path become query parameters",
            )
        elif body is not None and body != "*" and request is not None:
            f = fields.get(body)
            if body in seen_vars:
                rep.error(
                    hptr + "/body",
                    "http-body",
                    f"body field {method['request']}.{body} is also a path variable",
                    "bind each field once: in the path or as the body",
                )
            elif f is None:
                rep.error(
                    hptr + "/body",
                    "http-body",
                    f"body {body!r} is not a field of {method['request']}",
                    'use "*" or the name of a message field of the request',
                )
            elif (f["type"] not in self.messages and not self.checked.broken_type(f["type"])) or f.get("repeated"):
                rep.error(
                    hptr + "/body",
                    "http-body",
                    f"body field {method['request']}.{body} is not a singular message field",
                    'use "*" or a message-typed field',
                )
        if verb in _IDEMPOTENT_VERBS and not method.get("idempotent"):
            rep.error(
                mptr + ("/idempotent" if "idempotent" in method else ""),
                "http-method-idempotency",
                f"{sname}.{mname} is routed as {verb} but is not marked idempotent",
                f'{verb} is idempotent in HTTP, so clients and proxies may retry it: set "idempotent": true '
                "or use POST",
            )
        if body != "*" and request is not None:
            self.query_parameters(method["request"], fields, seen_vars | {body or ""}, hptr)
        route = (verb, _BRACED.sub("{}", path))
        first = routes.setdefault(route, hptr)
        if first != hptr:
            rep.error(
                hptr + "/path",
                "duplicate-http-route",
                f"{http['method']} {path} is already routed by {first} ({rep.where(first)})",
                "give each method its own (verb, path)",
            )

    def query_parameters(self, request: str, fields: dict[str, Any], bound: set[str], hptr: str) -> None:
        """Request fields neither in the path nor the body travel as query parameters, which google.api.http
        allows for scalars, repeated scalars and singular messages (one parameter per nested field). The first
        offending field is reported, once per method: a large request graph would otherwise repeat one cause
        through every path that reaches it."""
        pending = [(f"{request}.{fname}", f) for fname, f in fields.items() if fname not in bound]
        expanded: set[str] = {request}
        while pending:
            where, f = pending.pop()
            ftype = f["type"]
            if ftype not in self.messages:
                continue
            if f.get("repeated"):
                self.rep.error(
                    hptr,
                    "http-query-parameter",
                    f"{where} would be a query parameter, but it is a repeated message",
                    'bind it in the body ("body": "*" or a field holding it) or use another verb',
                )
                return
            if ftype not in expanded:
                expanded.add(ftype)
                pending += [(f"{where}.{n}", nested) for n, nested in self.messages[ftype].get("fields", {}).items()]

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
                if track["kind"] not in kinds and not self.checked.is_dropped("tracks", "kinds"):
                    rep.error(
                        base + ptr("tracks", tname, "kind"),
                        "unknown-track-kind",
                        f"track {tname} has kind {track['kind']!r}, not declared under tracks.kinds",
                        f"use one of: {', '.join(kinds) or '(none declared)'}",
                    )
            for rname, role in bridge["roles"].items():
                for key in ("publish", "subscribe"):
                    verb = "publishes" if key == "publish" else "subscribes to"
                    for i, tname in enumerate(role.get(key, [])):
                        if tname not in tracks:
                            rep.error(
                                base + ptr("roles", rname, key, i),
                                "unknown-track",
                                f"role {rname} {verb} {tname!r}, which is not a track of {bname}",
                                f"use one of: {', '.join(tracks)}",
                            )


def _path_template_problem(path: str) -> str | None:
    """What makes a path (braces already balanced) not a google.api.http template, or None."""
    segments = path.split("/")[1:]
    last = segments[-1]
    if ":" in last.rsplit("}", 1)[-1]:
        last, verb = last.rsplit(":", 1)
        segments[-1] = last
        if not _LITERAL_SEGMENT.fullmatch(verb):
            return f"the custom verb {verb!r} is not a literal"
    for i, segment in enumerate(segments):
        if not segment:
            return "it has an empty segment" if i < len(segments) - 1 else "it ends with '/'"
        if not (_LITERAL_SEGMENT.fullmatch(segment) or _VARIABLE_SEGMENT.fullmatch(segment)):
            if ":" in segment:
                return f"segment {segment!r} has a ':' (a custom verb goes only at the end)"
            return f"segment {segment!r} mixes a variable with other text (a variable is a whole segment)"
    return None


def _reachable(graph: dict[str, list[str]], roots: set[str]) -> set[str]:
    seen = {r for r in roots if r in graph}
    queue = deque(seen)
    while queue:
        for nxt in graph[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen
