"""Schema 3: the outbox of changes waiting to reach MLflow."""

from alembic import op

from nba_mcp_deploy.stores.ddl import OUTBOX

revision = "0003_outbox"
down_revision = "0002_audit_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in OUTBOX.statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("the registry schema is never downgraded (it would drop what it holds)")
