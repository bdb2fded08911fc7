"""Financial assessments as posted: the input the charging rule read, and what it decided.

One row per assessment that funded a budget (`ipb assess --allocate`): a re-assessment of the same
person and year adds a row with the next `version`, and the newest version is the current one. The
input is the charging rule's `Finances`, as canonical JSON (sorted keys, pence), so the same rule can be
run on it again (`ipb assess what-if`). Append-only (migration 0012) and tracked in the history chain.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ledger.models.base import Id, metadata

assessments = Table(
    "assessments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("person_id", ForeignKey("people.id"), nullable=False),
    Column("fy", Integer, nullable=False),  # the budget year it funded (start year)
    Column("version", Integer, nullable=False),  # 1, 2, ... per person and year; the newest is current
    Column("charge_from", Date, nullable=False),  # the date the charge applies from
    Column("case_input", Text, nullable=False),  # canonical JSON of the rule's input (Finances)
    Column("rule", String(60), nullable=False),
    Column("params_version", String(60), nullable=False),
    Column("weekly_charge", BigInteger, nullable=False),  # pence
    Column("weekly_cost", BigInteger, nullable=False),  # pence
    Column("entry_ids", JSON, nullable=False),  # the allocation entries it posted
    Column("council_source", String(80), nullable=False),  # what funded the council's part (council, pool:...)
    Column("person_source", String(80), nullable=False),  # the funder standing for the person's own money
    Column("assessed_by", String(80), nullable=False),
    Column("assessed_by_principal", String(200), nullable=False, server_default=""),
    Column("assessed_at", DateTime, nullable=False),  # UTC
    UniqueConstraint("person_id", "fy", "version"),
)
