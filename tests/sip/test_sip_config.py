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
        ({"sip.relay_backend": "dpdk"}, "sip.relay_backend must be one of auto, af_xdp, io_uring, recvmmsg"),
        ({"sip.relay_shards": "0"}, "sip.relay_shards must be within 1..256"),
        ({"sip.forward_ring_timeout_s": "0.5"}, "sip.forward_ring_timeout_s must be within"),
        ({"sip.forward": "+15550001"}, "sip.forward must be NUMBER=TARGET"),
        ({"sip.forward": "+15550001=5550002"}, r"sip.forward.'\+15550001' must be an E.164 number"),
        ({"sip.forward": "15550001=+15550002"}, "sip.forward key '15550001' must be an E.164 number"),
        ({"sip.forward": "+15550001=+15550001"}, r"sip.forward.'\+15550001' forwards the number to itself"),
        ({"sip.forward": "+15550001=+15550002,+15550001=+15550003"}, r"sip.forward key '\+15550001' is given twice"),
    ],
)
def test_bad_settings_are_named(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)


def test_serve_refuses_a_bad_sip_flag_before_starting(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--state-dir", str(tmp_path), "--sip", "t1_s=99"])
    assert result.exit_code != 0
    assert "sip.t1_s must be within" in result.output


def test_forward_table_from_toml_and_its_bad_values(tmp_path: Path) -> None:
    path = tmp_path / "engine.toml"
    path.write_text(
        '[sip]\nforward = {"+15550001" = "+15550002", "+15550003" = "+15550004"}\nrelay_backend = "recvmmsg"\n'
    )
    sip = load_config(path).sip
    assert sip.forward == (("+15550001", "+15550002"), ("+15550003", "+15550004"))
    assert sip.relay_backend == "recvmmsg" and sip.relay_shards == 1 and SipConfig().relay_backend == "auto"
    for body, message in [
        ("forward = 3", "sip.forward must be a table of numbers"),
        ('forward = {"+15550001" = 5}', r"sip.forward.'\+15550001' must be an E.164 number"),
        ('forward = {"+15550001" = "+15550002"}\nrelay_ifname = 7', "sip.relay_ifname must be a string"),
    ]:
        path.write_text(f"[sip]\n{body}\n")
        with pytest.raises(ConfigError, match=message):
            load_config(path)
