"""The `typescript` target: the npm package `@clutchcall/sdk` (see backend.py)."""

from __future__ import annotations

from ..base import Backend, register
from .backend import TypeScriptBackend


@register("typescript")
def _factory() -> Backend:
    return TypeScriptBackend()
