"""PostgreSQL: the server, not the client, vouches for who acted (issue 12).

On PostgreSQL each ipb user connects as their own login role, so the server knows who is acting:
`current_user`. These triggers refuse a row that names anyone else as its author (the entry's actor
and principal, the history record's, a payment run's maker or checker, a bank details change's
proposer or confirmer, ...), and refuse changing a payee's bank details except together with a
second officer's confirmation in the same transaction. The ledger's owner and superusers (the DBA's
roles, which can disable any trigger) are exempt: they are the trust root, and act for users when they
must (their principal then says so).

Who is `current_user` rather than `session_user`, so that a front end the DBA trusts (the web app) can
`SET ROLE` to the signed-in user's login; a group role (ipb_officer, ...), which is no one, may author
nothing.

SQLite has no logins: nothing here applies to it (ledger/storage/identity.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (the column naming who acted, the column naming as which login, if any), checked on INSERT
AUTHORED = {
    "journal_entries": ("actor", "principal"),
    "history": ("actor", "principal"),
    "checkpoints": ("signer", "principal"),
    "bank_detail_changes": ("changed_by", "changed_by_principal"),
    "bank_detail_confirmations": ("confirmed_by", "confirmed_by_principal"),
    "payment_repays": ("requested_by", None),
    "period_closures": ("closed_by", None),
    "spend_records": ("broker", None),
    "users": ("added_by", None),
    "providers": ("added_by", None),
    "payment_schedules": ("created_by", None),
    "invoices": ("added_by", None),
}

TRUSTED = """
CREATE FUNCTION ipb_trusted() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT r.rolsuper OR pg_has_role(current_user, t.tableowner, 'MEMBER')
    FROM pg_roles r, pg_tables t
    WHERE r.rolname = current_user AND t.schemaname = current_schema() AND t.tablename = 'journal_entries'
$$"""

# once per statement, over the rows it inserted (a transition table): cheap for bulk posting
STAMPED = """
CREATE FUNCTION ipb_stamped() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wrong text;
BEGIN
    IF ipb_trusted() THEN
        RETURN NULL;
    END IF;
    IF NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'ipb: % on % refused: % is a group role, not a person: act as your own login',
            TG_OP, TG_TABLE_NAME, current_user;
    END IF;
    EXECUTE format('SELECT %I FROM inserted WHERE %I IS DISTINCT FROM $1'
                   || CASE WHEN TG_NARGS > 1 THEN format(' OR %I IS DISTINCT FROM $1', TG_ARGV[1]) ELSE '' END
                   || ' LIMIT 1', TG_ARGV[0], TG_ARGV[0])
        INTO wrong USING current_user::text;
    IF wrong IS NOT NULL THEN
        RAISE EXCEPTION 'ipb: % on % refused: it names % as its author (%), but you signed in as %',
            TG_OP, TG_TABLE_NAME, wrong, TG_ARGV[0], current_user;
    END IF;
    RETURN NULL;
END $$"""

RUN_DUTIES = """
CREATE FUNCTION ipb_run_duties() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF ipb_trusted() THEN
        RETURN NEW;
    END IF;
    IF NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'ipb: % on payment_runs refused: % is a group role, not a person: act as your own login',
            TG_OP, current_user;
    END IF;
    IF (TG_OP = 'INSERT' OR NEW.maker IS DISTINCT FROM OLD.maker OR NEW.maker_principal IS DISTINCT FROM
            OLD.maker_principal) AND (NEW.maker IS DISTINCT FROM current_user::text
            OR NEW.maker_principal IS DISTINCT FROM current_user::text) THEN
        RAISE EXCEPTION 'ipb: payment run %: its maker must be you (%), not % (signed in as %)',
            NEW.id, current_user, NEW.maker, NEW.maker_principal;
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.checker IS DISTINCT FROM OLD.checker OR NEW.checker_principal IS DISTINCT FROM
            OLD.checker_principal) AND (NEW.checker IS DISTINCT FROM current_user::text
            OR NEW.checker_principal IS DISTINCT FROM current_user::text) THEN
        RAISE EXCEPTION 'ipb: payment run %: its checker must be you (%), not % (signed in as %)',
            NEW.id, current_user, NEW.checker, NEW.checker_principal;
    END IF;
    RETURN NEW;
END $$"""

# a payee's bank details change only with a second officer's confirmation inserted in the same transaction
BANK_DETAILS = """
CREATE FUNCTION ipb_confirmed_details() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF ipb_trusted() THEN
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'paying_accounts' OR NOT EXISTS (
        SELECT 1 FROM bank_detail_confirmations c JOIN bank_detail_changes d ON d.id = c.change_id
        WHERE c.xmin = pg_current_xact_id()::xid
          AND CASE TG_TABLE_NAME WHEN 'providers' THEN d.provider_id ELSE d.schedule_id END = NEW.id
          AND d.new_name = to_jsonb(NEW) ->> TG_ARGV[0]
          AND d.new_sort_code = NEW.sort_code AND d.new_account_number = NEW.account_number) THEN
        RAISE EXCEPTION 'ipb: % of % % refused: bank details change only by a proposal a second officer '
            'confirms (ipb provider|schedule bank-details, then ipb payment confirm-bank-details)',
            TG_OP, TG_TABLE_NAME, NEW.id;
    END IF;
    RETURN NEW;
END $$"""

# table -> its bank details' columns, the first naming the account
PAYEES = {"providers": ("account_name", "sort_code", "account_number"),
          "payment_schedules": ("payee_name", "sort_code", "account_number"),
          "paying_accounts": ("name", "sort_code", "account_number", "service_user_number")}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function in (TRUSTED, STAMPED, RUN_DUTIES, BANK_DETAILS):
        op.execute(function)
    for table, (named, principal) in AUTHORED.items():
        arguments = f"'{named}'" + (f", '{principal}'" if principal else "")
        op.execute(f"CREATE TRIGGER {table}_stamped AFTER INSERT ON {table} REFERENCING NEW TABLE AS inserted "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION ipb_stamped({arguments})")
    op.execute("CREATE TRIGGER payment_runs_duties BEFORE INSERT OR UPDATE ON payment_runs "
               "FOR EACH ROW EXECUTE FUNCTION ipb_run_duties()")
    for table, columns in PAYEES.items():
        op.execute(f"CREATE TRIGGER {table}_confirmed_details BEFORE UPDATE OF {', '.join(columns)} ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION ipb_confirmed_details('{columns[0]}')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in AUTHORED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_stamped ON {table}")
    op.execute("DROP TRIGGER IF EXISTS payment_runs_duties ON payment_runs")
    for table in PAYEES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_confirmed_details ON {table}")
    for function in ("ipb_confirmed_details()", "ipb_run_duties()", "ipb_stamped()", "ipb_trusted()"):
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
