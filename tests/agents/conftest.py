"""The agents' fixtures: labelled speech made at test time (espeak-ng, sox; `make system-deps`)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

import speech_fixtures


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = speech_fixtures.missing_tools()
    if missing:
        pytest.fail(f"the agents' fixtures need {', '.join(missing)} (Debian packages; run `make system-deps`)")
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def scenarios(speech_cache: Path) -> dict[str, speech_fixtures.Fixture]:
    return {f.name: f for f in speech_fixtures.turn_scenarios(speech_cache)}


@pytest.fixture(scope="session")
def prompt(speech_cache: Path) -> np.ndarray:
    return speech_fixtures.synthesize(speech_fixtures.AGENT_PROMPT, 16000, speech_cache).astype(np.float64)


@pytest.fixture(scope="session")
def caller(speech_cache: Path) -> np.ndarray:
    return speech_fixtures.synthesize(speech_fixtures.CALLER_BARGE_IN, 16000, speech_cache, voice="en-gb").astype(
        np.float64
    )
