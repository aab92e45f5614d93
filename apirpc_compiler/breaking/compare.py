"""Compare two IRs (OLD, NEW) and list every breaking change as a Finding.

Items are matched by name. When a named item disappears but NEW holds an item with the same
number (field, enum value) or id (method) under a name OLD did not have, it is a rename, not a
removal plus an addition: that is what a reader of the diff means, and it keeps the wire-level
judgement (the number still means the same thing) separate from the source-level one. A method
whose id turns up in another service was moved (ids are unique across the API).

A field, request, response or claims type swapped for another message or enum is compared
structurally, as if the old type had been edited into the new one (the same rules, collected
instead of reported), following every swap met inside, cycles included: the swap takes the tier
of the worst difference it reaches.

Pointers are RFC 6901 pointers into the IDL document, so that findings can be located in NEW
and acknowledged by (rule, pointer).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from ..ir import model as m
from ..ir.graph import strongly_connected
from .rules import Finding, Tier, finding, ptr
from .wire_diff import compare_wire


def _reserved_number(ranges: Iterable[list[int]], n: int) -> bool:
    return any(lo <= n <= hi for lo, hi in ranges)


def _shrunk_ranges(old: list[list[int]], new: list[list[int]]) -> list[int]:
    """Numbers reserved in OLD and not in NEW (ranges compared by coverage, not spelling)."""
    lost: list[int] = []
    for lo, hi in old:
        if hi - lo > 100_000:  # compare huge ranges by their ends only
            lost.extend(n for n in (lo, hi) if not _reserved_number(new, n))
            continue
        lost.extend(n for n in range(lo, hi + 1) if not _reserved_number(new, n))
    return lost


def _fmt_numbers(ns: list[int]) -> str:
    return ", ".join(str(n) for n in ns[:10]) + (", …" if len(ns) > 10 else "")


# A type swap to compare structurally: (kind, OLD type name, NEW type name).
_Swap = tuple[Literal["message", "enum"], str, str]


class _Ctx:
    def __init__(self, old: m.IR, new: m.IR) -> None:
        self.old = old
        self.new = new
        self.old_messages = {x["name"]: x for x in old["messages"]}
        self.new_messages = {x["name"]: x for x in new["messages"]}
        self.old_enums = {x["name"]: x for x in old["enums"]}
        self.new_enums = {x["name"]: x for x in new["enums"]}
        # Method id -> (service, method) in NEW: ids are unique across the API, so an id that
        # turns up in another service is the same method, moved.
        self.new_method_homes = {x["id"]: (s, x) for s in new["services"] for x in s["methods"]}
        self.out: list[Finding] = []
        # While a swap's own differences are collected, the swaps met inside it are deferred
        # here instead of being compared recursively (that is what makes cycles terminate).
        self._deferred: list[_Swap] | None = None
        self._local: dict[_Swap, tuple[list[Finding], list[_Swap]]] = {}
        self._verdict: dict[_Swap, Finding | None] = {}

    def add(self, rule: str, tier: Tier, pointer: str, message: str) -> None:
        self.out.append(finding(rule, tier, pointer, message))

    # ---- type compatibility ----

    def _swap_local(self, swap: _Swap) -> tuple[list[Finding], list[_Swap]]:
        """What changes between OLD's type and NEW's type of a swap, judged as if OLD's had been
        edited into NEW's, without descending into the swaps it contains (returned instead)."""
        hit = self._local.get(swap)
        if hit is None:
            kind, old_name, new_name = swap
            saved_out, saved_deferred = self.out, self._deferred
            self.out, self._deferred = [], []
            try:
                if kind == "message":
                    _compare_message(self, self.old_messages[old_name], self.new_messages[new_name])
                else:
                    _compare_enum(self, self.old_enums[old_name], self.new_enums[new_name])
                hit = (self.out, self._deferred)
            finally:
                self.out, self._deferred = saved_out, saved_deferred
            self._local[swap] = hit
        return hit

    def worst_difference(self, swap: _Swap) -> Finding | None:
        """The most breaking difference anywhere in the structure reachable from a type swap, or
        None when the two types are identical all the way down (names and ProtoJSON names too).

        Swaps that reach each other (recursive types) share one verdict, so the verdicts are
        computed per strongly connected component of the swap graph (Tarjan, iterative): each
        swap is compared once however many fields use it, and a verdict is only cached once its
        whole cycle has been seen, never from the middle of it.
        """
        if swap not in self._verdict:

            def nested(v: _Swap) -> list[_Swap]:
                return [w for w in self._swap_local(v)[1] if w not in self._verdict]

            for component in strongly_connected([swap], nested):
                # The first worst difference met walking the component's swaps last-visited first,
                # each swap's own differences before the verdicts of the components it reaches.
                members = set(component)
                findings: list[Finding | None] = []
                for v in component:
                    own, inner = self._swap_local(v)
                    findings.append(_worse(*own))
                    findings.extend(self._verdict[w] for w in inner if w not in members)
                verdict = _worse(*findings)
                for v in component:
                    self._verdict[v] = verdict
        return self._verdict[swap]

    def swap_change(self, kind: Literal["message", "enum"], old_name: str, new_name: str) -> tuple[Tier, str]:
        """The tier of replacing OLD's type `old_name` by NEW's `new_name`, with why."""
        if self._deferred is not None:
            self._deferred.append((kind, old_name, new_name))
            return Tier.SOURCE, f"another {kind}, compared structurally with it"
        worst = self.worst_difference((kind, old_name, new_name))
        if worst is None:
            return Tier.SOURCE, f"a structurally identical {kind}"
        return worst.tier, f"{new_name} differs from {old_name}: {worst.message}"

    def type_change(self, old: m.TypeRef, new: m.TypeRef) -> tuple[Tier, str] | None:
        """The tier of changing a field's type from `old` to `new`, with why; None if unchanged."""
        if old == new:
            return None  # a same-named message or enum is compared on its own
        ok, nk = old["kind"], new["kind"]
        on, nn = old["name"], new["name"]
        if ok == "scalar" and nk == "scalar":
            for group in _SCALAR_GROUPS:
                if on in group and nn in group:
                    return Tier.WIRE_JSON, "same binary encoding, different ProtoJSON or value range"
            if (on, nn) == ("bytes", "string"):
                return Tier.WIRE_JSON, "same binary encoding; ProtoJSON changes from base64 to text"
            if (on, nn) == ("string", "bytes"):
                return Tier.WIRE, "old readers reject the non-UTF-8 bytes new writers may send"
            return Tier.WIRE, "incompatible binary encoding"
        if {ok, nk} == {"scalar", "enum"}:
            scalar = on if ok == "scalar" else nn
            if scalar in _VARINT:
                return Tier.WIRE_JSON, "same varint encoding; ProtoJSON switches between names and numbers"
            return Tier.WIRE, "incompatible binary encoding"
        if ok == nk and ok != "scalar":
            return self.swap_change("message" if ok == "message" else "enum", on, nn)
        return Tier.WIRE, "incompatible binary encoding"


