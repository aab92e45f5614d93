"""Make tests/vectors/dto.json: golden protobuf/ProtoJSON vectors of every DTO, from upb.

The official protobuf runtime (upb) is the oracle: the IDL is compiled with the compiler's own
`proto` backend, `protoc` turns the .proto into a descriptor set, and upb message classes built
from it produce every `hex` (`SerializeToString(deterministic=True)`) and every `json`
(`json_format.MessageToDict`). Each positive case is checked here before it is written: upb
re-parses the bytes to the same bytes, and `ParseDict(json)` gives the bytes minus unknown
fields. Negative cases are hand-made bytes with the reason a ClutchCall decoder must report;
each records whether upb rejects them too (`upb_accepts` marks where upb is more lenient).

    python tests/vectors/make_dto_vectors.py          # rewrite tests/vectors/dto.json
    python tests/vectors/make_dto_vectors.py --check  # exit 1 if the file is stale

Output is deterministic (fixed data, a seeded RNG, fixed JSON layout).
"""

from __future__ import annotations

import json
import math
import random
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message

ROOT = Path(__file__).resolve().parents[2]
IDL = ROOT / "api" / "clutchcall.json"
OUT = Path(__file__).resolve().parent / "dto.json"
SEED = 20240614

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UINT32_MAX, UINT64_MAX = 2**32 - 1, 2**64 - 1
# The float32 just below the largest: Python's json_format rejects the shortest form of the largest
# float32 ("3.4028235e+38" reads as a double above FLOAT_MAX), so the vectors stop one step short.
FLOAT32_NEAR_MAX = struct.unpack("<f", bytes.fromhex("feff7f7f"))[0]
FLOAT32_MIN_SUBNORMAL = struct.unpack("<f", bytes.fromhex("01000000"))[0]
FLOAT32_MIN_NORMAL = struct.unpack("<f", bytes.fromhex("00008000"))[0]

Classes = dict[str, Callable[..., Message]]


# ---- the oracle: upb classes from the compiler's own .proto ----


