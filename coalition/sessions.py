"""The database session that services take: a plain one, or the request's scoped `db.session`."""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy import orm

# `db.session` is a scoped_session: it proxies every Session method but is not a Session.
Session: TypeAlias = orm.Session | orm.scoped_session[Any]
