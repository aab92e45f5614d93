"""One crafted OLD/NEW pair per rule (and per tier a rule can take), built by mutating copies of
the real IDL. Each case asserts the exact set of findings: the rule, its tier and its pointer,
and nothing else (no noise from the same edit)."""

from __future__ import annotations

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
        "enum-transition-removed-initial",
        lambda d: d["enums"]["CallStatus"]["transitions"]["initial"].remove("ringing"),
        {("enum-transition-removed", J, "/enums/CallStatus/transitions/initial")},
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
        _set(["services", "ClutchCallClient", "methods", "get_call", "request"], "DialRequest"),
        {("method-request-type-changed", W, f"{CC}/get_call/request")},
    ),
    Case(
        "method-request-type-same-shape",
        _set(["services", "voice.calls", "methods", "get", "request"], "HangupRequest"),
        {("method-request-type-changed", S, "/services/voice.calls/methods/get/request")},
    ),
    Case(
        "method-response-type-changed",
        _set(["services", "ClutchCallClient", "methods", "hangup", "response"], "Call"),
        {("method-response-type-changed", W, f"{CC}/hangup/response")},
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
    Case("auth-removed", _del(["auth"]), {("auth-changed", W, "/auth")}),
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
