"""Every schema and semantic rule: mutate a copy of the real IDL, run `apirpc-compiler validate`,
and check exit 1, the rule name, the JSON pointer and the exact line:col (found by searching the
written text)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from frontend_helpers import assert_reported, real_doc, run_validate, write_idl

from apirpc_compiler.frontend.load import load_idl
from apirpc_compiler.frontend.validate import validate

Doc = dict[str, Any]
ENV = "/wire/protocols/envelope"
MOQ = "/wire/protocols/moqt_d14"
# moqt_d14 places the new list keys are tried on (indexes checked by test_moqt_indexes_used_here).
NS_FIELDS = ["wire", "protocols", "moqt_d14", "structs", "TrackNamespace", "fields", 0]
DG_EXT = ["wire", "protocols", "moqt_d14", "structs", "ObjectDatagram", "fields", 5]
SO_EXT = ["wire", "protocols", "moqt_d14", "structs", "SubgroupObject", "fields", 1]


def _env(d: Doc) -> Doc:
    env: Doc = d["wire"]["protocols"]["envelope"]
    return env


def _fields(d: Doc, message: str) -> Doc:
    fields: Doc = d["messages"][message]["fields"]
    return fields


def _add_header_structs(d: Doc) -> Doc:
    """A small variant-carrying struct pair in the envelope protocol, for the variant and stream rules."""
    env = _env(d)
    env["structs"]["Hdr"] = {
        "variants": [{"code": 1, "flags": {"ext": True}}, {"code": 2, "flags": {"ext": False}}],
        "fields": [
            {"name": "type", "type": "varint"},
            {"name": "alias", "type": "varint", "when": {"flag": "ext", "is": True}},
        ],
    }
    env["structs"]["Obj"] = {"args": ["has_ext"], "fields": [{"name": "id", "type": "varint"}]}
    env["streams"]["objs"] = {
        "kind": "header_objects",
        "headers": {"Hdr": {"object": "Obj", "args": {"has_ext": "ext"}}},
    }
    return env


def _set(path: list[str | int], value: Any) -> Callable[[Doc], None]:
    def mutate(d: Doc) -> None:
        node: Any = d
        for token in path[:-1]:
            node = node[token]
        node[path[-1]] = value

    return mutate


def _delete(path: list[str | int]) -> Callable[[Doc], None]:
    def mutate(d: Doc) -> None:
        node: Any = d
        for token in path[:-1]:
            node = node[token]
        del node[path[-1]]

    return mutate


def _empty_element(d: Doc) -> None:
    """A framed list whose element (a struct without fields) can take zero bytes."""
    moq = d["wire"]["protocols"]["moqt_d14"]
    moq["structs"]["Nothing"] = {"fields": []}
    moq["structs"]["ObjectDatagram"]["fields"][5]["element"] = {"type": "struct", "struct": "Nothing"}


def _rest_list_of_optional(d: Doc) -> None:
    """A "rest"-counted list whose element struct has only conditional fields."""
    env = _env(d)
    env["structs"]["Maybe"] = {
        "args": ["on"],
        "fields": [{"name": "x", "type": "u8", "when": {"flag": "on", "is": True}}],
    }
    env["structs"]["Envelope"]["fields"][5] = {
        "name": "items",
        "type": "list",
        "count": "rest",
        "element": {"type": "struct", "struct": "Maybe"},
    }


def _dead_end(d: Doc) -> None:
    d["enums"]["CallStatus"]["transitions"]["edges"]["in_progress"] = []


def _unreachable(d: Doc) -> None:
    t = d["enums"]["CallStatus"]["transitions"]
    t["initial"] = ["dialing"]
    t["edges"]["dialing"].remove("ringing")


def _variant_dup(d: Doc) -> None:
    _add_header_structs(d)["structs"]["Hdr"]["variants"][1]["code"] = 1


def _variant_flags(d: Doc) -> None:
    _add_header_structs(d)["structs"]["Hdr"]["variants"][1]["flags"] = {"other": True}


def _stream_args(d: Doc) -> None:
    _add_header_structs(d)["streams"]["objs"]["headers"]["Hdr"]["args"] = {"has_ext": "nope"}


def _when_flag(d: Doc) -> None:
    _add_header_structs(d)["structs"]["Hdr"]["fields"][1]["when"] = {"flag": "missing", "is": True}


def _when_later_field(d: Doc) -> None:
    _env(d)["structs"]["Envelope"]["fields"][3]["when"] = {"field": "request_id", "op": "odd"}


def _rest_not_last(d: Doc) -> None:
    fields = _env(d)["structs"]["Envelope"]["fields"]
    fields[5]["length"] = "rest"
    fields.append({"name": "trailer", "type": "u8"})


def _struct_cycle(d: Doc) -> None:
    structs = _env(d)["structs"]
    structs["A"] = {"fields": [{"name": "b", "type": "struct", "struct": "B"}]}
    structs["B"] = {
        "fields": [{"name": "a", "type": "list", "count": "varint", "element": {"type": "struct", "struct": "A"}}]
    }


def _framed_without_structs(d: Doc) -> None:
    _env(d)["streams"]["frames"] = {"kind": "framed", "type": "varint", "length": "u16", "dispatch": "EnvelopeKind"}


def _json_default_collision(d: Doc) -> None:
    # rtp_v2 and rtp_v_2 both default to the ProtoJSON name rtpV2.
    _fields(d, "Call")["rtp_v2"] = {"number": 40, "type": "string"}
    _fields(d, "Call")["rtp_v_2"] = {"number": 41, "type": "string"}


def _add_enum_call(d: Doc) -> None:
    d["enums"]["Call"] = {"values": {"unspecified": {"number": 0}}}


# (rule, mutation, pointer of the reported item)
CASES: list[tuple[str, Callable[[Doc], None], str]] = [
    # --- schema ---
    ("schema-unknown-key", _set(["messages", "Call", "colour"], 1), "/messages/Call/colour"),
    ("schema-name", _set(["messages", "bad_name"], {"fields": {}}), "/messages/bad_name"),
    (
        "schema-name",
        _set(["messages", "Call", "fields", "BadField"], {"number": 40, "type": "string"}),
        "/messages/Call/fields/BadField",
    ),
    ("schema-type", _set(["messages", "Call", "fields", "sid", "number"], "1"), "/messages/Call/fields/sid/number"),
    (
        "schema-maximum",
        _set(["messages", "Call", "fields", "sid", "number"], 536870912),
        "/messages/Call/fields/sid/number",
    ),
    ("schema-minimum", _set(["messages", "Call", "fields", "sid", "number"], 0), "/messages/Call/fields/sid/number"),
    ("schema-required", _delete(["messages", "Call", "fields", "sid", "type"]), "/messages/Call/fields/sid"),
    (
        "schema-enum",
        _set(["services", "voice.calls", "methods", "get", "streaming"], "sideways"),
        "/services/voice.calls/methods/get/streaming",
    ),
    ("schema-anyof", _set(["wire", "protocols", "envelope", "version"], "0xZZ"), ENV + "/version"),
    (
        "schema-not-allowed",
        _set(["wire", "protocols", "envelope", "structs", "Envelope", "fields", 0, "length"], "varint"),
        ENV + "/structs/Envelope/fields/0/length",
    ),
    (
        "schema-unknown-key",
        _set(["wire", "protocols", "envelope", "structs", "Envelope", "fields", 0, "colour"], 1),
        ENV + "/structs/Envelope/fields/0/colour",
    ),
    ("schema-const", _set(["idl"], 2), "/idl"),
    # --- types ---
    ("duplicate-type-name", _add_enum_call, "/messages/Call"),
    ("unresolved-type", _set(["messages", "Call", "fields", "sid", "type"], "Nope"), "/messages/Call/fields/sid/type"),
    (
        "unresolved-type",
        _set(["services", "voice.calls", "methods", "get", "response"], "Nope"),
        "/services/voice.calls/methods/get/response",
    ),
    (
        "unresolved-type",
        _set(["services", "voice.calls", "methods", "get", "request"], "CallStatus"),
        "/services/voice.calls/methods/get/request",
    ),
    ("unresolved-type", _set(["auth", "claims"], "Missing"), "/auth/claims"),
    # --- messages ---
    (
        "duplicate-field-number",
        _set(["messages", "Call", "fields", "to", "number"], 4),
        "/messages/Call/fields/to/number",
    ),
    (
        "field-number-implementation-reserved",
        _set(["messages", "Call", "fields", "tenant_id", "number"], 19500),
        "/messages/Call/fields/tenant_id/number",
    ),
    (
        "reserved-number-used",
        _set(["messages", "Call", "fields", "tenant_id", "number"], 21),
        "/messages/Call/fields/tenant_id/number",
    ),
    (
        "reserved-name-used",
        _set(["messages", "Call", "fields", "recording_url"], {"number": 30, "type": "string"}),
        "/messages/Call/fields/recording_url",
    ),
    (
        "overlapping-reserved",
        _set(["messages", "Call", "reserved", "numbers"], [17, [20, 22], [21, 25]]),
        "/messages/Call/reserved/numbers/2",
    ),
    (
        "invalid-reserved-range",
        _set(["messages", "Call", "reserved", "numbers"], [17, [20, 22], [30, 25]]),
        "/messages/Call/reserved/numbers/2",
    ),
    (
        "default-not-allowed",
        _set(["messages", "Call", "fields", "sid", "default"], "x"),
        "/messages/Call/fields/sid/default",
    ),
    (
        "default-not-allowed",
        _set(["messages", "Call", "fields", "status", "default"], "dialing"),
        "/messages/Call/fields/status/default",
    ),
    (
        "default-not-allowed",
        _set(["messages", "ListCallsRequest", "fields", "page_size", "repeated"], True),
        "/messages/ListCallsRequest/fields/page_size/default",
    ),
    (
        "default-not-allowed",
        _set(
            ["messages", "Call", "fields", "quality"],
            {"number": 15, "type": "CallQuality", "optional": True, "default": 1},
        ),
        "/messages/Call/fields/quality/default",
    ),
    (
        "invalid-default",
        _set(["messages", "AudioShape", "fields", "sample_rate", "default"], -1),
        "/messages/AudioShape/fields/sample_rate/default",
    ),
    (
        "invalid-default",
        _set(["messages", "AudioShape", "fields", "sample_rate", "default"], 4294967296),
        "/messages/AudioShape/fields/sample_rate/default",
    ),
    (
        "invalid-default",
        _set(["messages", "AudioShape", "fields", "sample_rate", "default"], 1.5),
        "/messages/AudioShape/fields/sample_rate/default",
    ),
    (
        "invalid-default",
        _set(["messages", "AudioShape", "fields", "codec", "default"], "mp3"),
        "/messages/AudioShape/fields/codec/default",
    ),
    (
        "invalid-default",
        _set(["messages", "VadSettings", "fields", "threshold", "default"], 1e39),
        "/messages/VadSettings/fields/threshold/default",
    ),
    (
        "invalid-default",
        _set(["messages", "BargeIn", "fields", "enabled", "default"], "yes"),
        "/messages/BargeIn/fields/enabled/default",
    ),
    (
        "invalid-default",
        _set(["messages", "Call", "fields", "answered_at_ms", "default"], 2**63),
        "/messages/Call/fields/answered_at_ms/default",
    ),
    (
        "oneof-member-repeated",
        _set(["messages", "TransferRequest", "fields", "pstn_number", "repeated"], True),
        "/messages/TransferRequest/fields/pstn_number/repeated",
    ),
    (
        "oneof-member-optional",
        _set(["messages", "TransferRequest", "fields", "pstn_number", "optional"], True),
        "/messages/TransferRequest/fields/pstn_number/optional",
    ),
    (
        "unknown-oneof",
        _set(["messages", "TransferRequest", "fields", "pstn_number", "oneof"], "dest"),
        "/messages/TransferRequest/fields/pstn_number/oneof",
    ),
    (
        "empty-oneof",
        _set(["messages", "TransferRequest", "oneofs", "other"], {"doc": "nothing"}),
        "/messages/TransferRequest/oneofs/other",
    ),
    (
        "conflicting-labels",
        _set(["messages", "Call", "fields", "ended_at_ms", "repeated"], True),
        "/messages/Call/fields/ended_at_ms",
    ),
    (
        "json-name-collision",
        _set(["messages", "TenantClaims", "fields", "audience", "json_name"], "sub"),
        "/messages/TenantClaims/fields/audience/json_name",
    ),
    ("json-name-collision", _json_default_collision, "/messages/Call/fields/rtp_v_2"),
    # --- enums ---
    (
        "duplicate-enum-number",
        _set(["enums", "Direction", "values", "outbound", "number"], 1),
        "/enums/Direction/values/outbound/number",
    ),
    (
        "enum-missing-zero",
        _set(["enums", "Direction", "values", "unspecified", "number"], 3),
        "/enums/Direction/values",
    ),
    (
        "reserved-number-used",
        _set(["enums", "Direction", "reserved"], {"numbers": [[2, 5]]}),
        "/enums/Direction/values/outbound/number",
    ),
    (
        "reserved-name-used",
        _set(["enums", "Direction", "reserved"], {"names": ["inbound"]}),
        "/enums/Direction/values/inbound",
    ),
    (
        "enum-attribute-missing",
        _delete(["enums", "ErrorCode", "values", "invalid_argument", "attributes", "retryable"]),
        "/enums/ErrorCode/values/invalid_argument",
    ),
    (
        "enum-attribute-type",
        _set(["enums", "ErrorCode", "values", "invalid_argument", "attributes", "http_status"], "400"),
        "/enums/ErrorCode/values/invalid_argument/attributes/http_status",
    ),
    (
        "enum-attribute-type",
        _set(["enums", "ErrorCode", "values", "invalid_argument", "attributes", "retryable"], 1),
        "/enums/ErrorCode/values/invalid_argument/attributes/retryable",
    ),
    (
        "enum-attribute-unknown",
        _set(["enums", "ErrorCode", "values", "invalid_argument", "attributes", "colour"], "red"),
        "/enums/ErrorCode/values/invalid_argument/attributes/colour",
    ),
    (
        "transition-unknown-state",
        lambda d: d["enums"]["CallStatus"]["transitions"]["edges"]["dialing"].append("gone"),
        "/enums/CallStatus/transitions/edges/dialing/5",
    ),
    (
        "transition-zero-state",
        lambda d: d["enums"]["CallStatus"]["transitions"]["initial"].append("unspecified"),
        "/enums/CallStatus/transitions/initial/2",
    ),
    (
        "transition-terminal-outgoing",
        _set(["enums", "CallStatus", "transitions", "edges", "completed"], ["failed"]),
        "/enums/CallStatus/transitions/edges/completed",
    ),
    (
        "transition-cycle",
        lambda d: d["enums"]["CallStatus"]["transitions"]["edges"]["in_progress"].append("ringing"),
        "/enums/CallStatus/transitions/edges/in_progress/2",
    ),
    ("transition-unreachable", _unreachable, "/enums/CallStatus/transitions/edges/ringing"),
    ("transition-dead-end", _dead_end, "/enums/CallStatus/transitions/edges/dialing/1"),
    (
        "transition-initial-terminal",
        lambda d: d["enums"]["CallStatus"]["transitions"]["initial"].append("completed"),
        "/enums/CallStatus/transitions/initial/2",
    ),
    # --- services ---
    (
        "duplicate-method-id",
        _set(["services", "voice.agents", "methods", "bind", "id"], 256),
        "/services/voice.agents/methods/bind/id",
    ),
    (
        "reserved-id-used",
        _set(["services", "ClutchCallClient", "methods", "get_call", "id"], 6),
        "/services/ClutchCallClient/methods/get_call/id",
    ),
    (
        "reserved-name-used",
        _set(
            ["services", "ClutchCallClient", "methods", "record"], {"id": 99, "request": "Empty", "response": "Empty"}
        ),
        "/services/ClutchCallClient/methods/record",
    ),
    (
        "overlapping-reserved",
        _set(["services", "ClutchCallClient", "reserved", "ids"], [6, [6, 7]]),
        "/services/ClutchCallClient/reserved/ids/1",
    ),
    (
        "http-path-variable",
        _set(["services", "voice.calls", "methods", "get", "http", "path"], "/v1/calls/{call_id}"),
        "/services/voice.calls/methods/get/http/path",
    ),
    (
        "http-path-variable",
        _set(["services", "voice.agents", "methods", "bind", "http", "path"], "/v1/calls/{agent}"),
        "/services/voice.agents/methods/bind/http/path",
    ),
    (
        "http-body",
        _set(["services", "voice.agents", "methods", "bind", "http", "body"], "sid"),
        "/services/voice.agents/methods/bind/http/body",
    ),
    (
        "http-body",
        _set(["services", "voice.agents", "methods", "bind", "http", "body"], "nothing"),
        "/services/voice.agents/methods/bind/http/body",
    ),
    (
        "duplicate-http-route",
        _set(["services", "voice.calls", "methods", "hangup", "http", "path"], "/v1/calls/{sid}:transfer"),
        "/services/voice.calls/methods/hangup/http/path",
    ),
    # --- bridges ---
    (
        "bridge-template-variable",
        _set(["bridges", "voice.bridge", "namespace"], "voice/{tenant}"),
        "/bridges/voice.bridge/namespace",
    ),
    (
        "unknown-track-kind",
        _set(["bridges", "voice.bridge", "tracks", "uplink", "kind"], "smell"),
        "/bridges/voice.bridge/tracks/uplink/kind",
    ),
    (
        "unknown-track",
        _set(["bridges", "voice.bridge", "roles", "attach", "subscribe"], ["sidelink"]),
        "/bridges/voice.bridge/roles/attach/subscribe/0",
    ),
    # --- wire ---
    (
        "duplicate-code-value",
        _set(["wire", "protocols", "envelope", "codes", "EnvelopeKind", "values", "event", "value"], 2),
        ENV + "/codes/EnvelopeKind/values/event/value",
    ),
    (
        "duplicate-wire-field",
        _set(["wire", "protocols", "envelope", "structs", "Envelope", "fields", 4, "name"], "method_id"),
        ENV + "/structs/Envelope/fields/4/name",
    ),
    (
        "invalid-variants",
        _set(["wire", "protocols", "envelope", "structs", "Envelope", "variants"], [{"code": 1}]),
        ENV + "/structs/Envelope/variants",
    ),
    ("duplicate-variant-code", _variant_dup, ENV + "/structs/Hdr/variants/1/code"),
    ("inconsistent-variant-flags", _variant_flags, ENV + "/structs/Hdr/variants/1/flags"),
    ("invalid-when", _when_flag, ENV + "/structs/Hdr/fields/1/when/flag"),
    ("invalid-when", _when_later_field, ENV + "/structs/Envelope/fields/3/when/field"),
    (
        "invalid-when",
        _set(
            ["wire", "protocols", "envelope", "structs", "Envelope", "fields", 5, "when"],
            {"field": "nope", "op": "even"},
        ),
        ENV + "/structs/Envelope/fields/5/when/field",
    ),
    (
        "invalid-length-ref",
        _set(["wire", "protocols", "envelope", "structs", "Envelope", "fields", 5, "length"], {"field": "payload"}),
        ENV + "/structs/Envelope/fields/5/length/field",
    ),
    ("rest-not-last", _rest_not_last, ENV + "/structs/Envelope/fields/5/length"),
    (
        "code-value-range",
        _set(["wire", "protocols", "envelope", "codes", "EnvelopeKind", "values", "event", "value"], 300),
        ENV + "/structs/Envelope/fields/1/codes",
    ),
    (
        "const-range",
        _set(["wire", "protocols", "envelope", "structs", "Envelope", "fields", 0, "const"], "0x100"),
        ENV + "/structs/Envelope/fields/0/const",
    ),
    (
        "wire-value-range",
        _set(["wire", "protocols", "envelope", "structs", "Envelope", "fields", 2, "mask"], 511),
        ENV + "/structs/Envelope/fields/2/mask",
    ),
    (
        "wire-value-range",
        _set(["wire", "protocols", "envelope", "structs", "Envelope", "fields", 3, "max"], 2**62),
        ENV + "/structs/Envelope/fields/3/max",
    ),
    ("dispatch-missing-struct", _framed_without_structs, ENV + "/codes/EnvelopeKind/values/request"),
    ("wire-struct-cycle", _struct_cycle, ENV + "/structs/B/fields/0/element/struct"),
    (
        "unresolved-wire-struct",
        _set(["wire", "protocols", "envelope", "streams", "rpc", "message"], "Nope"),
        ENV + "/streams/rpc/message",
    ),
    (
        "unresolved-wire-struct",
        _set(
            ["wire", "protocols", "envelope", "structs", "Envelope", "fields", 5],
            {"name": "p", "type": "struct", "struct": "X"},
        ),
        ENV + "/structs/Envelope/fields/5/struct",
    ),
    (
        "unresolved-wire-codes",
        _set(["wire", "protocols", "envelope", "structs", "Envelope", "fields", 1, "codes"], "Nope"),
        ENV + "/structs/Envelope/fields/1/codes",
    ),
    ("invalid-stream-args", _stream_args, ENV + "/streams/objs/headers/Hdr/args/has_ext"),
    # --- byte frames and list bounds ---
    ("frame-with-count", _set([*DG_EXT, "count"], "varint"), MOQ + "/structs/ObjectDatagram/fields/5/count"),
    ("frame-with-count", _set([*SO_EXT, "count"], "rest"), MOQ + "/structs/SubgroupObject/fields/1/count"),
    (
        "max-bytes-without-frame",
        _set([*NS_FIELDS, "max_bytes"], 100),
        MOQ + "/structs/TrackNamespace/fields/0/max_bytes",
    ),
    (
        "max-bytes-without-frame",
        _set(["wire", "protocols", "moqt_d14", "structs", "Subscribe", "fields", 1, "max_bytes"], 100),
        MOQ + "/structs/Subscribe/fields/1/max_bytes",
    ),
    ("wire-value-range", _set([*NS_FIELDS, "min"], 33), MOQ + "/structs/TrackNamespace/fields/0/min"),
    ("wire-value-range", _set([*NS_FIELDS, "max"], 2**62), MOQ + "/structs/TrackNamespace/fields/0/max"),
    ("wire-value-range", _set([*DG_EXT, "max_bytes"], 2**62), MOQ + "/structs/ObjectDatagram/fields/5/max_bytes"),
    ("zero-size-element", _empty_element, MOQ + "/structs/ObjectDatagram/fields/5/element"),
    ("zero-size-element", _rest_list_of_optional, ENV + "/structs/Envelope/fields/5/element"),
    ("schema-required", _delete([*NS_FIELDS, "count"]), MOQ + "/structs/TrackNamespace/fields/0"),
    ("schema-enum", _set([*DG_EXT, "frame"], "u16"), MOQ + "/structs/ObjectDatagram/fields/5/frame"),
    (
        "schema-not-allowed",
        _set(["wire", "protocols", "envelope", "structs", "Envelope", "fields", 5, "frame"], "varint"),
        ENV + "/structs/Envelope/fields/5/frame",
    ),
    (
        "schema-not-allowed",
        _set(["wire", "protocols", "envelope", "structs", "Envelope", "fields", 0, "max_bytes"], 4),
        ENV + "/structs/Envelope/fields/0/max_bytes",
    ),
]


@pytest.mark.parametrize(("rule", "mutate", "pointer"), CASES, ids=[f"{c[0]}:{c[2]}" for c in CASES])
def test_rule_is_reported_at_its_location(
    tmp_path: Path, rule: str, mutate: Callable[[Doc], None], pointer: str
) -> None:
    doc = real_doc()
    mutate(doc)
    path, text = write_idl(tmp_path, doc)
    assert_reported(run_validate(path), path, text, doc, rule, pointer)


def test_moqt_indexes_used_here() -> None:
    doc = real_doc()
    node: Any = doc
    for path, name in ((NS_FIELDS, "fields"), (DG_EXT, "extension_headers"), (SO_EXT, "extension_headers")):
        node = doc
        for token in path:
            node = node[token]
        assert node["name"] == name and node["type"] == "list"
    sub = doc["wire"]["protocols"]["moqt_d14"]["structs"]["Subscribe"]["fields"][1]
    assert sub["type"] == "struct" and sub["struct"] == "TrackNamespace"


def test_frame_and_list_bounds_accepted(tmp_path: Path) -> None:
    doc = real_doc()
    _set([*DG_EXT, "max_bytes"], "0x4000")(doc)
    _set(["wire", "protocols", "moqt_d14", "structs", "Subscribe", "fields", 1, "frame"], "varint")(doc)
    _set(["wire", "protocols", "moqt_d14", "structs", "Subscribe", "fields", 1, "max_bytes"], 4096)(doc)
    _set([*NS_FIELDS, "min"], 32)(doc)  # min == max is allowed
    path, _ = write_idl(tmp_path, doc)
    run = run_validate(path)
    assert run.code == 0, run.output


def test_the_real_idl_validates_clean(tmp_path: Path) -> None:
    path, _ = write_idl(tmp_path, real_doc())
    run = run_validate(path)
    assert run.code == 0, run.output
    assert ": ok (" in run.output
    assert validate(load_idl(str(path))) == []


def test_every_semantic_error_is_reported_in_one_run(tmp_path: Path) -> None:
    doc = real_doc()
    picked = [c for c in CASES if not c[0].startswith("schema-")]
    # Independent mutations: one per rule, touching different places of the document.
    chosen = {
        "duplicate-field-number",
        "duplicate-enum-number",
        "duplicate-method-id",
        "empty-oneof",
        "bridge-template-variable",
        "transition-cycle",
        "duplicate-code-value",
        "invalid-default",
        "unknown-track",
    }
    seen: set[str] = set()
    applied = []
    for rule, mutate, pointer in picked:
        if rule in chosen and rule not in seen:
            seen.add(rule)
            mutate(doc)
            applied.append((rule, pointer))
    assert seen == chosen
    path, text = write_idl(tmp_path, doc)
    run = run_validate(path)
    for rule, pointer in applied:
        assert_reported(run, path, text, doc, rule, pointer)
    assert run.output.rstrip().endswith(f"{len(applied)} errors"), run.output


def test_every_schema_error_is_reported_in_one_run(tmp_path: Path) -> None:
    doc = real_doc()
    applied = []
    for rule, mutate, pointer in CASES[:4]:
        mutate(doc)
        applied.append((rule, pointer))
    path, text = write_idl(tmp_path, doc)
    run = run_validate(path)
    for rule, pointer in applied:
        assert_reported(run, path, text, doc, rule, pointer)


def test_duplicate_key_names_both_locations(tmp_path: Path) -> None:
    path, text = write_idl(tmp_path, real_doc())
    first = text.index('"sid": {')  # the first field named sid; insert another member of that name before it
    dup = text[:first] + '"sid": {"number": 99, "type": "string"},\n' + " " * 8 + text[first:]
    path.write_text(dup, encoding="utf-8")
    run = run_validate(path)
    assert run.code == 1
    line_first = dup[:first].count("\n") + 1
    line_second = line_first + 1
    assert "[json-duplicate-key]" in run.output
    assert (
        f"{path}:{line_second}:9: error: [json-duplicate-key] duplicate key 'sid' "
        f"(first defined at {path}:{line_first}:" in run.output
    )


def test_synthetic_large_idl_validates_quickly(tmp_path: Path) -> None:
    doc = real_doc()
    for i in range(2000):
        doc["messages"][f"Synthetic{i}"] = {
            "doc": "generated",
            "fields": {f"field_{j}": {"number": j + 1, "type": "string", "doc": "x"} for j in range(20)},
        }
    path, _ = write_idl(tmp_path, doc)
    start = time.perf_counter()
    assert validate(load_idl(str(path))) == []
    assert time.perf_counter() - start < 10.0
