"""IDL document -> IR. Runs only on a document that passed validation (frontend.validate)."""

from __future__ import annotations

import hashlib
import re
from typing import Any, cast

from . import model as m
from .model import SCALARS
from .naming import proto_json_name, split_words, upper_snake
from .wire import build_wire

_WIRE_TYPE = {
    "bool": 0,
    "int32": 0,
    "int64": 0,
    "uint32": 0,
    "uint64": 0,
    "sint32": 0,
    "sint64": 0,
    "fixed32": 5,
    "sfixed32": 5,
    "float": 5,
    "fixed64": 1,
    "sfixed64": 1,
    "double": 1,
    "string": 2,
    "bytes": 2,
}


def wire_type_of(kind: str, name: str) -> int:
    if kind == "enum":
        return 0
    if kind == "message":
        return 2
    return _WIRE_TYPE[name]


def _ranges(items: list[Any]) -> list[list[int]]:
    out: list[list[int]] = []
    for item in items:
        if isinstance(item, list):
            out.append([int(item[0]), int(item[1])])
        else:
            out.append([int(item), int(item)])
    return out


def _reserved(doc: dict[str, Any] | None, numbers_key: str = "numbers") -> m.Reserved:
    doc = doc or {}
    return {"numbers": _ranges(doc.get(numbers_key, [])), "names": list(doc.get("names", []))}


def _type_ref(type_name: str, enums: dict[str, Any]) -> m.TypeRef:
    if type_name in SCALARS:
        return {"kind": "scalar", "name": type_name}
    if type_name in enums:
        return {"kind": "enum", "name": type_name}
    return {"kind": "message", "name": type_name}


def enum_value_json_name(enum_name: str, value_name: str) -> str:
    return upper_snake(split_words(enum_name)) + "_" + value_name.upper()


def _build_enum(name: str, doc: dict[str, Any]) -> m.Enum:
    attributes: list[m.EnumAttribute] = [
        {"name": a, "words": split_words(a), "type": spec["type"], "doc": spec.get("doc", "")}
        for a, spec in doc.get("attributes", {}).items()
    ]
    values: list[m.EnumValue] = [
        {
            "name": v,
            "words": split_words(v),
            "number": spec["number"],
            "doc": spec.get("doc", ""),
            "json_name": enum_value_json_name(name, v),
            "attributes": dict(spec.get("attributes", {})),
        }
        for v, spec in doc["values"].items()
    ]
    transitions: m.Transitions | None = None
    if "transitions" in doc:
        t = doc["transitions"]
        edges: dict[str, list[str]] = {}
        for src, dsts in t.get("edges", {}).items():
            edges[src] = list(dsts)
        for state in [*t.get("initial", []), *t.get("terminal", []), *(d for ds in edges.values() for d in ds)]:
            edges.setdefault(state, [])
        ordered = {v["name"]: edges[v["name"]] for v in values if v["name"] in edges}
        transitions = {"initial": list(t["initial"]), "terminal": list(t["terminal"]), "edges": ordered}
    return {
        "name": name,
        "words": split_words(name),
        "doc": doc.get("doc", ""),
        "values": values,
        "attributes": attributes,
        "reserved": _reserved(doc.get("reserved")),
        "transitions": transitions,
    }


def _build_message(name: str, doc: dict[str, Any], enums: dict[str, Any]) -> m.Message:
    fields: list[m.Field] = []
    for fname, spec in doc.get("fields", {}).items():
        ref = _type_ref(spec["type"], enums)
        if spec.get("repeated"):
            label: m.Label = "repeated"
        elif spec.get("optional") or "oneof" in spec:
            label = "optional"
        else:
            label = "implicit"
        wt = wire_type_of(ref["kind"], ref["name"])
        fields.append(
            {
                "name": fname,
                "words": split_words(fname),
                "number": spec["number"],
                "doc": spec.get("doc", ""),
                "type": ref,
                "label": label,
                "oneof": spec.get("oneof"),
                "json_name": spec.get("json_name", proto_json_name(fname)),
                "wire_type": wt,
                "packed": label == "repeated" and wt in (0, 1, 5),
                "default": spec.get("default"),
                "deprecated": bool(spec.get("deprecated", False)),
            }
        )
    oneofs: list[m.Oneof] = [
        {
            "name": oname,
            "words": split_words(oname),
            "doc": odoc.get("doc", ""),
            "fields": [f["name"] for f in fields if f["oneof"] == oname],
        }
        for oname, odoc in doc.get("oneofs", {}).items()
    ]
    return {
        "name": name,
        "words": split_words(name),
        "doc": doc.get("doc", ""),
        "fields": fields,
        "oneofs": oneofs,
        "reserved": _reserved(doc.get("reserved")),
    }


