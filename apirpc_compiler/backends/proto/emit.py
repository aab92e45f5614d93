"""Render the IR as one proto3 file. Pure string building: deterministic, "\\n" line endings."""

from __future__ import annotations

import json
from collections import Counter

from ...ir.model import IR, Enum, Field, JsonValue, Message, Method, Reserved, Service
from ...ir.naming import proto_json_name
from ..base import header_lines
from ..common import line_doc, type_index
from .namer import enum_value_name, rpc_name, service_name

WIDTH = 100
INDENT = "  "


def _comment(text: str, indent: str) -> list[str]:
    """`//` lines of `text`, its line breaks kept as paragraph breaks (an empty `//` between)."""
    if not text.strip():
        return []
    return [line for para in text.split("\n") for line in line_doc(para, WIDTH, indent, "//") or [f"{indent}//"]]


def _json_literal(value: JsonValue) -> str:
    return json.dumps(value, ensure_ascii=False)


def _reserved(res: Reserved, names: list[str], indent: str) -> list[str]:
    out: list[str] = []
    if res["numbers"]:
        parts = [str(lo) if lo == hi else f"{lo} to {hi}" for lo, hi in res["numbers"]]
        out.append(f"{indent}reserved {', '.join(parts)};")
    if names:
        out.append(f"{indent}reserved {', '.join(json.dumps(n) for n in names)};")
    return out


def _enum(enum: Enum) -> list[str]:
    out = _comment(enum["doc"], "")
    t = enum["transitions"]
    if t is not None:
        out.append("//")
        out.append("// Transitions (monotonic; enforced by generated code, not by protobuf):")
        for src, dsts in t["edges"].items():
            if dsts:
                out.append(f"//   {src} -> {', '.join(dsts)}")
        out.append(f"// initial: {', '.join(t['initial'])}; terminal: {', '.join(t['terminal'])}")
    out.append(f"enum {enum['name']} {{")
    reserved_names = [enum_value_name(enum, n) for n in enum["reserved"]["names"]]
    res = _reserved(enum["reserved"], reserved_names, INDENT)
    out.extend(res)
    if res:
        out.append("")
    for i, v in enumerate(enum["values"]):
        if i:
            out.append("")
        out.extend(_comment(v["doc"], INDENT))
        if v["attributes"]:
            attrs = ", ".join(f"{k}: {_json_literal(v['attributes'][k])}" for k in sorted(v["attributes"]))
            out.append(f"{INDENT}// ({attrs})")
        out.append(f"{INDENT}{v['json_name']} = {v['number']};")
    out.append("}")
    return out


def _field_type(f: Field) -> str:
    return f["type"]["name"]


def _field(f: Field, indent: str, in_oneof: bool, enums: dict[str, Enum]) -> list[str]:
    out = _comment(f["doc"], indent)
    default = f["default"]
    if default is not None:
        # proto3 has no defaults: say it in a comment, with the protobuf spelling of enum values.
        if f["type"]["kind"] == "enum" and isinstance(default, str):
            shown = enum_value_name(enums[f["type"]["name"]], default)
        else:
            shown = _json_literal(default)
        out.append(f"{indent}// Default when unset: {shown}.")
    label = ""
    if f["label"] == "repeated":
        label = "repeated "
    elif f["label"] == "optional" and not in_oneof:
        label = "optional "
    options: list[str] = []
    if f["json_name"] != proto_json_name(f["name"]):
        options.append(f"json_name = {json.dumps(f['json_name'])}")
    if f["deprecated"]:
        options.append("deprecated = true")
    opts = f" [{', '.join(options)}]" if options else ""
    out.append(f"{indent}{label}{_field_type(f)} {f['name']} = {f['number']}{opts};")
    return out


