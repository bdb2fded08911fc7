"""The schema is made only by migrations; the typed models must describe exactly what they make."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ledger.models import Base


def test_models_match_the_migrated_schema(engine):
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []
