"""A request cancelled as its answer arrives ends cancelled (asyncio.wait_for on Python 3.11 dropped that cancel
and the caller carried on with the answer): waiting for the answer, and waiting for a request ID."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cancel_race import cancel_as_it_completes
from clutchcall_runtime.moqt.session import Session
from moqt_support import run, session_pair, subscribe_msg


def _subscribe(session: Session) -> asyncio.Task[object]:
    return asyncio.get_running_loop().create_task(session.request(lambda rid: subscribe_msg(rid, (b"ns",), b"t")))


def test_a_request_cancelled_as_its_answer_arrives_ends_cancelled(tmp_path: Path) -> None:
    async def main() -> None:
        pair, server = await session_pair(tmp_path)  # the server's Recorder never answers
        assert pair.client
        client = pair.client
        task = _subscribe(client)

        def answer() -> None:
            (_, fut), *_ = client._pending.values()
            fut.set_result("SUBSCRIBE_OK")

        await cancel_as_it_completes(task, lambda: len(client._pending) == 1, answer)
        assert client._pending == {}
        client.close()
        server.close()

    run(main())


def test_a_request_cancelled_as_a_request_id_is_granted_ends_cancelled(tmp_path: Path) -> None:
    async def main() -> None:
        pair, server = await session_pair(tmp_path)
        assert pair.client
        client = pair.client
        client._peer_max_id = client._next_id  # no request ID left: the request waits for MAX_REQUEST_ID

        def grant() -> None:
            client._peer_max_id += 2
            client._max_id_changed.set()

        task = _subscribe(client)
        await cancel_as_it_completes(task, lambda: client._blocked_sent_at == client._peer_max_id, grant)
        assert client._pending == {}  # the request was never sent
        client.close()
        server.close()

    run(main())
