"""/docs in a real Chromium with every request off this server refused: Swagger UI still shows the API."""
from __future__ import annotations

from urllib.parse import urlsplit


def test_swagger_ui_renders_with_no_network_beyond_this_server(new_page, live):
    page = new_page()
    host = urlsplit(live).netloc
    refused: list[str] = []

    def only_this_server(route):
        if urlsplit(route.request.url).netloc == host or route.request.url.startswith("data:"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto("/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=30000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/cases" in p for p in paths), paths[:5]
    assert refused == [], f"/docs tried to load from elsewhere: {refused}"
