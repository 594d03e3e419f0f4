"""privacy: former identity keys, journal by customer id, withheld staff notes,
retained documents standing on their own

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("former_identity_keys", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("internal_notes_withheld", sa.String(length=500), nullable=True)
        )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("amount_ore", sa.Integer(), nullable=True))
    with op.batch_alter_table("erasure_journal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("erasure_journal", schema=None) as batch_op:
        batch_op.drop_column("customer_id")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("amount_ore")
        batch_op.drop_column("reference")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("internal_notes_withheld")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("former_identity_keys")
