"""The wire section's IR lowering, the generated package's lint/type cleanliness, and the
behaviours the golden vectors do not pin down (encode-side checks, limits, linear streaming)."""

from __future__ import annotations

import copy
import importlib
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from apirpc_compiler.backends.python.emit_wire import WireGenError, generate_wire
from apirpc_compiler.ir.model import IR
from apirpc_compiler.ir.wire import build_wire

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------- IR


def test_build_wire_normalizes_the_dsl() -> None:
    doc: dict[str, Any] = {
        "errors": {"values": {"truncated": "cut"}},
        "protocols": {
            "p": {
                "family": "f",
                "version": "0xff00000e",
                "codes": {"K": {"closed": True, "values": {"a": {"value": "0x10", "struct": "S"}}}},
                "structs": {
                    "S": {
                        "variants": [{"code": "0x10", "flags": {"x": True}}, {"code": 17, "flags": {"y": True}}],
                        "fields": [
                            {"name": "type", "type": "varint", "codes": "K"},
                            {"name": "n", "type": "u8", "when": {"flag": "x", "is": False}},
                            {"name": "b", "type": "bytes", "length": {"field": "n"}},
                            {"name": "l", "type": "list", "count": "rest", "element": {"type": "u16"}},
                            {
                                "name": "s",
                                "type": "string",
                                "length": 4,
                                "when": {"field": "n", "op": "in", "value": ["0x1", 2]},
                            },
                            {"name": "e", "type": "struct", "struct": "S", "frame": "varint", "max_bytes": "0x10"},
                            {
                                "name": "x",
                                "type": "list",
                                "frame": "varint",
                                "min": 1,
                                "max": 3,
                                "element": {"type": "u8"},
                            },
                        ],
                    }
                },
                "streams": {"h": {"kind": "header_objects", "headers": {"S": {"object": "S", "args": {"a": "x"}}}}},
            }
        },
    }
    errors, protocols = build_wire(doc)
    assert errors == [{"name": "truncated", "words": ["truncated"], "doc": "cut"}]
    (p,) = protocols
    assert p["version"] == 0xFF00000E and p["codes"][0]["values"][0]["value"] == 0x10
    s = p["structs"][0]
    assert s["flags"] == ["x", "y"]
    assert s["variants"] == [
        {"code": 16, "flags": {"x": True, "y": False}},
        {"code": 17, "flags": {"x": False, "y": True}},
    ]
    f = {x["name"]: x for x in s["fields"]}
    assert f["type"]["type"]["closed"] is True
    assert f["n"]["when"] == {"op": "flag", "name": "x", "value": False}
    assert f["b"]["type"]["length"] == {"kind": "field", "field": "n", "size": None}
    assert f["l"]["type"]["length"] == {"kind": "rest", "field": None, "size": None}
    assert f["l"]["type"]["element"] is not None and f["l"]["type"]["element"]["type"] == "u16"
    assert f["s"]["type"]["length"] == {"kind": "fixed", "field": None, "size": 4}
    assert f["s"]["when"] == {"op": "in", "name": "n", "value": [1, 2]}
    assert f["e"]["type"]["frame"] == {"kind": "varint", "field": None, "size": None}
    assert f["e"]["type"]["max_bytes"] == 16 and f["e"]["type"]["length"] is None
    # A framed list: a varint byte frame, its elements run to the frame's end ("rest").
    assert f["x"]["type"]["frame"] == {"kind": "varint", "field": None, "size": None}
    assert f["x"]["type"]["length"] == {"kind": "rest", "field": None, "size": None}
    assert (f["x"]["type"]["min"], f["x"]["type"]["max"], f["x"]["type"]["max_bytes"]) == (1, 3, None)
    assert f["l"]["type"]["frame"] is None and f["b"]["type"]["frame"] is None
    assert p["streams"][0]["headers"] == [{"header": "S", "object": "S", "args": {"a": "x"}, "codes": [16, 17]}]


def test_ir_of_the_real_idl_has_both_protocols(ir: IR) -> None:
    names = [p["name"] for p in ir["wire"]]
    assert names[:2] == ["envelope", "moqt_d14"]
    moqt = ir["wire"][1]
    assert moqt["version"] == 0xFF00000E
    kinds = {s["name"]: s["kind"] for s in moqt["streams"]}
    assert kinds == {"control": "framed", "data": "header_objects", "datagram": "datagram"}


# ---------------------------------------------------------------------------- lint


