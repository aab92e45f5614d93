"""Diagnostics: what the compiler says about a bad IDL, always with a location and a hint."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Diagnostic:
    file: str
    line: int  # 1-based
    col: int  # 1-based
    pointer: str  # RFC 6901 JSON pointer ("" for the whole document)
    rule: str  # a stable rule name, e.g. "duplicate-field-number"
    message: str
    hint: str = ""
    severity: str = "error"

    def render(self) -> str:
        ptr = self.pointer or "/"
        text = f"{self.file}:{self.line}:{self.col}: {self.severity}: [{self.rule}] {self.message} (at {ptr})"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class IdlError(Exception):
    """Raised by the front end with every diagnostic it found; the CLI prints them and exits 1."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} error(s)")
        self.diagnostics = diagnostics
