"""The compiler's pipeline, front to back: load -> validate -> IR -> (backends).

load_idl        frontend/load.py      bytes -> document + source map (strict JSON)
validate        frontend/validate.py  JSON Schema, then semantic rules
build_ir        ir/build.py           document -> IR (ir/model.py)
check_names     backends/*/namer      each target's spelling of every name
generate        generate.py           IR -> files per target, written or checked
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from .backends.base import Backend
from .diagnostics import Diagnostic, IdlError
from .frontend.load import LoadedIdl, load_idl
from .frontend.validate import validate
from .ir.build import build_ir
from .ir.model import IR


def compile_idl(path: str, backends: Iterable[Backend] = ()) -> IR:
    """Load, validate and lower an IDL file; raise IdlError with every problem found."""
    loaded = load_idl(path)
    diagnostics = validate(loaded)
    if diagnostics:
        raise IdlError(diagnostics)
    ir = build_ir(loaded.document, loaded.raw, _display_name(path))
    diagnostics = name_diagnostics(loaded, ir, backends)
    if diagnostics:
        raise IdlError(diagnostics)
    return ir


def name_diagnostics(loaded: LoadedIdl, ir: IR, backends: Iterable[Backend]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for backend in backends:
        for clash in backend.check_names(ir):
            line, col = loaded.source_map.locate(clash.pointer)
            out.append(
                Diagnostic(
                    loaded.path, line, col, clash.pointer, f"name-clash-{backend.name}", clash.message, clash.hint
                )
            )
    return out


def _display_name(path: str) -> str:
    # The file name only: generated headers must not depend on where the repository lives.
    return os.path.basename(path)
