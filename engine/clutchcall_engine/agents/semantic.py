"""Turn-detection mode `semantic`: an end-of-turn model judges each pause in the caller's speech.

The model is the agent's (`Agent.end_of_turn`, anything with `complete_probability(pcm16, sample_rate)`),
else the engine's Smart Turn v3.2 (agents/smart_turn.py). Inference is CPU work of tens of milliseconds, so
it runs on the judge's worker threads, never on the event loop. The judge is shared by every binding of a
binder and bounded: `workers` inferences at once and `max_pending` waiting; a pause it has no room for is not
judged, and its turn ends on the VAD's silence as in server_vad (counted, as are the model's failures).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import math
import threading
from typing import Final, Protocol

log = logging.getLogger(__name__)

COMPLETE_PROBABILITY: Final = 0.5  # at or above: the turn is complete (Smart Turn's own decision threshold)


class EndOfTurnModel(Protocol):
    def complete_probability(self, pcm16: bytes, sample_rate: int) -> float:
        """P(the caller has finished the turn), from the turn's audio so far (mono pcm16, trailing pause included).
        Called on a worker thread."""
        ...


@dataclasses.dataclass
class JudgeStats:
    judged: int = 0
    complete: int = 0
    unfinished: int = 0
    skipped_full: int = 0  # pauses not judged: max_pending verdicts already waiting
    failed: int = 0  # the model raised or returned something other than a probability


class EndOfTurnJudge:
    def __init__(self, workers: int = 1, max_pending: int = 8) -> None:
        if workers < 1 or max_pending < 1:
            raise ValueError(f"EndOfTurnJudge: workers ({workers}) and max_pending ({max_pending}) must be >= 1")
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="end-of-turn")
        self.max_pending = max_pending
        self.pending = 0  # submitted and not finished, whether or not their caller still waits
        self._lock = threading.Lock()
        self.stats = JudgeStats()

    def _release(self, _done: concurrent.futures.Future[float]) -> None:
        with self._lock:
            self.pending -= 1

    async def judge(self, model: EndOfTurnModel, pcm16: bytes, sample_rate: int) -> bool | None:
        """True: complete; False: unfinished; None: not judged (no room, or the model failed). A caller cancelled
        while waiting withdraws its inference if it has not started."""
        with self._lock:
            if self.pending >= self.max_pending:
                self.stats.skipped_full += 1
                return None
            self.pending += 1
        future = self._pool.submit(model.complete_probability, pcm16, sample_rate)
        future.add_done_callback(self._release)
        try:
            p = await asyncio.wrap_future(future)
            if not isinstance(p, float | int) or math.isnan(p) or not 0.0 <= p <= 1.0:
                raise ValueError(f"complete_probability returned {p!r}, not a probability")
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:  # a broken model must not take the binding down: the VAD still ends turns
            self.stats.failed += 1
            log.warning("end-of-turn model %s failed: %r", type(model).__name__, exc)
            return None
        self.stats.judged += 1
        complete = p >= COMPLETE_PROBABILITY
        if complete:
            self.stats.complete += 1
        else:
            self.stats.unfinished += 1
        return complete

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
