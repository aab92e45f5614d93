"""Schema and semantic validation of a loaded IDL (PLACEHOLDER: the full rule set replaces this)."""

from __future__ import annotations

from ..diagnostics import Diagnostic
from .load import LoadedIdl


def validate(loaded: LoadedIdl) -> list[Diagnostic]:
    return []
