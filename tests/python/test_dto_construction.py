"""DTO constructors refuse what would otherwise encode as if the field were unset (issue 13,
section 3: `OriginateRequest(to=None).encode()` encoded an empty message). Checked for every
field of every message of the IDL, so a new message cannot bring the rough edge back."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from apirpc_compiler.backends.python.namer import PythonNamer
from apirpc_compiler.ir.model import IR, Field


@pytest.fixture(scope="module")
def messages(python_sdk: Path) -> Any:
    return importlib.import_module("clutchcall.messages")


def _fields(ir: IR, messages: Any) -> list[tuple[Any, str, Field]]:
    """(class, attribute, IR field) for every field of every message."""
    namer = PythonNamer()
    out = []
    for m in ir["messages"]:
        cls = getattr(messages, namer.class_name(m["words"]))
        assert len(cls._FIELDS) == len(m["fields"])
        out += [(cls, attr, f) for attr, f in zip(cls._FIELDS, m["fields"], strict=True)]
    return out


def _takes_none(f: Field) -> bool:
    """Fields that may be absent: proto3 optional, oneof members, messages, repeated (None = empty)."""
    return f["label"] in ("optional", "repeated") or f["oneof"] is not None or f["type"]["kind"] == "message"


def test_originate_request_to_none_is_refused(messages: Any) -> None:
    with pytest.raises(TypeError, match=r"OriginateRequest\.to: expected str, got NoneType"):
        messages.OriginateRequest(to=None)
    with pytest.raises(TypeError, match=r"OriginateRequest\.agent: expected AgentBinding or None"):
        messages.OriginateRequest(to="+14155550100", agent="bot")
    # proto3 optional fields still take None: absent.
    req = messages.OriginateRequest(to="+14155550100", ring_timeout_s=None, default_app=None)
    assert req.ring_timeout_s is None and messages.OriginateRequest.decode(req.encode()) == req


def test_none_is_refused_by_every_field_that_is_never_absent(ir: IR, messages: Any) -> None:
    checked = 0
    for cls, attr, f in _fields(ir, messages):
        if _takes_none(f):
            value = cls(**{attr: None})
            assert getattr(value, attr) in (None, []), (cls.__name__, attr)
            continue
        with pytest.raises(TypeError, match=rf"^{cls.__name__}\.{attr}: expected "):
            cls(**{attr: None})
        checked += 1
    assert checked > 50


def test_a_wrongly_typed_value_is_refused_by_every_field(ir: IR, messages: Any) -> None:
    wrong: Any = object()
    for cls, attr, f in _fields(ir, messages):
        value = [wrong] if f["label"] == "repeated" else wrong
        with pytest.raises(TypeError, match=rf"^{cls.__name__}\.{attr}: expected "):
            cls(**{attr: value})
    # A str where a number belongs, and a tuple where a list belongs.
    with pytest.raises(TypeError, match=r"DialRequest\.timeout_s: expected int"):
        messages.DialRequest(timeout_s="30")
    with pytest.raises(TypeError, match=r"ListCallsRequest\.status: expected list\[CallStatus \| int\]"):
        messages.ListCallsRequest(status=(1, 2))


def test_well_typed_values_are_accepted(messages: Any) -> None:
    shape = messages.AudioShape()
    req = messages.OriginateRequest(to="+1", from_="+2", audio=shape, default_app=3, idempotency_key="k")
    assert req.audio is shape and req.default_app == 3
    assert messages.ListCallsRequest(status=[messages.CallStatus.RINGING, 99]).status == [2, 99]


def test_none_assigned_after_construction_is_refused_by_encode(ir: IR, messages: Any) -> None:
    errors = importlib.import_module("clutchcall.errors")
    req = messages.OriginateRequest(to="+14155550100")
    req.to = None
    with pytest.raises(errors.EncodeError, match=r"OriginateRequest\.to: expected str"):
        req.encode()
    checked = 0
    for cls, attr, f in _fields(ir, messages):
        if _takes_none(f) and f["label"] != "repeated":
            continue
        value = cls()
        setattr(value, attr, None)
        with pytest.raises(errors.EncodeError, match=rf"{cls.__name__}\.{attr}: expected "):
            value.encode()
        checked += 1
    assert checked > 50
