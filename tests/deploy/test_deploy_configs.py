"""deploy/: the multi-host configs parse, agree with each other, and pass Dagster's own checks.

deploy/dagster.yaml is validated against Dagster's instance config schema and then loaded as a
real instance whose storage is the throwaway PostgreSQL server (dagster-postgres), so a typo in
the storage section or a missing variable fails here, not on the first deploy.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.servers.postgres import postgres_server, postgres_url  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PG_ENV = ("DAGSTER_PG_HOST", "DAGSTER_PG_DB", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD")


def load(name: str) -> Any:
    return yaml.safe_load((DEPLOY / name).read_text())


def env_names_in(value: Any) -> set[str]:
    """Every `{env: NAME}` inside a parsed YAML value."""
    if isinstance(value, dict):
        if set(value) == {"env"}:
            return {value["env"]}
        return set().union(*(env_names_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(env_names_in(v) for v in value)) if value else set()
    return set()


def dotenv_names(path: Path) -> set[str]:
    return {
        line.split("=", 1)[0].strip()
        for line in path.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }


def test_instance_config_passes_dagsters_schema(tmp_path: Path) -> None:
    from dagster._core.instance.config import dagster_instance_config

    shutil.copy(DEPLOY / "dagster.yaml", tmp_path / "dagster.yaml")
    config, custom_class = dagster_instance_config(str(tmp_path))
    assert custom_class is None
    assert set(config["storage"]) == {"postgres"}
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert (config["run_launcher"]["module"], config["run_launcher"]["class"]) == (
        "dagster_docker",
        "DockerRunLauncher",
    )


def test_storage_secrets_come_from_the_environment() -> None:
    postgres_db = load("dagster.yaml")["storage"]["postgres"]["postgres_db"]
    for field in ("hostname", "db_name", "username", "password"):
        assert set(postgres_db[field]) == {"env"}, f"{field} must be {{env: ...}}"
    assert env_names_in(load("dagster.yaml")["storage"]) == set(PG_ENV)
    # psycopg 3 is installed too; a bare "postgresql" would make SQLAlchemy pick it (see yaml).
    assert postgres_db["scheme"] == "postgresql+psycopg2"


def test_same_run_limits_as_the_one_machine_instance() -> None:
    one_machine = yaml.safe_load((ROOT / "dagster.yaml").read_text())["concurrency"]
    deployed = load("dagster.yaml")["concurrency"]
    assert (
        deployed["runs"]["tag_concurrency_limits"] == one_machine["runs"]["tag_concurrency_limits"]
    )
    assert {"key": "negotiation/db", "value": "sqlite", "limit": 1} in deployed["runs"][
        "tag_concurrency_limits"
    ]
    assert deployed["pools"] == one_machine["pools"]


def test_run_containers_get_every_variable_the_code_reads() -> None:
    """A variable missing from env_vars would silently switch a run to its sandbox default."""
    passed = set(load("dagster.yaml")["run_launcher"]["config"]["env_vars"])
    pattern = re.compile(r"\"((?:NEGOTIATION|CLICKUP|IMAP|SMTP|SLACK|AGENT|ROSTER)_[A-Z_]+)\"")
    read_by_code = {
        name
        for source in (ROOT / "negotiation_pipeline").rglob("*.py")
        for name in pattern.findall(source.read_text())
    }
    # Local-only settings: sandbox folders on the developer's disk.
    local_only = {"NEGOTIATION_SANDBOX_DIR", "NEGOTIATION_MAILDIR", "NEGOTIATION_DATA_DIR"}
    missing = read_by_code - local_only - passed
    assert not missing, f"add to run_launcher.config.env_vars: {sorted(missing)}"
    assert set(PG_ENV) <= passed


def test_workspace_points_at_the_code_server_in_compose() -> None:
    from dagster._core.workspace.config_schema import process_workspace_config

    workspace = load("workspace.yaml")
    assert process_workspace_config(workspace).success
    (entry,) = workspace["load_from"]
    server = entry["grpc_server"]
    compose = load("docker-compose.yaml")
    assert server["host"] in compose["services"]
    assert server["location_name"] == "negotiation_pipeline"
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert f'"-p", "{server["port"]}"' in dockerfile
    assert f"EXPOSE {server['port']}" in dockerfile
    assert '"-m", "negotiation_pipeline.definitions", "-a", "defs"' in dockerfile


def test_compose_services_network_and_environment() -> None:
    compose = load("docker-compose.yaml")
    services = compose["services"]
    assert set(services) == {"postgres", "user_code", "webserver", "daemon"}
    assert services["daemon"]["command"][:2] == ["dagster-daemon", "run"]
    assert services["webserver"]["command"][0] == "dagster-webserver"
    assert "replicas" not in services["daemon"].get("deploy", {})  # exactly one daemon
    assert "/var/run/docker.sock:/var/run/docker.sock" in services["daemon"]["volumes"]
    image = services["user_code"]["image"]
    assert services["user_code"]["environment"]["DAGSTER_CURRENT_IMAGE"] == image
    # Run containers join the network by its real name, so compose must not prefix it.
    network = load("dagster.yaml")["run_launcher"]["config"]["network"]
    assert compose["networks"][network]["name"] == network
    for name in ("user_code", "webserver", "daemon"):
        assert network in services[name]["networks"]
        assert services[name]["env_file"] == ".env"
    documented = dotenv_names(DEPLOY / ".env.example")
    assert set(PG_ENV) | {"NEGOTIATION_DB"} <= documented
    assert services["postgres"]["image"].startswith("postgres:")


def test_dockerfile_installs_the_postgres_extra_and_a_matching_docker_library() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "--extra postgres" in dockerfile and "--locked" in dockerfile
    pyproject = (ROOT / "pyproject.toml").read_text()
    (library_version,) = set(re.findall(r"dagster-postgres==([0-9.]+)", pyproject))
    assert f"dagster-docker=={library_version}" in dockerfile


@pytest.fixture
def dagster_database(postgres_url: str) -> Iterator[str]:  # noqa: F811
    import psycopg

    name = f"dagster_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_instance_storage_works_on_a_real_postgres_server(
    postgres_url: str,  # noqa: F811
    dagster_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """deploy/dagster.yaml as is (only the run launcher swapped: dagster-docker is a deploy-image
    dependency, not a test one) on the throwaway server: runs and partitions round-trip."""
    pytest.importorskip("dagster_postgres", reason="dagster-postgres (dev dependency) missing")
    from urllib.parse import urlsplit

    import dagster as dg

    server = urlsplit(postgres_url)
    config = load("dagster.yaml")
    config["storage"]["postgres"]["postgres_db"]["port"] = server.port
    config["run_launcher"] = {"module": "dagster._core.launcher", "class": "DefaultRunLauncher"}
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DAGSTER_PG_HOST", server.hostname or "")
    monkeypatch.setenv("DAGSTER_PG_DB", dagster_database)
    monkeypatch.setenv("DAGSTER_PG_USER", server.username or "")
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "unused-trust-auth")

    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        instance.add_dynamic_partitions("campaign", ["camp-1", "camp-2"])
        assert instance.get_dynamic_partitions("campaign") == ["camp-1", "camp-2"]

        @dg.op
        def hello() -> int:
            return 1

        @dg.job(tags={"negotiation/db": "sqlite"})
        def tiny() -> None:
            hello()

        result = tiny.execute_in_process(instance=instance)
        assert result.success
        (run,) = instance.get_runs()
        assert run.run_id == result.run_id and run.tags["negotiation/db"] == "sqlite"
    finally:
        instance.dispose()


def test_only_the_webserver_publishes_a_port_and_only_on_loopback() -> None:
    """The UI and GraphQL have no login: reachable from this host only (README, Security)."""
    services = load("docker-compose.yaml")["services"]
    published = {name: spec.get("ports", []) for name, spec in services.items()}
    assert {name for name, ports in published.items() if ports} == {"webserver"}
    assert all(str(port).startswith("127.0.0.1:") for port in published["webserver"])
