"""Loading the labelled reply corpus and turning each case into the text the reader gets.

A case is one of:
- `body`: the plain-text body, as `mime.parse_message` would hand it over;
- `message`: a full message built here (text and/or HTML part, a charset, a transfer encoding,
  format=flowed with or without DelSp, attachments), serialised to bytes and parsed back by
  `mime.parse_message`, so MIME decoding runs for real;
- `raw`: a literal RFC 5322 message, exactly as on the wire.
Optional `our_offer` is our last offer (as the engine passes it); `sender` is the From address.
"""

from __future__ import annotations

import base64
import quopri
import textwrap
from decimal import Decimal
from email.message import Message
from email.mime.multipart import MIMEMultipart
from pathlib import Path
from typing import Any

import yaml

from negotiation_pipeline.integrations.mail.mime import parse_message

CORPUS_DIR = Path(__file__).parent
CORPUS_FILES = sorted(CORPUS_DIR.glob("reply_corpus*.yaml"))
_FLOW_WIDTH = 40


def load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in CORPUS_FILES:
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            case["file"] = path.name
            cases.append(case)
    return cases


def our_offer(case: dict[str, Any]) -> Decimal | None:
    value = case.get("our_offer")
    return Decimal(str(value)) if value is not None else None


def expected_rate(case: dict[str, Any]) -> Decimal | None:
    return Decimal(case["rate"]) if case["rate"] is not None else None


def case_text(case: dict[str, Any]) -> str:
    """The text body the reader receives for this case (through MIME parsing when it is one)."""
    if "body" in case:
        return str(case["body"])
    if "raw" in case:
        return parse_message(str(case["raw"]).replace("\n", "\r\n").encode("utf-8")).text_body
    return parse_message(build_message(case["message"], case["id"])).text_body


def build_message(spec: dict[str, Any], case_id: str) -> bytes:
    """Bytes of a real message per the case's `message` spec."""
    body = _body_part(spec)
    attachments = spec.get("attachments") or []
    if attachments:
        outer: Message = MIMEMultipart("mixed")
        outer.attach(body)
        for name in attachments:
            outer.attach(_attachment(name))
    else:
        outer = body
    outer["From"] = spec.get("from", "Jamie Rivera <jamie@creator.example.test>")
    outer["To"] = "Alex Morgan <partnerships@northbeam.test>"
    outer["Subject"] = spec.get("subject", "Re: Partnership with Northbeam")
    outer["Date"] = "Tue, 03 Mar 2026 10:15:00 +0000"
    outer["Message-ID"] = f"<{case_id}@creator.example.test>"
    outer["MIME-Version"] = "1.0"
    return outer.as_bytes()


def _body_part(spec: dict[str, Any]) -> Message:
    charset = spec.get("charset", "utf-8")
    encoding = spec.get("encoding", "quoted-printable")
    parts = []
    if "text" in spec:
        parts.append(_text_part("plain", str(spec["text"]), charset, encoding, spec))
    if "html" in spec:
        parts.append(_text_part("html", str(spec["html"]), charset, encoding, spec))
    if len(parts) == 1:
        return parts[0]
    alternative = MIMEMultipart("alternative")
    for part in parts:
        alternative.attach(part)
    return alternative


def _text_part(
    subtype: str, text: str, charset: str, encoding: str, spec: dict[str, Any]
) -> Message:
    part = Message()
    params = f"text/{subtype}; charset={charset}"
    if subtype == "plain" and spec.get("flowed"):
        delsp = bool(spec.get("delsp"))
        text = _flow(text, delsp)
        params += "; format=flowed" + ("; delsp=yes" if delsp else "")
    # Clients that label mail iso-8859-1 write Windows-1252 bytes for "€" and curly quotes.
    codec = "cp1252" if charset == "iso-8859-1" else charset
    data = text.replace("\n", "\r\n").encode(codec)
    part["Content-Type"] = params
    part["Content-Transfer-Encoding"] = encoding
    if encoding == "base64":
        part.set_payload(base64.encodebytes(data).decode("ascii"))
    elif encoding == "quoted-printable":
        part.set_payload(quopri.encodestring(data).decode("ascii"))
    else:  # 7bit / 8bit: the bytes as they are (the generator writes surrogates back as bytes)
        part.set_payload(data.decode("ascii", "surrogateescape"))
    return part


def _flow(text: str, delsp: bool) -> str:
    """Wrap each long line the way a format=flowed client does (RFC 3676): soft breaks end in a
    space; with DelSp the client may break inside a word and adds a space to delete."""
    out: list[str] = []
    for line in text.split("\n"):
        prefix = ""
        while line.startswith(">"):
            prefix += ">"
            line = line[1:]
        if prefix:
            line = line.lstrip(" ")
            prefix += " "
        if len(line) <= _FLOW_WIDTH or line == "-- ":
            out.append(prefix + _stuffed(line, prefix))
            continue
        if delsp:
            pieces = [line[i : i + _FLOW_WIDTH] for i in range(0, len(line), _FLOW_WIDTH)]
        else:
            pieces = textwrap.wrap(line, _FLOW_WIDTH, break_long_words=False)
        for index, piece in enumerate(pieces):
            soft = " " if index < len(pieces) - 1 else ""
            out.append(prefix + _stuffed(piece, prefix) + soft)
    return "\n".join(out)


def _stuffed(line: str, prefix: str) -> str:
    """Space-stuffing: an unquoted line starting with a space, ">" or "From " gets one more."""
    return " " + line if not prefix and line.startswith((" ", ">", "From ")) else line


def _attachment(name: str) -> Message:
    part = Message()
    kind = "application/pdf" if name.endswith(".pdf") else "image/jpeg"
    part["Content-Type"] = f'{kind}; name="{name}"'
    part["Content-Transfer-Encoding"] = "base64"
    part["Content-Disposition"] = f'attachment; filename="{name}"'
    filler = f"%fake {name} for the corpus: rates $9,999 and 123K followers\n".encode() * 8
    part.set_payload(base64.encodebytes(filler).decode("ascii"))
    return part
