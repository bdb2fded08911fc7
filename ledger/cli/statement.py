"""`ipb statement ...`: bank statements: import them, match their lines to payments, list what is left."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, progress, refusals, requires, settings
from ledger.cli.output import Column, Format, FormatOption, emit_json, listing, problem, say
from ledger.errors import InvalidInput
from ledger.formats.bank_statements import ColumnMapping, StatementLine, read_mapping, read_statement
from ledger.roles import Permission
from ledger.rules.matching import NearMiss
from ledger.services import statement_import as importing  # the command below is called statement_import
from ledger.services import statement_matching as matching

app = typer.Typer(
    help=summary("statement") + " CSV with a column mapping, or OFX. Nothing here posts to the ledger.\n\n"
         "Example: ipb statement import april.csv --account dp --mapping examples/bank/barclays-mapping.toml",
    no_args_is_help=True,
    add_completion=False,
)

AccountOption = Annotated[str, typer.Option(
    "--account", help="The bank account: a paying account code (e.g. dp) or a ledger asset account (e.g. bank:dp)")]
AccountFilter = Annotated[str | None, typer.Option("--account", help="Only this bank account (default: all)")]
ToleranceOption = Annotated[int | None, typer.Option(
    help="Bacs processing days a line's date may be from the payment's pay date: Monday to Friday, not a bank "
         "holiday in England and Wales nor a day in the file IPB_BACS_HOLIDAYS names; a weekend or holiday "
         "counts as the processing day before it (default: IPB_TOLERANCE_DAYS, else the config file's "
         "matching.tolerance_days, else 3)", show_default=False)]
DUPLICATE_COLUMNS = (
    Column("file line", lambda d: d.line.line),
    Column("date", lambda d: d.line.posted_on),
    Column("amount", lambda d: d.line.amount, money=True),
    Column("description", lambda d: d.line.description),
    Column("already held as line", lambda d: d.existing_id),
)


def _mapping(mapping: Path | None, flags: dict[str, Any]) -> ColumnMapping | None:
    given = {k: v for k, v in flags.items() if v is not None}
    if mapping is None and not given:
        return None
    if mapping is not None:
        given = {**read_mapping(mapping).model_dump(exclude_unset=True), **given}  # flags override the file
    if "date" not in given:
        raise InvalidInput("the column mapping needs --date-col (or `date = \"...\"` in the mapping file)")
    try:
        return ColumnMapping.model_validate(given)
    except ValidationError as exc:  # say it in one line
        raise InvalidInput(f"column mapping: {exc.errors()[0]['msg']}") from None


def _line_json(line: StatementLine) -> dict[str, object]:
    return {"line": line.line, "date": line.posted_on.isoformat(), "amount": line.amount,
            "description": line.description, "reference": line.reference, "bank_id": line.bank_id}


@app.command("import")
@refusals
@requires(Permission.BANK)
def statement_import(
    file: Annotated[Path, typer.Argument(help="Statement file: .csv (needs a mapping), or .ofx/.qfx",
                                         exists=False)],
    account: AccountOption,
    mapping: Annotated[Path | None, typer.Option(help="TOML file naming the CSV columns; see examples/bank/")] = None,
    date_col: Annotated[str | None, typer.Option(help="CSV column holding the date")] = None,
    date_format: Annotated[str | None, typer.Option(help="strptime format of the date, e.g. %d/%m/%Y "
                                                         "(default %Y-%m-%d)")] = None,
    amount_col: Annotated[str | None, typer.Option(help="One signed amount column: money out negative")] = None,
    paid_in_col: Annotated[str | None, typer.Option(help="Money-in column (with --paid-out-col)")] = None,
    paid_out_col: Annotated[str | None, typer.Option(help="Money-out column (with --paid-in-col)")] = None,
    negate: Annotated[bool, typer.Option(help="The amount column shows money out as positive")] = False,
    description_col: Annotated[str | None, typer.Option(help="Column with the description")] = None,
    reference_col: Annotated[str | None, typer.Option(help="Column with the payment reference")] = None,
    id_col: Annotated[str | None, typer.Option(help="Column with the bank's own transaction id")] = None,
    delimiter: Annotated[str | None, typer.Option(help="Field separator (default ,)")] = None,
    dry_run: Annotated[bool, typer.Option(help="Read and check the file, report new and duplicate lines, "
                                               "store nothing")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Import a bank statement, skipping lines already imported for the account.

    The same file again, or an overlapping period, is recognised line by line: by the bank's transaction
    id when the file has one, otherwise by date, amount, description, reference and how many identical
    lines the day has.

    A malformed row refuses the whole file, naming its line and column; nothing is stored. So does a
    line whose transaction id was imported before with a different date, amount, description or
    reference (case and spacing aside): the refusal names both and the statement it was first seen
    in. A bank line does not change, so ask the bank which is right before importing anything, e.g.
    refused: may.csv: line 3: bank transaction id 'T0002' was first seen in statement 1 (april.csv,
    line 3) with amount -845.50; now amount -945.50; nothing imported: ask the bank which is right

    A file already imported into a different account is imported with a warning naming that account
    and when (on stderr, and under "other_accounts" with --json). It warns rather than refuses: the
    earlier import may be the mistake, and a stored statement is never removed, so a refusal would
    block the correction.

    Examples:
      ipb statement import april.csv --account dp --mapping examples/bank/barclays-mapping.toml --dry-run
      ipb statement import april.csv --account dp --date-col Date --date-format %d/%m/%Y --amount-col Amount
      ipb statement import april.ofx --account bank:dp
    """
    columns = _mapping(mapping, {
        "date": date_col, "date_format": date_format, "amount": amount_col, "paid_in": paid_in_col,
        "paid_out": paid_out_col, "description": description_col, "reference": reference_col, "bank_id": id_col,
        "delimiter": delimiter, "negate": negate or None})
    statement = read_statement(file, columns)
    with progress() as bar:
        task = bar.add_task(f"importing {file.name}", total=max(1, len(statement.lines)))
        result = importing.import_statement(
            settings.engine, statement, account, actor=settings.who, dry_run=dry_run,
            on_progress=lambda done, total: bar.update(task, completed=done, total=total))
    if as_json:
        emit_json({"file": str(file), "account": result.account, "format": result.format, "sha256": result.sha256,
                   "period": [result.start, result.end], "dry_run": dry_run, "statement": result.statement_id,
                   "same_file_as": result.same_file_as, "new": [_line_json(x) for x in result.new],
                   "duplicates": [{**_line_json(d.line), "existing_line": d.existing_id} for d in result.duplicates],
                   "other_accounts": [{"statement": e.statement_id, "account": e.account,
                                       "imported_at": e.imported_at, "imported_by": e.imported_by}
                                      for e in result.other_accounts]})
    else:
        _print_import(file, result, dry_run)
    for earlier in result.other_accounts:
        problem(f"warning: this exact file was imported into {earlier.account} as statement {earlier.statement_id} "
                f"on {earlier.imported_at:%Y-%m-%d %H:%M} UTC by {earlier.imported_by}: check --account "
                f"{result.account} is the account this statement belongs to")


