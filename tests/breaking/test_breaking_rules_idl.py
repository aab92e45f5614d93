"""One crafted OLD/NEW pair per rule (and per tier a rule can take), built by mutating copies of
the real IDL. Each case asserts the exact set of findings: the rule, its tier and its pointer,
and nothing else (no noise from the same edit)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from breaking_helpers import Doc, Mutation, check_pair, rename_key


@dataclass
class Case:
    id: str
    new: Mutation | None
    expected: set[tuple[str, str, str]]
    old: Mutation | None = None


def msg(d: Doc, name: str) -> Any:
    return d["messages"][name]


def fld(d: Doc, m: str, f: str) -> Any:
    return d["messages"][m]["fields"][f]


def method(d: Doc, s: str, m: str) -> Any:
    return d["services"][s]["methods"][m]


def envelope(d: Doc) -> Any:
    return d["wire"]["protocols"]["envelope"]


def _scratch_message(d: Doc) -> None:
    d["messages"]["Scratch"] = {
        "doc": "A scratch message.",
        "fields": {"note": {"number": 1, "type": "string", "doc": "A note."}},
    }


def _scratch_enum(d: Doc) -> None:
    d["enums"]["Scratch"] = {"doc": "A scratch enum.", "values": {"unspecified": {"number": 0, "doc": "Not set."}}}


def _del(path: list[str]) -> Mutation:
    def go(d: Doc) -> None:
        node = d
        for p in path[:-1]:
            node = node[p]
        del node[path[-1]]

    return go


def _set(path: list[str], value: Any) -> Mutation:
    def go(d: Doc) -> None:
        node = d
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value

    return go


def _seq(*ms: Mutation) -> Mutation:
    def go(d: Doc) -> None:
        for m in ms:
            m(d)

    return go


def _field_removed_reserved(names: bool) -> Mutation:
    def go(d: Doc) -> None:
        del msg(d, "Call")["fields"]["tenant_id"]
        msg(d, "Call")["reserved"] = {
            "numbers": [16, 17, [20, 22]],
            "names": ["recording_url", "tenant_id"] if names else ["recording_url"],
        }

    return go


def _enum_value_removed(numbers: bool, names: bool) -> Mutation:
    def go(d: Doc) -> None:
        e = d["enums"]["EndReason"]
        del e["values"]["transferred"]
        reserved: dict[str, Any] = {}
        if numbers:
            reserved["numbers"] = [8]
        if names:
            reserved["names"] = ["transferred"]
        if reserved:
            e["reserved"] = reserved

    return go


def _rename_field(d: Doc) -> None:
    rename_key(msg(d, "Call")["fields"], "tenant_id", "owner_id")


def _identical_quality(d: Doc) -> None:
    d["messages"]["CallQualityV2"] = dict(msg(d, "CallQuality"), doc="A copy of CallQuality.")
    fld(d, "Call", "quality")["type"] = "CallQualityV2"


def _call_copy_response(d: Doc) -> None:
    d["messages"]["CallV2"] = dict(msg(d, "Call"), doc="A copy of Call.")
    method(d, "ClutchCallClient", "get_call")["response"] = "CallV2"


def _rename_oneof(d: Doc) -> None:
    rename_key(msg(d, "OriginateResult")["oneofs"], "outcome", "result")
    fld(d, "OriginateResult", "call")["oneof"] = "result"
    fld(d, "OriginateResult", "error")["oneof"] = "result"


def _remove_attribute(d: Doc) -> None:
    e = d["enums"]["ErrorCode"]
    del e["attributes"]["retryable"]
    for v in e["values"].values():
        del v["attributes"]["retryable"]


def _new_claims(d: Doc) -> None:
    d["messages"]["SessionClaims"] = {
        "doc": "Other claims.",
        "fields": {"tenant_id": {"number": 1, "type": "string", "json_name": "sub", "doc": "The tenant."}},
    }
    d["auth"]["claims"] = "SessionClaims"


def _remove_downlink(d: Doc) -> None:
    b = d["bridges"]["voice.bridge"]
    del b["tracks"]["downlink"]
    b["roles"]["attach"]["publish"] = []
    b["roles"]["attach_caller"]["subscribe"] = []


def _rename_method(d: Doc) -> None:
    rename_key(d["services"]["ClutchCallClient"]["methods"], "get_call", "fetch_call")


def _swap_envelope_fields(d: Doc) -> None:
    fields = envelope(d)["structs"]["Envelope"]["fields"]
    fields[3], fields[4] = fields[4], fields[3]


def _old_extra_error(d: Doc) -> None:
    d["wire"]["errors"]["values"]["scratch_error"] = "A scratch reason."


# ---- structural comparison of swapped types ----


def _message(fields: dict[str, tuple[int, str]], **extra: Any) -> Doc:
    """A message of `name: (number, type)` fields; `extra` sets keys of the named field's spec."""
    spec: dict[str, Any] = {n: {"number": num, "type": t, "doc": f"The {n}."} for n, (num, t) in fields.items()}
    for key, value in extra.items():
        field, attr = key.split("__")
        spec[field][attr] = value
    return {"doc": "A test message.", "fields": spec}


