"""The Java target end to end: generate, check the output with google-java-format, build with
-Xlint:all -Werror, run the package's native tests (golden vectors and decoder fuzzing, `mvn
test`), build the conformance testee and self-check it, and the namer's clash checks. Skips only
when Java or Maven is not installed, or (the formatter check) when Maven Central is unreachable."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from apirpc_compiler.backends.base import all_backends
from apirpc_compiler.generate import produce, write_tree
from apirpc_compiler.ir.model import IR

ROOT = Path(__file__).resolve().parents[2]
TESTEE = ROOT / "tests" / "conformance" / "testees" / "java"
# 1.22.0 is the newest google-java-format release that still runs on Java 17.
GJF = "com.google.googlejavaformat:google-java-format:1.22.0:jar:all-deps"
# The formatter reaches into javac's internals, which Java 17 only opens on request.
_JAVAC_EXPORTS = [
    f"--add-exports=jdk.compiler/com.sun.tools.javac.{p}=ALL-UNNAMED"
    for p in ("api", "code", "file", "parser", "tree", "util")
]


def _toolchain() -> None:
    missing = [t for t in ("java", "javac", "mvn") if shutil.which(t) is None]
    if missing:
        print(f"Java toolchain absent: {', '.join(missing)} not on PATH")
        pytest.skip(f"Java toolchain absent: {', '.join(missing)} not on PATH")


@pytest.fixture(scope="session")
def java_pkg(ir: IR, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("java_gen")
    write_tree(out, produce(ir, {"java": all_backends()["java"]}, {}))
    return out / "java"


def _mvn_test(pkg: Path) -> subprocess.CompletedProcess[str]:
    _toolchain()
    env = dict(os.environ, CLUTCHCALL_VECTORS=str(ROOT / "tests" / "vectors"))
    return subprocess.run(["mvn", "-q", "-B", "test"], cwd=pkg, env=env, capture_output=True, text=True, timeout=900)


def _check_build(build: subprocess.CompletedProcess[str], pkg: Path) -> None:
    assert build.returncode == 0, build.stdout[-6000:] + build.stderr[-3000:]
    reports = list((pkg / "target" / "surefire-reports").glob("*.xml"))
    text = "".join(p.read_text() for p in reports)
    # Every DTO, varint, envelope and MoQT vector is one dynamic test case.
    assert text.count("<testcase") > 500, "too few vector test cases ran"
    for fuzz in ("messageDecoders", "wireStructDecoders", "streamParsers"):
        assert f'name="{fuzz}"' in text, f"decoder fuzz test {fuzz} did not run"
    assert "<failure" not in text and "<error" not in text


def build_and_test(pkg_dir: Path) -> None:
    """The regeneration test's hook: `mvn test` (lint as errors, vectors, fuzzing) on a package."""
    _check_build(_mvn_test(pkg_dir), pkg_dir)


@pytest.fixture(scope="session")
def java_build(java_pkg: Path) -> subprocess.CompletedProcess[str]:
    """`mvn test` once per session: compile (lint as errors) and run the native vector tests."""
    return _mvn_test(java_pkg)


def _maven_central_reachable() -> bool:
    try:
        urllib.request.urlopen("https://repo.maven.apache.org/maven2/", timeout=15).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def gjf_jar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """google-java-format from Maven Central (through the local Maven cache); not a dependency of
    the generated pom, so users' builds never need it."""
    _toolchain()
    out = tmp_path_factory.mktemp("gjf")
    got = subprocess.run(
        ["mvn", "-q", "-B", "dependency:copy", f"-Dartifact={GJF}", f"-DoutputDirectory={out}"],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=600,
    )
    jars = list(out.glob("google-java-format-*.jar"))
    if got.returncode != 0 or not jars:
        if not _maven_central_reachable():
            print("Maven Central unreachable: cannot fetch google-java-format")
            pytest.skip("Maven Central unreachable: cannot fetch google-java-format")
        pytest.fail("could not fetch google-java-format:\n" + got.stdout[-3000:] + got.stderr[-3000:])
    return jars[0]