def _worse(*findings: Finding | None) -> Finding | None:
    """The most breaking of `findings` (the first of equals), None if there is none."""
    worst: Finding | None = None
    for f in findings:
        if f is not None and (worst is None or f.tier > worst.tier):
            worst = f
    return worst


_VARINT = frozenset({"bool", "int32", "int64", "uint32", "uint64"})
_SCALAR_GROUPS = (
    _VARINT,
    frozenset({"sint32", "sint64"}),
    frozenset({"fixed32", "sfixed32"}),
    frozenset({"fixed64", "sfixed64"}),
)


def _type_str(t: m.TypeRef) -> str:
    return t["name"]


# ---- messages ----


def _compare_field(c: _Ctx, msg: str, old_msg: m.Message, new_msg: m.Message, of: m.Field, nf: m.Field) -> None:
    p = ptr("messages", msg, "fields", nf["name"])
    if of["number"] != nf["number"]:
        c.add(
            "field-number-changed",
            Tier.WIRE,
            ptr("messages", msg, "fields", nf["name"], "number"),
            f"field {msg}.{nf['name']} changed number {of['number']} -> {nf['number']}",
        )
    change = c.type_change(of["type"], nf["type"])
    if change is not None:
        tier, why = change
        c.add(
            "field-type-changed",
            tier,
            p + "/type",
            f"field {msg}.{nf['name']} changed type {_type_str(of['type'])} -> {_type_str(nf['type'])} ({why})",
        )
    ol, nl = of["label"], nf["label"]
    oneof_moved = of["oneof"] != nf["oneof"]
    if ol != nl:
        if "repeated" in (ol, nl):
            c.add(
                "field-label-changed",
                Tier.WIRE,
                p,
                f"field {msg}.{nf['name']} changed from {ol} to {nl} (repeated and singular encodings differ)",
            )
        elif not oneof_moved:  # entering or leaving a oneof implies the presence change; reported below
            if ol == "optional":
                c.add(
                    "field-label-changed",
                    Tier.WIRE,
                    p,
                    f"field {msg}.{nf['name']} lost explicit presence: new writers omit zero values, which old "
                    "readers take as unset (and read as the default)",
                )
            else:
                c.add(
                    "field-label-changed",
                    Tier.SOURCE,
                    p,
                    f"field {msg}.{nf['name']} gained explicit presence: generated accessors change",
                )
    if oneof_moved:
        _compare_oneof(c, msg, old_msg, new_msg, of, nf)
    if of["json_name"] != nf["json_name"]:
        c.add(
            "field-json-name-changed",
            Tier.WIRE_JSON,
            p + "/json_name",
            f"field {msg}.{nf['name']} changed ProtoJSON name {of['json_name']!r} -> {nf['json_name']!r}",
        )
    if of["default"] != nf["default"] and change is None:
        c.add(
            "field-default-changed",
            Tier.SOURCE,
            p + "/default",
            f"field {msg}.{nf['name']} changed default {of['default']!r} -> {nf['default']!r}",
        )


