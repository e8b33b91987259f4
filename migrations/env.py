"""Alembic environment for Flask-Migrate: uses the app's engine and metadata."""

import logging

from alembic import context
from flask import current_app

from coalition.models.base import UTCDateTime

log = logging.getLogger("alembic.env")
config = context.config
target_db = current_app.extensions["migrate"].db


def render_item(type_, obj, autogen_context):
    """Render our UTC timestamp type by its import path."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import coalition.models.base")
        return "coalition.models.base.UTCDateTime()"
    return False


def _options():
    """Options shared by online and offline runs."""
    return {
        "target_metadata": target_db.metadata,
        "compare_type": True,
        "render_item": render_item,
        "render_as_batch": True,
    }


def run_migrations_offline():
    """Emit SQL to stdout."""
    context.configure(url=str(target_db.engine.url), literal_binds=True, **_options())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run against the app's engine."""

    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            log.info("No changes in schema detected.")

    with target_db.engine.connect() as connection:
        context.configure(
            connection=connection,
            process_revision_directives=process_revision_directives,
            **{**current_app.extensions["migrate"].configure_args, **_options()},
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
