"""Text helpers of the docs backend: anchors, links, table cells, and wire layouts in words.

Anchors are explicit (`<a id="...">`) rather than derived from headings, so links do not
depend on a Markdown renderer's slug rules. Anchors are lower case, which is why
`anchor_clashes` reports names that differ only by case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from ...ir import model as m
from ...ir.wire import code_sets_by_name

SERVICES_DIR = "services"

# Prose may mention `<sid>`-style placeholders; outside code spans they would vanish as HTML.
_CODE_SPAN = re.compile(r"(`[^`]*`)")


def prose(text: str) -> str:
    parts = _CODE_SPAN.split(text)
    return "".join(p if p.startswith("`") else p.replace("<", "&lt;").replace(">", "&gt;") for p in parts)


def cell(text: str) -> str:
    """Text fit for one Markdown table cell."""
    return prose(text).replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>").strip()


def code(text: object) -> str:
    s = str(text)
    return f"`` {s} ``" if "`" in s else f"`{s}`"


def hex_int(n: int) -> str:
    return f"0x{n:02x}"


def json_value(v: m.JsonValue) -> str:
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


# ---- anchors and file names ----


def message_anchor(name: str) -> str:
    return "msg-" + name.lower()


def enum_anchor(name: str) -> str:
    return "enum-" + name.lower()


def service_file(name: str) -> str:
    return f"{SERVICES_DIR}/{name}.md"


def method_anchor(name: str) -> str:
    return "method-" + name.lower()


def wire_anchor(protocol: str, kind: str, name: str) -> str:
    return f"{protocol}-{kind}-{name}".lower()


def service_anchor(name: str) -> str:
    return "svc-" + re.sub(r"[^a-z0-9]+", "-", name.lower())


class Links:
    """Markdown links as seen from one generated page (`page` is its path under docs/)."""

    def __init__(self, page: str) -> None:
        self.page = page
        self.up = "../" * page.count("/")

    def to(self, page: str, anchor: str | None = None) -> str:
        target = "" if page == self.page else self.up + page
        return target + (f"#{anchor}" if anchor else "")

    def message(self, name: str) -> str:
        return f"[{name}]({self.to('messages.md', message_anchor(name))})"

    def enum(self, name: str) -> str:
        return f"[{name}]({self.to('enums.md', enum_anchor(name))})"

    def type(self, ref: m.TypeRef) -> str:
        if ref["kind"] == "message":
            return self.message(ref["name"])
        if ref["kind"] == "enum":
            return self.enum(ref["name"])
        return code(ref["name"])

    def type_name(self, name: str, ir: m.IR) -> str:
        """A link for a bare message or enum name (method request/response, auth claims)."""
        if any(e["name"] == name for e in ir["enums"]):
            return self.enum(name)
        return self.message(name)

    def service(self, name: str) -> str:
        return f"[{name}]({self.to(service_file(name))})"

    def method(self, service: str, method: str) -> str:
        return f"[{method}]({self.to(service_file(service), method_anchor(method))})"


# ---- messages and enums ----


def presence(f: m.Field) -> str:
    if f["oneof"]:
        return f"oneof {code(f['oneof'])}"
    if f["label"] == "repeated":
        return "repeated, packed" if f["packed"] else "repeated"
    if f["label"] == "optional":
        return "optional (explicit presence)"
    return "implicit"


def ranges(rs: list[list[int]]) -> str:
    return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in rs)


def incoming(t: m.Transitions) -> dict[str, list[str]]:
    into: dict[str, list[str]] = {s: [] for s in t["edges"]}
    for src, dsts in t["edges"].items():
        for d in dsts:
            into.setdefault(d, []).append(src)
    return into


def methods_by_id(ir: m.IR) -> list[tuple[m.Service, m.Method]]:
    return sorted(((s, mt) for s in ir["services"] for mt in s["methods"]), key=lambda sm: sm[1]["id"])


# ---- wire protocols ----


def _length(length: m.WireLength | None, unit: str) -> str:
    if length is None:
        return ""
    kind = length["kind"]
    if kind == "varint":
        return f"varint {unit}"
    if kind == "rest":
        return "to the end of the frame"
    if kind == "field":
        return f"{unit} from {code(length['field'])}"
    return f"exactly {length['size']} {'bytes' if unit == 'length' else 'elements'}"


def _frame(t: m.WireType) -> str:
    """ " in a varint byte-length frame[ of at most N bytes]", or "" for an unframed value."""
    frame = t["frame"]
    if frame is None:
        return ""
    kind = frame["kind"]
    if kind == "varint":
        text = " in a varint byte-length frame"
    elif kind == "field":
        text = f" in a byte frame of length {code(frame['field'] or '')}"
    elif kind == "fixed":
        text = f" in a frame of exactly {frame['size']} bytes"
    else:
        text = " in the rest of the frame"
    if t["max_bytes"] is not None:
        text += f" of at most {t['max_bytes']} bytes"
    return text


def _element_bounds(t: m.WireType) -> list[str]:
    out = []
    if t["min"]:
        out.append(f"at least {t['min']}")
    if t["max"] is not None:
        out.append(f"max {t['max']} elements")
    return out


def wire_encoding(t: m.WireType, links: Links, protocol: str) -> str:
    """`varint`, `u16`, `bytes (varint length, max 1024)`, `list of … (varint count, max 32)`,
    `list of … in a varint byte-length frame, at least 1`."""
    kind = t["type"]
    if kind == "struct":
        name = t["struct"] or ""
        return f"[{name}]({links.to('wire.md', wire_anchor(protocol, 'struct', name))})" + _frame(t)
    if kind in ("bytes", "string"):
        extras = [_length(t["length"], "length")]
        if t["max"] is not None:
            extras.append(f"max {t['max']} bytes")
        label = "string (UTF-8" if kind == "string" else "bytes ("
        sep = ", " if kind == "string" else ""
        return f"{label}{sep}{', '.join(x for x in extras if x)})"
    if kind == "list":
        element = t["element"]
        inner = wire_encoding(element, links, protocol) if element is not None else "?"
        if t["frame"] is not None:
            # The elements fill the frame: there is no count to show, only the bounds.
            return f"list of {inner}{_frame(t)}" + "".join(", " + x for x in _element_bounds(t))
        extras = [_length(t["length"], "count"), *_element_bounds(t)]
        return f"list of {inner} ({', '.join(x for x in extras if x)})"
    return code(kind)


def wire_constraints(t: m.WireType, links: Links, protocol: str) -> str:
    out: list[str] = []
    if t["const"] is not None:
        out.append(f"= {hex_int(t['const'])}")
    if t["codes"]:
        link = f"[{t['codes']}]({links.to('wire.md', wire_anchor(protocol, 'codes', t['codes']))})"
        out.append(f"a value of {link}" if t["closed"] else f"a value of {link} or unknown (open set)")
    if t["type"] not in ("bytes", "string", "list"):
        if t["min"] is not None:
            out.append(f"≥ {t['min']}")
        if t["max"] is not None:
            out.append(f"≤ {t['max']}")
    if t["mask"] is not None:
        out.append(f"bits outside {hex_int(t['mask'])} are zero")
    if t["type"] == "list" and t["element"] is not None:
        inner = wire_constraints(t["element"], links, protocol)
        if inner:
            out.append(f"each element: {inner}")
    return "; ".join(out)


def _or(items: list[str], last: str = "or") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def wire_condition(cond: m.WireCond | None, struct: m.WireStruct, codes: dict[str, m.WireCodeSet]) -> str:
    """A `when` condition in words: "when `filter_type` is 3 (`absolute_start`) or 4 (`absolute_range`)"."""
    if cond is None:
        return "always"
    op, name, value = cond["op"], cond["name"], cond["value"]
    if op == "flag":
        truth = "true" if value else "false"
        if name in struct["args"]:
            return f"when the stream header sets {code(name)} to {truth}"
        matching = [hex_int(v["code"]) for v in struct["variants"] if v["flags"].get(name, False) is bool(value)]
        suffix = f" (type {_or(matching)})" if matching else ""
        return f"when the type's {code(name)} flag is {truth}{suffix}"
    if op in ("even", "odd"):
        return f"when {code(name)} is {op}"
    field_codes = _field_codes(struct, name, codes)

    def show(n: m.JsonValue) -> str:
        label = field_codes.get(n) if isinstance(n, int) else None
        return f"{n} ({code(label)})" if label else str(n)

    values = value if isinstance(value, list) else [value]
    shown = [show(v) for v in values if isinstance(v, int)]
    if op == "eq":
        return f"when {code(name)} is {shown[0] if shown else json_value(value)}"
    if op == "ne":
        return f"when {code(name)} is not {shown[0] if shown else json_value(value)}"
    if op == "in":
        return f"when {code(name)} is {_or(shown)}"
    return (
        f"when {code(name)} is neither {_or(shown, 'nor')}"
        if len(shown) > 1
        else f"when {code(name)} is not {_or(shown)}"
    )


def _field_codes(struct: m.WireStruct, field: str, codes: dict[str, m.WireCodeSet]) -> dict[int, str]:
    for f in struct["fields"]:
        if f["name"] == field and f["type"]["codes"] in codes:
            return {c["value"]: c["name"] for c in codes[f["type"]["codes"] or ""]["values"]}
    return {}


def code_map(protocol: m.WireProtocol) -> dict[str, m.WireCodeSet]:
    return code_sets_by_name(protocol)


def struct_codes(protocol: m.WireProtocol) -> dict[str, list[tuple[str, m.WireCode]]]:
    """For each struct, the code set entries that name it (shown next to its heading)."""
    out: dict[str, list[tuple[str, m.WireCode]]] = {}
    for cs in protocol["codes"]:
        for c in cs["values"]:
            if c["struct"]:
                out.setdefault(c["struct"], []).append((cs["name"], c))
    return out


# ---- anchor clashes (check_names) ----


def clashes(items: Iterable[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(key, pointer) pairs -> (pointer, clashing pointer, key) for every key seen twice."""
    seen: dict[str, str] = {}
    out: list[tuple[str, str, str]] = []
    for key, pointer in items:
        if key in seen:
            out.append((pointer, seen[key], key))
        else:
            seen[key] = pointer
    return out
