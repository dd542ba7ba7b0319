"""The course site: it builds with ``mkdocs build --strict`` and, once built, asks no other host
for anything: no CDN script, stylesheet, font or image. Mermaid and search come from files
shipped with the site (``docs/assets/vendor/``, Material's own search assets).

The site is built once per test session, into a temporary folder.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import load_hook

ROOT = Path(__file__).resolve().parents[1]
MERMAID = "assets/vendor/mermaid/mermaid.min.js"
SHIM = "assets/vendor/iframe-worker/shim.js"
CDN_NAMES = (
    "unpkg.com",
    "jsdelivr",
    "cdnjs",
    "fonts.googleapis",
    "fonts.gstatic",
    "api.github.com",
    "googletagmanager",
)


def run_mkdocs(config_dir: Path, out: Path, config: Path | None = None):
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)]
    if config is not None:
        cmd += ["-f", str(config)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(cmd, cwd=config_dir, env=env, capture_output=True, text=True, timeout=300)


def build_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course site, built with ``--strict`` once per test session.

    Every test module that asks gets the same folder (tests/test_search.py too): the folder's
    name in the session's base temporary directory is the key, so it does not matter under
    which name a module imported this one.
    """
    base = tmp_path_factory.getbasetemp()
    out, done = base / "course-site", base / "course-site.built"
    if not done.is_file():
        proc = run_mkdocs(ROOT, out)
        if proc.returncode != 0:
            pytest.fail(
                f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}", pytrace=False
            )
        done.touch()
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_site(tmp_path_factory)


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


# --------------------------------------------------------------------------- the scanner

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
# <link rel=...> values that name another document rather than load something into the page.
NAVIGATION_RELS = {"canonical", "alternate", "prev", "next", "author", "license", "help"}
# element -> attributes that make the browser fetch something when the page loads
ASSET_ATTRIBUTES = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "source": ("src", "srcset"),
    "track": ("src",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "input": ("src",),
    "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"),
    "base": ("href",),
}
CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.I)
CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.I)


def is_external(url: str) -> bool:
    """Does fetching this URL leave the machine? Relative paths and data: URLs do not."""
    url = url.strip()
    if url.startswith("//"):
        url = "http:" + url
    parts = urlsplit(url)
    if not parts.netloc:
        return False  # relative, data:, blob:, javascript:, file:///...
    return (parts.hostname or "").lower() not in LOCAL_HOSTS


def _srcset_urls(value: str) -> list[str]:
    return [item.strip().split()[0] for item in value.split(",") if item.strip()]


def css_external_urls(css: str) -> list[str]:
    urls = [next(g for g in m.groups() if g is not None) for m in CSS_URL.finditer(css)]
    urls += [next(g for g in m.groups() if g is not None) for m in CSS_IMPORT.finditer(css)]
    return [url for url in urls if is_external(url)]


class _AssetParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        urls: list[str] = []
        if tag == "link":
            rels = set(values.get("rel", "").lower().split())
            if not rels or not rels <= NAVIGATION_RELS:
                urls.append(values.get("href", ""))
        for attr in ASSET_ATTRIBUTES.get(tag, ()):
            if attr in values:
                value = values[attr]
                urls.extend(_srcset_urls(value) if attr == "srcset" else [value])
        self.found += [f"<{tag}> {url}" for url in urls if is_external(url)]
        if "style" in values:
            self.found += [f"<{tag} style> {url}" for url in css_external_urls(values["style"])]
        self._in_style = tag == "style"

    def handle_startendtag(self, tag, attrs) -> None:
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.found += [f"<style> {url}" for url in css_external_urls(data)]


def html_external_assets(text: str) -> list[str]:
    """Everything in a page that would be fetched from another host when the page loads.

    Plain ``<a href>`` links are not fetched, so they are not counted.
    """
    parser = _AssetParser()
    parser.feed(text)
    parser.close()
    return parser.found


def test_scanner_catches_an_external_script():
    page = '<html><head><script src="https://unpkg.com/x.js"></script></head></html>'
    assert html_external_assets(page) == ["<script> https://unpkg.com/x.js"]


