"""email_deliveries.link_token: reset and invitation links are signed at send time, not stored

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 22:40:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('email_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_token', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('email_deliveries', schema=None) as batch_op:
        batch_op.drop_column('link_token')
