"""`generate --plugin NAME=CMD`: the example plugin, and every way a plugin can misbehave
(each must give one clear message, exit status 1, no traceback, nothing written)."""

from __future__ import annotations

import json
import shlex
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from apirpc_compiler import generate as gen
from apirpc_compiler.cli import main
from apirpc_compiler.ir.model import IR

ROOT = Path(__file__).resolve().parent.parent.parent
IDL = str(ROOT / "api" / "clutchcall.json")
EXAMPLE = Path(__file__).resolve().parent / "example_plugin.py"


def _cmd(script: Path) -> str:
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


def _run(out: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["generate", IDL, "--out", str(out), *args])


def _plugin(tmp_path: Path, body: str) -> str:
    script = tmp_path / "plugin.py"
    script.write_text("import json, sys, time\nsys.stdin.read()\n" + textwrap.dedent(body), encoding="utf-8")
    return _cmd(script)


def test_example_plugin(tmp_path: Path, ir: IR) -> None:
    out = tmp_path / "out"
    res = _run(out, "--plugin", f"methods={_cmd(EXAMPLE)}")
    assert res.exit_code == 0, res.output
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    services = [s["name"] for s in ir["services"]]
    assert files == sorted(
        ["methods/.apirpc-manifest", "methods/methods.txt"] + [f"methods/services/{s}.txt" for s in services]
    )
    lines = (out / "methods" / "methods.txt").read_text(encoding="utf-8").splitlines()
    assert lines[1] == f"# source sha256: {ir['source_sha256']}"
    want = sorted((m["id"], f"{s['name']}.{m['name']}", m["streaming"]) for s in ir["services"] for m in s["methods"])
    assert lines[2:] == [f"{i}\t{n}\t{st}" for i, n, st in want]
    # only the plugin ran: no builtin target directories
    assert sorted(p.name for p in out.iterdir()) == ["methods"]
    # --check runs the plugin again and finds the tree up to date
    res = _run(out, "--check", "--plugin", f"methods={_cmd(EXAMPLE)}")
    assert res.exit_code == 0, res.output
    assert "up to date" in res.output


def test_example_plugin_with_builtin_target(tmp_path: Path) -> None:
    res = _run(tmp_path, "--target", "docs", "--plugin", f"methods={_cmd(EXAMPLE)}")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "docs" / "README.md").is_file()
    assert (tmp_path / "methods" / "methods.txt").is_file()


def test_example_plugin_reports_bad_request(tmp_path: Path) -> None:
    import subprocess

    proc = subprocess.run(
        [sys.executable, str(EXAMPLE)], input=b'{"target": "x", "ir": {"format": "other/9"}}', capture_output=True
    )
    assert proc.returncode == 0
    assert proc.stdout == b'{"error": "example_plugin: bad request: unsupported IR format \'other/9\'"}'


BAD_PLUGINS = [
    ("exits non-zero", "sys.stderr.write('boom\\n'); sys.exit(3)\n", "plugin bad: exited with 3: boom"),
    ("prints garbage", "print('hello, not json')\n", "plugin bad: stdout is not a JSON response"),
    ("answers a list", "print('[1, 2]')\n", "plugin bad: response must be a JSON object"),
    (
        "escapes with ..",
        "print(json.dumps({'files': [{'path': '../evil.txt', 'content': 'x'}]}))\n",
        "backend produced an unsafe output path: '../evil.txt'",
    ),
    (
        "absolute path",
        "print(json.dumps({'files': [{'path': '/tmp/evil.txt', 'content': 'x'}]}))\n",
        "backend produced an unsafe output path: '/tmp/evil.txt'",
    ),
    (
        "overwrites manifest",
        "print(json.dumps({'files': [{'path': '.apirpc-manifest', 'content': 'x'}]}))\n",
        "unsafe output path",
    ),
    (
        "duplicate path",
        "print(json.dumps({'files': [{'path': 'a', 'content': 'x'}, {'path': 'a', 'content': 'y'}]}))\n",
        "target bad produced a twice",
    ),
    (
        "bad file entry",
        "print(json.dumps({'files': [{'path': 'a', 'content': 3}]}))\n",
        'plugin bad: response must have "files"',
    ),
    (
        "lone surrogate",
        "print(json.dumps({'files': [{'path': 'a', 'content': chr(0xD800)}]}))\n",
        "plugin bad: content of 'a' is not valid Unicode text",
    ),
    ("returns an error", "print(json.dumps({'error': 'no can do'}))\n", "plugin bad: no can do"),
]


@pytest.mark.parametrize("body,message", [(b, msg) for _, b, msg in BAD_PLUGINS], ids=[i for i, _, _ in BAD_PLUGINS])
def test_bad_plugin(tmp_path: Path, body: str, message: str) -> None:
    out = tmp_path / "out"
    res = _run(out, "--plugin", f"bad={_plugin(tmp_path, body)}")
    assert res.exit_code == 1, res.output
    assert message in res.output
    assert "Traceback" not in res.output
    assert isinstance(res.exception, SystemExit)
    assert not out.exists()  # nothing written
    assert not (tmp_path / "evil.txt").exists()


def test_plugin_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gen, "PLUGIN_TIMEOUT_S", 0.5)
    command = _plugin(tmp_path, "time.sleep(30)\n")
    res = _run(tmp_path / "out", "--plugin", f"slow={command}")
    assert res.exit_code == 1
    assert "plugin slow: no answer within 0.5s" in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize(
    "spec,message",
    [
        ("missing=/nonexistent/plugin-binary", "plugin missing: cannot run '/nonexistent/plugin-binary'"),
        ("quote=python3 'unclosed", "plugin quote: cannot parse command"),
        ("../up=python3 x.py", "plugin name '../up' must be a plain directory name"),
        ("docs=python3 x.py", "plugin name 'docs' must be a plain directory name"),
    ],
)
def test_bad_plugin_command(tmp_path: Path, spec: str, message: str) -> None:
    args = ["--target", "docs"] if spec.startswith("docs=") else []
    res = _run(tmp_path / "out", *args, "--plugin", spec)
    assert res.exit_code == 1, res.output
    assert message in res.output
    assert "Traceback" not in res.output


def test_plugin_spec_without_command(tmp_path: Path) -> None:
    res = _run(tmp_path / "out", "--plugin", "nocommand")
    assert res.exit_code == 2
    assert "expected NAME=COMMAND" in res.output


def test_plugin_receives_the_codec_plan(tmp_path: Path, ir: IR) -> None:
    """A plugin reads the IR format apirpc-ir/2 with the codec plan (docs/plan.md) in it."""
    from apirpc_compiler.ir.plan import plan_json

    script = tmp_path / "plan_plugin.py"
    script.write_text(
        "import json, sys\n"
        "ir = json.load(sys.stdin)['ir']\n"
        "text = json.dumps({'format': ir['format'], 'plan': ir['plan']}, sort_keys=True)\n"
        "print(json.dumps({'files': [{'path': 'plan.json', 'content': text}]}))\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    res = _run(out, "--plugin", f"plan={_cmd(script)}")
    assert res.exit_code == 0, res.output
    got = json.loads((out / "plan" / "plan.json").read_text(encoding="utf-8"))
    assert got["format"] == "apirpc-ir/2"
    assert got["plan"] == plan_json(ir)
    assert {p["name"] for p in got["plan"]["protocols"]} == {p["name"] for p in ir["wire"]}
