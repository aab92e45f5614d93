"""Tenant tokens: ES256 (ECDSA P-256) JWTs whose claims are the IDL's TenantClaims in ProtoJSON.

A token is presented in CLIENT_SETUP's AUTHORIZATION TOKEN parameter; `TokenVerifier.verify` turns it
into a `Grant` (the tenant and its namespace prefixes) or raises `AuthError` with a `kind` the relay
maps to the draft's error code and counts in `auth_refusals_total{kind}`.

Prefixes match namespaces by whole fields: "voice/CA12" is the fields (b"voice", b"CA12") and allows
voice/CA12 and voice/CA12/x, not voice/CA123; the empty prefix "" allows every namespace.
"""

from __future__ import annotations

import base64
import hashlib
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Final, Literal

import jwt
from clutchcall import TenantClaims
from clutchcall.errors import DecodeError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .config import ConfigError, EngineConfig

AuthErrorKind = Literal["missing", "malformed", "forged", "expired", "not_yet_valid", "wrong_audience"]
ALGORITHM: Final = "ES256"
DEV_KEY_FILE: Final = "dev-signing-key.pem"
ANONYMOUS_TENANT: Final = "_anonymous"
MAX_TOKEN_BYTES: Final = 8192
"""Longer tokens are refused as malformed before any parsing (a token is a few hundred bytes)."""


