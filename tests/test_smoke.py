"""The app starts and serves its basic pages."""

from tests.factories import CoordinatorFactory


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_checks_database_and_broker(client):
    body = client.get("/readyz").json
    assert body["checks"] == {"database": "ok", "broker": "ok"}


def test_coordinator_sees_organizations(login):
    coordinator = CoordinatorFactory()
    page = login(coordinator).get("/coordinator/organizations")
    assert page.status_code == 200
    assert b"Member organizations" in page.data
