"""Forms for signing in and setting passwords."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

PASSWORD_RULES = [
    DataRequired(),
    Length(min=10, max=200, message=_l("Use at least 10 characters.")),
]


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class SetPasswordForm(FlaskForm):
    """A new password, typed twice."""

    password = PasswordField(_l("New password"), validators=PASSWORD_RULES)
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class AcceptInvitationForm(SetPasswordForm):
    """Name and password for a new account."""

    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])


class ResetRequestForm(FlaskForm):
    """Where to send the reset link."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])
