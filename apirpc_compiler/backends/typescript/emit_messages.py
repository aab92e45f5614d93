"""enums.ts and messages.ts of the TypeScript target.

Messages are classes with typed properties; their codecs are table-driven: each class gets a
MessageType whose field table (generated here from the IR) the runtime in protowire.ts reads.
"""

from __future__ import annotations

from ...ir.model import IR, Enum, Field, Message
from ..common import type_index
from .namer import TsNamer
from .text import array, call, jsdoc, named_imports, obj, signature, ts_str

_SCALAR_TS = {
    "bool": "boolean",
    "string": "string",
    "bytes": "Uint8Array",
    "int64": "bigint",
    "uint64": "bigint",
    "sint64": "bigint",
    "fixed64": "bigint",
    "sfixed64": "bigint",
}
_ZERO = {"boolean": "false", "string": '""', "Uint8Array": "new Uint8Array(0)", "bigint": "0n", "number": "0"}


class MessagesEmitter:
    def __init__(self, ir: IR, namer: TsNamer) -> None:
        self.ir = ir
        self.n = namer
        self.types = type_index(ir)

    # ---- enums.ts ----

    def enums_ts(self) -> list[str]:
        out: list[str] = [
            'import { enumInfo } from "./protowire.js";',
            'import type { EnumInfo, EnumValue } from "./protowire.js";',
        ]
        for e in self.ir["enums"]:
            out += ["", *self._enum(e)]
        return out

    def _enum(self, e: Enum) -> list[str]:
        n = self.n
        name = n.type_name(e["words"])
        key = n.const_name(e["words"])
        out = jsdoc(e["doc"] or e["name"])
        out.append(f"export const {name} = {{")
        for v in e["values"]:
            out += jsdoc(v["doc"], 2)
            out.append(f"  {n.const_name(v['words'])}: {v['number']} as {name},")
        out.append("} as const;")
        out += jsdoc(
            f"A {e['name']} number, branded so that a value of another enum does not type-check. Enums are "
            f"open: numbers this version does not know are kept (`7 as {name}`)."
        )
        out.append(f"export type {name} = EnumValue<{ts_str(e['name'])}>;")
        out += jsdoc(f"The ProtoJSON names of {e['name']}.")
        pairs = [f"[{v['number']}, {ts_str(v['json_name'])}]" for v in e["values"]]
        out += array(pairs, 0, f"export const {name}Info: EnumInfo = enumInfo({ts_str(e['name'])}, ", ");")
        for a in e["attributes"]:
            ts_type = {"bool": "boolean", "string": "string"}.get(a["type"], "number")
            table = f"{key}_{n.const_name(a['words'])}"
            items = []
            for v in e["values"]:
                val = v["attributes"][a["name"]]
                lit = (
                    ts_str(val)
                    if isinstance(val, str)
                    else ("true" if val is True else "false" if val is False else str(val))
                )
                items.append(f"[{v['number']}, {lit}]")
            out += array(items, 0, f"const {table} = new Map<number, {ts_type}>(", ");")
            out += jsdoc(f"{a['doc'] or a['name']} (undefined for a number this version does not know).")
            fn = n.enum_fn(e["words"], a["words"])
            out += signature(0, f"export function {fn}", [f"value: {name}"], f": {ts_type} | undefined {{")
            out += [
                f"  return {table}.get(value);",
                "}",
            ]
        t = e["transitions"]
        if t is not None:
            num = {v["name"]: v["number"] for v in e["values"]}
            edges = [f"[{num[src]}, [{', '.join(str(num[d]) for d in dsts)}]]" for src, dsts in t["edges"].items()]
            out += array(edges, 0, f"const {key}_EDGES = new Map<number, readonly number[]>(", ");")
            out += jsdoc(f"The states a {e['name']} starts in.")
            out += array(
                [str(num[x]) for x in t["initial"]], 0, f"export const {key}_INITIAL: readonly number[] = ", ";"
            )
            out += jsdoc(f"The final states of {e['name']}.")
            out += array(
                [str(num[x]) for x in t["terminal"]], 0, f"export const {key}_TERMINAL: readonly number[] = ", ";"
            )
            can = n.enum_fn(e["words"], ["can", "transition"])
            term = n.enum_fn(e["words"], ["is", "terminal"])
            out += jsdoc(f"Whether a {e['name']} may move from `from` to `to`.")
            out += signature(0, f"export function {can}", [f"from: {name}", f"to: {name}"], ": boolean {")
            out += [
                f"  return {key}_EDGES.get(from)?.includes(to) ?? false;",
                "}",
            ]
            out += jsdoc(f"Whether `state` is a final {e['name']}.")
            out += signature(0, f"export function {term}", [f"state: {name}"], ": boolean {")
            out += [
                f"  return {key}_TERMINAL.includes(state);",
                "}",
            ]
        return out

    # ---- messages.ts ----

    def _elem_type(self, f: Field) -> str:
        t = f["type"]
        if t["kind"] == "scalar":
            return _SCALAR_TS.get(t["name"], "number")
        if t["kind"] == "enum":
            return self.n.type_name(self.types.enums[t["name"]]["words"])
        return self.n.type_name(self.types.messages[t["name"]]["words"])

    def _default_lit(self, f: Field) -> str:
        d = f["default"]
        t = f["type"]
        if t["kind"] == "enum":
            e = self.types.enums[t["name"]]
            v = next(v for v in e["values"] if v["name"] == d)
            return f"{self.n.type_name(e['words'])}.{self.n.const_name(v['words'])}"
        if isinstance(d, bool):
            return "true" if d else "false"
        if isinstance(d, str):
            return ts_str(d)
        if _SCALAR_TS.get(t["name"]) == "bigint":
            return f"{d}n"
        return str(d)

    def messages_ts(self) -> list[str]:
        n = self.n
        used_enums = sorted(
            {
                n.type_name(self.types.enums[f["type"]["name"]]["words"])
                for m in self.ir["messages"]
                for f in m["fields"]
                if f["type"]["kind"] == "enum"
            }
        )
        out: list[str] = []
        if used_enums:
            names = sorted(used_enums + [f"{x}Info" for x in used_enums])
            out += named_imports(names, "import ", ' from "./enums.js";')
        out += [
            'import type { JsonValue } from "./json.js";',
            'import { initMessage, Message, messageType } from "./protowire.js";',
            'import type { Init, JsonReadOptions, MessageType } from "./protowire.js";',
        ]
        for m in self.ir["messages"]:
            out += ["", *self._message_class(m)]
        for m in self.ir["messages"]:
            out += ["", *self._message_type(m)]
        return out

    def _oneof_alias(self, m: Message, words: list[str]) -> str:
        return self.n.type_name([*m["words"], *words])

    def _message_class(self, m: Message) -> list[str]:
        n = self.n
        cls = n.type_name(m["words"])
        out: list[str] = []
        for o in m["oneofs"]:
            alias = self._oneof_alias(m, o["words"])
            members = [
                f'{{ case: "{n.prop_name(f["words"])}"; value: {self._elem_type(f)} }}'
                for f in m["fields"]
                if f["oneof"] == o["name"]
            ]
            out += jsdoc(f"The oneof `{o['name']}` of {m['name']}: {o['doc']}".strip())
            one = f"export type {alias} = {' | '.join(members)};"
            if len(one) <= 80:
                out.append(one)
            else:
                out.append(f"export type {alias} =")
                out += [f"  | {x}" for x in members]
                out[-1] += ";"
            out.append("")
        out += jsdoc(m["doc"] or m["name"])
        out.append(f"export class {cls} extends Message {{")
        done: set[str] = set()
        for f in m["fields"]:
            if f["oneof"] is not None:
                if f["oneof"] in done:
                    continue
                done.add(f["oneof"])
                o = next(o for o in m["oneofs"] if o["name"] == f["oneof"])
                out += jsdoc(o["doc"] or o["name"], 2)
                out.append(f"  {n.prop_name(o['words'])}: {self._oneof_alias(m, o['words'])} | undefined = undefined;")
                continue
            et = self._elem_type(f)
            doc = f["doc"] or f["name"]
            if f["deprecated"]:
                doc += " @deprecated"
            out += jsdoc(doc, 2)
            prop = n.prop_name(f["words"])
            if f["label"] == "repeated":
                out.append(f"  {prop}: {et}[] = [];")
            elif f["label"] == "optional" or f["type"]["kind"] == "message":
                out.append(f"  {prop}: {et} | undefined = undefined;")
            else:
                zero = f"0 as {et}" if f["type"]["kind"] == "enum" else _ZERO.get(et, "0")
                out.append(f"  {prop}: {et} = {zero};")
        if out[-1].endswith("{"):
            out.append("  // No fields.")
        out += [
            "",
            "  /** Nested messages may be given as plain objects (`{ agent: { agentId } }`). */",
            f"  constructor(init?: Init<{cls}>) {{",
            "    super();",
            "    initMessage(this, init);",
            "  }",
            "",
            f"  get $type(): MessageType<{cls}> {{",
            f"    return {cls}Type;",
            "  }",
            "",
            "  /** Decode protobuf binary; throws only DecodeError. */",
            f"  static decode(data: Uint8Array): {cls} {{",
            f"    return {cls}Type.decode(data);",
            "  }",
            "",
            "  /** Read a parsed ProtoJSON value; throws only DecodeError. */",
            *signature(2, "static fromJson", ["value: JsonValue", "options?: JsonReadOptions"], f": {cls} {{"),
            f"    return {cls}Type.fromJson(value, options);",
            "  }",
            "",
            "  /** Parse ProtoJSON text; throws only DecodeError. */",
            *signature(2, "static fromJsonString", ["text: string", "options?: JsonReadOptions"], f": {cls} {{"),
            f"    return {cls}Type.fromJsonString(text, options);",
            "  }",
        ]
        for f in m["fields"]:
            if f["default"] is None:
                continue
            prop = n.prop_name(f["words"])
            out.append("")
            out += jsdoc(f"`{prop}`, or its default ({f['default']}) when it is absent.", 2)
            out += [
                f"  {n.or_default_name(f['words'])}(): {self._elem_type(f)} {{",
                f"    return this.{prop} ?? {self._default_lit(f)};",
                "  }",
            ]
        out.append("}")
        return out

    def _message_type(self, m: Message) -> list[str]:
        n = self.n
        cls = n.type_name(m["words"])
        fields: list[str] = ["[]"]
        if m["fields"]:
            fields = ["["]
            for f in m["fields"]:
                pairs: list[tuple[str, list[str]]] = [
                    ("no", [str(f["number"])]),
                    ("name", [ts_str(f["name"])]),
                ]
                if f["oneof"] is not None:
                    o = next(o for o in m["oneofs"] if o["name"] == f["oneof"])
                    pairs.append(("prop", [ts_str(n.prop_name(o["words"]))]))
                    pairs.append(("oneofCase", [ts_str(n.prop_name(f["words"]))]))
                else:
                    pairs.append(("prop", [ts_str(n.prop_name(f["words"]))]))
                pairs.append(("json", [ts_str(f["json_name"])]))
                t = f["type"]
                pairs.append(("type", [ts_str(t["name"] if t["kind"] == "scalar" else t["kind"])]))
                pairs.append(("label", [ts_str(f["label"])]))
                if f["packed"]:
                    pairs.append(("packed", ["true"]))
                if t["kind"] == "enum":
                    pairs.append(("enumInfo", [f"{n.type_name(self.types.enums[t['name']]['words'])}Info"]))
                if t["kind"] == "message":
                    pairs.append(("message", [ts_str(t["name"])]))
                fields += obj(pairs, 2, "", ",")
            fields.append("]")
        return call(
            f"const {cls}Type: MessageType<{cls}>",
            "messageType",
            [ts_str(m["name"]), f"() => new {cls}()"],
            fields,
            ";",
        )
