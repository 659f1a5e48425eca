"""Every command that touches the business store opens it the one way the pipeline does
(NEGOTIATION_DB or --db: a SQLite path or a postgresql:// URL), and no message shows a
database password. Real SQLite files and the throwaway PostgreSQL server."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.store import PostgresStore
from tests.cli.support import run_cli
from tests.workflow.opened_threads import negotiation, open_threads
from tests.workflow.support import flex_row

PASSWORD = "secret"

# One invocation per command that reads or writes the store.
STORE_COMMANDS = [
    pytest.param(["audit"], id="audit"),
    pytest.param(["control", "pause", "jane@gmail.com"], id="control-pause"),
    pytest.param(["control", "resume", "jane@gmail.com"], id="control-resume"),
    pytest.param(["control", "stop", "cmp-1:jane"], id="control-stop"),
    pytest.param(["control", "takeover", "jane@gmail.com"], id="control-takeover"),
    pytest.param(["control", "stop-agency", "Bright Talent"], id="control-stop-agency"),
    pytest.param(
        ["control", "allow-sender", "cmp-1:jane", "casey@brightline.com"], id="allow-sender"
    ),
    pytest.param(["control", "accept", "jane@gmail.com"], id="control-accept"),
    pytest.param(["control", "counter", "cmp-1:jane", "1200"], id="control-counter"),
    pytest.param(["control", "send-draft", "cmp-1:jane"], id="control-send-draft"),
    pytest.param(["control", "decline", "Jane Doe"], id="control-decline"),
    pytest.param(["escalations"], id="escalations"),
    pytest.param(["drafts"], id="drafts"),
    pytest.param(["thread", "jane@gmail.com"], id="thread"),
]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("args", STORE_COMMANDS)
def test_an_unreachable_postgres_store_fails_naming_it_without_the_password(
    args: list[str],
) -> None:
    url = f"postgresql://u:{PASSWORD}@127.0.0.1:{closed_port()}/x"
    result = run_cli(*args, env={"NEGOTIATION_DB": url})
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: cannot connect to PostgreSQL at postgresql://")
    assert "127.0.0.1" in result.stderr  # names where it looked
    assert "database file not found" not in result.stderr  # the URL is not taken for a path
    assert PASSWORD not in result.output


@pytest.mark.parametrize("args", STORE_COMMANDS)
def test_the_password_stays_hidden_when_the_url_is_passed_as_db(args: list[str]) -> None:
    url = f"postgresql://u:{PASSWORD}@127.0.0.1:{closed_port()}/x?sslpassword={PASSWORD}"
    result = run_cli(*args, "--db", url, env={"NEGOTIATION_DB": None})
    assert result.exit_code == 1
    assert "cannot connect to PostgreSQL" in result.stderr
    assert PASSWORD not in result.output


@pytest.mark.parametrize("args", STORE_COMMANDS)
def test_a_missing_sqlite_file_is_invalid_input_and_is_not_created(
    args: list[str], tmp_path: Path
) -> None:
    missing = tmp_path / "absent.db"
    result = run_cli(*args, env={"NEGOTIATION_DB": str(missing)})
    assert result.exit_code == 2
    assert f"database file not found: {missing}" in result.stderr
    assert "(set NEGOTIATION_DB or pass --db)" in result.stderr
    assert not missing.exists()


@pytest.mark.postgres
def test_a_postgres_url_without_the_store_tables_is_reported_as_no_store(
    pg_schema_url: tuple[str, str],
) -> None:
    import psycopg
    from psycopg import sql

    url, schema = pg_schema_url
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:  # an empty schema
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    result = run_cli("audit", env={"NEGOTIATION_DB": url})
    assert result.exit_code == 2, result.output
    assert "no negotiation store at postgresql://" in result.stderr
    with psycopg.connect(url) as conn:  # the CLI created nothing
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s",
                            (schema,)).fetchone() == (0,)  # fmt: skip


@pytest.mark.postgres
def test_audit_and_control_pause_work_on_postgres(pg_schema_url: tuple[str, str]) -> None:
    url, schema = pg_schema_url
    store = PostgresStore(url.split("?")[0], schema=schema)
    [jane] = open_threads(store, [flex_row()])
    store.audit.insert(AuditEntry(event_type=EventType.AGREEMENT, influencer_name="Bob Ray",
                                  campaign_id="cmp-9", rates_used="1500.00"))  # fmt: skip
    store.close()

    paused = run_cli("control", "pause", "Jane@Gmail.com", "--actor", "maria",
                     env={"NEGOTIATION_DB": url})  # fmt: skip
    assert paused.exit_code == 0, paused.output
    assert paused.stdout == f"{jane}: awaiting_reply -> paused\n"

    listed = run_cli("audit", "--format", "json", "--event-type", "agreement", "--db", url)
    assert listed.exit_code == 0, listed.output
    [agreement] = json.loads(listed.stdout)
    assert agreement["influencer_name"] == "Bob Ray" and agreement["rates_used"] == "1500.00"

    transitions = run_cli("audit", "--format", "json", "--event-type", "state_transition",
                          env={"NEGOTIATION_DB": url})  # fmt: skip
    newest = json.loads(transitions.stdout)[0]
    assert newest["thread_id"] == jane and newest["metadata"]["actor"] == "maria"

    reopened = PostgresStore(url.split("?")[0], schema=schema, create=False)
    assert negotiation(reopened, jane).state is NegotiationState.PAUSED
    reopened.close()
