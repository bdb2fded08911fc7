"""Core statements run through the driver, for the posting path's statements that run for every entry.

SQLAlchemy compiles each statement once per dialect (its SQL in the driver's paramstyle, with PostgreSQL's
casts). Each value is converted by its column type's own bind (or result) processor for that dialect, as
SQLAlchemy would. The SQL then runs on the driver's own cursor (sqlite3 or psycopg), in the connection's open
transaction: SQLAlchemy's per-execution work (a result object, events, parameter handling) cost more than the
database's own work to post one entry. A driver error is handed to SQLAlchemy's own handler, so it is raised
wrapped exactly as `exec_driver_sql` raises it (an IntegrityError, an OperationalError with `.orig`, a lost
connection invalidated): the refusals, and the retries of a write that lost the race for the lock, see no
difference. While anything listens to a connection's statements (`before_cursor_execute` or
`after_cursor_execute` events, `-vv`, `echo`), or outside a transaction (where SQLAlchemy begins one), the
statements run through `Connection.exec_driver_sql` instead.

Values come and go as tuples in a fixed order: `keys` names the bind parameters, and every bind parameter
of the statement must be among them (a literal the statement needs is `literal_column`, not a bind).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import operator
import weakref
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from sqlalchemy import JSON, Connection, Date, DateTime, Dialect, Executable, Select
from sqlalchemy.sql.compiler import SQLCompiler

_Convert = Callable[[Sequence[Any]], Any]


class Statement:
    """An INSERT or UPDATE run with rows of values in `keys` order; a list of rows is one executemany."""

    def __init__(self, statement: Executable, keys: tuple[str, ...]) -> None:
        self.statement, self.keys = statement, keys
        self.plans: weakref.WeakKeyDictionary[Dialect, tuple[str, _Convert]] = weakref.WeakKeyDictionary()

    def run(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> int:
        """Write `rows`; how many rows the database says the statement matched."""
        if not rows:  # the driver would run the statement once, without parameters
            raise ValueError("no rows to write")
        plan = self.plans.get(conn.dialect)
        if plan is None:
            compiled = self.statement.compile(dialect=conn.dialect, column_keys=list(self.keys))
            plan = self.plans[conn.dialect] = (compiled.string, _binder(compiled, self.keys, conn.dialect))
        sql, convert = plan
        params = [convert(row) for row in rows]
        if not direct(conn):
            return conn.exec_driver_sql(sql, params).rowcount
        cursor = _run(conn, sql, params[0] if len(params) == 1 else params, many=len(params) > 1)
        count = cursor.rowcount
        cursor.close()
        return count


class Query:
    """A SELECT run with one tuple of values in `keys` order; its rows as named tuples of its columns (or as
    `row`, a NamedTuple class whose fields are the columns in order)."""

    def __init__(self, statement: Select, keys: tuple[str, ...], row: type | None = None) -> None:
        self.statement, self.keys = statement, keys
        self.row = row or namedtuple("Row", [column.key for column in statement.selected_columns])  # type: ignore[misc]
        self.plans: weakref.WeakKeyDictionary[Dialect, tuple[str, _Convert, _Convert]] = weakref.WeakKeyDictionary()

    def rows(self, conn: Connection, values: Sequence[Any] = ()) -> list[Any]:
        plan = self.plans.get(conn.dialect)
        if plan is None:
            plan = self.plans[conn.dialect] = self._plan(conn.dialect)
        sql, convert, make = plan
        params = convert(values)
        if not direct(conn):
            return [make(row) for row in conn.exec_driver_sql(sql, params)]
        cursor = _run(conn, sql, params)
        try:
            rows = cursor.fetchall()
        except BaseException as exc:
            _raise_wrapped(conn, exc, sql, params, cursor)
        cursor.close()
        return [make(row) for row in rows]

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


def direct(conn: Connection) -> bool:
    """Whether statements may run on the driver's cursor: in a transaction, with nothing listening to or
    logging this connection's statements. Decided once per transaction (asking cost more than a statement)."""
    transaction = conn.get_transaction()
    if transaction is None:
        return False
    info = conn.info
    seen = info.get(_DIRECT)
    if seen is None or seen[0]() is not transaction:
        seen = info[_DIRECT] = (weakref.ref(transaction), not _watched(conn))
    return seen[1] and transaction.is_active


