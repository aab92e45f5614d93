"""What a new user of the Python wire codecs trips over (issue 13, section 3): each test fails if
the rough edge comes back. Envelope.request, constant fields defaulting to their constant,
length fields derived from what they measure, and code sets as IntEnums on the fields that
declare them."""

from __future__ import annotations

import enum
import importlib
import inspect
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from apirpc_compiler.backends.python.emit_wire import generate_wire
from apirpc_compiler.ir.model import IR, WireProtocol, WireStruct, WireType
from apirpc_compiler.ir.wire import build_wire


@pytest.fixture(scope="module")
def sdk(python_sdk: Path) -> dict[str, Any]:
    names = ("wire.envelope", "wire.moqt_d14", "errors", "messages", "services")
    return {n.rsplit(".", 1)[-1]: importlib.import_module(f"clutchcall.{n}") for n in names}


def _module(proto: WireProtocol) -> Any:
    return importlib.import_module(f"clutchcall.wire.{proto['name']}")


def _structs(ir: IR) -> list[tuple[Any, WireProtocol, WireStruct]]:
    return [(_module(p), p, s) for p in ir["wire"] for s in p["structs"]]


def _class(module: Any, s: WireStruct) -> Any:
    return getattr(module, "".join(w.capitalize() for w in s["words"]))


def _attr(words: list[str]) -> str:
    name = "_".join(words)
    return name + "_" if name in ("type", "object") else name


# ---------------------------------------------------------------------------- Envelope.request


def test_envelope_request_carries_the_method_and_the_encoded_message(sdk: dict[str, Any]) -> None:
    env, services, messages = sdk["envelope"], sdk["services"], sdk["messages"]
    msg = messages.OriginateRequest(to="+14155550100", from_="+14155550199")
    e = env.Envelope.request(services.METHOD_VOICE_CALLS_ORIGINATE, 1 << 40, msg)
    assert (e.version, e.kind, e.flags) == (env.VERSION, env.EnvelopeKind.REQUEST, env.EnvelopeFlag.FINAL)
    assert (e.method_id, e.request_id) == (256, 1 << 40)
    assert messages.OriginateRequest.decode(e.payload) == msg
    wire = e.encode()
    assert wire[:3] == bytes([1, 0, 1])  # version 1, kind request, flag final
    assert env.Envelope.decode(wire) == e
    # The descriptor's id works the same as the constant.
    assert env.Envelope.request(services.VOICE_CALLS["originate"].id, 1 << 40, msg) == e
    doc = inspect.getdoc(env.Envelope.request) or ""
    assert "METHOD_" in doc and "final" in doc


def test_every_constant_field_defaults_to_its_constant(ir: IR) -> None:
    """A struct built without its constant fields (the envelope's version) encodes the current value."""
    seen = 0
    for module, _, s in _structs(ir):
        params = inspect.signature(_class(module, s)).parameters
        for f in s["fields"]:
            if f["type"]["const"] is not None and f["when"] is None:
                assert params[_attr(f["words"])].default == f["type"]["const"], (s["name"], f["name"])
                seen += 1
    assert seen
    env = importlib.import_module("clutchcall.wire.envelope")
    plain = env.Envelope(kind=env.EnvelopeKind.EVENT, flags=0, method_id=11, request_id=2, payload=b"")
    assert plain.version == env.VERSION == 1
    assert env.Envelope.decode(plain.encode()) == plain


# ---------------------------------------------------------------------------- derived lengths


def _measured_lengths(s: WireStruct) -> dict[str, str]:
    """Length field -> the bytes field it alone measures (what the README calls `payload_length`)."""
    out: dict[str, str] = {}
    for f in s["fields"]:
        ln = f["type"]["length"]
        if f["type"]["type"] == "bytes" and ln is not None and ln["kind"] == "field" and f["when"] is None:
            out[str(ln["field"])] = f["name"]
    return out


def test_length_fields_that_frame_a_payload_are_derived_not_passed(ir: IR) -> None:
    found = []
    for module, _, s in _structs(ir):
        cls = _class(module, s)
        params = inspect.signature(cls).parameters
        for length in _measured_lengths(s):
            attr = _attr(length.split("_"))
            assert attr not in params, f"{s['name']}: the caller still passes {length}"
            assert isinstance(inspect.getattr_static(cls, attr), property), s["name"]
            found.append(s["name"])
    assert {"SubgroupObject", "FetchObject"} <= set(found)


