"""The generated Python DTOs' ProtoJSON codec: one case per mapping rule."""

from __future__ import annotations

import importlib
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest


@pytest.fixture(scope="module")
def cc(python_sdk: Path) -> ModuleType:
    return importlib.import_module("clutchcall")


def test_names_int64_enums(cc: ModuleType) -> None:
    call = cc.Call(sid="CA1", status=cc.CallStatus.DIALING, from_="+1", created_at_ms=-5, end_reason=42)
    assert call.to_json() == {
        "sid": "CA1",
        "status": "CALL_STATUS_DIALING",
        "from": "+1",
        "createdAtMs": "-5",
        "endReason": 42,  # an unknown enum number stays a number
    }
    assert cc.Call.from_json(call.to_json()) == call
    assert cc.Call.from_json_str(call.to_json_str()) == call


def test_custom_json_name_and_original_name(cc: ModuleType) -> None:
    claims = cc.TenantClaims(tenant_id="t", expires_at=5, audience="relay")
    assert claims.to_json() == {"sub": "t", "exp": "5", "aud": "relay"}
    assert cc.TenantClaims.from_json({"tenant_id": "t", "expires_at": 5, "aud": "relay"}) == claims
    with pytest.raises(cc.DecodeError) as e:
        cc.TenantClaims.from_json({"sub": "a", "tenant_id": "b"})
    assert e.value.reason == "invalid_json"


@pytest.mark.parametrize("value", [5, "5", 5.0, "5e0", "  5"])
def test_int_inputs(cc: ModuleType, value: Any) -> None:
    if value == "  5":
        with pytest.raises(cc.DecodeError):
            cc.Call.from_json({"createdAtMs": value})
    else:
        assert cc.Call.from_json({"createdAtMs": value}).created_at_ms == 5


@pytest.mark.parametrize(
    "doc",
    [
        {"createdAtMs": 1.5},
        {"createdAtMs": True},
        {"createdAtMs": "9223372036854775808"},
        {"sid": 5},
        {"status": "DIALING"},
        {"status": True},
        {"agent": []},
        {"agent": {"agentId": 1}},
        {"quality": {"levelDbov": [1, None]}},
        {"quality": {"lateLoss": -1}},
        {"quality": {"jitterMs": 1e39}},
        {"quality": {"jitterMs": "nan"}},
        {"nope": 1},
        [],
        "x",
    ],
)
def test_bad_json_values(cc: ModuleType, doc: Any) -> None:
    with pytest.raises(cc.DecodeError) as e:
        cc.Call.from_json(doc)
    assert e.value.reason == "invalid_json"


def test_unknown_json_field_can_be_ignored(cc: ModuleType) -> None:
    assert cc.Call.from_json({"sid": "a", "nope": 1}, ignore_unknown_fields=True) == cc.Call(sid="a")


def test_enum_by_number(cc: ModuleType) -> None:
    assert cc.Call.from_json({"status": 3}).status is cc.CallStatus.IN_PROGRESS
    assert cc.Call.from_json({"status": 77}).status == 77


def test_floats(cc: ModuleType) -> None:
    q = cc.CallQuality(jitter_ms=math.nan, mos=math.inf)
    assert q.to_json() == {"jitterMs": "NaN", "mos": "Infinity"}
    assert cc.CallQuality(mos=-math.inf).to_json() == {"mos": "-Infinity"}
    back = cc.CallQuality.from_json({"jitterMs": "NaN", "mos": "-Infinity"})
    assert math.isnan(back.jitter_ms) and back.mos == -math.inf
    # A float32 prints as the shortest decimal that reads back as the same float32.
    assert cc.CallQuality.decode(cc.CallQuality(jitter_ms=0.1).encode()).to_json() == {"jitterMs": 0.1}
    assert cc.CallQuality.from_json({"mos": "2.5"}).mos == 2.5


def test_bytes_base64(cc: ModuleType) -> None:
    req = cc.PushAudioRequest(frames=[b"\xfb\xff", b"", b"abc"])
    assert req.to_json() == {"frames": ["+/8=", "", "YWJj"]}
    for spelling in (["+/8=", "", "YWJj"], ["-_8", "", "YWJj"], ["+/8", "", "YWJj"], ["-_8=", "", "YWJj"]):
        assert cc.PushAudioRequest.from_json({"frames": spelling}) == req
    with pytest.raises(cc.DecodeError):
        cc.PushAudioRequest.from_json({"frames": ["!!"]})


def test_presence_in_json(cc: ModuleType) -> None:
    assert cc.AudioShape(sample_rate=0).to_json() == {"sampleRate": 0}
    assert cc.KeyValue().to_json() == {}
    assert cc.Call(agent=cc.AgentBinding()).to_json() == {"agent": {}}
    assert cc.Call.from_json({"sid": None, "agent": None}) == cc.Call()
    assert cc.AudioShape.from_json({"sampleRate": 0}).sample_rate == 0
    assert cc.ListCallsRequest(status=[1, 99]).to_json() == {"status": ["CALL_STATUS_DIALING", 99]}


def test_oneof_in_json(cc: ModuleType) -> None:
    t = cc.TransferRequest(sid="s", agent=cc.AgentBinding(agent_id="a"))
    assert t.to_json() == {"sid": "s", "agent": {"agentId": "a"}}
    assert cc.TransferRequest.from_json(t.to_json()) == t
    with pytest.raises(cc.DecodeError):
        cc.TransferRequest.from_json({"pstnNumber": "+1", "agent": {}})


@pytest.mark.parametrize("text", ["{", '{"sid": NaN}', "[1,", b"\xff", '{"sid": "a"} x', "1" * 5000, "[" * 100000])
def test_malformed_json(cc: ModuleType, text: Any) -> None:
    with pytest.raises(cc.DecodeError) as e:
        cc.Call.from_json_str(text)
    assert e.value.reason in ("invalid_json", "too_deep")


def test_deep_json_is_rejected(cc: ModuleType) -> None:
    doc: dict[str, Any] = {}
    for _ in range(200):
        doc = {"agent": {"turnDetection": {}}, "x": doc}
    with pytest.raises(cc.DecodeError):
        cc.Call.from_json(doc)
