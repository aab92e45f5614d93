"""Python source text helpers: literals, docstrings and tuples spelled as `ruff format` does."""

from __future__ import annotations

import textwrap

from ...ir.model import JsonValue

LINE = 120


def pyrepr(v: JsonValue) -> str:
    """A Python literal, with double quotes for strings (ruff's preference)."""
    if isinstance(v, str):
        r = repr(v)
        if r.startswith("'") and '"' not in v:
            r = '"' + r[1:-1].replace("\\'", "'") + '"'
        return r
    return repr(v)


def docstring(text: str, indent: int) -> str:
    """A triple-quoted docstring at `indent`, wrapped to fit the line length."""
    pad = " " * indent
    body = " ".join(text.split()).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if body.endswith('"'):
        body += " "
    one = f'{pad}"""{body}"""'
    if len(one) <= LINE:
        return one
    lines = textwrap.wrap(body, width=LINE - indent - 7, break_long_words=False, break_on_hyphens=False)
    out = [f'{pad}"""{lines[0]}']
    out.extend(pad + line for line in lines[1:])
    out.append(f'{pad}"""')
    return "\n".join(out)


def comment_block(lines: list[str]) -> str:
    return "".join(f"# {line}\n" for line in lines)


def tuple_lines(prefix: str, suffix: str, items: list[str], indent: int) -> list[str]:
    """`prefix(items)suffix` as ruff formats it: one line if it fits, else one item per line."""
    inner = items[0] + "," if len(items) == 1 else ", ".join(items)
    one = f"{prefix}({inner}){suffix}"
    if len(one) <= LINE:
        return [one]
    pad = " " * indent
    if suffix == ")":  # inside a call: the tuple gets its own lines too
        return [prefix, f"{pad}    (", *(f"{pad}        {it}," for it in items), f"{pad}    )", f"{pad})"]
    return [f"{prefix}(", *(f"{pad}    {it}," for it in items), f"{pad}){suffix}"]


def wrap_call(head: str, args: list[str], tail: str, indent: int) -> list[str]:
    """`head(args)tail` as ruff formats a call or def: one line, args on one line, or exploded."""
    pad = " " * indent
    one = f"{pad}{head}({', '.join(args)}){tail}"
    if len(one) <= LINE:
        return [one]
    middle = f"{pad}    {', '.join(args)}"
    if len(middle) <= LINE:
        return [f"{pad}{head}(", middle, f"{pad}){tail}"]
    return [f"{pad}{head}(", *(f"{pad}    {a}," for a in args), f"{pad}){tail}"]


def wrap_comprehension(lhs: str, open_: str, element: str, clause: str, close: str, indent: int) -> list[str]:
    """`lhs = [element for ...]` (or `{...}`) as ruff formats it."""
    pad = " " * indent
    one = f"{pad}{lhs}{open_}{element} {clause}{close}"
    if len(one) <= LINE:
        return [one]
    middle = f"{pad}    {element} {clause}"
    if len(middle) <= LINE:
        return [f"{pad}{lhs}{open_}", middle, f"{pad}{close}"]
    return [f"{pad}{lhs}{open_}", f"{pad}    {element}", f"{pad}    {clause}", f"{pad}{close}"]
