"""`make demo` end to end: engine + SIP gateway, SIPp carrier, SDK originate and bind, espeak caller (~15 s)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "engine" / "examples" / "demo" / "demo.py"


def _core_dir() -> Path | None:
    """Where clutchcall_core is built (make core-module), or $CLUTCHCALL_CORE_PKG as for tests/core."""
    env = os.environ.get("CLUTCHCALL_CORE_PKG")
    built = Path(env) if env else ROOT / "build" / "bindings" / "pkg"
    return built if (built / "clutchcall_core").is_dir() else None


def test_make_demo_runs_a_whole_call() -> None:
    missing = [t for t in ("espeak-ng", "sox", "sipp") if shutil.which(t) is None]
    if missing:
        pytest.fail(f"make demo needs {', '.join(missing)} (make system-deps)")
    core = _core_dir()
    if core is None:
        pytest.skip("clutchcall_core is not built: make core-module (or set CLUTCHCALL_CORE_PKG)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(core), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, str(DEMO)], env=env, capture_output=True, text=True, timeout=120)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    for expected in ("ringing", "in_progress", "turn finished", "barge ", "voice-to-voice", "completed"):
        assert expected in out, out
    assert "0 self-interruptions, 0 false speech starts" in out and "2 turns, 1 barge-in" in out, out
