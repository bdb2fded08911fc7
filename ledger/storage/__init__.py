"""Storage: engines and their settings, the schema's migrations, and the reads that services and reports share.

`engine` opens a database (SQLite by default, PostgreSQL by URL); `schema` brings it to the newest
migration (Alembic is imported only when a migration runs); `reads`, `parties` and `plans` are Core
queries returning plain values; `posting` holds the posting path's writes, built once, and `driver` runs
the statements that run for every entry through the driver, compiled once per dialect. Nothing here
decides anything: use cases live in ledger/services, read-only reports in ledger/reports, and both read
through this floor.
"""
