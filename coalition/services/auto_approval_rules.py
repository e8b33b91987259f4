"""Auto-approval rules: which proposals coordinators let through without a look.

Coordinators add, switch and delete rules here; `rule_for` finds the rule covering a
proposal, and `coalition.services.match_lifecycle.auto_approve` applies it.
"""

from __future__ import annotations

import sqlalchemy as sa

from coalition.actors import Actor
from coalition.models.catalog import Category, Kind
from coalition.models.matches import Match
from coalition.models.notifications import AutoApprovalRule
from coalition.services.audit import audit
from coalition.services.errors import ServiceError
from coalition.sessions import Session


def rule_for(session: Session, match: Match) -> AutoApprovalRule | None:
    """The first enabled rule covering this proposal, if both organizations are active."""
    if not (match.offer.organization.is_active and match.request.organization.is_active):
        return None
    return session.scalar(
        sa.select(AutoApprovalRule)
        .where(
            AutoApprovalRule.enabled.is_(True),
            AutoApprovalRule.kind == match.offer.kind,
            AutoApprovalRule.max_quantity >= match.quantity,
            sa.or_(
                AutoApprovalRule.category_id.is_(None),
                AutoApprovalRule.category_id == match.offer.category_id,
            ),
        )
        .order_by(AutoApprovalRule.id)
    )


def create_rule(
    session: Session,
    actor: Actor | None,
    kind: Kind,
    category_id: int | None,
    max_quantity: int | None,
) -> AutoApprovalRule:
    """Add an auto-approval rule (coordinators); the category must be of that kind."""
    if not max_quantity or max_quantity < 1:
        raise ServiceError("Enter a quantity of at least 1.", "max_quantity")
    if category_id is not None:
        category = session.get(Category, category_id)
        if category is None or category.kind != kind:
            raise ServiceError("Choose a category of that kind.", "category")
    rule = AutoApprovalRule(
        kind=kind,
        category_id=category_id,
        max_quantity=max_quantity,
        created_by_id=getattr(actor, "id", None),
    )
    session.add(rule)
    session.flush()
    audit(session, actor, "auto_rule.created", rule, {"rule": rule.describe()})
    return rule


def set_rule_enabled(
    session: Session, actor: Actor | None, rule: AutoApprovalRule, enabled: bool
) -> None:
    """Turn a rule on or off."""
    if rule.enabled == enabled:
        return
    rule.enabled = enabled
    session.flush()
    audit(session, actor, "auto_rule.enabled" if enabled else "auto_rule.disabled", rule, {})


def delete_rule(session: Session, actor: Actor | None, rule: AutoApprovalRule) -> None:
    """Remove a rule (the audit log keeps what it said)."""
    audit(session, actor, "auto_rule.deleted", rule, {"rule": rule.describe()})
    session.delete(rule)
    session.flush()
