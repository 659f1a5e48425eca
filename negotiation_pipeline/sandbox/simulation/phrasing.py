"""The words of simulated influencers: names, reply phrases, how people write amounts, and how
a mail client quotes our email under their reply (so the real reply reader has to cut it)."""

from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal

from negotiation_pipeline.domain.negotiation.emails import OutgoingEmail

HUNDRED = Decimal(100)

FIRST_NAMES = [
    "Jane",
    "Maya",
    "Liam",
    "Noah",
    "Ava",
    "Zoe",
    "Eli",
    "Nina",
    "Omar",
    "Lena",
    "Theo",
    "Iris",
    "Kai",
    "Sofia",
    "Ruby",
    "Leo",
    "Mila",
    "Jonah",
    "Priya",
    "Dev",
    "Chloe",
    "Marco",
    "Hana",
    "Felix",
    "Tara",
    "Ezra",
    "Luz",
    "Ines",
    "Owen",
    "Yara",
]
LAST_NAMES = [
    "Doe",
    "Park",
    "Rivera",
    "Chen",
    "Okafor",
    "Novak",
    "Silva",
    "Haddad",
    "Kim",
    "Larsen",
    "Moreau",
    "Patel",
    "Rossi",
    "Berg",
    "Tanaka",
    "Costa",
    "Ahmed",
    "Fischer",
    "Walsh",
    "Nguyen",
]
CLIENTS = (
    "Glow Labs",
    "Summit Outdoor",
    "Bytewise",
    "Oat & Honey",
    "Stride Athletics",
    "Lumen Skincare",
    "Tidewater Coffee",
    "Pixel Forge",
)
AGENCIES = ("Brightline Talent", "Northstar Management", "Crescent Creator Agency")


def pct(rng: random.Random, bounds: tuple[int, int]) -> Decimal:
    return Decimal(rng.randint(*bounds)) / HUNDRED


def round_ask(amount: Decimal) -> Decimal:
    """People ask in round numbers."""
    step = Decimal(50) if amount >= 1000 else Decimal(10)
    return max(step, (amount / step).quantize(Decimal(1)) * step)


def write_amount(rng: random.Random, amount: Decimal, euro: bool = False) -> str:
    if euro:
        return rng.choice((f"€{amount:,.0f}", f"{amount:,.0f} EUR", f"EUR {amount:,.0f}"))
    forms = [f"${amount:,.0f}", f"USD {amount:,.0f}", f"{amount:.0f} dollars"]
    if amount >= 1000 and amount % 100 == 0:
        forms.append(f"{(amount / 1000).normalize():f}k")
    return rng.choice(forms)


def quoted(email: OutgoingEmail, sent_at: datetime) -> str:
    """Our email under the reply, the way Gmail quotes it."""
    header = (
        f"On {sent_at:%a, %b %-d, %Y at %-I:%M %p} Alex Morgan <partnerships@northbeam.test> wrote:"
    )
    lines = "\n".join(f"> {line}" if line else ">" for line in email.body.splitlines())
    return f"\n\n{header}\n{lines}\n"


def wrap(
    rng: random.Random,
    text: str,
    ours: OutgoingEmail,
    sent_at: datetime,
    *,
    name: str,
    manager_name: str | None = None,
    agency: str | None = None,
) -> str:
    """Greeting, their text, a signature, then our email quoted Gmail-style."""
    first = name.split()[0]
    greeting = rng.choice(("Hi Alex,", "Hey Alex!", "Hello Alex,"))
    if manager_name:
        signature = (
            f"Best regards,\n{manager_name}\nTalent Manager | {agency}\n"
            f"+1 (310) 555-0{rng.randint(100, 199)}\n"
            f"{agency.lower().replace(' ', '') if agency else ''}.com"
        )
        greeting = "Hi Alex,"
    else:
        signature = rng.choice((f"Thanks!\n{first}", f"xx {first}", f"Best,\n{name}"))
    return f"{greeting}\n\n{text}\n\n{signature}{quoted(ours, sent_at)}"


ACCEPTS = (
    "That works for me, let's do it! Excited to work with you.",
    "Sounds good, happy to move forward at {offer}. What are the next steps?",
    "Deal! Send over the agreement whenever you're ready.",
    "Perfect, {offer} works for me. Count me in.",
)
COUNTERS = (
    "Thanks for reaching out, I love the brand! For this scope my rate would be {ask} though.",
    "Appreciate the offer. Could you do {ask}? My audience is {followers} followers "
    "and they engage a lot.",
    "I'd love to do this but I'd need {ask} to make it work.",
    "Thanks! Honestly my rate for this package is {ask}. Let me know if that's doable.",
)
ANCHORED_COUNTERS = (
    "Thanks for the offer. I usually get {usual} for a package like this, "
    "but I could do {ask} for you.",
    "My standard rate is {usual}. For this campaign I can come down to {ask}, "
    "that's the best I can do.",
)
MANAGER_COUNTERS = (
    "Thank you for the offer for {first}. Given her {followers} followers and recent performance, "
    "we would need {ask} for this package.",
    "Thanks for reaching out about {first}. Her rate for this scope is {ask}; with {followers} "
    "followers the numbers speak for themselves. Happy to discuss.",
)
DECLINES = (
    "Thanks so much for thinking of me, but I'm going to pass on this one.",
    "Appreciate it, but no thank you. I'm not taking on new partnerships right now.",
    "Thank you, but this isn't a fit for my channel, so I'll have to decline.",
)
QUESTIONS = (
    "Thanks for this! Quick question before I decide: what are the payment terms?",
    "Sounds interesting. How long would you need the usage rights for?",
    "Thanks! When would the content need to go live?",
    "Before I commit, can you tell me whether the content needs approval and how many revisions?",
)
