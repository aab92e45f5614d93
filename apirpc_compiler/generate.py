"""Write (or check) the generated tree: one directory per target under the output root.

Each target directory holds a manifest (`.apirpc-manifest`) of the files the compiler wrote
there, so that a later run removes exactly the files it no longer produces and never touches
anything else. Output is byte-identical on every run: no timestamps, sorted manifests, "\\n"
line endings.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .backends.base import Backend, GeneratedFile
from .ir.model import IR

MANIFEST = ".apirpc-manifest"
PLUGIN_TIMEOUT_S = 120
_STDERR_TAIL = 2000
# A plugin's name is its output directory: one plain path segment.
_PLUGIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class GenerateError(Exception):
    pass


@dataclass
class TreeDiff:
    stale: list[str] = field(default_factory=list)  # content differs
    missing: list[str] = field(default_factory=list)  # should exist, does not
    extra: list[str] = field(default_factory=list)  # written before, no longer produced

    def clean(self) -> bool:
        return not (self.stale or self.missing or self.extra)


def _safe_rel(path: str) -> PurePosixPath:
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or not p.parts or path.endswith("/") or p.name == MANIFEST:
        raise GenerateError(f"backend produced an unsafe output path: {path!r}")
    return p


def run_plugin(name: str, command: str, ir: IR) -> list[GeneratedFile]:
    """Run an external backend: IR JSON on stdin; `{"files": [{"path", "content"}]}` or `{"error"}` on stdout."""
    request = json.dumps({"target": name, "ir": ir}, sort_keys=True).encode()
    try:
        argv = shlex.split(command)
    except ValueError as e:
        raise GenerateError(f"plugin {name}: cannot parse command {command!r}: {e}") from None
    if not argv:
        raise GenerateError(f"plugin {name}: empty command")
    try:
        proc = subprocess.run(argv, input=request, capture_output=True, timeout=PLUGIN_TIMEOUT_S, check=False)
    except OSError as e:
        raise GenerateError(f"plugin {name}: cannot run {command!r}: {e.strerror or e}") from None
    except subprocess.TimeoutExpired:
        raise GenerateError(f"plugin {name}: no answer within {PLUGIN_TIMEOUT_S}s") from None
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        if len(err) > _STDERR_TAIL:  # the end of a crash report says the most
            err = "..." + err[-_STDERR_TAIL:]
        raise GenerateError(f"plugin {name}: exited with {proc.returncode}" + (f": {err}" if err else ""))
    try:
        response = json.loads(proc.stdout)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise GenerateError(f"plugin {name}: stdout is not a JSON response: {e}") from None
    if not isinstance(response, dict):
        raise GenerateError(f"plugin {name}: response must be a JSON object")
    if response.get("error"):
        raise GenerateError(f"plugin {name}: {response['error']}")
    files = response.get("files")
    if not isinstance(files, list) or not all(
        isinstance(f, dict) and isinstance(f.get("path"), str) and isinstance(f.get("content"), str) for f in files
    ):
        raise GenerateError(f'plugin {name}: response must have "files": [{{"path": str, "content": str}}]')
    for f in files:
        try:
            f["content"].encode("utf-8")
        except UnicodeEncodeError:
            raise GenerateError(f"plugin {name}: content of {f['path']!r} is not valid Unicode text") from None
    return [GeneratedFile(f["path"], f["content"]) for f in files]


def produce(ir: IR, backends: dict[str, Backend], plugins: dict[str, str]) -> dict[str, list[GeneratedFile]]:
    out: dict[str, list[GeneratedFile]] = {}
    for name, backend in backends.items():
        try:
            out[name] = backend.generate(ir)
        except Exception as e:
            # A backend that cannot handle a valid IR is a compiler bug (or a documented target
            # limit): say which target and why instead of a traceback; APIRPC_DEBUG=1 re-raises.
            if os.environ.get("APIRPC_DEBUG"):
                raise
            raise GenerateError(
                f"target {name}: {e} (set APIRPC_DEBUG=1 for the traceback; please report it)"
            ) from None
    for name, command in plugins.items():
        if not _PLUGIN_NAME.match(name) or name in out:
            raise GenerateError(
                f"plugin name {name!r} must be a plain directory name (letters, digits, _ . -) "
                "and differ from the other targets of the run"
            )
        out[name] = run_plugin(name, command, ir)
    for name, files in out.items():
        seen: set[str] = set()
        for f in files:
            _safe_rel(f.path)
            if f.path in seen:
                raise GenerateError(f"target {name} produced {f.path} twice")
            seen.add(f.path)
    return out


def _read_manifest(target_dir: Path) -> list[str]:
    mf = target_dir / MANIFEST
    if not mf.is_file():
        return []
    return [line for line in mf.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]


def _manifest_text(paths: list[str]) -> str:
    return "# Files written by apirpc-compiler; it removes those it no longer produces.\n" + "".join(
        p + "\n" for p in sorted(paths)
    )


def diff_tree(out_root: Path, produced: dict[str, list[GeneratedFile]]) -> TreeDiff:
    diff = TreeDiff()
    for target, files in sorted(produced.items()):
        tdir = out_root / target
        wanted = {f.path: f.content for f in files}
        wanted[MANIFEST] = _manifest_text(list(wanted))
        for rel, content in sorted(wanted.items()):
            p = tdir / rel
            if not p.is_file():
                diff.missing.append(f"{target}/{rel}")
            elif p.read_bytes() != content.encode("utf-8"):
                diff.stale.append(f"{target}/{rel}")
        for rel in _read_manifest(tdir):
            if rel not in wanted and (tdir / rel).exists():
                diff.extra.append(f"{target}/{rel}")
    return diff


def write_tree(out_root: Path, produced: dict[str, list[GeneratedFile]]) -> TreeDiff:
    """Bring the tree in line with `produced`; returns what it changed."""
    diff = diff_tree(out_root, produced)
    for target, files in sorted(produced.items()):
        tdir = out_root / target
        wanted = {f.path: f.content for f in files}
        for rel in _read_manifest(tdir):
            if rel not in wanted:
                p = tdir / rel
                if p.is_file():
                    p.unlink()
                    _prune_empty_dirs(p.parent, tdir)
        for rel, content in sorted(wanted.items()):
            p = tdir / rel
            data = content.encode("utf-8")
            if p.is_file() and p.read_bytes() == data:
                continue
            p.parent.mkdir(parents=True, exist_ok=True)
            tmp = p.with_name(p.name + ".apirpc-tmp")
            tmp.write_bytes(data)
            os.replace(tmp, p)
        mf = tdir / MANIFEST
        text = _manifest_text(list(wanted)).encode("utf-8")
        if not (mf.is_file() and mf.read_bytes() == text):
            mf.parent.mkdir(parents=True, exist_ok=True)
            mf.write_bytes(text)
    return diff


def _prune_empty_dirs(d: Path, stop: Path) -> None:
    while d != stop and d.is_dir() and not any(d.iterdir()):
        d.rmdir()
        d = d.parent
