"""`negotiation-pipeline dev`: the Dagster home it prepares and the command it execs.

The exec itself is replaced here (it would replace the test process); tests/e2e starts the real
server through this same command.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from negotiation_pipeline.cli import cli
from negotiation_pipeline.cli import dev_server as devserver
from negotiation_pipeline.cli.dev_server import (
    DevServerError,
    dagster_dev_argv,
    find_project_root,
    prepare_dagster_home,
)
from tests.cli.support import run_cli
from tests.e2e.conftest import listening_hosts

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "sub" / "dir").mkdir(parents=True)
    (root / "workspace.yaml").write_text("load_from: []\n")
    (root / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return root


def test_home_is_created_and_dagster_yaml_copied_once(project: Path) -> None:
    home = project / ".dagster_home"
    assert prepare_dagster_home(project, home) is True
    assert (home / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"
    assert prepare_dagster_home(project, home) is False  # unchanged project file: no copy


def test_a_newer_project_dagster_yaml_replaces_the_copy(project: Path) -> None:
    home = project / ".dagster_home"
    prepare_dagster_home(project, home)
    source = project / "dagster.yaml"
    source.write_text("telemetry:\n  enabled: true\n")
    later = (home / "dagster.yaml").stat().st_mtime + 10
    os.utime(source, (later, later))
    assert prepare_dagster_home(project, home) is True
    assert (home / "dagster.yaml").read_text() == "telemetry:\n  enabled: true\n"


def test_a_copy_edited_in_the_home_after_the_project_file_is_kept(project: Path) -> None:
    home = project / ".dagster_home"
    prepare_dagster_home(project, home)
    copy = home / "dagster.yaml"
    copy.write_text("# local tweak\n")
    later = (project / "dagster.yaml").stat().st_mtime + 10
    os.utime(copy, (later, later))
    assert prepare_dagster_home(project, home) is False
    assert copy.read_text() == "# local tweak\n"


def test_missing_project_dagster_yaml_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DevServerError, match=r"dagster\.yaml does not exist"):
        prepare_dagster_home(tmp_path, tmp_path / "home")


def test_project_root_is_found_from_a_subfolder(project: Path) -> None:
    assert find_project_root(project / "sub" / "dir") == project


def test_outside_any_project_the_installed_package_project_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert find_project_root(tmp_path) == REPO_ROOT
    monkeypatch.setattr(devserver, "_PACKAGE_PARENT", tmp_path / "nowhere")
    with pytest.raises(DevServerError, match=r"no workspace\.yaml"):
        find_project_root(tmp_path)


def test_dagster_dev_argv_uses_this_interpreter_and_the_workspace() -> None:
    assert dagster_dev_argv("0.0.0.0", 3100, ["--log-level", "debug"]) == [
        sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml",
        "--host", "0.0.0.0", "--port", "3100", "--log-level", "debug",
    ]  # fmt: skip


class Execed(Exception):
    def __init__(self, path: str, argv: list[str], env: dict[str, str]) -> None:
        super().__init__(path)
        self.path, self.argv, self.env = path, argv, env


def run_dev(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[Execed, str]:
    """The exec `dev` would have done, and what it printed on stderr before it."""

    def fake_execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        raise Execed(path, argv, env)

    monkeypatch.setattr(os, "execve", fake_execve)
    result = CliRunner().invoke(cli, ["dev", *args])
    assert isinstance(result.exception, Execed), result.output
    return result.exception, result.stderr


def test_dev_execs_dagster_dev_from_the_project_with_its_home(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project / "sub")
    monkeypatch.setenv("DAGSTER_HOME", "/somewhere/else")
    execed, err = run_dev(monkeypatch, "--port", "3101", "--", "--log-level", "debug")
    assert execed.path == sys.executable
    assert execed.argv == dagster_dev_argv("127.0.0.1", 3101, ["--log-level", "debug"])
    assert execed.env["DAGSTER_HOME"] == str(project / ".dagster_home")
    assert (project / ".dagster_home" / "dagster.yaml").is_file()
    assert Path.cwd() == project  # workspace.yaml is read relative to the project root
    assert f"DAGSTER_HOME={project / '.dagster_home'} (dagster.yaml copied in)" in err
    assert "http://127.0.0.1:3101" in err


def test_dev_execs_with_the_stop_signals_back_to_default(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started from a shell without job control, SIGINT arrives ignored; an ignored signal
    stays ignored across exec, so the exec must see both stop signals at their default."""
    seen: dict[int, object] = {}

    def recording_execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        seen.update({sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)})
        raise Execed(path, argv, env)

    monkeypatch.chdir(project)
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        monkeypatch.setattr(os, "execve", recording_execve)
        result = CliRunner().invoke(cli, ["dev", "--dagster-home", str(project / "home")])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    assert isinstance(result.exception, Execed), result.output
    assert seen == {signal.SIGINT: signal.SIG_DFL, signal.SIGTERM: signal.SIG_DFL}


def test_dev_defaults_and_explicit_home(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    execed, _ = run_dev(monkeypatch, "--dagster-home", str(tmp_path / "home"))
    assert execed.argv[-4:] == ["--host", "127.0.0.1", "--port", "3000"]
    assert execed.env["DAGSTER_HOME"] == str(tmp_path / "home")
    assert (tmp_path / "home" / "dagster.yaml").is_file()


def test_dev_outside_a_project_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(devserver, "_PACKAGE_PARENT", tmp_path / "nowhere")
    result = run_cli("dev")
    assert result.exit_code == 1
    assert "no workspace.yaml" in result.stderr


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_dev_refuses_a_port_that_cannot_be(
    port: str, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    result = run_cli("dev", "--port", port)
    assert result.exit_code == 2
    assert "Invalid value for '--port' / '-p'" in result.stderr
    assert not (project / ".dagster_home").exists()


def test_dev_serves_the_unauthenticated_ui_on_loopback_unless_told_otherwise(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The UI has no login: by default `dev` must hand `dagster dev` the loopback host (which
    it passes to the webserver's --host); the e2e suite checks the live listening socket."""
    monkeypatch.chdir(project)
    argv = run_dev(monkeypatch)[0].argv
    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert argv.count("--host") == 1 and "0.0.0.0" not in argv
    assert devserver.DEFAULT_HOST == "127.0.0.1"


def test_listening_hosts_reads_the_kernels_socket_table() -> None:
    with socket.socket() as loopback, socket.socket(socket.AF_INET6) as any_v6:
        loopback.bind(("127.0.0.1", 0))
        loopback.listen()
        any_v6.bind(("::", 0))
        any_v6.listen()
        port = loopback.getsockname()[1]
        assert listening_hosts(port) == {"127.0.0.1"}
        assert listening_hosts(any_v6.getsockname()[1]) == {"::"}
    assert listening_hosts(port) == set()  # closed
