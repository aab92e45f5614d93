"""A unary call cancelled as its answer arrives ends cancelled: asyncio.wait_for on Python 3.11 dropped that cancel
and handed the caller the answer."""

from __future__ import annotations

import asyncio

from cancel_race import cancel_as_it_completes
from clutchcall import Call, GetCallRequest, Message
from clutchcall.services import VOICE_CALLS, MethodDescriptor
from clutchcall_runtime.rpc.client import Channel


class _Waiting(Channel):
    """A channel whose one attempt waits for an answer the test gives."""

    def __init__(self) -> None:
        super().__init__()
        self.answer: asyncio.Future[Message] | None = None

    async def _unary(self, method: MethodDescriptor, request: Message) -> Message:
        self.answer = asyncio.get_running_loop().create_future()
        return await self.answer

    async def aclose(self) -> None:
        pass


def test_a_unary_call_cancelled_as_its_answer_arrives_ends_cancelled() -> None:
    async def main() -> None:
        channel = _Waiting()
        task = asyncio.get_running_loop().create_task(channel.unary(VOICE_CALLS["get"], GetCallRequest(sid="CA1")))

        def answer() -> None:
            assert channel.answer is not None
            channel.answer.set_result(Call(sid="CA1"))

        await cancel_as_it_completes(task, lambda: channel.answer is not None, answer)
        assert channel.attempts == 1

    asyncio.run(main())
