"""The rendered book loads nothing from the internet: every script, stylesheet and
font of every page is a file of the built HTML (MathJax, RequireJS and the ipywidgets
manager are vendored by `_ext/offline_assets.py`), and no page runs the same inline
script twice (sphinx-thebe's `const THEBE_JS_URL` threw on the second copy).

The pages checked are the session's tiny-preset build (`tiny_book`), or those under
$DEVISE_RENDERED_HTML (.ci/run points it at the `book` preset's `_build/html`)."""

import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

# A URL that leaves the folder: a scheme (http:, https:, ...) or a protocol-relative //.
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
# url(...) and @import "..." in a stylesheet.
CSS_REFERENCE = re.compile(
    r"""(?:@import\s+(?:url\()?|url\()\s*['"]?([^'")\s;]+)""", re.IGNORECASE
)
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
LOADED_LINKS = {"stylesheet", "preload", "modulepreload", "prefetch", "icon"}
JAVASCRIPT_TYPES = {"", "text/javascript", "application/javascript", "module"}


class PageAssets(HTMLParser):
    """What one page loads (script, stylesheet, preload and frame URLs) and the bodies
    of its inline JavaScript."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.loads: list[str] = []
        self.inline_scripts: list[str] = []
        self.styles: list[str] = []
        self._body: list[str] | None = None  # inside an inline script or style

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "script" and attrs.get("src"):
            self.loads.append(attrs["src"])
        elif tag == "script" and attrs.get("type", "").lower() in JAVASCRIPT_TYPES:
            self._body = []
        elif tag == "style":
            self._body = []
        elif tag == "link" and LOADED_LINKS & set(attrs.get("rel", "").split()):
            self.loads.append(attrs.get("href", ""))
        elif tag in ("iframe", "embed") and attrs.get("src"):
            self.loads.append(attrs["src"])

    def handle_data(self, data):
        if self._body is not None:
            self._body.append(data)

    def handle_endtag(self, tag):
        if self._body is not None and tag in ("script", "style"):
            text = "".join(self._body).strip()
            (self.inline_scripts if tag == "script" else self.styles).append(text)
            self._body = None


def css_references(css: str) -> list[str]:
    return CSS_REFERENCE.findall(CSS_COMMENT.sub("", css))


def local_target(page: Path, url: str) -> Path | None:
    """The file a relative URL of `page` names (None for data: URLs and anchors)."""
    parts = urlsplit(url)
    if parts.scheme or not parts.path:
        return None
    return (page.parent / unquote(parts.path)).resolve()


def pages_of(html_dir: Path) -> list[Path]:
    """The book's pages (the themes' template snippets in _static/ are not pages)."""
    return sorted(
        page
        for page in html_dir.rglob("*.html")
        if "_static" not in page.relative_to(html_dir).parts
    )


def page_problems(html_dir: Path) -> dict[str, list[str]]:
    """Per page (and stylesheet) of a built book, what it would fetch from the
    internet, which local files it names that are not there, and which inline script
    it runs twice."""
    problems: dict[str, list[str]] = {}
    for page in pages_of(html_dir):
        assets = PageAssets()
        assets.feed(page.read_text(encoding="utf-8", errors="replace"))
        found = []
        urls = assets.loads + [u for s in assets.styles for u in css_references(s)]
        for url in urls:
            target = local_target(page, url)
            if EXTERNAL.match(url):
                found.append(f"loads {url}")
            elif target is not None and not target.exists():
                found.append(f"names a missing file {url}")
        scripts = assets.inline_scripts
        repeated = sorted({s for s in scripts if scripts.count(s) > 1})
        found += [f"runs an inline script twice: {s[:80]}" for s in repeated]
        if found:
            problems[str(page.relative_to(html_dir))] = found
    for sheet in sorted(html_dir.rglob("*.css")):
        text = sheet.read_text(encoding="utf-8", errors="replace")
        external = [f"loads {u}" for u in css_references(text) if EXTERNAL.match(u)]
        if external:
            problems[str(sheet.relative_to(html_dir))] = external
    return problems


@pytest.fixture(scope="module")
def rendered_html(request) -> Path:
    if os.environ.get("DEVISE_RENDERED_HTML"):
        html = Path(os.environ["DEVISE_RENDERED_HTML"])
    else:
        html = request.getfixturevalue("tiny_book").html
    assert (html / "index.html").is_file(), f"no built book in {html}"
    return html


def test_the_check_finds_what_a_page_would_fetch(tmp_path):
    static = tmp_path / "_static"
    static.mkdir()
    (static / "here.js").write_text("")
    (static / "fonts.css").write_text(
        "/* url(https://example.org/in-a-comment.css) */\n"
        "@import url('https://fonts.example.org/css?family=Roboto');\n"
        "@font-face { src: url(here.woff2); }\n"
    )
    (tmp_path / "page.html").write_text(
        "<html><head>"
        '<script src="_static/here.js"></script>'
        '<script src="https://cdn.example.org/mathjax@3/es5/tex-mml-chtml.js"></script>'
        '<script src="_static/gone.js"></script>'
        '<link rel="stylesheet" href="//cdn.example.org/widgets.css">'
        '<link rel="canonical" href="https://example.org/book/">'
        "<script>const X = 1</script><script>const X = 1</script>"
        '<script type="application/json">{"same": 1}</script>'
        '<script type="application/json">{"same": 1}</script>'
        "</head><body><a href='https://example.org'>a link is no load</a>"
        "<style>@import url(https://example.org/inline.css);</style>"
        "</body></html>"
    )
    assert page_problems(tmp_path) == {
        "page.html": [
            "loads https://cdn.example.org/mathjax@3/es5/tex-mml-chtml.js",
            "names a missing file _static/gone.js",
            "loads //cdn.example.org/widgets.css",
            "loads https://example.org/inline.css",
            "runs an inline script twice: const X = 1",
        ],
        "_static/fonts.css": ["loads https://fonts.example.org/css?family=Roboto"],
    }


def test_no_page_of_the_book_loads_anything_from_the_internet(rendered_html):
    pages = pages_of(rendered_html)
    assert len(pages) >= 10, pages  # the chapters, the index, search, ...
    problems = page_problems(rendered_html)
    assert not problems, "\n".join(f"{p}: {'; '.join(v)}" for p, v in problems.items())


def test_math_and_widget_state_use_the_vendored_scripts(rendered_html):
    """Pages with math load the vendored MathJax; the explorer's page carries its
    widget state and the vendored manager that renders it."""
    vendor = rendered_html / "_static" / "vendor"
    for name in ("mathjax/tex-mml-chtml.js", "require.js", "html-manager/embed-amd.js"):
        assert (vendor / name).is_file(), name
    explore = (rendered_html / "book" / "07_explore.html").read_text()
    assert "application/vnd.jupyter.widget-state+json" in explore
    assert "_static/vendor/html-manager/embed-amd.js" in explore
    with_math = [
        page.name
        for page in sorted((rendered_html / "book").glob("*.html"))
        if "_static/vendor/mathjax/tex-mml-chtml.js" in page.read_text()
    ]
    assert "04_devise.html" in with_math, with_math
