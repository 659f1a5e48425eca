"""Loading rule files: an edited file is read again, and no caller can change another's copy."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from negotiation_pipeline.settings.files import ConfigError, config_dir, load_yaml


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    copied = tmp_path / "config"
    shutil.copytree(config_dir(), copied)
    return copied


def test_an_edited_rules_file_is_read_again_by_the_same_process(rules: Path) -> None:
    path = rules / "negotiation_policy.yaml"
    before = load_yaml("negotiation_policy.yaml", rules)
    path.write_text(path.read_text() + "\nadded_by_test: 1\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    after = load_yaml("negotiation_policy.yaml", rules)

    assert "added_by_test" not in before
    assert after["added_by_test"] == 1


def test_changing_a_loaded_mapping_leaves_the_next_load_untouched(rules: Path) -> None:
    first = load_yaml("negotiation_policy.yaml", rules)
    first.clear()

    assert load_yaml("negotiation_policy.yaml", rules) != {}


def test_a_missing_rules_file_is_named(rules: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file not found: .*nowhere\.yaml"):
        load_yaml("nowhere.yaml", rules)
