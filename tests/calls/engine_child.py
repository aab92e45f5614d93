"""The engine with its control plane, in a process of its own (so tests can SIGKILL it), with a stand-in SIP
gateway that rings and answers every call it dials. Prints one line `ports rest=N rpc=N http=N` when ready.

    python tests/calls/engine_child.py STATE_DIR [REST_PORT RPC_PORT HTTP_PORT]
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from clutchcall import CallStatus
from clutchcall_engine.calls.ports import CallEvents
from clutchcall_engine.config import load_config
from clutchcall_engine.server import EngineServer


class AnsweringGateway:
    """Rings then answers each dialed call a few milliseconds later; hangup and transfer succeed."""

    def __init__(self) -> None:
        self.events: CallEvents | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def dial(
        self, sid: str, tenant: str, to: str, from_: str, codec: int, ring_timeout_s: float, default_app: int = 0
    ) -> None:
        task = asyncio.create_task(self._answer(sid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, sid: str) -> None:
        assert self.events is not None
        for status in (CallStatus.RINGING, CallStatus.IN_PROGRESS):
            await asyncio.sleep(0.005)
            await self.events.status_changed(sid, status)

    async def hangup(self, sid: str) -> None:
        return None

    async def transfer(self, sid: str, to: str) -> None:
        return None


async def main(state_dir: Path, rest: int, rpc: int, http: int) -> None:
    config = load_config(
        None,
        {
            "state_dir": state_dir,
            "moqt_addr": "127.0.0.1:0",
            "http_addr": f"127.0.0.1:{http}",
            "rest_addr": f"127.0.0.1:{rest}",
            "rpc_addr": f"127.0.0.1:{rpc}",
        },
    )
    gateway = AnsweringGateway()
    server = EngineServer(config, calls=True, signalling=gateway)
    assert server.calls is not None
    gateway.events = server.calls.service
    await server.start()
    print(f"ports rest={server.calls.rest_port} rpc={server.calls.rpc_port} http={server.http_port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    ports = [int(p) for p in sys.argv[2:5]] or [0, 0, 0]
    asyncio.run(main(Path(sys.argv[1]), *ports))
