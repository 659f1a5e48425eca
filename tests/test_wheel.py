"""The built wheel is the product: installed in a fresh environment, outside the repository, it
carries its rules, templates and sandbox data, simulates negotiations and loads the definitions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("uv") is None, reason="uv is needed to build the wheel"),
]


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment, outside the repository, with only the wheel (and its
    dependencies) installed. Returns its bin directory."""
    work = tmp_path_factory.mktemp("wheel")
    _run(["uv", "build", "--wheel", "--out-dir", str(work / "dist")], cwd=REPO_ROOT)
    (wheel,) = (work / "dist").glob("negotiation_pipeline-*.whl")
    venv = work / "venv"
    _run(["uv", "venv", "--python", sys.executable, str(venv)], cwd=work)
    _run(["uv", "pip", "install", "--python", str(venv / "bin" / "python"), str(wheel)], cwd=work)
    return venv / "bin"


def _clean_env(home: Path) -> dict[str, str]:
    """No project settings leak in from the developer's shell or the repository."""
    keep = {"PATH", "LANG", "LC_ALL", "TMPDIR"}
    env = {name: value for name, value in os.environ.items() if name in keep}
    env["HOME"] = str(home)
    return env


def test_the_wheel_ships_config_templates_and_sandbox_data(tmp_path: Path) -> None:
    _run(["uv", "build", "--wheel", "--out-dir", str(tmp_path)], cwd=REPO_ROOT)
    (wheel,) = tmp_path.glob("negotiation_pipeline-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "negotiation_pipeline/config/negotiation_policy.yaml" in names
    assert "negotiation_pipeline/config/reply_vocabulary.yaml" in names
    assert any(n.startswith("negotiation_pipeline/config/templates/") for n in names)
    assert "negotiation_pipeline/sandbox/data/roster.csv" in names
    assert any(n.startswith("negotiation_pipeline/sandbox/data/clickup/tasks/") for n in names)
    assert not any(n.startswith("tests/") for n in names)


def test_the_installed_wheel_simulates_outside_the_repository(
    installed: Path, tmp_path: Path
) -> None:
    out = _run(
        [
            str(installed / "negotiation-pipeline"),
            "simulate",
            "--campaigns",
            "2",
            "--influencers",
            "5",
            "--seed",
            "3",
        ],
        cwd=tmp_path,
        env=_clean_env(tmp_path),
    )
    summary = json.loads(out)
    assert summary["negotiations"] == 10
    assert summary["emails_sent"] > 10


def test_the_installed_wheel_loads_the_definitions(installed: Path, tmp_path: Path) -> None:
    script = (
        "import json, negotiation_pipeline.definitions as d;"
        "graph = d.defs.get_repository_def().asset_graph;"
        "print(json.dumps(sorted(k.to_user_string() for k in graph.get_all_asset_keys())))"
    )
    env = _clean_env(tmp_path)
    env["NEGOTIATION_DB"] = str(tmp_path / "store.db")
    out = _run([str(installed / "python"), "-c", script], cwd=tmp_path, env=env)
    keys = json.loads(out.strip().splitlines()[-1])
    assert {"campaign", "cpm_flexibility", "negotiations", "campaign_report"} <= set(keys)