class AuthError(Exception):
    def __init__(self, kind: AuthErrorKind, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind: AuthErrorKind = kind
        self.message = message


def prefix_fields(prefix: str) -> tuple[bytes, ...]:
    """The namespace fields of a prefix string: "voice/CA12" -> (b"voice", b"CA12"); "" -> ()."""
    return tuple(part.encode() for part in prefix.split("/")) if prefix else ()


def _matches(prefixes: tuple[tuple[bytes, ...], ...], namespace: Sequence[bytes]) -> bool:
    ns = tuple(namespace)
    return any(ns[: len(p)] == p for p in prefixes)


@dataclass(frozen=True)
class Grant:
    """What a verified token allows: the tenant, its namespace prefixes, and when it stops."""

    tenant: str
    publish_prefixes: tuple[str, ...]
    subscribe_prefixes: tuple[str, ...]
    expires_at: float
    """Unix seconds; the relay closes the session then."""

    @cached_property
    def _publish(self) -> tuple[tuple[bytes, ...], ...]:
        return tuple(prefix_fields(p) for p in self.publish_prefixes)

    @cached_property
    def _subscribe(self) -> tuple[tuple[bytes, ...], ...]:
        return tuple(prefix_fields(p) for p in self.subscribe_prefixes)

    def may_publish(self, namespace: Sequence[bytes]) -> bool:
        return _matches(self._publish, namespace)

    def may_subscribe(self, namespace: Sequence[bytes]) -> bool:
        return _matches(self._subscribe, namespace)


def key_id(key: ec.EllipticCurvePublicKey) -> str:
    """A stable `kid` for a public key: base64url of the first 12 bytes of SHA-256 over its DER SPKI."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:12]).decode().rstrip("=")


def _check_p256(key: object, what: str) -> None:
    if not isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) or not isinstance(
        key.curve, ec.SECP256R1
    ):
        raise ConfigError(f"{what}: an ES256 key must be ECDSA P-256 (secp256r1), got {type(key).__name__}")


@dataclass(frozen=True)
class TokenVerifier:
    """Verifies tenant tokens against several keys (rotation): the one named by the token's `kid` when
    known, else each in turn. `keys` is a sequence (kids are `key_id(key)`) or a mapping kid -> key.
    """

    keys: Sequence[ec.EllipticCurvePublicKey] | Mapping[str, ec.EllipticCurvePublicKey]
    audience: str
    leeway_s: float = 0.0
    anonymous: Grant | None = None
    """What a session with NO token gets (None: refused as missing). A present token is always verified."""
    _by_kid: dict[str, ec.EllipticCurvePublicKey] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_kid = dict(self.keys) if isinstance(self.keys, Mapping) else {key_id(k): k for k in self.keys}
        if not by_kid:
            raise ConfigError("at least one token verification key is needed")
        for kid, key in by_kid.items():
            _check_p256(key, f"verification key {kid}")
        object.__setattr__(self, "_by_kid", by_kid)

    def verify(self, token: bytes | str | None, now: float | None = None) -> Grant:
        if token is None or len(token) == 0:
            if self.anonymous is not None:
                return self.anonymous
            raise AuthError("missing", "no authorization token was presented")
        if len(token) > MAX_TOKEN_BYTES:
            raise AuthError("malformed", f"token is {len(token)} bytes, more than {MAX_TOKEN_BYTES}")
        if isinstance(token, bytes):
            try:
                token = token.decode("ascii")
            except UnicodeDecodeError:
                raise AuthError("malformed", "token is not ASCII (a JWT is base64url segments)") from None
        payload = self._verified_payload(token)
        claims = _claims(payload)
        if claims.audience != self.audience:
            raise AuthError("wrong_audience", f"token is for audience {claims.audience!r}, not {self.audience!r}")
        now = time.time() if now is None else now
        if now >= claims.expires_at + self.leeway_s:
            raise AuthError("expired", f"token expired at {claims.expires_at} (now {now:.0f})")
        starts = max(claims.issued_at, _int_claim(payload, "nbf"))
        if starts > now + self.leeway_s:
            raise AuthError("not_yet_valid", f"token is valid from {starts} (now {now:.0f})")
        return Grant(
            tenant=claims.tenant_id,
            publish_prefixes=tuple(claims.publish_prefixes),
            subscribe_prefixes=tuple(claims.subscribe_prefixes),
            expires_at=float(claims.expires_at),
        )

    def _verified_payload(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as e:
            raise AuthError("malformed", f"not a JWT: {e}") from None
        if header.get("alg") != ALGORITHM:
            # Never let the token choose the algorithm (RFC 8725 2.1): anything but ES256 is refused.
            raise AuthError("forged", f"token algorithm is {header.get('alg')!r}, only {ALGORITHM} is accepted")
        kid = header.get("kid")
        named = self._by_kid.get(kid) if isinstance(kid, str) else None
        candidates = [named] if named is not None else list(self._by_kid.values())
        # Time, audience and claims are checked afterwards, by us, so each failure gets its own kind.
        options: Any = {"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False}
        for key in candidates:
            try:
                payload: dict[str, Any] = jwt.decode(token, key, algorithms=[ALGORITHM], options=options)
                return payload
            except jwt.InvalidSignatureError:
                continue
            except jwt.InvalidTokenError as e:
                raise AuthError("malformed", f"token cannot be decoded: {e}") from None
        raise AuthError("forged", "token signature matches no configured verification key")


def _int_claim(payload: Mapping[str, Any], name: str) -> int:
    value = payload.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AuthError("malformed", f"claim {name} must be a NumericDate (a number), got {value!r}")
    return int(value)


def _claims(payload: dict[str, Any]) -> TenantClaims:
    for name in ("sub", "exp", "aud"):
        if name not in payload:
            raise AuthError("malformed", f"token has no {name} claim")
    for name in ("exp", "iat"):
        _int_claim(payload, name)
    try:
        claims = TenantClaims.from_json(payload, ignore_unknown_fields=True)
    except DecodeError as e:
        raise AuthError("malformed", f"claims are not TenantClaims: {e}") from None
    if not claims.tenant_id:
        raise AuthError("malformed", "claim sub (the tenant) is empty")
    for name, prefixes in (
        ("publishPrefixes", claims.publish_prefixes),
        ("subscribePrefixes", claims.subscribe_prefixes),
    ):
        for i, prefix in enumerate(prefixes):
            if prefix and "" in prefix.split("/"):
                raise AuthError("malformed", f"claim {name}[{i}] {prefix!r} has an empty namespace field")
    return claims


def mint_token(
    private_key: ec.EllipticCurvePrivateKey,
    *,
    tenant: str,
    publish: Sequence[str],
    subscribe: Sequence[str],
    ttl_s: float,
    audience: str,
    kid: str | None = None,
    now: float | None = None,
) -> str:
    """A signed tenant token. `kid` defaults to none in the header (verifiers then try each key)."""
    _check_p256(private_key, "signing key")
    issued = int(time.time() if now is None else now)
    claims = TenantClaims(
        tenant_id=tenant,
        publish_prefixes=list(publish),
        subscribe_prefixes=list(subscribe),
        expires_at=issued + int(ttl_s),
        issued_at=issued,
        audience=audience,
    ).to_json()
    # ProtoJSON writes int64 as strings; RFC 7519 NumericDate is a JSON number.
    for name in ("exp", "iat"):
        if name in claims:
            claims[name] = int(claims[name])
    return jwt.encode(claims, private_key, algorithm=ALGORITHM, headers={"kid": kid} if kid else None)


def load_or_create_dev_key(state_dir: Path) -> ec.EllipticCurvePrivateKey:
    """The development signing key, generated into `state_dir` on first use and kept (mode 0600)."""
    path = state_dir / DEV_KEY_FILE
    if path.exists():
        return load_private_key(path)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    write_private(path, pem)
    return key


def write_private(path: Path, data: bytes) -> None:
    """Write a secret atomically, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _load_pem(path: Path, *, private: bool) -> ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the key: {e.strerror}") from None
    try:
        key: object = (
            serialization.load_pem_private_key(data, password=None)
            if private or b"PRIVATE KEY" in data
            else serialization.load_pem_public_key(data)
        )
    except (ValueError, TypeError) as e:
        raise ConfigError(f"{path}: not a PEM {'private' if private else 'public'} key: {e}") from None
    _check_p256(key, str(path))
    assert isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey)
    return key


def load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = _load_pem(path, private=True)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigError(f"{path}: not a private key")
    return key


def load_public_key(path: Path) -> ec.EllipticCurvePublicKey:
    """A verification key from a PEM public key (or, for convenience, the private key it belongs to)."""
    key = _load_pem(path, private=False)
    return key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key


def verifier_for(config: EngineConfig) -> TokenVerifier:
    """The configured verification keys, or the development key's public half when none are configured."""
    if config.verification_keys:
        keys = [load_public_key(p) for p in config.verification_keys]
    else:
        keys = [load_or_create_dev_key(config.state_dir).public_key()]
    anonymous = None
    if config.anonymous_publish or config.anonymous_subscribe:
        anonymous = Grant(ANONYMOUS_TENANT, config.anonymous_publish, config.anonymous_subscribe, math.inf)
    return TokenVerifier(keys, audience=config.audience, leeway_s=config.token_leeway_s, anonymous=anonymous)
