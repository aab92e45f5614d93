"""Diagnostics: what the compiler says about a bad IDL, always with a location and a hint."""

from __future__ import annotations

from dataclasses import dataclass

# RFC 6901 JSON pointers locate everything the compiler reports (front end, backends' name checks,
# breaking); these are their one spelling.


def pointer_token(token: str) -> str:
    """One reference token, escaped (`~` -> `~0`, `/` -> `~1`)."""
    if "~" in token or "/" in token:
        return token.replace("~", "~0").replace("/", "~1")
    return token


def pointer(*tokens: str | int) -> str:
    """A pointer from its unescaped tokens: pointer("messages", "Call", "fields") -> /messages/Call/fields."""
    return "".join("/" + pointer_token(str(t)) for t in tokens)


def pointer_tokens(text: str) -> list[str]:
    """A pointer's unescaped tokens (`~1` is undone before `~0`, as RFC 6901 requires)."""
    return [t.replace("~1", "/").replace("~0", "~") for t in text.split("/")[1:]] if text else []


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
