"""The engine's configuration: addresses, certificate, token keys and every limit.

Precedence: built-in defaults, then an optional TOML file, then command-line flags. Every value is
validated once, here; a bad value raises `ConfigError` naming the setting and where it came from.

TOML layout (every key optional; relative paths are relative to the file)::

    moqt_addr = "127.0.0.1:4443"        # MoQT over raw QUIC (ALPN moq-00)
    http_addr = "127.0.0.1:4433"        # HTTP/3: WebTransport at /moq, Prometheus text at /metrics, REST /v1/...
    rest_addr = "127.0.0.1:8080"        # REST over HTTP/1.1 (curl, any HTTP library)
    rpc_addr = "127.0.0.1:4444"         # the legacy envelope RPC over QUIC
    calls_db = "calls.db"               # the call store (SQLite, WAL); default state_dir/calls.db
    state_dir = "/var/lib/clutchcall-engine"
    cert = "cert.pem"                   # both or neither; neither = self-signed in state_dir
    key = "key.pem"
    verification_keys = ["k1.pem", "k2.pem"]   # ES256 public keys (PEM); none = the dev key in state_dir
    audience = "clutchcall-engine"
    token_leeway_s = 0.0
    anonymous_publish = []              # prefixes open to sessions without a token (default: none)
    anonymous_subscribe = []

    [limits]
    max_sessions = 10000
    ...                                 # every field of `Limits`

    [sip]                               # the SIP gateway (B2BUA); every field of `SipConfig`
    listen = "127.0.0.1:5060"           # UDP and TCP
    trunk = "127.0.0.1:5080"            # the carrier outbound INVITEs go to
    trunk_transport = "udp"             # or "tcp"
    inbound_tenant = "default"
    rtp_ports = "20000-20999"
    invite_rate = 50.0                  # new INVITEs per second accepted (burst: invite_burst); past it, 503
    forward = {"+15550001" = "+15550002"}  # inbound calls to a key are dialed out to its value as sip_rtp calls
    relay_backend = "auto"              # the RTP relay of sip_rtp calls: auto, af_xdp, io_uring or recvmmsg
    relay_ifname = ""                   # the interface AF_XDP attaches to ("" : auto falls back to io_uring)
    relay_shards = 1
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

DEFAULT_MOQT_PORT = 4443
DEFAULT_HTTP_PORT = 4433
DEFAULT_AUDIENCE = "clutchcall-engine"
DEFAULT_REST_PORT = 8080
DEFAULT_RPC_PORT = 4444


class ConfigError(ValueError):
    """A setting is missing, unknown, of the wrong type or out of range; the message names it and its source."""


class Address(NamedTuple):
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


DEFAULT_MOQT_ADDR = Address("127.0.0.1", DEFAULT_MOQT_PORT)
DEFAULT_HTTP_ADDR = Address("127.0.0.1", DEFAULT_HTTP_PORT)
DEFAULT_REST_ADDR = Address("127.0.0.1", DEFAULT_REST_PORT)
DEFAULT_RPC_ADDR = Address("127.0.0.1", DEFAULT_RPC_PORT)
DEFAULT_SIP_ADDR = Address("127.0.0.1", 5060)
DEFAULT_TRUNK_ADDR = Address("127.0.0.1", 5080)


def _limit(default: float, lo: float, hi: float, doc: str) -> Any:
    return field(default=default, metadata={"min": lo, "max": hi, "doc": doc})


@dataclass(frozen=True)
class Limits:
    """Every bound of the engine. What a bound refuses or drops is counted in `metrics`."""

    max_sessions: int = _limit(10_000, 1, 1_000_000, "concurrent MoQT sessions (both listeners)")
    max_streams_per_session: int = _limit(256, 1, 65_536, "concurrent streams a peer may open (QUIC stream limit)")
    session_buffer_bytes: int = _limit(1 << 20, 4096, 1 << 30, "bytes buffered per session before it is refused more")
    max_control_message_bytes: int = _limit(16_384, 64, 65_535, "largest control message (draft-14: 16-bit length)")
    max_subscriptions_per_session: int = _limit(1_000, 1, 1_000_000, "live and held SUBSCRIBEs per session")
    subscriber_queue_ms: int = _limit(200, 1, 60_000, "a subscriber's queue bound in media time; oldest groups drop")
    subscriber_queue_bytes: int = _limit(64 * 1024, 512, 1 << 30, "a subscriber's queue bound in bytes; oldest drop")
    held_subscribe_timeout_s: float = _limit(5.0, 0.0, 3600.0, "how long a SUBSCRIBE waits for its publisher")
    max_request_id_window: int = _limit(100, 1, 1 << 20, "request IDs granted ahead in MAX_REQUEST_ID")
    auth_token_cache_bytes: int = _limit(4096, 0, 1 << 20, "token bytes a session may register as aliases")
    track_cache_bytes: int = _limit(256 * 1024, 0, 1 << 30, "bytes of the latest group kept per track (FETCH)")
    max_tracks: int = _limit(100_000, 1, 10_000_000, "tracks the relay routes at once")
    max_namespace_fields: int = _limit(32, 1, 32, "fields in a track namespace (draft-14 allows 1..32)")
    max_full_track_name_bytes: int = _limit(4096, 16, 4096, "namespace plus track name bytes (draft-14: <= 4096)")
    metrics_max_tracks: int = _limit(1_000, 0, 100_000, "tracks with their own metric labels; the rest are _other")
    idle_timeout_s: float = _limit(30.0, 1.0, 3600.0, "QUIC idle timeout")
    goaway_grace_s: float = _limit(5.0, 0.0, 600.0, "after GOAWAY, how long sessions may drain before closing")
    max_live_calls_per_tenant: int = _limit(1_000, 1, 1_000_000, "calls not yet ended per tenant (RESOURCE_EXHAUSTED)")
    max_call_watchers: int = _limit(1_000, 1, 1_000_000, "concurrent watch_calls streams (RESOURCE_EXHAUSTED)")
    call_watch_queue_events: int = _limit(256, 1, 1_000_000, "events queued per watch_calls stream; oldest drop")
    signalling_timeout_s: float = _limit(10.0, 0.1, 300.0, "how long the SIP gateway may take to dial/hang up/transfer")
    originate_rate_per_tenant: float = _limit(100.0, 0.1, 1e6, "originates per second per tenant (RESOURCE_EXHAUSTED)")
    originate_burst_per_tenant: int = _limit(200, 1, 1_000_000, "originates a tenant may make at once above the rate")
    idempotency_retention_s: float = _limit(86_400.0, 60.0, 30 * 86_400.0, "how long originate idempotency keys hold")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _check_number(f"limits.{f.name}", getattr(self, f.name), f.type, f.metadata["min"], f.metadata["max"])


@dataclass(frozen=True)
class SipConfig:
    """The SIP gateway: where it listens, the trunk it dials, the tenant inbound calls belong to, its bounds."""

    enabled: bool = False
    listen: Address = DEFAULT_SIP_ADDR
    trunk: Address = DEFAULT_TRUNK_ADDR
    trunk_transport: str = "udp"
    """How outbound INVITEs reach the trunk: "udp" or "tcp" (inbound calls come over either)."""
    inbound_tenant: str = "default"
    rtp_host: str = "127.0.0.1"
    rtp_ports: tuple[int, int] = (20_000, 20_999)
    invite_rate: float = _limit(50.0, 0.1, 1e6, "new INVITEs accepted per second; past it 503 with Retry-After")
    invite_burst: int = _limit(100, 1, 1_000_000, "INVITEs accepted at once above the rate")
    max_calls: int = _limit(10_000, 1, 1_000_000, "concurrent calls through the gateway; past it 503")
    t1_s: float = _limit(0.5, 0.001, 10.0, "RFC 3261 T1 (retransmission base); T2 = 8 x T1, T4 = 10 x T1")
    forward: tuple[tuple[str, str], ...] = ()
    """(called number, target): an inbound INVITE to the number becomes a sip_rtp call to the target, dialed
    through the trunk and relayed on the relay engine (TOML: a table of E.164 numbers)."""
    forward_ring_timeout_s: float = _limit(60.0, 1.0, 600.0, "how long a forward or sip_rtp transfer target may ring")
    relay_backend: str = "auto"
    """The relay engine of sip_rtp calls: auto (AF_XDP on relay_ifname, else io_uring, else recvmmsg) or one."""
    relay_ifname: str = ""
    relay_shards: int = _limit(1, 1, 256, "relay engine threads (one per core at most)")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if "min" in f.metadata:
                _check_number(f"sip.{f.name}", getattr(self, f.name), f.type, f.metadata["min"], f.metadata["max"])
        if self.relay_backend not in RELAY_BACKENDS:
            raise ConfigError(
                f"sip.relay_backend must be one of {', '.join(RELAY_BACKENDS)}, got {self.relay_backend!r}"
            )
        _check_forward(self.forward)
        first, last = self.rtp_ports
        if not (1024 <= first <= last <= 65_535) or last - first < 1:
            raise ConfigError(f"sip.rtp_ports must be FIRST-LAST within 1024..65535, got {first}-{last}")
        if not self.inbound_tenant:
            raise ConfigError("sip.inbound_tenant must not be empty")
        if self.trunk_transport not in ("udp", "tcp"):
            raise ConfigError(f"sip.trunk_transport must be udp or tcp, got {self.trunk_transport!r}")


RELAY_BACKENDS = ("auto", "af_xdp", "io_uring", "recvmmsg")
MAX_FORWARDS = 10_000
_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")


def _check_forward(forward: tuple[tuple[str, str], ...]) -> None:
    if len(forward) > MAX_FORWARDS:
        raise ConfigError(f"sip.forward has {len(forward)} numbers, at most {MAX_FORWARDS}")
    seen: set[str] = set()
    for number, target in forward:
        for name, value in ((f"sip.forward key {number!r}", number), (f"sip.forward.{number!r}", target)):
            if not isinstance(value, str) or not _E164.match(value):
                raise ConfigError(f"{name} must be an E.164 number such as +14155550100, got {value!r}")
        if number == target:
            raise ConfigError(f"sip.forward.{number!r} forwards the number to itself")
        if number in seen:
            raise ConfigError(f"sip.forward key {number!r} is given twice")
        seen.add(number)


def _forward_value(value: object) -> tuple[tuple[str, str], ...]:
    """A TOML table {number = target}, or "NUMBER=TARGET[,NUMBER=TARGET...]" from the command line."""
    if isinstance(value, str):
        pairs = [item.partition("=") for item in value.split(",") if item.strip()]
        if any(not sep for _, sep, _ in pairs):
            raise ConfigError(f"sip.forward must be NUMBER=TARGET[,NUMBER=TARGET...], got {value!r}")
        return tuple((k.strip(), v.strip()) for k, _, v in pairs)
    if not isinstance(value, dict):
        raise ConfigError(f'sip.forward must be a table of numbers ({{"+15550001" = "+15550002"}}), got {value!r}')
    return tuple((str(k), v) for k, v in value.items())


def _sip_value(key: str, value: object) -> object:
    """One [sip] setting as its field's type."""
    if key == "forward":
        return _forward_value(value)
    if key in ("listen", "trunk"):
        if not isinstance(value, str):
            raise ConfigError(f"sip.{key} must be a string host:port, got {value!r}")
        return parse_address(value, f"sip.{key}")
    if key == "rtp_ports":
        first, sep, last = str(value).partition("-")
        if not sep or not first.isdigit() or not last.isdigit():
            raise ConfigError(f"sip.rtp_ports must be FIRST-LAST, got {value!r}")
        return (int(first), int(last))
    if key == "enabled":
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        if not isinstance(value, bool):
            raise ConfigError(f"sip.enabled must be true or false, got {value!r}")
        return value
    if key in ("inbound_tenant", "rtp_host", "trunk_transport", "relay_backend", "relay_ifname"):
        if not isinstance(value, str):
            raise ConfigError(f"sip.{key} must be a string, got {value!r}")
        return value
    type_name = _SIP_TYPES[key]
    if isinstance(value, str):
        try:
            return int(value, 0) if type_name in (int, "int") else float(value)
        except ValueError:
            raise ConfigError(f"sip.{key} must be a number, got {value!r}") from None
    return value


