"""The `clutchcall-engine` command: `serve` runs the engine, `token` mints a development tenant token."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import re
from pathlib import Path
from typing import Any

import click

from . import __version__
from .auth import key_id, load_or_create_dev_key, load_private_key, mint_token, verifier_for
from .certs import resolve_certificate
from .config import ConfigError, EngineConfig, describe_limits, load_config

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_TTL_S = 366 * 86400


def parse_duration(text: str) -> float:
    """'90', '45s', '30m', '1h', '2d' as seconds."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a duration (examples: 90, 45s, 30m, 1h, 2d)")
    return float(m.group(1)) * _UNIT_S[m.group(2)]


def _limit_help() -> str:
    return "; ".join(f"{name} (default {default}): {doc}" for name, default, doc in describe_limits())


def _config(config_file: Path | None, overrides: dict[str, object]) -> EngineConfig:
    try:
        return load_config(config_file, {k: v for k, v in overrides.items() if v is not None and v != ()})
    except ConfigError as e:
        raise click.ClickException(str(e)) from None


def _section_overrides(section: str, items: tuple[str, ...], flag: str) -> dict[str, object]:
    """`NAME=VALUE` flags as the dotted settings of a config section (`limits.NAME`, `sip.NAME`)."""
    out: dict[str, object] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint=flag)
        out[f"{section}.{name.strip()}"] = value.strip()
    return out


_common = [
    click.option("--config", "config_file", type=click.Path(path_type=Path), help="TOML config file."),
    click.option("--state-dir", type=click.Path(path_type=Path), help="Where the dev certificate and key are kept."),
    click.option("--audience", help="The token audience (aud) this engine accepts."),
]


def _with_common(f: Any) -> Any:
    for option in reversed(_common):
        f = option(f)
    return f


@click.group()
@click.version_option(__version__, prog_name="clutchcall-engine")
def main() -> None:
    """The ClutchCall engine: a MoQT relay over raw QUIC and WebTransport."""