def load_message_classes(idl: Path = IDL) -> tuple[Classes, Any]:
    """Compile the IDL with the `proto` backend, run protoc, return ({message name: class}, IR)."""
    sys.path.insert(0, str(ROOT))
    from apirpc_compiler.backends.proto import PROTO_FILE, ProtoBackend
    from apirpc_compiler.pipeline import compile_idl

    backend = ProtoBackend()
    ir = compile_idl(str(idl), [backend])
    (generated,) = backend.generate(ir)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / PROTO_FILE).write_text(generated.content, encoding="utf-8")
        out = Path(tmp) / "descriptor.pb"
        proc = subprocess.run(
            ["protoc", f"--proto_path={tmp}", "--include_imports", f"--descriptor_set_out={out}", PROTO_FILE],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0 or proc.stderr.strip():
            raise SystemExit(f"protoc failed on the generated {PROTO_FILE}:\n{proc.stderr}")
        fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:
        pool.Add(f)
    classes: Classes = {}
    for msg in ir["messages"]:
        desc = pool.FindMessageTypeByName(f"{ir['package']}.{msg['name']}")
        classes[msg["name"]] = message_factory.GetMessageClass(desc)
    return classes, ir


# ---- raw wire helpers (for unknown fields and negative cases) ----


def varint(n: int) -> bytes:
    n &= UINT64_MAX
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    return varint((number << 3) | wire_type)


def ld(number: int, payload: bytes) -> bytes:
    return tag(number, 2) + varint(len(payload)) + payload


def f32(x: float) -> float:
    """x rounded to the nearest float32 (what a float field stores)."""
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


# ---- case builders ----


class Vectors:
    def __init__(self, classes: Classes, error_reasons: set[str]) -> None:
        self.M = classes
        self.reasons = error_reasons
        self.cases: list[dict[str, Any]] = []
        self.names: set[str] = set()

    def _name(self, name: str) -> str:
        if name in self.names:
            raise SystemExit(f"duplicate case name {name}")
        self.names.add(name)
        return name

    def ok(self, name: str, msg: Message, note: str = "", unknown: bytes = b"") -> None:
        """A positive case: `msg` (which may carry unknown fields itself) followed by `unknown`."""
        type_name = msg.DESCRIPTOR.name
        cls = self.M[type_name]
        data = msg.SerializeToString(deterministic=True) + unknown
        parsed = cls.FromString(data)
        again = parsed.SerializeToString(deterministic=True)
        if again != data:
            raise SystemExit(f"{name}: not canonical: {data.hex()} re-encodes as {again.hex()}")
        doc = json.loads(json.dumps(json_format.MessageToDict(parsed), allow_nan=False))
        known_msg = cls.FromString(data)
        known_msg.DiscardUnknownFields()
        known = known_msg.SerializeToString(deterministic=True)
        from_json = json_format.ParseDict(doc, cls()).SerializeToString(deterministic=True)
        if from_json != known:
            raise SystemExit(f"{name}: ParseDict(json) gives {from_json.hex()}, not {known.hex()}")
        case: dict[str, Any] = {"name": self._name(f"{type_name}/{name}"), "type": type_name, "json": doc}
        case["hex"] = data.hex()
        if known != data:
            case["unknown_fields"] = True
            case["known_hex"] = known.hex()
        if note:
            case["note"] = note
        self.cases.append(case)

    def bad(self, type_name: str, name: str, data: bytes, error: str, note: str = "") -> None:
        """A negative case: a ClutchCall decoder must fail with `error`."""
        if error not in self.reasons:
            raise SystemExit(f"{name}: {error} is not a decode error reason of the IR")
        try:
            self.M[type_name].FromString(data)
            upb_accepts = True
        except DecodeError:
            upb_accepts = False
        case: dict[str, Any] = {"name": self._name(f"{type_name}/{name}"), "type": type_name, "hex": data.hex()}
        case["error"] = error
        if upb_accepts:
            case["upb_accepts"] = True
            note = (note + " " if note else "") + "upb is more lenient and accepts these bytes."
        if note:
            case["note"] = note
        self.cases.append(case)


# ---- every field set, for every message, from the descriptor and a seeded RNG ----

_TEXT = [
    "sid",
    "voice",
    "CA",
    "+1415555",
    "é",
    "ß",
    "中文",
    "😀",
    "\u05e9\u05dc\u05d5\u05dd",
    "\u0000",
    " ",
    "/",
    "\\",
    '"',
]


def _scalar(f: FieldDescriptor, rng: random.Random) -> Any:
    t = f.type
    if t == FieldDescriptor.TYPE_BOOL:
        return True
    if t in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SFIXED32):
        return rng.choice([rng.randint(1, 1000), -rng.randint(1, 1000), rng.randint(INT32_MIN, INT32_MAX) or 7])
    if t in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SFIXED64):
        return rng.choice([rng.randint(1, 10**13), -rng.randint(1, 10**6), rng.randint(INT64_MIN, INT64_MAX) or 7])
    if t in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32):
        return rng.choice([rng.randint(1, 1000), rng.randint(1, UINT32_MAX)])
    if t in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
        return rng.choice([rng.randint(1, 10**6), rng.randint(1, UINT64_MAX)])
    if t == FieldDescriptor.TYPE_FLOAT:
        return f32(rng.choice([0.25, 1.5, -3.75, 12.5]) * rng.randint(1, 9))
    if t == FieldDescriptor.TYPE_DOUBLE:
        return rng.choice([1.0, 4.25, -2.5, 1e-3]) * rng.randint(1, 9)
    if t == FieldDescriptor.TYPE_STRING:
        return "".join(rng.choice(_TEXT) for _ in range(rng.randint(1, 4)))
    if t == FieldDescriptor.TYPE_BYTES:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))
    if t == FieldDescriptor.TYPE_ENUM:
        return rng.choice([v.number for v in f.enum_type.values if v.number != 0])
    raise AssertionError(f.type)


def fill(msg: Message, rng: random.Random, depth: int = 0, oneof_pick: int = 0) -> Message:
    """Set every field of msg (the `oneof_pick`-th member of each oneof), recursing 4 levels deep."""
    desc: Descriptor = msg.DESCRIPTOR
    for f in desc.fields:
        oneof = f.containing_oneof
        if oneof is not None and oneof.fields[oneof_pick % len(oneof.fields)] is not f:
            continue
        if f.type == FieldDescriptor.TYPE_MESSAGE:
            if f.is_repeated:
                for _ in range(2):
                    fill(getattr(msg, f.name).add(), rng, depth + 1)
            elif depth < 4:
                fill(getattr(msg, f.name), rng, depth + 1)
            else:
                getattr(msg, f.name).SetInParent()
        elif f.is_repeated:
            getattr(msg, f.name).extend(_scalar(f, rng) for _ in range(3))
        else:
            setattr(msg, f.name, _scalar(f, rng))
    return msg


