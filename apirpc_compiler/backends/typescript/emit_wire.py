"""wire/<protocol>.ts of the TypeScript target: code sets, struct types and codecs, streams.

Each module carries its protocol's codec plan (ir/plan.py) whole, as data that wire/runtime.ts
runs: every check, its order, its reason, every limit and each stream's state machine come
from there. What this file decides is the TypeScript side only: each struct's interface and
field table (names, properties, number or bigint), the code-set constants and each stream's
item type. No protocol is special-cased.
"""

from __future__ import annotations

import json

from ...ir import model as m
from ...ir import plan
from ...ir.wire import code_sets_by_name, structs_by_name
from ..common import INT_MAX
from .namer import TsNamer
from .text import array, call, jsdoc, obj, ts_str

# Integers up to 32 bits are exact in a JS number, so they are `number`; varints (62 bits) and
# u64 stay `bigint`. The runtime computes in bigint and converts at the edges.
NARROW_INTS = ("u8", "u16", "u32")


def narrow_code_sets(proto: m.WireProtocol) -> set[str]:
    """Code sets whose constants are `number`: every field declared with the set is at most 32
    bits wide, or no field is declared with it and its values are the bits of a narrow masked
    field (the envelope's flags byte)."""
    used: dict[str, set[str]] = {}
    masks: list[int] = []

    def walk(t: m.WireType) -> None:
        if t["codes"] is not None:
            used.setdefault(t["codes"], set()).add(t["type"])
        if t["mask"] is not None and t["type"] in NARROW_INTS:
            masks.append(t["mask"])
        if t["element"] is not None:
            walk(t["element"])

    for s in proto["structs"]:
        for f in s["fields"]:
            walk(f["type"])
    out: set[str] = set()
    for c in proto["codes"]:
        if c["name"] in used:
            if used[c["name"]] <= set(NARROW_INTS):
                out.add(c["name"])
        elif c["values"] and any(all(v["value"] & ~mask == 0 for v in c["values"]) for mask in masks):
            out.add(c["name"])
    return out


