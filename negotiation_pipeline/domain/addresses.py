"""Email addresses that come from outside (roster cells, From headers, operator input): checked
with `email-validator` and compared in one normal form.

Validation is syntax only (`check_deliverability=False`: no DNS lookups from a roster import),
with the SMTP length limits (`strict`: a 65-character local part cannot be delivered).
Internationalised addresses are valid (a Unicode local part or domain, as SMTPUTF8 allows).
Names reserved for testing (`*.test`, RFC 2606) are accepted because the sandbox and the tests
use them; other special-use names (`localhost`, `*.local`, `*.invalid`, `*.onion`) and domain
literals (`user@[10.0.0.1]`) are refused: nobody we negotiate with lives there.

Comparison (`address_key`) ignores the display name and case: the domain is case-insensitive by
definition, and the local part is compared case-insensitively too. Mail providers treat
"Jane@" and "jane@" as one mailbox, and a stricter comparison would hold a genuine reply only
because a client capitalised the address; the local part is otherwise compared exactly (no
dot or "+tag" folding, which is provider-specific). An internationalised domain compares in its
ASCII (IDNA) form, so "bücher.de" and "xn--bcher-kva.de" are the same domain.
"""

from __future__ import annotations

import email.utils
import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

# An address list in one cell: "a@x.com; b@y.com" (commas and line breaks are taken too).
_LIST_SEPARATORS = re.compile(r"[;,\s]+")
MAX_ADDRESS_LENGTH = 320  # longer cannot be an address (64 local + @ + 255 domain)


class AddressError(ValueError):
    """Not a usable email address; the message says what is wrong with it."""


@lru_cache(maxsize=4096)
def _validated(address: str) -> tuple[str, str]:
    """(normalised address, comparison key); raises AddressError."""
    if len(address) > MAX_ADDRESS_LENGTH:
        raise AddressError(f"longer than {MAX_ADDRESS_LENGTH} characters")
    try:
        found = validate_email(
            address,
            check_deliverability=False,
            test_environment=True,
            strict=True,  # also the SMTP length limits (64 before the @-sign)
            allow_smtputf8=True,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
        )
    except EmailNotValidError as exc:
        raise AddressError(str(exc)) from None
    key = f"{found.local_part.lower()}@{found.ascii_domain.lower()}"
    return found.normalized, key


def validate_address(text: str) -> str:
    """The address in email-validator's normal form (domain lower-cased, Unicode NFC); raises
    AddressError naming the problem. `text` must be a bare address, not "Name <addr>"."""
    cleaned = text.strip()
    if not cleaned:
        raise AddressError("empty")
    return _validated(cleaned)[0]


def address_key(text: str) -> str:
    """The form addresses are compared in (see module docstring); "" when there is none.

    Accepts "Name <addr>" too. Something that is not a valid address keeps its lower-cased
    text, so it can only ever equal the very same text (never a valid address).
    """
    bare = email.utils.parseaddr(text)[1].strip() if "<" in text else text.strip()
    if not bare:
        return ""
    try:
        return _validated(bare)[1]
    except AddressError:
        return bare.lower()


def same_address(first: str, second: str) -> bool:
    key = address_key(first)
    return bool(key) and key == address_key(second)


def split_address_list(cell: str | None) -> list[str]:
    """ "a@x.com; b@y.com" → ["a@x.com", "b@y.com"] (unvalidated, in order, no empties)."""
    return [part for part in _LIST_SEPARATORS.split(cell or "") if part]


__all__ = [
    "MAX_ADDRESS_LENGTH",
    "AddressError",
    "address_key",
    "same_address",
    "split_address_list",
    "validate_address",
]