def _compare_oneof(c: _Ctx, msg: str, old_msg: m.Message, new_msg: m.Message, of: m.Field, nf: m.Field) -> None:
    p = ptr("messages", msg, "fields", nf["name"], "oneof")

    def members(mm: m.Message, oneof: str | None) -> set[int]:
        return {f["number"] for f in mm["fields"] if oneof is not None and f["oneof"] == oneof}

    o_old, o_new = of["oneof"], nf["oneof"]
    if o_old is not None and o_new is not None and members(old_msg, o_old) == members(new_msg, o_new):
        c.add(
            "field-oneof-changed",
            Tier.SOURCE,
            p,
            f"field {msg}.{nf['name']}: oneof {o_old} renamed to {o_new} with the same members",
        )
        return

    def desc(o: str | None) -> str:
        return "no oneof" if o is None else f"oneof {o}"

    c.add(
        "field-oneof-changed",
        Tier.WIRE,
        p,
        f"field {msg}.{nf['name']} moved from {desc(o_old)} to {desc(o_new)} (setting one member clears the others)",
    )


def _compare_message(c: _Ctx, old: m.Message, new: m.Message) -> None:
    name = new["name"]
    new_by_name = {f["name"]: f for f in new["fields"]}
    new_by_number = {f["number"]: f for f in new["fields"]}
    old_names = {f["name"] for f in old["fields"]}
    for of in old["fields"]:
        nf = new_by_name.get(of["name"])
        if nf is None:
            renamed = new_by_number.get(of["number"])
            if renamed is not None and renamed["name"] not in old_names:
                c.add(
                    "field-name-changed",
                    Tier.SOURCE,
                    ptr("messages", name, "fields", renamed["name"]),
                    f"field {name}.{of['name']} renamed to {renamed['name']}",
                )
                _compare_field(c, name, old, new, of, renamed)
                continue
            num_ok = _reserved_number(new["reserved"]["numbers"], of["number"])
            name_ok = of["name"] in new["reserved"]["names"]
            # Reserving the name does not reserve a custom ProtoJSON name (a JWT claim's key).
            heir = next((f["name"] for f in new["fields"] if f["json_name"] == of["json_name"]), None)
            tier = Tier.SOURCE if num_ok and name_ok and heir is None else Tier.WIRE_JSON if num_ok else Tier.WIRE
            missing = [w for w, ok in ((f"number {of['number']}", num_ok), (f"name {of['name']!r}", name_ok)) if not ok]
            c.add(
                "field-removed",
                tier,
                ptr("messages", name, "fields", of["name"]),
                f"field {name}.{of['name']} ({of['number']}) was removed"
                + (f" without reserving its {' and '.join(missing)}" if missing else " (number and name reserved)")
                + (f"; its ProtoJSON name {of['json_name']!r} now belongs to field {heir}" if heir else ""),
            )
            continue
        _compare_field(c, name, old, new, of, nf)
    _compare_reserved(
        c, ptr("messages", name, "reserved"), f"message {name}", old["reserved"], new["reserved"], "numbers"
    )


