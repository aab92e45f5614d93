"""Collects located diagnostics for the validation passes (schema, semantic, wire)."""

from __future__ import annotations

from ..diagnostics import Diagnostic, pointer
from .load import LoadedIdl

ptr = pointer  # the rule modules' short name for it


class Reporter:
    def __init__(self, loaded: LoadedIdl) -> None:
        self.loaded = loaded
        self.diagnostics: list[Diagnostic] = []

    def where(self, pointer: str) -> str:
        line, col = self.loaded.source_map.locate(pointer)
        return f"{line}:{col}"

    def error(self, pointer: str, rule: str, message: str, hint: str = "") -> None:
        line, col = self.loaded.source_map.locate(pointer)
        self.diagnostics.append(Diagnostic(self.loaded.path, line, col, pointer, rule, message, hint))
