"""Line layout for generated Java: breaks statements longer than 100 columns the way
google-java-format does, so the output is formatter-clean without running a JVM.

The emitters write every statement on one line; `fit` re-lays only the lines that are too long.
It covers the shapes the generator emits (calls, binary chains, ternaries, lambdas, string
literals, assignments, `throw`/`return`/`if`, method and record headers, one-line Javadoc), with
google-java-format's rules for them: a construct that fits stays on one line; otherwise break
after `=`, or after `(` with all arguments on the next line (or one per line when they do not
fit), or before every operator of a binary chain; continuation lines are indented +4 from the
line where the construct starts; a string literal that cannot fit is split at spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..common import wrap_text

WIDTH = 100

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<chr>'(?:[^'\\]|\\.)*')
    | (?P<word>[A-Za-z_$0-9][A-Za-z_$0-9.]*)
    | (?P<op>>>>|->|::|==|!=|<=|>=|&&|\|\||<<|>>|[-+*/%<>&|^!~?:=()\[\]{},;.@])
    )""",
    re.VERBOSE,
)

# Binary operators by precedence, loosest first.
_LEVELS = [
    ["||"],
    ["&&"],
    ["|"],
    ["^"],
    ["&"],
    ["==", "!="],
    ["<", ">", "<=", ">=", "instanceof"],
    ["<<", ">>", ">>>"],
    ["+", "-"],
    ["*", "/", "%"],
]


@dataclass
class _Node:
    """A parsed expression: its source span, and how it may break."""

    start: int
    end: int
    kind: str = "atom"  # atom | call | chain | ternary | lambda | string
    head_end: int = 0  # call: end of the callee text; lambda: end of `params ->`
    kids: list[_Node] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.toks: list[tuple[str, int, int]] = []
        pos = 0
        while pos < len(src):
            if src[pos:].strip() == "":
                break
            m = _TOKEN.match(src, pos)
            if m is None:
                raise ValueError(f"cannot tokenize {src[pos:]!r}")
            kind = m.lastgroup or "op"
            self.toks.append((m.group(kind), m.start(kind), m.end(kind)))
            pos = m.end()
        self.i = 0

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.toks[j][0] if j < len(self.toks) else ""

    def take(self) -> tuple[str, int, int]:
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, text: str) -> int:
        t, _, e = self.take()
        if t != text:
            raise ValueError(f"expected {text!r}, got {t!r}")
        return e

    def here(self) -> int:
        return self.toks[self.i][1] if self.i < len(self.toks) else len(self.src)

    def skip_group(self, open_: str, close: str) -> int:
        """Skip a balanced group starting at the current `open_` token; returns its end."""
        depth = 0
        while True:
            t, _, e = self.take()
            if t == open_:
                depth += 1
            elif t == close:
                depth -= 1
                if depth == 0:
                    return e

    def expr(self) -> _Node:
        start = self.here()
        one_param = self.peek(1) == "->" and self.peek() not in ("", "(")
        if one_param or (self.peek() == "(" and self._group_then() == "->"):
            if one_param:
                self.take()
            else:
                self.skip_group("(", ")")
            head_end = self.expect("->")
            body = self.expr()
            return _Node(start, body.end, "lambda", head_end, [body])
        cond = self.binary(0)
        if self.peek() != "?":
            return cond
        self.take()
        a = self.expr()
        self.expect(":")
        b = self.expr()
        return _Node(start, b.end, "ternary", kids=[cond, a, b])

    def binary(self, level: int) -> _Node:
        if level == len(_LEVELS):
            return self.unary()
        first = self.binary(level + 1)
        kids, ops = [first], []
        while self.peek() in _LEVELS[level]:
            ops.append(self.take()[0])
            kids.append(self.binary(level + 1))
        if not ops:
            return first
        return _Node(first.start, kids[-1].end, "chain", kids=kids, ops=ops)

    def unary(self) -> _Node:
        start = self.here()
        if self.peek() in ("!", "-", "~", "+"):
            self.take()
            inner = self.unary()
            return _Node(start, inner.end)
        if self.peek() == "(" and self._is_cast():
            self.skip_group("(", ")")
            inner = self.unary()
            return _Node(start, inner.end)
        return self.postfix()

    def _group_end(self) -> int:
        """The token index of the `)` closing the `(` at the cursor."""
        j, depth = self.i, 0
        while j < len(self.toks):
            t = self.toks[j][0]
            depth += t == "("
            depth -= t == ")"
            if depth == 0:
                break
            j += 1
        return j

    def _group_then(self) -> str:
        """The token after the group opened at the cursor (`->` for lambda parameters)."""
        j = self._group_end() + 1
        return self.toks[j][0] if j < len(self.toks) else ""

    def _is_cast(self) -> bool:
        j = self._group_end()
        inner = [t[0] for t in self.toks[self.i + 1 : j]]
        nxt = self.toks[j + 1][0] if j + 1 < len(self.toks) else ""
        type_tokens = all(re.fullmatch(r"[A-Za-z_][\w.]*|[<>,?\[\]]|>>", t) for t in inner)
        simple_type = bool(inner) and inner[0][0].isalpha() and type_tokens
        starts_operand = re.fullmatch(r'[A-Za-z_"\'(0-9].*', nxt) is not None and nxt != "instanceof"
        return simple_type and starts_operand

    def postfix(self) -> _Node:
        start = self.here()
        t, _, end = self.take()
        node = _Node(start, end, "string" if t.startswith('"') else "atom")
        if t == "new":
            end = self.take()[2]
            if self.peek() == "<":
                end = self.skip_group("<", ">")
            while self.peek() == "[":
                end = self.skip_group("[", "]")
            if self.peek() == "{":
                end = self.skip_group("{", "}")
            node = _Node(start, end)
        elif t == "(":
            self.i -= 1
            node = _Node(start, self.skip_group("(", ")"))
        while True:
            p = self.peek()
            if p == "(":
                head_end = self.here()
                self.take()
                args: list[_Node] = []
                while self.peek() != ")":
                    args.append(self.expr())
                    if self.peek() == ",":
                        self.take()
                end = self.expect(")")
                node = _Node(start, end, "call", head_end, args)
            elif p in (".", "::"):
                self.take()
                node = _Node(start, self.take()[2])
            elif p.startswith(".") and p != ".":
                node = _Node(start, self.take()[2])
            elif p == "[":
                node = _Node(start, self.skip_group("[", "]"))
            else:
                return node


