"""The `wire` section of the IDL -> the IR's decode error reasons and normalized wire protocols.

Everything is made explicit here so that backends never re-interpret the DSL: integers written
as "0x…" strings become ints, lengths, counts and byte frames become `WireLength` (a framed
list gets the element count "rest": its elements run to the frame's end), `when` becomes `WireCond`,
every variant carries a value for every flag of its struct, a field's code set carries its
`closed` bit, and a header_objects stream lists the type codes that select each header.
Order is declaration order throughout (JSON objects keep it), so the output is deterministic.
"""

from __future__ import annotations

from typing import Any

from . import model as m
from .naming import split_words

_INT_TYPES = ("varint", "u8", "u16", "u32", "u64")


def structs_by_name(proto: m.WireProtocol) -> dict[str, m.WireStruct]:
    """A protocol's structs by name: what a struct reference (`type.struct`, an embedded struct) names."""
    return {s["name"]: s for s in proto["structs"]}


def code_sets_by_name(proto: m.WireProtocol) -> dict[str, m.WireCodeSet]:
    """A protocol's code sets by name: what a field's `codes` and a stream's `dispatch` name."""
    return {c["name"]: c for c in proto["codes"]}


def wire_int(value: Any) -> int:
    """A `wire` integer: a JSON number or a "0x…" (or decimal) string."""
    if isinstance(value, bool):
        raise ValueError(f"not a wire integer: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value, 0)
    raise ValueError(f"not a wire integer: {value!r}")


def _opt_int(spec: dict[str, Any], key: str) -> int | None:
    return wire_int(spec[key]) if key in spec else None


def _length(value: Any) -> m.WireLength | None:
    if value is None:
        return None
    if value == "varint":
        return {"kind": "varint", "field": None, "size": None}
    if value == "rest":
        return {"kind": "rest", "field": None, "size": None}
    if isinstance(value, dict):
        return {"kind": "field", "field": str(value["field"]), "size": None}
    return {"kind": "fixed", "field": None, "size": wire_int(value)}


def _cond(when: dict[str, Any] | None) -> m.WireCond | None:
    if when is None:
        return None
    if "flag" in when:
        return {"op": "flag", "name": str(when["flag"]), "value": bool(when.get("is", True))}
    op = when["op"]
    value: m.JsonValue
    if op in ("in", "not_in"):
        value = [wire_int(v) for v in when["value"]]
    elif op in ("eq", "ne"):
        value = wire_int(when["value"])
    else:
        value = None
    return {"op": op, "name": str(when["field"]), "value": value}


def _type(spec: dict[str, Any], codes: dict[str, m.WireCodeSet]) -> m.WireType:
    t = spec["type"]
    code_set = spec.get("codes")
    length: m.WireLength | None = None
    frame: m.WireLength | None = None
    if t in ("bytes", "string"):
        length = _length(spec.get("length", "varint"))
    elif t == "list":
        # `count` counts elements; a `frame` is a byte-length prefix around them instead, and
        # the elements run to the end of that frame (made explicit as a "rest" count).
        frame = _length(spec.get("frame"))
        length = _length("rest" if frame is not None else spec.get("count", "varint"))
    elif t == "struct":
        frame = _length(spec.get("frame"))
    element = _type(spec["element"], codes) if t == "list" else None
    return {
        "type": t,
        "length": length,
        "element": element,
        "struct": spec.get("struct") if t == "struct" else None,
        "frame": frame,
        "max_bytes": _opt_int(spec, "max_bytes") if frame is not None else None,
        "max": _opt_int(spec, "max"),
        "min": _opt_int(spec, "min"),
        "const": _opt_int(spec, "const"),
        "codes": code_set,
        "closed": bool(code_set is not None and code_set in codes and codes[code_set]["closed"]),
        "mask": _opt_int(spec, "mask"),
    }


def _code_set(name: str, spec: dict[str, Any]) -> m.WireCodeSet:
    return {
        "name": name,
        "words": split_words(name),
        "doc": spec.get("doc", ""),
        "closed": bool(spec.get("closed", False)),
        "values": [
            {
                "name": v,
                "words": split_words(v),
                "value": wire_int(vs["value"]),
                "doc": vs.get("doc", ""),
                "struct": vs.get("struct"),
            }
            for v, vs in spec.get("values", {}).items()
        ],
    }


def _struct(name: str, spec: dict[str, Any], codes: dict[str, m.WireCodeSet]) -> m.WireStruct:
    raw_variants: list[dict[str, Any]] = list(spec.get("variants", []))
    flag_names = sorted({f for v in raw_variants for f in v.get("flags", {})})
    variants: list[m.WireVariant] = [
        {
            "code": wire_int(v["code"]),
            "flags": {f: bool(v.get("flags", {}).get(f, False)) for f in flag_names},
        }
        for v in raw_variants
    ]
    fields: list[m.WireField] = [
        {
            "name": f["name"],
            "words": split_words(f["name"]),
            "doc": f.get("doc", ""),
            "type": _type(f, codes),
            "when": _cond(f.get("when")),
        }
        for f in spec.get("fields", [])
    ]
    return {
        "name": name,
        "words": split_words(name),
        "doc": spec.get("doc", ""),
        "args": list(spec.get("args", [])),
        "flags": flag_names,
        "variants": variants,
        "fields": fields,
    }


def _header_codes(struct: m.WireStruct | None) -> list[int]:
    if struct is None:
        return []
    if struct["variants"]:
        return [v["code"] for v in struct["variants"]]
    if struct["fields"] and struct["fields"][0]["type"]["const"] is not None:
        return [struct["fields"][0]["type"]["const"]]
    return []


def _stream(name: str, spec: dict[str, Any], structs: dict[str, m.WireStruct]) -> m.WireStream:
    kind = spec["kind"]
    headers: list[m.WireStreamHeader] = [
        {
            "header": h,
            "object": hs["object"],
            "args": {str(k): str(v) for k, v in hs.get("args", {}).items()},
            "codes": _header_codes(structs.get(h)),
        }
        for h, hs in spec.get("headers", {}).items()
    ]
    return {
        "name": name,
        "words": split_words(name),
        "doc": spec.get("doc", ""),
        "kind": kind,
        "message": spec.get("message"),
        "type": spec.get("type", "varint") if kind == "framed" else None,
        "length": spec.get("length", "varint") if kind == "framed" else None,
        "dispatch": spec.get("dispatch"),
        "max": _opt_int(spec, "max"),
        "headers": headers,
    }


def _auth(spec: dict[str, Any]) -> m.WireAuth:
    return {"doc": spec.get("doc", ""), "method_id": spec["method_id"], "token": spec["token"]}


def _protocol(name: str, spec: dict[str, Any]) -> m.WireProtocol:
    code_sets = {n: _code_set(n, s) for n, s in spec.get("codes", {}).items()}
    structs = {n: _struct(n, s, code_sets) for n, s in spec.get("structs", {}).items()}
    return {
        "name": name,
        "words": split_words(name),
        "doc": spec.get("doc", ""),
        "family": spec.get("family", name),
        "version": wire_int(spec.get("version", 0)),
        "alpn": spec.get("alpn"),
        "auth": _auth(spec["auth"]) if "auth" in spec else None,
        "codes": list(code_sets.values()),
        "structs": list(structs.values()),
        "streams": [_stream(n, s, structs) for n, s in spec.get("streams", {}).items()],
    }


def build_wire(doc: dict[str, Any]) -> tuple[list[m.DecodeErrorReason], list[m.WireProtocol]]:
    errors: list[m.DecodeErrorReason] = [
        {"name": n, "words": split_words(n), "doc": d} for n, d in doc.get("errors", {}).get("values", {}).items()
    ]
    protocols = [_protocol(n, s) for n, s in doc.get("protocols", {}).items()]
    return errors, protocols
