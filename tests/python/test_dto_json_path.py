"""The ProtoJSON decoder's DecodeError names where the document is wrong (`json_path`), for every message of the IDL.

The expected path is built from the IR alongside the document, independently of the decoder: a random walk down
the message's fields (either spelling of each name, a random element of repeated fields) ends in a value no field
type accepts, or in an unknown key.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apirpc_compiler.backends.python.namer import PythonNamer
from apirpc_compiler.ir.model import IR, Field

N = PythonNamer()
# A valid JSON value of each scalar type, to fill the elements of a repeated field around the bad one.
_VALID = {"bool": False, "string": "", "bytes": ""}
_REJECTED_BY_EVERY_TYPE: list[Any] = [[]]  # no scalar, enum or message reads a list (a list of lists, for repeated)


@pytest.fixture(scope="module")
def cc(python_sdk: Path) -> ModuleType:
    return importlib.import_module("clutchcall")


def _valid_element(f: Field) -> Any:
    kind = f["type"]["kind"]
    return {} if kind == "message" else 0 if kind == "enum" else _VALID.get(f["type"]["name"], 0)


@st.composite
def _bad_document(draw: st.DrawFn, ir: IR) -> tuple[str, dict[str, Any], str]:
    """(message name, a document wrong at exactly one place, that place's ProtoJSON path)."""
    msgs = {m["name"]: m for m in ir["messages"]}
    top = draw(st.sampled_from([m for m in ir["messages"] if m["fields"]]))
    doc: dict[str, Any] = {}
    node, msg, path = doc, top, ""
    for depth in range(5):
        if not msg["fields"] or draw(st.integers(0, 5)) == 0:
            key = "zzNotAField"
            node[key] = 1
            return top["name"], doc, f"{path}.{key}" if path else key
        f = draw(st.sampled_from(msg["fields"]))
        key = draw(st.sampled_from([f["json_name"], f["name"]]))
        path = f"{path}.{f['json_name']}" if path else f["json_name"]
        descend = f["type"]["kind"] == "message" and depth < 4 and draw(st.booleans())
        if f["label"] == "repeated":
            n = draw(st.integers(1, 3))
            at = draw(st.integers(0, n - 1))
            items = [_valid_element(f) for _ in range(n)]
            node[key] = items
            path += f"[{at}]"
            if not descend:
                items[at] = []
                return top["name"], doc, path
            node = items[at]
        elif descend:
            node[key] = {}
            node = node[key]
        else:
            node[key] = _REJECTED_BY_EVERY_TYPE
            return top["name"], doc, path
        msg = msgs[f["type"]["name"]]
    return top["name"], doc, path  # unreachable: depth 4 never descends


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_decode_error_names_the_json_path(cc: ModuleType, ir: IR, data: st.DataObject) -> None:
    name, doc, path = data.draw(_bad_document(ir))
    msg = next(m for m in ir["messages"] if m["name"] == name)
    cls = getattr(cc, N.class_name(msg["words"]))
    with pytest.raises(cc.DecodeError) as e:
        cls.from_json(doc)
    assert e.value.reason == "invalid_json" and e.value.json_path == path, (doc, str(e.value))


def test_paths_of_well_known_mistakes(cc: ModuleType) -> None:
    cases: list[tuple[Any, str]] = [
        ({"agent": {"turnDetection": {"mode": "LOUD"}}}, "agent.turnDetection.mode"),
        (
            {"agent": {"turn_detection": {"barge_in": {"min_speech_ms": "x"}}}},
            "agent.turnDetection.bargeIn.minSpeechMs",
        ),
        ({"agent": {"metadata": [{"key": "a"}, {"value": 3}]}}, "agent.metadata[1].value"),
        ({"agent": {"agentId": "a", "agent_id": "b"}}, "agent.agentId"),  # given twice, in both spellings
        ({"to": "+1", "zz": 1}, "zz"),
        ([], ""),  # the document itself
    ]
    for doc, path in cases:
        with pytest.raises(cc.DecodeError) as e:
            cc.OriginateRequest.from_json(doc)
        assert e.value.json_path == path, doc
    with pytest.raises(cc.DecodeError) as e:
        cc.OriginateRequest.from_json_str(b"{")
    assert e.value.json_path == ""
    with pytest.raises(cc.DecodeError) as e:
        cc.ListCallsRequest.from_json({"status": ["CALL_STATUS_RINGING", "CALL_STATUS_LOST"]})
    assert e.value.json_path == "status[1]"
    # A valid document decodes as before.
    assert cc.ListCallsRequest.from_json({"status": ["CALL_STATUS_RINGING", 9]}).status == [cc.CallStatus.RINGING, 9]
