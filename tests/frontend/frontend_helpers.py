"""Helpers for the front-end tests: write a (mutated) IDL, run `apirpc-compiler validate`, and
find where a JSON pointer sits in the written text by searching it (independently of the parser)."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from apirpc_compiler.cli import main

ROOT = Path(__file__).resolve().parents[2]
IDL = ROOT / "api" / "clutchcall.json"
_REAL: dict[str, Any] = json.loads(IDL.read_text(encoding="utf-8"))


def real_doc() -> dict[str, Any]:
    """A deep copy of the real IDL, with `$schema` made absolute so the copy can live anywhere."""
    doc = copy.deepcopy(_REAL)
    doc["$schema"] = str(ROOT / "api" / "schema" / "clutchcall-idl.schema.json")
    return doc


def write_idl(tmp_path: Path, doc: Any, name: str = "idl.json") -> tuple[Path, str]:
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, text


@dataclass
class Run:
    code: int
    output: str


def run_validate(path: Path) -> Run:
    result = CliRunner().invoke(main, ["validate", str(path)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.output)


def _tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]] if pointer else []


def expected_position(text: str, doc: Any, pointer: str) -> tuple[int, int]:
    """Line:col of the key (object member) or the element (array item) at `pointer` in text written
    by `json.dumps(indent=2)`: members and elements at depth d start a line indented by 2*d."""
    lines = text.split("\n")
    row = 0
    node = doc
    for depth, token in enumerate(_tokens(pointer), start=1):
        indent = " " * (2 * depth)
        if isinstance(node, list):
            index = int(token)
            seen = -1
            row += 1
            while True:
                line = lines[row]
                if line.startswith(indent) and line[len(indent) : len(indent) + 1] not in (" ", "]", "}"):
                    seen += 1
                    if seen == index:
                        break
                row += 1
            node = node[index]
        else:
            start = indent + json.dumps(token, ensure_ascii=False) + ":"
            row += 1
            while not lines[row].startswith(start):
                row += 1
            node = node[token]
    if not pointer:
        return 1, 1
    return row + 1, len(re.match(r" *", lines[row]).group()) + 1  # type: ignore[union-attr]


def assert_reported(
    run: Run, path: Path, text: str, doc: Any, rule: str, pointer: str, message: str = "", hint: str = ""
) -> None:
    """One diagnostic of `rule` at `pointer` and its line:col; `message` and `hint` must be in its text."""
    assert run.code == 1, run.output
    assert "Traceback" not in run.output
    line, col = expected_position(text, doc, pointer)
    expected = f"{path}:{line}:{col}: error: [{rule}] "
    lines = run.output.splitlines()
    ending = f"(at {pointer or '/'})"
    matching = [i for i, ln in enumerate(lines) if ln.startswith(expected) and ln.endswith(ending) and message in ln]
    assert matching, f"expected a line starting {expected!r} with {message!r}, ending {ending!r}; got:\n{run.output}"
    if hint:
        hints = [lines[i + 1] for i in matching if i + 1 < len(lines) and lines[i + 1].startswith("    hint: ")]
        assert any(hint in h for h in hints), f"expected hint {hint!r} after {expected!r}; got:\n{run.output}"
