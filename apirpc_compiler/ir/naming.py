"""Word splitting and the case conversions every backend shares.

Backends never re-split names: the IR carries `words` (lower case), and each backend's namer
joins them in its language's style and escapes its keywords.
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"[A-Z]+(?=[A-Z][a-z]|[0-9]|$)|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def split_words(name: str) -> list[str]:
    """`AudioShape` -> [audio, shape]; `g711_ulaw` -> [g711, ulaw]; `voice.calls` -> [voice, calls]."""
    words: list[str] = []
    for part in re.split(r"[^A-Za-z0-9]+", name):
        if not part:
            continue
        if part.islower() or part.isdigit():
            words.append(part)
            continue
        # A digit run stays glued to the letters before it (g711, pcm16, http2).
        pieces = _BOUNDARY.findall(part)
        for piece in pieces:
            if piece.isdigit() and words and part.find(piece) > 0:
                words[-1] += piece
            else:
                words.append(piece.lower())
    return words


def snake(words: list[str]) -> str:
    return "_".join(words)


def upper_snake(words: list[str]) -> str:
    return "_".join(w.upper() for w in words)


def pascal(words: list[str]) -> str:
    return "".join(w[:1].upper() + w[1:] for w in words)


def lower_camel(words: list[str]) -> str:
    p = pascal(words)
    return p[:1].lower() + p[1:]


def kebab(words: list[str]) -> str:
    return "-".join(words)


def proto_json_name(field_name: str) -> str:
    """protoc's default json_name: drop underscores, upper-case the letter after each one."""
    out: list[str] = []
    upper_next = False
    for ch in field_name:
        if ch == "_":
            upper_next = True
        elif upper_next:
            out.append(ch.upper())
            upper_next = False
        else:
            out.append(ch)
    return "".join(out)
