"""Schema 2: the audit log of mutating calls."""

from alembic import op

from nba_mcp_deploy.stores.ddl import AUDIT_LOG

revision = "0002_audit_log"
down_revision = "0001_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in AUDIT_LOG.statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("the registry schema is never downgraded (it would drop what it holds)")
