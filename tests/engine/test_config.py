"""EngineConfig: defaults, TOML, flag overrides, and errors that name the setting and its source."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from clutchcall_engine.config import (
    Address,
    ConfigError,
    EngineConfig,
    Limits,
    describe_limits,
    load_config,
    parse_address,
)


def test_defaults_are_development_localhost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLUTCHCALL_ENGINE_STATE", str(tmp_path))
    c = load_config()
    assert c.moqt_addr == Address("127.0.0.1", 4443) and c.http_addr == Address("127.0.0.1", 4433)
    assert c.state_dir == tmp_path and c.cert_path is None and c.verification_keys == ()
    assert c.limits == Limits() and c.limits.subscriber_queue_ms == 200


def test_every_limit_is_documented_and_bounded() -> None:
    names = {f.name for f in dataclasses.fields(Limits)}
    assert {n for n, _, _ in describe_limits()} == names
    assert {
        "max_sessions",
        "max_streams_per_session",
        "session_buffer_bytes",
        "max_control_message_bytes",
        "max_subscriptions_per_session",
        "subscriber_queue_ms",
        "subscriber_queue_bytes",
        "held_subscribe_timeout_s",
        "max_request_id_window",
        "track_cache_bytes",
    } <= names
    for f in dataclasses.fields(Limits):
        lo, hi = f.metadata["min"], f.metadata["max"]
        assert lo <= f.default <= hi
        with pytest.raises(ConfigError, match=f"limits.{f.name} must be within"):
            Limits(**{f.name: hi + 1})
        with pytest.raises(ConfigError, match=f"limits.{f.name} must be"):
            Limits(**{f.name: "7"})


def test_toml_file(tmp_path: Path) -> None:
    (tmp_path / "engine.toml").write_text(
        """
moqt_addr = "0.0.0.0:443"
http_addr = "[::1]:8443"
state_dir = "state"
cert = "/etc/cc/cert.pem"
key = "key.pem"
verification_keys = ["k1.pem", "/abs/k2.pem"]
audience = "relay-us"
token_leeway_s = 2.5

[limits]
max_sessions = 50
held_subscribe_timeout_s = 1
"""
    )
    c = load_config(tmp_path / "engine.toml")
    assert c.moqt_addr == Address("0.0.0.0", 443) and c.http_addr == Address("::1", 8443)
    assert str(c.http_addr) == "[::1]:8443"
    assert c.state_dir == tmp_path / "state"
    assert c.cert_path == Path("/etc/cc/cert.pem") and c.key_path == tmp_path / "key.pem"
    assert c.verification_keys == (tmp_path / "k1.pem", Path("/abs/k2.pem"))
    assert (c.audience, c.token_leeway_s) == ("relay-us", 2.5)
    assert c.limits.max_sessions == 50 and c.limits.held_subscribe_timeout_s == 1
    assert c.limits.max_tracks == Limits().max_tracks


def test_flags_override_the_file(tmp_path: Path) -> None:
    (tmp_path / "e.toml").write_text('moqt_addr = "127.0.0.1:1"\n[limits]\nmax_sessions = 50\n')
    c = load_config(tmp_path / "e.toml", {"moqt_addr": "127.0.0.1:0", "limits.max_sessions": "0x10"})
    assert c.moqt_addr.port == 0 and c.limits.max_sessions == 16


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("moqt_adr = '1.2.3.4:5'", "e.toml: unknown setting 'moqt_adr'"),
        ("[limits]\nmax_session = 5", "e.toml: unknown setting 'limits.max_session'"),
        ("[limits]\nmax_sessions = 0", "limits.max_sessions must be within 1..1000000, got 0"),
        ("[limits]\nmax_sessions = 1.5", "limits.max_sessions must be an integer, got 1.5"),
        ("[limits]\nmax_sessions = true", "limits.max_sessions must be an integer, got True"),
        ("[limits]\nsubscriber_queue_ms = nan", "limits.subscriber_queue_ms must be an integer"),
        ("[limits]\nheld_subscribe_timeout_s = nan", "limits.held_subscribe_timeout_s must be within"),
        ("limits = 3", "limits must be a table"),
        ("moqt_addr = 4443", "e.toml: moqt_addr must be a string host:port"),
        ("moqt_addr = 'localhost'", "moqt_addr must be host:port"),
        ("http_addr = 'h:65536'", "http_addr must be host:port"),
        ("cert = 'c.pem'", "cert and key must be given together"),
        ("audience = ''", "audience must not be empty"),
        ("token_leeway_s = 1000", "token_leeway_s must be within 0..600"),
        ("verification_keys = 3", "verification_keys must be a list of paths"),
        ("moqt_addr = ", "e.toml: not valid TOML"),
    ],
)
def test_bad_file_names_setting_and_file(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "e.toml").write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "e.toml")
    assert message in str(info.value)
    assert "e.toml" in str(info.value)


def test_bad_flag_names_the_command_line() -> None:
    with pytest.raises(ConfigError, match=r"command line: limits\.max_sessions must be an integer, got 'many'"):
        load_config(None, {"limits.max_sessions": "many"})
    with pytest.raises(ConfigError, match=r"command line: unknown setting 'limits\.nope'"):
        load_config(None, {"limits.nope": "1"})


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: cannot read the config file"):
        load_config(Path("/nonexistent/nope.toml"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:4443", Address("127.0.0.1", 4443)), ("[::1]:0", Address("::1", 0)), ("h:65535", Address("h", 65535))],
)
def test_parse_address(text: str, expected: Address) -> None:
    assert parse_address(text) == expected


def test_engine_config_checks_itself() -> None:
    with pytest.raises(ConfigError, match="cert and key"):
        EngineConfig(key_path=Path("k.pem"))


def test_anonymous_prefixes(tmp_path: Path) -> None:
    (tmp_path / "e.toml").write_text('anonymous_publish = ["moq-test"]\nanonymous_subscribe = ""\n')
    c = load_config(tmp_path / "e.toml")
    assert c.anonymous_publish == ("moq-test",) and c.anonymous_subscribe == ("",)
    assert EngineConfig().anonymous_publish == ()
    (tmp_path / "e.toml").write_text('anonymous_publish = ["a//b"]\n')
    with pytest.raises(ConfigError, match="empty namespace field"):
        load_config(tmp_path / "e.toml")
