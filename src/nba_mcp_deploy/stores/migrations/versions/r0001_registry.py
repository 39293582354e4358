"""Schema 1: versions, their details, metrics and tags, the stage history, deployment documents."""

from alembic import op

from nba_mcp_deploy.stores.ddl import REGISTRY

revision = "0001_registry"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in REGISTRY.statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("the registry schema is never downgraded (it would drop what it holds)")
