"""Read an IDL file into a document plus a source map (JSON pointer -> line:col).

PLACEHOLDER: the strict position-tracking parser replaces this.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, IdlError


@dataclass
class SourceMap:
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)

    def locate(self, pointer: str) -> tuple[int, int]:
        while pointer not in self.positions and pointer:
            pointer = pointer.rsplit("/", 1)[0]
        return self.positions.get(pointer, (1, 1))


@dataclass
class LoadedIdl:
    path: str
    raw: bytes
    document: dict[str, Any]
    source_map: SourceMap


def load_idl(path: str) -> LoadedIdl:
    raw = Path(path).read_bytes()
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise IdlError([Diagnostic(path, 1, 1, "", "invalid-json", str(e))]) from None
    return LoadedIdl(path, raw, doc, SourceMap())
