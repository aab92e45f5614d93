"""Java source text helpers: string literals, numeric literals and Javadoc comments."""

from __future__ import annotations

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
