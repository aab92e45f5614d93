"""Schema and semantic validation of a loaded IDL.

The schema runs first; the semantic rules run only on a schema-valid document (they rely on
its shape). Every diagnostic of a pass is returned at once, ordered by position.
"""

from __future__ import annotations

from ..diagnostics import Diagnostic
from .load import LoadedIdl
from .report import Reporter
from .schema import schema_diagnostics
from .semantic import SemanticChecker
from .wire_rules import WireChecker


def validate(loaded: LoadedIdl) -> list[Diagnostic]:
    rep = Reporter(loaded)
    schema_diagnostics(loaded, rep)
    if not rep.diagnostics:
        SemanticChecker(loaded.document, rep).run()
        WireChecker(loaded.document, rep).run()
    unique = {(d.pointer, d.rule, d.message): d for d in rep.diagnostics}
    return sorted(unique.values(), key=lambda d: (d.line, d.col, d.rule, d.pointer))
