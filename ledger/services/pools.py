"""Section 75 pooled budgets: create a pool, take contributions, close the year with the risk share.

Accounts of a pool X:
  pool:X:unallocated                      asset: money in the pool not yet allocated to anyone
  pool:X:partner:F:contributions          equity: what partner F paid in
  pool:X:partner:F:risk-share             equity: F's part of the year-end over- (credit) or
                                          underspend (debit: returned or carried forward)
So, always: sum of partner equity = unallocated + allocations out of the pool - recoveries into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine, insert, select, update

from ledger import calendar, chart
from ledger.calendar import default_day, financial_year, in_year
from ledger.domain import FunderKind, RiskShare, YearEnd
from ledger.errors import AccountExists, InvalidInput, NotAllowed
from ledger.identifiers import code
from ledger.journal import AccountType, Draft, Line
from ledger.models import pool_partners, pools
from ledger.rules.risk_share import WHOLE, Shares, share
from ledger.services.accounts import AccountSpec, close_account_in, ensure_in
from ledger.services.journal import Posted, Request, new_key, write_in
from ledger.storage import reads
from ledger.storage.lookup import FunderRow, PoolInfo, funder_in, open_pool_in, pool_in

POOL_PARTNER_KINDS = frozenset({FunderKind.ICB, FunderKind.COUNCIL, FunderKind.EDUCATION})


def create_pool(
    engine: Engine,
    pool: str,
    *,
    name: str,
    fy: int,
    host: str,
    partners: Sequence[tuple[str, int | None]],
    risk_share: RiskShare = RiskShare.PROPORTIONAL,
    year_end: YearEnd = YearEnd.RETURN,
    allow_overspend: bool = False,
) -> PoolInfo:
    """Create a pool for financial year `fy` (starting 1 April fy) hosted by one of its partners."""
    code(pool, "pool code")
    codes = _partner_codes(host, partners)
    _check_fixed_shares(risk_share, partners)
    opened = financial_year(fy).start
    with engine.begin() as conn:
        if conn.execute(select(pools.c.id).where(pools.c.code == pool)).first():
            raise AccountExists(f"pool {pool} already exists", pool=pool)
        funders = _partner_funders(conn, codes)
        ids = _open_pool_accounts(conn, pool, name, codes, opened, allow_overspend)
        pool_id = conn.execute(
            insert(pools).values(
                code=pool, name=name, fy=fy, host_funder_id=funders[host].id, risk_share=str(risk_share),
                year_end=str(year_end), allow_overspend=allow_overspend,
                unallocated_account_id=ids[chart.pool_unallocated(pool)],
            )
        ).inserted_primary_key[0]
        _add_partners(conn, pool, pool_id, partners, funders, ids)
        return pool_in(conn, pool)


def _partner_codes(host: str, partners: Sequence[tuple[str, int | None]]) -> list[str]:
    """The partners' funder codes: at least one, each named once, the host among them."""
    codes = [p for p, _ in partners]
    if len(set(codes)) != len(codes) or not codes:
        raise InvalidInput(f"a pool needs partners, each named once; got {codes}")
    if host not in codes:
        raise InvalidInput(f"the host {host} must be one of the partners {codes}", host=host)
    return codes


def _partner_funders(conn: Connection, codes: list[str]) -> dict[str, FunderRow]:
    """Each partner's funder, which must be one a section 75 agreement can be made with."""
    funders = {p: funder_in(conn, p) for p in codes}
    for partner, funder in funders.items():
        if funder.kind not in POOL_PARTNER_KINDS:
            raise NotAllowed(
                f"{partner} is a {funder.kind} funder; section 75 partners are NHS bodies and councils",
                partner=partner,
            )
    return funders


def _open_pool_accounts(conn: Connection, pool: str, name: str, codes: list[str], opened: date,
                        allow_overspend: bool) -> dict[str, int]:
    """The pool's unallocated account and each partner's contributions and risk-share accounts: code -> id."""
    specs = [AccountSpec(chart.pool_unallocated(pool), AccountType.ASSET, opened, name=f"{name}: unallocated",
                         non_negative=not allow_overspend)]
    for partner in codes:
        specs.append(AccountSpec(chart.pool_contributions(pool, partner), AccountType.EQUITY, opened))
        specs.append(AccountSpec(chart.pool_risk_share(pool, partner), AccountType.EQUITY, opened))
    return ensure_in(conn, specs)


def _add_partners(conn: Connection, pool: str, pool_id: int, partners: Sequence[tuple[str, int | None]],
                  funders: dict[str, FunderRow], ids: dict[str, int]) -> None:
    """A row per partner: its funder, its fixed share (if any) and its two accounts."""
    conn.execute(
        insert(pool_partners),
        [
            {
                "pool_id": pool_id,
                "funder_id": funders[partner].id,
                "fixed_share_bp": bp,
                "contributions_account_id": ids[chart.pool_contributions(pool, partner)],
                "risk_share_account_id": ids[chart.pool_risk_share(pool, partner)],
            }
            for partner, bp in partners
        ],
    )


