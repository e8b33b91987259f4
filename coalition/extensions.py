"""Flask extensions, instantiated here and initialised by the app factory."""

from typing import TYPE_CHECKING, Any

from apispec import BasePlugin
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class JsonApi(Api):
    """flask-smorest's Api without its app-wide error handler (ours covers web and API)."""

    def _register_error_handlers(self) -> None:
        """Leave error handling to coalition.errors."""

    def _init_spec(self, **kwargs: Any) -> None:
        """flask-smorest's spec, plus the bounds of query integers."""
        extra = [*(kwargs.pop("extra_plugins", None) or ()), QueryIntegerBounds()]
        super()._init_spec(extra_plugins=extra, **kwargs)

    def _register_pagination_header(self) -> None:
        """X-Pagination as it is sent: a string holding a JSON object (flask-smorest documents
        the object itself, which no header can be)."""
        self.spec.components.header("PAGINATION", PAGINATION_HEADER)


MAX_QUERY_INT = 2**31 - 1  # coalition.request_guard refuses larger query integers with a 422


class QueryIntegerBounds(BasePlugin):
    """Document what the request guard enforces: query integers (`page` …) fit 32 bits."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        """Give every integer query parameter a maximum (and a minimum) of 32 bits."""
        for operation in (operations or {}).values():
            for param in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = param.get("schema") if isinstance(param, dict) else None
                if param.get("in") != "query" or not isinstance(schema, dict):
                    continue
                if schema.get("type") == "integer":
                    schema["maximum"] = min(schema.get("maximum", MAX_QUERY_INT), MAX_QUERY_INT)
                    schema.setdefault("minimum", -MAX_QUERY_INT)


PAGINATION_HEADER = {
    "description": "Pagination metadata, a JSON object in the header's text: total, "
    "total_pages, first_page, last_page, page, previous_page and next_page (integers).",
    "schema": {
        "type": "string",
        "contentMediaType": "application/json",
        "example": '{"total": 120, "total_pages": 3, "first_page": 1, "last_page": 3, '
        '"page": 1, "next_page": 2}',
    },
}


class Base(DeclarativeBase):
    """Declarative base for every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# Every model's base class. At run time it is `db.Model` (Base plus Flask-SQLAlchemy's
# bookkeeping); type checkers cannot follow an attribute used as a base, so they see Base.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
api = JsonApi()
babel = Babel()