def _compare_reserved(c: _Ctx, p: str, what: str, old: m.Reserved, new: m.Reserved, key: str) -> None:
    lost = _shrunk_ranges(old["numbers"], new["numbers"])
    if lost:
        c.add("reserved-range-shrunk", Tier.WIRE, p + "/" + key, f"{what} no longer reserves {_fmt_numbers(lost)}")
    names = [n for n in old["names"] if n not in new["names"]]
    if names:
        c.add("reserved-name-removed", Tier.WIRE, p + "/names", f"{what} no longer reserves {', '.join(names)}")


# ---- enums ----


def _compare_enum(c: _Ctx, old: m.Enum, new: m.Enum) -> None:
    name = new["name"]
    new_by_name = {v["name"]: v for v in new["values"]}
    new_by_number: dict[int, m.EnumValue] = {}
    for v in new["values"]:
        new_by_number.setdefault(v["number"], v)
    old_names = {v["name"] for v in old["values"]}
    for ov in old["values"]:
        nv = new_by_name.get(ov["name"])
        if nv is None:
            renamed = new_by_number.get(ov["number"])
            if renamed is not None and renamed["name"] not in old_names:
                c.add(
                    "enum-value-name-changed",
                    Tier.WIRE_JSON,
                    ptr("enums", name, "values", renamed["name"]),
                    f"enum value {name}.{ov['name']} renamed to {renamed['name']} "
                    f"(ProtoJSON {ov['json_name']} -> {renamed['json_name']})",
                )
                _compare_attributes(c, name, ov, renamed)
                continue
            num_ok = _reserved_number(new["reserved"]["numbers"], ov["number"])
            name_ok = ov["name"] in new["reserved"]["names"]
            tier = Tier.SOURCE if num_ok and name_ok else Tier.WIRE_JSON if num_ok else Tier.WIRE
            missing = [w for w, ok in ((f"number {ov['number']}", num_ok), (f"name {ov['name']!r}", name_ok)) if not ok]
            c.add(
                "enum-value-removed",
                tier,
                ptr("enums", name, "values", ov["name"]),
                f"enum value {name}.{ov['name']} ({ov['number']}) was removed"
                + (f" without reserving its {' and '.join(missing)}" if missing else " (number and name reserved)"),
            )
            continue
        if ov["json_name"] != nv["json_name"]:  # only across an enum swap: the name carries the enum's prefix
            c.add(
                "enum-value-name-changed",
                Tier.WIRE_JSON,
                ptr("enums", name, "values", nv["name"]),
                f"enum value {name}.{nv['name']} changed ProtoJSON name {ov['json_name']} -> {nv['json_name']}",
            )
        if ov["number"] != nv["number"]:
            c.add(
                "enum-value-number-changed",
                Tier.WIRE,
                ptr("enums", name, "values", nv["name"], "number"),
                f"enum value {name}.{nv['name']} changed number {ov['number']} -> {nv['number']}",
            )
        _compare_attributes(c, name, ov, nv)
    old_attrs = {a["name"]: a for a in old["attributes"]}
    new_attrs = {a["name"]: a for a in new["attributes"]}
    for an, oa in old_attrs.items():
        na = new_attrs.get(an)
        if na is None:
            c.add(
                "enum-attribute-changed",
                Tier.SOURCE,
                ptr("enums", name, "attributes", an),
                f"enum {name} attribute {an} was removed",
            )
        elif na["type"] != oa["type"]:
            c.add(
                "enum-attribute-changed",
                Tier.SOURCE,
                ptr("enums", name, "attributes", an, "type"),
                f"enum {name} attribute {an} changed type {oa['type']} -> {na['type']}",
            )
    _compare_transitions(c, old, new)
    _compare_reserved(c, ptr("enums", name, "reserved"), f"enum {name}", old["reserved"], new["reserved"], "numbers")