# ---- realistic data (also used by benchmarks/bench_python_codec.py) ----


def realistic_call(M: Classes, i: int = 0) -> Message:
    sid = f"CA{0x9F3B2C1D4E5F6071 + i:016x}{0x8293A4B5C6D7E8F9 - i:016x}"
    call = M["Call"](
        sid=sid,
        status=3,
        direction=2,
        to=f"+4420718387{i % 100:02d}",
        default_app=1,
        uplink_track=f"voice/{sid}/uplink",
        downlink_track=f"voice/{sid}/downlink",
        created_at_ms=1767225600123 + i * 1000,
        answered_at_ms=1767225604870 + i * 1000,
        end_reason=0,
        tenant_id="tn_acme_prod",
    )
    setattr(call, "from", "+14155550100")
    agent = call.agent
    agent.agent_id = "agt_support_en"
    agent.instructions = "Greet the caller by name, confirm the order number, then offer a callback."
    agent.turn_detection.mode = 2
    agent.turn_detection.vad.threshold = f32(0.6)
    agent.turn_detection.vad.prefix_padding_ms = 300
    agent.turn_detection.vad.silence_duration_ms = 700
    agent.turn_detection.barge_in.enabled = True
    agent.turn_detection.barge_in.min_speech_ms = 200
    agent.metadata.add(key="crm_id", value=f"00Q{i:07d}")
    agent.metadata.add(key="lang", value="en-GB")
    call.audio.codec = 2
    call.audio.sample_rate = 16000
    call.audio.channels = 1
    call.audio.frame_ms = 20
    q = call.quality
    q.ssrc = 0x5EED0000 + i
    q.packets_sent = 4821 + i
    q.packets_received = 4790 + i
    q.cumulative_lost = -2
    q.jitter_ms = f32(3.25)
    q.mos = 4.31
    q.last_sr_ntp = 0xE9A1B2C3_80000000
    q.clock_skew_ppm = -12
    q.playout_offset_us = 60000
    q.late_loss = 3
    q.level_dbov.extend([-32, -28, -30, -127, -25])
    q.jitter_buffer_depth = 3
    return call


def realistic_list(M: Classes, n: int) -> Message:
    resp = M["ListCallsResponse"](next_page_token="eyJvZmZzZXQiOjEwMDB9")
    for i in range(n):
        resp.calls.append(realistic_call(M, i))
    return resp


# ---- the cases ----


