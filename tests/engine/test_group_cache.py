"""The relay's per-track cache of its latest group (FETCH, late joiners), kept out of the garbage collector's
oldest generation, and the engine process freezing its start-up heap: together they keep full collections short
enough not to stall frames (benchmarks/README.md, AudioBridge)."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from clutchcall.wire import moqt_d14 as wire
from clutchcall_engine import cli
from clutchcall_engine.relay import GroupCache
from clutchcall_runtime.moqt.session import OBJECT_OVERHEAD_BYTES, OutObject
from moqt_support import engine_config


def out(group: int, object_id: int, payload: bytes = b"x" * 160, **kw: object) -> OutObject:
    return OutObject(group, 0, object_id, 128, 4, payload, prev_object_id=object_id - 1 if object_id else None, **kw)  # type: ignore[arg-type]


def fields(o: OutObject) -> tuple[object, ...]:
    return (o.group, o.subgroup, o.object_id, o.publisher_priority, o.stream_type, o.payload, o.status, o.extensions,
            o.prev_object_id, o.datagram, o.size)  # fmt: skip


def test_keeps_the_latest_group_within_its_bytes() -> None:
    size = 160 + OBJECT_OVERHEAD_BYTES
    cache = GroupCache(limit=3 * size)
    first = [out(7, i) for i in range(4)]
    for o in first:
        cache.add(o)
    assert [fields(o) for o in cache] == [fields(o) for o in first[:3]]  # the fourth did not fit
    assert cache.bytes == 3 * size and len(cache) == 3
    cache.add(out(6, 9))  # an older group's object is not kept
    assert [o.group for o in cache] == [7, 7, 7]
    newer = out(8, 0, b"y" * 10, datagram=True, status=0)
    cache.add(newer)  # a newer group replaces the cache
    assert [fields(o) for o in cache] == [fields(newer)]
    assert cache.bytes == 10 + OBJECT_OVERHEAD_BYTES


def test_an_object_with_extensions_is_kept_as_it_is() -> None:
    cache = GroupCache(limit=1 << 20)
    ext = [wire.KeyValuePair(type_=2, int_value=5)]
    o = out(1, 0, extensions=ext)
    cache.add(o)
    (back,) = list(cache)
    assert back is o


def test_cached_objects_leave_the_collectors_view() -> None:
    cache = GroupCache(limit=1 << 20)
    for i in range(50):
        cache.add(out(3, i))
    gc.collect()
    # what the cache holds is no longer tracked: a full collection does not walk a second of audio per track
    held = cache._entries
    assert len(held) == 50 and not any(gc.is_tracked(entry) for entry in held)


def test_the_engine_process_freezes_its_start_up_heap(tmp_path: Path) -> None:
    async def main() -> None:
        before = gc.get_freeze_count()
        serving = asyncio.create_task(cli._serve(engine_config(tmp_path)))
        try:
            for _ in range(200):
                if gc.get_freeze_count() > before or serving.done():
                    break
                await asyncio.sleep(0.05)
            assert not serving.done(), serving.exception()
            assert gc.get_freeze_count() > before
        finally:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)

    try:
        asyncio.run(main())
    finally:
        gc.unfreeze()  # give this test process's heap back to the collector
