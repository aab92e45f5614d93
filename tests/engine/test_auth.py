"""Tenant tokens: every refusal kind, key rotation, and prefix matching by whole namespace fields."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import jwt
import pytest
from clutchcall import TenantClaims
from clutchcall_engine.auth import (
    AuthError,
    Grant,
    TokenVerifier,
    key_id,
    load_or_create_dev_key,
    load_public_key,
    mint_token,
    prefix_fields,
    verifier_for,
)
from clutchcall_engine.config import ConfigError, EngineConfig
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

NOW = 1_800_000_000.0
AUD = "relay-test"


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def other_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def mint(key: ec.EllipticCurvePrivateKey, **kw: object) -> str:
    args: dict[str, object] = {
        "tenant": "acme",
        "publish": ["voice/CA12"],
        "subscribe": [""],
        "ttl_s": 3600,
        "audience": AUD,
        "now": NOW,
    }
    args.update(kw)
    return mint_token(key, **args)  # type: ignore[arg-type]


def refusal(verifier: TokenVerifier, token: bytes | str | None, now: float = NOW + 10) -> AuthError:
    with pytest.raises(AuthError) as info:
        verifier.verify(token, now=now)
    return info.value


def test_valid_token_grants_its_claims(key: ec.EllipticCurvePrivateKey) -> None:
    grant = TokenVerifier([key.public_key()], AUD).verify(mint(key), now=NOW + 10)
    assert grant == Grant("acme", ("voice/CA12",), ("",), NOW + 3600)
    assert grant.may_publish([b"voice", b"CA12"]) and not grant.may_publish([b"voice", b"CA13"])
    assert grant.may_subscribe([b"anything"])


def test_token_bytes_and_str_are_the_same(key: ec.EllipticCurvePrivateKey) -> None:
    v = TokenVerifier([key.public_key()], AUD)
    token = mint(key)
    assert v.verify(token.encode(), now=NOW) == v.verify(token, now=NOW)


def test_claims_are_tenant_claims_protojson(key: ec.EllipticCurvePrivateKey) -> None:
    payload = jwt.decode(
        mint(key),
        key.public_key(),
        algorithms=["ES256"],
        audience=AUD,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert set(payload) == {"sub", "publishPrefixes", "subscribePrefixes", "exp", "iat", "aud"}
    assert payload["exp"] == int(NOW) + 3600 and isinstance(payload["exp"], int)  # a NumericDate, not a string
    claims = TenantClaims.from_json(payload)
    assert (claims.tenant_id, claims.publish_prefixes, claims.audience) == ("acme", ["voice/CA12"], AUD)


def test_expired(key: ec.EllipticCurvePrivateKey) -> None:
    v = TokenVerifier([key.public_key()], AUD)
    assert refusal(v, mint(key), now=NOW + 3600).kind == "expired"  # exp is the first instant it is refused
    assert v.verify(mint(key), now=NOW + 3599).tenant == "acme"
    assert TokenVerifier([key.public_key()], AUD, leeway_s=5).verify(mint(key), now=NOW + 3604).tenant == "acme"


def test_not_yet_valid(key: ec.EllipticCurvePrivateKey) -> None:
    v = TokenVerifier([key.public_key()], AUD)
    assert refusal(v, mint(key, now=NOW + 100), now=NOW).kind == "not_yet_valid"
    nbf = jwt.encode({"sub": "a", "exp": int(NOW) + 999, "aud": AUD, "nbf": int(NOW) + 50}, key, algorithm="ES256")
    assert refusal(v, nbf, now=NOW).kind == "not_yet_valid"
    assert v.verify(nbf, now=NOW + 50).tenant == "a"


def test_forged_signature(key: ec.EllipticCurvePrivateKey) -> None:
    header, payload, signature = mint(key).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["publishPrefixes"] = [""]  # widen the grant, keep the signature
    tampered = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    v = TokenVerifier([key.public_key()], AUD)
    assert refusal(v, f"{header}.{tampered}.{signature}").kind == "forged"


def test_wrong_key(key: ec.EllipticCurvePrivateKey, other_key: ec.EllipticCurvePrivateKey) -> None:
    v = TokenVerifier([key.public_key()], AUD)
    assert refusal(v, mint(other_key)).kind == "forged"
    # a kid naming a configured key does not let another key's signature through
    assert refusal(v, mint(other_key, kid=key_id(key.public_key()))).kind == "forged"


def test_algorithm_is_never_chosen_by_the_token(key: ec.EllipticCurvePrivateKey) -> None:
    v = TokenVerifier([key.public_key()], AUD)
    none_alg = jwt.encode({"sub": "a", "exp": int(NOW) + 99, "aud": AUD}, None, algorithm="none")
    hs256 = jwt.encode({"sub": "a", "exp": int(NOW) + 99, "aud": AUD}, "secret-secret-secret-secret-32b!", "HS256")
    assert refusal(v, none_alg).kind == "forged"
    assert refusal(v, hs256).kind == "forged"


def test_key_rotation(key: ec.EllipticCurvePrivateKey, other_key: ec.EllipticCurvePrivateKey) -> None:
    both = TokenVerifier([key.public_key(), other_key.public_key()], AUD)
    for signer in (key, other_key):
        assert both.verify(mint(signer), now=NOW).tenant == "acme"  # no kid: each key is tried
        assert both.verify(mint(signer, kid=key_id(signer.public_key())), now=NOW).tenant == "acme"
        assert both.verify(mint(signer, kid="unknown-kid"), now=NOW).tenant == "acme"
    named = TokenVerifier({"2026-a": key.public_key()}, AUD)
    assert named.verify(mint(key, kid="2026-a"), now=NOW).tenant == "acme"
    # after the old key is retired, its tokens stop working
    assert refusal(TokenVerifier([other_key.public_key()], AUD), mint(key)).kind == "forged"


def test_wrong_audience(key: ec.EllipticCurvePrivateKey) -> None:
    e = refusal(TokenVerifier([key.public_key()], AUD), mint(key, audience="another-relay"))
    assert e.kind == "wrong_audience" and "another-relay" in e.message


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "a.b.c",
        "\u00e9t\u00e9.x.y",
        b"\xff\xfe",
        "x" * 9000,
    ],
)
def test_malformed(key: ec.EllipticCurvePrivateKey, token: str | bytes) -> None:
    assert refusal(TokenVerifier([key.public_key()], AUD), token).kind == "malformed"


def test_missing(key: ec.EllipticCurvePrivateKey) -> None:
    v = TokenVerifier([key.public_key()], AUD)
    assert refusal(v, None).kind == "missing"
    assert refusal(v, b"").kind == "missing"


@pytest.mark.parametrize(
    ("claims", "what"),
    [
        ({"exp": int(NOW) + 99, "aud": AUD}, "sub"),
        ({"sub": "a", "aud": AUD}, "exp"),
        ({"sub": "a", "exp": int(NOW) + 99}, "aud"),
        ({"sub": "", "exp": int(NOW) + 99, "aud": AUD}, "sub"),
        ({"sub": "a", "exp": str(int(NOW) + 99), "aud": AUD}, "exp"),
        ({"sub": "a", "exp": int(NOW) + 99, "aud": AUD, "publishPrefixes": "voice"}, "TenantClaims"),
        ({"sub": "a", "exp": int(NOW) + 99, "aud": AUD, "publishPrefixes": ["voice//x"]}, "empty namespace field"),
        ({"sub": 7, "exp": int(NOW) + 99, "aud": AUD}, "ubject"),
    ],
)
def test_missing_or_bad_claims_are_malformed(
    key: ec.EllipticCurvePrivateKey, claims: dict[str, object], what: str
) -> None:
    e = refusal(TokenVerifier([key.public_key()], AUD), jwt.encode(claims, key, algorithm="ES256"))
    assert e.kind == "malformed" and what in e.message


def test_non_p256_keys_are_refused(tmp_path: Path) -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(ConfigError, match="P-256"):
        TokenVerifier([p384.public_key()], AUD)
    with pytest.raises(ConfigError, match="at least one"):
        TokenVerifier([], AUD)
    pem = tmp_path / "k.pem"
    pem.write_bytes(
        p384.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ConfigError, match=r"k\.pem"):
        load_public_key(pem)
    (tmp_path / "junk.pem").write_text("junk")
    with pytest.raises(ConfigError, match=r"junk\.pem: not a PEM"):
        load_public_key(tmp_path / "junk.pem")


def test_dev_key_is_made_once_and_kept(tmp_path: Path) -> None:
    first = load_or_create_dev_key(tmp_path)
    assert (tmp_path / "dev-signing-key.pem").stat().st_mode & 0o777 == 0o600
    assert load_or_create_dev_key(tmp_path).private_numbers() == first.private_numbers()
    verifier = verifier_for(EngineConfig(state_dir=tmp_path, audience=AUD))
    assert verifier.verify(mint(first), now=NOW).tenant == "acme"


def test_configured_keys_replace_the_dev_key(tmp_path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = tmp_path / "pub.pem"
    pem.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    verifier = verifier_for(EngineConfig(state_dir=tmp_path, audience=AUD, verification_keys=(pem,)))
    assert verifier.verify(mint(key), now=NOW).tenant == "acme"
    assert refusal(verifier, mint(load_or_create_dev_key(tmp_path))).kind == "forged"


# Prefix matching by whole fields.


def test_prefix_fields() -> None:
    assert prefix_fields("") == ()
    assert prefix_fields("voice") == (b"voice",)
    assert prefix_fields("voice/CA12") == (b"voice", b"CA12")
    assert prefix_fields("v\u00f6ice") == ("v\u00f6ice".encode(),)


@pytest.mark.parametrize(
    ("prefix", "namespace", "allowed"),
    [
        ("voice/CA12", (b"voice", b"CA12"), True),
        ("voice/CA12", (b"voice", b"CA12", b"x"), True),
        ("voice/CA12", (b"voice", b"CA123"), False),
        ("voice/CA12", (b"voice",), False),
        ("voice/CA12", (b"voice/CA12",), False),  # one field that contains a slash is not two fields
        ("voice", (b"voice", b"anything"), True),
        ("voice", (b"voices",), False),
        ("", (b"anything", b"at", b"all"), True),
        ("", (), True),
    ],
)
def test_prefix_matches_whole_fields(prefix: str, namespace: tuple[bytes, ...], allowed: bool) -> None:
    grant = Grant("t", (prefix,), (prefix,), NOW)
    assert grant.may_publish(namespace) is allowed
    assert grant.may_subscribe(namespace) is allowed


def test_no_prefix_allows_nothing() -> None:
    grant = Grant("t", (), (), NOW)
    assert not grant.may_publish((b"voice",)) and not grant.may_subscribe(())


_field = st.binary(min_size=0, max_size=6).filter(lambda b: b"/" not in b)
_text_field = st.text(alphabet="abcXYZ019-_\u00e9", min_size=1, max_size=5)


@given(st.lists(_text_field, max_size=4), st.lists(_field, max_size=6))
def test_prefix_property_matches_field_tuple_prefix(prefix: list[str], namespace: list[bytes]) -> None:
    fields = tuple(p.encode() for p in prefix)
    grant = Grant("t", ("/".join(prefix),), (), NOW)
    assert grant.may_publish(namespace) == (tuple(namespace[: len(fields)]) == fields)


@given(st.lists(_text_field, min_size=1, max_size=4), st.lists(_field, max_size=3), st.binary(min_size=1, max_size=3))
def test_prefix_property_extension_and_partial_field(prefix: list[str], tail: list[bytes], extra: bytes) -> None:
    fields = [p.encode() for p in prefix]
    grant = Grant("t", (), ("/".join(prefix),), NOW)
    assert grant.may_subscribe([*fields, *tail])  # every namespace under the prefix
    extended_last = [*fields[:-1], fields[-1] + extra]  # CA12 -> CA123: a longer last field never matches
    assert not grant.may_subscribe(extended_last)


@given(st.lists(st.sampled_from(["voice/CA1", "voice/CA2", "video", ""]), max_size=3), st.lists(_field, max_size=3))
def test_several_prefixes_are_any_of(prefixes: list[str], namespace: list[bytes]) -> None:
    grant = Grant("t", tuple(prefixes), (), NOW)
    assert grant.may_publish(namespace) == any(Grant("t", (p,), (), NOW).may_publish(namespace) for p in prefixes)


def test_anonymous_grant_only_without_a_token(tmp_path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    config = EngineConfig(state_dir=tmp_path, audience=AUD, anonymous_publish=("moq-test",), anonymous_subscribe=("",))
    verifier = verifier_for(config)
    anon = verifier.verify(None, now=NOW)
    assert anon.tenant == "_anonymous" and anon.may_publish([b"moq-test", b"x"]) and not anon.may_publish([b"voice"])
    assert anon.may_subscribe([b"voice"])
    # a token that is present is verified, never downgraded to the anonymous grant
    assert refusal(verifier, mint(key)).kind == "forged"
    assert refusal(verifier_for(EngineConfig(state_dir=tmp_path, audience=AUD)), None).kind == "missing"