def _nested(inner_v2: Doc) -> dict[str, Mutation]:
    """OLD: Call.extra is an Outer holding an Inner. NEW: also OuterV2 holding InnerV2 (given), top
    level identical to Outer, and Call.extra switches to it: only depth 2 differs."""

    def old(d: Doc) -> None:
        d["messages"]["Inner"] = _message({"value": (1, "int32")})
        d["messages"]["Outer"] = _message({"inner": (1, "Inner"), "note": (2, "string")})
        msg(d, "Call")["fields"]["extra"] = {"number": 18, "type": "Outer", "doc": "Extra."}

    def new(d: Doc) -> None:
        old(d)
        d["messages"]["InnerV2"] = inner_v2
        d["messages"]["OuterV2"] = _message({"inner": (1, "InnerV2"), "note": (2, "string")})
        fld(d, "Call", "extra")["type"] = "OuterV2"

    return {"new": new, "old": old}


def _cycle(tree_v2_label: Doc) -> dict[str, Mutation]:
    """Tree and Branch refer to each other (a cycle). OLD: Call.extra is a Branch, Call.extra2 a
    Tree. NEW: both switch to copies, TreeV2 and BranchV2, where only TreeV2's label field is as
    given: for extra the difference is reached through the cycle."""

    def old(d: Doc) -> None:
        d["messages"]["Tree"] = _message({"children": (1, "Branch"), "label": (2, "string")}, children__repeated=True)
        d["messages"]["Branch"] = _message({"tree": (1, "Tree"), "self": (2, "Branch")})
        msg(d, "Call")["fields"]["extra"] = {"number": 18, "type": "Branch", "doc": "Extra."}
        msg(d, "Call")["fields"]["extra2"] = {"number": 19, "type": "Tree", "doc": "Extra."}

    def new(d: Doc) -> None:
        old(d)
        tree = _message({"children": (1, "BranchV2")}, children__repeated=True)
        tree["fields"].update(tree_v2_label)
        d["messages"]["TreeV2"] = tree
        d["messages"]["BranchV2"] = _message({"tree": (1, "TreeV2"), "self": (2, "BranchV2")})
        fld(d, "Call", "extra")["type"] = "BranchV2"
        fld(d, "Call", "extra2")["type"] = "TreeV2"

    return {"new": new, "old": old}


def _quality_copy(**renames: str) -> Mutation:
    """Call.quality switches to a copy of CallQuality with some fields renamed (same numbers and types)."""

    def go(d: Doc) -> None:
        fields = copy.deepcopy(msg(d, "CallQuality")["fields"])
        for old, new in renames.items():
            rename_key(fields, old, new)
        d["messages"]["CallQualityV2"] = {"doc": "A copy of CallQuality.", "fields": fields}
        fld(d, "Call", "quality")["type"] = "CallQualityV2"

    return go


def _direction_copy(drop: str | None) -> Mutation:
    def go(d: Doc) -> None:
        e = copy.deepcopy(d["enums"]["Direction"])
        if drop is not None:
            del e["values"][drop]
        d["enums"]["CallDirection"] = e
        fld(d, "Call", "direction")["type"] = "CallDirection"

    return go


def _status_copy_with_move(d: Doc) -> None:
    """Call.status switches to a copy of CallStatus whose machine has one more move: the swap's
    structure includes the state machine."""
    e = copy.deepcopy(d["enums"]["CallStatus"])
    e["transitions"]["edges"]["in_progress"].append("no_answer")
    d["enums"]["CallState"] = e
    fld(d, "Call", "status")["type"] = "CallState"


def _claims_copy(**json_names: str) -> Mutation:
    """auth.claims switches to a copy of TenantClaims, with some ProtoJSON names (the JWT keys) changed."""

    def go(d: Doc) -> None:
        claims = copy.deepcopy(msg(d, "TenantClaims"))
        for field, json_name in json_names.items():
            claims["fields"][field]["json_name"] = json_name
        d["messages"]["SessionClaims"] = claims
        d["auth"]["claims"] = "SessionClaims"

    return go


