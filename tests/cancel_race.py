"""The race `asyncio.wait_for` loses on Python 3.11 (CPython gh-86296): a task cancelled in the same loop iteration
as the call it waits for completes. wait_for then returns the call's result and the cancel is gone, so a stop or a
barge-in is ignored; `asyncio.timeout` keeps it. The race is made by one callback, not by timing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


async def cancel_as_it_completes(
    task: asyncio.Task[Any], waiting: Callable[[], bool], complete: Callable[[], object]
) -> None:
    """Once `waiting()` says `task` waits for its call, complete the call and cancel the task in one callback;
    fail unless the task then ends cancelled."""
    for _ in range(10_000):  # only steps the loop: what the task waits for is in-process
        if waiting() or task.done():
            break
        await asyncio.sleep(0)
    assert waiting() and not task.done(), "the task never got to wait for its call"

    def race() -> None:
        complete()
        task.cancel()

    asyncio.get_running_loop().call_soon(race)
    done, _ = await asyncio.wait([task], timeout=5)
    assert done, "the task did not end after its cancel"
    if not task.cancelled():
        outcome = task.exception() or task.result()
        raise AssertionError(f"the cancel was lost: the task carried on and ended with {outcome!r}")
