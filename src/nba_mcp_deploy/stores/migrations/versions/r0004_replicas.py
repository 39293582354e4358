"""Schema 4: several replicas (deployment revisions, traffic counters per replica, canary state)."""

from alembic import op

from nba_mcp_deploy.stores.ddl import REPLICAS

revision = "0004_replicas"
down_revision = "0003_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in REPLICAS.statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("the registry schema is never downgraded (it would drop what it holds)")
