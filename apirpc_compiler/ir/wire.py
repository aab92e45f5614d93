"""The `wire` section of the IDL -> normalized wire protocols of the IR (placeholder: filled in by the wire work)."""

from __future__ import annotations

from typing import Any

from . import model as m
from .naming import split_words


def build_wire(doc: dict[str, Any]) -> tuple[list[m.DecodeErrorReason], list[m.WireProtocol]]:
    errors: list[m.DecodeErrorReason] = [
        {"name": n, "words": split_words(n), "doc": d} for n, d in doc.get("errors", {}).get("values", {}).items()
    ]
    return errors, []
