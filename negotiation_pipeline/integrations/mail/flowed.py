"""Re-join `format=flowed` plain text (RFC 3676) into the lines the sender typed.

A flowed line ends in a space: it continues on the next line of the same quote depth. With
`DelSp=yes` that trailing space was added by the sender's client and is removed when joining;
without it the space is a real one between two words. A line's quote depth is its count of
leading ">"; one space after them (or at the start of an unquoted line) is space-stuffing and is
removed. The "-- " signature separator is never flowed. Quoted lines come back as "> text".
"""

from __future__ import annotations

_SIGNATURE_SEPARATOR = "-- "


def unflow(text: str, *, delete_space: bool = False) -> str:
    """The paragraphs of a format=flowed body, one line each (quote prefixes kept)."""
    out: list[str] = []
    pending: list[str] = []  # pieces of the paragraph being joined
    pending_depth = 0
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        depth, content = _depth_and_content(raw)
        if pending and depth != pending_depth:
            out.append(_line(pending_depth, "".join(pending)))
            pending = []
        flowed = content.endswith(" ") and content != _SIGNATURE_SEPARATOR
        if flowed:
            pending.append(content[:-1] if delete_space else content)
            pending_depth = depth
            continue
        pending.append(content)
        out.append(_line(depth, "".join(pending)))
        pending = []
    if pending:
        out.append(_line(pending_depth, "".join(pending)))
    return "\n".join(out)


def _depth_and_content(line: str) -> tuple[int, str]:
    depth = len(line) - len(line.lstrip(">"))
    content = line[depth:]
    if content.startswith(" "):
        content = content[1:]  # space-stuffing (or the space after the quote marks)
    return depth, content


def _line(depth: int, content: str) -> str:
    return f"{'>' * depth} {content}" if depth else content
