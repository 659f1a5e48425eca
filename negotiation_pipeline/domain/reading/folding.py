"""Case and punctuation folding that keeps every position of the text where it was.

The reply reader finds phrases, amounts and clauses in a folded copy of the new text and reports
spans of the original, so folding maps one character to exactly one character: ASCII and Latin-1
capitals to lowercase, curly apostrophes and quotes to straight ones.

Also the lowered copy that lets a plain substring test rule out a case-insensitive pattern
before it runs (`lowered_for_lookup`, `may_hold_any`): regex searches that find nothing cost far
more than a few substring tests.
"""

from __future__ import annotations

_TABLE: dict[int, str] = {code: chr(code + 32) for code in range(ord("A"), ord("Z") + 1)}
_TABLE.update({code: chr(code + 32) for code in range(0xC0, 0xDF) if code != 0xD7})
_TABLE.update({ord(char): "'" for char in "’‘ʼ`´"})
_TABLE.update({ord(char): '"' for char in "“”„«»"})
# The table's ASCII entries besides the capitals (the backtick).
_ASCII_OTHERS = tuple(
    (chr(code), folded) for code, folded in _TABLE.items() if code < 128 and not chr(code).isupper()
)


def fold_case(text: str) -> str:
    """Lowercase (ASCII and Latin-1) with straight quotes; `len` and positions unchanged."""
    if text.isascii():  # much faster: lowercase, then the table's other ASCII entries
        folded = text.lower()
        for char, replacement in _ASCII_OTHERS:
            if char in folded:
                folded = folded.replace(char, replacement)
        return folded
    return text.translate(_TABLE)


# Besides the two cases of a letter, a case-insensitive regex equates an ASCII letter only with
# these characters, and only the first lowercases to more than one character: İ ı ſ K (Kelvin).
ASCII_LETTER_FOLDS = ("\u0130", "\u0131", "\u017f", "\u212a")


def lowered_for_lookup(text: str) -> str | None:
    """`text.lower()`, in which every case-insensitive regex match of lowercase ASCII words
    shows up as those words, so a plain substring test can rule such a pattern out before it
    runs; None when the text holds one of ASCII_LETTER_FOLDS (no such test is exact then)."""
    if any(fold in text for fold in ASCII_LETTER_FOLDS):
        return None
    return text.lower()


def may_hold_any(lowered: str | None, words: tuple[str, ...]) -> bool:
    """Whether `lowered` (from `lowered_for_lookup`) may hold one of `words` (lowercase)."""
    return lowered is None or any(map(lowered.__contains__, words))
