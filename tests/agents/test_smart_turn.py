"""The engine's end-of-turn model (Smart Turn v3.2): features against pipecat's own code, the pinned file, and the
model judging real pauses through a bound agent."""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from clutchcall.enums import TurnDetectionMode
from clutchcall.messages import AgentBinding, TurnDetection
from clutchcall_engine.agents import ReplayAgent, TurnFinished
from clutchcall_engine.agents import smart_turn as st
from clutchcall_engine.agents.turn import SEMANTIC_PAUSE_MS
from speech_fixtures import Fixture
from test_session import FRAME, Harness, _until


@pytest.fixture(scope="module")
def model_file() -> Path:
    path = st.model_dir() / Path(st.MODEL_MEMBER).name
    if not path.exists():
        pytest.fail(f"no Smart Turn model at {path}: run `make semantic-model` (`make test` does)")
    return path


@pytest.fixture(scope="module")
def reference_features(model_file: Path) -> Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]]:
    """pipecat's own feature code, kept beside the model by `make semantic-model` from the same wheel."""
    spec = importlib.util.spec_from_file_location(
        "pipecat_whisper_features", model_file.parent / "_whisper_features.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.compute_whisper_log_mel_features  # type: ignore[no-any-return]


def test_features_match_pipecats(
    reference_features: Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]], scenarios: dict[str, Fixture]
) -> None:
    rng = np.random.default_rng(3)
    n = st.MODEL_RATE * st.WINDOW_S
    speech = scenarios["single"].pcm.astype(np.float32) / 32768
    cases = {
        "noise": (rng.standard_normal(n) * 0.1).astype(np.float32),
        "speech padded in front": np.pad(speech, (n - len(speech), 0)).astype(np.float32),
        "a tone and silence": np.where(np.arange(n) < n // 2, 0.3 * np.sin(np.arange(n) * 0.07), 0).astype(np.float32),
        "silence": np.zeros(n, dtype=np.float32),
    }
    for name, audio in cases.items():
        ours, theirs = st.log_mel(audio), reference_features(audio)
        assert ours.shape == theirs.shape == (80, 800), name
        assert np.max(np.abs(ours - theirs)) <= 1e-5, name
    with pytest.raises(ValueError, match="128000 samples"):
        st.log_mel(np.zeros(100, dtype=np.float32))


def test_the_model_is_the_pinned_file(model_file: Path, tmp_path: Path) -> None:
    with pytest.raises(st.ModelUnavailable, match="make semantic-model"):
        st.SmartTurn(tmp_path / "missing.onnx")
    tampered = tmp_path / "smart-turn.onnx"
    shutil.copy(model_file, tampered)
    with tampered.open("r+b") as f:
        f.seek(4096)
        f.write(b"\xff")
    with pytest.raises(st.ModelUnavailable, match="not the pinned"):
        st.SmartTurn(tampered)


def test_probabilities_are_deterministic_and_8khz_is_resampled(model_file: Path, scenarios: dict[str, Fixture]) -> None:
    model = st.SmartTurn(model_file)
    pcm16 = scenarios["single"].pcm.astype("<i2").tobytes() + bytes(2 * 16000 * 200 // 1000)
    p = model.complete_probability(pcm16, 16000)
    assert 0.0 <= p <= 1.0 and model.complete_probability(pcm16, 16000) == p
    # the same speech at 8 kHz (decimated after a low-pass by averaging) reaches the model resampled to 16 kHz,
    # not read as 16 kHz audio at half speed
    pcm = np.frombuffer(pcm16, dtype="<i2").astype(np.int32)[: len(pcm16) // 4 * 2]
    narrow = ((pcm[0::2] + pcm[1::2]) // 2).astype("<i2").tobytes()
    p8 = model.complete_probability(narrow, 8000)
    assert 0.0 <= p8 <= 1.0 and p8 != model.complete_probability(narrow, 16000)
    assert model.complete_probability(bytes(640), 16000) >= 0.0  # 20 ms, padded with silence to 8 s


def test_a_semantic_binding_uses_the_engines_model(model_file: Path, scenarios: dict[str, Fixture]) -> None:
    """No model of the agent's own: the engine's Smart Turn judges the pauses (each judged, none left to the VAD)."""

    async def main() -> None:
        h = Harness({"replay": ReplayAgent()})
        td = TurnDetection(mode=TurnDetectionMode.SEMANTIC)
        session = await h.binder.bind("CA20", AgentBinding(agent_id="replay", turn_detection=td))
        await h.ports["CA20"].feed(scenarios["pauses"].frames() + [bytes(FRAME)] * 150, realtime=True)
        await _until(lambda: session.stats.turns >= 2, timeout=20)
        stats = session.stats
        judged = stats.semantic_ends + stats.semantic_holds + stats.semantic_stale  # stale: slower than the backstop
        assert judged >= 2 and stats.semantic_unjudged == 0, stats
        turns = [e for _, e in h.events if isinstance(e, TurnFinished)]
        assert all(t.at_ms - t.speech_ended_ms >= SEMANTIC_PAUSE_MS for t in turns)
        await h.binder.close()

    asyncio.run(main())
