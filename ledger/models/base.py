from sqlalchemy import BigInteger, Integer, MetaData

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL; plain INTEGER on SQLite so an integer primary key is the rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")

# every table of the schema is declared on this one MetaData (ledger.models.all_tables() loads them all)
metadata = MetaData(naming_convention=NAMING)
