"""C++ text helpers: header comments, Doxygen doc lines, string and integer literals."""

from __future__ import annotations

import json

from ..common import line_doc

WIDTH = 96


def doc(text: str, indent: str = "", width: int = WIDTH) -> list[str]:
    """`///` Doxygen lines for `text` (none for empty text)."""
    return line_doc(text, width, indent)


def cstr(s: str) -> str:
    """A C++ string literal (JSON escaping is valid C++ for the characters IDL text holds)."""
    return json.dumps(s, ensure_ascii=True)


def u64(n: int) -> str:
    return f"std::uint64_t{{{n}u}}" if n > 0xFFFFFFFF else f"{n}u"
