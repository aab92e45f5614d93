"""`apirpc-compiler breaking`: compare two versions of the IDL and fail on unacknowledged breaks.

Exit status: 0 no unacknowledged breaking change at the selected tier, 1 some, 2 usage errors,
an invalid OLD or NEW IDL (its diagnostics are printed), a bad acknowledgements file or a git
problem with --against.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

import click

from ..diagnostics import IdlError
from ..frontend.load import load_idl
from ..ir.model import IR
from ..pipeline import compile_idl
from .ack import Ack, AckError, apply_acks, load_acks
from .compare import compare
from .report import nearest_existing, render_json, render_text
from .rules import Tier

DEFAULT_ACK_NAME = "breaking-ack.json"


class _Usage(Exception):
    """A problem reported on stderr with exit status 2."""


def _fail(message: str) -> NoReturn:
    raise _Usage(message)


def _compile(path: str, label: str) -> IR:
    try:
        return compile_idl(path)
    except IdlError as e:
        for d in e.diagnostics:
            click.echo(dataclasses.replace(d, file=label).render(), err=True)
        n = len(e.diagnostics)
        _fail(f"{label}: {n} error{'s' if n != 1 else ''}; cannot compare")


def _git(cwd: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError as e:
        _fail(f"cannot run git: {e}")


@dataclasses.dataclass
class _Baseline:
    path: str  # a file holding OLD
    label: str  # how OLD is named in messages
    names: set[str]  # what an ack's `against` may say to target this baseline
    commit: str | None


def _from_git(new: str, ref: str, tmp: str) -> _Baseline | None:
    """OLD = NEW's path at `ref`, from the repository NEW lives in; None if it did not exist there."""
    cwd = os.path.dirname(os.path.abspath(new))
    if not os.path.isdir(cwd):
        _fail(f"{new}: directory does not exist")
    top = _git(cwd, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        _fail(f"{new} is not inside a git repository; --against needs one")
    root = top.stdout.decode().strip()
    resolved = _git(cwd, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if resolved.returncode != 0 or ref.startswith("-"):
        _fail(f"unknown git ref {ref!r} (not a commit, branch or tag of {root})")
    commit = resolved.stdout.decode().strip()
    rel = Path(os.path.relpath(os.path.realpath(new), os.path.realpath(root))).as_posix()
    shown = _git(cwd, "show", f"{commit}:{rel}")
    if shown.returncode != 0:
        return None
    old_path = os.path.join(tmp, os.path.basename(new))
    Path(old_path).write_bytes(shown.stdout)
    return _Baseline(old_path, f"{ref}:{rel}", {ref, commit}, commit)


def _load_acks(ack: str | None, new: str) -> list[Ack]:
    path = ack
    if path is None:
        default = os.path.join(os.path.dirname(os.path.abspath(new)), DEFAULT_ACK_NAME)
        path = default if os.path.isfile(default) else None
    if path is None:
        return []
    try:
        return load_acks(path)
    except AckError as e:
        _fail(str(e))


def _run(paths: tuple[str, ...], against: str | None, tier_name: str, fmt: str, ack: str | None) -> int:
    if against is not None and len(paths) != 1:
        _fail("with --against give only NEW: apirpc-compiler breaking NEW --against REF")
    if against is None and len(paths) != 2:
        _fail("give OLD and NEW, or NEW with --against REF")
    new = paths[-1]
    tier = Tier[tier_name]
    with tempfile.TemporaryDirectory(prefix="apirpc-breaking-") as tmp:
        if against is not None:
            baseline = _from_git(new, against, tmp)
            if baseline is None:
                click.echo(f"{new}: not present at {against}; nothing to compare")
                return 0
        else:
            baseline = _Baseline(paths[0], paths[0], set(), None)
        old_ir = _compile(baseline.path, baseline.label)
        new_ir = _compile(new, new)
    baseline.names.add(old_ir["source_sha256"])
    acks = _load_acks(ack, new)
    loaded = load_idl(new)  # compiled above, so this cannot fail
    document = loaded.document

    def locate(pointer: str) -> tuple[int, int]:
        return loaded.source_map.locate(nearest_existing(document, pointer))

    outcome = apply_acks(compare(old_ir, new_ir), acks, baseline.names, baseline.commit)
    outcome.breaking = [f for f in outcome.breaking if f.tier.selected_by(tier)]
    outcome.acknowledged = [(f, a) for f, a in outcome.acknowledged if f.tier.selected_by(tier)]
    if fmt == "json":
        click.echo(render_json(outcome, new, locate, tier))
    else:
        out, err = render_text(outcome, new, locate, tier)
        for line in err:
            click.echo(line, err=True)
        for line in out:
            click.echo(line)
    return 1 if outcome.breaking else 0


@click.command()
@click.argument("paths", nargs=-1, metavar="OLD NEW | NEW --against REF", type=click.Path(dir_okay=False))
@click.option(
    "--against",
    metavar="GIT_REF",
    help="Compare NEW with its own path at this git ref (branch, tag or commit) instead of OLD.",
)
@click.option(
    "--tier",
    "tier_name",
    type=click.Choice(["WIRE", "WIRE_JSON", "SOURCE"]),
    default="SOURCE",
    show_default=True,
    help="WIRE: binary protobuf, envelope and MoQT breaks; WIRE_JSON: also ProtoJSON/HTTP; SOURCE: also "
    "generated code.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--ack",
    type=click.Path(dir_okay=False),
    help=f"Acknowledged breaks (default: {DEFAULT_ACK_NAME} next to NEW, if present).",
)
def breaking(paths: tuple[str, ...], against: str | None, tier_name: str, fmt: str, ack: str | None) -> None:
    """Detect breaking changes between two versions of the IDL (see docs/breaking.md).

    Exit 0 if there is no unacknowledged breaking change at the selected tier, 1 if there is,
    2 on usage errors or an invalid IDL.
    """
    try:
        code = _run(paths, against, tier_name, fmt, ack)
    except _Usage as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    sys.exit(code)
