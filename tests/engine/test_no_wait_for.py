"""No asyncio.wait_for where the engine runs: on Python 3.11 it loses a cancellation that lands as the awaited call
completes (tests/cancel_race.py). Ruff's banned-api rule (pyproject.toml) holds engine/ and runtime/ in the lint run;
this test holds generated/python too, which the lint run excludes, and shows the rule catches every spelling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUARDED = ["engine", "runtime", "generated/python"]
SPELLINGS = """import asyncio
import asyncio as aio
from asyncio import wait_for


async def f(fut: asyncio.Future[int]) -> None:
    await asyncio.wait_for(fut, 1)
    await aio.wait_for(fut, 1)
    await wait_for(fut, 1)
"""


def _ruff_banned_api(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    # --config: generated/python has its own ruff settings (the SDK's), which would otherwise apply there
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "--config", str(ROOT / "pyproject.toml")]
    command += ["--select", "TID251", "--output-format", "concise"]
    return subprocess.run([*command, *args], cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=120)


def test_no_wait_for_in_the_engine_the_runtime_or_the_generated_sdk() -> None:
    proc = _ruff_banned_api(*GUARDED)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", ["engine/x.py", "runtime/python/clutchcall_runtime/x.py", "generated/python/x.py"])
def test_the_rule_catches_every_spelling_where_it_is_guarded(path: str) -> None:
    proc = _ruff_banned_api("--stdin-filename", path, "-", stdin=SPELLINGS)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    flagged = sorted(int(line.split(":")[1]) for line in proc.stdout.splitlines() if "TID251" in line)
    assert flagged == [3, 7, 8], proc.stdout  # the import, the attribute, the alias's attribute


def test_tests_may_bound_their_own_waits_with_it() -> None:
    proc = _ruff_banned_api("--stdin-filename", "tests/x.py", "-", stdin=SPELLINGS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