def test_generated_java_is_google_java_format_clean(java_pkg: Path, gjf_jar: Path) -> None:
    sources = sorted(str(p) for p in java_pkg.rglob("*.java"))
    assert len(sources) > 100
    check = subprocess.run(
        ["java", *_JAVAC_EXPORTS, "-jar", str(gjf_jar), "--dry-run", "--set-exit-if-changed", *sources],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # --dry-run prints the files it would change.
    assert check.returncode == 0 and check.stdout == "", check.stdout + check.stderr


def test_layout_breaks_like_the_formatter() -> None:
    from apirpc_compiler.backends.java.layout import fit

    lit = '"' + "x" * 30 + '"'
    long_call = f"    throw r.error(Reason.INVALID_VALUE, {lit} + Long.toUnsignedString(value));"
    assert fit(long_call).split("\n") == [
        "    throw r.error(",
        f"        Reason.INVALID_VALUE, {lit} + Long.toUnsignedString(value));",
    ]
    chain = "    return " + " || ".join(f"code == {i}L" for i in range(12)) + ";"
    lines = fit(chain).split("\n")
    assert lines[0] == "    return code == 0L" and lines[1] == "        || code == 1L"
    assert lines[-1] == "        || code == 11L;" and len(lines) == 12
    words = " ".join(["word"] * 40)
    split = fit(f'    f("{words}");').split("\n")
    assert split[0] == "    f(" and split[1].startswith('        "word word')
    assert all(len(x) <= 100 for x in split) and split[2].startswith('            + " word')
    assert "".join(x.strip().removeprefix('+ "').rstrip('");') for x in split).count("word") == 40


def test_generated_files_have_header_and_are_deterministic(ir: IR) -> None:
    backend = all_backends()["java"]
    first = backend.generate(ir)
    second = backend.generate(copy.deepcopy(ir))
    assert [(f.path, f.content) for f in first] == [(f.path, f.content) for f in second]
    for f in first:
        if f.path.endswith(".java"):
            assert f.content.startswith("// Code generated by apirpc-compiler from"), f.path
    paths = {f.path for f in first}
    assert "pom.xml" in paths
    assert "src/main/java/dev/clutchcall/v1/wire/moqt_d14/SubgroupObject.java" in paths
    assert "src/test/java/dev/clutchcall/v1/VectorsTest.java" in paths
    assert "src/test/java/dev/clutchcall/v1/FuzzTest.java" in paths


def test_mvn_build_lint_and_native_vector_tests(java_build: subprocess.CompletedProcess[str], java_pkg: Path) -> None:
    _check_build(java_build, java_pkg)


def test_conformance_testee_selfcheck(java_build: subprocess.CompletedProcess[str], java_pkg: Path) -> None:
    assert java_build.returncode == 0
    built = subprocess.run(["sh", str(TESTEE / "build.sh"), str(java_pkg)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    cmd = built.stdout.strip().splitlines()[-1].split()
    check = subprocess.run(
        [sys.executable, str(TESTEE / "selfcheck.py"), *cmd], capture_output=True, text=True, timeout=300
    )
    assert check.returncode == 0, check.stdout + check.stderr


def _clashes(ir: IR) -> list[str]:
    return [c.message for c in all_backends()["java"].check_names(ir)]


def test_check_names_clean_on_the_real_idl(ir: IR) -> None:
    assert _clashes(ir) == []


def test_check_names_type_vs_package_name(ir: IR) -> None:
    bad = copy.deepcopy(ir)
    bad["messages"][0]["words"] = ["messages"]
    msgs = _clashes(bad)
    assert any("'Messages'" in m and "a name the package defines" in m for m in msgs), msgs


def test_check_names_oneof_case_vs_field_accessor(ir: IR) -> None:
    bad = copy.deepcopy(ir)
    msg = next(m for m in bad["messages"] if m["oneofs"])
    field = msg["fields"][0]
    field["words"] = [*msg["oneofs"][0]["words"], "case"]
    msgs = _clashes(bad)
    assert any("getTargetCase" in m or "Case'" in m for m in msgs), msgs


def test_check_names_keyword_is_escaped_not_reported(ir: IR) -> None:
    ok = copy.deepcopy(ir)
    ok["messages"][0]["fields"][0]["words"] = ["class"]
    assert _clashes(ok) == []
    from apirpc_compiler.backends.java.namer import JavaNamer

    assert JavaNamer().field_name(["class"]) == "class_"
    assert JavaNamer().accessor("get", ["class"]) == "getClass_"


@pytest.mark.parametrize("name", ["State", "Transition", "Table", "FrameHeader", "BufferedParser"])
def test_check_names_wire_struct_vs_parser_table_type(ir: IR, name: str) -> None:
    """A stream parser names its table's types (inherited from BufferedParser) by simple name, so a
    struct of the protocol spelled the same would be shadowed there: reported, not miscompiled."""
    bad = copy.deepcopy(ir)
    proto = next(p for p in bad["wire"] if p["streams"])
    proto["structs"][0]["words"] = [w.lower() for w in re.findall(r"[A-Z][a-z]*", name)]
    msgs = _clashes(bad)
    assert any(f"'{name}'" in m and "a name the package defines" in m for m in msgs), msgs