def _print_import(file: Path, result: importing.Imported, dry_run: bool) -> None:
    verb = "would import" if dry_run else "imported"
    where = f" as statement {result.statement_id}" if result.statement_id else ""
    say(f"{file.name} ({result.format}, {result.start} to {result.end}) for {result.account}: "
        f"{verb} {len(result.new)} new line{'s' if len(result.new) != 1 else ''}{where}, "
        f"{len(result.duplicates)} duplicate{'s' if len(result.duplicates) != 1 else ''} skipped"
        + (" (dry run: nothing stored)" if dry_run else ""))
    if result.same_file_as:
        say(f"this exact file was imported before as statement {result.same_file_as}")
    if result.duplicates:
        listing(result.duplicates[:20], DUPLICATE_COLUMNS, title="Duplicates")
        if len(result.duplicates) > 20:
            say(f"... and {len(result.duplicates) - 20} more (--json lists them all)")


@app.command("match")
@refusals
@requires(Permission.BANK)
def statement_match(
    account: AccountFilter = None,
    tolerance_days: ToleranceOption = None,
    dry_run: Annotated[bool, typer.Option(help="Show what would match; store nothing")] = False,
    post_returns: Annotated[bool, typer.Option(help="Reverse matched returns through the payments service "
                                                    "(--no-post-returns only lists them)")] = True,
    as_json: JsonFlag = False,
) -> None:
    """Match statement lines to payments sent to the bank (runs submitted or settled).

    Rules, in order: the payment's reference on the line with the same amount; a bulk debit equal to
    the total of a run's payments; the same amount within the tolerance when nothing else could match.
    The tolerance counts Bacs processing days (Monday to Friday, not a bank holiday in England and Wales
    nor a day in the file IPB_BACS_HOLIDAYS names), so a payment due on the Friday before a bank holiday
    Monday matches a line on the Tuesday with --tolerance-days 1. Every match says why. A credit carrying
    a settled payment's reference is its return: once matched, the payments service reverses the payment
    (as `ipb payment return` would), unless --no-post-returns. `ipb statement unmatched` says why a line
    nearly matching a payment did not.

    Examples:
      ipb statement match --dry-run
      ipb statement match --account dp --tolerance-days 5
    """
    tolerance_days = settings.tolerance_days if tolerance_days is None else tolerance_days
    with progress() as bar:
        task = bar.add_task("matching", total=None)
        result = matching.match_statements(
            settings.engine, actor=settings.who, account=account, tolerance_days=tolerance_days, dry_run=dry_run,
            on_progress=lambda done, total: bar.update(task, completed=done, total=total))
    returned = matching.post_returns(settings.engine, actor=settings.who, account=account) \
        if post_returns and not dry_run else []
    if as_json:
        emit_json(_match_json(result, returned, dry_run, tolerance_days))
    else:
        _print_matches(result, returned, dry_run)


