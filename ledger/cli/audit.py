"""`ipb audit ...`: prove the books unchanged: the hash chains, every balance, and signed checkpoints."""

from __future__ import annotations

import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ledger.cli.app import summary
from ledger.cli.common import JsonFlag, progress, refusals, requires, settings
from ledger.cli.output import emit_json, problem, say
from ledger.errors import InvalidInput
from ledger.reports.verify import Verification, verify_at
from ledger.reports.verify import verify as verify_ledger
from ledger.roles import Permission

if TYPE_CHECKING:  # cryptography is loaded only when a checkpoint log is read
    from ledger.formats.checkpoints import SignedCheckpoint

app = typer.Typer(
    help=summary("audit") + " Signed checkpoints, kept outside the database, prove nobody re-wrote them.\n\n"
         "Example: ipb audit verify --log /secure/ipb-checkpoints.log --public-key /secure/keys/audit.pub",
    no_args_is_help=True,
    add_completion=False,
)

LogOption = Annotated[Path | None, typer.Option(
    "--log", help="The checkpoint log (kept outside the database); with --public-key, every signed head is checked",
    show_default=False)]
PublicKeyOption = Annotated[Path | None, typer.Option(
    "--public-key", help="The public key the checkpoints were signed with (audit.pub from `ipb audit keygen`)",
    show_default=False)]