def positive(v: Vectors) -> None:
    M = v.M
    rng = random.Random(SEED)

    # Every message: empty, every field set (each oneof member in turn), an unknown trailer.
    for cls in M.values():
        v.ok("empty", cls(), "All fields absent: zero bytes, {}.")
        oneof_sizes = [len(o.fields) for o in cls.DESCRIPTOR.oneofs] or [1]
        for pick in range(max(oneof_sizes)):
            suffix = f"_oneof_{pick}" if max(oneof_sizes) > 1 else ""
            v.ok(f"all_fields{suffix}", fill(cls(), rng, oneof_pick=pick), "Every field set (seeded values).")
        top = max((f.number for f in cls.DESCRIPTOR.fields), default=0)
        unknown = tag(top + 1, 0) + varint(150) + ld(top + 2, b"\x01\x02")
        v.ok("unknown_trailer", cls(), f"Fields {top + 1} (varint) and {top + 2} (LEN) are unknown.", unknown)

    # Call
    call = realistic_call(M)
    v.ok("realistic", call, "An answered outbound call with an agent, audio shape and quality stats.")
    c = M["Call"](answered_at_ms=0, ended_at_ms=0)
    v.ok("explicit_zero_optionals", c, "optional int64 fields set to 0 are on the wire and in the JSON.")
    c = M["Call"](created_at_ms=INT64_MIN, answered_at_ms=INT64_MAX, ended_at_ms=-1)
    v.ok("int64_extremes", c, "INT64_MIN, INT64_MAX, -1 (10-byte varints); JSON strings.")
    v.ok(
        "unknown_enum_values",
        M["Call"](status=99, direction=7, default_app=3, end_reason=1000),
        "Enums are open: unknown numbers are kept, and ProtoJSON prints them as numbers.",
    )
    v.ok(
        "negative_enum_value", M["Call"](status=-1, end_reason=INT32_MIN), "A negative enum number is a 10-byte varint."
    )
    c = M["Call"](
        sid="CA😀𝄞🎧",
        to="\u202e\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
        tenant_id="a\u0000b",
        uplink_track="\ufeff\uffff\U0010ffff",
    )
    setattr(c, "from", "e\u0301 Ñandú 中文 ☎")
    v.ok("unicode_strings", c, "4-byte UTF-8, RTL text with an override, NUL, BOM, U+FFFF, U+10FFFF, combining.")
    v.ok(
        "empty_nested_present",
        M["Call"](agent=M["AgentBinding"](), audio=M["AudioShape"]()),
        "Present but empty sub-messages encode as a zero length and print as {}.",
    )
    v.ok(
        "deep_nesting",
        M["Call"](
            agent=M["AgentBinding"](
                turn_detection=M["TurnDetection"](
                    vad=M["VadSettings"](threshold=f32(0.75)), barge_in=M["BargeIn"](enabled=False)
                )
            )
        ),
        "Call > AgentBinding > TurnDetection > VadSettings/BargeIn.",
    )
    v.ok(
        "unknown_reserved_numbers",
        M["Call"](sid="CA1"),
        "Reserved numbers 17 and 20 arrive as unknown fields and are kept.",
        tag(17, 0) + varint(1) + ld(20, b"https://old.example/rec.wav"),
    )
    unknowns = (
        tag(100, 0)
        + varint(UINT64_MAX)
        + tag(101, 1)
        + bytes.fromhex("0102030405060708")
        + ld(102, b"\xff\xfe not utf-8")
        + tag(103, 5)
        + bytes.fromhex("deadbeef")
        + ld(104, b"")
        + tag(100, 0)
        + varint(0)
        + tag(536870911, 0)
        + varint(1)
    )
    v.ok(
        "unknown_every_wire_type",
        M["Call"](sid="CA2", status=1),
        "Unknown varint, I64, LEN (not UTF-8: unknown "
        "bytes are never checked), I32, empty LEN, a repeated unknown number and field 536870911.",
        unknowns,
    )
    audio = M["AudioShape"].FromString(M["AudioShape"](codec=1).SerializeToString() + tag(50, 0) + varint(7))
    vad = M["VadSettings"].FromString(tag(9, 5) + bytes(4))
    c = M["Call"](sid="CA3", audio=audio)
    c.agent.turn_detection.vad.CopyFrom(vad)
    v.ok("unknown_in_nested", c, "Unknown fields inside sub-messages (3 levels deep) are kept where they were.")
    for i, status in enumerate([1, 2, 3, 4, 5, 6]):
        v.ok(
            f"status_{i + 1}",
            M["Call"](sid=f"CA{status}", status=status, end_reason=i + 2),
            "Every CallStatus and EndReason value.",
        )

    # CallQuality: the numeric types at their limits.
    Q = M["CallQuality"]
    v.ok(
        "max_unsigned",
        Q(
            ssrc=UINT32_MAX,
            packets_sent=UINT64_MAX,
            packets_received=UINT64_MAX,
            last_sr_ntp=UINT64_MAX,
            late_loss=UINT32_MAX,
        ),
        "UINT32_MAX / UINT64_MAX / fixed64 max.",
    )
    v.ok(
        "min_signed",
        Q(
            cumulative_lost=INT64_MIN,
            clock_skew_ppm=INT32_MIN,
            playout_offset_us=INT64_MIN,
            jitter_buffer_depth=INT32_MIN,
        ),
        "sint64, sfixed32, sfixed64 and int32 minimums.",
    )
    v.ok(
        "max_signed",
        Q(
            cumulative_lost=INT64_MAX,
            clock_skew_ppm=INT32_MAX,
            playout_offset_us=INT64_MAX,
            jitter_buffer_depth=INT32_MAX,
        ),
        "Signed maximums.",
    )
    v.ok("negative_int32", Q(jitter_buffer_depth=-1), "int32 -1 is sign-extended to a 10-byte varint.")
    v.ok("sint_minus_one", Q(cumulative_lost=-1, level_dbov=[-1]), "ZigZag: -1 encodes as 1.")
    v.ok(
        "packed_sint32",
        Q(level_dbov=[0, -1, 1, -127, INT32_MIN, INT32_MAX]),
        "A packed repeated sint32 with zero, negatives and extremes.",
    )
    v.ok("packed_single_zero", Q(level_dbov=[0]), "A repeated field holding one zero is still written.")
    v.ok("float_nan", Q(jitter_ms=math.nan, mos=math.nan), 'Quiet NaN (0x7fc00000 / 0x7ff8...); JSON "NaN".')
    v.ok("float_infinities", Q(jitter_ms=math.inf, mos=-math.inf), 'JSON "Infinity" and "-Infinity".')
    v.ok(
        "negative_zero",
        Q(jitter_ms=-0.0, mos=-0.0),
        "-0.0 is not the default (its bits are non-zero), so it is written.",
    )
    v.ok("subnormals", Q(jitter_ms=FLOAT32_MIN_SUBNORMAL, mos=5e-324), "The smallest float32 and float64 subnormals.")
    v.ok(
        "float_extremes",
        Q(jitter_ms=FLOAT32_NEAR_MAX, mos=1.7976931348623157e308),
        "The float32 just below FLT_MAX (0x7f7ffffe) and the largest finite float64.",
    )
    v.ok("float_min_normal", Q(jitter_ms=-FLOAT32_MIN_NORMAL, mos=2.2250738585072014e-308), "Smallest normals.")
    v.ok("float_decimal", Q(jitter_ms=f32(0.1), mos=0.1), "0.1 as float32 prints as its shortest form, 0.1.")
    v.ok("fixed_small", Q(ssrc=1, last_sr_ntp=1, clock_skew_ppm=-1, playout_offset_us=-1), "Fixed-width ±1.")

    # Explicit presence: zero values that are set.
    v.ok(
        "explicit_zero",
        M["AudioShape"](codec=0, sample_rate=0, channels=0, frame_ms=0),
        "Every optional field set to zero: on the wire, and in the JSON.",
    )
    v.ok("realistic", M["AudioShape"](codec=1, sample_rate=48000, channels=2, frame_ms=20), "")
    v.ok("unknown_enum", M["AudioShape"](codec=42, sample_rate=UINT32_MAX), "An optional enum with an unknown number.")
    v.ok("explicit_zero", M["VadSettings"](threshold=0.0, prefix_padding_ms=0, silence_duration_ms=0), "")
    v.ok("negative_zero_threshold", M["VadSettings"](threshold=-0.0), "")
    v.ok("explicit_false", M["BargeIn"](enabled=False, min_speech_ms=0), "Optional bool set to false.")
    v.ok("explicit_zero_mode", M["TurnDetection"](mode=0, vad=M["VadSettings"](), barge_in=M["BargeIn"]()), "")
    v.ok("explicit_zero", M["OriginateRequest"](default_app=0, ring_timeout_s=0), "")
    v.ok("explicit_zero", M["ListCallsRequest"](page_size=0), "")
    v.ok("explicit_zero", M["ErrorStatus"](retry_after_ms=0), "")

    # Repeated fields.
    ab = M["AgentBinding"](agent_id="agt")
    ab.metadata.add()
    ab.metadata.add(key="k", value="")
    ab.metadata.add(key="", value="v")
    v.ok("repeated_messages_with_empty", ab, "An empty element is written as a zero-length record.")
    v.ok(
        "packed_enums",
        M["ListCallsRequest"](status=[1, 2, 99, -1, 0], page_size=1000, page_token="tok"),
        "Packed repeated enum with an unknown (99), a negative (-1) and a zero element.",
    )
    lr = M["ListCallsResponse"](next_page_token="next")
    lr.calls.append(realistic_call(M, 1))
    lr.calls.add()
    lr.calls.append(M["Call"](sid="CA\u0000", status=4, ended_at_ms=0))
    v.ok("three_calls", lr, "Repeated messages, the middle one empty.")
    v.ok("ten_calls", realistic_list(M, 10), "")
    tc = M["TenantClaims"](
        tenant_id="tn_acme",
        publish_prefixes=["voice/CA12", "", "voice/😀"],
        subscribe_prefixes=["voice"],
        expires_at=-1,
        issued_at=INT64_MAX,
        audience="relay-eu",
    )
    v.ok("custom_json_names", tc, "json_name sub/exp/iat/aud; a repeated string with an empty element.")
    pa = M["PushAudioRequest"](
        sid="CA4",
        codec=3,
        sequence=UINT32_MAX,
        rtp_timestamp=UINT32_MAX,
        frames=[b"", b"\x00", b"\xff\xfe", b"\xf8\x00\x01", bytes(range(256))],
        end_of_stream=True,
    )
    v.ok("frames", pa, "Repeated bytes: empty, 1, 2, 3 bytes (base64 padding) and every byte value.")
    v.ok(
        "g711_frame",
        M["PushAudioRequest"](sid="CA5", codec=4, sequence=1, rtp_timestamp=160, frames=[bytes([0xD5] * 160)]),
        "",
    )

    # Oneofs.
    T = M["TransferRequest"]
    v.ok("pstn", T(sid="CA6", pstn_number="+14155550199"), "")
    v.ok("pstn_empty", T(sid="CA6", pstn_number=""), "An empty string set in a oneof is present: written and printed.")
    v.ok("agent", T(sid="CA6", agent=M["AgentBinding"](agent_id="agt_sales")), "")
    v.ok("agent_empty", T(agent=M["AgentBinding"]()), "An empty message set in a oneof is present.")
    R = M["OriginateResult"]
    v.ok("call", R(index=3, call=realistic_call(M, 3)), "")
    v.ok("error", R(index=4, error=M["ErrorStatus"](code=12, message="SIP 503", retry_after_ms=2000)), "")
    v.ok("error_empty", R(error=M["ErrorStatus"]()), "")
    v.ok("index_only", R(index=UINT32_MAX), "No oneof member set.")
    bulk = M["OriginateBulkResponse"]()
    bulk.results.add(index=0, call=realistic_call(M, 0))
    bulk.results.add(index=1, error=M["ErrorStatus"](code=1, field="calls[1].to", message="not E.164"))
    bulk.results.add(index=2)
    v.ok("mixed", bulk, "Repeated oneof-bearing messages, nested 5 deep.")
    req = M["OriginateBulkRequest"]()
    req.calls.add(to="+14155550100", idempotency_key="k1", audio=M["AudioShape"](codec=2))
    req.calls.add(to="+14155550101", default_app=2, ring_timeout_s=45, trunk_id="trk_eu")
    v.ok("two_calls", req, "")

    # Strings needing JSON escapes, enums with unknown values, big uint64.
    v.ok(
        "escapes",
        M["ErrorStatus"](code=1000, message='line1\nline2\t"q" \\ \u0001\u001f\u007f\u2028', field="a.b"),
        "Control characters, quotes, backslash, U+2028; an unknown ErrorCode.",
    )
    for code in range(1, 13):
        v.ok(f"code_{code}", M["ErrorStatus"](code=code), "")
    v.ok(
        "max_sequence", M["CallEvent"](call=M["Call"](sid="CA7", status=4), previous_status=3, sequence=UINT64_MAX), ""
    )
    v.ok(
        "unknown_reserved_5",
        M["DialRequest"](to="+1", codec=1, timeout_s=0),
        "Reserved number 5 arrives as unknown.",
        tag(5, 0) + varint(1),
    )
    v.ok("modes", M["BargeRequest"](sid="CA8", supervisor="sip:sup@example.com", mode=3), "")
    v.ok("max", M["PushAudioResponse"](accepted_through=UINT32_MAX, queued_ms=UINT32_MAX), "")
    v.ok(
        "unknown_in_empty",
        M["Empty"](),
        "Every unknown wire type in a message with no fields.",
        tag(1, 0) + varint(1) + tag(2, 1) + bytes(8) + ld(3, b"x") + tag(4, 5) + bytes(4),
    )
    v.ok("nul_sid", M["GetCallRequest"](sid="\u0000"), "")
    v.ok("long_sid", M["HangupRequest"](sid="CA" + "x" * 300), "A 2-byte length prefix.")