def _message(msg: Message, enums: dict[str, Enum]) -> list[str]:
    out = _comment(msg["doc"], "")
    out.append(f"message {msg['name']} {{")
    body: list[list[str]] = []
    res = _reserved(msg["reserved"], msg["reserved"]["names"], INDENT)
    if res:
        body.append(res)
    oneofs = {o["name"]: o for o in msg["oneofs"]}
    by_name = {f["name"]: f for f in msg["fields"]}
    emitted: set[str] = set()
    # Fields in declaration order; a oneof block sits where its first member is declared.
    for f in msg["fields"]:
        if f["name"] in emitted:
            continue
        oneof = f["oneof"]
        if oneof is None:
            body.append(_field(f, INDENT, in_oneof=False, enums=enums))
            emitted.add(f["name"])
            continue
        o = oneofs[oneof]
        block = _comment(o["doc"], INDENT)
        block.append(f"{INDENT}oneof {o['name']} {{")
        for i, member in enumerate(o["fields"]):
            if i:
                block.append("")
            block.extend(_field(by_name[member], INDENT * 2, in_oneof=True, enums=enums))
            emitted.add(member)
        block.append(f"{INDENT}}}")
        body.append(block)
    if not body:
        out.append(out.pop() + "}")
        return out
    for i, chunk in enumerate(body):
        if i:
            out.append("")
        out.extend(chunk)
    out.append("}")
    return out


def _standard_names(svc: Service, m: Method) -> tuple[set[str], set[str]]:
    base = service_name(svc).removesuffix("Service")
    rn = rpc_name(m)
    return {f"{rn}Request", f"{base}{rn}Request"}, {f"{rn}Response", f"{base}{rn}Response"}


def _rpc(svc: Service, m: Method, uses: Counter[str]) -> list[str]:
    out = _comment(m["doc"], INDENT)
    facts = [f"Method id {m['id']}"]
    if m["http"] is not None:
        h = m["http"]
        facts.append(f"HTTP {h['method']} {h['path']}" + (f" (body: {h['body']})" if h["body"] else ""))
    out.append(f"{INDENT}// {'; '.join(facts)}.")
    # The IDL names DTOs by what they are, not by the rpc that carries them; say so to buf
    # instead of renaming (buf: allow_comment_ignores).
    req_ok, resp_ok = _standard_names(svc, m)
    ignores = []
    if m["request"] not in req_ok:
        ignores.append("RPC_REQUEST_STANDARD_NAME")
    if m["response"] not in resp_ok:
        ignores.append("RPC_RESPONSE_STANDARD_NAME")
    if uses[m["request"]] > 1 or uses[m["response"]] > 1 or m["request"] == m["response"]:
        ignores.append("RPC_REQUEST_RESPONSE_UNIQUE")
    out.extend(f"{INDENT}// buf:lint:ignore {rule}" for rule in ignores)
    req = ("stream " if m["streaming"] in ("client", "bidi") else "") + m["request"]
    resp = ("stream " if m["streaming"] in ("server", "bidi") else "") + m["response"]
    head = f"{INDENT}rpc {rpc_name(m)}({req}) returns ({resp})"
    if m["idempotent"]:
        out.append(head + " {")
        out.append(f"{INDENT * 2}option idempotency_level = IDEMPOTENT;")
        out.append(f"{INDENT}}}")
    else:
        out.append(head + ";")
    return out


def _service(svc: Service, uses: Counter[str]) -> list[str]:
    out = _comment(svc["doc"], "")
    kind = "Legacy method-id service" if svc["legacy"] else "Service"
    out.append(f"// {kind} {svc['name']} of the IDL.")
    if svc["reserved_ids"] or svc["reserved_names"]:
        ids = [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in svc["reserved_ids"]]
        parts = ([f"method ids {', '.join(ids)}"] if ids else []) + (
            [f"names {', '.join(svc['reserved_names'])}"] if svc["reserved_names"] else []
        )
        out.append(f"// Reserved (never reuse): {'; '.join(parts)}.")
    out.append(f"service {service_name(svc)} {{")
    for i, m in enumerate(svc["methods"]):
        if i:
            out.append("")
        out.extend(_rpc(svc, m, uses))
    out.append("}")
    return out


def render_proto(ir: IR) -> str:
    lines = [f"// {h}" for h in header_lines(ir)]
    lines.append("")
    lines.extend(_comment(ir["doc"], ""))
    lines.append('syntax = "proto3";')
    lines.append("")
    lines.append(f"package {ir['package']};")
    uses: Counter[str] = Counter()
    for svc in ir["services"]:
        for m in svc["methods"]:
            uses[m["request"]] += 1
            uses[m["response"]] += 1
    blocks = [_enum(e) for e in ir["enums"]]
    enums = type_index(ir).enums
    blocks += [_message(m, enums) for m in ir["messages"]]
    blocks += [_service(s, uses) for s in ir["services"]]
    for block in blocks:
        lines.append("")
        lines.extend(block)
    return "\n".join(lines) + "\n"
