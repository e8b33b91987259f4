"""Languages and time zones: which to use for this request, and compiled translations."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from flask import Flask, has_request_context, request, session
from flask_login import current_user

log = logging.getLogger("coalition.i18n")

LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT_LOCALE = "en"
DEFAULT_TIMEZONE = "America/New_York"
TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale() -> str:
    """The person's own setting, else the session's choice, else the browser's Accept-Language;
    outside a request (the command line), COALITION_LANGUAGE or the terminal's LANG."""
    if not has_request_context():
        return environment_locale()
    chosen = getattr(current_user, "locale", None) or session.get("locale")
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LOCALE


def environment_locale() -> str:
    """The command line's language: COALITION_LANGUAGE, else LC_ALL / LC_MESSAGES / LANG."""
    for name in ("COALITION_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "").strip()
        if value:
            code = value.split("_")[0].split(".")[0].split("-")[0].lower()
            return code if code in LANGUAGES else DEFAULT_LOCALE
    return DEFAULT_LOCALE


def select_timezone() -> str:
    """The organization's time zone for its staff; the coalition's default for everyone else."""
    if not has_request_context():
        return DEFAULT_TIMEZONE
    organization = getattr(current_user, "organization", None)
    return getattr(organization, "timezone", None) or DEFAULT_TIMEZONE


def timezones(first: str | None = None) -> list[str]:
    """Every time zone name: `first`, then the Americas, then the rest, each sorted."""
    from zoneinfo import available_timezones

    zones = sorted(available_timezones())
    ordered = [z for z in zones if z.startswith("America/")]
    ordered += [z for z in zones if not z.startswith("America/")]
    if first in ordered:
        ordered.remove(first)
        ordered.insert(0, first)
    return ordered


def compile_translations(root: Path = TRANSLATIONS) -> list[Path]:
    """Compile every messages.po whose messages.mo is missing or older; return what was built."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    built = []
    for po_path in sorted(root.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        _write_atomically(mo_path, lambda f, c=catalog: write_mo(f, c))
        built.append(mo_path)
    return built


def _write_atomically(path: Path, write) -> None:  # type: ignore[no-untyped-def]
    """Write through a temporary file and rename, so that concurrent starts never read half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".messages-", suffix=".mo")
    try:
        with os.fdopen(fd, "wb") as tmp_file:
            write(tmp_file)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def ensure_compiled(app: Flask) -> None:
    """Build stale .mo files at start; an unwritable install keeps the ones it shipped with."""
    try:
        for path in compile_translations():
            log.info("compiled translations %s", path.relative_to(TRANSLATIONS))
    except OSError as error:
        app.logger.warning("could not compile translations: %s", error)


def N_(message: str) -> str:
    """Mark a message for extraction where it is defined; it is translated where it is shown."""
    return message


def gettext(message: str) -> str:
    """Translate a message fixed elsewhere (Flask-Login's), marked for extraction at its source."""
    from flask_babel import gettext as translate

    return translate(message)


def language_name(code: str | None = None) -> str:
    """The name of a language in that language."""
    from flask_babel import get_locale

    return LANGUAGES.get(code or str(get_locale()), code or DEFAULT_LOCALE)


def current_locale() -> str:
    """The language code of this request, for `<html lang>`."""
    from flask_babel import get_locale

    return str(get_locale() or DEFAULT_LOCALE)