def _compare_attributes(c: _Ctx, enum: str, ov: m.EnumValue, nv: m.EnumValue) -> None:
    for attr, value in ov["attributes"].items():
        if attr in nv["attributes"] and nv["attributes"][attr] != value:
            c.add(
                "enum-attribute-changed",
                Tier.SOURCE,
                ptr("enums", enum, "values", nv["name"], "attributes", attr),
                f"enum value {enum}.{nv['name']} changed {attr} {value!r} -> {nv['attributes'][attr]!r}",
            )


class _Machine:
    """A declared state machine keyed by enum numbers: the wire carries numbers, so a state that
    was renamed is still the same state and one that was renumbered is a different one."""

    def __init__(self, enum: m.Enum, t: m.Transitions) -> None:
        number = {v["name"]: v["number"] for v in enum["values"]}
        self.name = {number[s]: s for s in t["edges"]}  # every state of the graph is a key
        self.moves = {number[s]: {number[d] for d in ds} for s, ds in t["edges"].items()}
        self.initial = {number[s] for s in t["initial"]}
        self.terminal = {number[s] for s in t["terminal"]}

    def names(self, states: set[int]) -> str:
        return ", ".join(self.name[s] for s in sorted(states))


def _compare_transitions(c: _Ctx, old: m.Enum, new: m.Enum) -> None:
    """Judge a state machine's change by who breaks (docs/breaking.md, "State machines"): WIRE
    when an old peer that enforces the machine rejects or misreads what a new one sends (a new
    state, move or initial state; a changed terminal state); WIRE_JSON when old clients only see
    a request they could make refused with a declared error (a move or state taken away)."""
    ot, nt = old["transitions"], new["transitions"]
    if ot is None:
        return  # a machine declared anew constrains nothing that old peers do
    e = new["name"]
    base = ("enums", e, "transitions")
    if nt is None:
        c.add(
            "enum-state-machine-removed",
            Tier.WIRE,
            ptr(*base),
            f"enum {e} no longer declares its state machine: new peers may make any move, which old peers "
            "that enforce the machine reject",
        )
        return
    was, now = _Machine(old, ot), _Machine(new, nt)
    common = was.moves.keys() & now.moves.keys()
    # A new or removed state carries its moves, initial and terminal flags with it; a state that
    # became (or stopped being) terminal lost (or gained) every move out of it. Those are not
    # reported again one by one.
    for s in sorted(now.moves.keys() - common):
        c.add(
            "enum-state-added",
            Tier.WIRE,
            ptr(*base, "edges", now.name[s]),
            f"enum {e}: state {now.name[s]} joined the state machine; old peers that enforce it reject every "
            "move into it",
        )
    for s in sorted(was.moves.keys() - common):
        c.add(
            "enum-state-removed",
            Tier.WIRE_JSON,
            ptr(*base, "edges", was.name[s]),
            f"enum {e}: state {was.name[s]} left the state machine; moves into it that old clients ask for are refused",
        )
    reterminated = (was.terminal ^ now.terminal) & common
    for s in sorted(common - reterminated):
        gained = (now.moves[s] & common) - was.moves[s]
        lost = (was.moves[s] & common) - now.moves[s]
        p = ptr(*base, "edges", now.name[s])
        if gained:
            c.add(
                "enum-transition-added",
                Tier.WIRE,
                p,
                f"enum {e}: new move{'s' if len(gained) > 1 else ''} {now.name[s]} -> {now.names(gained)}, which old "
                "peers that enforce the machine reject",
            )
        if lost:
            c.add(
                "enum-transition-removed",
                Tier.WIRE_JSON,
                p,
                f"enum {e}: move{'s' if len(lost) > 1 else ''} {now.name[s]} -> {now.names(lost)} removed; old "
                "clients that ask for it are refused",
            )
    for rule, tier, key, states, why in (
        (
            "enum-initial-state-added",
            Tier.WIRE,
            "initial",
            now.initial - was.initial,
            "old peers that enforce the machine reject a value starting there",
        ),
        (
            "enum-initial-state-removed",
            Tier.WIRE_JSON,
            "initial",
            was.initial - now.initial,
            "old clients that start there are refused",
        ),
        (
            "enum-terminal-state-added",
            Tier.WIRE,
            "terminal",
            now.terminal - was.terminal,
            "old peers wait for a move out of it that never comes",
        ),
        (
            "enum-terminal-state-removed",
            Tier.WIRE,
            "terminal",
            was.terminal - now.terminal,
            "old peers take it as the end and reject the moves out of it",
        ),
    ):
        states &= common
        if states:
            verb = "became" if rule.endswith("added") else "is no longer"
            article = "an" if key == "initial" else "a"
            c.add(rule, tier, ptr(*base, key), f"enum {e}: {now.names(states)} {verb} {article} {key} state; {why}")


