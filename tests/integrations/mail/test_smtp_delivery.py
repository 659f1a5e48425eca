"""How a send fails, against aiosmtpd answering what each test chooses: every failure is a
DeliveryError that names the server and says whether the email can ever go out (permanent),
may go out later, or found the server itself unusable (transport). Also SMTPUTF8 and IDNA, and
IMAP errors that name the server and the step instead of a bare imaplib.abort."""

from __future__ import annotations

import pytest

from negotiation_pipeline.integrations.mail import (
    DeliveryError,
    ImapReader,
    MailError,
    OutgoingEmail,
    SenderIdentity,
    SmtpConfig,
    SmtpSender,
)
from tests.servers.dovecot import ImapAccount
from tests.servers.fault_proxy import Fault, FaultProxy
from tests.servers.smtp import Answer, Certificate, running_smtp

AGENT = SenderIdentity("agent@agency.test", "Alex Morgan")


def _email(to_addr: str = "sam@creators.test") -> OutgoingEmail:
    return OutgoingEmail("<t.1@agency.test>", to_addr, "Sam", "Our offer", "Hello Sam")


def _refusing(stage: str, reply: str) -> Answer:
    return lambda at, _address: reply if at == stage else None


@pytest.mark.parametrize(
    ("stage", "reply", "permanent", "transport"),
    [
        ("RCPT", "550 5.1.1 no such user", True, False),
        ("DATA", "554 5.7.1 message rejected as spam", True, False),
        ("RCPT", "451 4.7.1 greylisted, try again", False, False),
        ("DATA", "452 4.3.1 insufficient storage", False, False),
        ("RCPT", "421 4.3.2 shutting down", False, True),
        ("RCPT", "530 5.7.0 authentication required", False, True),
    ],
)
def test_an_answer_is_classified_by_its_code(
    stage: str, reply: str, permanent: bool, transport: bool
) -> None:
    with running_smtp(None, user=None, password=None, answer=_refusing(stage, reply)) as smtp:
        sender = SmtpSender(smtp.smtp_config(), AGENT)
        with pytest.raises(DeliveryError) as caught:
            sender.send(_email())
        assert smtp.messages == []
    error = caught.value
    assert (error.permanent, error.transport, error.maybe_delivered) == (
        permanent,
        transport,
        False,
    )
    assert str(error).startswith(f"SMTP 127.0.0.1:{smtp.port}: ")
    assert reply in str(error)


def test_acceptance_is_reported_inside_the_session_once() -> None:
    with running_smtp(None, user=None, password=None) as smtp:
        seen: list[int] = []
        SmtpSender(smtp.smtp_config(), AGENT).send(
            _email(), on_accepted=lambda: seen.append(len(smtp.messages))
        )
    assert seen == [1]  # called once, when the server already had the message


def test_an_unreachable_server_is_a_transport_error_naming_it() -> None:
    closed = SmtpConfig(host="127.0.0.1", port=1, security="plain", timeout_seconds=5)
    sender = SmtpSender(closed, AGENT)
    with pytest.raises(DeliveryError, match=r"^SMTP 127\.0\.0\.1:1: cannot connect") as caught:
        sender.send(_email())
    assert caught.value.transport and not caught.value.permanent


def test_plain_to_a_starttls_only_server_never_gives_an_email_up(
    server_certificate: Certificate,
) -> None:
    with running_smtp(None, certificate=server_certificate, user=None, password=None) as smtp:
        sender = SmtpSender(smtp.smtp_config(security="plain"), AGENT)
        with pytest.raises(DeliveryError) as caught:
            sender.send(_email())
    assert caught.value.transport and not caught.value.permanent  # the settings are wrong


def test_the_answer_lost_after_the_data_may_have_delivered_it() -> None:
    with (
        running_smtp(None, user=None, password=None) as smtp,
        FaultProxy(smtp.host, smtp.port, "smtp") as proxy,
    ):
        proxy.arm(Fault("before_250", "cut"))
        sender = SmtpSender(smtp.smtp_config(port=proxy.port), AGENT)
        with pytest.raises(DeliveryError, match="it may have been delivered") as caught:
            sender.send(_email())
        assert len(smtp.messages) == 1  # the server did take it
    assert caught.value.maybe_delivered and not caught.value.permanent


@pytest.mark.parametrize("offered", [True, False])
def test_a_non_ascii_local_part_needs_smtputf8(offered: bool) -> None:
    address = "zoë@example.test"
    with running_smtp(None, user=None, password=None, smtputf8=offered) as smtp:
        sender = SmtpSender(smtp.smtp_config(), AGENT)
        if offered:
            sender.send(_email(address))
            (accepted,) = smtp.messages
            assert accepted.rcpt_tos == (address,)
            assert f"To: Sam <{address}>".encode() in accepted.raw
        else:
            with pytest.raises(DeliveryError, match="does not offer SMTPUTF8") as caught:
                sender.send(_email(address))
            assert caught.value.permanent and smtp.messages == []


def test_a_non_ascii_domain_goes_out_in_its_ascii_form_without_smtputf8() -> None:
    with running_smtp(None, user=None, password=None, smtputf8=False) as smtp:
        SmtpSender(smtp.smtp_config(), AGENT).send(_email("sam@bücher.example"))
        (accepted,) = smtp.messages
    assert accepted.rcpt_tos == ("sam@xn--bcher-kva.example",)
    assert b"<sam@xn--bcher-kva.example>" in accepted.raw


def test_a_domain_that_is_not_a_domain_name_is_permanent() -> None:
    with running_smtp(None, user=None, password=None, smtputf8=True) as smtp:
        with pytest.raises(DeliveryError, match="no valid domain name") as caught:
            SmtpSender(smtp.smtp_config(), AGENT).send(_email("sam@exämple..test"))
        assert smtp.messages == []
    assert caught.value.permanent


@pytest.mark.mail
def test_imap_errors_name_the_server_the_step_and_the_cause(imap_account: ImapAccount) -> None:
    with FaultProxy(imap_account.host, imap_account.port, "imap") as proxy:
        reader = ImapReader(imap_account.imap_config(port=proxy.port))
        listing = reader.list_new_ids(None)
        proxy.arm(Fault("fetch", "cut"))
        with pytest.raises(MailError) as caught:
            reader.fetch([1, 2], listing.uidvalidity)
    text = str(caught.value)
    assert text.startswith(
        f"IMAP 127.0.0.1:{proxy.port}: connection lost while fetching from INBOX"
    )
    assert "(abort: " in text
    closed = ImapReader(imap_account.imap_config(port=1))
    with pytest.raises(MailError, match=r"^IMAP 127\.0\.0\.1:1: cannot connect \(Connection"):
        closed.list_new_ids(None)
