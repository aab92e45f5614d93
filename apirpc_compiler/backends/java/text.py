"""Java source text helpers: string literals, numeric literals and Javadoc comments."""

from __future__ import annotations

import re

from ..common import block_doc


def jstr(s: str) -> str:
    """A Java string literal; everything outside printable ASCII becomes a \\u escape."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif 0x20 <= o < 0x7F:
            out.append(ch)
        elif o > 0xFFFF:
            o -= 0x10000
            out.append(f"\\u{0xD800 + (o >> 10):04x}\\u{0xDC00 + (o & 0x3FF):04x}")
        else:
            out.append(f"\\u{o:04x}")
    out.append('"')
    return "".join(out)


def jlong(n: int) -> str:
    """A Java long literal holding the 64 bits of 0 <= n < 2**64 (or a negative long)."""
    if n < 0:
        return f"{n}L" if n != -(1 << 63) else "Long.MIN_VALUE"
    if n >= 1 << 63:
        return f"0x{n:X}L"
    return f"{n}L" if n < 1 << 16 else f"0x{n:X}L"


def jint(n: int) -> str:
    """A Java int literal holding the 32 bits of n (unsigned values above 2**31 wrap)."""
    n &= 0xFFFFFFFF
    if n >= 1 << 31:
        return f"0x{n:X}"
    return str(n)


def _escape_doc(text: str) -> str:
    # `*/` would end the comment, a backslash-u would be read as a Unicode escape by javac,
    # and `<`, `>`, `&`, `@` have meaning in Javadoc.
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("*/", "*&#47;")
        .replace("@", "&#64;")
        .replace("\\", "&#92;")
    )


def javadoc(text: str, indent: int, width: int = 100) -> list[str]:
    """A Javadoc comment for `text` at `indent` spaces, or [] for no text."""
    return block_doc(_escape_doc(text), width, " " * indent)


def used_imports(names: list[str], code: str) -> list[str]:
    """The `import` lines of the `names` that `code` uses outside comments and string literals,
    in google-java-format's order (it drops unused imports, so none may be left)."""
    bare = re.sub(r'/\*.*?\*/|//[^\n]*|"(?:[^"\\]|\\.)*"', "", code, flags=re.S)
    return [f"import {x};" for x in sorted(names) if re.search(rf"\b{x.rsplit('.', 1)[1]}\b", bare)]


def ordered_map(field: str, types: str, entries: list[tuple[str, str]]) -> list[str]:
    """A static block setting `field` to an unmodifiable map of `entries`, kept in their order."""
    return [
        "  static {",
        f"    Map<{types}> m = new LinkedHashMap<>();",
        *(f"    m.put({k}, {v});" for k, v in entries),
        f"    {field} = Collections.unmodifiableMap(m);",
        "  }",
    ]


def method(doc: str | list[str] | None, head: str, *body: str, ind: int = 2) -> list[str]:
    """A blank line and a Java method at `ind` spaces: `doc` as a one-line Javadoc (or Javadoc
    lines already made; None: `@Override`), then `head` and the `body` lines."""
    pad = " " * ind
    top = [f"{pad}@Override"] if doc is None else [f"{pad}/** {doc} */"] if isinstance(doc, str) else doc
    return ["", *top, f"{pad}{head} {{", *(f"{pad}  {x}" if x else "" for x in body), f"{pad}}}"]
