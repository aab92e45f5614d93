"""The development certificate: ECDSA P-256, <= 14 days, kept across starts, renewed when expiring."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from clutchcall_engine.certs import CERT_FILE, KEY_FILE, RENEW_BEFORE, ensure_dev_certificate, resolve_certificate
from clutchcall_engine.config import ConfigError, EngineConfig
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def test_made_on_first_start(tmp_path: Path) -> None:
    info = ensure_dev_certificate(tmp_path, now=T0)
    assert info.generated and info.cert_path == tmp_path / CERT_FILE and info.key_path == tmp_path / KEY_FILE
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    cert = x509.load_pem_x509_certificate(info.cert_path.read_bytes())
    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1)
    # WebTransport serverCertificateHashes: an ECDSA certificate whose whole validity is at most 14 days
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= dt.timedelta(days=14)
    assert cert.not_valid_before_utc <= T0 < cert.not_valid_after_utc
    assert info.sha256 == cert.fingerprint(hashes.SHA256()).hex() and len(info.sha256) == 64
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)


def test_kept_across_starts(tmp_path: Path) -> None:
    first = ensure_dev_certificate(tmp_path, now=T0)
    again = ensure_dev_certificate(tmp_path, now=T0 + dt.timedelta(days=5))
    assert not again.generated and again.sha256 == first.sha256


def test_renewed_when_expiring(tmp_path: Path) -> None:
    first = ensure_dev_certificate(tmp_path, now=T0)
    late = first.not_after - RENEW_BEFORE + dt.timedelta(minutes=1)
    renewed = ensure_dev_certificate(tmp_path, now=late)
    assert renewed.generated and renewed.sha256 != first.sha256 and renewed.not_after > first.not_after


def test_unusable_files_are_replaced(tmp_path: Path) -> None:
    first = ensure_dev_certificate(tmp_path, now=T0)
    (tmp_path / KEY_FILE).write_text("garbage")
    assert ensure_dev_certificate(tmp_path, now=T0).sha256 != first.sha256
    # a key that does not belong to the certificate
    second = ensure_dev_certificate(tmp_path, now=T0)
    other = tmp_path / "other"
    ensure_dev_certificate(other, now=T0)
    (tmp_path / KEY_FILE).write_bytes((other / KEY_FILE).read_bytes())
    assert ensure_dev_certificate(tmp_path, now=T0).sha256 != second.sha256


def test_configured_certificate_is_used(tmp_path: Path) -> None:
    made = ensure_dev_certificate(tmp_path / "elsewhere", now=T0)
    config = EngineConfig(state_dir=tmp_path, cert_path=made.cert_path, key_path=made.key_path)
    info = resolve_certificate(config)
    assert info.sha256 == made.sha256 and not info.generated
    assert not (tmp_path / CERT_FILE).exists()


def test_configured_certificate_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "c.pem").write_text("not a cert")
    (tmp_path / "k.pem").write_text("k")
    with pytest.raises(ConfigError, match=r"c\.pem: not a PEM certificate"):
        resolve_certificate(EngineConfig(cert_path=tmp_path / "c.pem", key_path=tmp_path / "k.pem"))
    with pytest.raises(ConfigError, match=r"missing\.pem: cannot read"):
        resolve_certificate(EngineConfig(cert_path=tmp_path / "missing.pem", key_path=tmp_path / "k.pem"))
    with pytest.raises(ConfigError, match=r"nokey\.pem: the key file does not exist"):
        resolve_certificate(EngineConfig(cert_path=tmp_path / "c.pem", key_path=tmp_path / "nokey.pem"))
