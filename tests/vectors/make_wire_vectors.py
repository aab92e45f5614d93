#!/usr/bin/env python3
"""Write the golden wire vectors: varint.json, envelope.json and moqt_d14.json.

This script is the independent oracle for the generated codecs, so it deliberately uses no
generated code, no compiler and not even the IDL: every byte is assembled here by hand from the
layouts in RFC 9000 (varints), the envelope section of the IDL docs and draft-ietf-moq-transport-14,
with a tiny local varint encoder. Output is deterministic (sorted keys, indent 1, trailing
newline); run it twice and diff to check. The file format is described in README.md next to it.

Usage: python tests/vectors/make_wire_vectors.py [--check]
  --check  do not write; exit 1 if a file on disk differs from what would be written.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent
MAX_SAFE = 2**53 - 1  # JSON numbers above this are written as decimal strings
VARINT_MAX = 2**62 - 1
Value = dict[str, Any]

# ----------------------------------------------------------------------------- primitives


def vi(n: int, size: int | None = None) -> bytes:
    """QUIC varint (RFC 9000 section 16), minimal unless `size` (1, 2, 4 or 8) forces a longer form."""
    assert 0 <= n <= VARINT_MAX, n
    if size is None:
        size = 1 if n < 2**6 else 2 if n < 2**14 else 4 if n < 2**30 else 8
    prefix = {1: 0, 2: 1, 4: 2, 8: 3}[size]
    assert n < 2 ** (8 * size - 2), (n, size)
    return ((prefix << (8 * size - 2)) | n).to_bytes(size, "big")


def u8(n: int) -> bytes:
    return n.to_bytes(1, "big")


def u16(n: int) -> bytes:
    return n.to_bytes(2, "big")


def lp(data: bytes) -> bytes:
    """Varint length prefix + bytes (the draft's `(b)`)."""
    return vi(len(data)) + data


def num(n: int) -> int | str:
    """An integer as the vectors write it: a JSON number, or a decimal string above 2^53-1."""
    return n if n <= MAX_SAFE else str(n)


def to_int(x: int | str) -> int:
    return int(x)


def unhex(s: str) -> bytes:
    return bytes.fromhex(s)


# ----------------------------------------------------------------------------- case lists


class Cases:
    def __init__(self) -> None:
        self.items: list[Value] = []
        self.names: set[str] = set()

    def add(self, case: Value) -> None:
        name = case["name"]
        assert name not in self.names, f"duplicate case name {name}"
        self.names.add(name)
        self.items.append(case)


# ----------------------------------------------------------------------------- varint.json


def varint_file() -> Value:
    cases: list[Value] = []
    decode_only: list[Value] = []
    errors: list[Value] = []
    encode_errors: list[Value] = []

    def pos(name: str, value: int, hexs: str) -> None:
        assert vi(value).hex() == hexs, (name, vi(value).hex(), hexs)
        cases.append({"name": name, "value": num(value), "hex": hexs})

    # RFC 9000 Appendix A.1 sample encodings (typed in by hand, checked against the encoder).
    pos("rfc9000_8_byte", 151288809941952652, "c2197c5eff14e88c")
    pos("rfc9000_4_byte", 494878333, "9d7f3e7d")
    pos("rfc9000_2_byte", 15293, "7bbd")
    pos("rfc9000_1_byte", 37, "25")
    # Boundaries of every length class.
    pos("zero", 0, "00")
    pos("one_byte_max", 63, "3f")
    pos("two_byte_min", 64, "4040")
    pos("two_byte_max", 16383, "7fff")
    pos("four_byte_min", 16384, "80004000")
    pos("four_byte_max", 2**30 - 1, "bfffffff")
    pos("eight_byte_min", 2**30, "c000000040000000")
    pos("max_safe_integer", MAX_SAFE, "c01fffffffffffff")
    pos("above_max_safe_integer", MAX_SAFE + 1, "c020000000000000")
    pos("max_2_62_minus_1", VARINT_MAX, "ffffffffffffffff")
    pos("moqt_draft14_version", 0xFF00000E, "c0000000ff00000e")
    pos("u32_max", 2**32 - 1, "c0000000ffffffff")

    def dec(name: str, value: int, hexs: str) -> None:
        size = len(hexs) // 2
        assert vi(value, size).hex() == hexs, (name, vi(value, size).hex(), hexs)
        assert vi(value).hex() != hexs
        decode_only.append({"name": name, "value": num(value), "hex": hexs})

    # Non-minimal encodings are valid (the minimal form is only a SHOULD): decode, never produce.
    dec("rfc9000_two_byte_37", 37, "4025")
    dec("zero_in_2_bytes", 0, "4000")
    dec("zero_in_4_bytes", 0, "80000000")
    dec("zero_in_8_bytes", 0, "c000000000000000")
    dec("37_in_4_bytes", 37, "80000025")
    dec("37_in_8_bytes", 37, "c000000000000025")
    dec("16383_in_4_bytes", 16383, "80003fff")
    dec("16383_in_8_bytes", 16383, "c000000000003fff")
    dec("2_30_minus_1_in_8_bytes", 2**30 - 1, "c00000003fffffff")

    def err(name: str, hexs: str) -> None:
        errors.append({"name": name, "hex": hexs, "error": "truncated"})

    err("empty", "")
    err("two_byte_form_cut", "40")
    err("four_byte_form_cut_after_1", "80")
    err("four_byte_form_cut_after_3", "800040")
    err("eight_byte_form_cut_after_1", "c0")
    err("eight_byte_form_cut_after_7", "c0000000ff0000")

    encode_errors.append({"name": "2_62", "value": num(2**62), "error": "invalid_value"})
    encode_errors.append({"name": "u64_max", "value": num(2**64 - 1), "error": "invalid_value"})
    return {
        "protocol": "varint",
        "cases": cases,
        "decode_only": decode_only,
        "errors": errors,
        "encode_errors": encode_errors,
    }


# ----------------------------------------------------------------------------- envelope.json


def enc_envelope(v: Value) -> bytes:
    return (
        u8(v["version"])
        + u8(v["kind"])
        + u8(v["flags"])
        + vi(to_int(v["method_id"]))
        + vi(to_int(v["request_id"]))
        + lp(unhex(v["payload"]))
    )


def env(kind: int, flags: int, method_id: int, request_id: int, payload: bytes) -> Value:
    return {
        "version": 1,
        "kind": kind,
        "flags": flags,
        "method_id": num(method_id),
        "request_id": num(request_id),
        "payload": payload.hex(),
    }


def envelope_file() -> Value:
    c = Cases()

    def one(name: str, v: Value) -> None:
        c.add({"name": name, "struct": "Envelope", "value": v, "hex": enc_envelope(v).hex()})

    def bad(name: str, hexs: str, error: str) -> None:
        c.add({"name": name, "struct": "Envelope", "hex": hexs, "error": error})

    # A GetCallRequest-like protobuf payload: field 1 (sid), string "CA1".
    dto = bytes([0x0A, 0x03]) + b"CA1"
    # Literal check of the layout, typed by hand: version 1, request, final, method 257 (2-byte
    # varint 0x4101), request 7, payload length 5.
    assert enc_envelope(env(0, 1, 257, 7, dto)).hex() == "010001410107050a03434131"
    kinds = {0: "request", 1: "response", 2: "error", 3: "event"}
    for kind, kname in kinds.items():
        for flags, fname in ((0, "no_flags"), (1, "final"), (2, "json_payload"), (3, "final_json_payload")):
            payload = b'{"sid":"CA1"}' if flags & 2 else dto
            one(f"{kname}_{fname}", env(kind, flags, 257, 1 + kind, payload))
    one("empty_payload", env(1, 1, 257, 0, b""))
    one("method_id_zero", env(0, 0, 0, 0, dto))
    one("method_id_one_byte_max", env(0, 0, 63, 1, dto))
    one("method_id_max_u32", env(0, 1, 2**32 - 1, 9, dto))
    one("request_id_max_varint", env(0, 1, 257, VARINT_MAX, dto))
    one("request_id_above_max_safe", env(3, 0, 257, MAX_SAFE + 2, dto))
    one("payload_64_bytes_two_byte_length", env(1, 1, 300, 5, bytes(range(64))))
    one("payload_300_bytes", env(1, 1, 300, 5, bytes(i % 251 for i in range(300))))
    # Non-minimal varints are accepted on decode; an encoder writes the minimal form instead.
    c.add(
        {
            "name": "non_minimal_varints_decode_only",
            "struct": "Envelope",
            "decode_only": True,
            "value": env(0, 0, 5, 6, dto),
            "hex": (u8(1) + u8(0) + u8(0) + vi(5, 2) + vi(6, 4) + vi(len(dto), 8) + dto).hex(),
        }
    )
    # A stream of envelopes back to back (a server-streaming call: two events, then a final one).
    msgs = [env(3, 0, 258, 11, dto), env(3, 0, 258, 11, dto + b"\x10\x02"), env(3, 1, 258, 11, b"")]
    c.add(
        {
            "name": "rpc_stream_three_envelopes",
            "stream": "rpc",
            "messages": [{"struct": "Envelope", "value": m} for m in msgs],
            "hex": b"".join(enc_envelope(m) for m in msgs).hex(),
        }
    )
    c.add({"name": "rpc_stream_empty", "stream": "rpc", "messages": [], "hex": ""})

    good = enc_envelope(env(0, 1, 257, 7, dto))
    # Negative cases. Each has exactly one fault.
    bad("version_0", "00" + good[1:].hex(), "invalid_value")
    bad("version_2", "02" + good[1:].hex(), "invalid_value")
    bad("version_255", "ff" + good[1:].hex(), "invalid_value")
    bad("kind_4", (good[:1] + b"\x04" + good[2:]).hex(), "invalid_value")
    bad("kind_255", (good[:1] + b"\xff" + good[2:]).hex(), "invalid_value")
    for flag in (0x04, 0x08, 0x80, 0xFF):
        bad(f"reserved_flag_bits_{flag:02x}", (good[:2] + u8(flag) + good[3:]).hex(), "invalid_value")
    bad("method_id_above_u32", (good[:3] + vi(2**32) + good[5:]).hex(), "invalid_value")
    bad("empty", "", "truncated")
    bad("truncated_in_kind", "01", "truncated")
    bad("truncated_in_flags", "0100", "truncated")
    bad("truncated_before_method_id", "010001", "truncated")
    bad("truncated_in_method_id", "01000141", "truncated")
    bad("truncated_before_request_id", "0100014101", "truncated")
    bad("truncated_in_request_id", "010001410140", "truncated")
    bad("truncated_before_payload_length", "01000141010" + "7", "truncated")
    bad("truncated_in_payload_length", "0100014101" + "07" + "40", "truncated")
    bad("payload_length_past_end", good[:-1].hex(), "length_past_end")
    bad("payload_length_past_end_empty_payload", (good[:6] + vi(1)).hex(), "length_past_end")
    # 16 MiB + 1 declared: the declared size is checked against the limit before availability.
    bad("payload_over_16_mib_declared", (good[:6] + vi(16 * 1024 * 1024 + 1)).hex(), "too_large")
    bad("trailing_bytes_after_envelope", (good + b"\x00").hex(), "trailing_bytes")
    c.add(
        {
            "name": "rpc_stream_second_envelope_truncated",
            "stream": "rpc",
            "hex": (good + good[:4]).hex(),
            "error": "truncated",
        }
    )
    c.add(
        {
            "name": "rpc_stream_second_envelope_bad_version",
            "stream": "rpc",
            "hex": (good + b"\x02" + good[1:]).hex(),
            "error": "invalid_value",
        }
    )
    return {"protocol": "envelope", "cases": c.items}


# ----------------------------------------------------------------------------- MoQT draft-14 encoders
# Each takes the vector's JSON value (bytes as hex, strings as str) and returns the bytes.


def e_location(v: Value) -> bytes:
    return vi(to_int(v["group"])) + vi(to_int(v["object"]))


def e_kvp(v: Value) -> bytes:
    t = to_int(v["type"])
    if t % 2 == 0:
        return vi(t) + vi(to_int(v["int_value"]))
    return vi(t) + lp(unhex(v["bytes_value"]))


def e_kvps(items: list[Value]) -> bytes:
    return vi(len(items)) + b"".join(e_kvp(p) for p in items)


def e_ns(v: Value) -> bytes:
    return vi(len(v["fields"])) + b"".join(lp(unhex(f)) for f in v["fields"])


def e_reason(v: Value) -> bytes:
    return lp(v["value"].encode("utf-8"))


def e_token(v: Value) -> bytes:
    t = to_int(v["alias_type"])
    out = vi(t)
    if t in (0, 1, 2):
        out += vi(to_int(v["token_alias"]))
    if t in (1, 3):
        out += vi(to_int(v["token_type"])) + unhex(v["token_value"])
    return out


def e_ext(v: Value) -> bytes:
    return b"".join(e_kvp(h) for h in v["headers"])


def e_ext_block(headers: list[Value]) -> bytes:
    """An object's extension headers: Extension Headers Length (i), the total BYTE length, then the pairs."""
    return lp(e_ext({"headers": headers}))


def e_filter(v: Value) -> bytes:
    f = to_int(v["filter_type"])
    out = vi(f)
    if f in (3, 4):
        out += e_location(v["start_location"])
    if f == 4:
        out += vi(to_int(v["end_group"]))
    return out


def e_subscribe(v: Value) -> bytes:  # also TRACK_STATUS
    return (
        vi(to_int(v["request_id"]))
        + e_ns(v["track_namespace"])
        + lp(unhex(v["track_name"]))
        + u8(v["subscriber_priority"])
        + u8(v["group_order"])
        + u8(v["forward"])
        + e_filter(v)
        + e_kvps(v["parameters"])
    )


def e_subscribe_ok(v: Value) -> bytes:  # also TRACK_STATUS_OK
    out = vi(to_int(v["request_id"])) + vi(to_int(v["track_alias"])) + vi(to_int(v["expires"]))
    out += u8(v["group_order"]) + u8(v["content_exists"])
    if v["content_exists"] == 1:
        out += e_location(v["largest_location"])
    return out + e_kvps(v["parameters"])


def e_error(v: Value) -> bytes:  # every *_ERROR with request ID, code, reason
    return vi(to_int(v["request_id"])) + vi(to_int(v["error_code"])) + e_reason(v["error_reason"])


def e_request_only(v: Value) -> bytes:
    return vi(to_int(v["request_id"]))


def e_client_setup(v: Value) -> bytes:
    vs = v["supported_versions"]
    return vi(len(vs)) + b"".join(vi(to_int(x)) for x in vs) + e_kvps(v["parameters"])


def e_server_setup(v: Value) -> bytes:
    return vi(to_int(v["selected_version"])) + e_kvps(v["parameters"])


def e_goaway(v: Value) -> bytes:
    return lp(unhex(v["new_session_uri"]))


def e_subscribe_update(v: Value) -> bytes:
    return (
        vi(to_int(v["request_id"]))
        + vi(to_int(v["subscription_request_id"]))
        + e_location(v["start_location"])
        + vi(to_int(v["end_group"]))
        + u8(v["subscriber_priority"])
        + u8(v["forward"])
        + e_kvps(v["parameters"])
    )


def e_publish_done(v: Value) -> bytes:
    return (
        vi(to_int(v["request_id"]))
        + vi(to_int(v["status_code"]))
        + vi(to_int(v["stream_count"]))
        + e_reason(v["error_reason"])
    )


def e_publish(v: Value) -> bytes:
    out = (
        vi(to_int(v["request_id"]))
        + e_ns(v["track_namespace"])
        + lp(unhex(v["track_name"]))
        + vi(to_int(v["track_alias"]))
    )
    out += u8(v["group_order"]) + u8(v["content_exists"])
    if v["content_exists"] == 1:
        out += e_location(v["largest_location"])
    return out + u8(v["forward"]) + e_kvps(v["parameters"])


def e_publish_ok(v: Value) -> bytes:
    return (
        vi(to_int(v["request_id"]))
        + u8(v["forward"])
        + u8(v["subscriber_priority"])
        + u8(v["group_order"])
        + e_filter(v)
        + e_kvps(v["parameters"])
    )


def e_fetch(v: Value) -> bytes:
    out = vi(to_int(v["request_id"])) + u8(v["subscriber_priority"]) + u8(v["group_order"])
    ft = to_int(v["fetch_type"])
    out += vi(ft)
    if ft == 1:
        out += e_ns(v["track_namespace"]) + lp(unhex(v["track_name"]))
        out += e_location(v["start_location"]) + e_location(v["end_location"])
    if ft in (2, 3):
        out += vi(to_int(v["joining_request_id"])) + vi(to_int(v["joining_start"]))
    return out + e_kvps(v["parameters"])


def e_fetch_ok(v: Value) -> bytes:
    return (
        vi(to_int(v["request_id"]))
        + u8(v["group_order"])
        + u8(v["end_of_track"])
        + e_location(v["end_location"])
        + e_kvps(v["parameters"])
    )


def e_ns_params(field: str) -> Callable[[Value], bytes]:
    def enc(v: Value) -> bytes:
        return vi(to_int(v["request_id"])) + e_ns(v[field]) + e_kvps(v["parameters"])

    return enc


def e_ns_only(field: str) -> Callable[[Value], bytes]:
    def enc(v: Value) -> bytes:
        return e_ns(v[field])

    return enc


def e_ns_cancel(v: Value) -> bytes:
    return e_ns(v["track_namespace"]) + vi(to_int(v["error_code"])) + e_reason(v["error_reason"])


# Control message type codes (draft-14 section 9, table 1), typed in from the draft.
CONTROL: dict[str, tuple[int, Callable[[Value], bytes]]] = {
    "SubscribeUpdate": (0x02, e_subscribe_update),
    "Subscribe": (0x03, e_subscribe),
    "SubscribeOk": (0x04, e_subscribe_ok),
    "SubscribeError": (0x05, e_error),
    "PublishNamespace": (0x06, e_ns_params("track_namespace")),
    "PublishNamespaceOk": (0x07, e_request_only),
    "PublishNamespaceError": (0x08, e_error),
    "PublishNamespaceDone": (0x09, e_ns_only("track_namespace")),
    "Unsubscribe": (0x0A, e_request_only),
    "PublishDone": (0x0B, e_publish_done),
    "PublishNamespaceCancel": (0x0C, e_ns_cancel),
    "TrackStatus": (0x0D, e_subscribe),
    "TrackStatusOk": (0x0E, e_subscribe_ok),
    "TrackStatusError": (0x0F, e_error),
    "Goaway": (0x10, e_goaway),
    "SubscribeNamespace": (0x11, e_ns_params("track_namespace_prefix")),
    "SubscribeNamespaceOk": (0x12, e_request_only),
    "SubscribeNamespaceError": (0x13, e_error),
    "UnsubscribeNamespace": (0x14, e_ns_only("track_namespace_prefix")),
    "MaxRequestId": (0x15, e_request_only),
    "Fetch": (0x16, e_fetch),
    "FetchCancel": (0x17, e_request_only),
    "FetchOk": (0x18, e_fetch_ok),
    "FetchError": (0x19, e_error),
    "RequestsBlocked": (0x1A, lambda v: vi(to_int(v["maximum_request_id"]))),
    "Publish": (0x1D, e_publish),
    "PublishOk": (0x1E, e_publish_ok),
    "PublishError": (0x1F, e_error),
    "ClientSetup": (0x20, e_client_setup),
    "ServerSetup": (0x21, e_server_setup),
}

# SUBGROUP_HEADER types (table 7): type -> (subgroup ID field present, ID is first object, extensions, end of group)
SUBGROUP_TYPES: dict[int, tuple[bool, bool, bool, bool]] = {
    0x10: (False, False, False, False),
    0x11: (False, False, True, False),
    0x12: (False, True, False, False),
    0x13: (False, True, True, False),
    0x14: (True, False, False, False),
    0x15: (True, False, True, False),
    0x18: (False, False, False, True),
    0x19: (False, False, True, True),
    0x1A: (False, True, False, True),
    0x1B: (False, True, True, True),
    0x1C: (True, False, False, True),
    0x1D: (True, False, True, True),
}
# OBJECT_DATAGRAM types (table 6): type -> (end of group, extensions, object ID present, status)
DATAGRAM_TYPES: dict[int, tuple[bool, bool, bool, bool]] = {
    0x00: (False, False, True, False),
    0x01: (False, True, True, False),
    0x02: (True, False, True, False),
    0x03: (True, True, True, False),
    0x04: (False, False, False, False),
    0x05: (False, True, False, False),
    0x06: (True, False, False, False),
    0x07: (True, True, False, False),
    0x20: (False, False, True, True),
    0x21: (False, True, True, True),
}


def e_subgroup_header(v: Value) -> bytes:
    t = to_int(v["type"])
    out = vi(t) + vi(to_int(v["track_alias"])) + vi(to_int(v["group_id"]))
    if SUBGROUP_TYPES[t][0]:
        out += vi(to_int(v["subgroup_id"]))
    return out + u8(v["publisher_priority"])


def e_subgroup_object(v: Value, has_extensions: bool) -> bytes:
    out = vi(to_int(v["object_id_delta"]))
    if has_extensions:
        out += e_ext_block(v["extension_headers"])
    n = to_int(v["payload_length"])
    out += vi(n)
    if n == 0:
        out += vi(to_int(v["object_status"]))
    payload = unhex(v["payload"])
    assert len(payload) == n
    return out + payload


def e_fetch_header(v: Value) -> bytes:
    return vi(to_int(v["type"])) + vi(to_int(v["request_id"]))


def e_fetch_object(v: Value) -> bytes:
    out = vi(to_int(v["group_id"])) + vi(to_int(v["subgroup_id"])) + vi(to_int(v["object_id"]))
    out += u8(v["publisher_priority"]) + e_ext_block(v["extension_headers"])
    n = to_int(v["payload_length"])
    out += vi(n)
    if n == 0:
        out += vi(to_int(v["object_status"]))
    payload = unhex(v["payload"])
    assert len(payload) == n
    return out + payload


def e_datagram(v: Value) -> bytes:
    t = to_int(v["type"])
    _eog, ext, oid, status = DATAGRAM_TYPES[t]
    out = vi(t) + vi(to_int(v["track_alias"])) + vi(to_int(v["group_id"]))
    if oid:
        out += vi(to_int(v["object_id"]))
    out += u8(v["publisher_priority"])
    if ext:
        assert v["extension_headers"], "a datagram type with extensions carries at least one header"
        out += e_ext_block(v["extension_headers"])
    if status:
        return out + vi(to_int(v["object_status"]))
    return out + unhex(v["payload"])


STRUCTS: dict[str, Callable[[Value], bytes]] = {
    "Location": e_location,
    "KeyValuePair": e_kvp,
    "TrackNamespace": e_ns,
    "ReasonPhrase": e_reason,
    "AuthorizationToken": e_token,
    "ExtensionHeaders": e_ext,
    "SubgroupHeader": e_subgroup_header,
    "FetchHeader": e_fetch_header,
    "FetchObject": e_fetch_object,
    "ObjectDatagram": e_datagram,
    **{name: enc for name, (_code, enc) in CONTROL.items()},
}


def encode(struct: str, v: Value, args: Value | None = None) -> bytes:
    if struct == "SubgroupObject":
        assert args is not None
        return e_subgroup_object(v, bool(args["has_extensions"]))
    return STRUCTS[struct](v)


def frame(struct: str, v: Value) -> bytes:
    code, enc = CONTROL[struct]
    body = enc(v)
    assert len(body) <= 0xFFFF
    return vi(code) + u16(len(body)) + body


# ----------------------------------------------------------------------------- MoQT value builders


def kv(t: int, value: int | bytes | str) -> Value:
    if t % 2 == 0:
        assert isinstance(value, int)
        return {"type": num(t), "int_value": num(value)}
    data = value.encode("utf-8") if isinstance(value, str) else value
    assert isinstance(data, bytes)
    return {"type": num(t), "bytes_value": data.hex()}


def ns(*parts: str | bytes) -> Value:
    return {"fields": [(p.encode("utf-8") if isinstance(p, str) else p).hex() for p in parts]}


def loc(g: int, o: int) -> Value:
    return {"group": num(g), "object": num(o)}


def rp(text: str) -> Value:
    return {"value": text}


def token(alias_type: int, alias: int | None = None, ttype: int | None = None, value: bytes | None = None) -> Value:
    v: Value = {"alias_type": alias_type}
    if alias is not None:
        v["token_alias"] = alias
    if ttype is not None:
        v["token_type"] = ttype
        v["token_value"] = (value or b"").hex()
    return v


def token_param(t: Value) -> Value:
    return kv(0x03, e_token(t))


def ext(*headers: Value) -> list[Value]:
    """The value of an object's extension_headers: the Key-Value-Pairs themselves."""
    return list(headers)


def h(s: str) -> str:
    return s.encode("utf-8").hex()


VERSION = 0xFF00000E
TOK_REGISTER = token(1, alias=1, ttype=0, value=b"secret-token")
TOK_USE_ALIAS = token(2, alias=1)
TOK_USE_VALUE = token(3, ttype=7, value=b"\x01\x02\x03")
TOK_DELETE = token(0, alias=1)


def subscribe(filter_type: int, **kw: Any) -> Value:
    v: Value = {
        "request_id": 0,
        "track_namespace": ns("clutchcall", "calls", "CA1"),
        "track_name": h("audio"),
        "subscriber_priority": 128,
        "group_order": 0,
        "forward": 1,
        "filter_type": filter_type,
        "parameters": [],
    }
    if filter_type in (3, 4):
        v["start_location"] = loc(5, 0)
    if filter_type == 4:
        v["end_group"] = 9
    v.update(kw)
    return v


def subscribe_ok(content: bool, **kw: Any) -> Value:
    v: Value = {
        "request_id": 0,
        "track_alias": 7,
        "expires": 0,
        "group_order": 1,
        "content_exists": 1 if content else 0,
        "parameters": [],
    }
    if content:
        v["largest_location"] = loc(12, 3)
    v.update(kw)
    return v


def err(request_id: int, code: int, text: str) -> Value:
    return {"request_id": request_id, "error_code": num(code), "error_reason": rp(text)}


# ----------------------------------------------------------------------------- moqt_d14.json


def moqt_file() -> Value:  # one long, flat list of cases reads best
    c = Cases()

    def one(name: str, struct: str, v: Value, args: Value | None = None) -> None:
        case: Value = {"name": name, "struct": struct, "value": v, "hex": encode(struct, v, args).hex()}
        if args is not None:
            case["args"] = args
        c.add(case)

    def decode_only(name: str, struct: str, v: Value, raw: bytes) -> None:
        assert raw != encode(struct, v)
        c.add({"name": name, "struct": struct, "decode_only": True, "value": v, "hex": raw.hex()})

    def control(name: str, msgs: list[tuple[str, Value]]) -> None:
        c.add(
            {
                "name": name,
                "stream": "control",
                "messages": [{"struct": s, "value": v} for s, v in msgs],
                "hex": b"".join(frame(s, v) for s, v in msgs).hex(),
            }
        )

    def data(name: str, header: tuple[str, Value], objects: list[Value]) -> None:
        hs, hv = header
        out = encode(hs, hv)
        if hs == "SubgroupHeader":
            has_ext = SUBGROUP_TYPES[to_int(hv["type"])][2]
            out += b"".join(e_subgroup_object(o, has_ext) for o in objects)
            ostruct = "SubgroupObject"
        else:
            out += b"".join(e_fetch_object(o) for o in objects)
            ostruct = "FetchObject"
        c.add(
            {
                "name": name,
                "stream": "data",
                "header": {"struct": hs, "value": hv},
                "objects": [{"struct": ostruct, "value": o} for o in objects],
                "hex": out.hex(),
            }
        )

    def datagram(name: str, v: Value) -> None:
        c.add(
            {
                "name": name,
                "stream": "datagram",
                "message": {"struct": "ObjectDatagram", "value": v},
                "hex": e_datagram(v).hex(),
            }
        )

    def bad(name: str, where: str, hexs: str, error: str, args: Value | None = None) -> None:
        key = "stream" if where in ("control", "data", "datagram") else "struct"
        case: Value = {"name": name, key: where, "hex": hexs, "error": error}
        if args is not None:
            case["args"] = args
        c.add(case)

    # ---- literal cross-checks typed by hand from the draft, so the encoders above are tested too.
    assert (
        e_subgroup_header(
            {"type": 0x14, "track_alias": 2, "group_id": 0, "subgroup_id": 0, "publisher_priority": 0}
        ).hex()
        == "1402000000"
    )
    assert (
        e_subgroup_object({"object_id_delta": 0, "payload_length": 4, "payload": h("abcd")}, False).hex()
        == "000461626364"
    )
    assert frame("MaxRequestId", {"request_id": 100}).hex() == "1500024064"
    assert e_ns(ns("a", "bc")).hex() == "020161026263"
    assert e_kvp(kv(2, 100)).hex() == "024064" and e_kvp(kv(1, "/x")).hex() == "01022f78"
    assert e_client_setup({"supported_versions": [VERSION], "parameters": []}).hex() == "01c0000000ff00000e00"
    assert e_ext_block([kv(0x3C, 2), kv(0x4D, "x")]).hex() == "063c02404d0178"

    # ---- common structures
    one("location_zero", "Location", loc(0, 0))
    one("location_small", "Location", loc(1, 2))
    one("location_large", "Location", loc(VARINT_MAX, MAX_SAFE + 1))
    one("kvp_even_small", "KeyValuePair", kv(2, 5))
    one("kvp_even_two_byte_value", "KeyValuePair", kv(2, 100))
    one("kvp_even_zero", "KeyValuePair", kv(0, 0))
    one("kvp_even_max_value", "KeyValuePair", kv(0x3C, VARINT_MAX))
    one("kvp_odd_bytes", "KeyValuePair", kv(1, "/moq"))
    one("kvp_odd_empty", "KeyValuePair", kv(5, b""))
    one("kvp_odd_binary", "KeyValuePair", kv(0x0B, bytes([0, 255, 128, 10])))
    one("kvp_large_even_type", "KeyValuePair", kv(16384, 1))
    one("kvp_large_odd_type", "KeyValuePair", kv(2**40 + 1, "x"))
    one("kvp_odd_300_bytes", "KeyValuePair", kv(0x21, bytes(range(256)) + bytes(44)))
    one("kvp_odd_max_65535_bytes", "KeyValuePair", kv(3, bytes(i % 256 for i in range(65535))))
    one("namespace_one_field", "TrackNamespace", ns("clutchcall"))
    one("namespace_three_fields", "TrackNamespace", ns("clutchcall", "calls", "CA1"))
    one("namespace_empty_field", "TrackNamespace", ns("a", "", "b"))
    one("namespace_binary_fields", "TrackNamespace", ns(b"\x00\xff", b"\xc0"))
    one("namespace_32_fields_max", "TrackNamespace", ns(*[f"f{i}" for i in range(32)]))
    one("namespace_field_4096_bytes", "TrackNamespace", ns(b"n" * 4096))
    one("reason_empty", "ReasonPhrase", rp(""))
    one("reason_ascii", "ReasonPhrase", rp("track does not exist"))
    one("reason_utf8_multibyte", "ReasonPhrase", rp("caf\u00e9 \u2713 \U0001f3a7"))
    one("reason_1024_bytes_max", "ReasonPhrase", rp("r" * 1024))
    one("token_delete", "AuthorizationToken", TOK_DELETE)
    one("token_register", "AuthorizationToken", TOK_REGISTER)
    one("token_use_alias", "AuthorizationToken", TOK_USE_ALIAS)
    one("token_use_value", "AuthorizationToken", TOK_USE_VALUE)
    one("token_register_empty_value", "AuthorizationToken", token(1, alias=300, ttype=0, value=b""))
    one("extension_headers_empty", "ExtensionHeaders", {"headers": []})
    one("extension_headers_gaps", "ExtensionHeaders", {"headers": [kv(0x3C, 2), kv(0x3E, 1)]})
    immutable = kv(0x0B, e_ext({"headers": [kv(0x04, 2186796243), kv(0x4D, "traceID:123456")]}))
    one("extension_headers_immutable_nested", "ExtensionHeaders", {"headers": [immutable, kv(0x3E, 0)]})
    one(
        "extension_headers_unknown_types",
        "ExtensionHeaders",
        {"headers": [kv(0x40, 1), kv(0x4001, "app"), kv(0x40, 2)]},
    )

    # ---- setup
    all_setup = [
        kv(0x01, "/moq?room=1"),
        kv(0x02, 100),
        token_param(TOK_REGISTER),
        kv(0x04, 4096),
        kv(0x05, "relay.example.com:4443"),
        kv(0x07, "clutchcall/1.0"),
    ]
    one("client_setup_minimal", "ClientSetup", {"supported_versions": [VERSION], "parameters": []})
    one("client_setup_all_parameters", "ClientSetup", {"supported_versions": [VERSION], "parameters": all_setup})
    one(
        "client_setup_several_versions",
        "ClientSetup",
        {"supported_versions": [VERSION, 0xFF00000D, 1], "parameters": [kv(2, 0)]},
    )
    for tname, tok in (
        ("delete", TOK_DELETE),
        ("register", TOK_REGISTER),
        ("use_alias", TOK_USE_ALIAS),
        ("use_value", TOK_USE_VALUE),
    ):
        one(
            f"client_setup_auth_token_{tname}",
            "ClientSetup",
            {"supported_versions": [VERSION], "parameters": [token_param(tok)]},
        )
    one(
        "client_setup_unknown_even_and_odd_parameters",
        "ClientSetup",
        {
            "supported_versions": [VERSION],
            "parameters": [kv(0x20, 7), kv(0x21, b"\xde\xad"), kv(0x20, 8), kv(0x3FFF, "grease")],
        },
    )
    one(
        "client_setup_repeated_auth_tokens",
        "ClientSetup",
        {"supported_versions": [VERSION], "parameters": [token_param(TOK_REGISTER), token_param(TOK_USE_VALUE)]},
    )
    one("server_setup_minimal", "ServerSetup", {"selected_version": VERSION, "parameters": []})
    one(
        "server_setup_parameters",
        "ServerSetup",
        {"selected_version": VERSION, "parameters": [kv(0x02, 64), kv(0x04, 0), kv(0x07, "relay/2.3 \u00fc")]},
    )
    one("server_setup_rfc_version", "ServerSetup", {"selected_version": 1, "parameters": []})
    decode_only(
        "client_setup_non_minimal_varints",
        "ClientSetup",
        {"supported_versions": [VERSION], "parameters": [kv(2, 5)]},
        vi(1, 2) + vi(VERSION) + vi(1, 4) + vi(2, 2) + vi(5, 8),
    )

    # ---- session
    one("goaway_empty_uri", "Goaway", {"new_session_uri": ""})
    one("goaway_uri", "Goaway", {"new_session_uri": h("moqt://relay2.example.com/moq")})
    one("goaway_uri_8192_bytes_max", "Goaway", {"new_session_uri": h("u" * 8192)})
    one("max_request_id", "MaxRequestId", {"request_id": 100})
    one("max_request_id_large", "MaxRequestId", {"request_id": num(VARINT_MAX)})
    one("requests_blocked", "RequestsBlocked", {"maximum_request_id": 64})

    # ---- subscriptions
    one("subscribe_next_group_start", "Subscribe", subscribe(1))
    one("subscribe_largest_object", "Subscribe", subscribe(2, group_order=1, request_id=2))
    one("subscribe_absolute_start", "Subscribe", subscribe(3, group_order=2, forward=0, request_id=4))
    one("subscribe_absolute_range", "Subscribe", subscribe(4, subscriber_priority=0, request_id=6))
    one(
        "subscribe_with_parameters",
        "Subscribe",
        subscribe(
            2, subscriber_priority=255, parameters=[kv(0x02, 5000), token_param(TOK_USE_ALIAS), kv(0x05, "unknown odd")]
        ),
    )
    one(
        "subscribe_binary_name_empty",
        "Subscribe",
        subscribe(1, track_name="", track_namespace=ns(b"\x00", b"\xff\xfe")),
    )
    one("subscribe_ok_without_content", "SubscribeOk", subscribe_ok(False))
    one("subscribe_ok_with_content", "SubscribeOk", subscribe_ok(True, group_order=2, expires=30000))
    one("subscribe_ok_with_parameters", "SubscribeOk", subscribe_ok(True, parameters=[kv(0x02, 2000), kv(0x04, 60000)]))
    one("subscribe_error", "SubscribeError", err(0, 0x4, "no such track"))
    one("subscribe_error_auth_code", "SubscribeError", err(2, 0x12, "token expired"))
    one("subscribe_error_unknown_code_kept", "SubscribeError", err(2, 0x99, ""))
    su = {
        "request_id": 8,
        "subscription_request_id": 0,
        "start_location": loc(6, 0),
        "end_group": 0,
        "subscriber_priority": 64,
        "forward": 1,
        "parameters": [],
    }
    one("subscribe_update_open_ended", "SubscribeUpdate", su)
    one(
        "subscribe_update_end_and_params",
        "SubscribeUpdate",
        su | {"end_group": 11, "forward": 0, "parameters": [kv(0x02, 100)]},
    )
    one("unsubscribe", "Unsubscribe", {"request_id": 0})
    pd = {"request_id": 0, "status_code": 2, "stream_count": 3, "error_reason": rp("track ended")}
    one("publish_done", "PublishDone", pd)
    one(
        "publish_done_unknown_stream_count",
        "PublishDone",
        pd | {"status_code": 3, "stream_count": num(VARINT_MAX), "error_reason": rp("")},
    )
    one("publish_done_datagram_track", "PublishDone", pd | {"status_code": 6, "stream_count": 0})
    pub = {
        "request_id": 1,
        "track_namespace": ns("clutchcall", "calls", "CA1"),
        "track_name": h("video"),
        "track_alias": 3,
        "group_order": 1,
        "content_exists": 0,
        "forward": 1,
        "parameters": [],
    }
    one("publish_without_content", "Publish", pub)
    one(
        "publish_with_content",
        "Publish",
        pub | {"content_exists": 1, "largest_location": loc(4, 17), "forward": 0, "group_order": 2},
    )
    one("publish_with_parameters", "Publish", pub | {"parameters": [kv(0x04, 10000), token_param(TOK_USE_VALUE)]})
    pok = {
        "request_id": 1,
        "forward": 1,
        "subscriber_priority": 10,
        "group_order": 1,
        "filter_type": 2,
        "parameters": [],
    }
    one("publish_ok_largest_object", "PublishOk", pok)
    one(
        "publish_ok_absolute_start",
        "PublishOk",
        pok | {"filter_type": 3, "start_location": loc(1, 1), "group_order": 2},
    )
    one(
        "publish_ok_absolute_range",
        "PublishOk",
        pok | {"filter_type": 4, "start_location": loc(1, 1), "end_group": 1, "forward": 0},
    )
    one("publish_ok_next_group_start", "PublishOk", pok | {"filter_type": 1, "parameters": [kv(0x02, 250)]})
    one("publish_error", "PublishError", err(1, 0x4, "not interested"))

    # ---- fetch
    fetch_base = {"request_id": 10, "subscriber_priority": 1, "group_order": 0, "parameters": []}
    standalone = fetch_base | {
        "fetch_type": 1,
        "track_namespace": ns("clutchcall", "calls", "CA1"),
        "track_name": h("audio"),
        "start_location": loc(0, 0),
        "end_location": loc(5, 0),
    }
    one("fetch_standalone", "Fetch", standalone)
    one("fetch_standalone_params", "Fetch", standalone | {"group_order": 2, "parameters": [token_param(TOK_USE_ALIAS)]})
    one("fetch_relative_joining", "Fetch", fetch_base | {"fetch_type": 2, "joining_request_id": 2, "joining_start": 3})
    one(
        "fetch_absolute_joining",
        "Fetch",
        fetch_base | {"fetch_type": 3, "joining_request_id": 2, "joining_start": 40, "group_order": 1},
    )
    fok = {"request_id": 10, "group_order": 1, "end_of_track": 0, "end_location": loc(5, 0), "parameters": []}
    one("fetch_ok", "FetchOk", fok)
    one(
        "fetch_ok_end_of_track",
        "FetchOk",
        fok | {"end_of_track": 1, "group_order": 2, "end_location": loc(4, 18), "parameters": [kv(0x04, 1)]},
    )
    one("fetch_error", "FetchError", err(10, 0x6, "no objects"))
    one("fetch_error_invalid_joining_request_id", "FetchError", err(12, 0x7, "no such subscription"))
    one("fetch_cancel", "FetchCancel", {"request_id": 10})

    # ---- track status (same layouts as SUBSCRIBE / SUBSCRIBE_OK / SUBSCRIBE_ERROR)
    one("track_status", "TrackStatus", subscribe(2, request_id=14))
    one("track_status_absolute_range", "TrackStatus", subscribe(4, request_id=16, parameters=[kv(0x02, 1)]))
    one("track_status_ok", "TrackStatusOk", subscribe_ok(True, request_id=14, track_alias=0))
    one("track_status_ok_no_content", "TrackStatusOk", subscribe_ok(False, request_id=16, track_alias=0))
    one("track_status_error", "TrackStatusError", err(14, 0x1, "unauthorized"))

    # ---- namespaces
    one(
        "publish_namespace",
        "PublishNamespace",
        {"request_id": 3, "track_namespace": ns("clutchcall", "calls"), "parameters": []},
    )
    one(
        "publish_namespace_auth",
        "PublishNamespace",
        {"request_id": 5, "track_namespace": ns("clutchcall", "calls"), "parameters": [token_param(TOK_REGISTER)]},
    )
    one("publish_namespace_ok", "PublishNamespaceOk", {"request_id": 3})
    one("publish_namespace_error", "PublishNamespaceError", err(3, 0x4, "uninterested"))
    one("publish_namespace_done", "PublishNamespaceDone", {"track_namespace": ns("clutchcall", "calls")})
    one(
        "publish_namespace_cancel",
        "PublishNamespaceCancel",
        {"track_namespace": ns("clutchcall", "calls"), "error_code": 0x0, "error_reason": rp("shutting down")},
    )
    one(
        "subscribe_namespace",
        "SubscribeNamespace",
        {"request_id": 2, "track_namespace_prefix": ns("clutchcall"), "parameters": []},
    )
    one(
        "subscribe_namespace_auth",
        "SubscribeNamespace",
        {
            "request_id": 4,
            "track_namespace_prefix": ns("clutchcall", "calls"),
            "parameters": [token_param(TOK_USE_VALUE)],
        },
    )
    one("subscribe_namespace_ok", "SubscribeNamespaceOk", {"request_id": 2})
    one("subscribe_namespace_error", "SubscribeNamespaceError", err(2, 0x5, "prefix overlap"))
    one("unsubscribe_namespace", "UnsubscribeNamespace", {"track_namespace_prefix": ns("clutchcall")})

    # ---- control stream: every message framed, then multi-message streams
    singles: dict[str, Value] = {}
    for case in list(c.items):
        s = case.get("struct")
        if s in CONTROL and s not in singles and not case.get("decode_only"):
            singles[s] = case["value"]
    assert set(singles) == set(CONTROL), set(CONTROL) - set(singles)
    for s in sorted(singles, key=lambda k: CONTROL[k][0]):
        control(f"control_{s}", [(s, singles[s])])
    control("control_empty_stream", [])
    control(
        "control_client_session_start",
        [
            ("ClientSetup", {"supported_versions": [VERSION], "parameters": all_setup}),
            ("Subscribe", subscribe(2)),
            ("Fetch", fetch_base | {"fetch_type": 2, "joining_request_id": 0, "joining_start": 2, "request_id": 2}),
            ("SubscribeUpdate", su | {"request_id": 4}),
            ("Unsubscribe", {"request_id": 0}),
        ],
    )
    control(
        "control_server_session_start",
        [
            ("ServerSetup", {"selected_version": VERSION, "parameters": [kv(0x02, 64)]}),
            ("SubscribeOk", subscribe_ok(True)),
            ("MaxRequestId", {"request_id": 128}),
            ("PublishDone", pd),
            ("Goaway", {"new_session_uri": ""}),
        ],
    )
    control("control_goaway_8192_byte_uri", [("Goaway", {"new_session_uri": h("u" * 8192)})])
    control(
        "control_namespace_exchange",
        [
            ("PublishNamespace", {"request_id": 3, "track_namespace": ns("a"), "parameters": []}),
            ("PublishNamespaceOk", {"request_id": 3}),
            ("SubscribeNamespace", {"request_id": 5, "track_namespace_prefix": ns("a"), "parameters": []}),
            ("SubscribeNamespaceError", err(5, 0x3, "")),
            ("PublishNamespaceDone", {"track_namespace": ns("a")}),
        ],
    )
    c.add(
        {
            "name": "control_non_minimal_type_varint_decode_only",
            "stream": "control",
            "decode_only": True,
            "messages": [{"struct": "MaxRequestId", "value": {"request_id": 100}}],
            "hex": (vi(0x15, 2) + u16(2) + vi(100)).hex(),
        }
    )

    # ---- data streams: every SUBGROUP_HEADER type, with objects
    payload_objs = [
        {"object_id_delta": 0, "payload_length": 4, "payload": h("abcd")},
        {"object_id_delta": 0, "payload_length": 4, "payload": h("efgh")},
        {"object_id_delta": 2, "payload_length": 1, "payload": "00"},
    ]
    ext_objs = [
        {
            "object_id_delta": 0,
            "extension_headers": ext(kv(0x3C, 2), kv(0x4D, "trace")),
            "payload_length": 4,
            "payload": h("abcd"),
        },
        {"object_id_delta": 0, "extension_headers": [], "payload_length": 4, "payload": h("efgh")},
        {"object_id_delta": 0, "extension_headers": ext(kv(0x3E, 1)), "payload_length": 2, "payload": "ffff"},
    ]
    for t, (sid_present, _first, has_ext, _eog) in SUBGROUP_TYPES.items():
        hv: Value = {"type": t, "track_alias": 2, "group_id": 7, "publisher_priority": 128}
        if sid_present:
            hv["subgroup_id"] = 3
        one(f"subgroup_header_0x{t:02x}", "SubgroupHeader", hv)
        data(f"data_subgroup_0x{t:02x}", ("SubgroupHeader", hv), ext_objs if has_ext else payload_objs)
    draft_example = {"type": 0x14, "track_alias": 2, "group_id": 0, "subgroup_id": 0, "publisher_priority": 0}
    data("data_draft_example_0x14", ("SubgroupHeader", draft_example), payload_objs[:2])
    data(
        "data_subgroup_header_only",
        ("SubgroupHeader", {"type": 0x10, "track_alias": 9, "group_id": 0, "publisher_priority": 0}),
        [],
    )
    data(
        "data_subgroup_end_of_group_status",
        ("SubgroupHeader", {"type": 0x1C, "track_alias": 2, "group_id": 8, "subgroup_id": 0, "publisher_priority": 1}),
        [
            {"object_id_delta": 0, "payload_length": 3, "payload": "010203"},
            {"object_id_delta": 0, "payload_length": 0, "object_status": 0, "payload": ""},
            {"object_id_delta": 0, "payload_length": 0, "object_status": 3, "payload": ""},
        ],
    )
    data(
        "data_subgroup_end_of_track_with_extensions",
        ("SubgroupHeader", {"type": 0x11, "track_alias": 2, "group_id": 9, "publisher_priority": 1}),
        [
            {"object_id_delta": 5, "extension_headers": ext(kv(0x3E, 5)), "payload_length": 1, "payload": "aa"},
            {"object_id_delta": 0, "extension_headers": [], "payload_length": 0, "object_status": 4, "payload": ""},
        ],
    )
    data(
        "data_subgroup_large_ids",
        (
            "SubgroupHeader",
            {
                "type": 0x14,
                "track_alias": num(VARINT_MAX),
                "group_id": num(2**40),
                "subgroup_id": num(2**31),
                "publisher_priority": 255,
            },
        ),
        [{"object_id_delta": num(MAX_SAFE + 10), "payload_length": 1, "payload": "7f"}],
    )
    # Subgroup objects on their own (args come from the header's flags).
    no_ext = {"has_extensions": False}
    with_ext = {"has_extensions": True}
    one("subgroup_object_payload", "SubgroupObject", payload_objs[0], no_ext)
    one("subgroup_object_delta", "SubgroupObject", payload_objs[2], no_ext)
    one("subgroup_object_extensions", "SubgroupObject", ext_objs[0], with_ext)
    one("subgroup_object_empty_extensions", "SubgroupObject", ext_objs[1], with_ext)
    for st, sname in ((0, "normal"), (1, "does_not_exist"), (3, "end_of_group"), (4, "end_of_track")):
        one(
            f"subgroup_object_status_{sname}",
            "SubgroupObject",
            {"object_id_delta": 0, "payload_length": 0, "object_status": st, "payload": ""},
            no_ext,
        )
    one(
        "subgroup_object_status_with_extensions",
        "SubgroupObject",
        {
            "object_id_delta": 1,
            "extension_headers": ext(kv(0x3C, 1)),
            "payload_length": 0,
            "object_status": 3,
            "payload": "",
        },
        with_ext,
    )
    one(
        "subgroup_object_payload_200_bytes",
        "SubgroupObject",
        {"object_id_delta": 0, "payload_length": 200, "payload": bytes(200).hex()},
        no_ext,
    )

    # ---- fetch streams
    fh = {"type": 5, "request_id": 10}
    fobjs = [
        {
            "group_id": 0,
            "subgroup_id": 0,
            "object_id": 0,
            "publisher_priority": 128,
            "extension_headers": [],
            "payload_length": 2,
            "payload": "0102",
        },
        {
            "group_id": 0,
            "subgroup_id": 0,
            "object_id": 2,
            "publisher_priority": 128,
            "extension_headers": ext(kv(0x3E, 1)),
            "payload_length": 1,
            "payload": "03",
        },
        {
            "group_id": 0,
            "subgroup_id": 0,
            "object_id": 3,
            "publisher_priority": 128,
            "extension_headers": [],
            "payload_length": 0,
            "object_status": 3,
            "payload": "",
        },
        {
            "group_id": 2,
            "subgroup_id": 5,
            "object_id": 5,
            "publisher_priority": 0,
            "extension_headers": ext(kv(0x3C, 1)),
            "payload_length": 1,
            "payload": "04",
        },
        {
            "group_id": 3,
            "subgroup_id": 0,
            "object_id": 0,
            "publisher_priority": 0,
            "extension_headers": [],
            "payload_length": 0,
            "object_status": 4,
            "payload": "",
        },
    ]
    one("fetch_header", "FetchHeader", fh)
    one("fetch_header_large_request_id", "FetchHeader", {"type": 5, "request_id": num(2**32)})
    one("fetch_object_payload", "FetchObject", fobjs[0])
    one("fetch_object_extensions", "FetchObject", fobjs[1])
    one("fetch_object_status_end_of_group", "FetchObject", fobjs[2])
    one("fetch_object_status_does_not_exist", "FetchObject", fobjs[2] | {"object_status": 1})
    one(
        "fetch_object_many_extensions",
        "FetchObject",
        fobjs[0] | {"extension_headers": ext(kv(0x3C, 1), kv(0x3E, 2), immutable, kv(0x4001, bytes(70)))},
    )
    decode_only(
        "fetch_object_extensions_non_minimal_length",
        "FetchObject",
        fobjs[1],
        vi(0) + vi(0) + vi(2) + u8(128) + vi(2, 2) + e_ext({"headers": [kv(0x3E, 1)]}) + vi(1) + b"\x03",
    )
    data("data_fetch_stream", ("FetchHeader", fh), fobjs)
    data("data_fetch_header_only", ("FetchHeader", {"type": 5, "request_id": 12}), [])

    # ---- datagrams: every OBJECT_DATAGRAM type
    for t, (_eog, has_ext, oid, status) in DATAGRAM_TYPES.items():
        dv: Value = {"type": t, "track_alias": 4, "group_id": 12}
        if oid:
            dv["object_id"] = 6
        dv["publisher_priority"] = 64
        if has_ext:
            dv["extension_headers"] = ext(kv(0x3C, 1), kv(0x4D, "x"))
        if status:
            dv["object_status"] = 3
        else:
            dv["payload"] = h("opus-frame")
        one(f"object_datagram_0x{t:02x}", "ObjectDatagram", dv)
        datagram(f"datagram_0x{t:02x}", dv)
    datagram(
        "datagram_empty_payload",
        {"type": 0, "track_alias": 1, "group_id": 0, "object_id": 0, "publisher_priority": 0, "payload": ""},
    )
    datagram(
        "datagram_status_end_of_track",
        {"type": 0x20, "track_alias": 1, "group_id": 3, "object_id": 0, "publisher_priority": 0, "object_status": 4},
    )
    datagram(
        "datagram_status_does_not_exist",
        {"type": 0x20, "track_alias": 1, "group_id": 3, "object_id": 9, "publisher_priority": 0, "object_status": 1},
    )
    datagram(
        "datagram_large_values",
        {
            "type": 0x04,
            "track_alias": num(VARINT_MAX),
            "group_id": num(MAX_SAFE + 1),
            "publisher_priority": 255,
            "payload": bytes(range(100)).hex(),
        },
    )

    # ================================================================ negative cases
    sub_ok = encode("Subscribe", subscribe(2))

    def sub_with(**kw: Any) -> str:
        return encode("Subscribe", subscribe(2) | kw).hex()

    # Constraint violations (invalid_value)
    bad("subscribe_forward_2", "Subscribe", sub_with(forward=2), "invalid_value")
    bad("subscribe_forward_255", "Subscribe", sub_with(forward=255), "invalid_value")
    bad("subscribe_group_order_3", "Subscribe", sub_with(group_order=3), "invalid_value")
    bad("subscribe_filter_type_0", "Subscribe", sub_with(filter_type=0), "invalid_value")
    bad("subscribe_filter_type_5", "Subscribe", sub_with(filter_type=5), "invalid_value")
    bad(
        "subscribe_ok_group_order_0",
        "SubscribeOk",
        encode("SubscribeOk", subscribe_ok(False, group_order=0)).hex(),
        "invalid_value",
    )
    bad(
        "subscribe_ok_group_order_3",
        "SubscribeOk",
        encode("SubscribeOk", subscribe_ok(False, group_order=3)).hex(),
        "invalid_value",
    )
    bad(
        "subscribe_ok_content_exists_2",
        "SubscribeOk",
        (vi(0) + vi(7) + vi(0) + u8(1) + u8(2) + vi(0)).hex(),
        "invalid_value",
    )
    bad(
        "subscribe_update_forward_2",
        "SubscribeUpdate",
        encode("SubscribeUpdate", su | {"forward": 2}).hex(),
        "invalid_value",
    )
    bad("track_status_forward_2", "TrackStatus", encode("TrackStatus", subscribe(2, forward=2)).hex(), "invalid_value")
    bad(
        "track_status_ok_group_order_0",
        "TrackStatusOk",
        encode("TrackStatusOk", subscribe_ok(False, group_order=0)).hex(),
        "invalid_value",
    )
    bad("publish_forward_2", "Publish", encode("Publish", pub | {"forward": 2}).hex(), "invalid_value")
    bad("publish_group_order_0", "Publish", encode("Publish", pub | {"group_order": 0}).hex(), "invalid_value")
    bad(
        "publish_content_exists_2",
        "Publish",
        (vi(1) + e_ns(ns("a")) + lp(b"v") + vi(3) + u8(1) + u8(2) + u8(1) + vi(0)).hex(),
        "invalid_value",
    )
    bad("publish_ok_forward_2", "PublishOk", encode("PublishOk", pok | {"forward": 2}).hex(), "invalid_value")
    bad("publish_ok_group_order_0", "PublishOk", encode("PublishOk", pok | {"group_order": 0}).hex(), "invalid_value")
    bad("publish_ok_filter_type_7", "PublishOk", encode("PublishOk", pok | {"filter_type": 7}).hex(), "invalid_value")
    bad("fetch_type_0", "Fetch", encode("Fetch", fetch_base | {"fetch_type": 0}).hex(), "invalid_value")
    bad("fetch_type_4", "Fetch", encode("Fetch", fetch_base | {"fetch_type": 4}).hex(), "invalid_value")
    bad("fetch_group_order_3", "Fetch", encode("Fetch", standalone | {"group_order": 3}).hex(), "invalid_value")
    bad("fetch_ok_group_order_0", "FetchOk", encode("FetchOk", fok | {"group_order": 0}).hex(), "invalid_value")
    bad("client_setup_version_above_u32", "ClientSetup", (vi(1) + vi(2**32) + vi(0)).hex(), "invalid_value")
    bad("server_setup_version_above_u32", "ServerSetup", (vi(2**32 + 0xE) + vi(0)).hex(), "invalid_value")
    bad("token_alias_type_4", "AuthorizationToken", (vi(4) + vi(1)).hex(), "invalid_value")
    bad("subgroup_object_status_2", "SubgroupObject", (vi(0) + vi(0) + vi(2)).hex(), "invalid_value", no_ext)
    bad("subgroup_object_status_5", "SubgroupObject", (vi(0) + vi(0) + vi(5)).hex(), "invalid_value", no_ext)
    bad(
        "fetch_object_status_2",
        "FetchObject",
        (vi(0) + vi(0) + vi(0) + u8(0) + vi(0) + vi(0) + vi(2)).hex(),
        "invalid_value",
    )
    bad(
        "datagram_extension_length_0",
        "datagram",
        (vi(1) + vi(4) + vi(12) + vi(6) + u8(64) + vi(0) + b"pay").hex(),
        "invalid_value",
    )
    bad(
        "datagram_0x07_empty_extension_block",
        "datagram",
        (vi(7) + vi(4) + vi(12) + u8(64) + vi(0) + b"pay").hex(),
        "invalid_value",
    )
    # A Track Namespace has 1 to 32 fields: 0 is checked as soon as the count is read.
    bad("namespace_zero_fields", "TrackNamespace", vi(0).hex(), "invalid_value")
    ns3_len = len(vi(0) + e_ns(ns("clutchcall", "calls", "CA1")))
    bad("subscribe_namespace_zero_fields", "Subscribe", (vi(0) + vi(0) + sub_ok[ns3_len:]).hex(), "invalid_value")
    body0 = vi(0) + vi(0) + sub_ok[ns3_len:]
    bad(
        "control_subscribe_namespace_zero_fields",
        "control",
        (vi(0x03) + u16(len(body0)) + body0).hex(),
        "invalid_value",
    )
    bad("publish_namespace_done_zero_fields", "PublishNamespaceDone", vi(0).hex(), "invalid_value")
    bad("datagram_status_2", "datagram", (vi(0x20) + vi(4) + vi(12) + vi(6) + u8(64) + vi(2)).hex(), "invalid_value")
    bad(
        "object_datagram_extension_length_0",
        "ObjectDatagram",
        (vi(0x21) + vi(4) + vi(12) + vi(6) + u8(64) + vi(0) + vi(3)).hex(),
        "invalid_value",
    )

    # Sizes (too_large)
    ns33 = e_ns(ns(*[f"f{i}" for i in range(33)]))
    bad("namespace_33_fields", "TrackNamespace", ns33.hex(), "too_large")
    bad(
        "subscribe_namespace_33_fields",
        "Subscribe",
        (vi(0) + ns33 + sub_ok[len(vi(0) + e_ns(ns("clutchcall", "calls", "CA1"))) :]).hex(),
        "too_large",
    )
    bad("subscribe_namespace_prefix_33_fields", "SubscribeNamespace", (vi(2) + ns33 + vi(0)).hex(), "too_large")
    bad("namespace_field_4097_bytes", "TrackNamespace", e_ns(ns(b"n" * 4097)).hex(), "too_large")
    bad("subscribe_track_name_4097_bytes", "Subscribe", sub_with(track_name=(b"t" * 4097).hex()), "too_large")
    bad("reason_1025_bytes", "ReasonPhrase", lp(b"r" * 1025).hex(), "too_large")
    bad("subscribe_error_reason_1025_bytes", "SubscribeError", (vi(0) + vi(4) + lp(b"r" * 1025)).hex(), "too_large")
    bad("kvp_odd_65536_bytes", "KeyValuePair", (vi(1) + lp(bytes(65536))).hex(), "too_large")
    bad("goaway_uri_8193_bytes", "Goaway", lp(b"u" * 8193).hex(), "too_large")

    # UTF-8 (the draft says UTF-8 for reason phrases; every other text field is bytes)
    for nm, raw in (
        ("lone_continuation", b"\x80"),
        ("invalid_byte_ff", b"ok\xff"),
        ("overlong_nul", b"\xc0\x80"),
        ("surrogate", b"\xed\xa0\x80"),
        ("cut_multibyte", b"\xe2\x82"),
        ("above_u10ffff", b"\xf4\x90\x80\x80"),
    ):
        bad(f"reason_invalid_utf8_{nm}", "ReasonPhrase", lp(raw).hex(), "invalid_utf8")
    bad("publish_done_reason_invalid_utf8", "PublishDone", (vi(0) + vi(2) + vi(1) + lp(b"\xff")).hex(), "invalid_utf8")

    # Truncation and lengths
    bad("subscribe_empty", "Subscribe", "", "truncated")
    cut_at_priority = vi(0) + e_ns(ns("clutchcall", "calls", "CA1")) + lp(b"audio")
    bad("subscribe_truncated_before_priority", "Subscribe", cut_at_priority.hex(), "truncated")
    bad("subscribe_truncated_before_parameters", "Subscribe", sub_ok[:-1].hex(), "truncated")
    bad("subscribe_truncated_in_start_location", "Subscribe", encode("Subscribe", subscribe(3))[:-3].hex(), "truncated")
    bad("subscribe_track_name_past_end", "Subscribe", (vi(0) + e_ns(ns("a")) + vi(5) + b"aud").hex(), "length_past_end")
    bad("namespace_field_past_end", "TrackNamespace", (vi(1) + vi(4) + b"ab").hex(), "length_past_end")
    bad("namespace_count_past_end", "TrackNamespace", (vi(3) + lp(b"a") + lp(b"b")).hex(), "truncated")
    bad("kvp_even_value_missing", "KeyValuePair", vi(2).hex(), "truncated")
    bad("kvp_odd_length_missing", "KeyValuePair", vi(1).hex(), "truncated")
    bad("kvp_odd_value_past_end", "KeyValuePair", (vi(1) + vi(3) + b"ab").hex(), "length_past_end")
    bad(
        "client_setup_parameter_count_past_end",
        "ClientSetup",
        (vi(1) + vi(VERSION) + vi(2) + e_kvp(kv(2, 1))).hex(),
        "truncated",
    )
    bad("client_setup_version_count_past_end", "ClientSetup", (vi(2) + vi(VERSION)).hex(), "truncated")
    bad("token_register_missing_type", "AuthorizationToken", (vi(1) + vi(1)).hex(), "truncated")
    bad("token_use_alias_missing_alias", "AuthorizationToken", vi(2).hex(), "truncated")
    bad("location_truncated_varint", "Location", (vi(1) + b"\x40").hex(), "truncated")
    bad("reason_length_past_end", "ReasonPhrase", (vi(5) + b"abc").hex(), "length_past_end")
    bad("goaway_uri_past_end", "Goaway", (vi(10) + b"moqt://").hex(), "length_past_end")
    bad("fetch_standalone_truncated_end_location", "Fetch", encode("Fetch", standalone)[:-2].hex(), "truncated")
    bad("fetch_joining_missing_start", "Fetch", (vi(10) + u8(1) + u8(0) + vi(2) + vi(2)).hex(), "truncated")
    bad(
        "subscribe_ok_missing_largest_location",
        "SubscribeOk",
        (vi(0) + vi(7) + vi(0) + u8(1) + u8(1)).hex(),
        "truncated",
    )
    bad("subgroup_header_missing_subgroup_id", "SubgroupHeader", (vi(0x14) + vi(2) + vi(0)).hex(), "truncated")
    bad("subgroup_header_missing_priority", "SubgroupHeader", (vi(0x10) + vi(2) + vi(0)).hex(), "truncated")
    bad("subgroup_object_payload_past_end", "SubgroupObject", (vi(0) + vi(4) + b"ab").hex(), "length_past_end", no_ext)
    bad(
        "subgroup_object_extensions_past_end",
        "SubgroupObject",
        (vi(0) + vi(6) + b"\x3c\x01").hex(),
        "length_past_end",
        with_ext,
    )
    # Extension Headers Length frames the pairs: a pair that runs past the frame fails like one
    # that runs past the end of the input (the frame is its enclosing frame), even though more
    # bytes follow: a length-prefixed value gives length_past_end, a varint gives truncated.
    bad(
        "subgroup_object_extension_value_past_frame",
        "SubgroupObject",
        (vi(0) + vi(3) + vi(0x4D) + vi(5) + b"t" + b"race" + vi(1) + b"a").hex(),
        "length_past_end",
        with_ext,
    )
    bad(
        "subgroup_object_extension_varint_past_frame",
        "SubgroupObject",
        (vi(0) + vi(2) + vi(0x3C) + b"\x40" + b"\x05" + vi(1) + b"a").hex(),
        "truncated",
        with_ext,
    )
    bad(
        "subgroup_object_extension_value_missing_in_frame",
        "SubgroupObject",
        (vi(0) + vi(1) + vi(0x3C) + vi(1) + vi(1) + b"a").hex(),
        "truncated",
        with_ext,
    )
    bad(
        "fetch_object_extension_value_past_frame",
        "FetchObject",
        (vi(0) + vi(0) + vi(0) + u8(0) + vi(2) + vi(0x0B) + vi(4) + b"abcd" + vi(1) + b"a").hex(),
        "length_past_end",
    )
    bad(
        "datagram_extension_value_past_frame",
        "datagram",
        (vi(1) + vi(4) + vi(12) + vi(6) + u8(64) + vi(3) + vi(0x4D) + vi(3) + b"x" + b"yz" + b"pay").hex(),
        "length_past_end",
    )
    bad("subgroup_object_missing_status", "SubgroupObject", (vi(0) + vi(0)).hex(), "truncated", no_ext)
    bad("fetch_object_truncated", "FetchObject", (vi(0) + vi(0) + vi(0)).hex(), "truncated")

    # Trailing bytes (single-struct decoding must use up its input)
    bad("unsubscribe_trailing_byte", "Unsubscribe", (vi(0) + b"\x00").hex(), "trailing_bytes")
    bad("subscribe_trailing_byte", "Subscribe", (sub_ok + b"\x00").hex(), "trailing_bytes")
    bad("token_delete_trailing_byte", "AuthorizationToken", (vi(0) + vi(1) + b"\x00").hex(), "trailing_bytes")
    bad("fetch_header_trailing_byte", "FetchHeader", (vi(5) + vi(1) + b"\x00").hex(), "trailing_bytes")

    # Unknown types
    for t in (0x00, 0x05, 0x0F, 0x16, 0x17, 0x1E, 0x1F, 0x20):
        bad(
            f"subgroup_header_unknown_type_0x{t:02x}",
            "SubgroupHeader",
            (vi(t) + vi(2) + vi(0) + u8(0)).hex(),
            "unknown_type",
        )
    bad("fetch_header_unknown_type_0x06", "FetchHeader", (vi(6) + vi(1)).hex(), "unknown_type")
    for t in (0x08, 0x0F, 0x22, 0x24, 0x40):
        bad(
            f"datagram_unknown_type_0x{t:02x}",
            "datagram",
            (vi(t) + vi(4) + vi(12) + vi(6) + u8(64) + b"p").hex(),
            "unknown_type",
        )
    for t in (0x00, 0x01, 0x40, 0x41, 0x1B, 0x1C, 0x22, 0x3F):
        bad(f"control_unknown_type_0x{t:02x}", "control", (vi(t) + u16(1) + b"\x00").hex(), "unknown_type")
    bad(
        "data_unknown_stream_type_0x16",
        "data",
        (vi(0x16) + vi(2) + vi(0) + u8(0) + vi(0) + vi(1) + b"a").hex(),
        "unknown_type",
    )
    bad("data_unknown_stream_type_0x04", "data", (vi(0x04) + vi(2)).hex(), "unknown_type")
    bad("data_unknown_stream_type_0x1e", "data", (vi(0x1E) + vi(2) + vi(0) + vi(0) + u8(0)).hex(), "unknown_type")

    # Control stream framing
    mri = frame("MaxRequestId", {"request_id": 100})
    bad("control_length_longer_than_body", "control", (vi(0x15) + u16(3) + vi(100) + b"\x00").hex(), "trailing_bytes")
    bad(
        "control_subscribe_extra_byte_in_frame",
        "control",
        (vi(0x03) + u16(len(sub_ok) + 1) + sub_ok + b"\x00").hex(),
        "trailing_bytes",
    )
    bad("control_length_zero_for_request_id", "control", (vi(0x15) + u16(0) + mri).hex(), "truncated")
    bad("control_length_shorter_cuts_varint", "control", (vi(0x15) + u16(1) + vi(100)).hex(), "truncated")
    bad("control_length_shorter_cuts_u8", "control", (vi(0x03) + u16(len(cut_at_priority)) + sub_ok).hex(), "truncated")
    bad(
        "control_length_shorter_cuts_track_name",
        "control",
        (vi(0x03) + u16(len(cut_at_priority) - 2) + sub_ok).hex(),
        "length_past_end",
    )
    bad("control_length_past_end_of_stream", "control", (vi(0x15) + u16(5) + vi(100)).hex(), "length_past_end")
    bad("control_second_frame_past_end", "control", (mri + vi(0x15) + u16(2) + b"\x40").hex(), "length_past_end")
    bad("control_truncated_in_length", "control", (vi(0x15) + b"\x00").hex(), "truncated")
    bad("control_truncated_in_type", "control", b"\x40".hex(), "truncated")
    bad("control_truncated_after_type", "control", (mri + vi(0x10)).hex(), "truncated")
    bad("control_subscribe_forward_2", "control", frame("Subscribe", subscribe(2, forward=2)).hex(), "invalid_value")
    bad("control_second_message_unknown_type", "control", (mri + vi(0x1B) + u16(0)).hex(), "unknown_type")
    body33 = vi(2) + ns33 + vi(0)
    bad("control_subscribe_namespace_33_fields", "control", (vi(0x11) + u16(len(body33)) + body33).hex(), "too_large")
    rbody = vi(0) + vi(4) + lp(b"r" * 1025)
    bad("control_subscribe_error_reason_1025_bytes", "control", (vi(0x05) + u16(len(rbody)) + rbody).hex(), "too_large")
    ubody = vi(0) + vi(0) + lp(b"\xc3\x28")
    bad("control_subscribe_error_invalid_utf8", "control", (vi(0x05) + u16(len(ubody)) + ubody).hex(), "invalid_utf8")

    # Data streams
    sg = encode("SubgroupHeader", {"type": 0x10, "track_alias": 2, "group_id": 7, "publisher_priority": 0})
    sgx = encode("SubgroupHeader", {"type": 0x11, "track_alias": 2, "group_id": 7, "publisher_priority": 0})
    obj = e_subgroup_object(payload_objs[0], False)
    bad("data_empty_stream", "data", "", "truncated")
    bad("data_header_truncated", "data", sg[:-1].hex(), "truncated")
    bad("data_fin_inside_payload", "data", (sg + obj + obj[:-2]).hex(), "length_past_end")
    bad("data_fin_inside_payload_length", "data", (sg + obj + vi(0) + b"\x40").hex(), "truncated")
    bad("data_fin_before_status", "data", (sg + vi(0) + vi(0)).hex(), "truncated")
    bad("data_object_status_2", "data", (sg + obj + vi(0) + vi(0) + vi(2)).hex(), "invalid_value")
    bad("data_extensions_past_end", "data", (sgx + vi(0) + vi(9) + b"\x3c\x01").hex(), "length_past_end")
    bad("data_fin_before_extensions_length", "data", (sgx + vi(0)).hex(), "truncated")
    bad(
        "data_extension_value_past_frame",
        "data",
        (sgx + vi(0) + vi(2) + vi(0x0B) + vi(3) + b"abc" + vi(1) + b"a").hex(),
        "length_past_end",
    )
    fhb = encode("FetchHeader", fh)
    fo = e_fetch_object(fobjs[0])
    bad("data_fetch_object_truncated", "data", (fhb + fo + fo[:3]).hex(), "truncated")
    bad("data_fetch_payload_past_end", "data", (fhb + fo[:-1]).hex(), "length_past_end")
    bad("data_fetch_header_truncated", "data", vi(5).hex(), "truncated")

    # Datagrams
    bad("datagram_empty", "datagram", "", "truncated")
    bad("datagram_truncated_before_priority", "datagram", (vi(0) + vi(4) + vi(12) + vi(6)).hex(), "truncated")
    bad("datagram_no_object_id_truncated", "datagram", (vi(4) + vi(4) + vi(12)).hex(), "truncated")
    bad(
        "datagram_extensions_past_end",
        "datagram",
        (vi(1) + vi(4) + vi(12) + vi(6) + u8(64) + vi(8) + b"\x3c\x01").hex(),
        "length_past_end",
    )
    bad("datagram_status_missing", "datagram", (vi(0x20) + vi(4) + vi(12) + vi(6) + u8(64)).hex(), "truncated")
    bad(
        "datagram_status_trailing_bytes",
        "datagram",
        (vi(0x20) + vi(4) + vi(12) + vi(6) + u8(64) + vi(3) + b"\x00").hex(),
        "trailing_bytes",
    )
    return {"protocol": "moqt_d14", "cases": c.items}


# ----------------------------------------------------------------------------- output


def render(doc: Value) -> str:
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def files() -> dict[str, str]:
    return {
        "varint.json": render(varint_file()),
        "envelope.json": render(envelope_file()),
        "moqt_d14.json": render(moqt_file()),
    }


def main(argv: Iterable[str]) -> int:
    check = "--check" in list(argv)
    stale = []
    for name, text in files().items():
        path = OUT / name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("stale vector files: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
