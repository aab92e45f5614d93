"""Token checks at the relay: refusals at setup with draft-14's codes, per-request grant checks, and the
session closed when its token expires."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from clutchcall.wire import moqt_d14 as wire
from clutchcall_engine.auth import mint_token
from clutchcall_engine.config import EngineConfig
from clutchcall_engine.server import EngineServer
from clutchcall_runtime.moqt.errors import AuthenticationError, NotAuthorizedError
from cryptography.hazmat.primitives.asymmetric import ec
from moqt_support import client, engine_config, moqt_url, raw_session, run, token, wt_url

Code = wire.SessionTerminationCode


def forged(config: EngineConfig | None = None) -> str:
    return mint_token(
        ec.generate_private_key(ec.SECP256R1()),
        tenant="t1",
        publish=[""],
        subscribe=[""],
        ttl_s=3600,
        audience="clutchcall-engine",
    )


def missing(config: EngineConfig) -> str | None:
    return None


def wrong_audience(config: EngineConfig) -> str | None:
    return token(config, audience="someone-else")


def garbage(config: EngineConfig) -> str | None:
    return "not-a-jwt"


CASES: dict[str, tuple[Callable[[EngineConfig], str | None], int, str]] = {
    "missing": (missing, Code.UNAUTHORIZED, "missing"),
    "forged": (forged, Code.UNAUTHORIZED, "forged"),
    "wrong_audience": (wrong_audience, Code.UNAUTHORIZED, "wrong_audience"),
    "garbage": (garbage, Code.MALFORMED_AUTH_TOKEN, "malformed"),
}


@pytest.mark.parametrize("webtransport", [False, True], ids=["quic", "webtransport"])
@pytest.mark.parametrize("case", list(CASES))
def test_refused_token_closes_with_the_drafts_code(tmp_path: Path, case: str, webtransport: bool) -> None:
    make, code, kind = CASES[case]

    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            with pytest.raises(AuthenticationError) as err:
                await raw_session(srv, make(config), webtransport=webtransport)
            assert err.value.code == code
            text = srv.metrics.render().decode()
            assert f'auth_refusals_total{{kind="{kind}"}} 1.0' in text

    run(main())


def test_token_expired_at_connect_and_mid_session(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            with pytest.raises(AuthenticationError) as err:
                await raw_session(srv, token(config, ttl_s=-5))
            assert err.value.code == Code.EXPIRED_AUTH_TOKEN
            _, rec = await raw_session(srv, token(config, ttl_s=2))
            code, _, by_peer = await asyncio.wait_for(rec.closed, 5)
            assert (code, by_peer) == (Code.EXPIRED_AUTH_TOKEN, True)

    run(main())


def test_every_request_is_checked_against_the_grant(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            tok = token(config, publish=("voice/CA1",), subscribe=("voice/CA1",))
            c = await client(moqt_url(srv), tok)
            await c.publish(("voice", "CA1", "x"), "uplink")  # within the prefix
            with pytest.raises(NotAuthorizedError) as err:
                await c.publish(("voice", "CA12"), "uplink")  # whole fields: CA1 does not cover CA12
            assert err.value.code == wire.PublishErrorCode.UNAUTHORIZED
            with pytest.raises(NotAuthorizedError) as err:
                await c.subscribe(("voice", "CA2"), "uplink")
            assert err.value.code == wire.SubscribeErrorCode.UNAUTHORIZED
            assert c.session is not None and not c.session.closed.done()  # refusals do not end the session
            await c.close()

    run(main())


@pytest.mark.parametrize("webtransport", [False, True], ids=["quic", "webtransport"])
def test_client_gets_authentication_error_without_retrying(tmp_path: Path, webtransport: bool) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            url = wt_url(srv) if webtransport else moqt_url(srv)
            with pytest.raises(AuthenticationError):
                await client(url, forged(config))
            await asyncio.sleep(0.5)
            text = srv.metrics.render().decode()
            assert 'auth_refusals_total{kind="forged"} 1.0' in text  # one attempt, no retry loop

            # a token that expires mid-session ends the subscription with AuthenticationError, no retry
            pub = await client(url, token(config))
            await pub.publish(("voice", "CA1"), "uplink")
            c = await client(url, token(config, ttl_s=2))
            objects = await c.subscribe(("voice", "CA1"), "uplink")
            with pytest.raises(AuthenticationError) as err:
                await asyncio.wait_for(objects.__anext__(), 5)
            assert err.value.code == Code.EXPIRED_AUTH_TOKEN
            await asyncio.sleep(0.5)
            assert c.reconnects == 0
            await c.close()
            await pub.close()

    run(main())
