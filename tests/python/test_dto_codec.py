"""The generated Python DTOs' protobuf binary codec: hand-checked byte vectors for the tricky cases.

Golden vectors made with the official runtime live in test_dto_vectors.py; these pin the
individual rules (negative int32, zigzag, packing, unknown fields, open enums, oneofs,
presence, merging) and the decode error reasons, one case each.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def cc(python_sdk: Path) -> ModuleType:
    return importlib.import_module("clutchcall")


def h(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", ""))


def test_negative_int32_is_ten_bytes(cc: ModuleType) -> None:
    q = cc.CallQuality(jitter_buffer_depth=-1)
    assert q.encode() == h("60 ff ff ff ff ff ff ff ff ff 01")
    assert cc.CallQuality.decode(q.encode()).jitter_buffer_depth == -1
    # An int32 read from a 64-bit varint is truncated to 32 bits, as protobuf does.
    assert cc.CallQuality.decode(h("60 ff ff ff ff 0f")).jitter_buffer_depth == -1


def test_negative_enum_and_int64(cc: ModuleType) -> None:
    call = cc.Call(status=-2, created_at_ms=-1)
    assert call.encode() == h("10 fe ff ff ff ff ff ff ff ff 01  58 ff ff ff ff ff ff ff ff ff 01")
    back = cc.Call.decode(call.encode())
    assert back.status == -2 and back.created_at_ms == -1


def test_zigzag(cc: ModuleType) -> None:
    q = cc.CallQuality(cumulative_lost=-2, level_dbov=[-1, 1, -64, 64])
    # sint64 -2 -> 3; packed sint32 [-1, 1, -64, 64] -> 01 02 7f 80 01
    assert q.encode() == h("20 03  5a 05 01 02 7f 80 01")
    assert cc.CallQuality.decode(q.encode()) == q
    extremes = cc.CallQuality(cumulative_lost=-(2**63), level_dbov=[2**31 - 1, -(2**31)])
    assert cc.CallQuality.decode(extremes.encode()) == extremes


def test_fixed_and_floats(cc: ModuleType) -> None:
    q = cc.CallQuality(ssrc=0x01020304, clock_skew_ppm=-1, mos=1.0, jitter_ms=0.5, last_sr_ntp=2**64 - 1)
    assert q.encode() == h(
        "0d 04 03 02 01  2d 00 00 00 3f  31 00 00 00 00 00 00 f0 3f  39 ff ff ff ff ff ff ff ff  45 ff ff ff ff"
    )
    assert cc.CallQuality.decode(q.encode()) == q


def test_packed_and_unpacked_both_accepted(cc: ModuleType) -> None:
    unpacked = h("58 01  58 02")
    packed = h("5a 02 01 02")
    assert cc.CallQuality.decode(unpacked).level_dbov == [-1, 1]
    assert cc.CallQuality.decode(packed).level_dbov == [-1, 1]
    # Mixed occurrences concatenate; encode always packs.
    assert cc.CallQuality.decode(unpacked + packed).encode() == h("5a 04 01 02 01 02")
    req = cc.ListCallsRequest.decode(h("08 01 0a 02 02 63"))
    assert req.status == [1, 2, 99]
    assert req.encode() == h("0a 03 01 02 63")


def test_unknown_fields_kept_and_reemitted_after_known(cc: ModuleType) -> None:
    unknown = h("98 06 05") + h("1d 01 02 03 04") + h("22 02 68 69")  # field 99 varint, 3 fixed32, 4 bytes
    data = unknown[:3] + h("12 01 76") + unknown[3:] + h("0a 01 6b")
    kv = cc.KeyValue.decode(data)
    assert (kv.key, kv.value) == ("k", "v")
    assert kv.unknown_fields == unknown
    assert kv.encode() == h("0a 01 6b 12 01 76") + unknown
    assert kv.to_json() == {"key": "k", "value": "v"}  # dropped in ProtoJSON
    assert kv != cc.KeyValue(key="k", value="v")


def test_unknown_enum_number_kept(cc: ModuleType) -> None:
    call = cc.Call.decode(h("10 63"))
    assert call.status == 99 and not isinstance(call.status, cc.CallStatus)
    assert call.encode() == h("10 63")
    known = cc.Call.decode(h("10 02"))
    assert known.status is cc.CallStatus.RINGING


def test_oneof_last_one_wins(cc: ModuleType) -> None:
    pstn = h("12 02 2b 31")
    agent = h("1a 03 0a 01 61")
    t = cc.TransferRequest.decode(pstn + agent)
    assert t.which_target() == "agent" and t.pstn_number is None and t.agent.agent_id == "a"
    t = cc.TransferRequest.decode(agent + pstn)
    assert t.which_target() == "pstn_number" and t.agent is None and t.pstn_number == "+1"
    t.agent = cc.AgentBinding(agent_id="b")  # setting a member clears the others
    assert t.which_target() == "agent" and t.pstn_number is None
    assert cc.TransferRequest().which_target() is None
    with pytest.raises(ValueError):
        cc.TransferRequest(pstn_number="+1", agent=cc.AgentBinding())
    # An empty member is still set (explicit presence).
    assert cc.TransferRequest(pstn_number="").encode() == h("12 00")


def test_presence(cc: ModuleType) -> None:
    assert cc.AudioShape(sample_rate=0).encode() == h("10 00")  # optional zero is emitted
    assert cc.AudioShape().encode() == b""
    assert cc.KeyValue(key="", value="").encode() == b""  # implicit zero is omitted
    assert cc.Call(agent=cc.AgentBinding()).encode() == h("3a 00")  # empty message field is set
    shape = cc.AudioShape.decode(h("10 00"))
    assert shape.sample_rate == 0 and shape.channels is None
    assert shape.sample_rate_or_default() == 0
    assert shape.channels_or_default() == 1 and shape.codec_or_default() is cc.Codec.OPUS
    assert cc.VadSettings().threshold_or_default() == 0.5
    assert cc.BargeIn().enabled_or_default() is True


def test_negative_zero_double_is_emitted(cc: ModuleType) -> None:
    assert cc.CallQuality(mos=-0.0).encode() == h("31 00 00 00 00 00 00 00 80")
    assert cc.CallQuality(mos=0.0).encode() == b""


def test_last_one_wins_and_message_merge(cc: ModuleType) -> None:
    assert cc.KeyValue.decode(h("0a 01 61 0a 01 62")).key == "b"
    # A singular message field seen twice merges: scalars of the later one win, repeated ones append.
    data = h("3a 08 0a 01 61 22 03 0a 01 78") + h("3a 08 1a 01 62 22 03 0a 01 79")
    call = cc.Call.decode(data)
    assert call.agent.agent_id == "a" and call.agent.instructions == "b"
    assert [kv.key for kv in call.agent.metadata] == ["x", "y"]
    # Repeated message fields: each occurrence is one element.
    resp = cc.ListCallsResponse.decode(h("0a 03 0a 01 61 0a 03 0a 01 62"))
    assert [c.sid for c in resp.calls] == ["a", "b"]


def test_round_trip_of_a_full_call(cc: ModuleType) -> None:
    call = cc.Call(
        sid="CA12",
        status=cc.CallStatus.IN_PROGRESS,
        direction=cc.Direction.OUTBOUND,
        from_="+14155550100",
        to="+14155550199",
        agent=cc.AgentBinding(agent_id="ag", metadata=[cc.KeyValue(key="k", value="é")]),
        audio=cc.AudioShape(codec=cc.Codec.G711_ULAW, sample_rate=8000),
        created_at_ms=1732000000000,
        answered_at_ms=0,
        quality=cc.CallQuality(level_dbov=[-3, 0, 5], mos=4.5),
        tenant_id="t" * 300,  # a 2-byte length
    )
    data = call.encode()
    assert cc.Call.decode(data) == call
    assert cc.Call.decode(bytearray(data)) == call
    assert cc.Call.decode(memoryview(data)) == call
    assert "from_='+14155550100'" in repr(call)


@pytest.mark.parametrize(
    ("message", "data", "reason"),
    [
        ("KeyValue", "0a 05 61", "length_past_end"),
        ("KeyValue", "0a", "truncated"),
        ("AudioShape", "08", "truncated"),
        ("AudioShape", "08 ff ff", "truncated"),
        ("CallQuality", "0d 01 02", "truncated"),
        ("CallQuality", "5a 02 01", "length_past_end"),
        ("CallQuality", "5a 01 80", "truncated"),  # a packed varint running past its run
        ("Call", "3a 02 0a 05", "length_past_end"),
        ("Call", "3a 02 28 80", "truncated"),  # a sub-message field running past its end
        ("AudioShape", "08 ff ff ff ff ff ff ff ff ff 7f", "varint_overlong"),
        ("AudioShape", "08 ff ff ff ff ff ff ff ff ff ff 01", "varint_overlong"),
        ("KeyValue", "00 00", "invalid_field_number"),
        ("KeyValue", "f8 ff ff ff ff 01 00", "invalid_field_number"),  # above 2^29-1
        ("KeyValue", "0b", "bad_wire_type"),
        ("KeyValue", "0c", "bad_wire_type"),
        ("KeyValue", "1e 00", "bad_wire_type"),
        ("KeyValue", "08 01", "bad_wire_type"),  # a string field as varint
        ("KeyValue", "0a 02 c3 28", "invalid_utf8"),
        ("KeyValue", "0a 03 ed a0 80", "invalid_utf8"),  # a UTF-16 surrogate
    ],
)
def test_decode_errors(cc: ModuleType, message: str, data: str, reason: str) -> None:
    with pytest.raises(cc.DecodeError) as e:
        getattr(cc, message).decode(h(data))
    assert e.value.reason == reason
    assert reason in cc.DecodeErrorReason.ALL


def test_too_large(cc: ModuleType) -> None:
    with pytest.raises(cc.DecodeError) as e:
        cc.Empty.decode(bytes(64 * 1024 * 1024 + 1))
    assert e.value.reason == "too_large"


def test_encode_errors(cc: ModuleType) -> None:
    for bad in (
        cc.CallQuality(jitter_buffer_depth=2**31),
        cc.CallQuality(late_loss=-1),
        cc.CallQuality(packets_sent=2**64),
        cc.CallQuality(level_dbov=[2**31]),
        cc.CallQuality(jitter_ms=1e300),
        cc.CallQuality(ssrc=-1),
        cc.KeyValue(key="\ud800"),
    ):
        with pytest.raises(cc.EncodeError):
            bad.encode()
