"""The product's one splitter: what the sender typed now, their signature, the quoted history.

Every layout people reply in keeps its new text:
- top-posting: new text, then "On … wrote:" / a From:/Sent: block / "-----Original Message-----"
  and the history (quoted with ">" or not);
- bottom-posting: the attribution and ">" history first, the new text below it;
- inline: answers typed between ">" quoted lines, each kept, in order.
History quoted with ">" is known line by line, so unquoted lines between and after it are new
text. History introduced by a header block or a separator without ">" runs to the end of the
body (that is how Outlook and forwarding clients lay it out), and so does a phone footer
("Sent from my iPhone"). Markers in many languages: domain/quote_markers.py (mail-parser-reply
first); signatures: domain/signatures.py.

The last body split is remembered: the reader and the counterparty detection read the same
reply one after the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from negotiation_pipeline.domain.reading.quote_markers import Marker, marker_at
from negotiation_pipeline.domain.reading.signatures import strip_signature

_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class SplitReply:
    """A reply cut in parts: what the sender wrote now, their signature, the quoted history."""

    new_text: str
    quoted: str
    signature: str = ""

    @property
    def own_text(self) -> str:
        """What the sender typed including their signature (who they are, whom they represent)."""
        return f"{self.new_text}\n\n{self.signature}".strip() if self.signature else self.new_text


def split_reply(body: str) -> SplitReply:
    """Return the new text (no quoted history, no signature), the signature and the history."""
    return _split(body)


def new_text_of(body: str) -> str:
    """Only what the sender wrote now."""
    return _split(body).new_text


def own_text_of(body: str) -> str:
    """What the sender wrote now, signature included."""
    return _split(body).own_text


@lru_cache(maxsize=4)
def _split(body: str) -> SplitReply:
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    typed, quoted = _separate(lines)
    new_text, signature = strip_signature(typed)
    if "\n\n\n" in new_text:
        new_text = _BLANK_LINES.sub("\n\n", new_text)  # answers cut out of an inline reply
    return SplitReply(new_text, "\n".join(quoted).strip(), signature)


def _separate(lines: list[str]) -> tuple[list[str], list[str]]:
    """(lines the sender typed, lines of history); typed pieces keep their order."""
    typed: list[str] = []
    quoted: list[str] = []
    inside_quote = False
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.lstrip(" \t").startswith(">"):
            quoted.append(line)
            inside_quote = True
            index += 1
            continue
        found = marker_at(lines, index)
        if found is None:
            if inside_quote and line.strip():
                if typed and typed[-1].strip():
                    typed.append("")  # an inline answer is its own paragraph
                inside_quote = False
            typed.append(line)
            index += 1
            continue
        marker, span = found
        if marker is not Marker.FOOTER and _quoted_lines_follow(lines, index + span):
            quoted.extend(lines[index : index + span])
            index += span
            continue
        quoted.extend(lines[index:])
        break
    return typed, quoted


def _quoted_lines_follow(lines: list[str], index: int) -> bool:
    """Whether the history after a marker is quoted with ">" (so text below it is new)."""
    for line in lines[index : index + 3]:
        if line.strip():
            return line.lstrip(" \t").startswith(">")
    return False
