"""email deliveries for invitations, resets and digest confirmations (user optional)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 13:10:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('email_deliveries', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    op.execute('DELETE FROM email_deliveries WHERE user_id IS NULL')
    with op.batch_alter_table('email_deliveries', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
