"""The entry point the bundle shares with ``python main.py``: --version, internal child verbs, a home-less start.

The built app runs the same ``main.py``; ``packaging/smoke_test`` checks the frozen side of these paths.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from services.library import hub_download
from tests.hub_server import FakeHub

ROOT = Path(__file__).resolve().parents[1]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def run_main(*args: str, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=cwd, env=env or dict(os.environ),
                          capture_output=True, text=True, timeout=120)


def test_version_prints_the_project_version_and_exits_zero(tmp_path):
    result = run_main("--version", cwd=tmp_path)  # from any folder
    assert result.returncode == 0
    assert result.stdout.strip() == f"Transformers Workbench {VERSION}"


def test_internal_verbs_stay_out_of_help_and_unknown_ones_fail_cleanly():
    help_text = run_main("--help").stdout
    assert "predict" in help_text and "_hub-download" not in help_text
    result = run_main("_no-such-verb")
    assert result.returncode == 2 and "unknown internal verb" in result.stderr and "Traceback" not in result.stderr


def test_child_command_runs_main_py_from_source_and_the_app_itself_when_frozen(monkeypatch):
    command = hub_download.download_command("org/model", "main", Path("/lib"), "model")
    assert command[:3] == [sys.executable, str(ROOT / "main.py"), hub_download.CHILD_VERB]
    assert "-m" not in command
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/TransformersWorkbench/transformers-workbench")
    frozen = hub_download.download_command("org/model", "main", Path("/lib"), "model")
    assert frozen == ["/opt/TransformersWorkbench/transformers-workbench", hub_download.CHILD_VERB, "org/model",
                      "--revision", "main", "--root", "/lib", "--name", "model"]


@pytest.fixture
def hub(monkeypatch):
    import huggingface_hub.constants

    fake = FakeHub()
    fake.add_model("org/tiny", files={"config.json": b'{"model_type": "bert"}', "vocab.txt": b"[PAD]\n[UNK]\n"})
    fake.start()
    monkeypatch.setenv("HF_ENDPOINT", fake.url)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    yield fake
    fake.stop()


def test_the_child_verb_downloads_through_main_py_from_another_folder(hub, tmp_path):
    """What download_model() starts: ``main.py _hub-download`` speaks JSON lines and fills the library."""
    library = tmp_path / "library"
    library.mkdir()
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    command = hub_download.download_command("org/tiny", "main", library, "tiny")
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["event"] for e in events][0] == "status" and events[-1]["event"] == "done"
    assert (library / "tiny" / "vocab.txt").read_bytes() == b"[PAD]\n[UNK]\n"


def test_download_model_goes_through_the_child_verb(hub, monkeypatch):
    """The parent starts exactly download_command()'s line (the same one the frozen app uses)."""
    started = []
    real_popen = subprocess.Popen

    def recording_popen(command, *args, **kwargs):
        started.append(command)
        return real_popen(command, *args, **kwargs)

    monkeypatch.setattr(hub_download.subprocess, "Popen", recording_popen)
    folder = hub_download.download_model("org/tiny")
    assert (folder / "config.json").is_file()
    assert len(started) == 1 and started[0][1:3] == [str(ROOT / "main.py"), hub_download.CHILD_VERB]


def test_a_home_that_cannot_be_written_gives_a_warning_and_a_working_app(tmp_path):
    not_a_folder = tmp_path / "home-is-a-file"
    not_a_folder.write_text("")
    env = {k: v for k, v in os.environ.items() if k not in ("WORKBENCH_HOME", "XDG_DATA_HOME", "WORKBENCH_LIBRARY")}
    env.update(HOME=str(not_a_folder), TMPDIR=str(tmp_path))
    result = run_main("library", "list", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stderr and "WORKBENCH_HOME" in result.stderr and "Traceback" not in result.stderr
    fallback = tmp_path / f"TransformersWorkbench-{os.getuid()}"
    assert fallback.is_dir() and str(fallback) in result.stderr
    assert any(entry["source"] == "built-in" for entry in json.loads(result.stdout))


def test_a_writable_home_gives_no_warning(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("WORKBENCH_HOME", "XDG_DATA_HOME", "WORKBENCH_LIBRARY")}
    env.update(HOME=str(tmp_path), TMPDIR=str(tmp_path))
    result = run_main("library", "list", "--json", env=env)
    assert result.returncode == 0 and "warning:" not in result.stderr
