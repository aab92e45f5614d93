"""Read an IDL file into a document plus a source map (JSON pointer -> line:col).

Every failure (unreadable file, bad UTF-8, bad JSON, duplicate keys, runaway nesting) becomes
an IdlError carrying located diagnostics; nothing here lets a traceback escape.
"""

from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass, field
from typing import Any

from ..diagnostics import Diagnostic, IdlError
from .jsonpos import MAX_DEPTH, JsonParseError, parse_json

MAX_FILE_BYTES = 16 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"


@dataclass
class SourceMap:
    """Where each value and each object key starts, by JSON pointer, as 1-based line:col.

    Columns count Unicode code points. Offsets are kept and converted on demand, so building
    the map costs nothing per value beyond the parse itself.
    """

    line_starts: list[int] = field(default_factory=lambda: [0])
    value_offsets: dict[str, int] = field(default_factory=dict)
    key_offsets: dict[str, int] = field(default_factory=dict)

    @classmethod
    def for_text(cls, text: str, value_offsets: dict[str, int], key_offsets: dict[str, int]) -> SourceMap:
        starts = [0]
        starts.extend(m.end() for m in re.finditer("\n", text))
        return cls(starts, value_offsets, key_offsets)

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def locate(self, pointer: str) -> tuple[int, int]:
        """The position of an object member's key, else of the value; falls back to the nearest ancestor."""
        while True:
            offset = self.key_offsets.get(pointer)
            if offset is None:
                offset = self.value_offsets.get(pointer)
            if offset is not None:
                return self.position(offset)
            if not pointer:
                return 1, 1
            pointer = pointer.rsplit("/", 1)[0]

    def locate_value(self, pointer: str) -> tuple[int, int]:
        """The position of the value itself (the `{` of an object, the first digit of a number)."""
        offset = self.value_offsets.get(pointer)
        return self.position(offset) if offset is not None else self.locate(pointer)


@dataclass
class LoadedIdl:
    path: str
    raw: bytes
    document: dict[str, Any]
    source_map: SourceMap


def _fail(path: str, rule: str, message: str, hint: str, line: int = 1, col: int = 1) -> IdlError:
    return IdlError([Diagnostic(path, line, col, "", rule, message, hint)])


def _read(path: str) -> bytes:
    try:
        if os.path.isdir(path):
            raise _fail(path, "file-unreadable", "is a directory, not an IDL file", "pass the path of the .json file")
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise _fail(
                path,
                "file-too-large",
                f"file is {size} bytes; the limit is {MAX_FILE_BYTES} (16 MiB)",
                "an IDL is far smaller; check that this is the right file",
            )
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise _fail(path, "file-missing", "no such file", "check the path of the IDL file") from None
    except PermissionError:
        raise _fail(path, "file-unreadable", "permission denied", "make the file readable") from None
    except OSError as e:
        raise _fail(path, "file-unreadable", f"cannot read the file: {e.strerror or e}", "check the path") from None
    if len(raw) > MAX_FILE_BYTES:  # the file grew between stat and read, or is a special file
        raise _fail(path, "file-too-large", f"file is larger than {MAX_FILE_BYTES} bytes (16 MiB)", "check the path")
    return raw


def _decode(path: str, raw: bytes) -> str:
    if raw.startswith(_BOM):
        raise _fail(
            path,
            "utf8-bom",
            "file starts with a UTF-8 byte order mark (EF BB BF)",
            "save the file as UTF-8 without BOM",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        line_start = raw.rfind(b"\n", 0, e.start) + 1
        col = len(raw[line_start : e.start].decode("utf-8")) + 1
        bad = raw[e.start : min(e.end, e.start + 4)].hex(" ")
        raise _fail(
            path,
            "utf8-invalid",
            f"invalid UTF-8 at byte offset {e.start} (bytes {bad}: {e.reason})",
            "the IDL must be UTF-8; re-save it with that encoding",
            line,
            col,
        ) from None


def parse_idl_text(path: str, raw: bytes) -> tuple[Any, SourceMap]:
    """Decode and parse bytes already read; raise IdlError with located diagnostics."""
    text = _decode(path, raw)
    if not text.strip(" \t\r\n"):
        raise _fail(path, "file-empty", "file is empty", "an IDL file holds one JSON object")
    try:
        parsed = parse_json(text, MAX_DEPTH)
    except JsonParseError as e:
        smap = SourceMap.for_text(text, {}, {})
        diagnostics: list[Diagnostic] = []
        for err in e.errors:
            line, col = smap.position(err.offset)
            message = err.message
            if err.related is not None:
                rl, rc = smap.position(err.related)
                message += f" (first defined at {path}:{rl}:{rc})"
            diagnostics.append(Diagnostic(path, line, col, "", err.rule, message, err.hint))
        raise IdlError(diagnostics) from None
    return parsed.value, SourceMap.for_text(text, parsed.value_offsets, parsed.key_offsets)


def load_idl(path: str) -> LoadedIdl:
    raw = _read(path)
    document, smap = parse_idl_text(path, raw)
    if not isinstance(document, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(document), "a number"
        )
        line, col = smap.locate_value("")
        raise _fail(
            path, "top-level-not-object", f"the document is {kind}, not an object", "wrap the IDL in { }", line, col
        )
    return LoadedIdl(path, raw, document, smap)
