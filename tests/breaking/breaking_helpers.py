"""Helpers for the breaking-change tests: mutate copies of the real IDL, write OLD and NEW, run
`apirpc-compiler breaking` and read its JSON report."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from apirpc_compiler.cli import main

ROOT = Path(__file__).resolve().parents[2]
IDL = ROOT / "api" / "clutchcall.json"
_REAL: dict[str, Any] = json.loads(IDL.read_text(encoding="utf-8"))

Doc = dict[str, Any]
Mutation = Callable[[Doc], None]


def real_doc() -> Doc:
    """A deep copy of the real IDL, with `$schema` made absolute so the copy can live anywhere."""
    doc = copy.deepcopy(_REAL)
    doc["$schema"] = str(ROOT / "api" / "schema" / "clutchcall-idl.schema.json")
    return doc


def write(path: Path, doc: Doc) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def rename_key(d: dict[str, Any], old: str, new: str) -> None:
    """Rename a key in place, keeping declaration order (the IR follows it)."""
    items = [(new if k == old else k, v) for k, v in d.items()]
    d.clear()
    d.update(items)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, ["breaking", *args])


def pair(tmp_path: Path, mutate_new: Mutation | None = None, mutate_old: Mutation | None = None) -> tuple[Path, Path]:
    old, new = real_doc(), real_doc()
    if mutate_old:
        mutate_old(old)
    if mutate_new:
        mutate_new(new)
    return write(tmp_path / "old" / "clutchcall.json", old), write(tmp_path / "new" / "clutchcall.json", new)


def report(result: Result) -> dict[str, Any]:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def triples(entries: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {(e["rule"], e["tier"], e["pointer"]) for e in entries}


def check_pair(
    tmp_path: Path, mutate_new: Mutation | None = None, mutate_old: Mutation | None = None, *extra: str
) -> tuple[int, dict[str, Any]]:
    old, new = pair(tmp_path, mutate_new, mutate_old)
    result = invoke(str(old), str(new), "--format", "json", *extra)
    assert result.exit_code in (0, 1), result.output + result.stderr
    return result.exit_code, report(result)
