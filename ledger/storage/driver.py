"""Core statements run through the driver, for the posting path's statements that run for every entry.

SQLAlchemy compiles each statement once per dialect (its SQL in the driver's paramstyle, with PostgreSQL's
casts), and `Connection.exec_driver_sql` runs it: errors are wrapped and events fire as for any statement,
in the same transaction. Each value is converted by its column type's own bind (or result) processor for
that dialect, as SQLAlchemy would; what is skipped is SQLAlchemy's per-execution and per-row parameter
handling, which cost more than SQLite's own work to post one entry, and ~30% of bulk posting.

Values come and go as tuples in a fixed order: `keys` names the bind parameters, and every bind parameter
of the statement must be among them (a literal the statement needs is `literal_column`, not a bind).
"""

from __future__ import annotations

import functools
import operator
import weakref
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Date, Dialect, Executable, Select
from sqlalchemy.engine import CursorResult
from sqlalchemy.sql.compiler import SQLCompiler

_Convert = Callable[[Sequence[Any]], Any]


class Statement:
    """An INSERT or UPDATE run with rows of values in `keys` order; a list of rows is one executemany."""

    def __init__(self, statement: Executable, keys: tuple[str, ...]) -> None:
        self.statement, self.keys = statement, keys
        self.plans: weakref.WeakKeyDictionary[Dialect, tuple[str, _Convert]] = weakref.WeakKeyDictionary()

    def run(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> CursorResult[Any]:
        if not rows:  # the driver would run the statement once, without parameters
            raise ValueError("no rows to write")
        plan = self.plans.get(conn.dialect)
        if plan is None:
            compiled = self.statement.compile(dialect=conn.dialect, column_keys=list(self.keys))
            plan = self.plans[conn.dialect] = (compiled.string, _binder(compiled, self.keys, conn.dialect))
        sql, convert = plan
        return conn.exec_driver_sql(sql, [convert(row) for row in rows])


class Query:
    """A SELECT run with one tuple of values in `keys` order; its rows as named tuples of its columns."""

    def __init__(self, statement: Select, keys: tuple[str, ...]) -> None:
        self.statement, self.keys = statement, keys
        self.row = namedtuple("Row", [column.key for column in statement.selected_columns])  # type: ignore[misc]
        self.plans: weakref.WeakKeyDictionary[Dialect, tuple[str, _Convert, _Convert]] = weakref.WeakKeyDictionary()

    def rows(self, conn: Connection, values: Sequence[Any] = ()) -> list[Any]:
        plan = self.plans.get(conn.dialect)
        if plan is None:
            plan = self.plans[conn.dialect] = self._plan(conn.dialect)
        sql, convert, make = plan
        return [make(row) for row in conn.exec_driver_sql(sql, convert(values))]

    def _plan(self, dialect: Dialect) -> tuple[str, _Convert, _Convert]:
        compiled = self.statement.compile(dialect=dialect)
        processors = [(i, process) for i, column in enumerate(self.statement.selected_columns)
                      if (process := column.type.dialect_impl(dialect).result_processor(dialect, None)) is not None]
        make = self.row._make

        def made(row: Sequence[Any]) -> Any:
            if not processors:
                return make(row)
            values = list(row)
            for i, process in processors:
                values[i] = process(values[i])
            return make(values)

        return compiled.string, _binder(compiled, self.keys, dialect), made


def _binder(compiled: Any, keys: tuple[str, ...], dialect: Dialect) -> _Convert:
    """The function turning a tuple of values in `keys` order into the driver's parameters for `compiled`.
    A bind parameter not in `keys` must carry its value (a literal the statement was built with)."""
    assert isinstance(compiled, SQLCompiler)
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    names = list(compiled.positiontup or ()) if compiled.positional else list(by_name)
    fixed = {name: by_name[name].effective_value for name in names if name not in keys}
    if any(by_name[name].required for name in fixed):
        raise ValueError(f"bind parameters {sorted(fixed)} are not among {keys}")
    processors = []
    for i, name in enumerate(names):
        kind = by_name[name].type
        process = kind.dialect_impl(dialect).bind_processor(dialect)
        if name in fixed:
            fixed[name] = process(fixed[name]) if process is not None else fixed[name]
        elif process is not None:  # a day is formatted once, not once per posting (where the engine wants text)
            processors.append((i, functools.lru_cache(maxsize=4096)(process) if type(kind) is Date else process))
    positional = compiled.positional
    if not names:
        return lambda row: None  # no parameters
    if fixed:
        return lambda row: _out(positional, names, [
            fixed[name] if name in fixed else _processed(processors, names, name, row[keys.index(name)])
            for name in names])
    pick = operator.itemgetter(*(keys.index(name) for name in names))
    single = len(names) == 1

    def convert(row: Sequence[Any]) -> Any:
        values = [pick(row)] if single else list(pick(row))
        for i, process in processors:
            values[i] = process(values[i])
        return _out(positional, names, values)

    return convert


def _processed(processors: list[tuple[int, Callable[[Any], Any]]], names: list[str], name: str, value: Any) -> Any:
    """`value` for parameter `name` through its processor, if it has one (the slower path, for queries)."""
    for i, process in processors:
        if names[i] == name:
            return process(value)
    return value


def _out(positional: bool, names: list[str], values: list[Any]) -> Any:
    return tuple(values) if positional else dict(zip(names, values))
