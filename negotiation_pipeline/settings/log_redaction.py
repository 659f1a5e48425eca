"""Log records of this package, redacted before any handler sees them.

A log line can quote an exception or a URL from outside (a roster link with its access key, a
webhook URL in an error), and log lines end up in Dagster's compute logs and event log. The
filter rewrites each record in place: the formatted message, the formatted traceback and the
stack info go through `redact_text`, so every handler (Dagster's, the root logger's, pytest's)
gets the redacted text.

A filter on a logger only sees records logged on that very logger, not on its children, so
`install_log_redaction()` attaches it to the package logger, every logger below it that exists
at that time (each module creates its logger on import, and the code location imports them all
first), the Dagster loggers the code writes to (`dg.get_dagster_logger`) and httpx's, which
logs each request URL. It is idempotent.
"""

from __future__ import annotations

import logging

from negotiation_pipeline.domain.redaction import redact_text

PACKAGE_LOGGER = "negotiation_pipeline"
# Loggers of other packages that write our data: `dg.get_dagster_logger()` and its "slack"
# child (the Dagster layer), and httpx, whose INFO line for every request holds the full URL.
OTHER_LOGGERS = ("dagster.builtin", "dagster.builtin.slack", "httpx", "httpcore")
_traceback_formatter = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Replaces secrets in a record's message, traceback and stack info; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to the handler to report
            return True
        redacted = redact_text(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _traceback_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


_FILTER = RedactingFilter()


def install_log_redaction() -> list[str]:
    """Attach the filter to the package's loggers and the other loggers that carry our data;
    returns the names of the loggers that have it."""
    manager = logging.Logger.manager
    names = [
        name
        for name in manager.loggerDict
        if name == PACKAGE_LOGGER or name.startswith(PACKAGE_LOGGER + ".")
    ]
    installed = []
    for name in sorted({PACKAGE_LOGGER, *names, *OTHER_LOGGERS}):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(_FILTER)
        installed.append(name)
    return installed
