"""SQLAlchemy Core tables. The schema itself is made only by Alembic migrations.

Tables are plain Core `Table`s on one MetaData (`metadata`): the project builds Core statements
only, so it never imports the ORM. A command runs once per process, so each module's tables load
when first asked for (`from ledger.models import accounts` loads core.py): `ipb budget show` does
not pay for the payment and bank tables. `all_tables()` loads every module for what needs the
whole schema at once (Alembic's autogenerate, the schema test).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData

from ledger.models.base import metadata

if TYPE_CHECKING:
    from ledger.models.access import broker_assignments, users
    from ledger.models.core import account_balances, accounts, journal_entries, ledger_head, period_closures, postings
    from ledger.models.parties import budget_components, budgets, funders, people, person_names, pool_partners, pools

MODULES = ("core", "parties", "access", "bank", "payments", "plans", "trust", "assessments", "web_access")
# the names `from ledger.models import ...` offers; the other tables are imported from their own module.
# No module may share a name offered here: importing ledger.models.X sets this package's attribute X to
# the module, which would then hide the table X (hence access.py, not users.py, holds `users`).
_HOMES = {
    **dict.fromkeys(("accounts", "account_balances", "journal_entries", "ledger_head", "period_closures", "postings"),
                    "core"),
    **dict.fromkeys(("budgets", "budget_components", "funders", "people", "person_names", "pools", "pool_partners"),
                    "parties"),
    **dict.fromkeys(("broker_assignments", "users"), "access"),
}

__all__ = ["account_balances", "accounts", "all_tables", "broker_assignments", "budget_components", "budgets",
           "funders", "journal_entries", "ledger_head", "metadata", "people", "period_closures", "person_names",
           "pool_partners", "pools", "postings", "users"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ledger.models' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ledger.models.{home}"), name)


def all_tables() -> MetaData:
    """`metadata` with every table of the schema on it."""
    for module in MODULES:
        importlib.import_module(f"ledger.models.{module}")
    return metadata
