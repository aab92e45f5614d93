"""`apirpc-compiler breaking` (PLACEHOLDER: replaced by the breaking-change detector)."""

from __future__ import annotations

import click


@click.command()
def breaking() -> None:
    """Detect breaking changes between two versions of the IDL."""
    raise click.ClickException("not implemented yet")
