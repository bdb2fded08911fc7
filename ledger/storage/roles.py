"""PostgreSQL roles: the SQL that makes the server refuse what an ipb role may not do, even from psql.

Each ipb role is a group role (NOLOGIN) and each ipb user a login role in one of them; the ledger's
tables belong to the DBA's owner role, which is not an ipb user. GRANTs give each group only its
duties, and row-level security limits a broker to the people assigned to them:

  ipb_auditor  reads everything, writes nothing
  ipb_admin    reads everything; adds users and changes their roles, assigns brokers, erases names;
               posts nothing, so moves no money
  ipb_officer  reads everything; inserts and updates what its work needs; never updates or deletes
               the journal, the history, checkpoints or users, and deletes nothing
  ipb_broker   reads and writes only rows of the people assigned to it, and writes only spend
  ipb_person   a person or their representative, signed in to the web: reads only the rows of the people
               linked to it (person_links), and writes nothing
  ipb_web      the web server's own rights (`ipb serve`): reads users and their password hashes, records
               sign-ins and keeps sessions, and nothing of the ledger. NOINHERIT and a member of every
               user's login role, so a server login in it may SET ROLE to the signed-in user for each
               request (ledger/storage/acting_role.py) without holding any user's rights itself. The DBA
               makes that login: CREATE ROLE ipb_server LOGIN PASSWORD '...'; GRANT ipb_web TO ipb_server.

Password hashes are read by ipb_web alone (and written by an admin setting a password); auditors and the other
staff see who set a password when and the SHA-256 of its hash (recorded in the history chain), the lock-out state,
every sign-in attempt, sessions without their CSRF tokens, and API tokens without their hashes.

Pure: statements to run, built from the database's and schema's names (ledger/services/database_roles.py
runs them for `ipb db setup-roles`, or prints them for a DBA to read first).
"""

from __future__ import annotations

from ledger.roles import Role

GROUPS = {Role.OFFICER: "ipb_officer", Role.BROKER: "ipb_broker", Role.AUDITOR: "ipb_auditor",
          Role.ADMIN: "ipb_admin", Role.PERSON: "ipb_person"}
STAFF = ", ".join(GROUPS[r] for r in (Role.OFFICER, Role.AUDITOR, Role.ADMIN))
EVERYONE = ", ".join(GROUPS.values())

# never updated by anyone (most are append-only by trigger too), and deleted by nobody
HISTORY_TABLES = ("journal_entries", "postings", "history", "checkpoints", "period_closures", "bank_detail_changes",
                  "bank_detail_confirmations", "payment_repays", "run_settlements", "care_plans", "plan_lines",
                  "budget_modes", "spend_records", "plan_commitments", "assessments")
ADMIN_ONLY = ("users", "broker_assignments", "person_links")
NOBODY_WRITES = ("ledger_settings", "alembic_version")

WEB = "ipb_web"
# the web's tables: staff read them (only these columns of passwords and sessions), ipb_web writes them
PASSWORD_COLUMNS_SHOWN = "user_id, hash_sha256, set_at, set_by, failures, failed_since, locked_until"
SESSION_COLUMNS_SHOWN = "user_id, created_at, last_seen_at, expires_at, ended_at"
TOKEN_COLUMNS_SHOWN = "id, name, user_id, created_at, created_by, revoked_at, revoked_by, last_used_at"
WEB_TABLES = ("user_passwords", "sign_ins", "web_sessions", "api_tokens")

BROKER_READS = ("people", "person_names", "budgets", "budget_components", "accounts", "account_balances",
                "journal_entries", "postings", "ledger_head", "history_head", "funders", "care_plans", "plan_lines",
                "budget_modes", "spend_records", "plan_commitments", "users", "broker_assignments",
                "period_closures", "payments", "invoices", "alembic_version")
BROKER_INSERTS = ("journal_entries", "postings", "spend_records", "plan_commitments", "history")
BROKER_UPDATES = ("account_balances", "ledger_head", "history_head")

