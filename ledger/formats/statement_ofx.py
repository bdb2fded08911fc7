"""OFX (and QFX) bank statements, read with ofxtools when a file needs it. Pure: no database."""

from __future__ import annotations

import io
import re
from decimal import Decimal, InvalidOperation

from ledger.calendar import in_ledger_years
from ledger.errors import InvalidInput
from ledger.formats.statement_lines import Problems, Statement, StatementLine, check_ids, make_statement
from ledger.money import MAX_AMOUNT, minor_digits

_STMTTRN = re.compile(rb"<STMTTRN>", re.IGNORECASE)


def parse_ofx(data: bytes, source: str = "statement.ofx") -> Statement:
    """Parse an OFX (1.x SGML or 2.x XML) bank or card statement with ofxtools; one statement per file."""
    try:
        from ofxtools.Parser import OFXTree  # imported here: only OFX files need it
    except ImportError:
        raise InvalidInput(f"{source}: reading OFX needs the optional ofxtools package: "
                           f"pip install 'ipb[ofx]' (or export the statement as CSV)") from None

    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
        ofx = tree.convert()
    except Exception as exc:  # ofxtools raises ParseError, ValueError, KeyError... for malformed input
        raise InvalidInput(f"{source}: not a readable OFX statement: {exc}; nothing imported", file=source,
                           line=None, column=None) from None
    statements = list(getattr(ofx, "statements", []) or [])
    if len(statements) != 1:
        raise InvalidInput(f"{source}: expected one statement in the OFX file, found {len(statements)}",
                           file=source, line=None, column=None)
    stmt = statements[0]
    currency = str(getattr(stmt, "curdef", None) or "GBP").upper()
    places = minor_digits(currency)
    starts = [data[: m.start()].count(b"\n") + 1 for m in _STMTTRN.finditer(data)]
    problems = Problems(source)
    lines: list[StatementLine] = []
    transactions = list(stmt.banktranlist or [])
    for position, trn in enumerate(transactions):
        number = starts[position] if position < len(starts) else position + 1
        amount = _ofx_amount(trn.trnamt, places, number, problems)
        if amount is None:
            continue
        posted = trn.dtposted.date() if trn.dtposted else None
        if posted is None:
            problems.add(number, "DTPOSTED", "no posting date")
            continue
        try:
            in_ledger_years(posted)
        except InvalidInput as exc:
            problems.add(number, "DTPOSTED", exc.reason)
            continue
        description = " ".join(str(part) for part in (trn.name, trn.memo) if part)
        reference = str(trn.refnum or trn.checknum or "")
        lines.append(StatementLine(number, posted, amount, description, reference, str(trn.fitid) or None))
    check_ids(lines, "FITID", problems)
    problems.raise_if_any()
    tranlist = stmt.banktranlist
    account = getattr(stmt, "account", None)
    return make_statement(source, data, "ofx", currency, lines,
                      tranlist.dtstart.date() if tranlist is not None and tranlist.dtstart else None,
                      tranlist.dtend.date() if tranlist is not None and tranlist.dtend else None,
                      str(getattr(account, "acctid", "") or "") or None)


def _ofx_amount(value: object, places: int, line: int, problems: Problems) -> int | None:
    """ofxtools gives a Decimal; take it exactly or refuse it (never float)."""
    try:
        amount = Decimal(str(value))
        scaled = amount.scaleb(places)
        if scaled != scaled.to_integral_value():
            problems.add(line, "TRNAMT", f"amount {value} has more than {places} decimal places")
            return None
    except (InvalidOperation, ValueError):
        problems.add(line, "TRNAMT", f"malformed amount {value!r}")
        return None
    if scaled == 0:
        problems.add(line, "TRNAMT", "amount is zero")
        return None
    if not scaled.is_finite() or abs(scaled) > MAX_AMOUNT:
        problems.add(line, "TRNAMT", f"amount {value} is beyond the largest amount the ledger takes")
        return None
    return int(scaled)
