"""Coalition: resource sharing for harm-reduction organizations."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the factory imports Flask lazily so `coalition.matching` stays pure
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application; `config` overrides what the environment says."""
    from coalition.config import STATIC_DEFAULTS, CoalitionFlask, load_config, settings_of
    from coalition.json_provider import use_orjson

    app = CoalitionFlask(__name__, instance_relative_config=True)
    use_orjson(app)
    app.config.update(STATIC_DEFAULTS)
    app.config.update(load_config(Path(app.instance_path)))
    app.config.update(config or {})
    settings_of(app.config)  # typed once, after the overrides: a bad value fails here
    configure_logging(app)
    register_extensions(app)
    register_request_guards(app)
    register_events(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)
    register_security_headers(app)
    return app


def configure_logging(app: Flask) -> None:
    """Log to stderr in one line per record."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    logging.getLogger("coalition").setLevel(logging.INFO)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def register_extensions(app: Flask) -> None:
    """Initialise every extension on the app."""
    from coalition import auth, database, i18n, models  # noqa: F401  (loaders, pragmas, tables)
    from coalition.extensions import api, babel, csrf, db, limiter, login_manager, migrate

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = database.engine_options(app.config)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.login_message = i18n.N_("Sign in to see this page.")
    login_manager.localize_callback = i18n.gettext
    login_manager.anonymous_user = auth.Anonymous
    app.after_request(auth.record_token_use)  # a bearer token's use, at most once a minute
    csrf.init_app(app)
    limiter.init_app(app)
    api.init_app(app)
    i18n.ensure_compiled(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)


def register_request_guards(app: Flask) -> None:
    """Bounded ids in URLs and API input the parser and the database can take."""
    from coalition import request_guard

    request_guard.register(app)


def register_events(app: Flask) -> None:
    """The routes the app publishes with, and the after-commit publish of recorded events."""
    from coalition.events.extension import register_events as register

    register(app)


def register_blueprints(app: Flask) -> None:
    """Register the web blueprints and the API blueprints, from explicit registries."""
    from coalition.blueprints import API_BLUEPRINTS, BLUEPRINTS
    from coalition.extensions import api, csrf

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    for api_blueprint in API_BLUEPRINTS:
        csrf.exempt(api_blueprint)
        api.register_blueprint(api_blueprint, url_prefix=f"/api/v1{api_blueprint.url_prefix}")


def register_errorhandlers(app: Flask) -> None:
    """Pages for the web, JSON under /api/."""
    from coalition.errors import register_errorhandlers as register

    register(app)


def register_commands(app: Flask) -> None:
    """Add the `flask coalition …` command groups."""
    from coalition.commands import COMMAND_GROUPS

    for group in COMMAND_GROUPS:
        app.cli.add_command(group)


def register_security_headers(app: Flask) -> None:
    """CSP, framing, sniffing, referrer and HSTS headers on every response."""
    from coalition.security_headers import register_security_headers as register

    register(app)


def register_template_helpers(app: Flask) -> None:
    """Jinja globals used by the base layout."""
    from coalition.templating import TEMPLATE_FILTERS, TEMPLATE_GLOBALS

    app.jinja_env.globals.update(TEMPLATE_GLOBALS)
    app.jinja_env.filters.update(TEMPLATE_FILTERS)
