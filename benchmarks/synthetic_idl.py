"""A large synthetic IDL for the compile benchmark, and the equivalent `.proto`.

Default size: 2,000 messages of 20 fields each (a realistic mix: scalars of every type,
optional scalars with defaults, repeated scalars, enums, message references, repeated
messages, a oneof in every tenth message), 100 enums, and 500 methods in 5 services. It is
deterministic (a seeded RNG), so every run benchmarks the same input.

    python benchmarks/synthetic_idl.py --out /tmp/bench     # writes synthetic.json, synthetic.proto
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

SCALARS = [
    "bool", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
    "fixed32", "fixed64", "sfixed32", "sfixed64", "float", "double", "string", "bytes",
]  # fmt: skip
# Weighted towards what real APIs use most.
COMMON_SCALARS = ["string"] * 5 + ["int64", "uint32", "bool", "int32", "double", "bytes", "uint64"]
NUMERIC_SCALARS = ["int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "double", "float"]
WORDS = [
    "name", "count", "status", "created_at", "updated_at", "payload", "owner", "score", "ratio", "flags",
    "parent", "region", "label", "token", "size", "offset", "limit", "version", "kind", "priority",
]  # fmt: skip
SERVICES = ["bench.alpha", "bench.beta", "bench.gamma", "bench.delta", "bench.epsilon"]
DEFAULTS: dict[str, Any] = {
    "bool": True, "int32": -7, "int64": 1000, "uint32": 42, "uint64": 9, "sint32": -1, "sint64": -2,
    "fixed32": 5, "fixed64": 6, "sfixed32": -3, "sfixed64": -4, "float": 0.5, "double": 2.25,
    "string": "none", "bytes": "",
}  # fmt: skip


_QUERY = "BenchQuery"


def _message_name(i: int) -> str:
    return f"Entity{i:04d}"


def _enum_name(i: int) -> str:
    return f"Kind{i:03d}"


_REAL_IDL: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "api" / "clutchcall.json").read_text(encoding="utf-8")
)


def build(
    messages: int = 2000, fields: int = 20, methods: int = 500, enums: int = 100, seed: int = 1
) -> dict[str, Any]:
    rng = random.Random(seed)
    doc: dict[str, Any] = {
        "idl": 1,
        "package": "bench.v1",
        "doc": f"Synthetic benchmark API: {messages} messages x {fields} fields, {methods} methods.",
        "enums": {},
        "messages": {},
        "services": {},
        # The decode-error reasons every generated codec reports (as in api/clutchcall.json).
        "wire": {"errors": _REAL_IDL["wire"]["errors"]},
    }
    for e in range(enums):
        values = {"unspecified": {"number": 0, "doc": "Not set."}}
        for v in range(1, 8):
            values[f"value_{v}"] = {"number": v, "doc": f"Value {v} of {_enum_name(e)}."}
        doc["enums"][_enum_name(e)] = {"doc": f"Synthetic enum {e}.", "values": values}
    for i in range(messages):
        fdoc: dict[str, Any] = {"id": {"number": 1, "type": "string", "doc": "Identifier (HTTP path variable)."}}
        oneof = i % 10 == 0
        for n in range(2, fields + 1):
            name = f"{WORDS[(i + n) % len(WORDS)]}_{n}"
            spec: dict[str, Any] = {"number": n, "doc": f"Field {n} of {_message_name(i)}."}
            slot = n % 10
            if slot in (0, 1, 2, 3):  # plain scalars
                spec["type"] = rng.choice(COMMON_SCALARS if slot else SCALARS)
            elif slot == 4:  # optional scalar with a default
                t = rng.choice([*NUMERIC_SCALARS, "string", "bool"])
                spec.update(type=t, optional=True, default=DEFAULTS[t])
            elif slot == 5:  # repeated scalar (packed when numeric)
                spec.update(type=rng.choice([*NUMERIC_SCALARS, "string"]), repeated=True)
            elif slot == 6:  # enum
                spec["type"] = _enum_name(rng.randrange(enums))
                if n > 10:
                    spec["optional"] = True
            elif slot in (7, 8):  # a reference to another message
                spec["type"] = _message_name(rng.randrange(messages))
            else:  # repeated messages
                spec.update(type=_message_name(rng.randrange(messages)), repeated=True)
            if oneof and n in (fields - 1, fields) and not spec.get("repeated"):
                spec.pop("optional", None)
                spec.pop("default", None)
                spec["oneof"] = "choice"
            fdoc[name] = spec
        mdoc: dict[str, Any] = {"doc": f"Synthetic message {i}.", "fields": fdoc}
        if any(f.get("oneof") for f in fdoc.values()):
            mdoc["oneofs"] = {"choice": {"doc": "One of two."}}
        doc["messages"][_message_name(i)] = mdoc
    doc["messages"][_QUERY] = {
        "doc": "The request of every GET method: scalars only, as query parameters.",
        "fields": {
            "id": {"number": 1, "type": "string", "doc": "Identifier."},
            "page_size": {"number": 2, "type": "uint32", "doc": "Page size."},
            "filter": {"number": 3, "type": "string", "doc": "Filter expression."},
            "tags": {"number": 4, "type": "string", "repeated": True, "doc": "Tags."},
        },
    }
    per_service = -(-methods // len(SERVICES))
    for k in range(methods):
        svc = SERVICES[k // per_service]
        mname = f"{WORDS[k % len(WORDS)]}_op_{k}"
        spec = {
            "id": 1000 + k,
            "request": _message_name(rng.randrange(messages)),
            "response": _message_name(rng.randrange(messages)),
            "idempotent": k % 2 == 0,
            "doc": f"Synthetic method {k}.",
        }
        if k % 3 == 0:
            spec["http"] = {"method": "POST", "path": f"/v1/{svc.split('.')[1]}/{{id}}/op{k}", "body": "*"}
        elif k % 3 == 1:
            # A GET carries its request as query parameters, which cannot hold repeated messages; and GET is
            # idempotent (both are validate rules).
            spec.update(request=_QUERY, idempotent=True)
            spec["http"] = {"method": "GET", "path": f"/v1/{svc.split('.')[1]}/op{k}"}
        if k % 25 == 24:
            spec["streaming"] = "server"
        doc["services"].setdefault(svc, {"doc": f"Synthetic service {svc}.", "methods": {}})["methods"][mname] = spec
    return doc


# ---- a standalone .proto emitter (used when the compiler has no `proto` target) ----


def _upper_snake(name: str) -> str:
    out = ""
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out += "_"
        out += ch.upper()
    return out


def to_proto(doc: dict[str, Any]) -> str:
    lines = ['syntax = "proto3";', "", f"package {doc['package']};", ""]
    for name, e in doc["enums"].items():
        lines.append(f"enum {name} {{")
        for v, spec in e["values"].items():
            lines.append(f"  {_upper_snake(name)}_{v.upper()} = {spec['number']};")
        lines += ["}", ""]
    for name, msg in doc["messages"].items():
        lines.append(f"message {name} {{")
        oneof_fields = [(f, s) for f, s in msg["fields"].items() if s.get("oneof")]
        for fname, s in msg["fields"].items():
            if s.get("oneof"):
                continue
            label = "repeated " if s.get("repeated") else "optional " if s.get("optional") else ""
            lines.append(f"  {label}{s['type']} {fname} = {s['number']};")
        if oneof_fields:
            lines.append(f"  oneof {oneof_fields[0][1]['oneof']} {{")
            lines += [f"    {s['type']} {f} = {s['number']};" for f, s in oneof_fields]
            lines.append("  }")
        lines += ["}", ""]
    for name, svc in doc["services"].items():
        lines.append(f"service {''.join(w.capitalize() for w in name.split('.'))} {{")
        for mname, m in svc["methods"].items():
            stream = "stream " if m.get("streaming") == "server" else ""
            rpc = "".join(w.capitalize() for w in mname.split("_"))
            lines.append(f"  rpc {rpc}({m['request']}) returns ({stream}{m['response']});")
        lines += ["}", ""]
    return "\n".join(lines)


def write(out: Path, **sizes: int) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    doc = build(**sizes)
    idl = out / "synthetic.json"
    idl.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    proto = out / "synthetic.proto"
    proto.write_text(to_proto(doc), encoding="utf-8")
    return idl, proto


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--fields", type=int, default=20)
    ap.add_argument("--methods", type=int, default=500)
    args = ap.parse_args()
    idl, proto = write(args.out, messages=args.messages, fields=args.fields, methods=args.methods)
    print(f"wrote {idl} and {proto}")


if __name__ == "__main__":
    main()
