"""A strict JSON parser (RFC 8259) that records where every value and every object key starts.

Why our own: the stdlib `json` gives no positions, silently keeps the last of duplicate keys
and accepts NaN/Infinity. This parser is iterative (an explicit stack, so a 100k-deep `[[[[`
cannot blow the Python stack), stops at `max_depth`, and scans each token with one regex
match, so it runs in time linear in the input.

Positions are character offsets into the text, keyed by RFC 6901 JSON pointer; `key_offsets`
holds the offset of an object member's key under the same pointer as its value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..diagnostics import pointer_token

MAX_DEPTH = 64

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
# The fast path of a string: everything but the quote, backslash, control chars and surrogates.
_STR_CHUNK = re.compile(r'[^"\\\x00-\x1f\ud800-\udfff]*')
_SIMPLE_STRING = re.compile(r'"([^"\\\x00-\x1f\ud800-\udfff]*)"')
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


@dataclass
class JsonError:
    """One problem in the text: where (a character offset), which rule, what, how to fix."""

    offset: int
    rule: str
    message: str
    hint: str = ""
    related: int | None = None  # another offset the message refers to (the first of duplicate keys)


class JsonParseError(Exception):
    def __init__(self, errors: list[JsonError]) -> None:
        super().__init__(errors[0].message if errors else "invalid JSON")
        self.errors = errors


@dataclass
class ParsedJson:
    value: Any
    value_offsets: dict[str, int] = field(default_factory=dict)
    key_offsets: dict[str, int] = field(default_factory=dict)


def _describe(text: str, i: int) -> str:
    if i >= len(text):
        return "the end of the file"
    c = text[i]
    if c.isprintable() and c != " ":
        return repr(c)
    return f"character U+{ord(c):04X}"


class _Frame:
    __slots__ = ("container", "is_object", "key", "key_at", "pointer")

    def __init__(self, container: dict[str, Any] | list[Any], pointer: str) -> None:
        self.container = container
        self.is_object = isinstance(container, dict)
        self.pointer = pointer
        self.key = ""
        self.key_at: dict[str, int] = {}  # member name -> offset of its first key


class _Parser:
    def __init__(self, text: str, max_depth: int) -> None:
        self.text = text
        self.n = len(text)
        self.max_depth = max_depth
        self.result = ParsedJson(None)
        self.duplicates: list[JsonError] = []

    def fail(self, offset: int, rule: str, message: str, hint: str = "") -> JsonParseError:
        return JsonParseError([*self.duplicates, JsonError(offset, rule, message, hint)])

    def ws(self, i: int) -> int:
        if i >= self.n or self.text[i] not in " \t\n\r":
            return i
        m = _WS.match(self.text, i)
        assert m is not None  # the pattern matches the empty string
        return m.end()

    def string(self, i: int) -> tuple[str, int]:
        """Parse the string whose opening quote is at i; return it and the offset after it."""
        text, n = self.text, self.n
        simple = _SIMPLE_STRING.match(text, i)
        if simple is not None:
            return simple.group(1), simple.end()
        start = i
        i += 1
        parts: list[str] = []
        while True:
            m = _STR_CHUNK.match(text, i)
            assert m is not None
            if m.end() > i:
                parts.append(m.group())
                i = m.end()
            if i >= n:
                raise self.fail(start, "json-syntax", "unterminated string", "close the string with '\"'")
            c = text[i]
            if c == '"':
                return "".join(parts), i + 1
            if c == "\\":
                i = self.escape(i, parts)
                continue
            if c < " ":
                raise self.fail(
                    i,
                    "json-string",
                    f"control character U+{ord(c):04X} inside a string",
                    "write it as an escape (\\n, \\t, \\u00XX)",
                )
            raise self.fail(i, "json-string", f"lone surrogate U+{ord(c):04X} inside a string", "use valid Unicode")

    def escape(self, i: int, parts: list[str]) -> int:
        text = self.text
        if i + 1 >= self.n:
            raise self.fail(i, "json-syntax", "unterminated escape at the end of the file")
        c = text[i + 1]
        simple = _SIMPLE_ESCAPES.get(c)
        if simple is not None:
            parts.append(simple)
            return i + 2
        if c != "u":
            raise self.fail(
                i, "json-string", f"invalid escape '\\{c}'", 'valid escapes: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX'
            )
        code = self.hex4(i)
        if 0xDC00 <= code <= 0xDFFF:
            raise self.fail(
                i, "json-string", f"lone surrogate \\u{code:04x} in a string", "pair it with a high surrogate"
            )
        if 0xD800 <= code <= 0xDBFF:
            j = i + 6
            if text.startswith("\\u", j):
                low = self.hex4(j)
                if 0xDC00 <= low <= 0xDFFF:
                    parts.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                    return j + 6
            raise self.fail(
                i,
                "json-string",
                f"lone surrogate \\u{code:04x} in a string",
                "follow it with a low surrogate \\uDC00-DFFF",
            )
        parts.append(chr(code))
        return i + 6

    def hex4(self, i: int) -> int:
        m = _HEX4.match(self.text, i + 2)
        if m is None:
            raise self.fail(i, "json-string", "\\u must be followed by four hex digits")
        return int(m.group(), 16)

    def key(self, frame: _Frame, i: int) -> tuple[int, str]:
        """Parse `"key" :` at i (after whitespace); set up the frame for the member's value."""
        if i >= self.n or self.text[i] != '"':
            raise self.fail(
                i,
                "json-syntax",
                f"expected a member name in double quotes, found {_describe(self.text, i)}",
                "object keys are strings in double quotes; trailing commas are not allowed",
            )
        key, j = self.string(i)
        first = frame.key_at.get(key)
        if first is not None:
            self.duplicates.append(
                JsonError(i, "json-duplicate-key", f"duplicate key {key!r}", "each key may appear once", first)
            )
        else:
            frame.key_at[key] = i
        frame.key = key
        j = self.ws(j)
        if j >= self.n or self.text[j] != ":":
            raise self.fail(j, "json-syntax", f"expected ':' after the key {key!r}, found {_describe(self.text, j)}")
        pointer = frame.pointer + "/" + pointer_token(key)
        self.result.key_offsets[pointer] = i
        return self.ws(j + 1), pointer

    def scalar(self, i: int) -> tuple[Any, int]:
        text = self.text
        c = text[i]
        if c == '"':
            return self.string(i)
        if c == "-" or "0" <= c <= "9":
            m = _NUMBER.match(text, i)
            if m is None:
                if text.startswith("-Infinity", i):
                    raise self.fail(i, "json-nan", "-Infinity is not valid JSON", "write a finite number")
                raise self.fail(i, "json-syntax", "'-' must be followed by a digit")
            s = m.group()
            if m.group(1) is None and m.group(2) is None:
                if len(s) > 4000:
                    raise self.fail(i, "json-syntax", f"integer with {len(s)} digits is too long")
                return int(s), m.end()
            return float(s), m.end()
        for word, value in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, i):
                return value, i + len(word)
        for word in ("NaN", "Infinity"):
            if text.startswith(word, i):
                raise self.fail(i, "json-nan", f"{word} is not valid JSON", "write a finite number (or a string)")
        raise self.fail(
            i,
            "json-syntax",
            f"expected a value, found {_describe(text, i)}",
            "a value is an object, array, string, number, true, false or null",
        )

    def parse(self) -> ParsedJson:
        text, n = self.text, self.n
        offsets = self.result.value_offsets
        stack: list[_Frame] = []
        pointer = ""
        i = self.ws(0)
        while True:
            # Expect a value at i, to be stored under `pointer`.
            if i >= n:
                raise self.fail(i, "json-syntax", "unexpected end of the file: expected a value")
            offsets[pointer] = i
            c = text[i]
            value: Any
            if c == "{" or c == "[":
                if len(stack) >= self.max_depth:
                    raise self.fail(
                        i,
                        "json-too-deep",
                        f"nesting deeper than {self.max_depth} levels",
                        "the IDL never needs this depth; check for runaway brackets",
                    )
                j = self.ws(i + 1)
                if c == "{":
                    frame = _Frame({}, pointer)
                    if j < n and text[j] == "}":
                        value, i = frame.container, j + 1
                    else:
                        stack.append(frame)
                        i, pointer = self.key(frame, j)
                        continue
                else:
                    frame = _Frame([], pointer)
                    if j < n and text[j] == "]":
                        value, i = frame.container, j + 1
                    else:
                        stack.append(frame)
                        i, pointer = j, pointer + "/0"
                        continue
            else:
                value, i = self.scalar(i)
            # A value is complete: store it and climb until some container wants another one.
            while True:
                if not stack:
                    i = self.ws(i)
                    if i < n:
                        raise self.fail(
                            i,
                            "json-syntax",
                            f"unexpected {_describe(text, i)} after the end of the document",
                            "a file holds exactly one JSON value",
                        )
                    if self.duplicates:
                        raise JsonParseError(self.duplicates)
                    self.result.value = value
                    return self.result
                frame = stack[-1]
                container = frame.container
                if isinstance(container, dict):
                    container.setdefault(frame.key, value)  # on a duplicate the first wins; it is an error anyway
                    close = "}"
                else:
                    container.append(value)
                    close = "]"
                i = self.ws(i)
                c = text[i] if i < n else ""
                if c == ",":
                    j = self.ws(i + 1)
                    if isinstance(container, dict):
                        i, pointer = self.key(frame, j)
                    else:
                        if j < n and text[j] == "]":
                            raise self.fail(j, "json-syntax", "trailing comma before ']'", "remove the comma")
                        i, pointer = j, f"{frame.pointer}/{len(container)}"
                    break
                if c == close:
                    stack.pop()
                    value, i = container, i + 1
                    continue
                what = "object" if close == "}" else "array"
                raise self.fail(
                    i,
                    "json-syntax",
                    f"expected ',' or '{close}' in the {what}, found {_describe(text, i)}",
                    "separate members with commas" if close == "}" else "separate elements with commas",
                )


def parse_json(text: str, max_depth: int = MAX_DEPTH) -> ParsedJson:
    """Parse one JSON text strictly; raise JsonParseError (with every duplicate key found) on bad input."""
    return _Parser(text, max_depth).parse()
