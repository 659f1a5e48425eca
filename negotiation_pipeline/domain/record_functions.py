"""A record's field plan compiled into one writer and one reader function.

Records are written and read on every save and load of a negotiation, so the plan does not
loop over its fields at run time: like `dataclasses` does for `__init__`, it writes the source
of a function that handles exactly this record's fields, in order, and compiles it once.
The writer reads each attribute and returns one dict display (`"state": value_3._value_ if
value_3.__class__ is leaf_3 else encode_3(value_3)`, ...); the reader takes each key, applies
the absent rule or the field's decoder, names the field of a `FieldProblem`, and calls the
record's constructor with every field by name. Fixed-size tuples get the same treatment.

Only field names (identifiers, checked) enter the generated source; coders and types are
passed in the function's namespace. The source is registered with `linecache`, so a traceback
through a generated function shows its lines.
"""

from __future__ import annotations

import linecache
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from negotiation_pipeline.domain.money import MoneyError
from negotiation_pipeline.domain.record_values import Coder, Coders, FieldProblem, describe

_ABSENT: Any = object()  # a key the stored dict does not have (for fields where None is a value)


@dataclass(frozen=True)
class PlannedField:
    name: str
    # For a nullable field the coders see only values that are not None.
    encode: Coder | None  # None: the value is stored as it is
    decode: Coder
    nullable: bool  # None is a value of the field (else null reads as absent)
    absent: Callable[[], Any] | None  # what an absent key reads as; None: the key is required
    # The field's type when it is a single value (str, int, bool, Decimal, an Enum, datetime,
    # date): a value of exactly that type is converted inline, without calling its coder.
    leaf: type | None = None


Writer = Callable[[Any], dict[str, Any]]
Reader = Callable[[Mapping[str, Any]], Any]


# What a value of exactly the leaf type is written as, inline ({v}: the value).
_INLINE_WRITES = {Decimal: "str({v})", datetime: "{v}.isoformat()", date: "{v}.isoformat()"}


def compile_writer(cls: type, fields: tuple[PlannedField, ...]) -> Writer:
    """`record -> dict`, the record's fields in order under their own names."""
    namespace: dict[str, Any] = {}
    lines = ["def write(record):"]
    entries = []
    for index, item in enumerate(_checked(fields)):
        value = f"value_{index}"
        lines.append(f"    {value} = record.{item.name}")
        entries.append(f"        {item.name!r}: {_written(index, item, namespace)},")
    lines += ["    return {", *entries, "    }"]
    return _compiled("\n".join(lines) + "\n", namespace, "write", cls.__qualname__)


def _written(index: int, item: PlannedField, namespace: dict[str, Any]) -> str:
    value = f"value_{index}"
    if item.encode is None:
        return value
    namespace[f"encode_{index}"] = item.encode
    written = f"encode_{index}({value})"
    leaf = item.leaf
    inline = _INLINE_WRITES.get(leaf) if leaf is not None else None
    if leaf is not None and issubclass(leaf, Enum):
        inline = "{v}._value_"  # the member's value, without the `value` property's lookup
    if inline is not None:
        namespace[f"leaf_{index}"] = leaf
        written = f"{inline.format(v=value)} if {value}.__class__ is leaf_{index} else {written}"
    return f"None if {value} is None else ({written})" if item.nullable else written


def compile_reader(cls: type, fields: tuple[PlannedField, ...]) -> Reader:
    """`dict -> record`: absent keys by the field's rule, values by its decoder, then the
    record's constructor (its ValueError or TypeError becomes a `FieldProblem`)."""
    namespace: dict[str, Any] = {
        "cls": cls,
        "ABSENT": _ABSENT,
        "FieldProblem": FieldProblem,
        "MoneyError": MoneyError,
        "missing": _missing,
    }
    lines = ["def read(data):", "    get = data.get"]
    for index, item in enumerate(_checked(fields)):
        lines += _read_field(index, item, namespace)
    arguments = ", ".join(f"{item.name}=value_{index}" for index, item in enumerate(fields))
    lines += [
        "    try:",
        f"        return cls({arguments})",
        "    except (ValueError, TypeError) as exc:",
        "        raise FieldProblem(str(exc), money=isinstance(exc, MoneyError)) from exc",
    ]
    return _compiled("\n".join(lines) + "\n", namespace, "read", cls.__qualname__)


