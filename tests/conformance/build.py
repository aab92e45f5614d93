"""Which languages can run, generating their SDKs once, and building their testees."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IDL = ROOT / "api" / "clutchcall.json"
TESTEES = Path(__file__).resolve().parent / "testees"

LANGUAGES = ["python", "typescript", "go", "rust", "java", "csharp", "cpp"]
# Executables a language's testee needs; when one is missing the language is skipped, not failed.
TOOLCHAINS: dict[str, list[str]] = {
    "python": [],
    "typescript": ["node"],
    "go": ["go"],
    "rust": ["cargo"],
    "java": ["javac", "java"],
    "csharp": ["mcs", "mono"],
    "cpp": ["cmake", "c++"],
}


@dataclass
class Language:
    name: str
    status: str  # "ready", "not available" (no testee), "no toolchain", "build failed"
    detail: str = ""
    command: str = ""
    cwd: Path = TESTEES


def missing_tools(lang: str) -> list[str]:
    return [tool for tool in TOOLCHAINS.get(lang, []) if shutil.which(tool) is None]


def probe(lang: str) -> Language:
    """Whether `lang` can be built here, without building it."""
    if not (TESTEES / lang / "build.sh").is_file():
        return Language(lang, "not available", f"no {TESTEES.relative_to(ROOT) / lang / 'build.sh'}")
    missing = missing_tools(lang)
    if missing:
        return Language(lang, "no toolchain", "missing " + ", ".join(missing))
    return Language(lang, "ready")


def generate(langs: list[str], out: Path, idl: Path = IDL) -> str:
    """Generate the SDK of every language into out/<target>; returns an error text or ''."""
    argv = [sys.executable, "-m", "apirpc_compiler", "generate", str(idl), "--out", str(out)]
    for lang in langs:
        argv += ["--target", lang]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return f"apirpc-compiler generate failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
    return ""


def build(lang: Language, gen_dir: Path, work: Path, timeout: float = 900) -> Language:
    """Run the testee's build.sh (see PROTOCOL.md) and record the command that starts it."""
    pkg = gen_dir / lang.name
    scratch = work / f"build-{lang.name}"
    scratch.mkdir(parents=True, exist_ok=True)
    cwd = TESTEES / lang.name
    if not pkg.is_dir():
        return Language(lang.name, "build failed", f"the generator wrote no {pkg}")
    try:
        proc = subprocess.run(
            ["bash", str(cwd / "build.sh"), str(pkg), str(scratch)],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Language(lang.name, "build failed", f"build.sh took more than {timeout:g}s")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        return Language(lang.name, "build failed", f"build.sh exited {proc.returncode}:\n{tail}")
    command = lines[-1].strip()
    try:
        shlex.split(command)
    except ValueError as e:
        return Language(lang.name, "build failed", f"build.sh printed an unusable command {command!r}: {e}")
    return Language(lang.name, "ready", "", command, cwd)
