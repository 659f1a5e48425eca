"""config/reply_vocabulary.yaml: loaded through the engine's config path, editable, validated."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from negotiation_pipeline.domain.enums import Intent
from negotiation_pipeline.domain.reading.vocabulary import (
    PhraseError,
    PhraseMatcher,
    Signal,
    compile_phrase,
)
from negotiation_pipeline.settings.engine import load_reply_vocabulary
from negotiation_pipeline.settings.files import ConfigError, packaged_config_dir
from tests.support.reading import read_reply

VOCABULARY = packaged_config_dir() / "reply_vocabulary.yaml"


def _config_copy(tmp_path: Path, edit: dict[str, dict[str, list[str]]] | None = None) -> Path:
    data = yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))
    for section, lists in (edit or {}).items():
        for name, phrases in lists.items():
            data[section][name] = phrases
    (tmp_path / "reply_vocabulary.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return tmp_path


def test_an_added_phrase_changes_what_the_reader_recognises(tmp_path: Path) -> None:
    data = yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))
    standalone = [*data["accept"]["standalone"], "(yalla|vamos)"]
    edited = load_reply_vocabulary(_config_copy(tmp_path, {"accept": {"standalone": standalone}}))
    assert read_reply("Yalla!", vocabulary=edited).intent is Intent.ACCEPT
    assert read_reply("Yalla!").intent is Intent.UNCLEAR  # the repository's lists lack it


def test_the_environment_variable_points_the_reader_at_another_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("negotiation_policy.yaml", "escalation_triggers.yaml"):
        shutil.copy(packaged_config_dir() / name, tmp_path / name)
    data = yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))
    data["decline"]["explicit"] = [*data["decline"]["explicit"], "no dice"]
    (tmp_path / "reply_vocabulary.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.setenv("NEGOTIATION_CONFIG_DIR", str(tmp_path))
    assert read_reply("No dice, sorry.").intent is Intent.REJECT


@pytest.mark.parametrize(
    ("phrase", "problem"),
    [
        ("(sounds good", "missing ')'"),
        ("sounds good)", "unbalanced"),
        ("* works", "must start with a word"),
        ("[maybe] [perhaps]", "must start with a word"),
        ("works?", "not allowed"),
        ("(a|)", "empty"),
    ],
)
def test_a_bad_phrase_is_an_error_naming_file_list_and_phrase(
    tmp_path: Path, phrase: str, problem: str
) -> None:
    directory = _config_copy(tmp_path, {"hedge": {"weak": ["maybe", phrase]}})
    with pytest.raises(ConfigError) as error:
        load_reply_vocabulary(directory)
    message = str(error.value)
    assert "reply_vocabulary.yaml" in message and "hedge.weak" in message
    assert problem in message


def test_a_missing_list_is_an_error(tmp_path: Path) -> None:
    data = yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))
    del data["accept"]["strong"]
    (tmp_path / "reply_vocabulary.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"accept\.strong: Field required"):
        load_reply_vocabulary(tmp_path)


@pytest.mark.parametrize(
    ("phrase", "matches", "misses"),
    [
        ("let's (do it|go)", ["let's go", "lets do it", "let’s go"], ["let us go", "let's"]),
        ("count [me|us] in", ["count me in", "count in", "count us\nin"], ["count them in"]),
        ("<amount> doesn't work", ["¤¤¤ doesnt work", "¤ doesn't work"], ["it doesn't work"]),
        ("let * know", ["let me know", "let us know"], ["let know"]),
        ("w-9", ["w-9", "w9", "w 9"], ["w99"]),
        ("that ('s|is) fine", ["that's fine", "that’s fine", "thats fine", "that is fine"], []),
        ("the budget ('s|is) low", ["the budget's low", "the budget is low"], ["the budget s low"]),
    ],
)
def test_phrase_syntax(phrase: str, matches: list[str], misses: list[str]) -> None:
    pattern, _keys = compile_phrase(phrase)
    for text in matches:
        folded = text.replace("’", "'")
        assert pattern.match(folded), (phrase, text)
    for text in misses:
        assert not pattern.match(text), (phrase, text)


@pytest.mark.parametrize(
    ("phrase", "text"),
    [
        ("(that|it) ('s|is) fine", "ok that's fine"),  # the clitic joins the first word
        ("the budget ('s|is) [a bit] low", "sorry, the budget's a bit low"),  # ... the second
        ("i don't think it ('s|is) right", "i don't think it's right"),  # ... a later one
        ("(this|that) [one] ('s not|isn't) for me", "this one's not for me"),
        ("<amount> ('s|is) too low", "¤¤¤'s too low"),  # an amount stays a word of its own
    ],
)
def test_a_contraction_written_apart_in_a_phrase_matches_the_contracted_word(
    phrase: str, text: str
) -> None:
    # The text's "that's" is one word; a phrase writes it "that 's" so "that is" shares it.
    hits = PhraseMatcher({Signal.ACCEPT: [phrase]}).hits(text)
    assert [(hit.signal, text[hit.start : hit.end].split()[-1]) for hit in hits] == [
        (Signal.ACCEPT, text.split()[-1])
    ]


def test_phrase_errors_are_phrase_errors() -> None:
    with pytest.raises(PhraseError, match="must start with a word"):
        compile_phrase("... works")
    with pytest.raises(PhraseError, match="must start with a word"):
        compile_phrase("'s fine")
