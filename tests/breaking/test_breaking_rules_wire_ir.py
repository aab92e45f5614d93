"""Wire-protocol rules that need edits in several coordinated places of the IDL (variants and
their dispatch codes, header args, stream grammars) are checked on the IR: deep copies of the
real compiled IR (with its moqt_d14 protocol), mutated, then compared."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from breaking_helpers import IDL

from apirpc_compiler.breaking.compare import compare
from apirpc_compiler.ir.model import IR, WireProtocol, WireStruct
from apirpc_compiler.pipeline import compile_idl

_IR = compile_idl(str(IDL))
MOQ = "/wire/protocols/moqt_d14"


def proto(ir: IR, name: str) -> WireProtocol:
    return next(p for p in ir["wire"] if p["name"] == name)


def struct(ir: IR, name: str, protocol: str = "moqt_d14") -> WireStruct:
    return next(s for s in proto(ir, protocol)["structs"] if s["name"] == name)


def findings(mutate: Callable[[IR], None]) -> set[tuple[str, str, str]]:
    new = copy.deepcopy(_IR)
    mutate(new)
    return {(f.rule, f.tier.name, f.pointer) for f in compare(copy.deepcopy(_IR), new)}


def _variant_index(ir: IR, s: str, code: int) -> int:
    return next(i for i, v in enumerate(struct(ir, s)["variants"]) if v["code"] == code)


def _remove_variant(ir: IR) -> None:
    struct(ir, "ObjectDatagram")["variants"].pop(_variant_index(ir, "ObjectDatagram", 0x21))


def _flip_variant(ir: IR) -> None:
    struct(ir, "ObjectDatagram")["variants"][_variant_index(ir, "ObjectDatagram", 0x20)]["flags"]["is_status"] = False


def _remove_struct(ir: IR) -> None:
    p = proto(ir, "moqt_d14")
    p["structs"] = [s for s in p["structs"] if s["name"] != "Goaway"]


def _dispatch_elsewhere(ir: IR) -> None:
    codes = next(c for c in proto(ir, "moqt_d14")["codes"] if c["name"] == "ControlMessageType")
    next(v for v in codes["values"] if v["name"] == "unsubscribe")["struct"] = "FetchCancel"


def _stream(ir: IR, name: str) -> Any:
    return next(s for s in proto(ir, "moqt_d14")["streams"] if s["name"] == name)


def _gated_field(flag: str, new_variant: bool) -> Callable[[IR], None]:
    """Add a field to ObjectDatagram conditional on `flag`, optionally with a new variant setting it."""

    def go(ir: IR) -> None:
        s = struct(ir, "ObjectDatagram")
        if new_variant:
            s["variants"].append({"code": 0x40, "flags": {**s["variants"][0]["flags"], flag: True}})
        field = copy.deepcopy(s["fields"][-1])
        field.update(name="trailer", words=["trailer"], when={"op": "flag", "name": flag, "value": True})
        s["fields"].append(field)

    return go


CASES: list[tuple[str, Callable[[IR], None], set[tuple[str, str, str]]]] = [
    (
        "wire-protocol-removed",
        lambda ir: ir["wire"].remove(proto(ir, "moqt_d14")),
        {("wire-protocol-removed", "WIRE", MOQ)},
    ),
    (
        "wire-protocol-alpn",
        lambda ir: proto(ir, "moqt_d14").update(alpn="moq-01"),
        {("wire-protocol-version-changed", "WIRE", f"{MOQ}/alpn")},
    ),
    ("wire-struct-removed", _remove_struct, {("wire-struct-removed", "WIRE", f"{MOQ}/structs/Goaway")}),
    (
        "wire-struct-args-changed",
        lambda ir: struct(ir, "SubgroupObject").update(args=[]),
        {("wire-struct-args-changed", "WIRE", f"{MOQ}/structs/SubgroupObject/args")},
    ),
    ("wire-struct-variant-removed", _remove_variant, set()),  # pointer computed in the test
    ("wire-struct-variant-changed", _flip_variant, set()),
    (
        "wire-code-struct-changed",
        _dispatch_elsewhere,
        {("wire-code-struct-changed", "WIRE", f"{MOQ}/codes/ControlMessageType/values/unsubscribe/struct")},
    ),
    (
        "wire-stream-removed",
        lambda ir: proto(ir, "moqt_d14")["streams"].remove(_stream(ir, "datagram")),
        {("wire-stream-removed", "WIRE", f"{MOQ}/streams/datagram")},
    ),
    (
        "wire-stream-changed",
        lambda ir: _stream(ir, "control").update(length="u32"),
        {("wire-stream-changed", "WIRE", f"{MOQ}/streams/control")},
    ),
    ("wire-struct-field-added-existing-flag", _gated_field("has_extensions", new_variant=False), set()),
]


@pytest.mark.parametrize("name,mutate,expected", CASES, ids=[c[0] for c in CASES])
def test_wire_rule(name: str, mutate: Callable[[IR], None], expected: set[tuple[str, str, str]]) -> None:
    got = findings(mutate)
    if name == "wire-struct-variant-removed":
        i = _variant_index(_IR, "ObjectDatagram", 0x21)
        expected = {("wire-struct-variant-removed", "WIRE", f"{MOQ}/structs/ObjectDatagram/variants/{i}")}
    elif name == "wire-struct-variant-changed":
        i = _variant_index(_IR, "ObjectDatagram", 0x20)
        expected = {("wire-struct-variant-changed", "WIRE", f"{MOQ}/structs/ObjectDatagram/variants/{i}")}
    elif name == "wire-struct-field-added-existing-flag":
        n = len(struct(_IR, "ObjectDatagram")["fields"])
        expected = {("wire-struct-field-added", "WIRE", f"{MOQ}/structs/ObjectDatagram/fields/{n}")}
    assert got == expected


def test_field_gated_by_a_new_variant_is_compatible() -> None:
    # Only the new variant 0x40 sets the new flag, so no byte sequence an old peer sends or
    # accepts changes meaning: the protocol grows without a break.
    assert findings(_gated_field("has_trailer", new_variant=True)) == set()


def test_identical_ir_has_no_findings() -> None:
    assert compare(copy.deepcopy(_IR), copy.deepcopy(_IR)) == []


def test_new_variant_and_open_code_are_compatible() -> None:
    def go(ir: IR) -> None:
        s = struct(ir, "ObjectDatagram")
        s["variants"].append({"code": 0x41, "flags": dict(s["variants"][0]["flags"])})
        codes = next(c for c in proto(ir, "moqt_d14")["codes"] if not c["closed"])
        codes["values"].append(
            {"name": "brand_new", "words": ["brand", "new"], "value": 0x3FFF, "doc": "", "struct": None}
        )

    assert findings(go) == set()


def _field_index(ir: IR, s: str, name: str) -> int:
    return next(i for i, f in enumerate(struct(ir, s)["fields"]) if f["name"] == name)


def _framed(ir: IR, s: str) -> Any:
    t = struct(ir, s)["fields"][_field_index(ir, s, "extension_headers")]["type"]
    assert t["frame"] is not None and t["length"] is not None and t["length"]["kind"] == "rest"
    return t


def _unframe(ir: IR) -> None:
    # The same KeyValuePair list, now counted instead of byte-framed: other bytes on the wire.
    _framed(ir, "SubgroupObject").update(frame=None, length={"kind": "varint", "field": None, "size": None})


def _relax_min(ir: IR) -> None:
    assert _framed(ir, "ObjectDatagram")["min"] == 1
    _framed(ir, "ObjectDatagram")["min"] = None


def _namespace_min(ir: IR) -> None:
    ns_type = struct(ir, "TrackNamespace")["fields"][0]["type"]
    assert (ns_type["min"], ns_type["max"]) == (1, 32)
    ns_type["min"] = 2


def _frame_bound(ir: IR) -> None:
    _framed(ir, "FetchObject")["max_bytes"] = 1024


@pytest.mark.parametrize(
    ("mutate", "s", "field", "keys"),
    [
        (_unframe, "SubgroupObject", "extension_headers", "frame, length"),
        (_relax_min, "ObjectDatagram", "extension_headers", "min"),
        (_namespace_min, "TrackNamespace", "fields", "min"),
        (_frame_bound, "FetchObject", "extension_headers", "max_bytes"),
    ],
    ids=["frame-removed", "min-relaxed", "namespace-min-raised", "max-bytes-added"],
)
def test_frame_and_element_bounds_are_wire_breaks(mutate: Callable[[IR], None], s: str, field: str, keys: str) -> None:
    # A byte frame changes the bytes; a changed min/max_bytes makes one side reject what the
    # other sends (relaxing min lets new encoders send what old decoders refuse).
    new = copy.deepcopy(_IR)
    mutate(new)
    got = compare(copy.deepcopy(_IR), new)
    j = _field_index(_IR, s, field)
    assert {(f.rule, f.tier.name, f.pointer) for f in got} == {
        ("wire-struct-field-changed", "WIRE", f"{MOQ}/structs/{s}/fields/{j}")
    }
    assert got[0].message.endswith(f"field {field} changed {keys}"), got[0].message
