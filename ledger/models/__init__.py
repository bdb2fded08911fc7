"""SQLAlchemy 2.0 typed tables. The schema itself is made only by Alembic migrations."""

from ledger.models.base import Base
from ledger.models.core import (
    Account,
    AccountBalance,
    JournalEntry,
    LedgerHead,
    PeriodClosure,
    Posting,
)
from ledger.models.parties import (
    Budget,
    BudgetComponent,
    Funder,
    Person,
    PersonName,
    Pool,
    PoolPartner,
)

__all__ = [
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
