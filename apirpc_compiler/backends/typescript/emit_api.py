"""services.ts (method IDs and service descriptors) and bridges.ts (bridges, track kinds, the tenant
token) of the TypeScript target."""

from __future__ import annotations

from ...ir.model import IR
from .namer import TsNamer
from .text import array, jsdoc, obj, ts_str


def services_ts(ir: IR, n: TsNamer) -> list[str]:
    out = ['import type { ServiceDescriptor } from "./service_types.js";']
    for s in ir["services"]:
        for m in s["methods"]:
            out.append("")
            out += jsdoc(f"{s['name']}.{m['name']}: {m['doc']}")
            out.append(f"export const {n.const_name(['method', *s['words'], *m['words']])} = {m['id']};")
    for s in ir["services"]:
        methods: list[str] = []
        for m in s["methods"]:
            http = m["http"]
            hp: list[str]
            if http is None:
                hp = ["undefined"]
            else:
                hp = obj(
                    [
                        ("method", [ts_str(http["method"])]),
                        ("path", [ts_str(http["path"])]),
                        ("pathParams", array([ts_str(x) for x in http["path_params"]], 0, "", "")),
                        ("body", [ts_str(http["body"]) if http["body"] is not None else "undefined"]),
                    ],
                    0,
                    "",
                    "",
                )
            body = obj(
                [
                    ("name", [ts_str(m["name"])]),
                    ("id", [n.const_name(["method", *s["words"], *m["words"]])]),
                    ("request", [ts_str(m["request"])]),
                    ("response", [ts_str(m["response"])]),
                    ("idempotent", ["true" if m["idempotent"] else "false"]),
                    ("streaming", [ts_str(m["streaming"])]),
                    ("http", hp),
                    ("doc", [ts_str(m["doc"])]),
                ],
                4,
                "",
                ",",
            )
            methods += body
        out.append("")
        out += jsdoc(s["doc"] or s["name"])
        out.append(f"export const {n.const_name([*s['words'], 'service'])}: ServiceDescriptor = {{")
        out.append(f"  name: {ts_str(s['name'])},")
        out.append(f"  legacy: {'true' if s['legacy'] else 'false'},")
        out.append("  methods: [")
        out += [x for x in methods]
        out.append("  ],")
        out.append("};")
    out.append("")
    out += jsdoc("Every service of the API.")
    out += array(
        [n.const_name([*s["words"], "service"]) for s in ir["services"]],
        0,
        "export const SERVICES: readonly ServiceDescriptor[] = ",
        ";",
    )
    ranges = [f"[{lo}, {hi}]" for s in ir["services"] for lo, hi in s["reserved_ids"]]
    out += jsdoc("Method IDs retired from use (inclusive ranges): never reuse them.")
    out += array(ranges, 0, "export const RESERVED_METHOD_IDS: readonly (readonly [number, number])[] = ", ";")
    return out


# ---- bridges.ts ----


def bridges_ts(ir: IR, n: TsNamer) -> list[str]:
    out = ['import type { Bridge, TrackKind } from "./service_types.js";']
    out.append("")
    out += jsdoc("The MoQT track kinds by name.")
    out.append("export const TRACK_KINDS: Readonly<Record<string, TrackKind>> = {")
    for k in ir["track_kinds"]:
        out += obj(
            [
                ("name", [ts_str(k["name"])]),
                ("delivery", array([ts_str(x) for x in k["delivery"]], 0, "", "")),
                ("priority", [ts_str(k["priority"])]),
                ("doc", [ts_str(k["doc"])]),
            ],
            2,
            f"{k['name']}: ",
            ",",
        )
    out.append("};")
    for b in ir["bridges"]:
        const = n.const_name(b["words"])
        out.append("")
        out += jsdoc(b["doc"] or b["name"])
        out.append(f"export const {const}: Bridge = {{")
        out.append(f"  name: {ts_str(b['name'])},")
        out.append(f"  namespace: {ts_str(b['namespace'])},")
        out.append(f"  capability: {ts_str(b['capability'])},")
        out.append("  tracks: [")
        for t in b["tracks"]:
            out += obj(
                [("name", [ts_str(t["name"])]), ("kind", [ts_str(t["kind"])]), ("doc", [ts_str(t["doc"])])],
                4,
                "",
                ",",
            )
        out.append("  ],")
        out.append("  roles: [")
        for r in b["roles"]:
            out += obj(
                [
                    ("name", [ts_str(r["name"])]),
                    ("publish", array([ts_str(x) for x in r["publish"]], 0, "", "")),
                    ("subscribe", array([ts_str(x) for x in r["subscribe"]], 0, "", "")),
                    ("doc", [ts_str(r["doc"])]),
                ],
                4,
                "",
                ",",
            )
        out.append("  ],")
        out.append("};")
        for t in b["tracks"]:
            fn = n.prop_name([*b["words"], *t["words"], "track"])
            out.append("")
            out += jsdoc(f"The full name of the {t['name']} track of call `sid` ({t['doc']}).")
            out += [
                f"export function {fn}(sid: string): string {{",
                f'  return {const}.namespace.replace("{{sid}}", sid) + {ts_str("/" + t["name"])};',
                "}",
            ]
        if "{codec}" in b["capability"]:
            fn = n.prop_name([*b["words"], "capability"])
            out.append("")
            out += jsdoc("The capability tag of a codec (its IDL value name, e.g. `opus`).")
            out += [
                f"export function {fn}(codec: string): string {{",
                f'  return {const}.capability.replace("{{codec}}", codec);',
                "}",
            ]
    auth = ir["auth"]
    if auth is not None:
        out.append("")
        out += jsdoc(auth["doc"])
        out.append(f"export const AUTH_SCHEME = {ts_str(auth['scheme'])};")
        out += jsdoc("The IDL name of the message holding the token's claims.")
        out.append(f"export const AUTH_CLAIMS = {ts_str(auth['claims'])};")
    return out