def test_subgroup_object_payload_length_is_len_payload(sdk: dict[str, Any]) -> None:
    moqt, errors = sdk["moqt_d14"], sdk["errors"]
    obj = moqt.SubgroupObject(object_id_delta=0, payload=b"abcd")
    assert obj.payload_length == 4
    assert obj.encode(has_extensions=False).hex() == "00" + "04" + "61626364"
    back = moqt.SubgroupObject.decode(obj.encode(has_extensions=False), has_extensions=False)
    assert back == obj and back.payload_length == 4  # still readable after decode
    with pytest.raises(TypeError):
        moqt.SubgroupObject(object_id_delta=0, payload_length=2, payload=b"a")
    with pytest.raises(AttributeError):
        obj.payload_length = 9  # a mismatching value cannot be set, so it cannot be written
    obj.payload = b"xy"
    assert obj.payload_length == 2 and obj.encode(has_extensions=False).hex() == "00" + "02" + "7879"
    # An empty payload is the status form: payload_length 0, then object_status.
    status = moqt.SubgroupObject(object_id_delta=1, object_status=moqt.ObjectStatus.END_OF_GROUP, payload=b"")
    assert status.encode(has_extensions=False).hex() == "01" + "00" + "03"
    with pytest.raises(errors.EncodeError, match="object_status is required"):
        moqt.SubgroupObject(object_id_delta=1, payload=b"").encode(has_extensions=False)


def test_the_value_format_still_carries_the_length_and_checks_it(sdk: dict[str, Any]) -> None:
    moqt, errors = sdk["moqt_d14"], sdk["errors"]
    obj = moqt.FetchObject(
        group_id=1, subgroup_id=0, object_id=2, publisher_priority=3, extension_headers=[], payload=b"\x7f"
    )
    value = obj.to_json()
    assert value["payload_length"] == 1
    assert moqt.FetchObject.from_json(value) == obj
    with pytest.raises(errors.DecodeError) as e:
        moqt.FetchObject.from_json({**value, "payload_length": 2})
    assert e.value.reason == "invalid_json" and "payload_length" in str(e.value)


_LENGTHS_WIRE: dict[str, Any] = {
    "errors": {"values": {}},
    "protocols": {
        "lengths": {
            "doc": "Length fields that are and are not derived.",
            "family": "lengths",
            "version": 1,
            "structs": {
                "S": {
                    "fields": [
                        {"name": "n", "type": "varint"},
                        {"name": "body", "type": "bytes", "length": {"field": "n"}},
                        {"name": "count", "type": "u8"},
                        {"name": "items", "type": "list", "count": {"field": "count"}, "element": {"type": "u8"}},
                        {"name": "shared", "type": "varint"},
                        {"name": "a", "type": "bytes", "length": {"field": "shared"}},
                        {"name": "b", "type": "bytes", "length": {"field": "shared"}},
                        {"name": "m", "type": "varint"},
                        {
                            "name": "opt",
                            "type": "bytes",
                            "length": {"field": "m"},
                            "when": {"field": "n", "op": "ne", "value": 0},
                        },
                    ]
                }
            },
            "streams": {},
        }
    },
}