# table -> the condition a broker's row must meet (current_user is the broker's login)
BROKER_ROWS = {
    "people": "ipb_sees_person(current_user, id)",
    **{t: "ipb_sees_person(current_user, person_id)" for t in (
        "person_names", "budgets", "care_plans", "budget_modes", "spend_records", "payments", "invoices",
        "broker_assignments")},
    "budget_components": "EXISTS (SELECT 1 FROM budgets b WHERE b.id = budget_id)",
    "plan_lines": "EXISTS (SELECT 1 FROM care_plans p WHERE p.id = plan_id)",
    "plan_commitments": "EXISTS (SELECT 1 FROM plan_lines l WHERE l.id = plan_line_id)",
    "accounts": "split_part(code, ':', 1) = 'person' AND ipb_sees_ref(current_user, split_part(code, ':', 2))",
    "account_balances": "EXISTS (SELECT 1 FROM accounts a WHERE a.id = account_id)",
    "postings": "EXISTS (SELECT 1 FROM accounts a WHERE a.id = account_id)",
    "journal_entries": "ipb_sees_ref(current_user, meta ->> 'person')",
    "history": "subject = 'spend_records'",
}
# what a person reads (their statement, plan and payments), only rows of the people linked to them: BROKER_ROWS'
# conditions, and these for the tables brokers do not read. Of providers and pools, only the names a statement
# shows; of the history chain, nothing.
PERSON_READS = ("people", "person_names", "budgets", "budget_components", "accounts", "account_balances",
                "journal_entries", "postings", "ledger_head", "funders", "care_plans", "plan_lines", "budget_modes",
                "spend_records", "plan_commitments", "users", "person_links", "period_closures", "payments",
                "invoices", "payment_schedules", "alembic_version")
PERSON_NAMES_READ = {"providers": "code, name", "pools": "code, name"}
PERSON_ROWS = {**{t: c for t, c in BROKER_ROWS.items() if t in PERSON_READS},
               **{t: "ipb_sees_person(current_user, person_id)" for t in ("person_links", "payment_schedules")}}
# what a broker may insert, beyond seeing the row: spend, and nothing else of the journal
BROKER_INSERT_CHECK = {"journal_entries": "kind = 'spend' AND ipb_sees_ref(current_user, meta ->> 'person')"}


def functions(schema: str) -> list[str]:
    """Who may see which person (a broker: those assigned; a person: those linked; staff: everyone):
    SECURITY DEFINER (they read users, assignments and links for the caller), with a
    fixed search_path as PostgreSQL's guidance for such functions asks."""
    body = ("SELECT COALESCE((SELECT CASE u.role WHEN 'broker' THEN EXISTS (SELECT 1 FROM broker_assignments a "
            "{join} WHERE a.user_id = u.id AND {match}) WHEN 'person' THEN EXISTS (SELECT 1 FROM person_links a "
            "{join} WHERE a.user_id = u.id AND {match}) ELSE true END FROM users u WHERE u.name = who AND u.active), "
            "NOT EXISTS (SELECT 1 FROM users u WHERE u.name = who))")
    out = []
    for name, argument, join, match in (
            ("ipb_sees_person", "person bigint", "", "a.person_id = ipb_sees_person.person"),
            ("ipb_sees_ref", "ref text", "JOIN people p ON p.id = a.person_id", "p.ref = ipb_sees_ref.ref")):
        out.append(f"CREATE OR REPLACE FUNCTION {name}(who name, {argument}) RETURNS boolean LANGUAGE sql STABLE "
                   f'SECURITY DEFINER SET search_path = "{schema}" AS $$ '
                   f"{body.format(join=join, match=match)} $$")
    return out


