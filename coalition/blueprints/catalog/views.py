"""The category catalog: units, plain and neutral labels, credentials, order, active flag."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from coalition.auth import coordinator_required
from coalition.extensions import db
from coalition.models.catalog import Category, Kind
from coalition.services import catalog
from coalition.services.errors import ServiceError
from coalition.services.listings_csv import format_list, split_list

bp = Blueprint("catalog", __name__, url_prefix="/catalog", template_folder="templates")

CODE = Regexp(r"^[a-z0-9][a-z0-9-]*$", message=_l("Use lowercase letters, digits and dashes."))


class CategoryForm(FlaskForm):
    """What a coordinator may change about a category."""

    unit = StringField(_l("Unit"), validators=[DataRequired(), Length(max=60)])
    plain_label = StringField(_l("Plain label"), validators=[DataRequired(), Length(max=120)])
    neutral_label = StringField(
        _l("Neutral label"),
        validators=[DataRequired(), Length(max=120)],
        description=_l("used for organizations and people who chose discreet wording"),
    )
    credentials = StringField(
        _l("Usual credentials"),
        validators=[Optional(), Length(max=400)],
        description=_l("staffing roles: codes separated by ;"),
    )
    sort_order = IntegerField(_l("Order"), default=0, validators=[NumberRange(min=0, max=100_000)])
    unit_cost = DecimalField(
        _l("Unit cost ($)"),
        places=2,
        default=0,
        validators=[Optional(), NumberRange(min=0, max=1_000_000)],
        description=_l("what one unit or hour is worth, for the impact figures' estimated value"),
    )
    active = BooleanField(_l("In use"), default=True)


class NewCategoryForm(CategoryForm):
    """A new category also has a slug and a kind, fixed once created."""

    slug = StringField(_l("Slug"), validators=[DataRequired(), Length(max=80), CODE])
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(k.value, k.value.capitalize()) for k in Kind]
    )


def _values(form: CategoryForm) -> dict[str, Any]:
    """The editable fields from the form."""
    return {
        "unit": (form.unit.data or "").strip(),
        "plain_label": (form.plain_label.data or "").strip(),
        "neutral_label": (form.neutral_label.data or "").strip(),
        "credentials": split_list(form.credentials.data),
        "sort_order": form.sort_order.data or 0,
        "active": bool(form.active.data),
        "unit_cost_cents": int(round((form.unit_cost.data or 0) * 100)),
    }


def _render(form: NewCategoryForm, status: int = 200) -> Any:
    """The catalog page, with a form for each category."""
    categories = catalog.all_categories(db.session, active_only=False)
    forms = {c.id: _edit_form(c) for c in categories}
    return render_template(
        "catalog/index.html", categories=categories, forms=forms, new_form=form
    ), status


def _edit_form(category: Category) -> CategoryForm:
    """A form pre-filled with a category's values."""
    data = {
        **category.as_dict(),
        "credentials": format_list(category.credentials),
        "unit_cost": category.unit_cost_cents / 100,
    }
    return CategoryForm(formdata=None, data=data, prefix=f"c{category.id}")


@bp.get("/")
@coordinator_required
def index() -> Any:
    """Every category, active or not."""
    return _render(NewCategoryForm(formdata=None))


@bp.post("/")
@coordinator_required
def create() -> Any:
    """Add a category."""
    form = NewCategoryForm()
    if form.validate_on_submit():
        try:
            catalog.create_category(
                db.session,
                current_user,
                form.slug.data or "",
                Kind(form.kind.data),
                **_values(form),
            )
        except ServiceError as exc:
            form.slug.errors = [*form.slug.errors, exc.message]
        else:
            db.session.commit()
            flash(gettext("Category %(slug)s added.", slug=form.slug.data), "success")
            return redirect(url_for("catalog.index"))
    return _render(form, 422)


@bp.post("/<int:category_id>")
@coordinator_required
def update(category_id: int) -> Any:
    """Change a category's unit, labels, credentials, order or active flag."""
    category = db.get_or_404(Category, category_id)
    form = CategoryForm(prefix=f"c{category.id}")
    if not form.validate_on_submit():
        flash(f"{category.slug}: {_first_error(form)}", "error")
        return _render(NewCategoryForm(formdata=None), 422)
    catalog.update_category(db.session, current_user, category, _values(form))
    db.session.commit()
    flash(gettext("Category %(slug)s saved.", slug=category.slug), "success")
    return redirect(url_for("catalog.index"))


def _first_error(form: CategoryForm) -> str:
    """The first field error, in one line."""
    for field in form:
        if field.errors:
            return f"{field.label.text}: {field.errors[0]}"
    return "not valid"