# ---- services ----


def _method_type_change(c: _Ctx, rule: str, p: str, what: str, old: str, new: str) -> None:
    if old != new:
        tier, why = c.swap_change("message", old, new)
        c.add(rule, tier, p, f"{what} changed {old} -> {new} ({why})")


def _compare_method(c: _Ctx, svc: m.Service, om: m.Method, nm: m.Method) -> None:
    s = svc["name"]
    p = ptr("services", s, "methods", nm["name"])
    label = f"method {s}.{nm['name']}"
    if om["id"] != nm["id"]:
        c.add("method-id-changed", Tier.WIRE, p + "/id", f"{label} changed id {om['id']} -> {nm['id']}")
    _method_type_change(
        c, "method-request-type-changed", p + "/request", f"{label} request", om["request"], nm["request"]
    )
    _method_type_change(
        c, "method-response-type-changed", p + "/response", f"{label} response", om["response"], nm["response"]
    )
    if om["streaming"] != nm["streaming"]:
        c.add(
            "method-streaming-changed",
            Tier.WIRE,
            p + "/streaming",
            f"{label} changed streaming {om['streaming']} -> {nm['streaming']}",
        )
    if om["idempotent"] != nm["idempotent"]:
        c.add(
            "method-idempotency-changed",
            Tier.SOURCE,
            p + "/idempotent",
            f"{label} changed idempotent {om['idempotent']} -> {nm['idempotent']}",
        )
    oh, nh = om["http"], nm["http"]
    if oh is not None:
        if nh is None:
            c.add(
                "http-route-changed",
                Tier.WIRE_JSON,
                p + "/http",
                f"{label} lost its HTTP route {oh['method']} {oh['path']}",
            )
        else:
            changes = [f"{k} {oh[k]!r} -> {nh[k]!r}" for k in ("method", "path", "body") if oh[k] != nh[k]]
            if changes:
                c.add(
                    "http-route-changed",
                    Tier.WIRE_JSON,
                    p + "/http",
                    f"{label} HTTP route changed: {'; '.join(changes)}",
                )


def _moved(c: _Ctx, old_svc: m.Service, om: m.Method) -> bool:
    """Report `om` as moved if its id now belongs to another service (ids are unique across the
    API, and neither the envelope nor an HTTP route names the service): generated clients change,
    the wire does not, unless the method left the legacy envelope."""
    home = c.new_method_homes.get(om["id"])
    if home is None or home[0]["name"] == old_svc["name"]:
        return False
    new_svc, nm = home
    leaves_envelope = old_svc["legacy"] and not new_svc["legacy"]
    c.add(
        "method-moved",
        Tier.WIRE if leaves_envelope else Tier.SOURCE,
        ptr("services", new_svc["name"], "methods", nm["name"]),
        f"method {old_svc['name']}.{om['name']} moved to {new_svc['name']}.{nm['name']} keeping id {om['id']}"
        + ("; the envelope no longer serves it (not a legacy service)" if leaves_envelope else ""),
    )
    _compare_method(c, new_svc, om, nm)
    return True


