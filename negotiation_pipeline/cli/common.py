"""What every command shares: exit codes, the `--db`/`--actor` options, error lines and the one
way a command opens the business store.

Heavy modules (the store, Dagster, the mail parser) are imported inside the functions that need
them, so `negotiation-pipeline --help` and the light commands start fast.
"""

from __future__ import annotations

import functools
import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec

import click

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from negotiation_pipeline.defs.shared.store_resource import NegotiationStoreResource
    from negotiation_pipeline.store.base import NegotiationStore

EXIT_OK = 0
EXIT_FAILURE = 1  # the command could not do its work (database unreachable, config broken)
EXIT_INVALID = 2  # the input is wrong (unknown thread, bad value, missing database file)

DB_ENV_VAR = "NEGOTIATION_DB"  # the same variable the Dagster code location reads

P = ParamSpec("P")


def exits_with_code(command: Callable[P, int]) -> Callable[P, None]:
    """Turn a command body that returns an exit code into a click callback that exits with it
    (click ignores a callback's return value when it runs as the console script)."""

    @functools.wraps(command)
    def callback(*args: P.args, **kwargs: P.kwargs) -> None:
        click.get_current_context().exit(command(*args, **kwargs))

    return callback


def error(message: str) -> None:
    """One `error: ...` line on stderr, scrubbed of passwords and tokens (a message may quote a
    database URL or a driver's text)."""
    from negotiation_pipeline.domain.redaction import redact_text

    click.echo(f"error: {redact_text(message)}", err=True)


def warning(message: str) -> None:
    from negotiation_pipeline.domain.redaction import redact_text

    click.echo(f"warning: {redact_text(message)}", err=True)


def fail(message: str, code: int) -> NoReturn:
    """Print `error: message` and end the command with `code`."""
    error(message)
    click.get_current_context().exit(code)


def db_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--db`, falling back to $NEGOTIATION_DB (else the sandbox's file)."""
    return click.option(
        "--db",
        envvar=DB_ENV_VAR,
        show_envvar=True,
        metavar="PATH_OR_URL",
        help="The business store: a SQLite file or a postgresql:// URL (default: the sandbox's "
        ".sandbox/negotiation.db). Put a URL with a password in the environment variable "
        "rather than on the command line.",
    )(command)


def actor_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--actor", metavar="NAME", help="Who is acting, for the audit trail (default: cli:$USER)."
    )(command)


def actor_or_default(actor: str | None) -> str:
    return actor or f"cli:{getpass.getuser()}"


@contextmanager
def business_store(db: str | None) -> Iterator[NegotiationStore]:
    """The existing store at `db` (else $NEGOTIATION_DB, else the sandbox's), through
    `open_store` for SQLite and PostgreSQL alike; closed on the way out.

    A store that is missing ends the command with exit 2 (the CLI never creates an empty one);
    one that cannot be reached, read or written, now or while the command works, ends it with
    exit 1. Messages name the database without its password.
    """
    from negotiation_pipeline.store import StoreError, open_store

    try:
        store = open_store(db, create=False)
    except StoreError as exc:
        _store_failed(exc, opening=True)
    try:
        yield store
    except Exception as exc:
        if isinstance(exc, (StoreError, *driver_errors())):
            _store_failed(exc, opening=False)
        raise
    finally:
        store.close()


def pipeline_store_config(
    db: str | None,
) -> tuple[Mapping[str, str], NegotiationStoreResource, Path]:
    """What a command builds the pipeline's resources (Slack, mailbox, ClickUp) from: the
    environment with `db` as NEGOTIATION_DB, the store resource for that same store, and the
    folder of the sandbox files that goes with it.

    The pipeline binds a PostgreSQL URL as dg.EnvVar (its password stays out of the run
    config), which is resolved from the process environment, and --db is not in it. Here the
    location the command was given is bound as a value instead, so the resources that queue or
    deliver through the store use the store the command works on, never NEGOTIATION_DB's.
    """
    import os

    from negotiation_pipeline.definitions import store_resource
    from negotiation_pipeline.defs.shared.store_resource import NegotiationStoreResource
    from negotiation_pipeline.store.paths import is_postgres_url

    env = {**os.environ, DB_ENV_VAR: db} if db else dict(os.environ)
    configured, data_dir = store_resource(env)
    location = env.get(DB_ENV_VAR, "").strip()
    if not is_postgres_url(location):  # a SQLite file is bound by its path already
        return env, configured, data_dir
    bound = NegotiationStoreResource(
        db_path=location, message_id_secret=configured.message_id_secret
    )
    return env, bound, data_dir


def _store_failed(exc: Exception, *, opening: bool) -> NoReturn:
    from negotiation_pipeline.store import StoreAccessError, StoreError

    if isinstance(exc, StoreAccessError):  # locked, damaged, unreachable: names the database
        fail(str(exc), EXIT_FAILURE)
    if isinstance(exc, StoreError) and opening:  # no store there (file or tables missing)
        fail(f"{exc} (set {DB_ENV_VAR} or pass --db)", EXIT_INVALID)
    fail(f"the store failed: {type(exc).__name__}: {exc}", EXIT_FAILURE)


def driver_errors() -> tuple[type[Exception], ...]:
    """Database driver errors that may still escape a store call (sqlite3 always; psycopg only
    when a PostgreSQL store was opened, so it is never imported for nothing)."""
    import sqlite3

    errors: list[type[Exception]] = [sqlite3.DatabaseError]
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        errors.append(psycopg.Error)
    return tuple(errors)
