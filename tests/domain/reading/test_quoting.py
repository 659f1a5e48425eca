"""The one splitter: new text, signature and quoted history in every layout and language."""

from __future__ import annotations

import pytest

from negotiation_pipeline.domain.enums import CounterpartyType
from negotiation_pipeline.domain.negotiation.counterparty import classify_counterparty
from negotiation_pipeline.domain.reading import quote_markers
from negotiation_pipeline.domain.reading.quoting import own_text_of, split_reply
from negotiation_pipeline.integrations.mail.mime import parse_message
from tests.domain.negotiation.engine_support import make_terms

HISTORY = "> Hi, we can offer $700 for one reel.\n"
ATTRIBUTIONS = {
    "en-gmail": "On Mon, Mar 2, 2026 at 10:12 AM Alex Morgan <a@nb.test> wrote:",
    "en-bare": "Alex Morgan <a@nb.test> wrote:",
    "en-iso-date": "On 2026-03-02 10:12, Alex Morgan wrote:",
    "de-gmail": "Am Mo., 2. März 2026 um 10:12 Uhr schrieb Alex Morgan <a@nb.test>:",
    "de-thunderbird": "Am 02.03.2026 um 10:12 schrieb Alex Morgan:",
    "de-name-first": "Alex Morgan <a@nb.test> schrieb am 02.03.2026 um 10:12:",
    "fr": "Le lun. 2 mars 2026 à 10:12, Alex Morgan <a@nb.test> a écrit :",
    "es": "El lun, 2 mar 2026 a las 10:12, Alex Morgan (<a@nb.test>) escribió:",
    "pt": "Em seg., 2 de mar. de 2026 às 10:12, Alex Morgan <a@nb.test> escreveu:",
    "it-gmail": "Il giorno lun 2 mar 2026 alle ore 10:12 Alex Morgan <a@nb.test> ha scritto:",
    "it-short": "Il 02/03/2026 10:12, Alex Morgan ha scritto:",
    "nl": "Op ma 2 mrt 2026 om 10:12 schreef Alex Morgan <a@nb.test>:",
    "ja-gmail": "2026年3月2日(月) 10:12 Alex Morgan <a@nb.test>:",
    "ja-apple": "2026/03/02 10:12、Alex Morgan <a@nb.test>のメッセージ:",
    "sv": "Den mån 2 mars 2026 kl 10:12 skrev Alex Morgan <a@nb.test>:",
    "wrapped-2": "On Mon, Mar 2, 2026 at 10:12 AM Alexandra Whitfield\n<a@nb.test> wrote:",
    "wrapped-3": "On Mon, Mar 2, 2026 at 10:12 AM Alexandra W. from\nNorthbeam <a@nb.test>\nwrote:",
}  # fmt: skip
HEADER_BLOCKS = {
    "en": "From: Alex <a@nb.test>\nSent: Monday, March 2, 2026\nTo: Jo\nSubject: Offer",
    "en-bold": "*From:* Alex <a@nb.test>\n*Sent:* Monday, March 2, 2026\n*To:* Jo",
    "de": "Von: Alex <a@nb.test>\nGesendet: Montag, 2. März 2026\nAn: Jo\nBetreff: Angebot",
    "fr": "De : Alex <a@nb.test>\nEnvoyé : lundi 2 mars 2026 10:12\nÀ : Jo\nObjet : Offre",
    "es": "De: Alex <a@nb.test>\nEnviado: lunes, 2 de marzo de 2026\nPara: Jo\nAsunto: Oferta",
    "pt": "De: Alex <a@nb.test>\nEnviada em: segunda-feira, 2 de março\nPara: Jo\nAssunto: Oferta",
    "it": "Da: Alex <a@nb.test>\nInviato: lunedì 2 marzo 2026\nA: Jo\nOggetto: Offerta",
    "nl": "Van: Alex <a@nb.test>\nVerzonden: maandag 2 maart 2026\nAan: Jo\nOnderwerp: Aanbod",
    "ja": "差出人: Alex <a@nb.test>\n送信日時: 2026年3月2日 10:12\n宛先: Jo\n件名: オファー",
    "one-line": "From: Alex <a@nb.test> Sent: Monday, March 2, 2026 To: Jo Subject: Offer",
}  # fmt: skip
SEPARATORS = [
    "-----Original Message-----",
    "----- Original Message -----",
    "-----Ursprüngliche Nachricht-----",
    "-------- Message d'origine --------",
    "-------- Mensaje original --------",
    "-------- Messaggio originale --------",
    "-----Oorspronkelijk bericht-----",
    "---------- Forwarded message ---------",
    "Begin forwarded message:",
    "________________________________",
]
FOOTERS = [
    "Sent from my iPhone",
    "Get Outlook for Android",
    "Gesendet von meinem iPhone",
    "Von meinem iPhone gesendet",
    "Envoyé de mon iPhone",
    "Enviado desde mi iPhone",
    "Enviado do meu iPhone",
    "Inviato da iPhone",
    "Verzonden vanaf mijn iPhone",
    "iPhoneから送信",
]


@pytest.mark.parametrize("attribution", ATTRIBUTIONS.values(), ids=ATTRIBUTIONS.keys())
def test_top_post_attribution_is_cut_in_every_language(attribution: str) -> None:
    split = split_reply(f"Could you do $900?\n\n{attribution}\n{HISTORY}")
    assert split.new_text == "Could you do $900?"
    assert "$700" in split.quoted


