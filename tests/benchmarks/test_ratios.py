"""benchmarks/ratios.py reads the ratio column of every language's benchmark table, and nothing else."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


def _ratios() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "ratios.py"
    spec = importlib.util.spec_from_file_location("bench_ratios", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ratio_row = _ratios().ratio_row


@pytest.mark.parametrize(
    ("line", "row"),
    [
        ("Call encode                       162.9        803.8     0.20", ("Call encode", 0.20)),  # go
        ("  decode                  761.9 ns    1018.3 ns     0.75", ("decode", 0.75)),  # cpp
        ("Call encode (431 B)                       598.9       2428.1     0.25", ("Call encode (431 B)", 0.25)),
        ("Call           toJsonString         11.70 us     6306 ns      1.85", ("Call toJsonString", 1.85)),
        ("Call        read 9 fields             133 ns     1,521 ns     0.09x", ("Call read 9 fields", 0.09)),
        ("List x1000  encode                   9.15 ms    351.59 us    26.02x", ("List x1000 encode", 26.02)),
    ],
)
def test_a_ratio_row_gives_its_label_and_ratio(line: str, row: tuple[str, float]) -> None:
    assert ratio_row(line) == row


@pytest.mark.parametrize(
    "line",
    [
        "stream data decode hdr+obj (168 B)               160.0",  # one timing, no peer
        "MoQT subgroup  encode (hdr+obj)      3198 ns           -         -",
        "ns/op (min of 15 runs)                   ours      prost    ratio",
        "  SubgroupHeader::decode + SubgroupObject::decode     27.9 ns/op",
        "  DataParser, whole stream per feed                34.1 ns/object    29.34 M objects/s",
        "Call: 431 bytes; subgroup stream: 167 bytes; node v20.20.2",
        "0.5 0.7 1.2",  # numbers without a label
        "",
    ],
)
def test_other_lines_are_not_ratio_rows(line: str) -> None:
    assert ratio_row(line) is None