def _compare_service(c: _Ctx, old: m.Service, new: m.Service) -> None:
    s = new["name"]
    if old["legacy"] and not new["legacy"]:
        c.add(
            "service-legacy-changed",
            Tier.WIRE,
            ptr("services", s, "legacy"),
            f"service {s} is no longer legacy: the envelope no longer serves its {len(new['methods'])} method(s) by id",
        )
    new_by_name = {x["name"]: x for x in new["methods"]}
    new_by_id = {x["id"]: x for x in new["methods"]}
    old_names = {x["name"] for x in old["methods"]}
    for om in old["methods"]:
        nm = new_by_name.get(om["name"])
        if nm is None:
            renamed = new_by_id.get(om["id"])
            if renamed is not None and renamed["name"] not in old_names:
                c.add(
                    "method-name-changed",
                    Tier.SOURCE,
                    ptr("services", s, "methods", renamed["name"]),
                    f"method {s}.{om['name']} renamed to {renamed['name']}",
                )
                _compare_method(c, new, om, renamed)
                continue
            if _moved(c, old, om):
                continue
            legacy = old["legacy"] or new["legacy"]
            c.add(
                "method-removed",
                Tier.WIRE if legacy else Tier.WIRE_JSON,
                ptr("services", s, "methods", om["name"]),
                f"method {s}.{om['name']} (id {om['id']}) was removed"
                + ("" if legacy else " with its HTTP route" if om["http"] else ""),
            )
            continue
        _compare_method(c, new, om, nm)
    p = ptr("services", s, "reserved")
    _compare_reserved(
        c,
        p,
        f"service {s}",
        {"numbers": old["reserved_ids"], "names": old["reserved_names"]},
        {"numbers": new["reserved_ids"], "names": new["reserved_names"]},
        "ids",
    )


# ---- tracks, bridges, auth, decode errors ----


def _codec_names(ir: m.IR) -> dict[int, str]:
    """What `{codec}` in a capability template becomes on the wire: the Codec value's IDL name."""
    return {v["number"]: v["name"] for e in ir["enums"] if e["words"] == ["codec"] for v in e["values"]}


def _compare_media(c: _Ctx) -> None:
    new_kinds = {k["name"]: k for k in c.new["track_kinds"]}
    for ok in c.old["track_kinds"]:
        nk = new_kinds.get(ok["name"])
        p = ptr("tracks", "kinds", ok["name"])
        if nk is None:
            c.add("track-kind-removed", Tier.WIRE, p, f"track kind {ok['name']} was removed")
            continue
        lost = [d for d in ok["delivery"] if d not in nk["delivery"]]
        if lost:
            c.add(
                "track-kind-changed",
                Tier.WIRE,
                p + "/delivery",
                f"track kind {ok['name']} no longer supports delivery {', '.join(lost)}",
            )
        if ok["priority"] != nk["priority"]:
            c.add(
                "track-kind-changed",
                Tier.WIRE,
                p + "/priority",
                f"track kind {ok['name']} changed priority {ok['priority']} -> {nk['priority']}",
            )
    new_bridges = {b["name"]: b for b in c.new["bridges"]}
    old_codecs, new_codecs = _codec_names(c.old), _codec_names(c.new)
    for ob in c.old["bridges"]:
        nb = new_bridges.get(ob["name"])
        p = ptr("bridges", ob["name"])
        if nb is None:
            c.add("bridge-removed", Tier.WIRE, p, f"bridge {ob['name']} was removed")
            continue
        for key in ("namespace", "capability"):
            if ob[key] != nb[key]:
                c.add(
                    "bridge-template-changed",
                    Tier.WIRE,
                    p + "/" + key,
                    f"bridge {ob['name']} changed {key} {ob[key]!r} -> {nb[key]!r}",
                )
        if "{codec}" in ob["capability"] and ob["capability"] == nb["capability"]:
            changed = [
                f"{ob['capability'].replace('{codec}', name)} -> "
                + ("gone" if number not in new_codecs else nb["capability"].replace("{codec}", new_codecs[number]))
                for number, name in old_codecs.items()
                if new_codecs.get(number) != name
            ]
            if changed:
                c.add(
                    "bridge-codec-tag-changed",
                    Tier.WIRE,
                    p + "/capability",
                    f"bridge {ob['name']}: capability tags follow the Codec value names: {'; '.join(changed)}",
                )
        new_tracks = {t["name"]: t for t in nb["tracks"]}
        for ot in ob["tracks"]:
            nt = new_tracks.get(ot["name"])
            if nt is None:
                c.add(
                    "bridge-track-removed",
                    Tier.WIRE,
                    ptr("bridges", ob["name"], "tracks", ot["name"]),
                    f"bridge {ob['name']} track {ot['name']} was removed",
                )
            elif nt["kind"] != ot["kind"]:
                c.add(
                    "bridge-track-changed",
                    Tier.WIRE,
                    ptr("bridges", ob["name"], "tracks", ot["name"], "kind"),
                    f"bridge {ob['name']} track {ot['name']} changed kind {ot['kind']} -> {nt['kind']}",
                )
        new_roles = {r["name"]: r for r in nb["roles"]}
        for orole in ob["roles"]:
            nrole = new_roles.get(orole["name"])
            rp = ptr("bridges", ob["name"], "roles", orole["name"])
            if nrole is None:
                c.add("bridge-role-removed", Tier.SOURCE, rp, f"bridge {ob['name']} role {orole['name']} was removed")
                continue
            for key, was, now in (
                ("publish", orole["publish"], nrole["publish"]),
                ("subscribe", orole["subscribe"], nrole["subscribe"]),
            ):
                lost = [t for t in was if t not in now]
                if lost:
                    c.add(
                        "bridge-role-changed",
                        Tier.WIRE,
                        rp + "/" + key,
                        f"bridge {ob['name']} role {orole['name']} no longer {key}s {', '.join(lost)}",
                    )
    oa, na = c.old["auth"], c.new["auth"]
    if oa is not None:
        if na is None:
            c.add("auth-changed", Tier.WIRE, ptr("auth"), "auth was removed")
        else:
            if oa["scheme"] != na["scheme"]:
                c.add(
                    "auth-changed",
                    Tier.WIRE,
                    ptr("auth", "scheme"),
                    f"auth scheme changed {oa['scheme']} -> {na['scheme']}",
                )
            if oa["claims"] != na["claims"]:
                # Claims travel only as the JWT's JSON: no break is more than WIRE_JSON, and
                # every ProtoJSON name is a claim key.
                tier, why = c.swap_change("message", oa["claims"], na["claims"])
                c.add(
                    "auth-changed",
                    min(tier, Tier.WIRE_JSON),
                    ptr("auth", "claims"),
                    f"auth claims changed {oa['claims']} -> {na['claims']} ({why})",
                )
    elif na is not None:
        c.add("auth-changed", Tier.WIRE, ptr("auth"), "auth was added: old clients present no token and are refused")
    new_errors = {e["name"] for e in c.new["decode_errors"]}
    for e in c.old["decode_errors"]:
        if e["name"] not in new_errors:
            c.add(
                "decode-error-removed",
                Tier.SOURCE,
                ptr("wire", "errors", "values", e["name"]),
                f"decode error reason {e['name']} was removed",
            )


