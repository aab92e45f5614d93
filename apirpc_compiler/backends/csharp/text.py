"""C# text helpers: string literals and XML doc comments."""

from __future__ import annotations

import json

from ..common import line_doc


def cs_string(s: str) -> str:
    """A C# string literal (JSON escapes are valid C# escapes)."""
    return json.dumps(s, ensure_ascii=True)


def doc_lines(text: str, indent: int) -> list[str]:
    """A `/// <summary>` doc comment for `text` at `indent` spaces (XML-escaped), or [] for no text."""
    pad = " " * indent
    body = line_doc(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), 100, pad)
    return [f"{pad}/// <summary>", *body, f"{pad}/// </summary>"] if body else []