def _create_role(name: str, attributes: str) -> str:
    """CREATE ROLE unless it exists (roles belong to the whole server: another ledger may have made it)."""
    return (f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN "
            f'CREATE ROLE "{name}" {attributes}; END IF; '
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$")


def group_roles() -> list[str]:
    return [_create_role(group, "NOLOGIN") for group in GROUPS.values()] + [_create_role(WEB, "NOLOGIN NOINHERIT")]


def grants(database: str, schema: str) -> list[str]:
    s = f'"{schema}"'
    out = [f'GRANT CONNECT ON DATABASE "{database}" TO {EVERYONE}', f"GRANT USAGE ON SCHEMA {s} TO {EVERYONE}",
           f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {EVERYONE}",
           f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {STAFF}",
           f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {GROUPS[Role.OFFICER]}, {GROUPS[Role.BROKER]}, "
           f"{GROUPS[Role.ADMIN]}",
           f"GRANT INSERT, UPDATE ON ALL TABLES IN SCHEMA {s} TO {GROUPS[Role.OFFICER]}",
           f"REVOKE UPDATE ON {', '.join(HISTORY_TABLES + ADMIN_ONLY + NOBODY_WRITES)} FROM {GROUPS[Role.OFFICER]}",
           f"REVOKE INSERT ON {', '.join(ADMIN_ONLY + NOBODY_WRITES)} FROM {GROUPS[Role.OFFICER]}",
           f"GRANT INSERT, UPDATE ON users TO {GROUPS[Role.ADMIN]}",
           f"GRANT INSERT, DELETE ON broker_assignments TO {GROUPS[Role.ADMIN]}",
           f"GRANT DELETE ON person_names TO {GROUPS[Role.ADMIN]}",
           f"GRANT INSERT ON history TO {GROUPS[Role.ADMIN]}", f"GRANT UPDATE ON history_head TO {GROUPS[Role.ADMIN]}",
           f"GRANT SELECT ON {', '.join(BROKER_READS)} TO {GROUPS[Role.BROKER]}",
           f"GRANT INSERT ON {', '.join(BROKER_INSERTS)} TO {GROUPS[Role.BROKER]}",
           f"GRANT UPDATE ON {', '.join(BROKER_UPDATES)} TO {GROUPS[Role.BROKER]}",
           f"GRANT INSERT, UPDATE, DELETE ON person_links TO {GROUPS[Role.ADMIN]}",
           f"GRANT SELECT ON {', '.join(PERSON_READS)} TO {GROUPS[Role.PERSON]}",
           *(f"GRANT SELECT ({columns}) ON {table} TO {GROUPS[Role.PERSON]}"
             for table, columns in PERSON_NAMES_READ.items())]
    return out + web_grants(database, schema)


def web_grants(database: str, schema: str) -> list[str]:
    """Sign-in tables: hashes and CSRF tokens hidden from staff; written by ipb_web, and by an admin setting a
    password (which also ends the user's sessions)."""
    s, admin = f'"{schema}"', GROUPS[Role.ADMIN]
    return [f"REVOKE ALL ON {', '.join(WEB_TABLES)} FROM {EVERYONE}, {WEB}",  # then only what follows, run again
            f"GRANT SELECT ON sign_ins TO {STAFF}",
            f"GRANT SELECT ({PASSWORD_COLUMNS_SHOWN}) ON user_passwords TO {STAFF}",
            f"GRANT SELECT ({SESSION_COLUMNS_SHOWN}) ON web_sessions TO {STAFF}",
            f"GRANT SELECT ({TOKEN_COLUMNS_SHOWN}) ON api_tokens TO {STAFF}",
            f"GRANT INSERT, UPDATE ON user_passwords TO {admin}", f"GRANT UPDATE (ended_at) ON web_sessions TO {admin}",
            f"GRANT INSERT, UPDATE (revoked_at, revoked_by) ON api_tokens TO {admin}",
            f"GRANT UPDATE (last_used_at) ON api_tokens TO {WEB}",
            f'GRANT CONNECT ON DATABASE "{database}" TO {WEB}', f"GRANT USAGE ON SCHEMA {s} TO {WEB}",
            f"GRANT SELECT ON users, {', '.join(WEB_TABLES)} TO {WEB}",
            f"GRANT UPDATE (failures, failed_since, locked_until) ON user_passwords TO {WEB}",
            f"GRANT INSERT ON sign_ins TO {WEB}", f"GRANT INSERT, UPDATE ON web_sessions TO {WEB}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {WEB}"]


def row_security() -> list[str]:
    out = []
    for table in dict.fromkeys((*BROKER_ROWS, *PERSON_ROWS)):
        out += [f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
                *(f"DROP POLICY IF EXISTS {name} ON {table}" for name in ("ipb_staff", "ipb_broker", "ipb_person")),
                f"CREATE POLICY ipb_staff ON {table} TO {STAFF} USING (true) WITH CHECK (true)"]
        if table in BROKER_ROWS:
            condition = BROKER_ROWS[table]
            out.append(f"CREATE POLICY ipb_broker ON {table} TO {GROUPS[Role.BROKER]} USING ({condition}) "
                       f"WITH CHECK ({BROKER_INSERT_CHECK.get(table, condition)})")
        if table in PERSON_ROWS:
            out.append(f"CREATE POLICY ipb_person ON {table} FOR SELECT TO {GROUPS[Role.PERSON]} "
                       f"USING ({PERSON_ROWS[table]})")
    return out


def setup(database: str, schema: str) -> list[str]:
    """Everything, in order; safe to run again (after an upgrade adds tables, say)."""
    return (group_roles() + functions(schema) + login_mapping(schema) + grants(database, schema) + row_security()
            + ["SELECT ipb_map_login(name) FROM users"])


def login_mapping(schema: str) -> list[str]:
    """ipb_map_login(name): give an ipb user a login role in the group of their role (none while deactivated).

    SECURITY DEFINER, so an ipb admin, who may not create roles, can: it reads the role from `users` (where
    adding a user is journalled), and refuses a database role that is a superuser, may create roles or is
    the ledger's owner, whose rights are the DBA's. Returns false, changing nothing, if the owner may not
    create roles: the DBA then creates each login and grants its group by hand."""
    wanted = " ".join(f"WHEN '{role}' THEN '{group}'" for role, group in GROUPS.items())
    groups = ", ".join(f"'{g}'" for g in GROUPS.values())
    return [
        "CREATE OR REPLACE FUNCTION ipb_map_login(who text) RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER "
        f'SET search_path = "{schema}" AS $$ DECLARE wanted text; grp text; BEGIN '
        f"SELECT CASE WHEN u.active THEN CASE u.role {wanted} END END INTO wanted FROM users u WHERE u.name = who; "
        "IF NOT FOUND THEN RAISE EXCEPTION 'ipb: % is not a user of this ledger', who; END IF; "
        "IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolcreaterole OR rolsuper)) "
        "THEN RETURN false; END IF; "
        "IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = who AND (rolsuper OR rolcreaterole OR rolbypassrls "
        "OR pg_has_role(who, current_user, 'MEMBER'))) THEN RAISE EXCEPTION 'ipb: database role % is a superuser, "
        "creates roles or owns the ledger: its rights are the DBA''s, not ipb''s', who; END IF; "
        "IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = who) THEN "
        "EXECUTE format('CREATE ROLE %I LOGIN', who); END IF; "
        f"FOREACH grp IN ARRAY ARRAY[{groups}] LOOP "
        "IF grp IS DISTINCT FROM wanted AND pg_has_role(who, grp, 'USAGE') THEN "
        "EXECUTE format('REVOKE %I FROM %I', grp, who); END IF; END LOOP; "
        "IF wanted IS NOT NULL THEN EXECUTE format('GRANT %I TO %I', wanted, who); END IF; "
        f"IF NOT pg_has_role('{WEB}', who, 'MEMBER') THEN EXECUTE format('GRANT %I TO {WEB}', who); END IF; "
        "RETURN true; END $$",
        "REVOKE ALL ON FUNCTION ipb_map_login(text) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION ipb_map_login(text) TO {GROUPS[Role.ADMIN]}",
    ]
