"""The `apirpc-compiler` command line. Every command prints diagnostics, never a traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .backends.base import Backend, all_backends
from .breaking.cli import breaking
from .diagnostics import IdlError
from .generate import GenerateError, diff_tree, produce, write_tree
from .pipeline import compile_idl


def _fail_idl(e: IdlError) -> None:
    for d in e.diagnostics:
        click.echo(d.render(), err=True)
    n = len(e.diagnostics)
    click.echo(f"{n} error{'s' if n != 1 else ''}", err=True)
    sys.exit(1)


def _select(targets: tuple[str, ...]) -> dict[str, Backend]:
    backends = all_backends()
    if not targets:
        return backends
    unknown = [t for t in targets if t not in backends]
    if unknown:
        raise click.BadParameter(
            f"unknown target {', '.join(unknown)}; known: {', '.join(backends)}", param_hint="--target"
        )
    return {t: backends[t] for t in targets}


def _parse_plugins(specs: tuple[str, ...]) -> dict[str, str]:
    plugins: dict[str, str] = {}
    for spec in specs:
        name, sep, command = spec.partition("=")
        if not sep or not name or not command:
            raise click.BadParameter(f"{spec!r}: expected NAME=COMMAND", param_hint="--plugin")
        plugins[name] = command
    return plugins


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="apirpc-compiler")
def main() -> None:
    """Compile the ClutchCall IDL: validate it, lower it to the IR, generate SDKs and docs,
    and detect breaking changes."""


@main.command()
@click.argument("idl", type=click.Path(dir_okay=False))
def validate(idl: str) -> None:
    """Check IDL against its schema, the semantic rules and every target's naming."""
    try:
        ir = compile_idl(idl, all_backends().values())
    except IdlError as e:
        _fail_idl(e)
        return
    click.echo(
        f"{idl}: ok ({len(ir['messages'])} messages, {len(ir['enums'])} enums, "
        f"{sum(len(s['methods']) for s in ir['services'])} methods, {len(ir['wire'])} wire protocols)"
    )


@main.command("ir")
@click.argument("idl", type=click.Path(dir_okay=False))
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
def ir_command(idl: str, out: str | None) -> None:
    """Print the normalized intermediate representation (the input of every backend) as JSON."""
    try:
        ir = compile_idl(idl, all_backends().values())
    except IdlError as e:
        _fail_idl(e)
        return
    text = json.dumps(ir, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


def _run_generate(idl: str, out: str, targets: tuple[str, ...], plugins: tuple[str, ...], check: bool) -> None:
    backends = _select(targets)
    plugin_map = _parse_plugins(plugins)
    if plugin_map and not targets:
        backends = {}
    try:
        ir = compile_idl(idl, backends.values())
        produced = produce(ir, backends, plugin_map)
    except IdlError as e:
        _fail_idl(e)
        return
    except GenerateError as e:
        raise click.ClickException(str(e)) from None
    root = Path(out)
    if check:
        diff = diff_tree(root, produced)
        if diff.clean():
            click.echo(f"{out}: up to date ({', '.join(sorted(produced))})")
            return
        for label, paths in (("stale", diff.stale), ("missing", diff.missing), ("extra", diff.extra)):
            for p in paths:
                click.echo(f"{label}: {out.rstrip('/')}/{p}", err=True)
        click.echo(f"{out} is out of date: run `apirpc-compiler generate {idl} --out {out}`", err=True)
        sys.exit(1)
    diff = write_tree(root, produced)
    changed = len(diff.stale) + len(diff.missing) + len(diff.extra)
    click.echo(f"{out}: {changed} file(s) changed ({', '.join(sorted(produced))})")


@main.command()
@click.argument("idl", type=click.Path(dir_okay=False))
@click.option("--out", default="generated", show_default=True, type=click.Path(file_okay=False))
@click.option("--target", "targets", multiple=True, help="Generate only this target (repeatable).")
@click.option(
    "--plugin",
    "plugins",
    multiple=True,
    metavar="NAME=COMMAND",
    help="Run an external backend: it reads the IR on stdin and returns files (repeatable).",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing stale, missing and extra files.")
def generate(idl: str, out: str, targets: tuple[str, ...], plugins: tuple[str, ...], check: bool) -> None:
    """Generate every target (or the named ones) from IDL into OUT/<target>/."""
    _run_generate(idl, out, targets, plugins, check)


@main.command()
@click.argument("idl", type=click.Path(dir_okay=False))
@click.option("--out", default="generated", show_default=True, type=click.Path(file_okay=False))
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the docs are out of date.")
def docs(idl: str, out: str, check: bool) -> None:
    """Write the Markdown reference of the API and the wire formats into OUT/docs/."""
    _run_generate(idl, out, ("docs",), (), check)


main.add_command(breaking)