_DIRECT = "ipb_direct"  # in a connection's info: (its transaction, whether it runs statements directly)


def _watched(conn: Connection) -> bool:
    dispatch = conn.dispatch
    return bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute
                or conn.engine.logger.isEnabledFor(logging.INFO))


def execute_sql(conn: Connection, sql: str) -> None:
    """Run one statement without parameters (BEGIN IMMEDIATE, from the engine's `begin` event) on the driver's
    cursor, its errors raised as SQLAlchemy raises them; through `exec_driver_sql` while statements are watched."""
    if _watched(conn):
        conn.exec_driver_sql(sql)
    else:
        _run(conn, sql, None).close()


def _run(conn: Connection, sql: str, params: Any, *, many: bool = False) -> Any:
    """The driver's cursor, having run `sql` (with `params`, a list of them if `many`)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if many:
            cursor.executemany(sql, params)
        elif params is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, params)
    except BaseException as exc:
        _raise_wrapped(conn, exc, sql, params, cursor)
    return cursor


def _raise_wrapped(conn: Connection, exc: BaseException, sql: str, params: Any, cursor: Any) -> NoReturn:
    """Raise a driver error (or an interrupt) as `exec_driver_sql` would have: SQLAlchemy's own handler wraps it
    (IntegrityError, OperationalError, ... with `.orig`), closes the cursor and invalidates a connection the
    server dropped. Anything else (an OverflowError binding a too-large int on SQLite) is raised as it came, as
    SQLAlchemy does."""
    if isinstance(exc, conn.dialect.loaded_dbapi.Error) or not isinstance(exc, Exception):
        conn._handle_dbapi_exception(exc, sql, params, cursor, None)  # always raises
    with contextlib.suppress(Exception):
        cursor.close()
    raise exc


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
        elif process is not None:
            processors.append((i, _reusing(kind, process)))
    positional = compiled.positional
    if not names:
        return lambda row: None  # no parameters
    if fixed:
        return lambda row: _out(positional, names, [
            fixed[name] if name in fixed else _processed(processors, names, name, row[keys.index(name)])
            for name in names])
    order = [keys.index(name) for name in names]
    if positional and order == list(range(len(keys))):  # the row is the parameters, in order: convert in place
        if not processors:
            return tuple

        def converted(row: Sequence[Any]) -> Any:
            values = list(row)
            for i, process in processors:
                values[i] = process(values[i])
            return tuple(values)  # what exec_driver_sql takes too

        return converted
    pick = operator.itemgetter(*order)
    single = len(names) == 1

    def convert(row: Sequence[Any]) -> Any:
        values = [pick(row)] if single else list(pick(row))
        for i, process in processors:
            values[i] = process(values[i])
        return _out(positional, names, values)

    return convert


def _reusing(kind: Any, process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`process`, remembering what it made of the values that recur: a day is formatted once, not once per
    posting, and a batch's one recording time once (where the engine wants text); an empty `meta` is
    serialised once."""
    if type(kind) is Date:
        return functools.lru_cache(maxsize=4096)(process)
    if type(kind) is DateTime:
        return functools.lru_cache(maxsize=16)(process)
    if type(kind) is JSON:
        empty = process({})
        return lambda value: empty if type(value) is dict and not value else process(value)
    return process


def _processed(processors: list[tuple[int, Callable[[Any], Any]]], names: list[str], name: str, value: Any) -> Any:
    """`value` for parameter `name` through its processor, if it has one (the slower path, for queries)."""
    for i, process in processors:
        if names[i] == name:
            return process(value)
    return value


def _out(positional: bool, names: list[str], values: list[Any]) -> Any:
    return tuple(values) if positional else dict(zip(names, values))
