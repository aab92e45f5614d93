"""Entry point: build the testees, run every suite, print the matrix and the verdict.

    python -m tests.conformance [--lang L ...] [--seed S] [--random N] [--random-wire N] [--fuzz N]

Exit status 0 when every case passed or failed as listed in failures/<lang>.txt, 1 on an
unexpected failure, an unexpected pass, or a testee that exists but does not build.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from apirpc_compiler.backends.base import all_backends
from apirpc_compiler.pipeline import compile_idl

from . import build
from .dto_values import load_oracle
from .results import FAILURES, Results, judge, load_failure_list, matrix
from .suites import SUITES, Context
from .testee_client import Testee

VECTORS = build.ROOT / "tests" / "vectors"


@dataclass
class Outcome:
    passed: int = 0
    failed: int = 0
    report: str = ""
    status: dict[str, str] = field(default_factory=dict)  # language -> ready / not available / ...
    problems: list[str] = field(default_factory=list)  # one line per unexpected result
    results: Results = field(default_factory=Results)


def run(
    langs: list[str],
    *,
    seed: int = 1,
    random_n: int = 1000,
    random_wire_n: int = 200,
    fuzz_n: int = 10000,
    gen_dir: Path | None = None,
    failures_dir: Path = FAILURES,
    timeout: float = 10.0,
    log: bool = True,
) -> Outcome:
    """Run the suites for `langs`; `gen_dir` replaces generation (a pre-made, maybe broken, SDK tree)."""
    out = Outcome()
    lines: list[str] = []

    def say(text: str) -> None:
        lines.append(text)
        if log:
            print(text, flush=True)

    with tempfile.TemporaryDirectory(prefix="conformance-") as tmp:
        work = Path(tmp)
        probes = {lang: build.probe(lang) for lang in langs}
        buildable = [lang for lang, p in probes.items() if p.status == "ready"]
        if gen_dir is None and buildable:
            gen_dir = work / "gen"
            error = build.generate(buildable, gen_dir)
            if error:
                for lang in buildable:
                    probes[lang] = build.Language(lang, "build failed", error)
                buildable = []
        testees: dict[str, Testee] = {}
        for lang in buildable:
            assert gen_dir is not None
            start = time.monotonic()
            built = build.build(probes[lang], gen_dir, work)
            probes[lang] = built
            if built.status == "ready":
                say(f"built {lang} in {time.monotonic() - start:.1f}s: {built.command}")
                testees[lang] = Testee(lang, built.command, built.cwd, work / f"{lang}.stderr", timeout)
        for lang, p in probes.items():
            out.status[lang] = p.status
            if p.status != "ready":
                say(f"{lang}: {p.status} ({p.detail.splitlines()[0] if p.detail else ''})")
            if p.status == "build failed":
                out.failed += 1
                out.problems.append(f"{lang}: the testee exists but does not build:\n{p.detail}")
        if testees:
            ir = compile_idl(str(build.IDL), all_backends().values())
            vectors = {
                stem: json.loads((VECTORS / f"{stem}.json").read_text(encoding="utf-8"))
                for stem in ("dto", "envelope", "moqt_d14", "varint")
            }
            ctx = Context(ir, vectors, load_oracle(), testees, out.results, seed, random_n, random_wire_n, fuzz_n)
            try:
                for title, suite in SUITES:
                    start = time.monotonic()
                    extra = suite(ctx)
                    note = f" ({extra} values refused by the oracle)" if extra else ""
                    say(f"ran {title} in {time.monotonic() - start:.1f}s{note}")
            finally:
                for testee in testees.values():
                    testee.close()
            for lang in sorted(testees):
                if testees[lang].restarts:
                    say(f"{lang}: the testee was restarted {testees[lang].restarts} time(s); stderr follows")
                    say((work / f"{lang}.stderr").read_text(errors="replace")[-2000:])
                verdict = judge(out.results, lang, load_failure_list(lang, failures_dir))
                out.passed += verdict.passed + verdict.expected_failures
                out.failed += len(verdict.unexpected_failures) + len(verdict.unexpected_passes)
                for case_id, reason in verdict.unexpected_failures:
                    out.problems.append(f"FAIL {lang} {case_id}: {reason}")
                for case_id in verdict.unexpected_passes:
                    out.problems.append(f"UNEXPECTED PASS {lang} {case_id} (listed in failures/{lang}.txt)")
                if verdict.expected_failures:
                    say(f"{lang}: {verdict.expected_failures} expected failure(s) (failures/{lang}.txt)")
    # At most 15 lines per language, so that one noisy language does not hide the others.
    by_lang: dict[str, list[str]] = {}
    for problem in out.problems:
        words = problem.split()
        key = words[1] if words[0] == "FAIL" else words[2] if words[0] == "UNEXPECTED" else words[0]
        by_lang.setdefault(key, []).append(problem)
    for key, problems in by_lang.items():
        for problem in problems[:15]:
            say(problem)
        if len(problems) > 15:
            say(f"... and {len(problems) - 15} more for {key}")
    say("")
    say(matrix(out.results, langs, out.status))
    say(f"{out.passed} passed, {out.failed} failed")
    out.report = "\n".join(lines)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", action="append", choices=build.LANGUAGES, help="only this language (repeatable)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random values and the fuzzer")
    parser.add_argument("--random", type=int, default=1000, help="random values per message type")
    parser.add_argument("--random-wire", type=int, default=200, help="random values per wire struct")
    parser.add_argument("--fuzz", type=int, default=10000, help="mutated inputs per language")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds a testee may take per answer")
    args = parser.parse_args(argv)
    outcome = run(
        args.lang or build.LANGUAGES,
        seed=args.seed,
        random_n=args.random,
        random_wire_n=args.random_wire,
        fuzz_n=args.fuzz,
        timeout=args.timeout,
    )
    return 1 if outcome.failed else 0


if __name__ == "__main__":
    sys.exit(main())