def negative(v: Vectors) -> None:
    bad = v.bad
    # truncated: the input ends in the middle of a value.
    bad("Call", "truncated_tag", b"\x80", "truncated", "A tag varint with its continuation bit set, then the end.")
    bad("CallQuality", "tag_without_value", tag(2, 0), "truncated")
    bad("Call", "truncated_varint", tag(2, 0) + b"\x80\x80", "truncated")
    bad("CallQuality", "truncated_fixed32", tag(1, 5) + b"\x01\x02", "truncated")
    bad("CallQuality", "truncated_fixed64", tag(7, 1) + bytes(7), "truncated")
    bad("CallQuality", "truncated_sfixed64", tag(9, 1), "truncated")
    bad("CallQuality", "truncated_float", tag(5, 5) + b"\x00\x00\xc0", "truncated")
    bad("CallQuality", "truncated_double", tag(6, 1) + bytes(3), "truncated")
    bad("Call", "truncated_length", tag(1, 2) + b"\x80", "truncated", "The length prefix itself is cut.")
    bad("Empty", "truncated_unknown_fixed64", tag(3, 1) + b"\x01", "truncated")
    bad("Empty", "truncated_unknown_fixed32", tag(3, 5) + b"\x01\x02\x03", "truncated")
    bad("Empty", "truncated_unknown_varint", tag(3, 0) + b"\xff", "truncated")
    bad(
        "CallQuality",
        "truncated_packed",
        ld(11, b"\x80\x80"),
        "truncated",
        "The packed frame ends in the middle of a varint.",
    )
    bad(
        "Call",
        "truncated_nested",
        ld(8, tag(1, 0) + b"\x80"),
        "truncated",
        "The nested AudioShape ends in the middle of its codec varint.",
    )
    bad(
        "ListCallsResponse",
        "truncated_nested_deep",
        ld(1, ld(7, ld(2, ld(2, tag(2, 0) + b"\xff")))),
        "truncated",
        "Call > AgentBinding > TurnDetection > VadSettings ends inside a varint.",
    )
    # length_past_end
    bad("Call", "string_past_end", tag(1, 2) + b"\x05ab", "length_past_end")
    bad("Call", "nested_past_end", tag(7, 2) + b"\x05" + ld(1, b""), "length_past_end")
    bad(
        "Call",
        "inner_past_enclosing_frame",
        ld(7, tag(1, 2) + b"\x05a") + b"bcdef",
        "length_past_end",
        "The inner string claims 5 bytes but its sub-message frame holds 1; bytes after the frame do not count.",
    )
    bad("Call", "huge_length", tag(1, 2) + varint(UINT32_MAX) + b"a", "length_past_end")
    bad("Empty", "unknown_len_past_end", tag(3, 2) + b"\x03\x00", "length_past_end")
    bad("PushAudioRequest", "bytes_past_end", tag(5, 2) + b"\x10" + bytes(4), "length_past_end")
    bad("CallQuality", "packed_past_end", tag(11, 2) + b"\x04\x01", "length_past_end")
    bad("ListCallsResponse", "nested_call_past_end", tag(1, 2) + b"\x7f" + ld(1, b"CA"), "length_past_end")
    # varint_overlong
    bad("CallQuality", "varint_11_bytes", tag(2, 0) + b"\xff" * 10 + b"\x01", "varint_overlong")
    bad("Empty", "unknown_varint_11_bytes", tag(3, 0) + b"\x80" * 10 + b"\x00", "varint_overlong")
    bad("Call", "length_11_bytes", tag(1, 2) + b"\x80" * 10 + b"\x00", "varint_overlong")
    bad("CallQuality", "packed_element_11_bytes", ld(11, b"\xff" * 10 + b"\x01"), "varint_overlong")
    bad(
        "CallQuality",
        "varint_past_64_bits",
        tag(2, 0) + b"\xff" * 9 + b"\x7f",
        "varint_overlong",
        "10 bytes whose last byte carries bits above bit 63.",
    )
    bad(
        "CallQuality",
        "varint_2_pow_64",
        tag(2, 0) + b"\x80" * 9 + b"\x02",
        "varint_overlong",
        "The value 2^64: one bit past 64.",
    )
    # bad_wire_type
    for wt in (3, 4, 6, 7):
        bad("Empty", f"wire_type_{wt}", tag(1, wt), "bad_wire_type")
        bad("Call", f"known_field_wire_type_{wt}", tag(2, wt) + b"\x00", "bad_wire_type")
    bad("Empty", "group_pair", tag(3, 3) + tag(3, 4), "bad_wire_type", "A well-formed (deprecated) group.")
    bad("Call", "string_as_varint", tag(1, 0) + b"\x01", "bad_wire_type", "sid is a string; varint is impossible.")
    bad("Call", "message_as_varint", tag(7, 0) + b"\x01", "bad_wire_type")
    bad("CallQuality", "fixed32_as_varint", tag(1, 0) + b"\x01", "bad_wire_type")
    bad("CallQuality", "double_as_fixed32", tag(6, 5) + bytes(4), "bad_wire_type")
    bad(
        "CallQuality",
        "singular_uint64_as_len",
        ld(2, b"\x01"),
        "bad_wire_type",
        "Only repeated scalars may arrive packed (LEN).",
    )
    bad("PushAudioRequest", "repeated_bytes_as_varint", tag(5, 0) + b"\x01", "bad_wire_type")
    bad("ListCallsRequest", "repeated_enum_as_fixed32", tag(1, 5) + bytes(4), "bad_wire_type")
    # invalid_field_number
    bad("Empty", "field_number_0", b"\x00\x00", "invalid_field_number")
    bad("Call", "field_number_0_len", tag(0, 2) + b"\x00", "invalid_field_number")
    bad("Empty", "field_number_0_fixed32", tag(0, 5) + bytes(4), "invalid_field_number")
    bad(
        "Empty",
        "field_number_2_pow_29",
        tag(2**29, 0) + b"\x00",
        "invalid_field_number",
        "536870912, one above the largest field number.",
    )
    bad("Empty", "field_number_2_pow_30", tag(2**30 - 1, 0) + b"\x00", "invalid_field_number")
    # invalid_utf8
    for label, raw in [
        ("byte_ff", b"\xff"),
        ("overlong_nul", b"\xc0\x80"),
        ("surrogate", b"\xed\xa0\x80"),
        ("above_10ffff", b"\xf4\x90\x80\x80"),
        ("truncated_sequence", b"ok\xe2\x82"),
        ("five_byte_form", b"\xf8\x88\x80\x80\x80"),
        ("lone_continuation", b"a\x80b"),
    ]:
        bad("Call", f"utf8_{label}", ld(1, raw), "invalid_utf8")
    bad("Call", "utf8_in_nested_key", ld(7, ld(4, ld(1, b"\xc3"))), "invalid_utf8", "Call.agent.metadata[0].key.")
    bad("TenantClaims", "utf8_in_repeated", ld(2, b"voice") + ld(2, b"\xfe"), "invalid_utf8")
    bad("TransferRequest", "utf8_in_oneof", ld(2, b"+1\xff"), "invalid_utf8")


