"""Who may do what. Pure: a role grants a fixed set of permissions, nothing else.

Finance officers run the money; brokers log spend and view only the people assigned to
them; auditors read everything and verify, and write nothing; administrators manage users. A person (or
their representative: the same rights) sees only the budgets of the people linked to them, and writes nothing.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"
    BROKER = "broker"
    AUDITOR = "auditor"
    ADMIN = "admin"
    PERSON = "person"


class Relation(StrEnum):
    """How a user in the person role is linked to a person whose budget they see."""

    SELF = "self"
    REPRESENTATIVE = "representative"  # a family member, an advocate, a deputy: acts for the person


class Permission(StrEnum):
    VIEW_ALL = "view-all"  # ledger-wide reads: balances, trial balance, every person
    VIEW_PERSON = "view-person"  # one person's budget, plan and statement (brokers: assigned people only)
    VERIFY = "verify"  # audit verify, reconcile
    POST = "post"  # accounts, manual entries, reversals, holds
    ALLOCATE = "allocate"  # funders, people, pools, budgets, assessments
    PLAN = "plan"  # care and support plans
    SPEND = "spend"  # log spend against a plan line
    PAY = "pay"  # schedules, invoices, payment runs (maker), settlement, returns
    APPROVE = "approve"  # approve a payment run (checker: never its maker)
    BANK = "bank"  # import and match bank statements, recover surpluses
    PERIOD = "period"  # close periods, year-end close
    USERS = "users"  # add users, set roles, assign brokers, erase names


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.OFFICER: frozenset(Permission) - {Permission.USERS},
    Role.BROKER: frozenset({Permission.VIEW_PERSON, Permission.SPEND}),
    Role.AUDITOR: frozenset({Permission.VIEW_ALL, Permission.VIEW_PERSON, Permission.VERIFY}),
    Role.ADMIN: frozenset({Permission.USERS, Permission.VIEW_ALL, Permission.VIEW_PERSON}),
    Role.PERSON: frozenset({Permission.VIEW_PERSON}),
}

# People-scoped permissions: a broker holds them only for the people assigned to them, a person only for the
# people linked to them.
SCOPED = frozenset({Permission.VIEW_PERSON, Permission.SPEND})


def allows(role: Role, permission: Permission) -> bool:
    return permission in GRANTS[role]


def needs_assignment(role: Role, permission: Permission) -> bool:
    """True when `role` may use `permission` only for people assigned (a broker) or linked (a person) to the user."""
    return role in (Role.BROKER, Role.PERSON) and permission in SCOPED


def sees_identity(role: Role) -> bool:
    """Whether the role may see who a person is (NHS number, name) beside the pseudonymous reference: officers,
    who register people, and brokers, for the people assigned to them. Auditors and administrators work from
    the reference alone. A person sees their own (or, as representative, the represented person's)."""
    return allows(role, Permission.ALLOCATE) or role in (Role.BROKER, Role.PERSON)


def writes(role: Role) -> bool:
    """Whether the role holds any permission that writes; if not, its sessions are read-only."""
    return bool(GRANTS[role] - {Permission.VIEW_ALL, Permission.VIEW_PERSON, Permission.VERIFY})
