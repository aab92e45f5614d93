"""The `clutchcall-engine` command: `token` mints what the engine accepts; `serve` starts with no flags."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from clutchcall_engine.auth import verifier_for
from clutchcall_engine.certs import CERT_FILE
from clutchcall_engine.cli import main, parse_duration
from clutchcall_engine.config import EngineConfig
from cryptography import x509
from cryptography.hazmat.primitives import hashes

ENGINE = [sys.executable, "-c", "from clutchcall_engine.cli import main; main()"]


def test_token_is_accepted_by_the_engine_config(tmp_path: Path) -> None:
    args = ["--tenant", "acme", "--publish", "voice/CA12", "--subscribe", "voice", "--ttl", "2h"]
    result = CliRunner().invoke(main, ["token", "--state-dir", str(tmp_path), *args])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    grant = verifier_for(EngineConfig(state_dir=tmp_path)).verify(token)
    assert (
        grant.tenant == "acme" and grant.publish_prefixes == ("voice/CA12",) and grant.subscribe_prefixes == ("voice",)
    )
    assert 7190 < grant.expires_at - time.time() <= 7200


def test_token_with_audience_from_config_file(tmp_path: Path) -> None:
    (tmp_path / "e.toml").write_text(f'audience = "relay-eu"\nstate_dir = "{tmp_path}"\n')
    result = CliRunner().invoke(main, ["token", "--config", str(tmp_path / "e.toml"), "--tenant", "t"])
    assert result.exit_code == 0, result.output
    grant = verifier_for(EngineConfig(state_dir=tmp_path, audience="relay-eu")).verify(result.output.strip())
    assert grant.publish_prefixes == () and grant.tenant == "t"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ttl", "soon"], "'soon' is not a duration"),
        (["--ttl", "0"], "must be more than 0"),
        (["--ttl", "400d"], "at most 366 days"),
        (["--publish", "voice//x"], "empty namespace field"),
    ],
)
def test_token_bad_flags(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["token", "--state-dir", str(tmp_path), "--tenant", "t", *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_parse_duration() -> None:
    assert [parse_duration(t) for t in ("90", "45s", "30m", "1h", "2d", "1.5h")] == [90, 45, 1800, 3600, 172800, 5400]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit", "max_sessions=0"], "command line: limits.max_sessions must be within 1..1000000, got 0"),
        (["--limit", "max_session=5"], "unknown setting 'limits.max_session'"),
        (["--limit", "oops"], "'oops' is not NAME=VALUE"),
        (["--moqt-addr", "nohost"], "moqt_addr must be host:port"),
        (["--cert", "/nonexistent/c.pem"], "cert and key must be given together"),
        (["--config", "/nonexistent/e.toml"], "e.toml: cannot read the config file"),
        (["--verify-key", "/nonexistent/k.pem"], "k.pem: cannot read the key"),
    ],
)
def test_serve_bad_settings_are_clear_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["serve", "--state-dir", str(tmp_path), *args])
    assert result.exit_code in (1, 2) and message in result.output, result.output
    assert "Traceback" not in result.output


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _serve_until_ready(state: Path) -> tuple[subprocess.Popen[str], list[str]]:
    env = {**os.environ, "CLUTCHCALL_ENGINE_STATE": str(state)}
    proc = subprocess.Popen([*ENGINE, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None and proc.stdout is not None
    deadline = time.monotonic() + 30
    for line in proc.stderr:
        if line.strip() == "ready" or time.monotonic() > deadline:
            break
    assert proc.poll() is None, proc.stderr.read()
    out: list[str] = []
    while len(out) < 5:  # the five start-up lines are printed before the listeners start
        out.append(proc.stdout.readline().strip())
    return proc, out


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_serve_with_no_flags_starts_and_prints_the_certificate_hash(tmp_path: Path) -> None:
    if not (_port_free(4443) and _port_free(4433)):
        pytest.skip("the default ports 4443/4433 are taken on this machine by another process")
    proc, out = _serve_until_ready(tmp_path)
    try:
        assert "MoQT (raw QUIC, ALPN moq-00): 127.0.0.1:4443" in out
        assert "HTTP/3: 127.0.0.1:4433 (WebTransport at /moq, Prometheus at /metrics)" in out
        cert = x509.load_pem_x509_certificate((tmp_path / CERT_FILE).read_bytes())
        assert f"certificate sha256: {cert.fingerprint(hashes.SHA256()).hex()}" in out
        assert any(line.startswith("token key: development key") for line in out)
        assert not _port_free(4443) and not _port_free(4433)  # both listeners are bound
    finally:
        assert _stop(proc) == 0
    # the certificate is kept: a second start prints the same hash
    proc, again = _serve_until_ready(tmp_path)
    try:
        assert [line for line in again if "sha256" in line] == [line for line in out if "sha256" in line]
        assert any("(kept," in line for line in again)
    finally:
        _stop(proc)
