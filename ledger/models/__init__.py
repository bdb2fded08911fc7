"""SQLAlchemy 2.0 typed tables. The schema itself is made only by Alembic migrations.

Declaring a mapped table costs a few milliseconds, and a command runs once per process, so each
module's tables load when first asked for (`from ledger.models import Account` loads core.py):
`ipb budget show` does not pay for the payment and bank tables. `all_tables()` loads every module
for what needs the whole schema at once (Alembic's autogenerate, the schema test).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData

from ledger.models.base import Base

if TYPE_CHECKING:
    from ledger.models.core import Account, AccountBalance, JournalEntry, LedgerHead, PeriodClosure, Posting
    from ledger.models.parties import Budget, BudgetComponent, Funder, Person, PersonName, Pool, PoolPartner
    from ledger.models.users import BrokerAssignment, User

MODULES = ("core", "parties", "users", "bank", "payments", "plans")
# the names `from ledger.models import ...` offers; the other tables are imported from their own module
_HOMES = {
    **dict.fromkeys(("Account", "AccountBalance", "JournalEntry", "LedgerHead", "PeriodClosure", "Posting"), "core"),
    **dict.fromkeys(("Budget", "BudgetComponent", "Funder", "Person", "PersonName", "Pool", "PoolPartner"), "parties"),
    **dict.fromkeys(("BrokerAssignment", "User"), "users"),
}

__all__ = ["Account", "AccountBalance", "Base", "BrokerAssignment", "Budget", "BudgetComponent", "Funder",
           "JournalEntry", "LedgerHead", "PeriodClosure", "Person", "PersonName", "Pool", "PoolPartner", "Posting",
           "User", "all_tables"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ledger.models' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ledger.models.{home}"), name)


def all_tables() -> MetaData:
    """Base.metadata with every table of the schema on it."""
    for module in MODULES:
        importlib.import_module(f"ledger.models.{module}")
    return Base.metadata