def _claim_key_reused(d: Doc) -> None:
    fields = msg(d, "TenantClaims")["fields"]
    del fields["expires_at"]
    fields["expiry"] = {"number": 7, "type": "string", "json_name": "exp", "doc": "Expiry, as text."}
    msg(d, "TenantClaims")["reserved"] = {"numbers": [4], "names": ["expires_at"]}


def _response_copy(rename: str | None) -> Mutation:
    def go(d: Doc) -> None:
        call = copy.deepcopy(msg(d, "Call"))
        if rename is not None:
            rename_key(call["fields"], rename, rename + "_v2")
        d["messages"]["CallV2"] = call
        method(d, "ClutchCallClient", "get_call")["response"] = "CallV2"

    return go


# ---- services ----


def _move(src: str, name: str, dst: str) -> Mutation:
    def go(d: Doc) -> None:
        d["services"][dst]["methods"][name] = d["services"][src]["methods"].pop(name)

    return go


# ---- state machines (CallStatus) ----


def _machine(d: Doc) -> Any:
    return d["enums"]["CallStatus"]["transitions"]


def _add_queued(d: Doc) -> None:
    d["enums"]["CallStatus"]["values"]["queued"] = {"number": 7, "doc": "Waiting for a trunk."}
    _machine(d)["initial"].append("queued")
    _machine(d)["edges"]["queued"] = ["dialing", "failed"]


def _remove_no_answer(d: Doc) -> None:
    e = d["enums"]["CallStatus"]
    del e["values"]["no_answer"]
    e["reserved"] = {"numbers": [6], "names": ["no_answer"]}
    t = _machine(d)
    t["terminal"].remove("no_answer")
    for dsts in t["edges"].values():
        if "no_answer" in dsts:
            dsts.remove("no_answer")


def _rename_ringing(d: Doc) -> None:
    """ringing -> alerting, same number: the machine keys states by number, so it is unchanged."""
    rename_key(d["enums"]["CallStatus"]["values"], "ringing", "alerting")
    t = _machine(d)
    rename_key(t["edges"], "ringing", "alerting")
    for states in (t["initial"], *t["edges"].values()):
        states[:] = ["alerting" if s == "ringing" else s for s in states]


def _in_progress_terminal(d: Doc) -> None:
    _machine(d)["terminal"].append("in_progress")
    _machine(d)["edges"]["in_progress"] = []


def _failed_not_terminal(d: Doc) -> None:
    _machine(d)["terminal"].remove("failed")
    _machine(d)["edges"]["failed"] = ["completed"]


S, J, W = "SOURCE", "WIRE_JSON", "WIRE"
CALL = "/messages/Call/fields"
CC = "/services/ClutchCallClient/methods"
ENV = "/wire/protocols/envelope"

