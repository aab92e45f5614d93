"""`apirpc-compiler generate` end to end: determinism, `--check`, the manifest (stale, missing,
extra, removal of files no longer produced), unknown targets, and the header of every file."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from apirpc_compiler.backends.base import all_backends
from apirpc_compiler.cli import main
from apirpc_compiler.generate import MANIFEST
from apirpc_compiler.ir.model import IR

ROOT = Path(__file__).resolve().parent.parent.parent
IDL = ROOT / "api" / "clutchcall.json"

# A plugin whose output is whatever its arguments name: the simplest way to make a target
# produce fewer files on the next run.
FILES_PLUGIN = """
import json, sys
req = json.load(sys.stdin)
sha = req["ir"]["source_sha256"]
print(json.dumps({"files": [{"path": p, "content": f"# sha256 {sha}\\n{p}\\n"} for p in sys.argv[1:]]}))
"""


def _gen(out: Path, *args: str, idl: Path = IDL) -> Result:
    return CliRunner().invoke(main, ["generate", str(idl), "--out", str(out), *args])


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _files_plugin(tmp_path: Path, *paths: str) -> str:
    script = tmp_path / "files_plugin.py"
    script.write_text(FILES_PLUGIN, encoding="utf-8")
    return "fake=" + " ".join(shlex.quote(a) for a in [sys.executable, str(script), *paths])


def test_generate_twice_is_byte_identical(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        res = _gen(out)
        assert res.exit_code == 0, res.output
    ta, tb = _tree(a), _tree(b)
    assert ta == tb
    assert {p.split("/", 1)[0] for p in ta} == set(all_backends())  # one directory per target
    # a second run into the same tree changes nothing
    res = _gen(a)
    assert res.exit_code == 0 and "0 file(s) changed" in res.output, res.output
    assert _tree(a) == ta


def test_every_file_starts_with_the_header(tmp_path: Path, ir: IR) -> None:
    assert _gen(tmp_path).exit_code == 0
    files = _tree(tmp_path)
    assert files
    for rel, data in files.items():
        if rel.endswith("/" + MANIFEST):
            continue
        if not data:  # an empty marker file (PEP 561 py.typed) has no text to mislabel
            continue
        head = data[:512].decode("utf-8", errors="replace")
        assert f"sha256: {ir['source_sha256']}" in head, f"{rel} lacks the generated-code header"
        assert "DO NOT EDIT" in head, rel


def test_check_fresh_tree_passes(tmp_path: Path) -> None:
    assert _gen(tmp_path).exit_code == 0
    res = _gen(tmp_path, "--check")
    assert res.exit_code == 0, res.output
    assert "up to date" in res.output


def test_check_on_empty_dir_lists_everything_missing(tmp_path: Path) -> None:
    res = _gen(tmp_path, "--target", "docs", "--check")
    assert res.exit_code == 1
    assert f"missing: {tmp_path}/docs/README.md" in res.output
    assert not (tmp_path / "docs").exists()  # --check writes nothing


def test_check_reports_stale_and_missing(tmp_path: Path) -> None:
    assert _gen(tmp_path, "--target", "docs").exit_code == 0
    (tmp_path / "docs" / "enums.md").write_text("edited by hand\n", encoding="utf-8")
    (tmp_path / "docs" / "wire.md").unlink()
    res = _gen(tmp_path, "--target", "docs", "--check")
    assert res.exit_code == 1
    lines = [ln for ln in res.output.splitlines() if ln.startswith(("stale:", "missing:", "extra:"))]
    assert lines == [f"stale: {tmp_path}/docs/enums.md", f"missing: {tmp_path}/docs/wire.md"]
    assert "is out of date" in res.output
    # generate repairs exactly those two files
    res = _gen(tmp_path, "--target", "docs")
    assert res.exit_code == 0 and "2 file(s) changed" in res.output, res.output
    assert _gen(tmp_path, "--target", "docs", "--check").exit_code == 0


def test_files_no_longer_produced_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    old = _files_plugin(tmp_path, "keep.txt", "sub/dir/gone.txt", "gone2.txt")
    assert _gen(out, "--plugin", old).exit_code == 0
    user_file = out / "fake" / "notes.txt"  # a file the compiler never wrote
    user_file.write_text("mine\n", encoding="utf-8")
    new = _files_plugin(tmp_path, "keep.txt")
    res = _gen(out, "--check", "--plugin", new)
    assert res.exit_code == 1
    listed = sorted(ln for ln in res.output.splitlines() if ln.startswith(("stale:", "missing:", "extra:")))
    assert listed == [
        f"extra: {out}/fake/gone2.txt",
        f"extra: {out}/fake/sub/dir/gone.txt",
        f"stale: {out}/fake/{MANIFEST}",
    ]
    res = _gen(out, "--plugin", new)
    assert res.exit_code == 0, res.output
    assert sorted(_tree(out / "fake")) == [MANIFEST, "keep.txt", "notes.txt"]
    assert not (out / "fake" / "sub").exists()  # emptied directories go too
    assert user_file.read_text(encoding="utf-8") == "mine\n"
    manifest = (out / "fake" / MANIFEST).read_text(encoding="utf-8").splitlines()
    assert [ln for ln in manifest if not ln.startswith("#")] == ["keep.txt"]
    assert _gen(out, "--check", "--plugin", new).exit_code == 0


def test_removing_a_service_removes_its_docs_page(tmp_path: Path) -> None:
    doc = json.loads(IDL.read_text(encoding="utf-8"))
    victim = next(name for name in doc["services"] if name != next(iter(doc["services"])))
    out = tmp_path / "out"
    assert _gen(out, "--target", "docs").exit_code == 0
    page = out / "docs" / "services" / f"{victim}.md"
    assert page.is_file()
    (out / "docs" / "mine.md").write_text("user notes\n", encoding="utf-8")
    del doc["services"][victim]
    smaller = tmp_path / "clutchcall.json"
    smaller.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    res = _gen(out, "--target", "docs", "--check", idl=smaller)
    assert res.exit_code == 1
    assert f"extra: {out}/docs/services/{victim}.md" in res.output
    res = _gen(out, "--target", "docs", idl=smaller)
    assert res.exit_code == 0, res.output
    assert not page.exists()
    assert (out / "docs" / "mine.md").read_text(encoding="utf-8") == "user notes\n"
    assert (out / "docs" / "services").is_dir()  # still holds the other services' pages


def test_unknown_target(tmp_path: Path) -> None:
    res = _gen(tmp_path, "--target", "cobol")
    assert res.exit_code == 2
    assert "unknown target cobol; known: " in res.output
    assert "docs" in res.output.split("known: ", 1)[1]
    assert "Traceback" not in res.output
    assert not any(tmp_path.iterdir())


def test_docs_command(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["docs", str(IDL), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs"]
    res = CliRunner().invoke(main, ["docs", str(IDL), "--out", str(tmp_path), "--check"])
    assert res.exit_code == 0, res.output


def test_a_failing_backend_is_reported_without_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from apirpc_compiler.backends import base

    class Broken:
        name = "broken"
        description = "always fails"

        def generate(self, ir: IR) -> list[base.GeneratedFile]:
            raise ValueError("cannot handle message X")

        def check_names(self, ir: IR) -> list[base.NameClash]:
            return []

    monkeypatch.setattr(base, "_REGISTRY", {**base._REGISTRY, "broken": Broken})
    monkeypatch.delenv("APIRPC_DEBUG", raising=False)
    result = CliRunner().invoke(main, ["generate", str(IDL), "--out", str(tmp_path), "--target", "broken"])
    assert result.exit_code == 1, result.output
    assert "target broken: cannot handle message X" in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, ValueError)