class _Layout:
    def __init__(self, src: str) -> None:
        self.src = src

    def flat(self, n: _Node) -> str:
        return self.src[n.start : n.end]

    def lay(self, n: _Node, prefix: str, ind: int, suffix: str) -> list[str]:
        one = prefix + self.flat(n) + suffix
        if len(one) <= WIDTH:
            return [one]
        pad = " " * (ind + 4)
        if n.kind == "call":
            head = prefix + self.src[n.start : n.head_end] + "("
            args = ", ".join(self.flat(a) for a in n.kids)
            if len(pad + args + ")" + suffix) <= WIDTH:
                return [head, pad + args + ")" + suffix]
            out = [head]
            for i, a in enumerate(n.kids):
                out += self.lay(a, pad, ind + 4, "," if i < len(n.kids) - 1 else ")" + suffix)
            return out
        if n.kind == "chain":
            out = self.lay(n.kids[0], prefix, ind + 4, "")
            for i, (op, k) in enumerate(zip(n.ops, n.kids[1:], strict=True)):
                last = i == len(n.ops) - 1
                out += self.lay(k, f"{pad}{op} ", ind + 4, suffix if last else "")
            return out
        if n.kind == "ternary":
            cond, a, b = n.kids
            out = self.lay(cond, prefix, ind + 4, "")
            out += self.lay(a, pad + "? ", ind + 4, "")
            return out + self.lay(b, pad + ": ", ind + 4, suffix)
        if n.kind == "lambda":
            head = prefix + self.src[n.start : n.head_end]
            return [head, *self.lay(n.kids[0], pad, ind + 4, suffix)]
        if n.kind == "string":
            return self.split_string(self.flat(n), prefix, ind, suffix)
        return [one]

    def split_string(self, lit: str, prefix: str, ind: int, suffix: str) -> list[str]:
        """A too-long literal as a `+` chain of literals split before spaces."""
        body = lit[1:-1]
        words = re.split(r"(?= )", body)
        pieces: list[str] = []
        cur = ""
        room = WIDTH - len(prefix) - 2
        for w in words:
            if cur and len(cur) + len(w) > room:
                pieces.append(cur)
                cur = ""
                room = WIDTH - (ind + 4) - 4
            cur += w
        pieces.append(cur)
        pad = " " * (ind + 4)
        # The last piece carries the suffix: move words off it until it fits.
        while True:
            lead = len(prefix) if len(pieces) == 1 else ind + 6
            last = re.split(r"(?= )", pieces[-1])
            if lead + len(pieces[-1]) + 2 + len(suffix) <= WIDTH or len(last) < 2:
                break
            pieces[-1] = "".join(last[:-1])
            pieces.append(last[-1])
        out = [f'{prefix}"{pieces[0]}"']
        out += [f'{pad}+ "{p}"' for p in pieces[1:]]
        out[-1] += suffix
        return out


