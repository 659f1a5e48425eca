"""Running the product locally: `dagster dev` (webserver + daemon) with a persistent home.

`dagster dev` reads `$DAGSTER_HOME/dagster.yaml` only; without DAGSTER_HOME it makes a temporary
home that it deletes on exit, losing every run, sensor cursor and partition. So
`negotiation-pipeline dev` keeps a gitignored `.dagster_home/` in the project and copies the
project's `dagster.yaml` into it whenever that copy is missing or older. The end-to-end tests
use the same helpers with a temporary home.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

WORKSPACE_FILE = "workspace.yaml"
INSTANCE_FILE = "dagster.yaml"
DAGSTER_HOME_DIR = ".dagster_home"
# The UI has no login: it listens on loopback unless the operator asks for another interface.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000

# This module lives at <project>/negotiation_pipeline/cli/; workspace.yaml sits in <project>.
_PACKAGE_PARENT = Path(__file__).resolve().parents[2]


class DevServerError(RuntimeError):
    """The project cannot be started (no workspace.yaml, unreadable dagster.yaml, ...)."""


def find_project_root(start: Path | None = None) -> Path:
    """The folder holding workspace.yaml and dagster.yaml: `start` (default: the current
    directory) or one of its parents, else the folder this package was installed from."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents, _PACKAGE_PARENT):
        if (folder / WORKSPACE_FILE).is_file() and (folder / INSTANCE_FILE).is_file():
            return folder
    raise DevServerError(
        f"no {WORKSPACE_FILE} with a {INSTANCE_FILE} next to it in {here} or its parents; "
        "run this from the negotiation_pipeline repository"
    )


def prepare_dagster_home(project_root: Path, home: Path) -> bool:
    """Create `home` if missing and copy `<project_root>/dagster.yaml` into it when the copy is
    absent or older than the project's. Returns True when it copied."""
    source = project_root / INSTANCE_FILE
    if not source.is_file():
        raise DevServerError(f"{source} does not exist")
    home.mkdir(parents=True, exist_ok=True)
    target = home / INSTANCE_FILE
    if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
        return False
    # copy2 keeps the mtime, so an unchanged project file is not copied again next time.
    shutil.copy2(source, target)
    return True


def dagster_dev_argv(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    extra_args: Sequence[str] = (),
    python: str = sys.executable,
) -> list[str]:
    """The `dagster dev` command line, run by this interpreter (so the project's venv is used
    whether or not its `bin/` is on PATH). Run it from the project root."""
    return [
        python, "-m", "dagster", "dev", "-w", WORKSPACE_FILE,
        "--host", host, "--port", str(port), *extra_args,
    ]  # fmt: skip


def wait_for_server_info(
    url: str, timeout_seconds: float, poll_seconds: float = 0.25
) -> dict[str, str]:
    """Poll `GET <url>/server_info` until it answers 200; return its JSON. Raises TimeoutError
    naming the last failure when the webserver does not come up in time."""
    import httpx  # only the end-to-end harness waits; `negotiation-pipeline dev` never does

    deadline = time.monotonic() + timeout_seconds
    last_problem = "no attempt"
    while True:
        try:
            response = httpx.get(f"{url.rstrip('/')}/server_info", timeout=5.0)
            if response.status_code == 200:
                info: dict[str, str] = response.json()
                return info
            last_problem = f"HTTP {response.status_code}"
        except httpx.TransportError as exc:
            last_problem = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"{url}/server_info did not answer within {timeout_seconds:g} s ({last_problem})"
            )
        time.sleep(poll_seconds)
