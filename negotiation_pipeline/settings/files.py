"""Locate and load the editable business rules in `config/` (YAML and templates).

The rules ship inside the package (`negotiation_pipeline/config/`, found through
`importlib.resources`, so an installed wheel carries them); `NEGOTIATION_CONFIG_DIR` points at an
edited copy instead (deployments, tests). This is the only module that reads config files from
disk; the domain receives parsed objects.
"""

from __future__ import annotations

import copy
import os
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR_VARIABLE = "NEGOTIATION_CONFIG_DIR"


class ConfigError(ValueError):
    """A config file is missing or malformed; the message names the file."""


def packaged_config_dir() -> Path:
    """The rules shipped with the package. Wheels install unpacked, so this is a real folder."""
    return Path(str(files("negotiation_pipeline") / "config"))


def config_dir() -> Path:
    override = os.environ.get(CONFIG_DIR_VARIABLE, "").strip()
    return Path(override) if override else packaged_config_dir()


def load_yaml(name: str, directory: Path | None = None) -> dict[str, Any]:
    """Load `config/<name>` as a mapping. Missing or non-mapping files raise ConfigError:
    silently falling back to defaults would run the business on rules nobody wrote."""
    path = (directory or config_dir()) / name
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    # Keyed by the file's modification time and size too: a long-lived process (the daemon
    # evaluating sensors) reads an edited rules file on its next load instead of the copy it
    # parsed first. Each caller gets its own copy, so one that changes it cannot change the
    # rules every later caller reads.
    return copy.deepcopy(_load_yaml_cached(path, stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=64)
def _load_yaml_cached(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        # ValueError: not UTF-8, or an impossible date ("2001-02-30"); RecursionError: "[[[[…"
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping at top level")
    return data
