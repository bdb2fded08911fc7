"""The schema is made only by migrations; the Core tables in ledger/models must describe exactly what they make."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ledger.models import all_tables


def test_models_match_the_migrated_schema(engine):
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), all_tables())
    assert differences == []


def test_every_name_the_models_package_offers_is_a_table_of_the_schema():
    import ledger.models as models

    tables = all_tables().tables
    offered = [name for name in models.__all__ if name not in ("metadata", "all_tables")]
    assert offered and all(getattr(models, name) is tables.get(name) for name in offered)
