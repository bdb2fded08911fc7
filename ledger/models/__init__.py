"""SQLAlchemy 2.0 typed tables. The schema itself is made only by Alembic migrations."""

from ledger.models.base import Base
from ledger.models.core import Account, AccountBalance, JournalEntry, LedgerHead, PeriodClosure, Posting
from ledger.models.parties import Budget, BudgetComponent, Funder, Person, PersonName, Pool, PoolPartner
from ledger.models.users import BrokerAssignment, User

# Issue-5 tables live in their own modules; import them so every table is on Base.metadata.
from ledger.models import bank, payments, plans  # noqa: E402,F401  isort: skip

__all__ = [
    "BrokerAssignment",
    "User",
    "Budget",
    "BudgetComponent",
    "Funder",
    "Person",
    "PersonName",
    "Pool",
    "PoolPartner",
    "Account",
    "AccountBalance",
    "Base",
    "JournalEntry",
    "LedgerHead",
    "PeriodClosure",
    "Posting",
]
