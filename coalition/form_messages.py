"""What a person reads when a form field is wrong: the libraries' and the rules' messages in
plain words, in the person's language. The JSON API keeps the original messages."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext

from coalition.i18n import N_

FILL_IN = N_("Fill this in.")
WHOLE_NUMBER = N_("Enter a whole number.")
A_NUMBER = N_("Enter a number.")
A_DATE = N_("Enter a date such as 2026-12-31.")

EXACT: dict[str, str] = {
    # WTForms
    "This field is required.": FILL_IN,
    "Not a valid choice.": N_("Choose one of the options."),
    "Invalid email address.": N_("Enter an email address, such as name@example.org."),
    "Invalid URL.": N_("Enter a web address that starts with https://."),
    "Not a valid float value.": A_NUMBER,
    "Not a valid decimal value.": A_NUMBER,
    "Not a valid integer value.": WHOLE_NUMBER,
    "Not a valid date value.": A_DATE,
    "Invalid input.": N_("Check how this is written."),
    # marshmallow
    "Missing data for required field.": FILL_IN,
    "Field may not be null.": FILL_IN,
    "Not a valid integer.": WHOLE_NUMBER,
    "Not a valid number.": A_NUMBER,
    "Not a valid date.": A_DATE,
    "Not a valid datetime.": N_("Enter a date and time such as 2026-12-31 09:00."),
    "Not a valid boolean.": N_("Tick the box or leave it empty."),
    "Not a valid string.": N_("Enter text."),
    "Not a valid list.": N_("Enter a list."),
    "Unknown field.": N_("This is not used here."),
    # the listing rules (coalition.services.listing_input) and pages
    "must be a positive integer": N_("Enter a whole number of 1 or more."),
    "unknown category": N_("Choose a category from the list."),
    "this category is no longer in use": N_("This category is no longer in use: choose another."),
    "must be between -90 and 90": N_("Enter a latitude between -90 and 90."),
    "must be between -180 and 180": N_("Enter a longitude between -180 and 180."),
    "must be a positive number of km": N_("Enter a distance in km greater than 0."),
    "may not be null": FILL_IN,
    "use lowercase letters, digits and dashes": N_(
        "Use lowercase letters, digits and dashes, such as rn-license."
    ),
    "must be a language code such as en or es": N_("Use language codes such as en or es."),
    "a lot expiry only applies to offers": N_("A lot expiry only applies to offers."),
    "only applies to requests": N_("This only applies to requests."),
    "only applies to supply listings": N_("This only applies to supplies."),
    "only applies to staffing listings": N_("This only applies to staff time."),
    "give at least one availability window": N_("Give at least one availability window."),
    "must not be in the past": N_("Choose today or a later date."),
    "choose the organization": N_("Choose the organization."),
    "choose give or need": N_("Choose whether you give or need."),
    "only for members of an organization": N_("Only for members of an organization."),
}

PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^'(?P<value>.*)' is not a valid choice for this field\.$"),
        N_("“%(value)s” is not one of the options."),
    ),
    (
        re.compile(r"^'(?P<value>.*)' are not valid choices for this field\.$"),
        N_("“%(value)s” are not among the options."),
    ),
    (
        re.compile(r"^Number must be between (?P<min>\S+) and (?P<max>\S+)\.$"),
        N_("Enter a number from %(min)s to %(max)s."),
    ),
    (
        re.compile(r"^Number must be at least (?P<min>\S+)\.$"),
        N_("Enter a number of at least %(min)s."),
    ),
    (
        re.compile(r"^Number must be at most (?P<max>\S+)\.$"),
        N_("Enter a number of at most %(max)s."),
    ),
    (
        re.compile(r"^Field must be between (?P<min>\d+) and (?P<max>\d+) characters long\.$"),
        N_("Use %(min)s to %(max)s characters."),
    ),
    (
        re.compile(r"^(?:Field cannot be longer than|Longer than maximum length) (?P<max>\d+)"),
        N_("Use at most %(max)s characters."),
    ),
    (
        re.compile(r"^(?:M|m)ust be one of: (?P<choices>.*?)\.?$"),
        N_("Choose one of: %(choices)s."),
    ),
    (
        re.compile(r"^window (?P<number>\d+): the end must be after the start$"),
        N_("Window %(number)s: the end must be after the start."),
    ),
]


def human(message: Any) -> str:
    """The message in plain words and the person's language (unknown ones are translated as
    they are, which leaves messages already in plain words, and already translated, alone)."""
    text = str(message)
    if text in EXACT:
        return gettext(EXACT[text])
    for pattern, words in PATTERNS:
        found = pattern.match(text)
        if found:
            return gettext(words, **found.groupdict())
    return gettext(text) if text else text