def _match_json(result: matching.Matched, returned: list[matching.ReturnPosted], dry_run: bool,
                tolerance_days: int) -> dict[str, Any]:
    return {
        "dry_run": dry_run, "tolerance_days": tolerance_days, "rule_version": result.rule_version,
        "matches": [{"line": m.line, "match": result.match_ids.get(m.line), "rule": m.rule, "reason": m.reason,
                     "amount": result.lines[m.line].amount,
                     "payments": [{"payment": p, "direction": d} for p, d in m.expected]}
                    for m in result.matches],
        "unmatched_lines": list(result.unmatched_lines),
        "unmatched_payments": [{"payment": p, "direction": d} for p, d in result.unmatched_payments],
        "returns_to_post": list(result.returns_to_post),
        "returns": [{"payment": r.payment, "line": r.line, "posted": r.posted, "problem": r.problem or None}
                    for r in returned],
    }


def _print_matches(result: matching.Matched, returned: list[matching.ReturnPosted], dry_run: bool) -> None:
    if result.matches:
        columns = (
            Column("line", lambda m: m.line),
            Column("date", lambda m: result.lines[m.line].posted_on),
            Column("amount", lambda m: result.lines[m.line].amount, money=True),
            Column("payments", lambda m: ", ".join(f"{p}{' (return)' if d == 'return' else ''}"
                                                   for p, d in m.expected)),
            Column("rule", lambda m: m.rule),
            Column("reason", lambda m: m.reason),
        )
        listing(result.matches, columns, title="Would match" if dry_run else "Matched")
    say(f"{'would match' if dry_run else 'matched'} {len(result.matches)} line"
        f"{'s' if len(result.matches) != 1 else ''}; {len(result.unmatched_lines)} lines and "
        f"{len(result.unmatched_payments)} payments left unmatched (ipb statement unmatched)"
        + (" (dry run: nothing stored)" if dry_run else ""))
    for r in returned:
        if r.posted:
            say(f"payment {r.payment} came back (statement line {r.line}): return posted")
        else:
            problem(f"payment {r.payment} came back (statement line {r.line}) but its return is not posted: "
                      f"{r.problem}")
    if not returned:
        for pid in result.returns_to_post:
            problem(f"payment {pid} came back from the bank: its return is not posted yet")


