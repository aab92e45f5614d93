"""Schema and semantic validation of a loaded IDL.

One run reports everything it can: every schema error, then every semantic error on the parts
of the document that passed the schema (prune.py drops the items with schema errors), each
group ordered by position. Target name clashes come after these (pipeline.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..diagnostics import Diagnostic
from .load import LoadedIdl
from .prune import Checkable, checkable
from .report import Reporter
from .schema import schema_diagnostics
from .semantic import SemanticChecker
from .wire_rules import WireChecker


@dataclass
class Validation:
    diagnostics: list[Diagnostic]  # schema errors first, then semantic errors
    checked: Checkable  # the schema-valid part of the document, which the semantic rules saw


def _ordered(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    unique = {(d.pointer, d.rule, d.message): d for d in diagnostics}
    return sorted(unique.values(), key=lambda d: (d.line, d.col, d.rule, d.pointer))


def check_document(loaded: LoadedIdl) -> Validation:
    schema_rep = Reporter(loaded)
    schema_diagnostics(loaded, schema_rep)
    checked = checkable(loaded.document, (d.pointer for d in schema_rep.diagnostics))
    semantic_rep = Reporter(loaded)
    SemanticChecker(checked, semantic_rep).run()
    WireChecker(checked, semantic_rep).run()
    return Validation(_ordered(schema_rep.diagnostics) + _ordered(semantic_rep.diagnostics), checked)


def validate(loaded: LoadedIdl) -> list[Diagnostic]:
    return check_document(loaded).diagnostics
