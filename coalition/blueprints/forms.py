"""Forms shared by several feature blueprints."""

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A bare action button (only the CSRF token)."""