@pytest.mark.parametrize(
    "snippet",
    [
        '<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Roboto">',
        '<link rel="preload" as="font" href="https://fonts.gstatic.com/a.woff2">',
        '<link rel="icon" href="http://cdn.example.com/favicon.png">',
        '<link rel="manifest" href="https://example.com/site.webmanifest">',
        '<img srcset="a.png 1x, https://cdn.example.com/a@2x.png 2x">',
        '<iframe src="https://www.youtube.com/embed/x"></iframe>',
        '<svg><use href="https://example.com/sprite.svg#i"/></svg>',
        '<div style="background: url(https://example.com/bg.png)"></div>',
        "<style>@import 'https://example.com/theme.css';</style>",
        '<style>body { background: url("https://example.com/bg.png") }</style>',
    ],
)
def test_scanner_catches_other_external_assets(snippet):
    assert html_external_assets(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        '<a href="https://docs.aws.amazon.com/IAM/latest/UserGuide/">IAM docs</a>',
        '<link rel="canonical" href="https://example.com/page/">',
        '<link rel="next" href="getting-started.html">',
        '<script src="assets/vendor/mermaid/mermaid.min.js"></script>',
        '<script src="../assets/javascripts/bundle.js"></script>',
        '<img src="data:image/png;base64,AAAA">',
        '<img src="http://127.0.0.1:8000/logo.png">',
        "<div style=\"background: url('data:image/svg+xml;charset=utf-8,<svg/>')\"></div>",
    ],
)
def test_scanner_ignores_links_and_local_assets(snippet):
    assert html_external_assets(snippet) == []


def test_css_scanner():
    css = """
    @import "https://fonts.googleapis.com/css2?family=Inter";
    @font-face { src: url(https://fonts.gstatic.com/x.woff2) format("woff2"); }
    .icon { mask: url("data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>") }
    .logo { background: url('../images/logo.png') }
    """
    assert css_external_urls(css) == [
        "https://fonts.gstatic.com/x.woff2",
        "https://fonts.googleapis.com/css2?family=Inter",
    ]


# --------------------------------------------------------------------------- the built site


def test_strict_build_succeeds(site):
    assert (site / "index.html").is_file()
    assert (site / "least-privilege" / "lab3.html").is_file()


def test_no_page_or_stylesheet_loads_anything_from_another_host(site):
    offenders = []
    for page in pages(site):
        for asset in html_external_assets(page.read_text(encoding="utf-8")):
            offenders.append(f"{page.relative_to(site)}: {asset}")
    for sheet in sorted(site.rglob("*.css")):
        for url in css_external_urls(sheet.read_text(encoding="utf-8")):
            offenders.append(f"{sheet.relative_to(site)}: {url}")
    assert offenders == []


def test_no_cdn_named_in_pages_or_stylesheets(site):
    offenders = []
    for path in [*pages(site), *sorted(site.rglob("*.css"))]:
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(site)}: {name}" for name in CDN_NAMES if name in text]
    assert offenders == []


def _script_srcs(page: Path) -> list[str]:
    return re.findall(r'<script[^>]*\ssrc="([^"]+)"', page.read_text(encoding="utf-8"))


def test_every_page_loads_the_vendored_mermaid_and_worker_shim(site):
    for page in pages(site):
        srcs = _script_srcs(page)
        for wanted in (MERMAID, SHIM):
            matches = [s for s in srcs if s.endswith(wanted)]
            assert matches, f"{page.relative_to(site)} does not load {wanted}"
            assert (page.parent / matches[0]).resolve() == (site / wanted).resolve()
        shims = [s for s in srcs if "iframe-worker" in s]
        assert len(shims) == 1, f"{page.relative_to(site)}: {shims}"


def test_vendored_scripts_and_licenses_are_shipped(site):
    mermaid = (site / MERMAID).read_text(encoding="utf-8")
    assert len(mermaid) > 1_000_000
    assert 'globalThis["mermaid"]' in mermaid  # Material uses this global instead of a CDN
    assert (site / SHIM).stat().st_size > 500
    assert (site / "assets/vendor/mermaid/LICENSE").is_file()
    assert (site / "assets/vendor/iframe-worker/LICENSE").is_file()
    assert (ROOT / "docs/assets/vendor/README.md").is_file()


def test_mermaid_fences_become_the_markup_material_renders(site):
    page = (site / "least-privilege" / "index.html").read_text(encoding="utf-8")
    blocks = re.findall(r'<pre class="mermaid"><code>(.*?)</code></pre>', page, re.S)
    assert blocks, "no <pre class=mermaid> on the least-privilege page"
    assert "flowchart" in html.unescape(blocks[0])
    assert '<pre class="mermaid"><code>sequenceDiagram' in (site / "fapi/index.html").read_text(
        encoding="utf-8"
    )


def test_search_works_offline(site):
    # The offline plugin inlines the index in a script (fetch fails from file://); Japanese
    # needs lunr's ja support and its segmenter, shipped with Material.
    assert (site / "search" / "search_index.js").is_file()
    lunr = site / "assets" / "javascripts" / "lunr"
    assert (lunr / "min" / "lunr.ja.min.js").is_file()
    assert (lunr / "tinyseg.js").is_file()


def test_pages_are_plain_files_for_file_urls(site):
    # use_directory_urls is off (offline plugin): links work without a web server.
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="least-privilege/lab3.html"' in index


