"""RESULTS.md as parts, so a run of some benchmarks refreshes only their rows and sections.

The file `bench/run_all.py` writes has: a header (when and where the full run was measured),
one table row or more per benchmark (its name in the first column), the commands run (one
line per benchmark, its command in backticks), and sections under `## title`. `--only` runs
update the rows, command line and sections of the benchmarks that ran, keep everything else as
it was, and note under "Refreshed since" when each refreshed benchmark was last measured.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

TABLE_HEADER = "| benchmark | metric | value | target | result |"
TABLE_RULE = "|---|---|---:|---|---|"
COMMANDS_HEADING = "Commands run:"
REFRESHED_HEADING = "Refreshed since (with `--only`):"
_COMMAND = re.compile(r"^- `([^`]+)`")
_REFRESHED = re.compile(r"^- (\S+): ")


@dataclass
class ResultsFile:
    header: list[str] = field(default_factory=list)  # up to the table, "Refreshed" excluded
    refreshed: dict[str, str] = field(default_factory=dict)  # benchmark -> "- name: when"
    rows: dict[str, list[str]] = field(default_factory=dict)  # benchmark -> its table rows
    commands: dict[str, str] = field(default_factory=dict)  # command -> its line
    sections: dict[str, str] = field(default_factory=dict)  # title -> "## title\n\n…"


def parse(text: str) -> ResultsFile:
    """Split a RESULTS.md written by run_all.py (unknown lines before the table stay in the
    header; anything else unrecognised is dropped on the next write)."""
    parsed = ResultsFile()
    body, *sections = re.split(r"^(?=## )", text, flags=re.MULTILINE)
    part = "header"
    for line in body.splitlines():
        if line == TABLE_HEADER:
            part = "table"
        elif line == COMMANDS_HEADING:
            part = "commands"
        elif line == REFRESHED_HEADING:
            part = "refreshed"
        elif part == "header":
            parsed.header.append(line)
        elif part == "refreshed" and (found := _REFRESHED.match(line)):
            parsed.refreshed[found.group(1)] = line
        elif part == "table" and line.startswith("| ") and line != TABLE_RULE:
            name = line[2:].split(" |", 1)[0]
            parsed.rows.setdefault(name, []).append(line)
        elif part == "commands" and (found := _COMMAND.match(line)):
            parsed.commands[found.group(1)] = line
    for section in sections:
        title = section.splitlines()[0][3:].strip()
        parsed.sections[title] = section.strip()
    while parsed.header and not parsed.header[-1].strip():
        parsed.header.pop()
    return parsed


def render(results: ResultsFile, order: Iterable[str]) -> str:
    """The file again, rows in benchmark `order` (names not in it last)."""
    names = [*order]
    names += [name for name in results.rows if name not in names]
    rows = [row for name in names for row in results.rows.get(name, [])]
    lines = [*results.header, ""]
    if results.refreshed:
        lines += [REFRESHED_HEADING, *results.refreshed.values(), ""]
    lines += [TABLE_HEADER, TABLE_RULE, *rows, "", COMMANDS_HEADING, *results.commands.values()]
    text = "\n".join(lines) + "\n"
    return text + "".join(f"\n{section}\n" for section in results.sections.values())


def merge(
    old: ResultsFile, fresh: ResultsFile, ran: dict[str, str], owners: dict[str, str], when: str
) -> ResultsFile:
    """`old` with the rows, commands and sections of the benchmarks in `ran` (name -> the
    command it ran) taken from `fresh`; the header of `old` stays. `owners` names the benchmark
    of every command a benchmark can run (full or quick sizes), so an older command line of a
    refreshed benchmark is replaced, not kept beside the new one."""
    merged = ResultsFile(
        header=old.header,
        refreshed=dict(old.refreshed),
        rows=dict(old.rows),
        commands={
            command: line
            for command, line in old.commands.items()
            if owners.get(command) not in ran
        },
        sections=dict(old.sections),
    )
    for name, command in ran.items():
        merged.rows[name] = fresh.rows.get(name, [])
        if command in fresh.commands:
            merged.commands[command] = fresh.commands[command]
        merged.refreshed[name] = f"- {name}: {when}"
    merged.sections.update(fresh.sections)
    return merged
