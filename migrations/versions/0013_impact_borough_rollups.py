"""impact: rollups of organizations and requests by borough, medians' indexes covering filters

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 23:00:00

The new rollups are filled from impact_facts here (what `flask reports rebuild-impact` does).
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

FILTERED = ['category_id', 'giver_borough', 'receiver_borough']


def upgrade():
    op.create_table('impact_month_org_boroughs',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('borough', sa.String(length=80), nullable=False),
    sa.Column('other_borough', sa.String(length=80), nullable=False),
    sa.Column('transfers', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_impact_month_org_boroughs_organization_id_organizations')),
    sa.PrimaryKeyConstraint('month', 'side', 'organization_id', 'borough', 'other_borough', name=op.f('pk_impact_month_org_boroughs'))
    )
    op.create_table('impact_month_request_boroughs',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('giver_borough', sa.String(length=80), nullable=False),
    sa.Column('receiver_borough', sa.String(length=80), nullable=False),
    sa.Column('transfers', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Boolean(), nullable=False),
    sa.Column('has_need_by', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['listings.id'], name=op.f('fk_impact_month_request_boroughs_request_id_listings')),
    sa.PrimaryKeyConstraint('month', 'request_id', 'giver_borough', 'receiver_borough', name=op.f('pk_impact_month_request_boroughs'))
    )
    with op.batch_alter_table('impact_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_impact_facts_month_hours')
        batch_op.drop_index('ix_impact_facts_hours')
        batch_op.create_index('ix_impact_facts_hours', ['hours_to_receipt', 'received_on', *FILTERED], unique=False)
        batch_op.create_index('ix_impact_facts_month_hours', ['month', 'hours_to_receipt', 'received_on', *FILTERED], unique=False)

    for sql in FILL_ROLLUPS:
        op.execute(sql)


# what `flask reports rebuild-impact` writes, from impact_facts (tests/impact/test_rollup_filters.py)
FILL_ROLLUPS = [
    *(
        "INSERT INTO impact_month_org_boroughs (month, side, organization_id, borough,"
        " other_borough, transfers, units, hours)"
        f" SELECT month, '{side}', {column}, {own}, {other}, COUNT(*),"
        " COALESCE(SUM(CASE WHEN kind = 'supply' THEN quantity ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN kind = 'staffing' THEN quantity ELSE 0 END), 0)"
        f" FROM impact_facts GROUP BY month, {column}, {own}, {other}"
        for side, column, own, other in (
            ("gave", "giver_id", "giver_borough", "receiver_borough"),
            ("received", "receiver_id", "receiver_borough", "giver_borough"),
        )
    ),
    "INSERT INTO impact_month_request_boroughs (month, request_id, giver_borough,"
    " receiver_borough, transfers, on_time, has_need_by)"
    " SELECT month, request_id, giver_borough, receiver_borough, COUNT(*),"
    " MAX(CASE WHEN on_time THEN 1 ELSE 0 END) = 1,"
    " MAX(CASE WHEN need_by IS NOT NULL THEN 1 ELSE 0 END) = 1"
    " FROM impact_facts GROUP BY month, request_id, giver_borough, receiver_borough",
]


def downgrade():
    with op.batch_alter_table('impact_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_impact_facts_month_hours')
        batch_op.drop_index('ix_impact_facts_hours')
        batch_op.create_index('ix_impact_facts_hours', ['hours_to_receipt', 'received_on'], unique=False)
        batch_op.create_index('ix_impact_facts_month_hours', ['month', 'hours_to_receipt', 'received_on'], unique=False)

    op.drop_table('impact_month_request_boroughs')
    op.drop_table('impact_month_org_boroughs')
