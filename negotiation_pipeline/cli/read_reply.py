"""`negotiation-pipeline read-reply MESSAGE`: how the agent reads one reply email, as JSON."""

from __future__ import annotations

from pathlib import Path

import click

from negotiation_pipeline.cli.common import EXIT_INVALID, EXIT_OK, exits_with_code


@click.command("read-reply", short_help="Read one reply email; print what the agent understands.")
@click.argument("message", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--our-offer",
    metavar="AMOUNT",
    help="our last offer, e.g. 1200 (default: the first amount in the quoted history)",
)
@click.option(
    "--package",
    metavar="DELIVERABLES",
    help='what that offer covers, e.g. "1 Reel, 3 Stories": prices per deliverable are totalled',
)
@exits_with_code
def read_reply_command(message: Path, our_offer: str | None, package: str | None) -> int:
    """Read one reply email (an RFC 5322 .eml file) and print what the agent understands.

    Prints JSON: intent, proposed_rate (a string, or null), currency, confidence and the new
    text of the reply without the quoted history. Exit 2 when the file is not a readable email
    or --our-offer is not an amount.
    """
    import json
    from decimal import Decimal

    from negotiation_pipeline.domain.money import parse_decimal
    from negotiation_pipeline.domain.negotiation.valuation import split_items

    offer: Decimal | None = None
    if our_offer is not None:
        try:
            offer = parse_decimal(our_offer)
        except (ValueError, ArithmeticError) as exc:
            click.echo(f"read-reply: --our-offer {our_offer!r} is not an amount: {exc}", err=True)
            return EXIT_INVALID
        if offer <= 0:
            click.echo(f"read-reply: --our-offer must be above zero, not {our_offer}", err=True)
            return EXIT_INVALID

    from negotiation_pipeline.domain.reading.reader import read_reply
    from negotiation_pipeline.integrations.mail.mime import MalformedMessageError, parse_message
    from negotiation_pipeline.settings.engine import load_engine_config

    try:
        raw = message.read_bytes()
    except OSError as exc:
        click.echo(f"read-reply: cannot read {message}: {exc.strerror or exc}", err=True)
        return EXIT_INVALID
    try:
        parsed = parse_message(raw)
    except MalformedMessageError as exc:
        click.echo(f"read-reply: {message} is not a readable email: {exc}", err=True)
        return EXIT_INVALID
    config = load_engine_config()
    reading = read_reply(
        parsed.text_body,
        confidence_threshold=config.policy.confidence_threshold,
        our_offer=offer,
        vocabulary=config.vocabulary,
        package=tuple(split_items(package or "")),
    )
    result = {
        "intent": reading.intent.value,
        "proposed_rate": None if reading.proposed_rate is None else str(reading.proposed_rate),
        "currency": reading.currency,
        "confidence": reading.confidence,
        "new_text": reading.new_text,
    }
    click.echo(json.dumps(result, ensure_ascii=False))
    return EXIT_OK
