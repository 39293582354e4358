"""Schema 5: metrics and tags kept in one table each, keyed by (name, value, version) for searches."""

from alembic import op

from nba_mcp_deploy.stores.ddl import KEYED_BY_VALUE

revision = "0005_keyed_by_value"
down_revision = "0004_replicas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in KEYED_BY_VALUE.statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("the registry schema is never downgraded (it would drop what it holds)")