def compare(old: m.IR, new: m.IR) -> list[Finding]:
    """Every breaking change from OLD to NEW, in IDL order (package, enums, messages, services, media, wire)."""
    c = _Ctx(old, new)
    if old["package"] != new["package"]:
        c.add("package-changed", Tier.WIRE, ptr("package"), f"package changed {old['package']} -> {new['package']}")
    for oe in old["enums"]:
        ne = c.new_enums.get(oe["name"])
        if ne is None:
            c.add("enum-removed", Tier.SOURCE, ptr("enums", oe["name"]), f"enum {oe['name']} was removed")
        else:
            _compare_enum(c, oe, ne)
    for om in old["messages"]:
        nmsg = c.new_messages.get(om["name"])
        if nmsg is None:
            c.add("message-removed", Tier.SOURCE, ptr("messages", om["name"]), f"message {om['name']} was removed")
        else:
            _compare_message(c, om, nmsg)
    new_services = {s["name"]: s for s in new["services"]}
    for os_ in old["services"]:
        ns = new_services.get(os_["name"])
        if ns is None:
            stayed = [om["name"] for om in os_["methods"] if not _moved(c, os_, om)]
            tier = Tier.SOURCE if not stayed else Tier.WIRE if os_["legacy"] else Tier.WIRE_JSON
            c.add(
                "service-removed",
                tier,
                ptr("services", os_["name"]),
                f"service {os_['name']} was removed"
                + (
                    f" with {len(stayed)} method(s) not moved elsewhere: {', '.join(stayed)}"
                    if stayed
                    else "; every method moved to another service"
                ),
            )
        else:
            _compare_service(c, os_, ns)
    _compare_media(c)
    c.out.extend(compare_wire(old["wire"], new["wire"]))
    return c.out
