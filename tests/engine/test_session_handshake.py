"""Session setup over raw QUIC and over WebTransport against an in-process engine on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
from clutchcall.wire import moqt_d14 as wire
from clutchcall_engine.server import EngineServer
from moqt_support import engine_config, raw_session, run, token


@pytest.mark.parametrize("webtransport", [False, True], ids=["quic", "webtransport"])
def test_setup_negotiates_draft14(tmp_path: Path, webtransport: bool) -> None:
    async def main() -> None:
        config = engine_config(tmp_path)
        async with EngineServer(config) as srv:
            assert srv.moqt_port and srv.http_port
            session, rec = await raw_session(srv, token(config), webtransport=webtransport)
            assert session.setup_done
            assert session.transport.kind == ("webtransport" if webtransport else "quic")
            # the server granted request IDs in SERVER_SETUP: client IDs are even, from 0
            assert session._peer_max_id == 2 * config.limits.max_request_id_window
            assert len(srv.sessions()) == 1
            session.close(wire.SessionTerminationCode.NO_ERROR, "bye")
            assert not rec.closed.done() or rec.closed.result()[2] is False

    run(main())
