"""Password reset by signed, expiring, single-use email link."""

from coalition.extensions import db
from coalition.security import verify_password
from tests.factories import UserFactory
from tests.mail import deliver_emails, last_link, logged_emails

NEW = "a brand new password"


def test_reset_link_sets_a_new_password_once(client, caplog):
    user = UserFactory()
    response = client.post("/reset", data={"email": user.email.upper()})
    assert response.status_code == 302
    assert logged_emails(caplog) == []  # nothing is sent inside the request
    assert deliver_emails() == 1
    link = last_link(caplog)
    assert client.post(link, data={"password": NEW, "confirm": NEW}).status_code == 302
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW)
    assert client.get(link).status_code == 400  # the link died with the old password


def test_unknown_email_gets_the_same_answer_and_no_email(client, caplog):
    response = client.post("/reset", data={"email": "nobody@example.org"}, follow_redirects=True)
    assert b"If that email has an account" in response.data
    assert deliver_emails() == 0
    assert logged_emails(caplog) == []


def test_short_password_is_refused_and_nothing_changes(client, caplog):
    user = UserFactory()
    old_hash = user.password_hash
    client.post("/reset", data={"email": user.email})
    deliver_emails()
    response = client.post(last_link(caplog), data={"password": "short", "confirm": "short"})
    assert response.status_code == 422
    assert b"at least 10 characters" in response.data
    db.session.refresh(user)
    assert user.password_hash == old_hash


def test_expired_reset_link_is_refused(app, client, caplog):
    user = UserFactory()
    client.post("/reset", data={"email": user.email})
    deliver_emails()
    app.config["RESET_MAX_AGE"] = -1
    try:
        response = client.get(last_link(caplog))
    finally:
        app.config["RESET_MAX_AGE"] = 3600
    assert response.status_code == 400
    assert b"expired" in response.data


def test_invalid_email_is_shown_on_the_field(client):
    response = client.post("/reset", data={"email": "nope"})
    assert response.status_code == 422
    assert b'id="email-errors"' in response.data