def build(idl: Path = IDL) -> str:
    classes, ir = load_message_classes(idl)
    v = Vectors(classes, {e["name"] for e in ir["decode_errors"]})
    positive(v)
    negative(v)
    covered = {c["type"] for c in v.cases if "error" not in c}
    missing = [m["name"] for m in ir["messages"] if m["name"] not in covered]
    if missing:
        raise SystemExit(f"messages without a vector: {missing}")
    return render(v.cases)


def render(cases: list[dict[str, Any]]) -> str:
    head = {
        "doc": "Golden protobuf binary and ProtoJSON vectors of the ClutchCall DTOs, made with the official "
        "protobuf runtime (upb) by tests/vectors/make_dto_vectors.py; do not edit by hand. Positive cases: "
        "upb decodes hex to json and re-encodes it (deterministic) to hex; known_hex is hex without the unknown "
        "fields (what ParseDict(json) encodes to). float (32-bit) fields print in MessageToDict's shortest form "
        "of at least 6 significant digits (1.4013e-45): compare them after rounding to float32. Negative cases: "
        "decoders fail with error; upb_accepts marks bytes upb lets through.",
        "format": 1,
    }
    lines = ["{"]
    for k, val in head.items():
        lines.append(f"  {json.dumps(k)}: {json.dumps(val, ensure_ascii=False)},")
    lines.append('  "cases": [')
    body = ["    " + json.dumps(c, ensure_ascii=False, allow_nan=False, separators=(", ", ": ")) for c in cases]
    lines.append(",\n".join(body))
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> None:
    text = build()
    if "--check" in sys.argv[1:]:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            raise SystemExit(f"{OUT} is stale; run python tests/vectors/make_dto_vectors.py")
        print(f"{OUT}: up to date")
        return
    OUT.write_text(text, encoding="utf-8")
    n = text.count('"name": ')
    print(f"wrote {OUT} ({n} cases)")


if __name__ == "__main__":
    main()