def test_only_a_length_that_alone_measures_one_field_is_derived(ir: IR, python_sdk: Path, tmp_path: Path) -> None:
    lengths_ir: Any = dict(ir)
    lengths_ir["decode_errors"], lengths_ir["wire"] = build_wire(_LENGTHS_WIRE)
    pkg = tmp_path / "lengthswire"
    (pkg / "wire").mkdir(parents=True)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    shutil.copy(python_sdk / "clutchcall" / "errors.py", pkg / "errors.py")
    for f in generate_wire(lengths_ir):
        (pkg / "wire" / Path(f.path).name).write_text(f.content, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        mod = importlib.import_module("lengthswire.wire.lengths")
    finally:
        sys.path.remove(str(tmp_path))
    # n measures body alone and count counts items alone: derived. shared measures two fields and
    # m measures a conditional one: the caller passes them and encode checks them.
    assert list(inspect.signature(mod.S).parameters) == ["body", "items", "shared", "a", "b", "m", "opt"]
    value = mod.S(body=b"xyz", items=[7, 8], shared=1, a=b"a", b=b"b", m=2, opt=b"op")
    assert (value.n, value.count) == (3, 2)
    wire = value.encode()
    assert wire.hex() == "03" + "78797a" + "02" + "0708" + "01" + "61" + "62" + "02" + "6f70"
    assert mod.S.decode(wire) == value
    errors = importlib.import_module("lengthswire.errors")
    with pytest.raises(errors.EncodeError, match="does not match shared"):
        mod.S(body=b"", items=[], shared=1, a=b"a", b=b"bb", m=0).encode()


# ---------------------------------------------------------------------------- code sets


def _coded_fields(ir: IR) -> list[tuple[Any, WireStruct, str, WireType, str]]:
    """(module, struct, attribute, type, code set class name) of every field declared with a code set."""
    out = []
    for module, p, s in _structs(ir):
        classes = {c["name"]: "".join(w.capitalize() for w in c["words"]) for c in p["codes"]}
        for f in s["fields"]:
            if f["type"]["codes"] is not None:
                out.append((module, s, _attr(f["words"]), f["type"], classes[f["type"]["codes"]]))
    return out


def test_code_sets_are_int_enums_with_the_idl_values(ir: IR) -> None:
    for p in ir["wire"]:
        module = _module(p)
        for c in p["codes"]:
            cls = getattr(module, "".join(w.capitalize() for w in c["words"]))
            assert issubclass(cls, enum.IntEnum), c["name"]
            assert {int(m) for m in cls} == {v["value"] for v in c["values"]}, c["name"]
            for v in c["values"]:
                member = cls.from_number(v["value"])
                assert isinstance(member, cls) and member.idl_name == v["name"] == cls.name_of(v["value"])
            unknown = max(v["value"] for v in c["values"]) + 1
            assert cls.from_number(unknown) == unknown and type(cls.from_number(unknown)) is int
            assert not cls.is_known(unknown) and cls.name_of(unknown) is None


def test_fields_declared_with_a_code_set_are_typed_with_it(ir: IR) -> None:
    fields = _coded_fields(ir)
    assert len(fields) > 10
    for module, s, attr, t, name in fields:
        ann = _class(module, s).__annotations__[attr]
        want = name if t["closed"] else f"{name} | int"
        assert ann.removesuffix(" | None") == want, (s["name"], attr, ann)


def test_decoded_codes_are_members_and_open_sets_keep_unknown_values(sdk: dict[str, Any]) -> None:
    env, moqt, errors = sdk["envelope"], sdk["moqt_d14"], sdk["errors"]
    e = env.Envelope.decode(bytes([1, 3, 0, 5, 1, 0]))
    assert type(e.kind) is env.EnvelopeKind and e.kind is env.EnvelopeKind.EVENT
    assert "EnvelopeKind.EVENT" in repr(e)
    with pytest.raises(errors.DecodeError) as bad:
        env.Envelope.decode(bytes([1, 4, 0, 5, 1, 0]))  # closed: 4 is no EnvelopeKind
    assert bad.value.reason == "invalid_value"

    reason = moqt.ReasonPhrase(value="no")
    known = moqt.SubscribeError(request_id=1, error_code=moqt.SubscribeErrorCode.TIMEOUT, error_reason=reason)
    got = moqt.SubscribeError.decode(known.encode())
    assert type(got.error_code) is moqt.SubscribeErrorCode and got.error_code is moqt.SubscribeErrorCode.TIMEOUT
    # An open set: a value this version does not define survives as the bare int, byte for byte.
    unknown = moqt.SubscribeError(request_id=1, error_code=0x3FFF, error_reason=reason)
    wire = unknown.encode()
    got = moqt.SubscribeError.decode(wire)
    assert type(got.error_code) is int and got.error_code == 0x3FFF and got.encode() == wire
    assert moqt.SubscribeError.from_json(got.to_json()).error_code == 0x3FFF
    # JSON holds plain numbers, and reads back as members.
    assert type(known.to_json()["error_code"]) is int
    assert moqt.SubscribeError.from_json(known.to_json()).error_code is moqt.SubscribeErrorCode.TIMEOUT
    with pytest.raises(errors.DecodeError) as bad:
        env.Envelope.from_json({**e.to_json(), "kind": 9})
    assert bad.value.reason == "invalid_json"


# ---------------------------------------------------------------------------- buffer limit


def test_a_length_over_the_parsers_buffer_limit_is_refused_when_read(sdk: dict[str, Any]) -> None:
    env, moqt, errors = sdk["envelope"], sdk["moqt_d14"], sdk["errors"]
    # version, kind, flags, method 1, request 1, payload length 4096, then one byte of it.
    head = bytes([1, 0, 1, 1, 1, 0x50, 0x00, 0xAA])
    with pytest.raises(errors.DecodeError) as e:
        env.RpcParser(max_buffer=100).feed(head)
    assert e.value.reason == "too_large" and e.value.offset == 7  # right after the prefix
    assert env.RpcParser(max_buffer=8192).feed(head) == []  # under the limit: waits for the rest
    # A MoQT object whose payload length is over the limit, on a data stream after its header.
    hdr = moqt.SubgroupHeader(type_=0x10, track_alias=1, group_id=2, publisher_priority=3)
    data = hdr.encode() + bytes([0, 0x44, 0x00, 0xBB])  # delta 0, payload length 1024, one byte
    parser = moqt.DataParser(max_buffer=512)
    with pytest.raises(errors.DecodeError) as e:
        parser.feed(data)
    assert e.value.reason == "too_large" and e.value.offset == len(hdr.encode()) + 3
    assert moqt.DataParser(max_buffer=2048).feed(data) == [hdr]
