"""The compiler's pipeline, front to back: load -> validate -> IR -> (backends).

load_idl        frontend/load.py      bytes -> document + source map (strict JSON)
validate        frontend/validate.py  JSON Schema, then semantic rules on what passed the schema
build_ir        ir/build.py           document -> IR (ir/model.py)
lower_plan      ir/plan.py            IR -> IR with the codec plan of every wire protocol
check_names     backends/*/namer      each target's spelling of every name (also on a document
                                      with errors, so that one run reports everything)
generate        generate.py           IR -> files per target, written or checked
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from .backends.base import Backend
from .diagnostics import Diagnostic, IdlError
from .frontend.load import LoadedIdl, load_idl
from .frontend.validate import check_document
from .ir.build import build_ir
from .ir.model import IR
from .ir.plan import PlanError, lower_plan


def compile_idl(path: str, backends: Iterable[Backend] = ()) -> IR:
    """Load, validate and lower an IDL file; raise IdlError with every problem found."""
    loaded = load_idl(path)
    validation = check_document(loaded)
    # On a document with errors, the IR of its schema-valid part serves only the name checks.
    ir = build_ir(validation.checked.document, loaded.raw, _display_name(path))
    diagnostics = validation.diagnostics + name_diagnostics(loaded, ir, backends)
    if diagnostics:
        raise IdlError(diagnostics)
    try:
        return lower_plan(ir)
    except PlanError as e:
        # The front end's wire rules should have refused this; say where rather than crash.
        line, col = loaded.source_map.locate(e.pointer)
        raise IdlError([Diagnostic(loaded.path, line, col, e.pointer, "wire-plan", str(e))]) from None


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
