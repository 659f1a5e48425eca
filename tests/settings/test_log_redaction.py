"""The logging filter: records of the package (and httpx's request lines) are redacted in place
before any handler formats them: message, arguments, traceback."""

from __future__ import annotations

import logging

import httpx
import pytest

from negotiation_pipeline.settings.log_redaction import RedactingFilter, install_log_redaction

URL = "https://sheets.example.com/export?key=SECRETKEY"


def test_install_covers_every_module_logger_and_httpx() -> None:
    import negotiation_pipeline.definitions  # noqa: F401  (imports every module's logger)

    installed = install_log_redaction()
    for name in (
        "negotiation_pipeline",
        "negotiation_pipeline.workflow.replies",
        "negotiation_pipeline.integrations.resilience",
        "dagster.builtin.slack",
        "httpx",
    ):
        assert name in installed
        assert any(isinstance(f, RedactingFilter) for f in logging.getLogger(name).filters)
    assert install_log_redaction() == installed  # idempotent
    assert sum(isinstance(f, RedactingFilter) for f in logging.getLogger("httpx").filters) == 1


def test_message_arguments_and_traceback_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    logger = logging.getLogger("negotiation_pipeline.workflow.replies")
    caplog.set_level(logging.INFO)
    request = httpx.Request("GET", URL)
    try:
        raise httpx.ConnectError(f"cannot reach {URL}", request=request)
    except httpx.ConnectError:
        logger.exception("roster %s failed", URL)
    logging.getLogger("httpx").info("HTTP Request: GET %s %r", URL, "HTTP/1.1 200 OK")
    assert "SECRETKEY" not in caplog.text
    assert "export?key=***" in caplog.text
    assert caplog.records[0].exc_text and "cannot reach" in caplog.records[0].exc_text


def test_a_record_with_a_broken_format_string_is_passed_on() -> None:
    record = logging.LogRecord("negotiation_pipeline", logging.INFO, "f", 1, "%s %s", ("a",), None)
    assert RedactingFilter().filter(record) is True
