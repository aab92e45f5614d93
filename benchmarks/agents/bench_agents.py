"""Turn detection on labelled fixtures: end-of-turn latency, false ends, barge-in, self-interruption, cost.

    python benchmarks/agents/bench_agents.py [--voices en-us,en-gb,...] [--cost-frames 3000]

Fixtures are made by tests/agents/fixtures (espeak-ng + sox) in several voices; the scoring is
tests/agents/fixtures/evaluate.py, the same code the tests bound. Stream-time figures (latencies
in ms of audio) are deterministic; wall-clock figures (flush latency, cost per frame) are
measured here, the cost beside the peer webrtcvad alone in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "agents" / "fixtures"))

import human_speech as human
import speech_fixtures as fx
from clutchcall.messages import AgentBinding, TurnDetection, VadSettings
from clutchcall_engine.agents import (
    AgentCall,
    AgentLimits,
    AgentSession,
    EchoGuard,
    GatedVad,
    PromptAgent,
    TurnDetector,
    TurnSettings,
    WebRtcVad,
)
from clutchcall_engine.agents.semantic import COMPLETE_PROBABILITY
from evaluate import detector, score_turns, simulate_barge_in


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def turn_table(cache: Path, voices: list[str]) -> None:
    print("## End of turn (stream time; latency = turn finished - true end of speech)")
    head = ("vad", "silence", "turns", "found", "false", "p50", "p95", "max")
    print(f"{head[0]:8} " + " ".join(f"{h:>7}" for h in head[1:]) + "  false-end rate")
    for accurate, name in ((True, "silero"), (False, "webrtc")):
        for silence_ms in (300, 500, 800):
            td = TurnDetection(vad=VadSettings(silence_duration_ms=silence_ms))
            turns = found = false = detected = 0
            lat: list[float] = []
            for voice in voices:
                for fixture in fx.turn_scenarios(cache, join_ms=silence_ms, voice=voice):
                    s = score_turns(fixture, detector(td=td, accurate=accurate))
                    turns += s.true_turns
                    found += s.matched
                    false += s.false_ends
                    detected += s.detected
                    lat += s.latencies_ms
            rate = false / max(detected, 1)
            print(
                f"{name:8} {silence_ms:7} {turns:7} {found:7} {false:7} {pct(lat, 50):7.0f} {pct(lat, 95):7.0f} "
                f"{max(lat, default=float('nan')):7.0f}  {rate:.1%}"
            )


def semantic_table(cache: Path, voices: list[str]) -> None:
    """Mode semantic (Smart Turn judging each 200 ms pause) against server_vad at the IDL's 500 ms, on the turn
    fixtures and on turns with a mid-sentence hesitation (600-900 ms), each followed by 2.5 s of silence so that a
    turn held open reaches its backstop. A false end here splits a turn."""
    from clutchcall.enums import TurnDetectionMode
    from clutchcall_engine.agents.smart_turn import SmartTurn

    model = SmartTurn()
    timed: list[float] = []

    class Timed:
        def complete_probability(self, pcm16: bytes, sample_rate: int) -> float:
            t0 = time.perf_counter()
            p = model.complete_probability(pcm16, sample_rate)
            timed.append((time.perf_counter() - t0) * 1000)
            return p

    print("\n## Mode semantic (Smart Turn v3.2) against server_vad, stream time; latency = finished - end of speech")
    print(f"{'fixtures':12} {'mode':10} {'turns':>6} {'found':>6} {'false':>6} {'p50':>6} {'p95':>6}")
    sets = {"turn": fx.turn_scenarios, "hesitation": fx.hesitation_scenarios}
    modes = {"server_vad": TurnDetection(), "semantic": TurnDetection(mode=TurnDetectionMode.SEMANTIC)}
    for set_name, make in sets.items():
        for mode_name, td in modes.items():
            turns = found = false = 0
            lat: list[float] = []
            for voice in voices:
                for fixture in make(cache, voice=voice):
                    judge = Timed() if td.mode == TurnDetectionMode.SEMANTIC else None
                    s = score_turns(fixture, detector(td=td), window_ms=2500, model=judge, tail_ms=2500)
                    turns, found, false = turns + s.true_turns, found + s.matched, false + s.false_ends
                    lat += s.latencies_ms
            print(f"{set_name:12} {mode_name:10} {turns:6} {found:6} {false:6} {pct(lat, 50):6.0f} {pct(lat, 95):6.0f}")
    print(f"one verdict (8 s window, one thread): p50 {pct(timed, 50):.1f} ms, p95 {pct(timed, 95):.1f} ms")


def human_table() -> None:
    """Smart Turn on people talking (tests/agents/fixtures/human_speech.py): first the model alone at every turn
    end and at cuts inside utterances, on the mixed recording and on each speaker's own channel, asked as the
    session asks it (the last 8 s, ending SEMANTIC_PAUSE_MS into the pause); then each speaker's channel through
    the whole detector, mode semantic against server_vad."""
    from clutchcall.enums import TurnDetectionMode
    from clutchcall_engine.agents.session import MODEL_WINDOW_MS
    from clutchcall_engine.agents.smart_turn import SmartTurn
    from clutchcall_engine.agents.turn import SEMANTIC_PAUSE_MS

    model = SmartTurn()
    talk = human.conversation()
    pause = np.zeros(talk.rate * SEMANTIC_PAUSE_MS // 1000, dtype=np.int16)
    window = talk.rate * (MODEL_WINDOW_MS - SEMANTIC_PAUSE_MS) // 1000
    points = talk.points()
    print(f"\n## Smart Turn on human speech: pyannote.audio {human.PYANNOTE_VERSION}'s two-party telephone sample")
    print(
        f"{len(talk.utterances)} utterances; {sum(p.complete for p in points)} turn ends, "
        f"{sum(not p.complete for p in points)} cuts inside utterances"
    )
    print(f"{'audio':10} {'ends called complete':>21} {'cuts called complete':>21} {'AUC':>5}")
    own = {speaker: talk.own_channel(speaker) for speaker in talk.speakers}
    for label in ("mixed", "own"):
        scores: dict[bool, list[float]] = {True: [], False: []}
        for point in points:
            pcm = talk.pcm if label == "mixed" else own[point.speaker]
            end = point.at_ms * talk.rate // 1000
            audio = np.concatenate([pcm[max(0, end - window) : end], pause])
            scores[point.complete].append(model.complete_probability(audio.tobytes(), talk.rate))
        ends, cuts = scores[True], scores[False]
        # AUC: the chance that a turn end scores above a cut (ties count half); 0.5 is chance
        auc = float(np.mean([[(e > c) + 0.5 * (e == c) for c in cuts] for e in ends]))
        called = {k: sum(p >= COMPLETE_PROBABILITY for p in v) for k, v in scores.items()}
        print(f"{label:10} {called[True]:>17}/{len(ends):<3} {called[False]:>17}/{len(cuts):<3} {auc:5.2f}")
    print(f"{'speaker':10} {'mode':10} {'turns':>6} {'found':>6} {'false':>6} {'p50':>6} {'p95':>6}")
    for speaker in talk.speakers:
        for td in (TurnDetection(), TurnDetection(mode=TurnDetectionMode.SEMANTIC)):
            judge = model if td.mode == TurnDetectionMode.SEMANTIC else None
            s = score_turns(talk.fixture(speaker), detector(td=td), window_ms=2500, model=judge, tail_ms=2500)
            mode = "semantic" if judge else "server_vad"
            print(
                f"{speaker:10} {mode:10} {s.true_turns:6} {s.matched:6} {s.false_ends:6} "
                f"{pct(s.latencies_ms, 50):6.0f} {pct(s.latencies_ms, 95):6.0f}"
            )


def echo_table(cache: Path) -> None:
    prompt = fx.synthesize(fx.AGENT_PROMPT, 16000, cache).astype(np.float64)
    caller = fx.synthesize(fx.CALLER_BARGE_IN, 16000, cache, voice="en-gb").astype(np.float64)
    print("\n## Self-interruption and barge-in through the agent's own echo (stream time)")
    print("echo path: delay, attenuation, -60 dBFS noise floor; caller speaks at 2.0 s over the agent")
    print(f"{'echo dB':>7} {'delay':>5} | {'no guard: cut itself off':>24} {'guard: self-int':>15} | barge-in ms")
    for gain in (0.0, -6.0, -12.0, -20.0):
        for delay in (20, 40, 120, 250, 380):
            bare = simulate_barge_in(detector(guard=False), prompt, None, 0, echo_delay_ms=delay, echo_gain_db=gain)
            kept = simulate_barge_in(detector(guard=True), prompt, None, 0, echo_delay_ms=delay, echo_gain_db=gain)
            barge = simulate_barge_in(
                detector(guard=True), prompt, caller, 2000, echo_delay_ms=delay, echo_gain_db=gain
            )
            detection = "missed" if barge.detection_ms is None else str(barge.detection_ms)
            self_int = kept.self_interruptions + len(kept.speech_started)
            cut = f"yes, at {bare.barge_ins[0].at_ms} ms" if bare.barge_ins else "no"
            print(f"{gain:7.0f} {delay:5} | {cut:>24} {self_int:15} | {detection}")
    print("(guard: self-int = barge-ins and turns started by the echo alone; barge-in ms: caller onset -> BargeIn)")


def overlap_table(cache: Path) -> None:
    prompt = fx.synthesize(fx.AGENT_PROMPT, 16000, cache).astype(np.float64)
    caller = fx.synthesize(fx.CALLER_BARGE_IN, 16000, cache, voice="en-gb").astype(np.float64)
    end_ms = len(prompt) * 1000 // 16000
    print("\n## The caller starting before the agent's last word (echo -12 dB, 120 ms; barge-in at the IDL's 150 ms)")
    print(f"{'overlap ms':>10} | {'barge-in':>8} {'speech starts':>13} {'start - onset':>13} {'turns kept':>10}")
    for overlap in (0, 60, 100, 140, 200, 400, 800):
        run = simulate_barge_in(detector(guard=True), prompt, caller, end_ms - overlap, echo_gain_db=-12.0)
        barge = "yes" if run.barge_ins else "no"
        offset = str(run.speech_started[0].speech_ms - (end_ms - overlap)) if run.speech_started else "-"
        print(f"{overlap:10} | {barge:>8} {len(run.speech_started):13} {offset:>13} {len(run.finished):10}")


class _Port:
    def __init__(self) -> None:
        self.uplink: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.sent = 0

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        while (frame := await self.uplink.get()) is not None:
            yield frame

    async def send(self, frame: bytes) -> None:
        self.sent += 1

    async def release(self) -> None:
        pass


async def _flush_run(cache: Path) -> list[float]:
    prompt = fx.synthesize(fx.AGENT_PROMPT, 16000, cache)
    turn = fx.turn_scenarios(cache)[2].frames()[:100]  # "Can you hear me?"
    barge = fx.turn_scenarios(cache)[0].frames()[25:70]
    latencies: list[float] = []
    for _ in range(10):
        settings = TurnSettings.from_idl(None)
        echo = EchoGuard(16000, 20)
        port = _Port()
        session = AgentSession(
            AgentCall("BENCH", AgentBinding(agent_id="prompt"), 16000, 20),
            PromptAgent(prompt.astype("<i2").tobytes()),
            TurnDetector(settings, GatedVad(16000, 20), echo),
            port,
            limits=AgentLimits(),
            echo=echo,
        )
        await session.start()
        for f in turn:
            await port.uplink.put(f)
        while port.sent < 10:
            await asyncio.sleep(0.01)
        for f in barge:
            await port.uplink.put(f)
            await asyncio.sleep(0.02)
        await session.stop()
        latencies += session.stats.flush_latency_ms
    return latencies


def cost_table(cache: Path, frames: int) -> None:
    pcm = np.concatenate([f.pcm for f in fx.turn_scenarios(cache)])
    data = pcm.astype("<i2").tobytes()
    chunks = [data[i : i + 640] for i in range(0, len(data) - 639, 640)][:frames]

    def per_frame_us(fn) -> float:  # type: ignore[no-untyped-def]
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            for c in chunks:
                fn(c)
            best = min(best, (time.perf_counter() - t) / len(chunks) * 1e6)
        return best

    webrtc = WebRtcVad(16000, 20)
    gated = GatedVad(16000, 20)
    guard = EchoGuard(16000, 20)
    for c in chunks[:40]:
        guard.played(c)
    det_guard = EchoGuard(16000, 20)
    det = TurnDetector(TurnSettings.from_idl(None), GatedVad(16000, 20), det_guard)

    def during_playback(c: bytes) -> None:
        det_guard.played(c)  # the worst case: every frame voiced and the guard correlating
        det.push(c, agent_speaking=True)

    peer = per_frame_us(webrtc.is_speech)
    rows = [
        ("webrtcvad alone (peer)", peer),
        ("webrtcvad + silero (GatedVad)", per_frame_us(gated.is_speech)),
        ("echo guard correlation", per_frame_us(guard.max_correlation)),
        ("turn detector + guard, playing", per_frame_us(during_playback)),
    ]
    print(f"\n## Cost per 20 ms frame, 16 kHz ({len(chunks)} frames, best of 3)")
    print(f"{'stage':32} {'us/frame':>9} {'x peer':>7} {'streams/core':>12}")
    for name, us in rows:
        print(f"{name:32} {us:9.1f} {us / peer:7.1f} {20000 / us:12.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--voices", default="en-us,en-gb,en-gb-scotland,en-gb-x-rp")
    ap.add_argument("--cost-frames", type=int, default=3000)
    args = ap.parse_args()
    missing = fx.missing_tools()
    if missing:
        sys.exit(f"needs {', '.join(missing)} (make system-deps)")
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        turn_table(cache, args.voices.split(","))
        semantic_table(cache, args.voices.split(","))
        human_table()
        echo_table(cache)
        overlap_table(cache)
        flush = asyncio.run(_flush_run(cache))
        print(f"\n## Barge-in flush (wall clock, frame in -> queue flushed, answer cancelled), {len(flush)} runs")
        print(f"p50 {statistics.median(flush):.3f} ms, max {max(flush):.3f} ms")
        cost_table(cache, args.cost_frames)


if __name__ == "__main__":
    main()
