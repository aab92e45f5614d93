"""The engine's TLS certificate: the configured one, or a self-signed development certificate.

The development certificate is ECDSA P-256, generated into the state directory on first start and
kept. Browsers accept it through WebTransport's `serverCertificateHashes` (the SHA-256 of its DER),
which requires an ECDSA certificate valid for at most 14 days; so it is issued for 13 days and
replaced at start when fewer than `RENEW_BEFORE` remain (the hash then changes and is printed again).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .auth import write_private
from .config import ConfigError, EngineConfig

CERT_FILE: Final = "dev-cert.pem"
KEY_FILE: Final = "dev-key.pem"
VALIDITY: Final = dt.timedelta(days=13)
"""Under WebTransport's 14-day ceiling for serverCertificateHashes, with a margin for clock skew."""
RENEW_BEFORE: Final = dt.timedelta(days=2)
DEV_NAMES: Final = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class CertInfo:
    cert_path: Path
    key_path: Path
    sha256: str
    """Hex SHA-256 of the leaf certificate's DER: the value for serverCertificateHashes."""
    not_after: dt.datetime
    generated: bool
    """True when this start made a new development certificate."""


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def _read_cert(path: Path) -> x509.Certificate:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the certificate: {e.strerror}") from None
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as e:
        raise ConfigError(f"{path}: not a PEM certificate: {e}") from None


def _info(cert_path: Path, key_path: Path, cert: x509.Certificate, generated: bool) -> CertInfo:
    return CertInfo(cert_path, key_path, fingerprint(cert), cert.not_valid_after_utc, generated)


def _usable(cert_path: Path, key_path: Path, now: dt.datetime) -> x509.Certificate | None:
    """The kept development certificate if it is readable, ECDSA P-256 and not about to expire."""
    if not (cert_path.exists() and key_path.exists()):
        return None
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    public = cert.public_key()
    if not (
        isinstance(key, ec.EllipticCurvePrivateKey)
        and isinstance(public, ec.EllipticCurvePublicKey)
        and isinstance(public.curve, ec.SECP256R1)
        and public.public_numbers() == key.public_key().public_numbers()
    ):
        return None
    if cert.not_valid_after_utc - now < RENEW_BEFORE or cert.not_valid_before_utc > now:
        return None
    return cert


def make_self_signed(names: tuple[str, ...] = DEV_NAMES, now: dt.datetime | None = None) -> tuple[bytes, bytes]:
    """(certificate PEM, PKCS#8 key PEM) of a new self-signed ECDSA P-256 certificate for `names`."""
    now = now or dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clutchcall-engine development")])
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    start = now - dt.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def ensure_dev_certificate(state_dir: Path, now: dt.datetime | None = None) -> CertInfo:
    """The kept development certificate, made (or remade, when expiring or unusable) as needed."""
    now = now or dt.datetime.now(dt.UTC)
    cert_path, key_path = state_dir / CERT_FILE, state_dir / KEY_FILE
    cert = _usable(cert_path, key_path, now)
    if cert is not None:
        return _info(cert_path, key_path, cert, generated=False)
    cert_pem, key_pem = make_self_signed(now=now)
    write_private(key_path, key_pem)
    write_private(cert_path, cert_pem)
    return _info(cert_path, key_path, x509.load_pem_x509_certificate(cert_pem), generated=True)


def resolve_certificate(config: EngineConfig, now: dt.datetime | None = None) -> CertInfo:
    """The certificate the listeners use: the configured pair, else the development certificate."""
    if config.cert_path is None or config.key_path is None:
        return ensure_dev_certificate(config.state_dir, now)
    if not config.key_path.is_file():
        raise ConfigError(f"{config.key_path}: the key file does not exist")
    return _info(config.cert_path, config.key_path, _read_cert(config.cert_path), generated=False)
