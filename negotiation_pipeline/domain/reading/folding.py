"""Case and punctuation folding that keeps every position of the text where it was.

The reply reader finds phrases, amounts and clauses in a folded copy of the new text and reports
spans of the original, so folding maps one character to exactly one character: ASCII and Latin-1
capitals to lowercase, curly apostrophes and quotes to straight ones.
"""

from __future__ import annotations

_TABLE: dict[int, str] = {code: chr(code + 32) for code in range(ord("A"), ord("Z") + 1)}
_TABLE.update({code: chr(code + 32) for code in range(0xC0, 0xDF) if code != 0xD7})
_TABLE.update({ord(char): "'" for char in "’‘ʼ`´"})
_TABLE.update({ord(char): '"' for char in "“”„«»"})


def fold_case(text: str) -> str:
    """Lowercase (ASCII and Latin-1) with straight quotes; `len` and positions unchanged."""
    return text.translate(_TABLE)