LINE_COLUMNS = (
    Column("line", lambda x: x.id),
    Column("account", lambda x: x.account),
    Column("date", lambda x: x.posted_on),
    Column("amount", lambda x: x.amount, money=True),
    Column("description", lambda x: x.description),
    Column("reference", lambda x: x.reference),
)
EXPECTED_COLUMNS = (
    Column("payment", lambda p: p.id),
    Column("run", lambda p: p.run_id),
    Column("account", lambda p: p.account),
    Column("pay date", lambda p: p.pay_date),
    Column("amount", lambda p: -p.amount if p.direction == "out" else p.amount, money=True),
    Column("reference", lambda p: p.reference),
    Column("payee", lambda p: p.payee),
    Column("expected", lambda p: "going out" if p.direction == "out" else f"coming back ({p.status})"),
)


@app.command("unmatched")
@refusals
@requires(Permission.VIEW_ALL)
def statement_unmatched(account: AccountFilter = None, tolerance_days: ToleranceOption = None,
                        fmt: FormatOption = Format.TABLE, as_json: JsonFlag = False) -> None:
    """Statement lines matched to no payment, and payments sent but not yet seen on a statement.

    A line that nearly matches a payment says which and why not, judged by --tolerance-days as
    `ipb statement match` would, e.g. "reference and amount match payment 3, 4 processing days after
    its date: --tolerance-days 4" (then `ipb statement match --tolerance-days 4` matches it).

    --format csv prints the lines, a blank line, then the payments.

    Example: ipb statement unmatched --account dp
    """
    tolerance_days = settings.tolerance_days if tolerance_days is None else tolerance_days
    found = matching.unmatched(settings.engine, account, tolerance_days=tolerance_days)
    if as_json or fmt is Format.JSON:
        emit_json({"tolerance_days": found.tolerance_days,
                   "lines": [{"line": x.id, "account": x.account, "statement": x.statement_id, "date": x.posted_on,
                              "amount": x.amount, "description": x.description, "reference": x.reference,
                              "bank_id": x.bank_id, "near_miss": _near_json(found.near.get(x.id))}
                             for x in found.lines],
                   "payments": [{"payment": p.id, "direction": p.direction, "run": p.run_id, "account": p.account,
                                 "pay_date": p.pay_date, "amount": p.amount, "reference": p.reference,
                                 "payee": p.payee, "status": p.status} for p in found.payments]})
        return
    why = Column("why not matched", lambda x: found.near[x.id].reason if x.id in found.near else "")
    listing(found.lines, (*LINE_COLUMNS, why), title="Unmatched statement lines", fmt=fmt)
    if fmt is Format.CSV:
        print()
    listing(found.payments, EXPECTED_COLUMNS, title="Payments not seen on a statement", fmt=fmt)


def _near_json(near: NearMiss | None) -> dict[str, Any] | None:
    if near is None:
        return None
    return {"payment": near.expected[0], "direction": near.expected[1], "reason": near.reason,
            "tolerance_days": near.tolerance_days}


STATEMENT_COLUMNS = (
    Column("statement", lambda r: r.id),
    Column("account", lambda r: r.account),
    Column("file", lambda r: Path(r.source).name),
    Column("period", lambda r: f"{r.period_start}…{r.period_end}"),
    Column("lines", lambda r: r.lines),
    Column("duplicates", lambda r: r.duplicates),
    Column("matched", lambda r: r.matched),
    Column("imported by", lambda r: r.imported_by),
)


@app.command("list")
@refusals
@requires(Permission.VIEW_ALL)
def statement_list(account: AccountFilter = None, fmt: FormatOption = Format.TABLE, as_json: JsonFlag = False) -> None:
    """Imported statements: account, period, lines stored, duplicates skipped, lines matched.

    Example: ipb statement list --account dp
    """
    listing(importing.list_statements(settings.engine, account), STATEMENT_COLUMNS, title="Bank statements", fmt=fmt,
            as_json=as_json, to_json=lambda r: {
                "statement": r.id, "account": r.account, "file": r.source, "format": r.format,
                "period": [r.period_start, r.period_end], "lines": r.lines, "duplicates": r.duplicates,
                "matched": r.matched, "imported_by": r.imported_by, "imported_at": r.imported_at})
