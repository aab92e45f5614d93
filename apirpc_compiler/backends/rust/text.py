"""Rust source text helpers: doc comments, literals and an indenting line buffer."""

from __future__ import annotations

import json
import re

from ..common import line_doc

WIDTH = 100

# `[pub[(crate)]] fn name(params) -> R {` on one line.
_SIGNATURE = re.compile(r"^(?P<head>(?:pub(?:\(crate\))? )?fn \w+(?:<[^>]*>)?)\((?P<params>.*)\)(?P<tail> -> .* \{)$")


def doc(text: str, indent: int, prefix: str = "///") -> list[str]:
    """`///` lines of `text` wrapped to fit 100 columns at `indent`."""
    return line_doc(text, WIDTH, " " * indent, prefix)


def rust_str(s: str) -> str:
    """A Rust string literal (JSON escapes are valid Rust escapes except \\u, handled here)."""
    out = []
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def runs(values: list[int]) -> list[tuple[int, int]]:
    """`values` as runs of consecutive integers (first, last), ascending."""
    out: list[tuple[int, int]] = []
    for v in sorted(set(values)):
        if out and out[-1][1] == v - 1:
            out[-1] = (out[-1][0], v)
        else:
            out.append((v, v))
    return out


def json_text(v: object) -> str:
    return json.dumps(v, ensure_ascii=False)


def split_args(text: str) -> list[str]:
    """Split call arguments at top-level commas (outside brackets and string literals)."""
    parts: list[str] = []
    depth, quote, start, i = 0, False, 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quote = False
        elif ch == '"':
            quote = True
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
        i += 1
    if text[start:].strip():
        parts.append(text[start:].strip())
    return parts


class Lines:
    """Generated lines with a current indent (4 spaces per level)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.level = 0

    def __call__(self, line: str = "") -> None:
        pad = "    " * self.level
        # rustfmt breaks a call whose arguments are wider than 60 columns (fn_call_width): for
        # `Err(f(args))` that is the width of `f(args)`, for `Err(r.m(args))` that of `args`.
        inner = line[len("return Err(") : -len(");")]
        callee, _, args = inner.partition("(")
        width = len(args) - 1 if "." in callee else len(inner)
        long = len(pad) + len(line) > WIDTH or width > 60
        if long and line.startswith("return Err(") and line.endswith("));"):
            # rustfmt's shape for an over-long call: one argument per line.
            head, args = line[:-3].split("(", 2)[:2], line[:-3].split("(", 2)[2]
            self.lines.append(f"{pad}{head[0]}({head[1]}(")
            self.lines.extend(f"{pad}    {a}," for a in split_args(args))
            self.lines.append(f"{pad}));")
            return
        if line.startswith("else") and self.lines and self.lines[-1] == pad + "}":
            self.lines[-1] = f"{pad}}} {line}"  # rustfmt's `} else {`
            return
        sig = _SIGNATURE.match(line)
        if sig and len(pad) + len(line) > WIDTH:
            # rustfmt's shape for an over-long signature: one parameter per line.
            self.lines.append(f"{pad}{sig['head']}(")
            self.lines.extend(f"{pad}    {a}," for a in split_args(sig["params"]))
            self.lines.append(f"{pad}){sig['tail']}")
            return
        self.lines.append((pad + line) if line else "")

    def matches(self, head: str, subject: str, alts: list[str], tail: str) -> None:
        """`head matches!(subject, A | B)tail` laid out as rustfmt does: on one line while the
        arguments fit 60 columns (fn_call_width), else one argument per line, the pattern broken
        before each `|` when it does not fit either."""
        pad = "    " * self.level
        args = f"{subject}, {' | '.join(alts)}"
        one = f"{head}matches!({args}){tail}"
        if len(args) <= 60 and len(pad) + len(one) <= WIDTH:
            self.lines.append(pad + one)
            return
        self.lines.append(f"{pad}{head}matches!(")
        self.lines.append(f"{pad}    {subject},")
        pattern = " | ".join(alts)
        if len(pad) + 4 + len(pattern) <= WIDTH:
            self.lines.append(f"{pad}    {pattern}")
        else:
            self.lines.append(f"{pad}    {alts[0]}")
            self.lines.extend(f"{pad}        | {a}" for a in alts[1:])
        self.lines.append(f"{pad}){tail}")

    def chain(self, root: str, calls: list[str]) -> None:
        """The expression line `root.a().b()`; wider than rustfmt's chain_width (60), one call
        per line."""
        pad = "    " * self.level
        one = root + "".join("." + x for x in calls)
        if len(one) <= 60 and len(pad) + len(one) <= WIDTH:
            self.lines.append(pad + one)
            return
        self.lines.append(pad + root)
        self.lines.extend(f"{pad}    .{x}" for x in calls)

    def field(self, name: str, value: str) -> None:
        """`name: value,` in a struct literal; a value too long for the line goes on the next."""
        pad = "    " * self.level
        if len(pad) + len(name) + len(value) + 3 <= WIDTH:
            self.lines.append(f"{pad}{name}: {value},")
        else:
            self.lines.append(f"{pad}{name}:")
            self.lines.append(f"{pad}    {value},")

    def array(self, head: str, items: list[str], tail: str) -> None:
        """`head[a, b]tail`: on one line within rustfmt's array_width (60), else one per line."""
        pad = "    " * self.level
        body = ", ".join(items)
        one = f"{head}[{body}]{tail}"
        if len(body) <= 60 and len(pad) + len(one) <= WIDTH:
            self.lines.append(pad + one)
            return
        self.lines.append(f"{pad}{head}[")
        self.lines.extend(f"{pad}    {x}," for x in items)
        self.lines.append(f"{pad}]{tail}")

    def struct_lit(self, head: str, name: str, fields: list[tuple[str, str]], tail: str) -> None:
        """`head name { a: x, .. }tail`: on one line only when its fields fit rustfmt's
        struct_lit_width (18 columns) and the line fits; else one field per line."""
        pad = "    " * self.level
        inits = [a if a == v else f"{a}: {v}" for a, v in fields]
        body = ", ".join(inits)
        one = f"{head}{name} {{ {body} }}{tail}" if inits else f"{head}{name} {{}}{tail}"
        if len(body) <= 18 and len(pad) + len(one) <= WIDTH:
            self.lines.append(pad + one)
            return
        self.lines.append(f"{pad}{head}{name} {{")
        self.lines.extend(f"{pad}    {x}," for x in inits)
        self.lines.append(f"{pad}}}{tail}")

    def open(self, line: str) -> None:
        self(line)
        self.level += 1

    def close(self, line: str = "}") -> None:
        self.level -= 1
        self(line)

    def guard(self, cond: str, line: str) -> None:
        """`if cond { line }` (an early return)."""
        self.open(f"if {cond} {{")
        self(line)
        self.close()

    def doc(self, text: str) -> None:
        self.lines.extend(doc(text, 4 * self.level))

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"