@app.command("verify")
@refusals
@requires(Permission.VERIFY)
def verify(
    at: Annotated[str | None, typer.Option(
        "--at", metavar="ENTRY:HASH",
        help="The chain head a statement or export was produced at (printed on it): prove the chain up to "
             "that entry is unchanged and still ends in that hash. Balances are not compared.")] = None,
    log: LogOption = None,
    public_key: PublicKeyOption = None,
    since_checkpoint: Annotated[bool, typer.Option(
        "--since-checkpoint", help="Check only the newest checkpoint in --log, then re-walk the journal from the "
        "entry it signed on (needs --log and --public-key); balances and the history are checked in full")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Recompute the hash chains and every balance; compare the tables with their history. Exit 1 on any break.

    With --log and --public-key, also check every signed checkpoint: its signature, and that the
    chains still pass through the head it signed (a ledger shorter than a checkpoint, or different
    from it, fails naming the checkpoint). With --since-checkpoint, check only the newest one and
    re-hash the journal from the entry it signed on: the entries before it are vouched for by its
    signature (if it does not hold, the whole journal is walked). With --at ENTRY:HASH, check only
    the chain up to ENTRY against the head a report carries.

    Example: ipb audit verify --log /secure/ipb-checkpoints.log --public-key /secure/keys/audit.pub --since-checkpoint
    """
    anchor = _anchor(at) if at else None
    signed, key = _checkpoints(log, public_key)
    if since_checkpoint:
        _since_checks(anchor, signed, log)
    with progress() as bar:
        task = bar.add_task("verifying chain", total=None)
        step = lambda done, total: bar.update(task, completed=done, total=total)  # noqa: E731
        result = verify_at(settings.engine, *anchor, step) if anchor else verify_ledger(
            settings.engine, step, checkpoints=signed, key=key, since_checkpoint=since_checkpoint)
    if since_checkpoint:
        signed = signed[-1:]
    if as_json:
        emit_json({"ok": result.ok, "at": at, "entries": result.entries, "first_entry": result.first_entry,
                   "head_hash": result.head_hash,
                   "history": result.history, "history_hash": result.history_hash, "checkpoints": len(signed),
                   "first_break": None if result.first_break is None else
                   {"entry": result.first_break.entry, "problem": result.first_break.problem},
                   "balance_mismatches": [asdict(m) for m in result.mismatches], "problems": result.problems})
    else:
        if since_checkpoint:
            _print_since(result, signed[0])
        _print(result, anchor, len(signed))
    if not result.ok:
        raise typer.Exit(1)


def _since_checks(anchor: tuple[int, str] | None, signed: list[SignedCheckpoint], log: Path | None) -> None:
    if anchor:
        raise InvalidInput("--since-checkpoint and --at check different things: give one")
    if log is None:
        raise InvalidInput("--since-checkpoint takes --log and --public-key: the checkpoint to start from, and "
                           "the key it was signed with")
    if not signed:
        raise InvalidInput(f"{log} holds no checkpoint to start from: take one with `ipb audit checkpoint`")


def _print_since(result: Verification, newest: SignedCheckpoint) -> None:
    cp = newest.checkpoint
    name = f"the newest checkpoint (line {newest.line}, {cp.at:%Y-%m-%d %H:%M:%S} UTC, by {cp.signer})"
    if result.first_entry > 1:
        last = result.first_entry + result.entries - 1
        say(f"re-walked entries {result.first_entry} to {last}; entries 1 to {result.first_entry - 1} were not "
            f"re-walked: {name} vouches for them (entry {cp.entry} still has the hash it signed)")
    else:
        say(f"re-walked the whole journal ({result.entries} entries): {name} "
            + ("signed an empty journal" if cp.entry == 0 else "could not vouch for the entries before it"))
    say("balances, postings and the history chain were checked in full; older checkpoints in the log were not")


def _checkpoints(log: Path | None, public_key: Path | None):  # type: ignore[no-untyped-def]
    if (log is None) != (public_key is None):
        raise InvalidInput("checking checkpoints takes both --log and --public-key")
    if log is None or public_key is None:
        return [], None
    from ledger.formats.checkpoints import public_key as load_key
    from ledger.formats.checkpoints import read_log
    from ledger.formats.documents import read_file, utf8_text

    return read_log(utf8_text(read_file(log), str(log)), str(log)), load_key(read_file(public_key))


def _print(result: Verification, anchor: tuple[int, str] | None, checkpoints: int) -> None:
    say(f"{result.entries} entries checked; chain head {result.head_hash}")
    if not anchor:
        say(f"{result.history} history records checked; history head {result.history_hash}"
            + (f"; {checkpoints} signed checkpoints checked" if checkpoints else ""))
    if anchor and result.ok:
        say(f"verified: entries 1 to {anchor[0]} are unchanged and end in the hash the report was produced at",
            "green")
    if result.first_break:
        problem(f"chain broken at entry {result.first_break.entry}: {result.first_break.problem}")
    for m in result.mismatches:
        problem(f"balance mismatch {m.account} {m.field}: stored {m.stored}, from postings {m.recomputed}")
    for line in result.problems:
        problem(line)
    if result.ok and not anchor:
        since = f" (the journal's from entry {result.first_entry} on)" if result.first_entry > 1 else ""
        say(f"verified: hash chains intact{since}, every balance equals the sum of its postings, every tracked table "
            "matches its history", "green")


def _anchor(text: str) -> tuple[int, str]:
    entry, _, digest = text.partition(":")
    if not (re.fullmatch(r"[0-9]{1,18}", entry) and re.fullmatch(r"[0-9a-f]{64}", digest)):  # 0-9, < 2^63
        raise InvalidInput(f"--at {text!r} is not ENTRY:HASH, like 42:9f2c... (the 64-hex hash a report prints)")
    return int(entry), digest


@app.command("keygen")
@refusals
def keygen(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for audit.key (private) and audit.pub")],
    as_json: JsonFlag = False,
) -> None:
    """Make an Ed25519 key pair for signing checkpoints: DIR/audit.key (readable by you only) and DIR/audit.pub.

    Keep audit.key away from the database and its administrators (whoever holds it can sign); give
    audit.pub to auditors. An existing key is never overwritten.

    Example: ipb audit keygen --out /secure/keys
    """
    from ledger.formats.checkpoints import generate_key, key_id, public_key

    private_path, public_path = out_dir / "audit.key", out_dir / "audit.pub"
    for path in (private_path, public_path):
        if path.exists():
            raise InvalidInput(f"{path} already exists: a key is never overwritten; choose another --out")
    private_pem, public_pem = generate_key()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(private_pem)
        public_path.write_bytes(public_pem)
    except OSError as exc:
        raise InvalidInput(f"cannot write the key to {out_dir}: {exc.strerror}") from None
    kid = key_id(public_key(public_pem))
    if as_json:
        emit_json({"private_key": str(private_path), "public_key": str(public_path), "key_id": kid})
    else:
        say(f"wrote {private_path} (private: keep it away from the database) and {public_path} (key {kid})")


@app.command("checkpoint")
@refusals
@requires(Permission.PERIOD)
def checkpoint(
    key: Annotated[Path, typer.Option("--key", help="The private key (audit.key from `ipb audit keygen`)")],
    log: Annotated[Path, typer.Option("--log", help="The checkpoint log to append to, kept outside the database")],
    as_json: JsonFlag = False,
) -> None:
    """Sign the heads of the journal and history chains, append the checkpoint to the log, and record it.

    `ipb audit verify --log LOG --public-key audit.pub` then proves the chains still pass through it.
    Payment-run approval and period close take one themselves when IPB_AUDIT_KEY and IPB_AUDIT_LOG
    name a key and a log.

    Example: ipb audit checkpoint --key /secure/keys/audit.key --log /secure/ipb-checkpoints.log
    """
    from ledger.services.checkpoints import AuditKey, take_checkpoint

    signed = take_checkpoint(settings.engine, AuditKey(key, log), actor=settings.who)
    cp = signed.checkpoint
    if as_json:
        emit_json({"entry": cp.entry, "entry_hash": cp.entry_hash, "history": cp.history,
                   "history_hash": cp.history_hash, "at": cp.at, "signer": cp.signer, "key_id": cp.key_id,
                   "log": str(log)})
    else:
        say(f"checkpoint: entry {cp.entry} ({cp.entry_hash[:16]}…), history record {cp.history} "
            f"({cp.history_hash[:16]}…), signed with key {cp.key_id}, appended to {log}")