def _check_fixed_shares(rule: RiskShare, partners: Sequence[tuple[str, int | None]]) -> None:
    shares = [bp for _, bp in partners]
    if rule is RiskShare.FIXED:
        if any(bp is None for bp in shares) or sum(bp or 0 for bp in shares) != WHOLE:
            raise InvalidInput(
                "a fixed risk share needs a share for every partner adding up to 100%, "
                f"got {dict(partners)}", shares=dict(partners)
            )
    elif any(bp is not None for bp in shares):
        raise InvalidInput("fixed shares are only for a pool whose risk share is fixed")


def contribute(
    engine: Engine, pool: str, partner: str, amount: int, *, on: date | None = None, actor: str,
    key: str | None = None, memo: str = "",
) -> Posted:
    """A partner pays into the pool, on a day inside the pool's year (by default today if inside it, else the
    year's first day: see `ledger.calendar.default_day`)."""
    if amount <= 0:
        raise InvalidInput("a contribution must be a positive amount; correct a wrong one by reversing it",
                           amount=amount)
    with engine.begin() as conn:
        info = open_pool_in(conn, pool)
        year = financial_year(info.fy)
        on = in_year(on, year) if on is not None else default_day(year, calendar.today(), incoming=True)
        if partner not in info.partners:
            raise NotAllowed(f"{partner} is not a partner of pool {pool} ({', '.join(info.partners)})",
                             partner=partner, pool=pool)
        draft = Draft(
            (Line(chart.pool_unallocated(pool), amount), Line(chart.pool_contributions(pool, partner), -amount)),
            on, "contribution", memo or f"{partner} contribution to {pool}", meta={"pool": pool, "partner": partner},
        )
        return write_in(conn, [Request(draft, key or new_key())], actor=actor)[0]


def partner_contributions(conn: Connection, info: PoolInfo) -> dict[str, int]:
    states = reads.account_rows(conn, [chart.pool_contributions(info.code, p) for p in info.partners])
    return {p: states[chart.pool_contributions(info.code, p)].state.normal_balance for p in info.partners}


@dataclass(frozen=True, slots=True)
class YearEndResult:
    pool: str
    balance: int  # unallocated at close: > 0 underspend, < 0 overspend
    shares: Shares
    entry: Posted | None
    carried_to: str | None


def close_year(
    engine: Engine, pool: str, *, on: date | None = None, actor: str, carry_to: str | None = None
) -> YearEndResult:
    """Share the pool's over- or underspend between partners by its risk-share rule, then close it.

    An underspend is returned to partners or, if the pool says so, carried into `carry_to`,
    the next year's pool; an overspend is met by partners. Splits are exact to the penny.
    The year end is dated inside the pool's year: `on`, by default the year's last day.
    """
    with engine.begin() as conn:
        info = open_pool_in(conn, pool)
        year = financial_year(info.fy)
        on = in_year(on, year) if on is not None else year.end
        unallocated = reads.account_rows(conn, [chart.pool_unallocated(pool)])[chart.pool_unallocated(pool)].state
        if unallocated.held:
            raise NotAllowed(f"pool {pool} has holds open; post or void them before the year end", pool=pool)
        balance = unallocated.normal_balance
        shares = share(balance, info.risk_share, partner_contributions(conn, info),
                       info.fixed_shares)
        target = _carry_target(conn, info, carry_to) if balance > 0 else None
        lines = _year_end_lines(pool, balance, shares, target)
        posted = None
        if lines:
            draft = Draft(lines, on, "pool-year-end", f"{pool} year end: {shares.reason}",
                          meta={"pool": pool, "carried_to": target or ""})
            posted = write_in(conn, [Request(draft, f"pool-year-end:{pool}")], actor=actor)[0]
        conn.execute(update(pools).where(pools.c.id == info.id).values(closed_on=on))
        # emptied by the year end; closing it refuses anything that would move a closed pool's figures
        close_account_in(conn, chart.pool_unallocated(pool), on)
    return YearEndResult(pool, balance, shares, posted, target)


def _carry_target(conn: Connection, info: PoolInfo, carry_to: str | None) -> str | None:
    if info.year_end is YearEnd.RETURN:
        if carry_to:
            raise NotAllowed(f"pool {info.code} returns its underspend; it does not carry forward")
        return None
    if not carry_to:
        raise InvalidInput(f"pool {info.code} carries its underspend forward: name the next year's pool")
    target = open_pool_in(conn, carry_to)
    if target.fy != info.fy + 1:
        raise NotAllowed(f"{carry_to} is for {financial_year(target.fy).label}, not the year after "
                         f"{financial_year(info.fy).label}")
    missing = set(info.partners) - set(target.partners)
    if missing:
        raise NotAllowed(f"{carry_to} lacks partners {sorted(missing)} to carry their shares to")
    return carry_to


def _year_end_lines(pool: str, balance: int, shares: Shares, target: str | None) -> tuple[Line, ...]:
    """Underspend (balance > 0): debit each partner's risk share, credit the pool. Overspend: the reverse."""
    if balance == 0:
        return ()
    lines = [Line(chart.pool_unallocated(pool), -balance)]
    lines += [Line(chart.pool_risk_share(pool, p), part) for p, part in shares.parts.items() if part]
    if target:
        lines.append(Line(chart.pool_unallocated(target), balance))
        lines += [Line(chart.pool_contributions(target, p), -part) for p, part in shares.parts.items() if part]
    return tuple(lines)
