"""API tokens on the web: an org admin creates one, sees it once, and it opens the API."""

from __future__ import annotations

import sqlalchemy as sa

from coalition.extensions import db
from coalition.models import ApiToken


def test_admin_creates_a_token_shown_once_and_stored_hashed(world, as_role, client):
    page = as_role("admin").post(f"/org/{world.owner_org.id}/tokens", data={"label": "sheet"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    token = text.split('id="new-token">', 1)[1].split("<", 1)[0]
    assert token.startswith("coa_")
    row = db.session.scalar(sa.select(ApiToken))
    assert token not in (row.token_hash, row.prefix) and row.label == "sheet"
    listing = as_role("admin").get(f"/org/{world.owner_org.id}/tokens").get_data(as_text=True)
    assert token not in listing and row.prefix in listing
    assert (
        client.get("/api/v1/offers", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    empty = as_role("admin").post(f"/org/{world.owner_org.id}/tokens", data={"label": ""})
    assert empty.status_code == 422
