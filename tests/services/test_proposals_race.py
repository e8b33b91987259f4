"""Several worker processes racing for one 500-unit offer never reserve more than 500."""

import multiprocessing

import pytest
import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.listings import Listing
from coalition.models.matches import Match
from tests.factories import ListingFactory, OrganizationFactory, RequestFactory

pytestmark = [pytest.mark.usefixtures("app"), pytest.mark.slow]


def propose_in_a_worker(database_url: str, request_ids: list[int], barrier) -> None:
    """One worker process: propose for its requests, committing each, as handlers do."""
    from coalition import create_app
    from coalition.services.proposals import propose_for_listing

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "race"})
    with app.app_context():
        barrier.wait(timeout=60)
        for request_id in request_ids:
            propose_for_listing(db.session, request_id)
            db.session.commit()
        db.engine.dispose()


def test_racing_workers_never_over_allocate_one_offer(app):
    workers = 4 if db.engine.dialect.name == "postgresql" else 2
    offer = ListingFactory(quantity=500)
    requests = [
        RequestFactory(quantity=35, organization=OrganizationFactory(lat=40.69, lon=-73.94))
        for _ in range(40)
    ]
    ids = [r.id for r in requests]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    processes = [
        context.Process(target=propose_in_a_worker, args=(url, ids[i::workers], barrier))
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * workers

    db.session.expire_all()
    offer = db.session.get(Listing, offer.id)
    held = db.session.scalar(
        sa.select(sa.func.sum(Match.quantity)).where(Match.offer_id == offer.id)
    )
    assert offer.reserved == held == 500
    for request_id in ids:
        request = db.session.get(Listing, request_id)
        mine = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Match.quantity), 0)).where(
                Match.request_id == request_id
            )
        )
        assert request.reserved == mine <= request.quantity