def _top_level_index(p: _Parser, text: str) -> int:
    """The token index of the first `text` outside any brackets, or -1."""
    depth = 0
    for j, (t, _, _) in enumerate(p.toks):
        if t in "([{":
            depth += 1
        elif t in ")]}":
            depth -= 1
        elif t == text and depth == 0:
            return j
    return -1


def _split_params(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return [*parts, cur.strip()]


def _relayout(line: str) -> list[str]:
    ind = len(line) - len(line.lstrip())
    pad = " " * ind
    body = line.strip()
    if body.startswith("/**") and body.endswith("*/"):
        text = body[3:-2].strip()
        return [f"{pad}/**", *(f"{pad} * {x}" for x in wrap_text(text, WIDTH - ind - 3)), f"{pad} */"]
    for kw in ("} else if (", "if (", "while ("):
        if body.startswith(kw) and body.endswith(") {"):
            p = _Parser(body[len(kw) : -3])
            return _Layout(p.src).lay(p.expr(), pad + kw, ind, ") {")
    if body.endswith(("{", "{}")) and "(" in body and "=" not in body:
        head, _, rest = body.partition("(")
        params, _, tail = rest.rpartition(")")
        one = f"{pad}    {params}){tail}"
        if len(one) <= WIDTH:
            return [f"{pad}{head}(", one]
        ps = _split_params(params)
        return [f"{pad}{head}(", *(f"{pad}    {x}," for x in ps[:-1]), f"{pad}    {ps[-1]}){tail}"]
    if not body.endswith(";"):
        return [line]
    stmt = body[:-1]
    for kw in ("throw ", "return "):
        if stmt.startswith(kw):
            p = _Parser(stmt[len(kw) :])
            return _Layout(p.src).lay(p.expr(), pad + kw, ind, ";")
    p = _Parser(stmt)
    eq = _top_level_index(p, "=")
    if eq >= 0:
        lhs = stmt[: p.toks[eq][1]].rstrip()
        p = _Parser(stmt[p.toks[eq][2] :].lstrip())
        return [f"{pad}{lhs} =", *_Layout(p.src).lay(p.expr(), pad + "    ", ind + 4, ";")]
    return _Layout(p.src).lay(p.expr(), pad, ind, ";")


def fit(text: str) -> str:
    """`text` with every line longer than the limit broken as google-java-format would."""
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= WIDTH:
            out.append(line)
            continue
        lines = _relayout(line)
        if not line.lstrip().startswith("/**") and _squash(line) != _squash("".join(lines)):
            raise ValueError(f"java layout changed the code of: {line.strip()}")
        out.extend(lines)
    return "\n".join(out)


def _squash(code: str) -> str:
    # The tokens without layout: whitespace and string-literal splits removed.
    return re.sub(r"\s+", "", code).replace('"+"', "")
