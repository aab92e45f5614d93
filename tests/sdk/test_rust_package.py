"""The `rust` target: generate the crate, then format-check, lint, build and run its native tests
(which read the golden vectors through CLUTCHCALL_VECTORS) with the real toolchain.

The cargo build directory is shared across runs (under the system temp dir) so that repeated
runs only recompile what changed; the toolchain steps share one session-scoped generated crate.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from apirpc_compiler.backends.base import all_backends
from apirpc_compiler.generate import produce, write_tree
from apirpc_compiler.ir.model import IR

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
TARGET_DIR = Path(tempfile.gettempdir()) / "clutchcall-rust-sdk-target"


def _cargo() -> str:
    cargo = shutil.which("cargo")
    if cargo is None:
        print("cargo not found on PATH: skipping the Rust toolchain checks")
        pytest.skip("the Rust toolchain (cargo) is not installed")
    return cargo


@pytest.fixture(scope="session")
def rust_crate(ir: IR, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rust-gen")
    write_tree(out, produce(ir, {"rust": all_backends()["rust"]}, {}))
    return out / "rust"


def _run(crate: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CARGO_TARGET_DIR=str(TARGET_DIR), CLUTCHCALL_VECTORS=str(VECTORS))
    proc = subprocess.run(
        [_cargo(), *args], cwd=crate, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert proc.returncode == 0, f"cargo {' '.join(args)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
    return proc


def test_every_file_has_the_header(rust_crate: Path, ir: IR) -> None:
    files = [p for p in rust_crate.rglob("*") if p.is_file() and p.name != ".apirpc-manifest"]
    assert {"Cargo.toml", "lib.rs", "messages.rs", "moqt_d14.rs", "vectors.rs"} <= {p.name for p in files}
    for p in files:
        text = p.read_text(encoding="utf-8")
        assert ir["source_sha256"] in text.splitlines()[1], p
    lib = (rust_crate / "src" / "lib.rs").read_text(encoding="utf-8")
    assert "#![forbid(unsafe_code)]" in lib
    assert "[dependencies]\n" in (rust_crate / "Cargo.toml").read_text(encoding="utf-8")


def test_generation_is_deterministic(ir: IR) -> None:
    backend = all_backends()["rust"]
    first = backend.generate(ir)
    second = backend.generate(copy.deepcopy(ir))
    assert [(f.path, f.content) for f in first] == [(f.path, f.content) for f in second]


def test_name_clashes_are_reported(ir: IR) -> None:
    backend = all_backends()["rust"]
    assert backend.check_names(ir) == []
    bad = copy.deepcopy(ir)
    msg = next(m for m in bad["messages"] if m["name"] == "Call")
    # `unknown_fields` is the crate's own member of every message.
    msg["fields"][0]["words"] = ["unknown", "fields"]
    clone = copy.deepcopy(bad["enums"][0])
    clone["name"] = "Call_"
    clone["words"] = ["call"]  # spelled `Call` in Rust, like the message
    bad["enums"].append(clone)
    clashes = backend.check_names(bad)
    text = "\n".join(c.message for c in clashes)
    assert "unknown_fields" in text and "'Call'" in text, text


def test_wire_name_clashes_are_reported(ir: IR) -> None:
    """A wire struct spelled like a runtime type a protocol module imports, or like a stream's
    item enum, is a clash (not a compile error in the generated crate)."""
    bad = copy.deepcopy(ir)
    structs = next(p for p in bad["wire"] if p["name"] == "moqt_d14")["structs"]
    structs[0]["words"] = ["transition"]
    structs[1]["words"] = ["control", "message"]
    text = "\n".join(c.message for c in all_backends()["rust"].check_names(bad))
    assert "'Transition'" in text and "'ControlMessage'" in text, text


# The generator lays code out as rustfmt does (generation itself needs no Rust toolchain).
def test_cargo_fmt(rust_crate: Path) -> None:
    _run(rust_crate, "fmt", "--check")


def test_cargo_clippy(rust_crate: Path) -> None:
    _run(rust_crate, "clippy", "--offline", "--all-targets", "--", "-D", "warnings")


def test_cargo_build_has_no_warnings(rust_crate: Path) -> None:
    proc = _run(rust_crate, "build", "--offline", "--all-targets")
    assert "warning" not in proc.stderr, proc.stderr[-4000:]


def test_cargo_test_golden_vectors(rust_crate: Path) -> None:
    proc = _run(rust_crate, "test", "--offline")
    out = proc.stdout
    for name in ("dto_vectors", "varint_vectors", "envelope_vectors", "moqt_d14_vectors"):
        assert f"test {name} ... ok" in out, out


def build_and_test(pkg_dir: Path) -> None:
    """The regeneration test's hook: build with no warnings and run the native vector tests."""
    test_cargo_build_has_no_warnings(pkg_dir)
    test_cargo_test_golden_vectors(pkg_dir)
