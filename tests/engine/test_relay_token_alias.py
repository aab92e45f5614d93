"""Authorization token aliases (draft-14 9.2.1.1): the relay announces its per-session cache size, REGISTER /
USE_ALIAS / DELETE work in request parameters, each misuse closes the session with the draft's code, and a
request's own token narrows (never widens) what the session's token allows."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from clutchcall.wire import moqt_d14 as wire
from clutchcall_engine.server import EngineServer
from clutchcall_runtime.moqt.errors import RequestError
from clutchcall_runtime.moqt.session import Session
from moqt_support import Recorder, engine_config, raw_session, run, subscribe_msg, token

Code = wire.SessionTerminationCode
Alias = wire.AuthTokenAliasType


def _token_param(alias_type: int, alias: int | None = None, value: bytes | None = None) -> wire.KeyValuePair:
    with_value = alias_type in (Alias.REGISTER, Alias.USE_VALUE)
    tok = wire.AuthorizationToken(
        alias_type=alias_type,
        token_alias=alias,
        token_type=0 if with_value else None,
        token_value=value if with_value else None,
    )
    return wire.KeyValuePair(type_=wire.Parameter.AUTHORIZATION_TOKEN, bytes_value=tok.encode())


async def _subscribe(session: Session, ns: bytes, *params: wire.KeyValuePair) -> object:
    return await session.request(
        lambda rid: subscribe_msg(rid, (b"voice", ns), b"uplink", parameters=list(params)), sink=None
    )


async def _closed_with(session: Session, rec: Recorder, ns: bytes, *params: wire.KeyValuePair) -> int:
    pending = asyncio.ensure_future(_subscribe(session, ns, *params))
    code, _, _ = await asyncio.wait_for(rec.closed, 5)
    pending.cancel()
    return code


def test_cache_size_is_announced_and_aliases_authorize_requests(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path, held_subscribe_timeout_s=0.2, auth_token_cache_bytes=2048)
        async with EngineServer(config) as srv:
            session, _ = await raw_session(srv, token(config, subscribe=("voice",)))
            assert session.peer_token_cache_bytes == 2048
            narrow = token(config, subscribe=("voice/A",)).encode()
            # REGISTER (and use) a token narrower than the session's: voice/A only.
            with pytest.raises(RequestError) as held:
                await _subscribe(session, b"A", _token_param(Alias.REGISTER, 7, narrow))
            assert held.value.code == wire.SubscribeErrorCode.TRACK_DOES_NOT_EXIST  # authorized, then timed out
            with pytest.raises(RequestError) as refused:
                await _subscribe(session, b"B", _token_param(Alias.USE_ALIAS, 7))
            assert refused.value.code == wire.SubscribeErrorCode.UNAUTHORIZED  # the alias narrows the session
            with pytest.raises(RequestError) as plain:
                await _subscribe(session, b"B")
            assert plain.value.code == wire.SubscribeErrorCode.TRACK_DOES_NOT_EXIST  # the session alone allows it
            # A request token can never widen the session's grant.
            wide = token(config, subscribe=("",)).encode()
            with pytest.raises(RequestError) as wider:
                await session.request(
                    lambda rid: subscribe_msg(
                        rid, (b"other",), b"x", parameters=[_token_param(Alias.USE_VALUE, value=wide)]
                    )
                )
            assert wider.value.code == wire.SubscribeErrorCode.UNAUTHORIZED
            session.close()

    run(main())


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([(Alias.REGISTER, 1), (Alias.REGISTER, 1)], Code.DUPLICATE_AUTH_TOKEN_ALIAS),
        ([(Alias.USE_ALIAS, 9)], Code.UNKNOWN_AUTH_TOKEN_ALIAS),
        ([(Alias.DELETE, 9)], Code.UNKNOWN_AUTH_TOKEN_ALIAS),
        ([(Alias.REGISTER, 1), (Alias.DELETE, 1), (Alias.USE_ALIAS, 1)], Code.UNKNOWN_AUTH_TOKEN_ALIAS),
        ([(Alias.REGISTER, 1), (Alias.REGISTER, 2)], Code.AUTH_TOKEN_CACHE_OVERFLOW),
    ],
    ids=["duplicate", "use-unknown", "delete-unknown", "use-deleted", "overflow"],
)
def test_alias_misuse_closes_the_session_with_the_drafts_code(
    tmp_path: Path, steps: list[tuple[int, int]], expected: int
) -> None:
    async def main() -> None:
        config = engine_config(tmp_path, held_subscribe_timeout_s=0.05)
        tok = token(config).encode()
        # room for exactly one registered token: the second REGISTER overflows
        config = engine_config(tmp_path, held_subscribe_timeout_s=0.05, auth_token_cache_bytes=len(tok) + 10)
        async with EngineServer(config) as srv:
            session, rec = await raw_session(srv, tok.decode())
            *ok_steps, (last_type, last_alias) = steps
            for alias_type, alias in ok_steps:
                with pytest.raises(RequestError):  # held, then timed out: the token was accepted
                    await _subscribe(session, b"A", _token_param(alias_type, alias, tok))
            assert await _closed_with(session, rec, b"A", _token_param(last_type, last_alias, tok)) == expected

    run(main())


def test_forged_request_token_closes_like_a_forged_setup_token(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path, held_subscribe_timeout_s=0.05)
        async with EngineServer(config) as srv:
            session, rec = await raw_session(srv, token(config))
            forged = token(config)[:-4].encode() + b"AAAA"
            code = await _closed_with(session, rec, b"A", _token_param(Alias.USE_VALUE, value=forged))
            assert code == Code.UNAUTHORIZED
            malformed = await raw_session(srv, token(config))
            code = await _closed_with(*malformed, b"A", _token_param(Alias.USE_VALUE, value=b"not a jwt"))
            assert code == Code.MALFORMED_AUTH_TOKEN

    run(main())


def test_token_less_sessions_do_not_check_request_tokens(tmp_path: Path) -> None:
    async def main() -> None:
        config = engine_config(tmp_path, held_subscribe_timeout_s=0.05)
        config = dataclasses.replace(config, anonymous_subscribe=("voice",))
        async with EngineServer(config) as srv:
            session, _ = await raw_session(srv, None)
            with pytest.raises(RequestError) as held:  # a placeholder token, as some peers send: not checked
                await _subscribe(session, b"A", _token_param(Alias.USE_VALUE, value=b"auth-token-123"))
            assert held.value.code == wire.SubscribeErrorCode.TRACK_DOES_NOT_EXIST
            session.close()

    run(main())
