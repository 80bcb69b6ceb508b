"""The pages `make slides` and `make course` write load nothing from the network."""

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from .conftest import NOTEBOOKS

URL_ATTRIBUTES = {"src", "href", "xlink:href", "data", "poster", "action", "formaction"}
CSS_URL = re.compile(r"""(?:url\(\s*|@import\s+(?!url\())['"]?([^'")\s]+)""")
QUOTED_REMOTE = re.compile(r"""["'`](?:https?:)?//[^"'`\s]""")


class _Page(HTMLParser):
    """Collects every URL-valued attribute, inline style sheet and inline script of a page."""

    def __init__(self):
        super().__init__()
        self.urls, self.styles, self.scripts, self._in = [], [], [], None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value is not None:
                self.urls.append((tag, name, value))
            if name == "srcset" and value:
                self.urls.extend((tag, name, part.split()[0]) for part in value.split(","))
            if name == "style" and value:
                self.styles.append(value)
        self._in = tag if tag in ("style", "script") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "style":
            self.styles.append(data)
        elif self._in == "script":
            self.scripts.append(data)


def _is_remote(url):
    parsed = urlparse(url.strip())
    return bool(parsed.netloc) or parsed.scheme not in ("", "data")


def _local_file(page, url):
    """The file a relative URL of ``page`` names, or None for anchors and data URLs."""
    parsed = urlparse(url)
    if parsed.scheme == "data" or not parsed.path:
        return None
    return (page.parent / unquote(parsed.path)).resolve()


def _problems(page):
    """Every remote or missing reference of an HTML page and of the local CSS it links."""
    parser = _Page()
    parser.feed(page.read_text(encoding="utf-8"))
    problems, css_files = [], []
    for tag, name, url in parser.urls:
        if _is_remote(url):
            problems.append(f"<{tag} {name}={url[:80]!r}> is remote")
            continue
        target = _local_file(page, url)
        if target is not None and not target.exists():
            problems.append(f"<{tag} {name}={url!r}> names a missing file")
        elif target is not None and target.suffix == ".css":
            css_files.append(target)
    for style in parser.styles:
        problems += [f"inline CSS loads {u[:80]!r}" for u in CSS_URL.findall(style) if _is_remote(u)]
    for script in parser.scripts:
        problems += [f"inline script names {m.group()!r}..." for m in QUOTED_REMOTE.finditer(script)]
    seen = set()
    while css_files:
        css = css_files.pop()
        if css in seen:
            continue
        seen.add(css)
        for url in CSS_URL.findall(css.read_text(encoding="utf-8", errors="replace")):
            if _is_remote(url):
                problems.append(f"{css.name} loads {url[:80]!r}")
            elif (target := _local_file(css, url)) is not None:
                if not target.exists():
                    problems.append(f"{css.name} names missing {url!r}")
                elif target.suffix == ".css":
                    css_files.append(target)
    return problems


def _pages(folder):
    pages = sorted(folder.glob("*.html"))
    assert len(pages) == len(NOTEBOOKS), f"expected one page per notebook in {folder}, got {pages}"
    return pages


def test_every_deck_is_offline(built_decks):
    for page in _pages(built_decks):
        assert not _problems(page), f"{page.name}: {_problems(page)}"


@pytest.mark.parametrize("edition", ["instructor", "student"])
def test_every_handout_is_offline(built_handouts, edition):
    for page in _pages(built_handouts / edition):
        assert not _problems(page), f"{edition}/{page.name}: {_problems(page)}"


def test_decks_follow_the_slide_marks(built_decks):
    """Every notebook marks its lecture path, so its deck is shorter than the notebook and has
    speaker notes; a notebook without marks would produce one endless slide."""
    for notebook in NOTEBOOKS:
        deck = (built_decks / f"{notebook.stem}.slides.html").read_text(encoding="utf-8")
        slides = deck.count("<section")
        assert slides > 5, f"{notebook.name}: only {slides} <section>s; mark its slides"
        assert '<aside class="notes">' in deck, f"{notebook.name}: no speaker notes"


def test_the_checker_sees_remote_references(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '<link rel="stylesheet" href="https://cdn.example/x.css"><script src="//cdn.example/a.js">'
        "</script><style>@import url(http://fonts.example/f.css);</style>"
        "<script>import('https://cdn.example/mermaid.mjs')</script><img src=\"gone.png\">"
        '<a href="#top">top</a><img src="data:image/png;base64,AAAA">'
    )
    problems = _problems(page)
    assert len(problems) == 5, problems
