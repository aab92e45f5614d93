"""The rules a protoc, buf or Smithy user expects (issue 9, part 3): each mutation of the real IDL
is reported with its rule, file:line:col (found by searching the written text), JSON pointer, a
piece of its message and of its hint; and the neighbouring valid cases are accepted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from frontend_helpers import assert_reported, real_doc, run_validate, write_idl

Doc = dict[str, Any]
ENV = "/wire/protocols/envelope"
MOQ = "/wire/protocols/moqt_d14"
CALLS = "/services/voice.calls/methods"


def _node(d: Doc, path: list[str | int]) -> Any:
    node: Any = d
    for token in path:
        node = node[token]
    return node


def _set(path: list[str | int], value: Any) -> Callable[[Doc], None]:
    def mutate(d: Doc) -> None:
        _node(d, path[:-1])[path[-1]] = value

    return mutate


def _delete(path: list[str | int]) -> Callable[[Doc], None]:
    def mutate(d: Doc) -> None:
        del _node(d, path[:-1])[path[-1]]

    return mutate


def _env_field(i: int, **extra: Any) -> Callable[[Doc], None]:
    def mutate(d: Doc) -> None:
        d["wire"]["protocols"]["envelope"]["structs"]["Envelope"]["fields"][i].update(extra)

    return mutate


def _envelope_as_moqt_sibling(d: Doc) -> None:
    envelope = d["wire"]["protocols"]["envelope"]
    del envelope["auth"]  # a moqt protocol has no envelope auth
    envelope.update(family="moqt", alpn="moq-00")


def _reorder_direction(d: Doc) -> None:
    values = d["enums"]["Direction"]["values"]
    d["enums"]["Direction"]["values"] = {k: values[k] for k in ("inbound", "unspecified", "outbound")}


def _rename_direction_zero(d: Doc) -> None:
    values = d["enums"]["Direction"]["values"]
    d["enums"]["Direction"]["values"] = {("none" if k == "unspecified" else k): v for k, v in values.items()}


def _drop_no_answer_state(d: Doc) -> None:
    t = d["enums"]["CallStatus"]["transitions"]
    t["terminal"].remove("no_answer")
    for dsts in t["edges"].values():
        if "no_answer" in dsts:
            dsts.remove("no_answer")


def _oneof_named_like_field(d: Doc) -> None:
    d["messages"]["TransferRequest"]["oneofs"]["sid"] = {"doc": "x"}
    d["messages"]["TransferRequest"]["fields"]["sid"]["oneof"] = "sid"


# (rule, mutation, pointer, a piece of the message, a piece of the hint)
CASES: list[tuple[str, Callable[[Doc], None], str, str, str]] = [
    # json_name against another field's name: ProtoJSON parsers accept both spellings.
    (
        "json-name-is-field-name",
        _set(["messages", "Call", "fields", "to", "json_name"], "tenant_id"),
        "/messages/Call/fields/to/json_name",
        "the JSON name 'tenant_id' of Call.to is the name of field Call.tenant_id",
        "accepts both spellings of a field",
    ),
    (
        "json-name-is-field-name",
        _set(["messages", "TenantClaims", "fields", "audience", "json_name"], "tenant_id"),
        "/messages/TenantClaims/fields/audience/json_name",
        "is the name of field TenantClaims.tenant_id",
        "choose another json_name",
    ),
    (
        "json-name-collision",
        _set(["messages", "TenantClaims", "fields", "audience", "json_name"], "exp"),
        "/messages/TenantClaims/fields/audience/json_name",
        "TenantClaims.audience and TenantClaims.expires_at both have the JSON name 'exp'",
        "distinct json_name",
    ),
    # Reserved numbers that cannot exist (protoc: "Reserved numbers must be positive integers").
    (
        "reserved-out-of-range",
        _set(["messages", "Call", "reserved", "numbers"], [0, 17, [20, 22]]),
        "/messages/Call/reserved/numbers/0",
        "reserved 0 is outside the field number range 1 .. 536870911",
        "reserve only field numbers that can exist",
    ),
    (
        "reserved-out-of-range",
        _set(["messages", "Call", "reserved", "numbers"], [17, [536870900, 536870912]]),
        "/messages/Call/reserved/numbers/1",
        "reserved [536870900, 536870912] is outside the field number range",
        "reserve only field numbers",
    ),
    (
        "reserved-out-of-range",
        _set(["enums", "Direction", "reserved"], {"numbers": [2**31]}),
        "/enums/Direction/reserved/numbers/0",
        "outside the enum number range -2147483648 .. 2147483647",
        "reserve only enum numbers",
    ),
    (
        "reserved-out-of-range",
        _set(["services", "ClutchCallClient", "reserved", "ids"], [0, 6, 7]),
        "/services/ClutchCallClient/reserved/ids/0",
        "outside the method id range 1 .. 4294967295",
        "reserve only method ids",
    ),
    # Method ids share one envelope: another service's reservation counts.
    (
        "reserved-id-used",
        _set(["services", "voice.calls", "methods", "get", "id"], 6),
        CALLS + "/get/id",
        "voice.calls.get uses method id 6, which service ClutchCallClient reserves",
        "reserved in every service",
    ),
    (
        "reserved-id-used",
        _set(["services", "ClutchCallClient", "reserved", "ids"], [6, [256, 257]]),
        CALLS + "/originate/id",
        "which service ClutchCallClient reserves",
        "share one envelope",
    ),
    # Every non-zero value of a state machine's enum is a state.
    (
        "transition-missing-state",
        _set(["enums", "CallStatus", "values", "on_hold"], {"number": 7}),
        "/enums/CallStatus/values/on_hold",
        "CallStatus.on_hold is not a state of CallStatus's state machine",
        "every non-zero value is a state",
    ),
    (
        "transition-missing-state",
        _drop_no_answer_state,
        "/enums/CallStatus/values/no_answer",
        "CallStatus.no_answer is not a state",
        "list it as initial or terminal",
    ),
    # google.api.http
    (
        "http-path-variable-repeated",
        _set(["services", "voice.calls", "methods", "get", "http", "path"], "/v1/calls/{sid}/legs/{sid}"),
        CALLS + "/get/http/path",
        "binds {sid} more than once",
        "remove the repeated variable",
    ),
    (
        "http-body-not-allowed",
        _set(["services", "voice.calls", "methods", "get", "http", "body"], "*"),
        CALLS + "/get/http/body",
        "voice.calls.get is GET with a body",
        "a GET request carries none",
    ),
    (
        "http-body-not-allowed",
        _set(["services", "voice.agents", "methods", "unbind", "http", "body"], "*"),
        "/services/voice.agents/methods/unbind/http/body",
        "voice.agents.unbind is DELETE with a body",
        "a DELETE request carries none",
    ),
    (
        "http-body",
        _set(["services", "voice.agents", "methods", "bind", "http", "body"], "sid"),
        "/services/voice.agents/methods/bind/http/body",
        "body field BindAgentRequest.sid is also a path variable",
        "bind each field once",
    ),
    (
        "http-path-template",
        _set(["services", "voice.calls", "methods", "get", "http", "path"], "/v1/calls/x{sid}"),
        CALLS + "/get/http/path",
        "segment 'x{sid}' mixes a variable with other text",
        "google.api.http",
    ),
    (
        "http-path-template",
        _set(["services", "voice.calls", "methods", "list", "http", "path"], "/v1/calls/"),
        CALLS + "/list/http/path",
        "it ends with '/'",
        "optional :verb at the end",
    ),
    (
        "http-path-template",
        _set(["services", "voice.calls", "methods", "list", "http", "path"], "/v1//calls"),
        CALLS + "/list/http/path",
        "it has an empty segment",
        "google.api.http",
    ),
    (
        "http-path-template",
        _set(["services", "voice.calls", "methods", "get", "http", "path"], "/v1/calls:x/{sid}"),
        CALLS + "/get/http/path",
        "segment 'calls:x' has a ':'",
        "google.api.http",
    ),
    (
        "http-path-template",
        _set(["services", "voice.calls", "methods", "hangup", "http", "path"], "/v1/calls/{sid}:"),
        CALLS + "/hangup/http/path",
        "the custom verb '' is not a literal",
        "google.api.http",
    ),
    (
        "http-method-idempotency",
        _set(["services", "voice.calls", "methods", "get", "idempotent"], False),
        CALLS + "/get/idempotent",
        "voice.calls.get is routed as GET but is not marked idempotent",
        '"idempotent": true or use POST',
    ),
    (
        "http-method-idempotency",
        _delete(["services", "voice.agents", "methods", "unbind", "idempotent"]),
        "/services/voice.agents/methods/unbind",
        "routed as DELETE",
        "may retry it",
    ),
    (
        "http-query-parameter",
        _set(["messages", "ListCallsRequest", "fields", "labels"], {"number": 4, "type": "KeyValue", "repeated": True}),
        CALLS + "/list/http",
        "ListCallsRequest.labels would be a query parameter, but it is a repeated message",
        "bind it in the body",
    ),
    (
        "http-query-parameter",
        _set(["messages", "ListCallsRequest", "fields", "agent"], {"number": 4, "type": "AgentBinding"}),
        CALLS + "/list/http",
        "ListCallsRequest.agent.metadata would be a query parameter",
        "or use another verb",
    ),
    # Wire constraints that contradict each other.
    (
        "contradictory-constraint",
        _env_field(0, max=0),
        ENV + "/structs/Envelope/fields/0/const",
        "const 0x1 is above max 0x0, so no value can be valid",
        "fix the constant or the constraint",
    ),
    (
        "contradictory-constraint",
        _env_field(0, min=2),
        ENV + "/structs/Envelope/fields/0/const",
        "const 0x1 is below min 0x2",
        "fix the constant",
    ),
    (
        "contradictory-constraint",
        _env_field(1, const=7),
        ENV + "/structs/Envelope/fields/1/const",
        "const 0x7 is not a value of the closed code set EnvelopeKind",
        "fix the constant",
    ),
    (
        "contradictory-constraint",
        _env_field(2, const=4),
        ENV + "/structs/Envelope/fields/2/const",
        "const 0x4 has bits outside mask 0x3",
        "fix the constant",
    ),
    (
        "contradictory-constraint",
        _env_field(5, length=32, max=16),
        ENV + "/structs/Envelope/fields/5/length",
        "a fixed length of 32 bytes is above max 16",
        "fix the length or the bound",
    ),
    (
        "contradictory-constraint",
        _set(["wire", "protocols", "moqt_d14", "structs", "TrackNamespace", "fields", 0, "count"], 40),
        MOQ + "/structs/TrackNamespace/fields/0/count",
        "a fixed count of 40 elements is above max 32",
        "fix the count",
    ),
    (
        "contradictory-constraint",
        _set(["wire", "protocols", "moqt_d14", "structs", "TrackNamespace", "fields", 0, "count"], "0x0"),
        MOQ + "/structs/TrackNamespace/fields/0/count",
        "a fixed count of 0 elements is below min 1",
        "fix the count",
    ),
    # Protocol identities.
    (
        "duplicate-protocol-version",
        lambda d: d["wire"]["protocols"]["envelope"].update(family="moqt", version="0xff00000e"),
        MOQ + "/version",
        "protocols envelope and moqt_d14 are both moqt version 0xff00000e",
        "gets its own version",
    ),
    (
        "alpn-conflict",
        _set(["wire", "protocols", "envelope", "alpn"], "moq-00"),
        MOQ + "/alpn",
        "ALPN 'moq-00' of moqt_d14 (moqt) is already the ALPN of envelope (envelope)",
        "give each family its own",
    ),
    (
        "http-streaming-requests",
        _set(
            ["services", "ClutchCallClient", "methods", "push_audio", "http"],
            {"method": "POST", "path": "/v1/audio:push", "body": "*"},
        ),
        "/services/ClutchCallClient/methods/push_audio/http",
        "ClutchCallClient.push_audio streams its requests (client); REST carries one request body",
        "remove http and call it over the envelope RPC",
    ),
    # The envelope's token convention shares method_id with the methods.
    (
        "auth-method-id-collision",
        _set(["wire", "protocols", "envelope", "auth", "method_id"], 11),
        ENV + "/auth/method_id",
        "auth method id 11 of envelope is the id of method /services/ClutchCallClient/methods/watch_calls",
        "give auth an id no method uses",
    ),
    (
        "auth-method-id-collision",
        _set(["wire", "protocols", "envelope", "auth", "method_id"], 7),
        ENV + "/auth/method_id",
        "auth method id 7 of envelope is reserved by service ClutchCallClient",
        "a reserved id may still reach old servers",
    ),
    (
        "auth-not-envelope",
        lambda d: d["wire"]["protocols"]["moqt_d14"].update(auth=d["wire"]["protocols"]["envelope"]["auth"]),
        MOQ + "/auth",
        "protocol moqt_d14 is of family 'moqt'; only the envelope family sends its token under a method ID",
        "AUTHORIZATION TOKEN",
    ),
    # protoc and buf lint (DEFAULT) rules.
    (
        "enum-zero-not-first",
        _reorder_direction,
        "/enums/Direction/values/unspecified",
        "Direction.unspecified has number 0 but Direction.inbound is declared first",
        "protoc rejects a proto3 enum",
    ),
    (
        "enum-zero-value-name",
        _rename_direction_zero,
        "/enums/Direction/values/none",
        "the zero value of Direction is named 'none', not 'unspecified'",
        "name it unspecified",
    ),
    (
        "oneof-name-conflict",
        _oneof_named_like_field,
        "/messages/TransferRequest/oneofs/sid",
        "oneof TransferRequest.sid has the name of field TransferRequest.sid",
        "share one scope in protobuf",
    ),
    (
        "package-version-suffix",
        _set(["package"], "clutchcall"),
        "/package",
        "package 'clutchcall' does not end in a version component",
        "e.g. clutchcall.v1",
    ),
    # Grammar of an older message: "role attach publishs" is now "publishes".
    (
        "unknown-track",
        _set(["bridges", "voice.bridge", "roles", "attach", "publish"], ["sidelink"]),
        "/bridges/voice.bridge/roles/attach/publish/0",
        "role attach publishes 'sidelink', which is not a track of voice.bridge",
        "use one of: uplink, downlink",
    ),
    (
        "unknown-track",
        _set(["bridges", "voice.bridge", "roles", "attach", "subscribe"], ["sidelink"]),
        "/bridges/voice.bridge/roles/attach/subscribe/0",
        "role attach subscribes to 'sidelink'",
        "use one of",
    ),
]


@pytest.mark.parametrize(("rule", "mutate", "pointer", "message", "hint"), CASES, ids=[f"{c[0]}:{c[2]}" for c in CASES])
def test_rule_is_reported_with_location_and_hint(
    tmp_path: Path, rule: str, mutate: Callable[[Doc], None], pointer: str, message: str, hint: str
) -> None:
    doc = real_doc()
    mutate(doc)
    path, text = write_idl(tmp_path, doc)
    assert_reported(run_validate(path), path, text, doc, rule, pointer, message, hint)


def _add_reserved_19000(d: Doc) -> None:
    d["messages"]["Call"]["reserved"]["numbers"].append([19000, 19999])


def _max_field_number(d: Doc) -> None:
    d["messages"]["Call"]["fields"]["tenant_id"]["number"] = 536870911
    d["messages"]["Call"]["reserved"]["numbers"].append([536870900, 536870910])


ACCEPTED: list[tuple[str, Callable[[Doc], None]]] = [
    ("reserved 19000-19999 (protoc allows reserving them)", _add_reserved_19000),
    ("the largest field number, and reserved up to it", _max_field_number),
    ("negative reserved enum numbers", _set(["enums", "Direction", "reserved"], {"numbers": [-5, [-10, -7]]})),
    ("json_name equal to the field's own name", _set(["messages", "Call", "fields", "to", "json_name"], "to")),
    ("json_name equal to no other field's name", _set(["messages", "Call", "fields", "to", "json_name"], "callee")),
    ("const within min, max, mask and code set", _env_field(1, const=3, min=1, max=3, mask=3)),
    (
        "fixed count within bounds",
        _set(["wire", "protocols", "moqt_d14", "structs", "TrackNamespace", "fields", 0, "count"], 32),
    ),
    ("POST without idempotent", _set(["services", "voice.calls", "methods", "hangup", "idempotent"], False)),
    (
        "a repeated message in the body",
        lambda d: d["messages"]["HangupRequest"]["fields"].update(
            labels={"number": 2, "type": "KeyValue", "repeated": True}
        ),
    ),
    ("PUT with a body", _set(["services", "voice.agents", "methods", "bind", "http", "body"], "*")),
    (
        "a custom verb after a literal",
        _set(["services", "voice.calls", "methods", "list", "http", "path"], "/v1/calls:search"),
    ),
    ("same ALPN within one family", _envelope_as_moqt_sibling),
    ("package with a beta version", _set(["package"], "clutchcall.v2beta1")),
    ("envelope auth under an id no method uses", _set(["wire", "protocols", "envelope", "auth", "method_id"], 4096)),
    ("no envelope auth", _delete(["wire", "protocols", "envelope", "auth"])),
    (
        "a server stream with an HTTP rule (NDJSON over REST)",
        _set(
            ["services", "ClutchCallClient", "methods", "watch_calls", "http"], {"method": "GET", "path": "/v1/watch"}
        ),
    ),
]


@pytest.mark.parametrize(("what", "mutate"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_neighbouring_valid_cases_are_accepted(tmp_path: Path, what: str, mutate: Callable[[Doc], None]) -> None:
    doc = real_doc()
    mutate(doc)
    path, _ = write_idl(tmp_path, doc)
    run = run_validate(path)
    assert run.code == 0, f"{what}:\n{run.output}"


def test_query_parameter_reported_once_per_method(tmp_path: Path) -> None:
    # Two repeated messages reachable from one GET request, one directly and one through a nested message: the
    # method gets one error, not one per path (a large request graph would otherwise drown the report).
    doc = real_doc()
    fields = doc["messages"]["ListCallsRequest"]["fields"]
    fields["labels"] = {"number": 4, "type": "KeyValue", "repeated": True, "doc": "Labels."}
    fields["agent"] = {"number": 5, "type": "AgentBinding", "doc": "Agent."}
    path, _ = write_idl(tmp_path, doc)
    run = run_validate(path)
    assert run.code != 0
    assert run.output.count("[http-query-parameter]") == 1, run.output
