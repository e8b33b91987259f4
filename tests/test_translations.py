"""Spanish: every marked message is translated, the language follows the person or the browser."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from coalition.i18n import compile_translations
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "coalition" / "translations" / "es" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "lazy_gettext": None, "_l": None}


def extracted_messages() -> set[str]:
    """Every message marked in the code and the templates, as `make translations` finds them."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def spanish_catalog() -> dict[str, object]:
    """The Spanish catalog's translated, non-fuzzy messages."""
    with CATALOG.open("rb") as po_file:
        catalog = read_po(po_file, locale="es")
    done = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if all(strings):
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            done[key] = message.string
    return done


def test_every_message_in_the_code_and_templates_has_a_spanish_translation():
    missing = sorted(extracted_messages() - set(spanish_catalog()))
    assert missing == [], f"untranslated (run `make translations`, then translate): {missing}"


def test_the_compiled_catalog_is_rebuilt_when_the_po_file_is_newer(tmp_path):
    po_dir = tmp_path / "es" / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    (po_dir / "messages.po").write_bytes(CATALOG.read_bytes())
    assert compile_translations(tmp_path) == [po_dir / "messages.mo"]
    assert compile_translations(tmp_path) == []


def test_the_browser_language_chooses_spanish(client):
    page = client.get("/login", headers={"Accept-Language": "es-US,es;q=0.9,en;q=0.5"})
    html = page.get_data(as_text=True)
    assert '<html lang="es">' in html
    assert "Iniciar sesión" in html


def test_english_is_the_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "Sign in" in html


def test_a_persons_setting_wins_over_the_browser(login):
    member = UserFactory()
    signed_in = login(member)
    signed_in.post("/language", data={"locale": "es", "next": "/"})
    assert member.locale == "es"
    html = signed_in.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="es">' in html and "Cerrar sesión" in html


def test_an_unknown_language_is_refused(client):
    assert client.post("/language", data={"locale": "xx"}).status_code == 400


def test_the_language_form_never_sends_a_person_to_another_site(client):
    response = client.post("/language", data={"locale": "es", "next": "//evil.example"})
    assert response.headers["Location"] == "/"