def _tool(name: str) -> list[str]:
    if shutil.which(name) is None:
        pytest.skip(f"{name} is not installed")
    return [name]


def test_generated_wire_package_passes_mypy_strict_and_ruff(python_sdk: Path) -> None:
    pkg = python_sdk / "clutchcall" / "wire"
    assert (pkg / "_quic.py").is_file() and (pkg / "moqt_d14.py").is_file()
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--follow-imports=silent", str(pkg)],
        cwd=python_sdk,
        capture_output=True,
        text=True,
        check=False,
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    ruff = subprocess.run(
        [*_tool("ruff"), "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(pkg)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr


# ---------------------------------------------------------------------------- behaviour


@pytest.fixture(scope="module")
def mods(python_sdk: Path) -> tuple[Any, Any, Any]:
    return (
        importlib.import_module("clutchcall.wire.envelope"),
        importlib.import_module("clutchcall.wire.moqt_d14"),
        importlib.import_module("clutchcall.errors"),
    )


def _envelope(env: Any, **kw: Any) -> Any:
    fields: dict[str, Any] = {"kind": 0, "flags": 0, "method_id": 257, "request_id": 1, "payload": b"x"}
    fields.update(kw)
    return env.Envelope(**fields)


@pytest.mark.parametrize(
    "bad",
    [
        {"version": 2},
        {"kind": 9},
        {"flags": 4},
        {"method_id": 2**32},
        {"request_id": 2**62},
        {"payload": b"\0" * (16777217)},
    ],
)
def test_encode_checks_the_declaration(mods: tuple[Any, Any, Any], bad: dict[str, Any]) -> None:
    env, _, errors = mods
    with pytest.raises(errors.EncodeError):
        _envelope(env, **bad).encode()


def test_conditional_fields_must_match_their_condition(mods: tuple[Any, Any, Any]) -> None:
    _, moqt, errors = mods
    kvp = moqt.KeyValuePair
    assert kvp.decode(kvp(type_=2, int_value=5).encode()) == kvp(type_=2, int_value=5)
    assert kvp(type_=3, bytes_value=b"ab").encode() == bytes([3, 2]) + b"ab"
    for bad in (kvp(type_=2), kvp(type_=2, int_value=1, bytes_value=b""), kvp(type_=3, int_value=1)):
        with pytest.raises(errors.EncodeError):
            bad.encode()


def test_variant_flags_drive_presence_and_unknown_types(mods: tuple[Any, Any, Any]) -> None:
    _, moqt, errors = mods
    hdr = moqt.SubgroupHeader(type_=0x14, track_alias=1, group_id=2, subgroup_id=3, publisher_priority=4)
    assert moqt.SubgroupHeader.decode(hdr.encode()) == hdr
    with pytest.raises(errors.EncodeError):
        moqt.SubgroupHeader(type_=0x16, track_alias=1, group_id=2, publisher_priority=4).encode()
    with pytest.raises(errors.DecodeError) as e:
        moqt.SubgroupHeader.decode(bytes([0x16, 1, 2, 4]))
    assert e.value.reason == "unknown_type"


def test_framed_encode_and_limits(mods: tuple[Any, Any, Any]) -> None:
    _, moqt, errors = mods
    msg = moqt.MaxRequestId(request_id=100)
    frame = moqt.encode_control(msg)
    assert frame == bytes([0x15, 0, 2, 0x40, 100])
    parser = moqt.ControlParser()
    assert parser.feed(frame) == [(0x15, msg)]
    with pytest.raises(errors.EncodeError):
        moqt.encode_control(msg, code=0x16)
    with pytest.raises(errors.EncodeError):
        moqt.encode_control(moqt.Location(group=1, object_=2))
    small = moqt.ControlParser(max_buffer=8)
    with pytest.raises(errors.DecodeError) as e:
        small.feed(bytes([0x15, 0, 9]))
    assert e.value.reason == "too_large"


def test_unknown_control_type_fails_before_its_body_arrives(mods: tuple[Any, Any, Any]) -> None:
    _, moqt, errors = mods
    with pytest.raises(errors.DecodeError) as e:
        moqt.ControlParser().feed(bytes([0x3F, 0xFF, 0xFF]))
    assert e.value.reason == "unknown_type" and e.value.offset == 0


def test_sequence_buffer_limit(mods: tuple[Any, Any, Any]) -> None:
    env, _, errors = mods
    parser = env.RpcParser(max_buffer=64)
    head = _envelope(env, payload=b"\0" * 1000).encode()[:100]
    with pytest.raises(errors.DecodeError) as e:
        parser.feed(head)
    assert e.value.reason == "too_large"


def test_streaming_a_large_message_byte_by_byte_is_linear(mods: tuple[Any, Any, Any]) -> None:
    env, moqt, _ = mods
    payload = bytes(range(256)) * 1200  # ~300 KB: a quadratic parser would take minutes
    data = _envelope(env, payload=payload).encode() * 2
    parser = env.RpcParser()
    start = time.monotonic()
    got: list[Any] = []
    for i in range(len(data)):
        got += parser.feed(data[i : i + 1])
    parser.close()
    assert [m.payload for m in got] == [payload, payload]
    obj = moqt.SubgroupObject(object_id_delta=0, payload=payload)
    hdr = moqt.SubgroupHeader(type_=0x10, track_alias=1, group_id=2, publisher_priority=3)
    stream = moqt.encode_data(hdr, [obj])
    data_parser = moqt.DataParser()
    items: list[Any] = []
    for i in range(0, len(stream), 3):
        items += data_parser.feed(stream[i : i + 3])
    data_parser.close()
    assert items == [hdr, obj]
    assert time.monotonic() - start < 30


# ---------------------------------------------------------------------------- byte frames


def test_moqt_extension_headers_are_a_byte_framed_list(mods: tuple[Any, Any, Any]) -> None:
    _, moqt, errors = mods
    kvp = moqt.KeyValuePair
    headers = [kvp(type_=0x3C, int_value=2), kvp(type_=0x4D, bytes_value=b"x")]
    obj = moqt.SubgroupObject(object_id_delta=0, extension_headers=headers, payload=b"z")
    # Extension Headers Length counts BYTES (6: 3c 02 | 40 4d 01 78), not the 2 pairs.
    wire = obj.encode(has_extensions=True)
    assert wire.hex() == "00" + "063c02404d0178" + "01" + "7a"
    assert moqt.SubgroupObject.decode(wire, has_extensions=True) == obj
    assert obj.to_json()["extension_headers"] == [{"type": 60, "int_value": 2}, {"type": 77, "bytes_value": "78"}]
    empty = moqt.SubgroupObject(object_id_delta=0, extension_headers=[], payload=b"z")
    assert empty.encode(has_extensions=True).hex() == "0000017a"  # an empty block is fine on streams
    # ... but a datagram whose type says "extensions present" needs at least one header.
    dg = moqt.ObjectDatagram(
        type_=1, track_alias=1, group_id=2, object_id=3, publisher_priority=4, extension_headers=[], payload=b""
    )
    with pytest.raises(errors.EncodeError, match="at least 1"):
        dg.encode()
    with pytest.raises(errors.DecodeError) as e:
        moqt.ObjectDatagram.decode(bytes([1, 1, 2, 3, 4, 0]))
    assert (e.value.reason, e.value.offset) == ("invalid_value", 5)


def test_moqt_namespace_needs_one_to_32_fields(mods: tuple[Any, Any, Any]) -> None:
    _, moqt, errors = mods
    ns = moqt.TrackNamespace
    with pytest.raises(errors.EncodeError, match="at least 1"):
        ns(fields=[]).encode()
    with pytest.raises(errors.EncodeError):
        ns(fields=[b"f"] * 33).encode()
    with pytest.raises(errors.DecodeError) as e:
        ns.decode(b"\x00")
    assert (e.value.reason, e.value.offset) == ("invalid_value", 0)
    assert ns.decode(ns(fields=[b"a"] * 32).encode()) == ns(fields=[b"a"] * 32)


_TOY_WIRE: dict[str, Any] = {
    "errors": {"values": {}},
    "protocols": {
        "toy": {
            "doc": "A toy protocol with byte frames.",
            "family": "toy",
            "version": 1,
            "structs": {
                "Pair": {
                    "fields": [{"name": "k", "type": "varint"}, {"name": "v", "type": "bytes", "length": "varint"}]
                },
                "Box": {"fields": [{"name": "a", "type": "varint"}]},
                "Msg": {
                    "fields": [
                        {
                            "name": "pairs",
                            "type": "list",
                            "frame": "varint",
                            "max_bytes": 8,
                            "min": 1,
                            "max": 3,
                            "element": {"type": "struct", "struct": "Pair"},
                        },
                        {"name": "box", "type": "struct", "struct": "Box", "frame": "varint", "max_bytes": 6},
                        {"name": "n", "type": "u8"},
                    ]
                },
            },
            "streams": {"m": {"doc": "Messages back to back.", "kind": "sequence", "message": "Msg"}},
        }
    },
}


@pytest.fixture(scope="module")
def toy(ir: IR, python_sdk: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """A generated package for `_TOY_WIRE`, beside a copy of the SDK's errors module."""
    toy_ir: Any = dict(ir)
    toy_ir["decode_errors"], toy_ir["wire"] = build_wire(_TOY_WIRE)
    root = tmp_path_factory.mktemp("toy")
    pkg = root / "toywire"
    (pkg / "wire").mkdir(parents=True)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    shutil.copy(python_sdk / "clutchcall" / "errors.py", pkg / "errors.py")
    for f in generate_wire(toy_ir):
        (pkg / "wire" / Path(f.path).name).write_text(f.content, encoding="utf-8")
    ruff = subprocess.run(
        [*_tool("ruff"), "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(pkg)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module("toywire.wire.toy"), importlib.import_module("toywire.errors")
    finally:
        sys.path.remove(str(root))


def _msg(toy_mod: Any, pairs: list[tuple[int, bytes]], a: int = 5) -> Any:
    return toy_mod.Msg(pairs=[toy_mod.Pair(k=k, v=v) for k, v in pairs], box=toy_mod.Box(a=a), n=7)


def test_framed_list_and_struct_round_trip(toy: tuple[Any, Any]) -> None:
    mod, _ = toy
    msg = _msg(mod, [(1, b"a")])
    assert msg.encode().hex() == "03010161" + "0105" + "07"
    assert mod.Msg.decode(msg.encode()) == msg
    three = _msg(mod, [(1, b""), (2, b""), (3, b"ab")])  # 8 bytes: exactly max_bytes, exactly max
    assert mod.Msg.decode(three.encode()) == three


@pytest.mark.parametrize(
    ("hexs", "reason", "offset"),
    [
        ("09", "too_large", 1),  # frame above max_bytes: too_large before the bytes are looked for
        ("05" + "0100", "length_past_end", 1),  # frame longer than the input
        ("00" + "0105" + "07", "invalid_value", 0),  # no pairs: below min 1
        ("08" + "0100" * 4 + "0105" + "07", "too_large", 7),  # a 4th pair: above max 3
        ("02" + "0105" + "6162636465" + "0105" + "07", "length_past_end", 3),  # a pair's value overruns the frame
        ("01" + "4100" + "0105" + "07", "truncated", 1),  # a pair's varint is cut by the frame
        ("03010161" + "020500" + "07", "trailing_bytes", 6),  # the struct leaves a byte of its frame
        ("03010161" + "07" + "00" * 7, "too_large", 5),  # struct frame above max_bytes 6
    ],
)
def test_framed_decode_errors(toy: tuple[Any, Any], hexs: str, reason: str, offset: int) -> None:
    mod, errors = toy
    with pytest.raises(errors.DecodeError) as e:
        mod.Msg.decode(bytes.fromhex(hexs))
    assert (e.value.reason, e.value.offset) == (reason, offset), e.value


@pytest.mark.parametrize(
    ("pairs", "a", "match"),
    [
        ([], 5, "at least 1"),
        ([(1, b"")] * 4, 5, "at most 3"),
        ([(1, b"1234567")], 5, "9 bytes, at most 8"),
        ([(1, b"")], 2**62 - 1, "8 bytes, at most 6"),
    ],
)
def test_framed_encode_errors(toy: tuple[Any, Any], pairs: list[tuple[int, bytes]], a: int, match: str) -> None:
    mod, errors = toy
    with pytest.raises(errors.EncodeError, match=match):
        _msg(mod, pairs, a).encode()


def test_list_read_to_its_end_needs_non_empty_elements(ir: IR) -> None:
    doc: Any = copy.deepcopy(_TOY_WIRE)
    structs = doc["protocols"]["toy"]["structs"]
    structs["Nothing"] = {"fields": []}
    structs["Msg"]["fields"][0]["element"] = {"type": "struct", "struct": "Nothing"}
    bad: Any = dict(ir)
    bad["decode_errors"], bad["wire"] = build_wire(doc)
    with pytest.raises(WireGenError, match="at least one byte"):
        generate_wire(bad)