# The footer's credit to the theme, on every page: a plain link that loads nothing.
THEME_CREDIT = "https://squidfunk.github.io/mkdocs-material/"


class _UrlParser(HTMLParser):
    """Every URL a page names in an attribute: (tag, attribute, url)."""

    URL_ATTRIBUTES = {"href", "src", "srcset", "data", "poster", "action", "xlink:href"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in self.URL_ATTRIBUTES and value:
                urls = _srcset_urls(value) if name == "srcset" else [value]
                self.found += [(tag, name, url.strip()) for url in urls]


def page_urls(text: str) -> list[tuple[str, str, str]]:
    parser = _UrlParser()
    parser.feed(text)
    parser.close()
    return parser.found


def not_openable_from_disk(site: Path, page: str) -> list[str]:
    """What in a page at the root of ``site`` breaks when it is opened over file://: URLs
    that are root-relative (``/assets/...``; over file:// ``/`` is the root of the disk) or
    on another host, relative URLs that name no file of the site, and a Material config or
    storage scope whose base is not the page's folder."""
    offenders = []
    for tag, attr, url in page_urls(page):
        if url.startswith(("#", "data:")) or (tag == "a" and url == THEME_CREDIT):
            continue
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or url.startswith("/"):
            offenders.append(f"<{tag} {attr}> {url}: absolute or on another host")
        elif not (site / parts.path).is_file():
            offenders.append(f"<{tag} {attr}> {url}: no such file in the site")
    config = re.search(r'<script id="__config" type="application/json">(.*?)</script>', page, re.S)
    settings = json.loads(config.group(1)) if config else {}
    if settings.get("base") != ".":
        offenders.append(f"__config base {settings.get('base')!r}, not '.'")
    if not (site / settings.get("search", "/")).is_file():
        offenders.append(f"__config search {settings.get('search')!r}: no such file in the site")
    scope = re.search(r'__md_scope=new URL\("([^"]*)"', page)
    if scope is None or scope.group(1) != ".":
        offenders.append(f"__md_scope {scope and scope.group(1)!r}, not '.'")
    return offenders


def test_the_404_page_works_opened_from_disk(site):
    # MkDocs renders error pages with root-relative URLs, for servers that send 404.html for
    # a missing page at any depth; docs/overrides/404.html makes them relative.
    page = (site / "404.html").read_text(encoding="utf-8")
    assert sum(tag == "script" for tag, _, _ in page_urls(page)) >= 3  # assets were seen
    assert sum(tag == "a" for tag, _, _ in page_urls(page)) >= 10  # and the navigation
    assert not_openable_from_disk(site, page) == []


def test_the_404_check_catches_the_urls_mkdocs_gives_error_pages(site):
    # What 404.html held before the override: every URL from "/".
    page = (site / "404.html").read_text(encoding="utf-8")
    rooted = re.sub(r'((?:href|src)=")\./', r"\1/", page)
    rooted = rooted.replace('"base": "."', '"base": "/"').replace('new URL(".",', 'new URL("/",')
    assert rooted != page
    offenders = not_openable_from_disk(site, rooted)
    assert any("/assets/stylesheets/main." in o for o in offenders)
    assert any("<a href> /least-privilege/lab3.html" in o for o in offenders)
    assert "__config base '/', not '.'" in offenders
    assert "__md_scope '/', not '.'" in offenders


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_lab3_page_lists_every_check_of_the_grader(site):
    hook = load_hook()
    checks = hook.parse_checks(ROOT / "grader/checks/lab3.py")
    page = (site / "least-privilege" / "lab3.html").read_text(encoding="utf-8")
    start = page.index('id="what-the-grader-checks"')
    table = _text(page[start : page.index("</table>", start)])
    for check in checks:
        assert " ".join(check.sentence.replace("`", "").split()) in table, check.name
    assert f"Total {sum(c.points for c in checks)}" in table
    for task in range(1, 5):
        assert f'id="task-{task}"' in page  # the checks' failures link to these anchors


def test_cli_reference_shows_every_subcommand(site):
    hook = load_hook()
    parser = hook.load_cli_parser()
    page = (site / "reference" / "cli.html").read_text(encoding="utf-8")
    for _depth, sub in hook.subcommands(parser):
        anchor = "-".join(sub.prog.split())
        assert f'id="{anchor}"' in page, sub.prog
    assert "usage: grader iam simulate" in _text(page)


def test_a_marker_for_an_unknown_lab_fails_the_build(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Lab\n\n<!-- grader:checks lab99 -->\n")
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        textwrap.dedent(
            """\
            site_name: t
            theme: {name: mkdocs}
            plugins: [grader]
            """
        )
    )
    proc = run_mkdocs(tmp_path, tmp_path / "out", config)
    assert proc.returncode != 0
    assert "grader/checks/lab99.py does not exist" in proc.stdout + proc.stderr
