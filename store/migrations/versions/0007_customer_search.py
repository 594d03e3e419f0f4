"""customer search: suffix tables kept in step with customers by triggers

``customers(search:)`` matched ``%term%`` by reading a tenant's customers in
name order until it had its page, which no B-tree index serves, so it grew
with the data. Each searchable field (name, email, phone) now has a table of
its suffixes, cut to 12 characters and folded as the field's condition
compares (see ``FOLD``), with the customer's name beside each, indexed by
(tenant, part, name, customer): a term is one index range per field and
tenant, already carrying the order pages are cut in. It needs no extension
(pg_trgm is often not the application role's to create) and behaves the
same on SQLite and PostgreSQL.

Triggers write the rows, so every write path (the API, privacy rectification,
bulk seeding, plain SQL) keeps them in step; the rows go with the customer
(foreign key, plus a delete trigger on SQLite, whose foreign keys depend on a
per-connection pragma), so an erased name or address leaves nothing behind.
SQLite drops a table's triggers when a batch migration rebuilds it: a later
migration that rebuilds ``customers`` must create them again
(``tests/test_customer_search.py`` checks they exist at head).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PART_LENGTH = 12
FIELDS = ("name", "email", "phone")
TRIGGERS = ("customer_search_insert", "customer_search_update", "customer_search_delete")
PG_FUNCTION = "customer_search_sync"
# How each field is folded before it is cut, per backend: as its search
# condition compares it, so a part matches exactly when the condition does.
# name: ILIKE, lower() on both sides. email: LIKE, case-sensitive on
# PostgreSQL, ASCII case-insensitive on SQLite (whose lower() folds ASCII
# only). phone: digits.
FOLD = {
    "postgresql": {"name": "lower({})", "email": "{}", "phone": "{}"},
    "sqlite": {"name": "lower({})", "email": "lower({})", "phone": "{}"},
}


def _part_type() -> sa.types.TypeEngine[str]:
    return sa.String(PART_LENGTH).with_variant(sa.String(PART_LENGTH, collation="C"), "postgresql")


def _create_tables() -> None:
    for field in FIELDS:
        table = f"customer_search_{field}"
        op.create_table(
            table,
            sa.Column("customer_id", sa.String(length=32), nullable=False),
            sa.Column("part", _part_type(), nullable=False),
            sa.Column("tenant_id", sa.String(length=32), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("customer_id", "part"),
            sqlite_with_rowid=False,
        )
        op.create_index(f"ix_{table}_lookup", table, ["tenant_id", "part", "name", "customer_id"])


# The SQL below is built from this module's constants only (S608 is about input).


# --- SQLite ------------------------------------------------------------------------------
# Triggers may not use WITH, so the positions 0..length-1 come from json_each
# over an array of that many zeros: hex(zeroblob(n)) is n times "00".


def _sqlite_positions(value: str) -> str:
    return (
        f"json_each('[' || substr(replace(hex(zeroblob(length({value}))), '00', ',0'), 2) || ']')"
    )


def _sqlite_insert(row: str, field: str) -> str:
    value = f"{row}.{field}"
    folded = FOLD["sqlite"][field].format(value)
    return (
        f"INSERT INTO customer_search_{field} (customer_id, part, tenant_id, name) "  # noqa: S608
        f"SELECT DISTINCT {row}.id, substr({folded}, p.key + 1, {PART_LENGTH}), "
        f"{row}.tenant_id, {row}.name FROM {_sqlite_positions(value)} AS p"
    )


def _delete(field: str) -> str:
    return f"DELETE FROM customer_search_{field} WHERE customer_id = OLD.id"  # noqa: S608


def _sqlite_upgrade() -> None:
    inserts = "; ".join(_sqlite_insert("NEW", f) for f in FIELDS)
    deletes = "; ".join(_delete(f) for f in FIELDS)
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in ("tenant_id", *FIELDS))
    op.execute(
        f"CREATE TRIGGER customer_search_insert AFTER INSERT ON customers BEGIN {inserts}; END"
    )
    op.execute(
        "CREATE TRIGGER customer_search_update AFTER UPDATE OF tenant_id, name, email, phone "
        f"ON customers WHEN {changed} BEGIN {deletes}; {inserts}; END"
    )
    op.execute(
        f"CREATE TRIGGER customer_search_delete AFTER DELETE ON customers BEGIN {deletes}; END"
    )
    for field in FIELDS:
        op.execute(_sqlite_insert("customers", field).replace(" FROM ", " FROM customers, ", 1))


# --- PostgreSQL --------------------------------------------------------------------------


def _pg_insert(row: str, field: str) -> str:
    value = f"{row}.{field}"
    folded = FOLD["postgresql"][field].format(value)
    return (
        f"INSERT INTO customer_search_{field} (customer_id, part, tenant_id, name) "  # noqa: S608
        f"SELECT DISTINCT {row}.id, substr({folded}, n, {PART_LENGTH}), "
        f"{row}.tenant_id, {row}.name FROM generate_series(1, length({value})) AS n"
    )


def _pg_upgrade() -> None:
    inserts = "; ".join(_pg_insert("NEW", f) for f in FIELDS)
    deletes = "; ".join(_delete(f) for f in FIELDS)
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in ("tenant_id", *FIELDS))
    op.execute(
        f"CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'UPDATE' THEN {deletes}; END IF; {inserts}; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER customer_search_insert AFTER INSERT ON customers "
        f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
    )
    op.execute(
        "CREATE TRIGGER customer_search_update AFTER UPDATE OF tenant_id, name, email, phone "
        f"ON customers FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {PG_FUNCTION}()"
    )
    for field in FIELDS:
        backfill = _pg_insert("c", field).replace(" FROM ", " FROM customers AS c, ", 1)
        op.execute(backfill)


def upgrade() -> None:
    _create_tables()
    if op.get_bind().dialect.name == "postgresql":
        _pg_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (" ON customers" if postgresql else ""))
    if postgresql:
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
    for field in reversed(FIELDS):
        table = f"customer_search_{field}"
        op.drop_index(f"ix_{table}_lookup", table_name=table)
        op.drop_table(table)