def _read_field(index: int, item: PlannedField, namespace: dict[str, Any]) -> list[str]:
    key, value = repr(item.name), f"value_{index}"
    namespace[f"decode_{index}"] = item.decode
    if item.nullable:  # null is a value: only a key the dict lacks is absent
        lines = [f"    {value} = get({key}, ABSENT)", f"    if {value} is ABSENT:"]
    else:
        lines = [f"    {value} = get({key})", f"    if {value} is None:"]
    if item.absent is None:
        lines.append(f"        raise missing({key}, data)")
    else:
        namespace[f"absent_{index}"] = item.absent
        lines.append(f"        {value} = absent_{index}()")
    decoded = f"decode_{index}({value})"
    if item.leaf in (str, int, bool):  # stored as they are: exactly that type needs no check
        namespace[f"leaf_{index}"] = item.leaf
        decoded = f"{value} if {value}.__class__ is leaf_{index} else {decoded}"
    return [
        *lines,
        f"    elif {value} is not None:" if item.nullable else "    else:",
        "        try:",
        f"            {value} = {decoded}",
        "        except FieldProblem as problem:",
        f"            raise problem.at({key}) from None",
    ]


def _missing(key: str, data: Mapping[str, Any]) -> FieldProblem:
    problem = "null in required field" if key in data else "missing field"
    return FieldProblem(problem, absent=True).at(key)


def _checked(fields: tuple[PlannedField, ...]) -> tuple[PlannedField, ...]:
    for item in fields:
        if not item.name.isidentifier():
            raise TypeError(f"field name {item.name!r} is not an identifier")
    return fields


def _compiled(source: str, namespace: dict[str, Any], name: str, owner: str) -> Any:
    filename = f"<record codec {name} of {owner}>"
    # Tracebacks through the function show its source lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    exec(compile(source, filename, "exec"), namespace)  # our source; coders by reference
    function = namespace[name]
    function.__qualname__ = f"{owner}.{name}"
    return function


def compile_fixed_tuple(items: list[Coders]) -> Coders:
    """`tuple[A, B, C]`: a list of exactly that many items, each by its own coders (unrolled:
    a negotiation's history is a tuple of such triples)."""
    size = len(items)
    namespace: dict[str, Any] = {"FieldProblem": FieldProblem, "describe": describe}
    names = [f"item_{index}" for index in range(size)]
    written, read = [], []
    for index, (encode, decode, _) in enumerate(items):
        namespace[f"encode_{index}"], namespace[f"decode_{index}"] = encode, decode
        written.append(names[index] if encode is None else f"encode_{index}({names[index]})")
        read += [
            "    try:",
            f"        {names[index]} = decode_{index}({names[index]})",
            "    except FieldProblem as problem:",
            f"        raise problem.at('[{index}]') from None",
        ]
    unpack = ", ".join(names) + ","
    count = f"raise FieldProblem(f'expected {size} items, got {{len(value)}}')"
    write_source = "\n".join(
        [
            "def write(value):",
            f"    if len(value) != {size}:",
            f"        {count}",
            f"    {unpack} = value",
            f"    return [{', '.join(written)}]",
        ]
    )
    read_source = "\n".join(
        [
            "def read(value):",
            "    if not isinstance(value, (list, tuple)):",
            "        raise FieldProblem(f'expected a list, got {describe(value)}')",
            f"    if len(value) != {size}:",
            f"        {count}",
            f"    {unpack} = value",
            *read,
            f"    return ({unpack})",
        ]
    )
    label = f"tuple of {size}"
    writer = _compiled(write_source + "\n", namespace, "write", label)
    return writer, _compiled(read_source + "\n", dict(namespace), "read", label), False


def locate(problem: FieldProblem, record: Any, fields: tuple[PlannedField, ...]) -> FieldProblem:
    """After a writer failed: the problem again, named by the first field that fails alone."""
    for item in fields:
        value = getattr(record, item.name)
        if item.encode is None or (value is None and item.nullable):
            continue
        try:
            item.encode(value)
        except FieldProblem as found:
            return found.at(item.name)
    return problem


__all__ = [
    "PlannedField",
    "compile_fixed_tuple",
    "compile_reader",
    "compile_writer",
    "locate",
]