@main.command()
@_with_common
@click.option("--moqt-addr", help="MoQT over raw QUIC, host:port (default 127.0.0.1:4443).")
@click.option("--http-addr", help="HTTP/3 + WebTransport (/moq) and /metrics, host:port (default 127.0.0.1:4433).")
@click.option("--rest-addr", help="REST over HTTP/1.1, host:port (default 127.0.0.1:8080).")
@click.option("--rpc-addr", help="The legacy envelope RPC over QUIC, host:port (default 127.0.0.1:4444).")
@click.option(
    "--calls-db", type=click.Path(path_type=Path), help="The call store (SQLite); default: calls.db in the state dir."
)
@click.option("--cert", type=click.Path(path_type=Path), help="PEM certificate (with --key); default: self-signed.")
@click.option("--key", type=click.Path(path_type=Path), help="PEM private key of --cert.")
@click.option(
    "--verify-key",
    multiple=True,
    type=click.Path(path_type=Path),
    help="PEM public key that may sign tokens; repeat for rotation. Default: the development key.",
)
@click.option("--anonymous-publish", multiple=True, metavar="PREFIX", help="Prefix open to sessions without a token.")
@click.option("--anonymous-subscribe", multiple=True, metavar="PREFIX", help="Prefix open to sessions without a token.")
@click.option("--limit", "limits", multiple=True, metavar="NAME=VALUE", help="Set a limit. " + _limit_help())
@click.option(
    "--sip",
    "sip_settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set a SIP gateway setting ([sip] in the config file), e.g. --sip enabled=true --sip trunk=10.0.0.5:5060.",
)
@click.option("--log-level", default="info", type=click.Choice(["debug", "info", "warning", "error"]))
def serve(
    config_file: Path | None,
    state_dir: Path | None,
    audience: str | None,
    moqt_addr: str | None,
    http_addr: str | None,
    rest_addr: str | None,
    rpc_addr: str | None,
    calls_db: Path | None,
    cert: Path | None,
    key: Path | None,
    verify_key: tuple[Path, ...],
    anonymous_publish: tuple[str, ...],
    anonymous_subscribe: tuple[str, ...],
    limits: tuple[str, ...],
    sip_settings: tuple[str, ...],
    log_level: str,
) -> None:
    """Run the engine until interrupted."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides: dict[str, object] = {
        "moqt_addr": moqt_addr,
        "http_addr": http_addr,
        "rest_addr": rest_addr,
        "rpc_addr": rpc_addr,
        "calls_db": calls_db,
        "state_dir": state_dir,
        "cert": cert,
        "key": key,
        "verification_keys": verify_key,
        "audience": audience,
        "anonymous_publish": anonymous_publish,
        "anonymous_subscribe": anonymous_subscribe,
        **_section_overrides("limits", limits, "--limit"),
        **_section_overrides("sip", sip_settings, "--sip"),
    }
    config = _config(config_file, overrides)
    try:
        info = resolve_certificate(config)
        verifier_for(config)  # the key files are read now, so a bad one stops the start with its name
        if not config.verification_keys:
            dev_kid = key_id(load_or_create_dev_key(config.state_dir).public_key())
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    config = dataclasses.replace(config, cert_path=info.cert_path, key_path=info.key_path)
    echo = click.echo
    echo(f"MoQT (raw QUIC, ALPN moq-00): {config.moqt_addr}")
    echo(f"HTTP/3: {config.http_addr} (WebTransport at /moq, Prometheus at /metrics)")
    echo(
        f"certificate: {info.cert_path} ({'new' if info.generated else 'kept'}, valid until {info.not_after:%Y-%m-%d})"
    )
    echo(f"certificate sha256: {info.sha256}")
    if config.verification_keys:
        echo(f"token keys: {', '.join(map(str, config.verification_keys))}; audience {config.audience}")
    else:
        echo(f"token key: development key {dev_kid} in {config.state_dir} (mint: clutchcall-engine token)")
    echo(f"REST over HTTP/1.1: {config.rest_addr}; envelope RPC over QUIC: {config.rpc_addr}")
    echo(f"call store: {config.calls_db_path}")
    try:
        asyncio.run(_serve(config))
    except OSError as e:
        raise click.ClickException(f"cannot listen: {e}") from None
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    except KeyboardInterrupt:
        pass


async def _serve(config: EngineConfig) -> None:
    from .server import run_engine  # the listeners pull in aioquic; `token` does not need them

    ready = asyncio.Event()

    async def announce() -> None:
        await ready.wait()
        # What start-up made lives as long as the process: frozen out of the collector's reach, a full collection
        # walks only what calls and tracks made since (1,200 bridged legs: 2 ms pauses instead of 15-30 ms, which
        # is longer than a frame; benchmarks/README.md, AudioBridge).
        gc.freeze()
        click.echo("ready", err=True)

    announcer = asyncio.create_task(announce())
    try:
        await run_engine(config, ready=ready)
    finally:
        announcer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await announcer


@main.command()
@_with_common
@click.option("--tenant", required=True, help="The tenant (sub claim).")
@click.option("--publish", multiple=True, metavar="PREFIX", help="Namespace prefix it may publish under; repeatable.")
@click.option("--subscribe", multiple=True, metavar="PREFIX", help="Namespace prefix it may subscribe under.")
@click.option("--ttl", default="1h", show_default=True, help="Lifetime: 90, 45s, 30m, 1h, 2d.")
@click.option(
    "--signing-key", type=click.Path(path_type=Path), help="PEM ES256 private key; default: the development key."
)
def token(
    config_file: Path | None,
    state_dir: Path | None,
    audience: str | None,
    tenant: str,
    publish: tuple[str, ...],
    subscribe: tuple[str, ...],
    ttl: str,
    signing_key: Path | None,
) -> None:
    """Print a tenant token (a JWT) signed with the development key."""
    try:
        ttl_s = parse_duration(ttl)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--ttl") from None
    if not 0 < ttl_s <= MAX_TTL_S:
        raise click.BadParameter(f"must be more than 0 and at most 366 days, got {ttl}", param_hint="--ttl")
    if not tenant:
        raise click.BadParameter("must not be empty", param_hint="--tenant")
    for prefix in (*publish, *subscribe):
        if prefix and "" in prefix.split("/"):
            raise click.BadParameter(f"{prefix!r} has an empty namespace field", param_hint="--publish/--subscribe")
    config = _config(config_file, {"state_dir": state_dir, "audience": audience})
    try:
        key = load_private_key(signing_key) if signing_key else load_or_create_dev_key(config.state_dir)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    click.echo(
        mint_token(
            key,
            tenant=tenant,
            publish=publish,
            subscribe=subscribe,
            ttl_s=ttl_s,
            audience=config.audience,
            kid=key_id(key.public_key()),
        )
    )
