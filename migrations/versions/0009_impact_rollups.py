"""impact: monthly rollups of the facts, and indexes for filters and medians

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 22:10:00

The rollups are filled from impact_facts here (what `flask reports rebuild-impact` does).
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('impact_months',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('giver_borough', sa.String(length=80), nullable=False),
    sa.Column('receiver_borough', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.Enum('supply', 'staffing', name='listing_kind', native_enum=False, length=40), nullable=False),
    sa.Column('transfers', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('short_dated', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_impact_months_category_id_categories')),
    sa.PrimaryKeyConstraint('month', 'category_id', 'giver_borough', 'receiver_borough', name=op.f('pk_impact_months'))
    )
    op.create_table('impact_month_orgs',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('transfers', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_impact_month_orgs_organization_id_organizations')),
    sa.PrimaryKeyConstraint('month', 'side', 'organization_id', name=op.f('pk_impact_month_orgs'))
    )
    op.create_table('impact_month_requests',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('transfers', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Boolean(), nullable=False),
    sa.Column('has_need_by', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['listings.id'], name=op.f('fk_impact_month_requests_request_id_listings')),
    sa.PrimaryKeyConstraint('month', 'request_id', name=op.f('pk_impact_month_requests'))
    )
    with op.batch_alter_table('impact_facts', schema=None) as batch_op:
        batch_op.create_index('ix_impact_facts_category', ['category_id', 'received_on'], unique=False)
        batch_op.create_index('ix_impact_facts_hours', ['hours_to_receipt', 'received_on'], unique=False)
        batch_op.create_index('ix_impact_facts_month_hours', ['month', 'hours_to_receipt', 'received_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_impact_facts_offer_id'), ['offer_id'], unique=False)

    for sql in FILL_ROLLUPS:
        op.execute(sql)


# what `flask reports rebuild-impact` writes, from impact_facts (tests/impact/test_rollups.py)
FILL_ROLLUPS = [
    "INSERT INTO impact_months (month, category_id, giver_borough, receiver_borough, kind,"
    " transfers, quantity, short_dated)"
    " SELECT month, category_id, giver_borough, receiver_borough, MIN(kind), COUNT(*),"
    " SUM(quantity), SUM(short_dated) FROM impact_facts"
    " GROUP BY month, category_id, giver_borough, receiver_borough",
    *(
        "INSERT INTO impact_month_orgs (month, side, organization_id, transfers, units, hours)"
        f" SELECT month, '{side}', {column}, COUNT(*),"
        " COALESCE(SUM(CASE WHEN kind = 'supply' THEN quantity ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN kind = 'staffing' THEN quantity ELSE 0 END), 0)"
        f" FROM impact_facts GROUP BY month, {column}"
        for side, column in (("gave", "giver_id"), ("received", "receiver_id"))
    ),
    "INSERT INTO impact_month_requests (month, request_id, transfers, on_time, has_need_by)"
    " SELECT month, request_id, COUNT(*),"
    " MAX(CASE WHEN on_time THEN 1 ELSE 0 END) = 1,"
    " MAX(CASE WHEN need_by IS NOT NULL THEN 1 ELSE 0 END) = 1"
    " FROM impact_facts GROUP BY month, request_id",
]


def downgrade():
    with op.batch_alter_table('impact_facts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_impact_facts_offer_id'))
        batch_op.drop_index('ix_impact_facts_month_hours')
        batch_op.drop_index('ix_impact_facts_hours')
        batch_op.drop_index('ix_impact_facts_category')

    op.drop_table('impact_month_requests')
    op.drop_table('impact_month_orgs')
    op.drop_table('impact_months')
