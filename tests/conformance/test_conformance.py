"""The conformance suite under pytest: every language whose toolchain is here, plus self-tests.

A language without a testee directory, or without its toolchain, is skipped with the reason;
a testee that exists but does not build fails. Counts can be lowered for a quick local run
with CONFORMANCE_RANDOM, CONFORMANCE_RANDOM_WIRE and CONFORMANCE_FUZZ (defaults: the full run).
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import textwrap
from pathlib import Path

import pytest

from apirpc_compiler.ir.model import IR

from . import build, runner
from .dto_values import DtoGenerator, load_oracle, oracle_expect
from .testee_client import CRASH, HANG, OK, Request, Testee
from .wire_values import WireModel

ENV_COUNTS = {
    "random_n": int(os.environ.get("CONFORMANCE_RANDOM", "1000")),
    "random_wire_n": int(os.environ.get("CONFORMANCE_RANDOM_WIRE", "200")),
    "fuzz_n": int(os.environ.get("CONFORMANCE_FUZZ", "10000")),
}


@pytest.fixture(scope="module")
def full_run() -> runner.Outcome:
    """One run over every language (so random values are compared across all of them)."""
    langs = [lang for lang in build.LANGUAGES if build.probe(lang).status == "ready"]
    return runner.run(langs, **ENV_COUNTS)  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", build.LANGUAGES)
def test_language_conforms(lang: str, full_run: runner.Outcome) -> None:
    probe = build.probe(lang)
    if probe.status != "ready":
        pytest.skip(f"{lang}: {probe.status} ({probe.detail})")
    status = full_run.status.get(lang)
    assert status == "ready", f"{lang}: {status}\n" + "\n".join(p for p in full_run.problems if p.startswith(lang))
    mine = [p for p in full_run.problems if p.split(" ", 2)[1:2] == [lang] or p.startswith(f"{lang}:")]
    assert not mine, f"{len(mine)} unexpected result(s) for {lang}:\n" + "\n".join(mine[:40])
    assert full_run.results.cases[lang], f"no case ran for {lang}"


# ---- self-tests of the runner's oracles and plumbing ----


def _vectors(stem: str) -> dict[str, object]:
    return json.loads((runner.VECTORS / f"{stem}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_reference_wire_encoder_writes_every_golden_vector(ir: IR) -> None:
    checked = 0
    for protocol in ir["wire"]:
        model = WireModel(protocol)
        for case in _vectors(protocol["name"])["cases"]:  # type: ignore[union-attr]
            if "struct" in case and "error" not in case and not case.get("decode_only"):
                got = model.encode(case["struct"], case["value"], case.get("args"))
                assert got.hex() == case["hex"], case["name"]
                checked += 1
    assert checked > 100


def test_random_wire_values_round_trip_through_the_reference_encoder(ir: IR, python_sdk: Path) -> None:
    import importlib

    rng = random.Random(7)
    for protocol in ir["wire"]:
        model = WireModel(protocol)
        module = importlib.import_module(f"clutchcall.wire.{protocol['name']}")
        for st in protocol["structs"]:
            for _ in range(30):
                args = {a: rng.random() < 0.5 for a in st["args"]}
                value = model.generate(st["name"], rng, args)
                raw = model.encode(st["name"], value, args)
                decoded = getattr(module, st["name"]).decode(raw, **args)
                assert decoded.to_json() == value, (st["name"], value)


def test_random_dto_values_are_valid_protojson(ir: IR) -> None:
    oracle = load_oracle()
    gen = DtoGenerator(ir, random.Random(3))
    for msg in ir["messages"]:
        for _ in range(50):
            oracle_expect(oracle[msg["name"]], gen.message(msg["name"]))  # raises if upb refuses it


FAKE_TESTEE = textwrap.dedent(
    """
    import struct, sys, time
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    while True:
        h = inp.read(4)
        if len(h) < 4:
            break
        req = inp.read(struct.unpack("<I", h)[0])
        if req[0] == 1:
            sys.exit(7)          # crash
        if req[0] == 2:
            time.sleep(30)       # hang
        out.write(struct.pack("<I", 2) + b"\\x00" + bytes([req[0]]))
        out.flush()
    """
)


def test_client_survives_crash_and_hang(tmp_path: Path) -> None:
    script = tmp_path / "fake.py"
    script.write_text(FAKE_TESTEE)
    testee = Testee("fake", f"{sys.executable} {script}", tmp_path, tmp_path / "err", timeout=1.0)
    reqs = [Request(op, "x", b"") for op in (5, 1, 6, 2, 9)]
    got = testee.run(reqs)
    testee.close()
    assert [r.status for r in got] == [OK, CRASH, OK, HANG, OK]
    assert [r.body for r in got if r.status == OK] == [b"\x05", b"\x06", b"\x09"]
    assert testee.restarts == 2


def _broken_python_sdk(tmp: Path) -> Path:
    """The Python SDK with one byte of the Call encoder changed: field 1 (sid) gets tag 0x12."""
    gen = tmp / "gen"
    assert build.generate(["python"], gen) == ""
    path = gen / "python" / "clutchcall" / "messages.py"
    text = path.read_text(encoding="utf-8")
    start = text.index("class Call(Message):")
    enc = text.index("def _enc(self", start)
    # The tag byte of field 1 (LEN) is 0x0a; the generator spells it in one of these ways.
    tag = re.compile(r'put\(10\)|out\.append\(10\)|out \+= b"\\x0a"').search(text, enc)
    assert tag is not None, "cannot find the tag of Call.sid in the generated encoder"
    broken = tag.group().replace("10", "18").replace("x0a", "x12")
    path.write_text(text[: tag.start()] + broken + text[tag.end() :], encoding="utf-8")
    return gen


def test_a_broken_encoder_turns_the_run_red(tmp_path: Path) -> None:
    gen = _broken_python_sdk(tmp_path)
    failures = tmp_path / "failures"
    failures.mkdir()
    (failures / "python.txt").write_text("dto-vectors/Call/realistic  # listed, so expected\n")
    out = runner.run(
        ["python"], random_n=30, random_wire_n=2, fuzz_n=200, gen_dir=gen, failures_dir=failures, log=False
    )
    assert out.failed > 0
    problems = "\n".join(out.problems)
    assert "FAIL python dto-vectors/Call/" in problems
    assert "FAIL python random-dto/Call/" in problems
    assert "dto-vectors/Call/realistic:" not in problems  # the listed failure is expected
    assert "FAIL python dto-vectors/Call/" in out.report  # the printed report names language, type, case
    assert out.report.rstrip().splitlines()[-1] == f"{out.passed} passed, {out.failed} failed"
    # Only Call and the messages that embed it may fail.
    embedding = {"Call", "ListCallsResponse", "OriginateResult", "OriginateBulkResponse", "CallEvent"}
    failed_types = {p.split()[2].split("/")[1] for p in out.problems if p.startswith("FAIL ")}
    assert failed_types and failed_types <= embedding, failed_types


def test_an_unexpected_pass_turns_the_run_red(tmp_path: Path) -> None:
    failures = tmp_path / "failures"
    failures.mkdir()
    (failures / "python.txt").write_text("varint/quic/rfc9000_1_byte\n")
    out = runner.run(["python"], random_n=1, random_wire_n=1, fuzz_n=10, failures_dir=failures, log=False)
    assert out.failed == 1, out.problems
    assert out.problems == ["UNEXPECTED PASS python varint/quic/rfc9000_1_byte (listed in failures/python.txt)"]


def test_unavailable_languages_are_reported_not_failed() -> None:
    out = runner.run(["python", "cobol"], random_n=1, random_wire_n=1, fuzz_n=10, log=False)
    assert out.status["cobol"] == "not available"
    assert re.search(r"^cobol +\(not available\)$", out.report, re.MULTILINE)
    assert out.failed == 0, out.problems
