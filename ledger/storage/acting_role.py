"""PostgreSQL: a server that signs its users in (`ipb serve`) acts in the database as each of them.

The web server connects as its own role, a member of the `ipb_web` group, which ledger/storage/roles.py
makes a member of every ipb user's login role. While a request for a signed-in user runs, `acting_as(name)`
is in force, and every connection it checks out of the pool runs `SET ROLE` to that login first, so the
server's GRANTs, row-level security and the triggers that stamp who acted (`current_user`) apply to the
request as they would to the user in psql. The role is set at every checkout (to the acting user, or reset when
none acts), never left to what the connection last did, so a connection goes back to the pool as it is: the
next request of the same user (the usual case) needs no round trip. The role is a context variable: one
request's user never leaks into another's connection or thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Engine, event

_acting: ContextVar[str | None] = ContextVar("ipb_acting_role", default=None)
_CACHED = ("ipb_login", "ipb_trusted")  # ledger/storage/identity.py keeps who the connection is in conn.info
_INSTALLED = "ipb_acting_role_installed"


@contextmanager
def acting_as(name: str | None) -> Iterator[None]:
    """Within this block, connections checked out of an installed engine act as login `name`."""
    token = _acting.set(name)
    try:
        yield
    finally:
        _acting.reset(token)


def install(engine: Engine) -> None:
    """Make `engine`'s connections SET ROLE to the acting user on checkout (PostgreSQL; once per engine)."""
    if engine.dialect.name != "postgresql" or engine.pool.__dict__.get(_INSTALLED):
        return
    engine.pool.__dict__[_INSTALLED] = True

    @event.listens_for(engine, "checkout")
    def _set_role(dbapi_connection, record, _proxy):  # type: ignore[no-untyped-def]
        name = _acting.get()
        if record.info.get("ipb_role") == name:
            return
        for key in _CACHED:
            record.info.pop(key, None)
        with dbapi_connection.cursor() as cursor:
            if name is None:
                cursor.execute("RESET ROLE")
            else:
                cursor.execute("SELECT set_config('role', %s, false)", (name,))
        dbapi_connection.commit()
        record.info["ipb_role"] = name