def default_state_dir() -> Path:
    """`$CLUTCHCALL_ENGINE_STATE`, else `$XDG_STATE_HOME/clutchcall-engine`, else `~/.local/state/clutchcall-engine`."""
    explicit = os.environ.get("CLUTCHCALL_ENGINE_STATE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "clutchcall-engine"


def user_cache_dir(name: str) -> Path:
    """`<$XDG_CACHE_HOME or ~/.cache>/clutchcall/<name>`: downloads and builds kept outside a clone (moq-relay,
    the Smart Turn model, test recordings), so a fresh clone on the same machine does not fetch them again."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "clutchcall" / name


@dataclass(frozen=True)
class EngineConfig:
    moqt_addr: Address = DEFAULT_MOQT_ADDR
    """MoQT over raw QUIC (ALPN moq-00)."""
    http_addr: Address = DEFAULT_HTTP_ADDR
    """HTTP/3: WebTransport at /moq, Prometheus text at /metrics, the REST API under /v1."""
    rest_addr: Address = DEFAULT_REST_ADDR
    """The REST API over HTTP/1.1."""
    rpc_addr: Address = DEFAULT_RPC_ADDR
    """The legacy envelope RPC over QUIC."""
    calls_db: Path | None = None
    """The call store's SQLite file; None = state_dir/calls.db."""
    state_dir: Path = field(default_factory=default_state_dir)
    cert_path: Path | None = None
    """PEM certificate chain; None = the self-signed development certificate kept in state_dir."""
    key_path: Path | None = None
    verification_keys: tuple[Path, ...] = ()
    """PEM public keys that may sign tenant tokens (rotation); empty = the development key in state_dir."""
    audience: str = DEFAULT_AUDIENCE
    token_leeway_s: float = 0.0
    anonymous_publish: tuple[str, ...] = ()
    """Prefixes a session WITHOUT a token may publish under (like moq-relay's --auth-public); default none:
    a token is required. A token that is present is always verified, never downgraded to anonymous."""
    anonymous_subscribe: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    sip: SipConfig = field(default_factory=SipConfig)

    def __post_init__(self) -> None:
        if (self.cert_path is None) != (self.key_path is None):
            raise ConfigError("cert and key must be given together (or neither, for the self-signed certificate)")
        if not self.audience:
            raise ConfigError("audience must not be empty")
        if not (0.0 <= self.token_leeway_s <= 600.0) or math.isnan(self.token_leeway_s):
            raise ConfigError(f"token_leeway_s must be within 0..600 seconds, got {self.token_leeway_s}")

    @property
    def calls_db_path(self) -> Path:
        return self.calls_db if self.calls_db is not None else self.state_dir / "calls.db"


def _check_number(name: str, value: object, type_name: object, lo: float, hi: float) -> None:
    integral = type_name in (int, "int")
    if isinstance(value, bool) or not isinstance(value, int if integral else (int, float)):
        raise ConfigError(f"{name} must be {'an integer' if integral else 'a number'}, got {value!r}")
    if not (lo <= value <= hi):  # also false for NaN
        raise ConfigError(f"{name} must be within {lo}..{hi}, got {value!r}")


def parse_address(text: str, name: str = "address") -> Address:
    """`host:port` or `[v6]:port`; port 0 asks the kernel for a free one."""
    host, sep, port_text = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port_text.isdigit() or int(port_text) > 65_535:
        raise ConfigError(f"{name} must be host:port (or [v6]:port) with a port in 0..65535, got {text!r}")
    return Address(host, int(port_text))


# The settings outside [limits]: the TOML key and its EngineConfig field.
_TOP_LEVEL = {
    "moqt_addr": "moqt_addr",
    "http_addr": "http_addr",
    "rest_addr": "rest_addr",
    "rpc_addr": "rpc_addr",
    "calls_db": "calls_db",
    "state_dir": "state_dir",
    "cert": "cert_path",
    "key": "key_path",
    "verification_keys": "verification_keys",
    "audience": "audience",
    "token_leeway_s": "token_leeway_s",
    "anonymous_publish": "anonymous_publish",
    "anonymous_subscribe": "anonymous_subscribe",
}
_LIMIT_TYPES = {f.name: f.type for f in dataclasses.fields(Limits)}
_SIP_TYPES = {f.name: f.type for f in dataclasses.fields(SipConfig)}


def _convert(key: str, value: object, base_dir: Path) -> object:
    """One raw setting (from TOML, or a string from a flag) as the type its field holds."""
    if key.startswith("sip."):
        return _sip_value(key.removeprefix("sip."), value)

    def path(v: object) -> Path:
        if not isinstance(v, str | Path) or not str(v):
            raise ConfigError(f"{key} must be a path, got {v!r}")
        p = Path(v).expanduser()
        return p if p.is_absolute() else base_dir / p

    if key in ("moqt_addr", "http_addr", "rest_addr", "rpc_addr"):
        if not isinstance(value, str):
            raise ConfigError(f"{key} must be a string host:port, got {value!r}")
        return parse_address(value, key)
    if key in ("state_dir", "cert", "key", "calls_db"):
        return path(value)
    if key == "verification_keys":
        items = [value] if isinstance(value, str | Path) else value
        if not isinstance(items, list | tuple):
            raise ConfigError(f"{key} must be a list of paths, got {value!r}")
        return tuple(path(v) for v in items)
    if key in ("anonymous_publish", "anonymous_subscribe"):
        prefixes = [value] if isinstance(value, str) else value
        if not isinstance(prefixes, list | tuple) or not all(isinstance(p, str) for p in prefixes):
            raise ConfigError(f"{key} must be a list of namespace prefixes, got {value!r}")
        for p in prefixes:
            if p and "" in p.split("/"):
                raise ConfigError(f"{key}: prefix {p!r} has an empty namespace field")
        return tuple(prefixes)
    if key == "audience":
        if not isinstance(value, str):
            raise ConfigError(f"{key} must be a string, got {value!r}")
        return value
    type_name = "float" if key == "token_leeway_s" else _LIMIT_TYPES[key.removeprefix("limits.")]
    if isinstance(value, str):  # from a flag
        try:
            return int(value, 0) if type_name in (int, "int") else float(value)
        except ValueError:
            raise ConfigError(
                f"{key} must be {'an integer' if type_name in (int, 'int') else 'a number'}, got {value!r}"
            ) from None
    return value


def _flatten(table: Mapping[str, object]) -> dict[str, object]:
    """TOML tables to dotted keys (`[limits] max_sessions` -> `limits.max_sessions`); unknown keys are errors."""
    flat: dict[str, object] = {}
    for key, value in table.items():
        if key in ("limits", "sip"):
            if not isinstance(value, dict):
                raise ConfigError(f"{key} must be a table ([{key}])")
            for sub, sub_value in value.items():
                flat[f"{key}.{sub}"] = sub_value
        else:
            flat[key] = value
    return flat


def _check_known(key: str) -> None:
    if key in _TOP_LEVEL or (key.startswith("limits.") and key.removeprefix("limits.") in _LIMIT_TYPES):
        return
    if key.startswith("sip.") and key.removeprefix("sip.") in _SIP_TYPES:
        return
    known = ", ".join([*_TOP_LEVEL, *(f"limits.{k}" for k in _LIMIT_TYPES), *(f"sip.{k}" for k in _SIP_TYPES)])
    raise ConfigError(f"unknown setting {key!r} (known: {known})")


def load_config(path: Path | None = None, overrides: Mapping[str, object] | None = None) -> EngineConfig:
    """Defaults, then the TOML file at `path`, then `overrides` (dotted keys, e.g. `limits.max_sessions`,
    values typed or as strings from the command line). Raises ConfigError naming the setting and its source.
    """
    layers: list[tuple[str, Path, Mapping[str, object]]] = []
    if path is not None:
        try:
            parsed: Mapping[str, object] = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise ConfigError(f"{path}: cannot read the config file: {e.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from None
        layers.append((str(path), path.parent.resolve(), parsed))
    if overrides:
        layers.append(("command line", Path.cwd(), overrides))

    settings: dict[str, object] = {}
    for source, base_dir, table in layers:
        try:
            flat = _flatten(table) if source != "command line" else dict(table)
            for key, value in flat.items():
                _check_known(key)
                settings[key] = _convert(key, value, base_dir)
        except ConfigError as e:
            raise ConfigError(f"{source}: {e}") from None

    sources = " and ".join(s for s, _, _ in layers) or "defaults"
    try:
        limit_values: dict[str, Any] = {
            k.removeprefix("limits."): v for k, v in settings.items() if k.startswith("limits.")
        }
        sip_values: dict[str, Any] = {k.removeprefix("sip."): v for k, v in settings.items() if k.startswith("sip.")}
        top: dict[str, Any] = {_TOP_LEVEL[k]: v for k, v in settings.items() if not k.startswith(("limits.", "sip."))}
        return EngineConfig(**top, limits=Limits(**limit_values), sip=SipConfig(**sip_values))
    except ConfigError as e:
        raise ConfigError(f"{sources}: {e}") from None


def describe_limits() -> list[tuple[str, object, str]]:
    """(name, default, what it bounds) of every limit, for `--help` and the README."""
    return [(f.name, f.default, str(f.metadata["doc"])) for f in dataclasses.fields(Limits)]