def _exact(v: m.JsonValue) -> m.JsonValue:
    """The plan's JSON with integers above 2^53 - 1 as decimal strings (JSON.parse would round them)."""
    if isinstance(v, dict):
        return {k: _exact(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_exact(x) for x in v]
    if isinstance(v, int) and not isinstance(v, bool) and v > (1 << 53) - 1:
        return str(v)
    return v


class WireEmitter:
    def __init__(self, proto: m.WireProtocol, namer: TsNamer) -> None:
        self.p = proto
        self.n = namer
        self.structs = structs_by_name(proto)
        self.codes = code_sets_by_name(proto)
        self.narrow_codes = narrow_code_sets(proto)

    def ts_type(self, t: m.WireType) -> str:
        k = t["type"]
        if k in INT_MAX:
            return "number" if k in NARROW_INTS else "bigint"
        if k == "bytes":
            return "Uint8Array"
        if k == "string":
            return "string"
        if k == "struct":
            return self.n.type_name(self.structs[t["struct"] or ""]["words"])
        assert t["element"] is not None
        return f"{self.ts_type(t['element'])}[]"

    def version_is_narrow(self) -> bool:
        """Whether VERSION is a `number`: the fields that carry it (whose constant it is) are all
        at most 32 bits wide, as the envelope's u8 version is, so `e.version === VERSION` checks."""
        carriers = {
            f["type"]["type"] for s in self.p["structs"] for f in s["fields"] if f["type"]["const"] == self.p["version"]
        }
        return bool(carriers) and carriers <= set(NARROW_INTS)

    def type_spec(self, t: m.WireType) -> list[str]:
        pairs: list[tuple[str, list[str]]] = [("type", [ts_str(t["type"])])]
        if t["element"] is not None:
            pairs.append(("element", self.type_spec(t["element"])))
        if t["struct"] is not None:
            pairs.append(("struct", [ts_str(t["struct"])]))
        return obj(pairs, 0, "", "")

    def module(self) -> list[str]:
        p, n = self.p, self.n
        out = [
            'import type { CodeSet, Protocol, StreamItemOf, WireStruct } from "./runtime.js";',
            'import { wireStream, wireStruct } from "./runtime.js";',
            'import type { ProtocolPlan } from "./runtime.js";',
            "",
            f"/** The protocol family of `{p['name']}`. */",
            f"export const FAMILY = {ts_str(p['family'])};",
            "/** The protocol version. */",
            f"export const VERSION = {p['version']}{'' if self.version_is_narrow() else 'n'};",
            "/** The ALPN token, when the protocol has one. */",
            f"export const ALPN: string | undefined = {ts_str(p['alpn']) if p['alpn'] else 'undefined'};",
            "",
            "/** The codec plan of this protocol (docs/plan.md), which wire/runtime.ts runs. */",
            "const PLAN: ProtocolPlan = JSON.parse(",
            f"  {ts_str(json.dumps(_exact(plan.to_json(plan.lower_protocol(p))), separators=(',', ':')))},",
            ");",
            *obj(
                [("name", [ts_str(p["name"])]), ("structs", ["new Map()"]), ("plan", ["PLAN"])],
                0,
                "const PROTOCOL: Protocol = ",
                ";",
            ),
        ]
        for c in p["codes"]:
            name = n.type_name(c["words"])
            out.append("")
            doc = (c["doc"] or c["name"]) + (
                " Closed: other values are rejected." if c["closed"] else " Open: unknown values are kept."
            )
            out += jsdoc(doc)
            out.append(f"export const {name} = {{")
            suffix = "" if c["name"] in self.narrow_codes else "n"
            for v in c["values"]:
                out += jsdoc(v["doc"], 2)
                out.append(f"  {n.const_name(v['words'])}: {v['value']}{suffix},")
            out.append("} as const;")
            out += jsdoc(f"The IDL names of the {c['name']} values.")
            out.append(f"export const {name}Codes: CodeSet = {{")
            out.append(f"  name: {ts_str(c['name'])},")
            out.append(f"  closed: {'true' if c['closed'] else 'false'},")
            pairs = [f"[{v['value']}n, {ts_str(v['name'])}]" for v in c["values"]]
            out += array(pairs, 2, "names: new Map<bigint, string>(", "),")
            out.append("};")
        for s in p["structs"]:
            out += ["", *self.struct(s)]
        for st in p["streams"]:
            out += ["", *self.stream(st)]
        return out

    def struct(self, s: m.WireStruct) -> list[str]:
        n = self.n
        name = n.type_name(s["words"])
        out = jsdoc(s["doc"] or s["name"])
        out.append(f"export interface {name} {{")
        for f in s["fields"]:
            doc = f["doc"] or f["name"]
            if f["when"] is not None:
                doc += " (Present only when its condition holds.)"
            out += jsdoc(doc, 2)
            q = "?" if f["when"] is not None else ""
            out.append(f"  {n.prop_name(f['words'])}{q}: {self.ts_type(f['type'])};")
        out.append("}")
        out += jsdoc(f"The codec of {s['name']}.")
        spec = ["{", f"  name: {ts_str(s['name'])},"]
        if not s["fields"]:
            spec.append("  fields: [],")
        else:
            spec.append("  fields: [")
            for f in s["fields"]:
                pairs: list[tuple[str, list[str]]] = [
                    ("name", [ts_str(f["name"])]),
                    ("prop", [ts_str(n.prop_name(f["words"]))]),
                    ("type", self.type_spec(f["type"])),
                ]
                if f["when"] is not None:
                    pairs.append(("optional", ["true"]))
                spec += obj(pairs, 4, "", ",")
            spec.append("  ],")
        spec.append("}")
        out += call(f"export const {name}: WireStruct<{name}>", "wireStruct", ["PROTOCOL"], spec, ";")
        return out

    def item_structs(self, st: m.WireStream) -> list[str]:
        """The structs a stream's parser yields, in order of first appearance."""
        if st["kind"] in ("sequence", "datagram"):
            names = [st["message"] or ""]
        elif st["kind"] == "framed":
            names = [v["struct"] for v in self.codes[st["dispatch"] or ""]["values"] if v["struct"]]
        else:
            names = [x for h in st["headers"] for x in (h["header"], h["object"])]
        return list(dict.fromkeys(names))

    def stream(self, st: m.WireStream) -> list[str]:
        n = self.n
        var = n.prop_name([*st["words"], "stream"])
        alias = n.type_name([*st["words"], "stream", "item"])
        members = [f"StreamItemOf<{ts_str(x)}, {n.type_name(self.structs[x]['words'])}>" for x in self.item_structs(st)]
        out = jsdoc(f"An item of stream `{st['name']}`: narrow on `name` to get its typed `value`.")
        one = f"export type {alias} = {' | '.join(members)};"
        if len(one) <= 80:
            out.append(one)
        else:
            out.append(f"export type {alias} =")
            out += [f"  | {x}" for x in members]
            out[-1] += ";"
        out += jsdoc(f"Stream `{st['name']}` ({st['kind']}): {st['doc']}")
        out += call(f"export const {var}", f"wireStream<{alias}>", ["PROTOCOL"], [ts_str(st["name"])], ";")
        return out