_PATH_VAR = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def _build_service(name: str, doc: dict[str, Any]) -> m.Service:
    methods: list[m.Method] = []
    for mname, spec in doc["methods"].items():
        http: m.HttpRule | None = None
        if "http" in spec:
            h = spec["http"]
            http = {
                "method": h["method"],
                "path": h["path"],
                "path_params": _PATH_VAR.findall(h["path"]),
                "body": h.get("body"),
            }
        methods.append(
            {
                "name": mname,
                "words": split_words(mname),
                "id": spec["id"],
                "doc": spec.get("doc", ""),
                "request": spec["request"],
                "response": spec["response"],
                "idempotent": bool(spec.get("idempotent", False)),
                "streaming": spec.get("streaming", "none"),
                "http": http,
            }
        )
    reserved = doc.get("reserved", {})
    return {
        "name": name,
        "words": split_words(name),
        "doc": doc.get("doc", ""),
        "legacy": bool(doc.get("legacy", False)),
        "methods": methods,
        "reserved_ids": _ranges(reserved.get("ids", [])),
        "reserved_names": list(reserved.get("names", [])),
    }


def _build_bridge(name: str, doc: dict[str, Any]) -> m.Bridge:
    return {
        "name": name,
        "words": split_words(name),
        "doc": doc.get("doc", ""),
        "namespace": doc["namespace"],
        "capability": doc["capability"],
        "tracks": [
            {"name": t, "words": split_words(t), "kind": s["kind"], "doc": s.get("doc", "")}
            for t, s in doc["tracks"].items()
        ],
        "roles": [
            {
                "name": r,
                "words": split_words(r),
                "doc": s.get("doc", ""),
                "publish": list(s.get("publish", [])),
                "subscribe": list(s.get("subscribe", [])),
            }
            for r, s in doc["roles"].items()
        ],
    }


def build_ir(doc: dict[str, Any], source: bytes, source_name: str) -> m.IR:
    enums_doc: dict[str, Any] = doc.get("enums", {})
    auth_doc = doc.get("auth")
    decode_errors, protocols = build_wire(doc.get("wire", {}))
    return {
        "format": m.IR_FORMAT,
        "package": doc["package"],
        "package_words": split_words(doc["package"]),
        "source_sha256": hashlib.sha256(source).hexdigest(),
        "source_name": source_name,
        "doc": doc.get("doc", ""),
        "enums": [_build_enum(n, d) for n, d in enums_doc.items()],
        "messages": [_build_message(n, d, enums_doc) for n, d in doc.get("messages", {}).items()],
        "services": [_build_service(n, d) for n, d in doc.get("services", {}).items()],
        "track_kinds": [
            {
                "name": k,
                "doc": s.get("doc", ""),
                "delivery": list(s["delivery"]),
                "priority": s.get("priority", "per_track"),
            }
            for k, s in doc.get("tracks", {}).get("kinds", {}).items()
        ],
        "bridges": [_build_bridge(n, d) for n, d in doc.get("bridges", {}).items()],
        "auth": (
            cast(
                m.Auth,
                {"doc": auth_doc.get("doc", ""), "claims": auth_doc["claims"], "scheme": auth_doc.get("scheme", "jwt")},
            )
            if auth_doc
            else None
        ),
        "decode_errors": decode_errors,
        "wire": protocols,
    }