CASES = [
    Case("package-changed", _set(["package"], "clutchcall.v2"), {("package-changed", W, "/package")}),
    Case("message-removed", None, {("message-removed", S, "/messages/Scratch")}, old=_scratch_message),
    Case(
        "field-removed-wire",
        _del(["messages", "Call", "fields", "tenant_id"]),
        {("field-removed", W, f"{CALL}/tenant_id")},
    ),
    Case(
        "field-removed-number-reserved",
        _field_removed_reserved(names=False),
        {("field-removed", J, f"{CALL}/tenant_id")},
    ),
    Case(
        "field-removed-all-reserved", _field_removed_reserved(names=True), {("field-removed", S, f"{CALL}/tenant_id")}
    ),
    Case(
        "field-number-changed",
        _set(["messages", "Call", "fields", "tenant_id", "number"], 30),
        {("field-number-changed", W, f"{CALL}/tenant_id/number")},
    ),
    Case(
        "field-type-varint",
        _set(["messages", "Call", "fields", "created_at_ms", "type"], "uint64"),
        {("field-type-changed", J, f"{CALL}/created_at_ms/type")},
    ),
    Case(
        "field-type-zigzag",
        _set(["messages", "CallQuality", "fields", "cumulative_lost", "type"], "int64"),
        {("field-type-changed", W, "/messages/CallQuality/fields/cumulative_lost/type")},
    ),
    Case(
        "field-type-fixed",
        _set(["messages", "CallQuality", "fields", "ssrc", "type"], "uint32"),
        {("field-type-changed", W, "/messages/CallQuality/fields/ssrc/type")},
    ),
    Case(
        "field-type-fixed-sign",
        _set(["messages", "CallQuality", "fields", "ssrc", "type"], "sfixed32"),
        {("field-type-changed", J, "/messages/CallQuality/fields/ssrc/type")},
    ),
    Case(
        "field-type-string-bytes",
        _set(["messages", "Call", "fields", "tenant_id", "type"], "bytes"),
        {("field-type-changed", W, f"{CALL}/tenant_id/type")},
    ),
    Case(
        "field-type-bytes-string",
        _set(["messages", "PushAudioRequest", "fields", "frames", "type"], "string"),
        {("field-type-changed", J, "/messages/PushAudioRequest/fields/frames/type")},
    ),
    Case(
        "field-type-message-scalar",
        _set(["messages", "Call", "fields", "quality", "type"], "string"),
        {("field-type-changed", W, f"{CALL}/quality/type")},
    ),
    Case(
        "field-type-enum-int",
        _set(["messages", "Call", "fields", "direction", "type"], "int32"),
        {("field-type-changed", J, f"{CALL}/direction/type")},
    ),
    Case("field-type-same-shape", _identical_quality, {("field-type-changed", S, f"{CALL}/quality/type")}),
    Case(
        "field-type-message-renamed-fields",
        _quality_copy(jitter_ms="jitter", mos="score"),
        {("field-type-changed", J, f"{CALL}/quality/type")},
    ),
    Case(
        "field-type-nested-wire",
        expected={("field-type-changed", W, f"{CALL}/extra/type")},
        **_nested(_message({"value": (1, "sint32")})),
    ),
    Case(
        "field-type-nested-json",
        expected={("field-type-changed", J, f"{CALL}/extra/type")},
        **_nested(_message({"amount": (1, "int32")})),
    ),
    Case(
        "field-type-nested-identical",
        expected={("field-type-changed", S, f"{CALL}/extra/type")},
        **_nested(_message({"value": (1, "int32")})),
    ),
    Case(
        "field-type-cycle-json",
        expected={("field-type-changed", J, f"{CALL}/extra/type"), ("field-type-changed", J, f"{CALL}/extra2/type")},
        **_cycle({"name": {"number": 2, "type": "string", "doc": "Renamed label."}}),
    ),
    Case(
        "field-type-cycle-wire",
        expected={("field-type-changed", W, f"{CALL}/extra/type"), ("field-type-changed", W, f"{CALL}/extra2/type")},
        **_cycle({"label": {"number": 2, "type": "bytes", "repeated": True, "doc": "Now repeated bytes."}}),
    ),
    Case(
        "field-type-cycle-identical",
        expected={("field-type-changed", S, f"{CALL}/extra/type"), ("field-type-changed", S, f"{CALL}/extra2/type")},
        **_cycle({"label": {"number": 2, "type": "string", "doc": "The same label."}}),
    ),
    Case(
        "field-type-enum-swap",
        _direction_copy(None),
        {("field-type-changed", J, f"{CALL}/direction/type")},
    ),
    Case(
        "field-type-enum-swap-machine",
        _status_copy_with_move,
        {("field-type-changed", W, f"{CALL}/status/type")},
    ),
    Case(
        "field-type-enum-swap-value-dropped",
        _direction_copy("outbound"),
        {("field-type-changed", W, f"{CALL}/direction/type")},
    ),
    Case(
        "field-label-repeated",
        _del(["messages", "CallQuality", "fields", "level_dbov", "repeated"]),
        {("field-label-changed", W, "/messages/CallQuality/fields/level_dbov")},
    ),
    Case(
        "field-label-presence-lost",
        _del(["messages", "Call", "fields", "answered_at_ms", "optional"]),
        {("field-label-changed", W, f"{CALL}/answered_at_ms")},
    ),
    Case(
        "field-label-presence-gained",
        _set(["messages", "Call", "fields", "tenant_id", "optional"], True),
        {("field-label-changed", S, f"{CALL}/tenant_id")},
    ),
    Case(
        "field-oneof-moved",
        _set(["messages", "OriginateResult", "fields", "index", "oneof"], "outcome"),
        {("field-oneof-changed", W, "/messages/OriginateResult/fields/index/oneof")},
    ),
    Case(
        "field-oneof-renamed",
        _rename_oneof,
        {
            ("field-oneof-changed", S, "/messages/OriginateResult/fields/call/oneof"),
            ("field-oneof-changed", S, "/messages/OriginateResult/fields/error/oneof"),
        },
    ),
    Case(
        "field-json-name-changed",
        _set(["messages", "TenantClaims", "fields", "tenant_id", "json_name"], "subject"),
        {("field-json-name-changed", J, "/messages/TenantClaims/fields/tenant_id/json_name")},
    ),
    Case(
        "field-name-changed",
        _rename_field,
        {("field-name-changed", S, f"{CALL}/owner_id"), ("field-json-name-changed", J, f"{CALL}/owner_id/json_name")},
    ),
    Case(
        "field-default-changed",
        _set(["messages", "AudioShape", "fields", "sample_rate", "default"], 16000),
        {("field-default-changed", S, "/messages/AudioShape/fields/sample_rate/default")},
    ),
    Case("enum-removed", None, {("enum-removed", S, "/enums/Scratch")}, old=_scratch_enum),
    Case(
        "enum-value-removed-wire",
        _enum_value_removed(False, False),
        {("enum-value-removed", W, "/enums/EndReason/values/transferred")},
    ),
    Case(
        "enum-value-removed-number-reserved",
        _enum_value_removed(True, False),
        {("enum-value-removed", J, "/enums/EndReason/values/transferred")},
    ),
    Case(
        "enum-value-removed-all-reserved",
        _enum_value_removed(True, True),
        {("enum-value-removed", S, "/enums/EndReason/values/transferred")},
    ),
    Case(
        "enum-value-number-changed",
        _set(["enums", "EndReason", "values", "transferred", "number"], 9),
        {("enum-value-number-changed", W, "/enums/EndReason/values/transferred/number")},
    ),
    Case(
        "enum-value-name-changed",
        lambda d: rename_key(d["enums"]["EndReason"]["values"], "transferred", "blind"),
        {("enum-value-name-changed", J, "/enums/EndReason/values/blind")},
    ),
    Case(
        "enum-transition-removed-edge",
        lambda d: d["enums"]["CallStatus"]["transitions"]["edges"]["dialing"].remove("completed"),
        {("enum-transition-removed", J, "/enums/CallStatus/transitions/edges/dialing")},
    ),
    Case(
        "enum-initial-state-removed",
        lambda d: _machine(d)["initial"].remove("ringing"),
        {("enum-initial-state-removed", J, "/enums/CallStatus/transitions/initial")},
    ),
    Case(
        "enum-transition-added",
        lambda d: _machine(d)["edges"]["in_progress"].append("no_answer"),
        {("enum-transition-added", W, "/enums/CallStatus/transitions/edges/in_progress")},
    ),
    Case(
        "enum-transition-added-and-removed",
        lambda d: _machine(d)["edges"].update(in_progress=["completed", "no_answer"]),
        {
            ("enum-transition-added", W, "/enums/CallStatus/transitions/edges/in_progress"),
            ("enum-transition-removed", J, "/enums/CallStatus/transitions/edges/in_progress"),
        },
    ),
    Case("enum-state-added", _add_queued, {("enum-state-added", W, "/enums/CallStatus/transitions/edges/queued")}),
    Case(
        "enum-state-removed",
        _remove_no_answer,
        {
            ("enum-value-removed", S, "/enums/CallStatus/values/no_answer"),
            ("enum-state-removed", J, "/enums/CallStatus/transitions/edges/no_answer"),
        },
    ),
    Case(
        "enum-state-renamed-is-the-same-state",
        _rename_ringing,
        {("enum-value-name-changed", J, "/enums/CallStatus/values/alerting")},
    ),
    Case(
        "enum-initial-state-added",
        lambda d: _machine(d)["initial"].append("in_progress"),
        {("enum-initial-state-added", W, "/enums/CallStatus/transitions/initial")},
    ),
    Case(
        "enum-terminal-state-added",
        _in_progress_terminal,
        {("enum-terminal-state-added", W, "/enums/CallStatus/transitions/terminal")},
    ),
    Case(
        "enum-terminal-state-removed",
        _failed_not_terminal,
        {("enum-terminal-state-removed", W, "/enums/CallStatus/transitions/terminal")},
    ),
    Case(
        "enum-state-machine-removed",
        _del(["enums", "CallStatus", "transitions"]),
        {("enum-state-machine-removed", W, "/enums/CallStatus/transitions")},
    ),
    Case(
        "enum-attribute-value",
        _set(["enums", "ErrorCode", "values", "unavailable", "attributes", "http_status"], 502),
        {("enum-attribute-changed", S, "/enums/ErrorCode/values/unavailable/attributes/http_status")},
    ),
    Case(
        "enum-attribute-retryable",
        _set(["enums", "ErrorCode", "values", "internal", "attributes", "retryable"], True),
        {("enum-attribute-changed", S, "/enums/ErrorCode/values/internal/attributes/retryable")},
    ),
    Case(
        "enum-attribute-removed",
        _remove_attribute,
        {("enum-attribute-changed", S, "/enums/ErrorCode/attributes/retryable")},
    ),
    Case(
        "reserved-range-shrunk",
        _set(["messages", "Call", "reserved", "numbers"], [17, [20, 21]]),
        {("reserved-range-shrunk", W, "/messages/Call/reserved/numbers")},
    ),
    Case(
        "reserved-ids-shrunk",
        _set(["services", "ClutchCallClient", "reserved", "ids"], [6]),
        {("reserved-range-shrunk", W, "/services/ClutchCallClient/reserved/ids")},
    ),
    Case(
        "reserved-name-removed",
        _set(["messages", "Call", "reserved", "names"], ["other_name"]),
        {("reserved-name-removed", W, "/messages/Call/reserved/names")},
    ),
    Case("service-removed", _del(["services", "voice.agents"]), {("service-removed", J, "/services/voice.agents")}),
    Case(
        "service-removed-legacy",
        _del(["services", "ClutchCallClient"]),
        {("service-removed", W, "/services/ClutchCallClient")},
    ),
    Case(
        "method-removed",
        _del(["services", "voice.agents", "methods", "unbind"]),
        {("method-removed", J, "/services/voice.agents/methods/unbind")},
    ),
    Case(
        "method-removed-legacy",
        _del(["services", "ClutchCallClient", "methods", "barge"]),
        {("method-removed", W, f"{CC}/barge")},
    ),
    Case("method-name-changed", _rename_method, {("method-name-changed", S, f"{CC}/fetch_call")}),
    Case(
        "method-id-changed",
        _set(["services", "ClutchCallClient", "methods", "get_call", "id"], 12),
        {("method-id-changed", W, f"{CC}/get_call/id")},
    ),
    Case(
        "method-request-type-changed",
        _set(["services", "ClutchCallClient", "methods", "get_call", "request"], "ListCallsRequest"),
        {("method-request-type-changed", W, f"{CC}/get_call/request")},
    ),
    Case(
        # field 1 keeps its type but is called `to` instead of `sid`: only ProtoJSON breaks
        "method-request-type-json",
        _set(["services", "ClutchCallClient", "methods", "get_call", "request"], "DialRequest"),
        {("method-request-type-changed", J, f"{CC}/get_call/request")},
    ),
    Case(
        "method-request-type-same-shape",
        _set(["services", "voice.calls", "methods", "get", "request"], "HangupRequest"),
        {("method-request-type-changed", S, "/services/voice.calls/methods/get/request")},
    ),
    Case(
        "method-response-type-changed",
        _set(["services", "ClutchCallClient", "methods", "get_call", "response"], "DialResponse"),
        {("method-response-type-changed", W, f"{CC}/get_call/response")},
    ),
    Case(
        # Empty -> Call only adds fields, which old readers skip
        "method-response-type-grows",
        _set(["services", "ClutchCallClient", "methods", "hangup", "response"], "Call"),
        {("method-response-type-changed", S, f"{CC}/hangup/response")},
    ),
    Case(
        "method-response-type-json",
        _response_copy("tenant_id"),
        {("method-response-type-changed", J, f"{CC}/get_call/response")},
    ),
    Case(
        "method-moved",
        _move("voice.agents", "unbind", "voice.calls"),
        {("method-moved", S, "/services/voice.calls/methods/unbind")},
    ),
    Case(
        "method-moved-off-the-envelope",
        _move("ClutchCallClient", "barge", "voice.agents"),
        {("method-moved", W, "/services/voice.agents/methods/barge")},
    ),
    Case(
        "method-moved-with-another-route",
        _seq(
            _move("voice.agents", "unbind", "voice.calls"),
            _set(["services", "voice.calls", "methods", "unbind", "http", "path"], "/v1/calls/{sid}:unbind"),
        ),
        {
            ("method-moved", S, "/services/voice.calls/methods/unbind"),
            ("http-route-changed", J, "/services/voice.calls/methods/unbind/http"),
        },
    ),
    Case(
        "service-renamed",
        lambda d: rename_key(d["services"], "voice.agents", "voice.agent"),
        {
            ("service-removed", S, "/services/voice.agents"),
            ("method-moved", S, "/services/voice.agent/methods/bind"),
            ("method-moved", S, "/services/voice.agent/methods/unbind"),
        },
    ),
    Case(
        "service-removed-some-moved",
        _seq(_move("voice.agents", "unbind", "voice.calls"), _del(["services", "voice.agents"])),
        {
            ("service-removed", J, "/services/voice.agents"),
            ("method-moved", S, "/services/voice.calls/methods/unbind"),
        },
    ),
    Case(
        "service-legacy-changed",
        _set(["services", "ClutchCallClient", "legacy"], False),
        {("service-legacy-changed", W, "/services/ClutchCallClient/legacy")},
    ),
    Case(
        "method-response-type-same-shape",
        _call_copy_response,
        {("method-response-type-changed", S, f"{CC}/get_call/response")},
    ),
    Case(
        "method-streaming-changed",
        _set(["services", "ClutchCallClient", "methods", "watch_calls", "streaming"], "bidi"),
        {("method-streaming-changed", W, f"{CC}/watch_calls/streaming")},
    ),
    Case(
        "method-idempotency-changed",
        _set(["services", "ClutchCallClient", "methods", "dial", "idempotent"], True),
        {("method-idempotency-changed", S, f"{CC}/dial/idempotent")},
    ),
    Case(
        "http-route-path",
        _set(["services", "voice.calls", "methods", "get", "http", "path"], "/v1/call/{sid}"),
        {("http-route-changed", J, "/services/voice.calls/methods/get/http")},
    ),
    Case(
        "http-route-body",
        _set(["services", "voice.agents", "methods", "bind", "http", "body"], "*"),
        {("http-route-changed", J, "/services/voice.agents/methods/bind/http")},
    ),
    Case("track-kind-removed", _del(["tracks", "kinds", "video"]), {("track-kind-removed", W, "/tracks/kinds/video")}),
    Case(
        "track-kind-delivery",
        _set(["tracks", "kinds", "frame", "delivery"], ["subgroup"]),
        {("track-kind-changed", W, "/tracks/kinds/frame/delivery")},
    ),
    Case(
        "track-kind-priority",
        _set(["tracks", "kinds", "text", "priority"], "per_object"),
        {("track-kind-changed", W, "/tracks/kinds/text/priority")},
    ),
    Case("bridge-removed", _del(["bridges", "voice.bridge"]), {("bridge-removed", W, "/bridges/voice.bridge")}),
    Case(
        "bridge-template-changed",
        _set(["bridges", "voice.bridge", "namespace"], "calls/{sid}"),
        {("bridge-template-changed", W, "/bridges/voice.bridge/namespace")},
    ),
    Case(
        "bridge-track-removed",
        _remove_downlink,
        {
            ("bridge-track-removed", W, "/bridges/voice.bridge/tracks/downlink"),
            ("bridge-role-changed", W, "/bridges/voice.bridge/roles/attach/publish"),
            ("bridge-role-changed", W, "/bridges/voice.bridge/roles/attach_caller/subscribe"),
        },
    ),
    Case(
        "bridge-codec-tag-renamed",
        lambda d: rename_key(d["enums"]["Codec"]["values"], "g711_alaw", "alaw"),
        {
            ("enum-value-name-changed", J, "/enums/Codec/values/alaw"),
            ("bridge-codec-tag-changed", W, "/bridges/voice.bridge/capability"),
        },
    ),
    Case(
        "bridge-codec-tag-removed",
        _seq(
            _del(["enums", "Codec", "values", "g711_alaw"]),
            _set(["enums", "Codec", "reserved"], {"numbers": [4], "names": ["g711_alaw"]}),
        ),
        {
            ("enum-value-removed", S, "/enums/Codec/values/g711_alaw"),
            ("bridge-codec-tag-changed", W, "/bridges/voice.bridge/capability"),
        },
    ),
    Case(
        # without {codec} in the template, a Codec value's name is not on the wire
        "bridge-codec-tag-not-used",
        _seq(
            _set(["bridges", "voice.bridge", "capability"], "voice/audio"),
            lambda d: rename_key(d["enums"]["Codec"]["values"], "g711_alaw", "alaw"),
        ),
        {("enum-value-name-changed", J, "/enums/Codec/values/alaw")},
        old=_set(["bridges", "voice.bridge", "capability"], "voice/audio"),
    ),
    Case(
        "bridge-track-changed",
        _set(["bridges", "voice.bridge", "tracks", "uplink", "kind"], "frame"),
        {("bridge-track-changed", W, "/bridges/voice.bridge/tracks/uplink/kind")},
    ),
    Case(
        "bridge-role-removed",
        _del(["bridges", "voice.bridge", "roles", "attach_caller"]),
        {("bridge-role-removed", S, "/bridges/voice.bridge/roles/attach_caller")},
    ),
    Case(
        "bridge-role-changed",
        _set(["bridges", "voice.bridge", "roles", "attach", "subscribe"], []),
        {("bridge-role-changed", W, "/bridges/voice.bridge/roles/attach/subscribe")},
    ),
    Case("auth-claims-changed", _new_claims, {("auth-changed", J, "/auth/claims")}),
    Case("auth-claims-json-names", _claims_copy(expires_at="expiry"), {("auth-changed", J, "/auth/claims")}),
    Case("auth-claims-identical", _claims_copy(), {("auth-changed", S, "/auth/claims")}),
    Case("auth-added", None, {("auth-changed", W, "/auth")}, old=_del(["auth"])),
    Case(
        "field-removed-json-name-reused",
        _claim_key_reused,
        {("field-removed", J, "/messages/TenantClaims/fields/expires_at")},
    ),
    Case("auth-removed", _del(["auth"]), {("auth-changed", W, "/auth")}),
    Case(
        "envelope-auth-method-id",
        _set(["wire", "protocols", "envelope", "auth", "method_id"], 4096),
        {("auth-changed", W, f"{ENV}/auth/method_id")},
    ),
    Case(
        "envelope-auth-removed", _del(["wire", "protocols", "envelope", "auth"]), {("auth-changed", W, f"{ENV}/auth")}
    ),
    Case(
        "decode-error-removed",
        None,
        {("decode-error-removed", S, "/wire/errors/values/scratch_error")},
        old=_old_extra_error,
    ),
    Case(
        "wire-protocol-version-changed",
        _set(["wire", "protocols", "envelope", "version"], 2),
        {("wire-protocol-version-changed", W, f"{ENV}/version")},
    ),
    Case(
        "wire-code-set-removed",
        _del(["wire", "protocols", "envelope", "codes", "EnvelopeFlag"]),
        {("wire-code-set-removed", W, f"{ENV}/codes/EnvelopeFlag")},
    ),
    Case(
        "wire-code-set-closed",
        _set(["wire", "protocols", "envelope", "codes", "EnvelopeFlag", "closed"], True),
        {("wire-code-set-closed", W, f"{ENV}/codes/EnvelopeFlag/closed")},
    ),
    Case(
        "wire-code-removed",
        _del(["wire", "protocols", "envelope", "codes", "EnvelopeFlag", "values", "json_payload"]),
        {("wire-code-removed", W, f"{ENV}/codes/EnvelopeFlag/values/json_payload")},
    ),
    Case(
        "wire-code-value-changed",
        _set(["wire", "protocols", "envelope", "codes", "EnvelopeKind", "values", "event", "value"], 4),
        {("wire-code-value-changed", W, f"{ENV}/codes/EnvelopeKind/values/event/value")},
    ),
    Case(
        "wire-code-name-changed",
        lambda d: rename_key(envelope(d)["codes"]["EnvelopeFlag"]["values"], "final", "last"),
        {("wire-code-name-changed", S, f"{ENV}/codes/EnvelopeFlag/values/last")},
    ),
    Case(
        "wire-code-added",
        _set(
            ["wire", "protocols", "envelope", "codes", "EnvelopeKind", "values", "ping"],
            {"value": 4, "doc": "A keep-alive."},
        ),
        {("wire-code-added", W, f"{ENV}/codes/EnvelopeKind/values/ping")},
    ),
    Case(
        "wire-struct-field-removed",
        lambda d: envelope(d)["structs"]["Envelope"]["fields"].pop(4),
        {("wire-struct-field-removed", W, f"{ENV}/structs/Envelope/fields/4")},
    ),
    Case(
        "wire-struct-field-changed",
        lambda d: envelope(d)["structs"]["Envelope"]["fields"][5].update({"max": 1048576}),
        {("wire-struct-field-changed", W, f"{ENV}/structs/Envelope/fields/5")},
    ),
    Case(
        "wire-struct-field-reordered",
        _swap_envelope_fields,
        {("wire-struct-field-reordered", W, f"{ENV}/structs/Envelope/fields")},
    ),
    Case(
        "wire-struct-field-added",
        lambda d: envelope(d)["structs"]["Envelope"]["fields"].append(
            {"name": "trailer", "type": "u8", "doc": "A trailer byte."}
        ),
        {("wire-struct-field-added", W, f"{ENV}/structs/Envelope/fields/6")},
    ),
    Case(
        "wire-struct-field-name-changed",
        lambda d: envelope(d)["structs"]["Envelope"]["fields"][4].update({"name": "stream_request_id"}),
        {("wire-struct-field-name-changed", S, f"{ENV}/structs/Envelope/fields/4")},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule(tmp_path: Path, case: Case) -> None:
    code, rep = check_pair(tmp_path, case.new, case.old)
    got = {(e["rule"], e["tier"], e["pointer"]) for e in rep["breaking"]}
    assert got == case.expected
    assert code == 1
    for e in rep["breaking"]:
        assert e["message"] and e["file"].endswith("clutchcall.json") and e["line"] >= 1 and e["column"] >= 1