@pytest.mark.parametrize("attribution", ATTRIBUTIONS.values(), ids=ATTRIBUTIONS.keys())
def test_bottom_post_keeps_the_new_text_below_the_quote(attribution: str) -> None:
    split = split_reply(f"{attribution}\n{HISTORY}\nCould you do $900?\n")
    assert split.new_text == "Could you do $900?"
    assert "$700" in split.quoted


@pytest.mark.parametrize("headers", HEADER_BLOCKS.values(), ids=HEADER_BLOCKS.keys())
def test_forwarded_header_blocks_are_cut_in_every_language(headers: str) -> None:
    split = split_reply(f"Works for me.\n\n{headers}\n\nWe can offer $700.")
    assert split.new_text == "Works for me."
    assert "$700" in split.quoted


@pytest.mark.parametrize("separator", SEPARATORS)
def test_separators_start_the_history(separator: str) -> None:
    split = split_reply(f"Deal!\n{separator}\nFrom: Alex\nWe can offer $700.")
    assert split.new_text == "Deal!" and "$700" in split.quoted


@pytest.mark.parametrize("footer", FOOTERS)
def test_phone_footers_end_the_new_text(footer: str) -> None:
    assert split_reply(f"ok $950\n\n{footer}\n\nWe can offer $700.").new_text == "ok $950"


def test_a_from_line_in_a_sentence_is_not_a_header_block() -> None:
    body = "From: my side it's a yes.\nTo: be clear, $900 works."
    assert split_reply(body).new_text == body


def test_inline_answers_are_all_kept_in_order() -> None:
    body = (
        "See below.\n\nOn Mon, Mar 2, 2026 Alex <a@nb.test> wrote:\n"
        "> Would two reels work?\nYes, two reels are fine.\n> Our offer is $700.\n"
        "I'd need $900.\n> Usage is 90 days.\n"
    )
    split = split_reply(body)
    assert split.new_text == "See below.\n\nYes, two reels are fine.\n\nI'd need $900."
    assert "$700" in split.quoted and "90 days" in split.quoted


def test_nested_quotes_then_an_answer() -> None:
    split = split_reply("> > First: $500.\n> Then: $700.\nWe can settle at $800.")
    assert split.new_text == "We can settle at $800."


def test_html_blockquote_bottom_post_through_mime() -> None:
    raw = (
        b"From: Jo <jo@creator.example.test>\r\nTo: a@nb.test\r\nSubject: Re: Offer\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<div>On Mon, Mar 2, 2026 Alex wrote:</div><blockquote>We can offer $700."
        b"<blockquote>Older: $500</blockquote></blockquote><p>I'd need $900.</p>"
    )
    split = split_reply(parse_message(raw).text_body)
    assert split.new_text == "I'd need $900."
    assert "$700" in split.quoted and "$500" in split.quoted


def test_the_library_decides_candidate_lines_first() -> None:
    lines = ["Am 02.03.2026 um 10:12 schrieb Alex Morgan <a@nb.test>:", "> x"]
    assert quote_markers._library_marker(lines, 0) == (quote_markers.Marker.ATTRIBUTION, 1)
    headers = ["From: Alex", "Sent: Monday", "To: Jo", "Subject: Offer", ""]
    assert quote_markers._library_marker(headers, 0) == (quote_markers.Marker.HEADERS, 4)


# --- signatures without a "-- " line ------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        "Best,\nDana Whitfield\nTalent Manager | Northstar Talent\nm: +1 (310) 555-0147",
        "Cheers\nTom Ellery\nCreative Director\nEllery Studio\nwww.ellery.example.test",
        "Thanks!\nMia",
        "Kind regards,\nOwen Pike\nSenior Agent, Tidewater\n1.2M YouTube | 300K Instagram",
        "Liebe Grüße\nAnna Schmidt\nanna-schmidt.example.test",
        "Cordialement,\nCamille Roux",
        "Best, Priya",
        "Mia Chen\nLifestyle creator\n250K Instagram · 90K YouTube\nmia@creator.example.test",
        "-- \nJess | 917-555-0123 | rates from $1,500",
    ],
)
def test_signature_blocks_are_trimmed(signature: str) -> None:
    split = split_reply(f"Happy to proceed.\n\n{signature}")
    assert split.new_text == "Happy to proceed."
    assert split.signature and split.signature in own_text_of(f"Happy to proceed.\n\n{signature}")


@pytest.mark.parametrize(
    "body",
    [
        "Thanks!\nI'd need $900 for that.",
        "Thanks Alex!\nDeal.",
        "Best,\nCould you do $900?",
        "Sounds good.\n\nCheers\nOne more thing: can we post on the 18th instead of the 20th?",
    ],
)
def test_a_sign_off_before_real_text_keeps_the_text(body: str) -> None:
    assert split_reply(body).new_text == body


def test_counterparty_detection_reads_the_signature_of_a_bottom_posted_reply() -> None:
    body = (
        "On Mon, Mar 2, 2026 Alex <partnerships@northbeam.test> wrote:\n> We can offer $700.\n\n"
        "We'd need $900 for Jane.\n\nBest,\nDana Whitfield\nTalent Manager | Northstar Talent"
    )
    party = classify_counterparty("Dana <dana@northstar.example.test>", body, make_terms())
    assert party.kind is CounterpartyType.TALENT_MANAGER
    assert party.agency_name == "Northstar Talent"
