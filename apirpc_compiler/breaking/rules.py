"""The breaking-change rules: stable ids, the tiers a finding of each rule can have, and one line
of description each (docs/breaking.md renders the same table).

Tiers nest like buf's categories: every WIRE break also breaks ProtoJSON/HTTP clients and
generated code, so WIRE ⊂ WIRE_JSON ⊂ SOURCE. Selecting a tier reports the findings of that
tier and of every stricter-to-break (narrower) one: `--tier WIRE` reports only WIRE findings,
`--tier SOURCE` (the default) reports everything.

Some rules give a finding whose tier depends on the change (a removed field whose number and
name are reserved only breaks source; one whose number is free breaks the wire), so a rule lists
every tier it can produce.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..diagnostics import pointer

ptr = pointer  # the short name the comparison modules use


class Tier(enum.IntEnum):
    # The value orders the tiers by how much a finding breaks: WIRE breaks the most.
    SOURCE = 0
    WIRE_JSON = 1
    WIRE = 2

    def selected_by(self, selected: Tier) -> bool:
        """True when a finding of this tier is reported under `--tier selected`."""
        return self >= selected


@dataclass(frozen=True)
class Rule:
    id: str
    tiers: tuple[Tier, ...]
    description: str


@dataclass(frozen=True)
class Finding:
    rule: str
    tier: Tier
    pointer: str  # RFC 6901 pointer of the changed item in NEW; of the OLD item when it was removed
    message: str


S, J, W = Tier.SOURCE, Tier.WIRE_JSON, Tier.WIRE

_RULES: list[Rule] = [
    Rule("package-changed", (W,), "The package changed: every protobuf full name and generated package changes."),
    # messages and fields
    Rule("message-removed", (S,), "A message was removed (fields that used it are reported on their own)."),
    Rule(
        "field-removed",
        (W, J, S),
        "A field was removed: WIRE if its number is not reserved, WIRE_JSON if only "
        "its number is (or its ProtoJSON name now belongs to another field), SOURCE if both its number and name "
        "are reserved.",
    ),
    Rule("field-number-changed", (W,), "A field kept its name but changed its number."),
    Rule(
        "field-type-changed",
        (W, J, S),
        "A field changed type: WIRE unless the encodings are compatible "
        "(int32/int64/uint32/uint64/bool/enum, sint32/sint64, fixed32/sfixed32, fixed64/sfixed64, bytes->string: "
        "WIRE_JSON); another message or enum is compared structurally all the way down, cycles included, and "
        "takes the tier of its worst difference (SOURCE when identical down to every ProtoJSON name).",
    ),
    Rule(
        "field-label-changed",
        (W, S),
        "repeated <-> singular, or optional -> implicit (WIRE: presence is lost); "
        "implicit -> optional (SOURCE: accessors change).",
    ),
    Rule(
        "field-oneof-changed",
        (W, S),
        "A field moved into, out of or between oneofs (WIRE); a oneof renamed with the same members (SOURCE).",
    ),
    Rule("field-json-name-changed", (J,), "A field's ProtoJSON name changed."),
    Rule("field-name-changed", (S,), "A field was renamed, keeping its number."),
    Rule("field-default-changed", (S,), "The value a reader sees for an absent optional field changed."),
    # enums
    Rule("enum-removed", (S,), "An enum was removed (fields that used it are reported on their own)."),
    Rule(
        "enum-value-removed",
        (W, J, S),
        "An enum value was removed: WIRE if its number is not reserved, "
        "WIRE_JSON if only its number is, SOURCE if both its number and name are reserved.",
    ),
    Rule("enum-value-number-changed", (W,), "An enum value kept its name but changed its number."),
    Rule("enum-value-name-changed", (J,), "An enum value was renamed, keeping its number (ProtoJSON uses names)."),
    # state machines (an enum's declared transitions; states are matched by number)
    Rule(
        "enum-state-machine-removed",
        (W,),
        "An enum no longer declares its state machine: new peers may make any move, old ones that enforce it reject.",
    ),
    Rule("enum-state-added", (W,), "A state joined the state machine: old peers reject every move into it."),
    Rule(
        "enum-state-removed",
        (J,),
        "A state left the state machine: moves into it that old clients ask for are refused.",
    ),
    Rule(
        "enum-transition-added",
        (W,),
        "A move between existing states was added: old peers that enforce the machine reject it.",
    ),
    Rule(
        "enum-transition-removed",
        (J,),
        "A move between existing states was removed: old clients asking for it are refused.",
    ),
    Rule("enum-initial-state-added", (W,), "A state became initial: old peers reject a value starting there."),
    Rule("enum-initial-state-removed", (J,), "A state is no longer initial: old clients starting there are refused."),
    Rule(
        "enum-terminal-state-added",
        (W,),
        "A state became terminal (its moves out are gone): old peers wait for a move that never comes.",
    ),
    Rule(
        "enum-terminal-state-removed",
        (W,),
        "A terminal state gained moves out: old peers take it as the end and reject what follows.",
    ),
    Rule(
        "enum-attribute-changed",
        (S,),
        "A per-value attribute (e.g. http_status, retryable) was removed, changed type or changed value.",
    ),
    Rule("reserved-range-shrunk", (W,), "A reserved number (field, enum value or method id) is no longer reserved."),
    Rule("reserved-name-removed", (W,), "A reserved name is no longer reserved."),
    # services
    Rule(
        "service-removed",
        (W, J, S),
        "A service was removed: WIRE for a legacy service (its method ids), WIRE_JSON otherwise (its HTTP routes), "
        "SOURCE when every method moved to another service.",
    ),
    Rule(
        "service-legacy-changed",
        (W,),
        "A legacy service stopped being legacy: the envelope no longer serves its methods by id.",
    ),
    Rule(
        "method-removed",
        (W, J),
        "A method was removed: WIRE for a legacy service (its id disappears), WIRE_JSON otherwise (its HTTP route).",
    ),
    Rule("method-name-changed", (S,), "A method was renamed, keeping its id."),
    Rule(
        "method-moved",
        (W, S),
        "A method moved to another service keeping its id: SOURCE (generated clients change), WIRE when it "
        "leaves a legacy service for a non-legacy one (the envelope no longer serves it).",
    ),
    Rule("method-id-changed", (W,), "A method's numeric id (its envelope method_id) changed."),
    Rule(
        "method-request-type-changed",
        (W, J, S),
        "A method's request message changed: the tier of the worst structural difference, as for field types.",
    ),
    Rule(
        "method-response-type-changed",
        (W, J, S),
        "A method's response message changed: the tier of the worst structural difference, as for field types.",
    ),
    Rule("method-streaming-changed", (W,), "A method's streaming mode changed."),
    Rule("method-idempotency-changed", (S,), "A method's idempotent flag changed (retry behavior of clients)."),
    Rule("http-route-changed", (J,), "A method's HTTP rule (verb, path or body) changed or was removed."),
    # tracks, bridges, auth, decode errors
    Rule("track-kind-removed", (W,), "A MoQT track kind was removed."),
    Rule("track-kind-changed", (W,), "A track kind lost a delivery mode or changed its priority placement."),
    Rule("bridge-removed", (W,), "A media bridge was removed."),
    Rule("bridge-template-changed", (W,), "A bridge's namespace or capability template (track names) changed."),
    Rule(
        "bridge-codec-tag-changed",
        (W,),
        "A Codec value named in a bridge's capability tags ({codec}) was renamed or removed: the tag changes.",
    ),
    Rule("bridge-track-removed", (W,), "A bridge track was removed."),
    Rule("bridge-track-changed", (W,), "A bridge track changed kind."),
    Rule("bridge-role-removed", (S,), "A bridge role (a generated attach helper) was removed."),
    Rule("bridge-role-changed", (W,), "A bridge role stopped publishing or subscribing a track."),
    Rule(
        "auth-changed",
        (W, J, S),
        "The auth token's scheme changed or auth was added or removed (WIRE); its claims message changed to "
        "another: compared structurally, at most WIRE_JSON (claims are the JWT's JSON, their keys the ProtoJSON "
        "names), SOURCE when identical. An envelope protocol's auth (method ID, token encoding) changed, was "
        "added or removed (WIRE).",
    ),
    Rule("decode-error-removed", (S,), "A decode error reason (a generated constant) was removed."),
    # hand-specified wire protocols
    Rule("wire-protocol-removed", (W,), "A wire protocol was removed."),
    Rule("wire-protocol-version-changed", (W,), "A wire protocol's family, version or ALPN changed."),
    Rule("wire-code-set-removed", (W,), "A wire code set was removed."),
    Rule("wire-code-set-closed", (W,), "An open wire code set became closed: values outside it are now rejected."),
    Rule("wire-code-removed", (W,), "A wire code was removed."),
    Rule("wire-code-added", (W,), "A code was added to a closed code set: old decoders reject it."),
    Rule("wire-code-value-changed", (W,), "A wire code kept its name but changed its value."),
    Rule("wire-code-name-changed", (S,), "A wire code was renamed, keeping its value."),
    Rule("wire-code-struct-changed", (W,), "A wire code now dispatches to a different struct."),
    Rule("wire-struct-removed", (W,), "A wire struct was removed."),
    Rule("wire-struct-args-changed", (W,), "A wire struct's args changed."),
    Rule("wire-struct-field-removed", (W,), "A wire struct field was removed."),
    Rule(
        "wire-struct-field-added",
        (W,),
        "A wire struct field was added that old variants would carry (fields are positional: old decoders misread it).",
    ),
    Rule(
        "wire-struct-field-changed",
        (W,),
        "A wire struct field changed its type, length, byte frame, constraints (list min/max too) or condition.",
    ),
    Rule("wire-struct-field-name-changed", (S,), "A wire struct field was renamed in place with the same type."),
    Rule("wire-struct-field-reordered", (W,), "Wire struct fields changed order."),
    Rule("wire-struct-variant-removed", (W,), "A wire struct variant (a type code) was removed."),
    Rule("wire-struct-variant-changed", (W,), "A wire struct variant's flags changed."),
    Rule("wire-stream-removed", (W,), "A wire stream grammar was removed."),
    Rule(
        "wire-stream-changed", (W,), "A wire stream grammar changed (kind, message, framing, dispatch, headers, max)."
    ),
]

RULES: dict[str, Rule] = {r.id: r for r in _RULES}


def finding(rule: str, tier: Tier, pointer: str, message: str) -> Finding:
    """A finding of a registered rule; the registry is the single source of rule ids."""
    spec = RULES[rule]  # KeyError here is a programming error, caught by the tests
    if tier not in spec.tiers:
        raise ValueError(f"rule {rule} cannot produce tier {tier.name}")
    return Finding(rule, tier, pointer, message)
