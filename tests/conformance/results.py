"""Per-language results by case, failure lists (expected failures) and the matrix."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

CATEGORIES = [
    "dto-vectors",
    "dto-negative",
    "wire-vectors",
    "wire-negative",
    "streams",
    "varint",
    "random-dto",
    "random-wire",
    "fuzz",
]
FAILURES = Path(__file__).resolve().parent / "failures"


@dataclass
class Results:
    """case id (`category/type/case`) -> reasons it failed (empty: passed), per language."""

    cases: dict[str, dict[str, list[str]]] = field(default_factory=lambda: defaultdict(dict))

    def record(self, lang: str, case_id: str, reason: str = "") -> None:
        reasons = self.cases[lang].setdefault(case_id, [])
        if reason:
            reasons.append(reason)

    def failed(self, lang: str) -> dict[str, list[str]]:
        return {c: r for c, r in self.cases[lang].items() if r}


def load_failure_list(lang: str, directory: Path = FAILURES) -> set[str]:
    path = directory / f"{lang}.txt"
    if not path.is_file():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line}


@dataclass
class Verdict:
    passed: int = 0
    unexpected_failures: list[tuple[str, str]] = field(default_factory=list)  # (case id, reason)
    unexpected_passes: list[str] = field(default_factory=list)
    expected_failures: int = 0


def judge(results: Results, lang: str, expected: set[str]) -> Verdict:
    verdict = Verdict()
    for case_id, reasons in sorted(results.cases[lang].items()):
        if reasons and case_id in expected:
            verdict.expected_failures += 1
        elif reasons:
            verdict.unexpected_failures.append((case_id, reasons[0]))
        elif case_id in expected:
            verdict.unexpected_passes.append(case_id)
        else:
            verdict.passed += 1
    return verdict


def matrix(results: Results, langs: list[str], status: dict[str, str]) -> str:
    """Rows: languages; columns: categories; cells: passed/total (or the language's status)."""
    head = ["language", *CATEGORIES]
    rows = [head]
    for lang in langs:
        if status.get(lang, "ready") != "ready":
            rows.append([lang, status[lang]] + [""] * (len(CATEGORIES) - 1))
            continue
        row = [lang]
        for cat in CATEGORIES:
            mine = [r for c, r in results.cases[lang].items() if c.startswith(cat + "/")]
            row.append(f"{sum(1 for r in mine if not r)}/{len(mine)}" if mine else "-")
        rows.append(row)
    shown = [r for r in rows if r is head or status.get(r[0], "ready") == "ready"]
    widths = [max(len(r[i]) for r in shown) for i in range(len(head))]
    lines = []
    for r in rows:
        if r is not head and status.get(r[0], "ready") != "ready":
            lines.append(f"{r[0]:<{widths[0]}}  ({r[1]})")
        else:
            lines.append("  ".join(cell.rjust(widths[i]) if i else cell.ljust(widths[i]) for i, cell in enumerate(r)))
    return "\n".join(lines)
