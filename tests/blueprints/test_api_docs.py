"""Swagger UI at /api/v1/docs works without internet: every file it loads is served here."""

from __future__ import annotations

import re


def test_swagger_ui_loads_only_local_files_and_each_is_served(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assets = [u for u in urls if u.endswith((".js", ".css"))]
    assert any(u.endswith("swagger-ui-bundle.js") for u in assets)
    assert any(u.endswith("swagger-ui.css") for u in assets)
    for url in assets:
        assert url.startswith("/"), f"{url} is not served by the app"
        response = client.get(url)
        response.close()
        assert response.status_code == 200, url
    assert "<script>" not in html  # no inline script: the page works under a strict CSP


def test_swagger_ui_assets_stay_inside_the_package(client):
    response = client.get("/api/v1/docs/assets/../../__init__.py")
    response.close()
    assert response.status_code == 404
