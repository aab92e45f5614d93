"""TypeScript source text helpers: doc comments, string literals and literal layout that
`prettier --check` accepts as it is (the generator never runs a formatter)."""

from __future__ import annotations

import json

from ..common import block_doc

WIDTH = 80


def ts_str(s: str) -> str:
    """A string literal in prettier's quote choice (double, unless that needs more escapes)."""
    dq = json.dumps(s, ensure_ascii=False)
    if '"' in s and "'" not in s:
        return "'" + dq[1:-1].replace('\\"', '"') + "'"
    return dq


def jsdoc(text: str, indent: int = 0) -> list[str]:
    """A `/** ... */` block of `text` (empty text gives no lines)."""
    return block_doc(text.replace("*/", "* /"), WIDTH, " " * indent)


def array(items: list[str], indent: int, prefix: str, suffix: str) -> list[str]:
    """`prefix[a, b]suffix` on one line when it fits, else one item per line (no numbers-only
    arrays: prettier fills those)."""
    pad = " " * indent
    one = f"{pad}{prefix}[{', '.join(items)}]{suffix}"
    # Prettier always breaks an array of two or more arrays (or objects) of 2+ entries.
    nested = len(items) > 1 and all(i.startswith("[") and ", " in i for i in items)
    if len(one) <= WIDTH and not nested:
        return [one]
    out = [f"{pad}{prefix}["]
    for i in items:
        out.append(f"{pad}  {i},")
    out.append(f"{pad}]{suffix}")
    return out


def named_imports(names: list[str], prefix: str, suffix: str) -> list[str]:
    """`import { a, b } from "x";` on one line when it fits, else one name per line."""
    one = f"{prefix}{{ {', '.join(names)} }}{suffix}"
    if len(one) <= WIDTH:
        return [one]
    return [f"{prefix}{{", *(f"  {x}," for x in names), f"}}{suffix}"]


def obj(pairs: list[tuple[str, list[str]]], indent: int, prefix: str, suffix: str) -> list[str]:
    """An object literal, always expanded (prettier keeps objects expanded when the source
    breaks after `{`). Each value is given as its lines, laid out at indentation 0."""
    pad = " " * indent
    out = [f"{pad}{prefix}{{"]
    for key, value in pairs:
        first, *rest = value
        line = f"{pad}  {key}: {first}"
        # Prettier keeps short keys (under 5 columns) on the value's line regardless.
        if not rest and len(line) + 1 > WIDTH and first[:1] in "\"'" and len(key) >= 5:
            # A string that does not fit moves to its own line (prettier's assignment layout).
            out += [f"{pad}  {key}:", f"{pad}    {first},"]
            continue
        out.append(line + ("" if rest else ","))
        if rest:
            inner = pad + "  "
            out.extend(inner + x for x in rest[:-1])
            out.append(inner + rest[-1] + ",")
    out.append(f"{pad}}}{suffix}")
    return out


def call(lhs: str, fn: str, args: list[str], last: list[str], tail: str, indent: int = 0) -> list[str]:
    """`lhs = fn(a, b, <last>)tail` with the last argument (lines laid out at indentation 0):
    hugged when its first line fits, else every argument on its own line; when even
    `lhs = fn(` does not fit, the call moves to the next line (prettier's fluid layout)."""
    pad = " " * indent
    head = f"{pad}{lhs} = {fn}" if lhs else f"{pad}{fn}"
    first = f"{head}({', '.join([*args, last[0]])}"
    if len(last) == 1 and len(first) + 1 + len(tail) <= WIDTH:
        return [first + ")" + tail]
    if len(last) > 1 and len(first) <= WIDTH:
        return [first, *(pad + x for x in last[1:-1]), pad + last[-1] + ")" + tail]
    if lhs and len(head) + 1 > WIDTH:
        return [f"{pad}{lhs} =", *call("", fn, args, last, tail, indent + 2)]
    out = [f"{head}("]
    out += [f"{pad}  {a}," for a in args]
    out += [pad + "  " + x for x in last[:-1]]
    out.append(pad + "  " + last[-1] + ",")
    out.append(pad + ")" + tail)
    return out


def signature(indent: int, head: str, params: list[str], tail: str) -> list[str]:
    """`head(p1, p2)tail`, or one parameter per line when it does not fit."""
    pad = " " * indent
    one = f"{pad}{head}({', '.join(params)}){tail}"
    if len(one) <= WIDTH:
        return [one]
    return [f"{pad}{head}(", *(f"{pad}  {p}," for p in params), f"{pad}){tail}"]
