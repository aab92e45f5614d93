"""The [sip] settings: TOML, --sip flags over it, and bad values refused with the setting named."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from clutchcall_engine.cli import main
from clutchcall_engine.config import Address, ConfigError, SipConfig, load_config


def test_defaults_keep_the_gateway_off() -> None:
    assert load_config().sip == SipConfig()
    assert not SipConfig().enabled


def test_toml_then_flags(tmp_path: Path) -> None:
    path = tmp_path / "engine.toml"
    path.write_text('[sip]\nenabled = true\ntrunk = "10.0.0.5:5060"\nrtp_ports = "30000-30999"\ninvite_rate = 5\n')
    sip = load_config(path, {"sip.invite_rate": "7.5", "sip.listen": "127.0.0.1:0"}).sip
    assert sip.enabled and sip.trunk == Address("10.0.0.5", 5060) and sip.rtp_ports == (30000, 30999)
    assert sip.invite_rate == 7.5 and sip.listen == Address("127.0.0.1", 0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sip.invite_rate": "0"}, "sip.invite_rate must be within"),
        ({"sip.rtp_ports": "30000"}, "sip.rtp_ports must be FIRST-LAST"),
        ({"sip.rtp_ports": "30000-20000"}, "sip.rtp_ports must be FIRST-LAST within 1024..65535"),
        ({"sip.trunk": "nowhere"}, "sip.trunk must be host:port"),
        ({"sip.enabled": "maybe"}, "sip.enabled must be true or false"),
        ({"sip.max_calls": "lots"}, "sip.max_calls must be a number"),
        ({"sip.trunk_transport": "sctp"}, "sip.trunk_transport must be udp or tcp"),
        ({"sip.bogus": "1"}, "unknown setting 'sip.bogus'"),
    ],
)
def test_bad_settings_are_named(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)


def test_serve_refuses_a_bad_sip_flag_before_starting(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--state-dir", str(tmp_path), "--sip", "t1_s=99"])
    assert result.exit_code != 0
    assert "sip.t1_s must be within" in result.output
