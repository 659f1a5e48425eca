"""Load the negotiation engine's editable rules into typed objects.

Reads `config/negotiation_policy.yaml`, `config/escalation_triggers.yaml`,
`config/reply_vocabulary.yaml` and `config/templates/*.j2` (through settings/files.py, so
NEGOTIATION_CONFIG_DIR applies). Every error is a ConfigError that names the file, and nothing
falls back to silent defaults.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from negotiation_pipeline.domain.negotiation.emails import EmailTemplates, TemplateError
from negotiation_pipeline.domain.negotiation.engine import EngineConfig
from negotiation_pipeline.domain.negotiation.policy import EscalationTriggers, NegotiationPolicy
from negotiation_pipeline.domain.reading.vocabulary import CompiledVocabulary, ReplyVocabulary
from negotiation_pipeline.settings.files import (
    CONFIG_DIR_VARIABLE,
    ConfigError,
    config_dir,
    load_yaml,
)

POLICY_FILE = "negotiation_policy.yaml"
TRIGGERS_FILE = "escalation_triggers.yaml"
VOCABULARY_FILE = "reply_vocabulary.yaml"
TEMPLATES_DIR = "templates"

M = TypeVar("M", bound=BaseModel)


def _validation_message(path: Path, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        problems.append(f"{where}: {error['msg']}")
    return f"config file {path} is invalid: " + "; ".join(problems)


def _load_model(model: type[M], name: str, directory: Path | None) -> M:
    path = (directory or config_dir()) / name
    data = load_yaml(name, directory)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_validation_message(path, exc)) from exc


def load_policy(directory: Path | None = None) -> NegotiationPolicy:
    return _load_model(NegotiationPolicy, POLICY_FILE, directory)


def load_triggers(directory: Path | None = None) -> EscalationTriggers:
    return _load_model(EscalationTriggers, TRIGGERS_FILE, directory)


def load_templates(directory: Path | None = None) -> EmailTemplates:
    folder = (directory or config_dir()) / TEMPLATES_DIR
    if not folder.is_dir():
        raise ConfigError(f"template folder not found: {folder}")
    sources = {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.j2"))}
    try:
        return EmailTemplates.from_sources(sources)
    except TemplateError as exc:
        raise ConfigError(f"{folder}: {exc}") from exc


def load_engine_config(directory: Path | None = None) -> EngineConfig:
    return EngineConfig(
        policy=load_policy(directory),
        triggers=load_triggers(directory),
        templates=load_templates(directory),
        vocabulary=load_reply_vocabulary(directory),
    )


def load_reply_vocabulary(directory: Path | None = None) -> CompiledVocabulary:
    """config/reply_vocabulary.yaml, validated and compiled (cached per file, like all config).

    Without a directory the reader calls this for every reply, so the answer for the current
    NEGOTIATION_CONFIG_DIR is kept without building a path each time."""
    if directory is None:
        return _default_vocabulary(os.environ.get(CONFIG_DIR_VARIABLE))
    return _compiled_vocabulary(directory / VOCABULARY_FILE)


@lru_cache(maxsize=4)
def _default_vocabulary(_config_dir_setting: str | None) -> CompiledVocabulary:
    return _compiled_vocabulary(config_dir() / VOCABULARY_FILE)


@lru_cache(maxsize=8)
def _compiled_vocabulary(path: Path) -> CompiledVocabulary:
    return _load_model(ReplyVocabulary, VOCABULARY_FILE, path.parent).compile()
