"""/docs works on a closed network: the page and everything it loads come from this server.

FastAPI's default /docs loads Swagger UI from a CDN and is blank without
internet; api.docs serves the files of an installed package instead.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


class _References(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if attrs.get(name):
                self.found.append(attrs[name])
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def _on_host(url: str, base: str) -> bool:
    target = urlsplit(urljoin(base, url))
    return target.scheme in ("http", "https") and target.netloc == urlsplit(base).netloc


def test_docs_and_every_asset_it_references_come_from_this_server(live, settings):
    page = httpx.get(f"{live}/docs", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    refs = _References()
    refs.feed(page.text)
    inline = "\n".join(refs.scripts)
    # the description and the OAuth2 redirect page the inline script names
    named = re.findall(r"""(?:url|oauth2RedirectUrl)['"]?\s*:\s*['"]([^'"]+)['"]""", inline)
    assert any(u.endswith("/openapi.json") for u in named), inline
    assert re.search(r"""['"]validatorUrl['"]\s*:\s*null""", inline), "the online validator badge must be off"
    references = refs.found + named
    assert any(r.endswith(".js") for r in references) and any(r.endswith(".css") for r in references), references
    off_host = [r for r in references if not _on_host(r, live + "/docs")]
    assert off_host == [], f"/docs loads from elsewhere: {off_host}"
    for ref in references:
        url = urljoin(live + "/docs", ref)
        r = httpx.get(url, timeout=30)
        assert r.status_code == 200, f"{url}: {r.status_code}"
        if url.endswith(".css"):
            loaded = [u for u in CSS_URL.findall(r.text) if not u.startswith("data:")]
            assert all(_on_host(u, url) for u in loaded), f"{url} loads {loaded}"


def test_redoc_is_off_rather_than_loading_from_a_cdn(live, settings):
    assert httpx.get(f"{live}/redoc", timeout=30).status_code == 404
