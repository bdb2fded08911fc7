"""Users and roles: who is acting, and may they do this?

The first user of a new ledger must be an administrator (nobody else exists to add one);
after that only administrators add users, change roles, assign brokers to people and link a person (or their
representative) to the people whose budgets they may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from ledger.errors import AccountExists, Forbidden, InvalidInput, UnknownParty
from ledger.history import Op
from ledger.identifiers import code
from ledger.models import broker_assignments, people, users
from ledger.models.access import person_links
from ledger.roles import Permission, Relation, Role, allows, needs_assignment
from ledger.services.database_roles import map_login
from ledger.services.history import track
from ledger.storage.engine import reading
from ledger.storage.identity import login, trusted


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    role: Role
    people: frozenset[str] | None  # a broker's assigned people, a person's linked ones; None: not limited to any


@dataclass(frozen=True, slots=True)
class UserRow:
    name: str
    role: Role
    active: bool
    people: tuple[str, ...]  # a broker's assigned people, a person's linked ones


def actor_in(conn: Connection, name: str) -> Actor:
    """The active user called `name`, or a refusal naming how to become one."""
    row = conn.execute(select(users).where(users.c.name == name)).first()
    if row is None:
        raise Forbidden(f"{name!r} is not a user of this ledger; an administrator adds users with "
                        f"`ipb user add`", user=name)
    if not row.active:
        raise Forbidden(f"user {name!r} is deactivated", user=name)
    role = Role(row.role)
    return Actor(name, role, _people_of(conn, row.id, role))


def acting_user(engine: Engine, asked: str | None, *, default: str) -> str:
    """Who is acting. On PostgreSQL a login that is an ipb user acts as itself: naming anyone else is refused.
    Otherwise (SQLite, one trust domain; the ledger's owner; a read-only role auditors share) the name asked
    for, else `default`: the server refuses any write such a login may not make under that name."""
    with reading(engine) as conn:
        name = login(conn)
        if name is None or trusted(conn) or conn.execute(select(users.c.id).where(users.c.name == name)).first() \
                is None:
            return asked or default
    if asked and asked != name:
        raise Forbidden(f"you are connected to the database as {name}: acting as {asked} is refused (on "
                        f"PostgreSQL each user connects as their own login; drop --as, or connect as {asked})",
                        user=asked, login=name)
    return name


def authorize(engine: Engine, name: str, permission: Permission, person: str | None = None, *,
              listing: bool = False) -> Actor:
    """The acting user if their role grants `permission` (for `person`, when it is people-scoped; for a `listing`
    of people, a broker passes and the listing shows only `Actor.people`)."""
    with reading(engine) as conn:
        actor = actor_in(conn, name)
    check(actor, permission, person, listing=listing)
    return actor


def check(actor: Actor, permission: Permission, person: str | None = None, *, listing: bool = False) -> None:
    if not allows(actor.role, permission):
        raise Forbidden(f"{actor.name} is {_a(actor.role)} and may not {permission}", user=actor.name,
                        role=str(actor.role), permission=str(permission))
    if needs_assignment(actor.role, permission):
        if person is None and listing:
            return
        held = "assigned" if actor.role is Role.BROKER else "linked"
        if person is None:
            raise Forbidden(f"{actor.name} is {_a(actor.role)}: name one of their {held} people", user=actor.name,
                            permission=str(permission))
        if actor.people is not None and person not in actor.people:
            raise Forbidden(f"{actor.name} is not {held} to person {person}", user=actor.name, person=person,
                            permission=str(permission))


def add_user(engine: Engine, name: str, role: Role, *, actor: str) -> UserRow:
    """Add a user. The very first user must be an administrator, and may add themselves."""
    code(name, "user name")
    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(users)).scalar_one() == 0:
            if role is not Role.ADMIN:
                raise InvalidInput(f"the first user must be an admin (asked for {role}): "
                                   f"`ipb user add NAME --role admin`", role=str(role))
        else:
            check(actor_in(conn, actor), Permission.USERS)
        if conn.execute(select(users.c.id).where(users.c.name == name)).first():
            raise AccountExists(f"user {name!r} already exists", user=name)
        user_id = conn.execute(insert(users).values(name=name, role=str(role), active=True, added_by=actor,
                                                    added_at=datetime.now(UTC).replace(tzinfo=None))
                               ).inserted_primary_key[0]
        track(conn, "users", user_id, actor=actor, op=Op.INSERT)
        map_login(conn, name)
    return UserRow(name, role, True, ())


def set_active(engine: Engine, name: str, active: bool, *, actor: str) -> None:
    with engine.begin() as conn:
        check(actor_in(conn, actor), Permission.USERS)
        if name == actor and not active:
            raise InvalidInput("you cannot deactivate yourself", user=name)
        user_id = conn.execute(update(users).where(users.c.name == name).values(active=active)
                               .returning(users.c.id)).scalar()
        if user_id is None:
            raise UnknownParty(f"no user {name!r}", user=name)
        track(conn, "users", user_id, actor=actor)
        map_login(conn, name)


def assign(engine: Engine, broker: str, refs: list[str], *, actor: str, remove: bool = False) -> None:
    """Assign people to (or with `remove`, take them from) a broker."""
    with engine.begin() as conn:
        check(actor_in(conn, actor), Permission.USERS)
        user = conn.execute(select(users).where(users.c.name == broker)).first()
        if user is None or Role(user.role) is not Role.BROKER:
            raise InvalidInput(f"{broker!r} is not a broker", user=broker)
        ids = _person_ids(conn, refs)
        held = set(_assigned(conn, user.id))
        changing = sorted(set(refs) & held) if remove else sorted(set(refs) - held)
        keys = [{"user_id": user.id, "person_id": ids[p]} for p in changing]
        if remove:
            conn.execute(delete(broker_assignments).where(broker_assignments.c.user_id == user.id,
                                                          broker_assignments.c.person_id.in_(ids.values())))
        elif keys:
            conn.execute(insert(broker_assignments), keys)
        for key in keys:
            track(conn, "broker_assignments", key, actor=actor, op=Op.DELETE if remove else Op.INSERT)


def link(engine: Engine, name: str, refs: list[str], relation: Relation, *, actor: str,
         remove: bool = False) -> None:
    """Link people to (or with `remove`, unlink them from) a user in the person role: the person themselves or
    their representative, who may then see those people's budgets and nothing else."""
    with engine.begin() as conn:
        check(actor_in(conn, actor), Permission.USERS)
        user = conn.execute(select(users).where(users.c.name == name)).first()
        if user is None or Role(user.role) is not Role.PERSON:
            raise InvalidInput(f"{name!r} is not a user in the person role (`ipb user add {name} --role person`)",
                               user=name)
        ids = _person_ids(conn, refs)
        held = dict(conn.execute(select(person_links.c.person_id, person_links.c.relation)
                                 .where(person_links.c.user_id == user.id)).all())
        wanted = {ids[p] for p in refs}
        changing = sorted(wanted & held.keys()) if remove else sorted(i for i in wanted if held.get(i) != relation)
        if remove:
            conn.execute(delete(person_links).where(person_links.c.user_id == user.id,
                                                    person_links.c.person_id.in_(changing)))
        for person_id in changing:
            key = {"user_id": user.id, "person_id": person_id}
            if remove:
                op = Op.DELETE
            elif person_id in held:
                conn.execute(update(person_links).where(person_links.c.user_id == user.id,
                                                        person_links.c.person_id == person_id)
                             .values(relation=str(relation)))
                op = Op.UPDATE
            else:
                conn.execute(insert(person_links).values(**key, relation=str(relation)))
                op = Op.INSERT
            track(conn, "person_links", key, actor=actor, op=op)


def role_of(engine: Engine, name: str) -> Role:
    """The role of the active user `name` (a refusal if there is none): where the web lands them."""
    with reading(engine) as conn:
        return actor_in(conn, name).role


def linked_people(engine: Engine, name: str) -> dict[str, Relation]:
    """The people linked to user `name` (person ref -> how: themselves, or as representative)."""
    with reading(engine) as conn:
        return {ref: Relation(relation) for ref, relation in conn.execute(
            select(people.c.ref, person_links.c.relation).join(person_links, person_links.c.person_id == people.c.id)
            .join(users, users.c.id == person_links.c.user_id).where(users.c.name == name).order_by(people.c.ref))}


def _person_ids(conn: Connection, refs: list[str]) -> dict[str, int]:
    ids = dict(conn.execute(select(people.c.ref, people.c.id).where(people.c.ref.in_(refs))).all())
    unknown = sorted(set(refs) - ids.keys())
    if unknown:
        raise UnknownParty(f"no person {', '.join(unknown)}", people=unknown)
    return ids


def list_users(engine: Engine) -> list[UserRow]:
    with reading(engine) as conn:
        rows = conn.execute(select(users).order_by(users.c.name)).all()
        return [UserRow(r.name, Role(r.role), r.active, tuple(sorted(_people_of(conn, r.id, Role(r.role)) or ())))
                for r in rows]


def _people_of(conn: Connection, user_id: int, role: Role) -> frozenset[str] | None:
    """The people a broker is assigned or a person linked to; None for the roles not limited to any."""
    if role is Role.BROKER:
        return frozenset(_assigned(conn, user_id))
    if role is Role.PERSON:
        return frozenset(conn.execute(select(people.c.ref).join(person_links, person_links.c.person_id == people.c.id)
                                      .where(person_links.c.user_id == user_id)).scalars())
    return None


def _assigned(conn: Connection, user_id: int) -> list[str]:
    return list(conn.execute(
        select(people.c.ref).join(broker_assignments, broker_assignments.c.person_id == people.c.id)
        .where(broker_assignments.c.user_id == user_id)
    ).scalars())


def _a(role: Role) -> str:
    """'an admin', 'an officer', 'a broker': the role with its article, for a refusal read by people."""
    return f"{'an' if str(role)[0] in 'aeiou' else 'a'} {role}"
