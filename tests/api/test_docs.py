"""``/docs`` works offline: its page names no outside host and its assets are served here."""

from __future__ import annotations

import re

from tests.api.conftest import Api


def test_the_docs_page_loads_only_local_assets(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200
    html = page.text
    outside = re.findall(r"""(?:src|href)=["'](https?:)?//[^"']+""", html)
    assert outside == [], outside
    assert "http://" not in html
    assert "https://" not in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"):
        assert f"/static/docs/{asset}" in html
        served = api.client.get(f"/static/docs/{asset}")
        assert served.status_code == 200, asset
        assert len(served.content) > 1_000
    assert api.client.get("/openapi.json").status_code == 200
