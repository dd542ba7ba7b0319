"""The course site on the learner's machine: where a docs reference points, building the
site when it is missing or stale, and serving it on 127.0.0.1 (``grader docs``).

The site is built for reading offline (the offline plugin: pages are ``.html`` files, the
search index is inlined), so a page opens straight from disk. A check's ``read:`` link is
a ``file://`` URL into the built site when there is one, so it works with no server; when
there is none it is the address ``grader docs`` serves, and the report says to run it.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from grader.course.labs import CHECKS_DIR
from grader.errors import ExitCode, GraderError

SITE_FOLDER = "site"
HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# What the site is built from: a change to any of these makes the built site stale.
SOURCES = ("mkdocs.yml", "docs", "docs_src")


def page_and_anchor(ref: str) -> tuple[str, str]:
    """``least-privilege/lab3.md#task-1`` as (``least-privilege/lab3.html``, ``task-1``)."""
    page, _, anchor = ref.partition("#")
    return f"{page.removesuffix('.md')}.html", anchor


def served_url(ref: str, port: int = DEFAULT_PORT) -> str:
    """A docs reference as ``grader docs`` serves it."""
    page, anchor = page_and_anchor(ref)
    return f"http://{HOST}:{port}/{page}" + (f"#{anchor}" if anchor else "")


def docs_link(root: Path, ref: str | None) -> str | None:
    """Where to read ``ref``: the built page on disk when the site is built, else the
    address ``grader docs`` serves it at."""
    if not ref:
        return None
    page, anchor = page_and_anchor(ref)
    built = Path(root) / SITE_FOLDER / page
    if built.is_file():
        return built.resolve().as_uri() + (f"#{anchor}" if anchor else "")
    return served_url(ref)


def site_hint(root: Path) -> str | None:
    """One line for the end of a report whose links need ``grader docs``, else None."""
    if (Path(root) / SITE_FOLDER / "index.html").is_file():
        return None
    return "The read: links open once the course site runs: `grader docs` builds it and opens it."


def _newest(paths: Iterator[Path]) -> float:
    return max((p.stat().st_mtime for p in paths if p.is_file()), default=0.0)


def is_stale(root: Path) -> bool:
    """Whether the built site is missing or older than a page, the config or a check (the
    checks tables are built from the checks' docstrings)."""
    root = Path(root)
    index = root / SITE_FOLDER / "index.html"
    if not index.is_file():
        return True
    sources: list[Path] = []
    for name in SOURCES:
        path = root / name
        sources.extend(path.rglob("*") if path.is_dir() else [path])
    sources.extend(CHECKS_DIR.glob("*.py"))
    return _newest(iter(sources)) > index.stat().st_mtime


def build(root: Path) -> None:
    """``mkdocs build`` into ``site/``; a failure is one GraderError with MkDocs' last words."""
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--quiet", "--site-dir", SITE_FOLDER],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise GraderError(
            f"the course site could not be built: {tail}", file=Path(root) / "mkdocs.yml"
        )


def build_if_stale(root: Path, say: Callable[[str], None]) -> bool:
    """Build the site when it is missing or stale; True when it was built."""
    if not is_stale(root):
        return False
    say("Building the course site (a few seconds)...")
    build(root)
    return True


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the API's name)
        pass


def bind(root: Path, port: int | None) -> http.server.ThreadingHTTPServer:
    """A server for the built site on 127.0.0.1 only: ``port``, or 8000, or any free port
    when 8000 is taken (``port=0`` asks for any free port)."""
    handler = functools.partial(_Quiet, directory=str(Path(root) / SITE_FOLDER))
    tries = [port] if port is not None else [DEFAULT_PORT, 0]
    for i, number in enumerate(tries):
        try:
            return http.server.ThreadingHTTPServer((HOST, number), handler)
        except OSError as exc:
            if i == len(tries) - 1:
                raise GraderError(
                    f"cannot serve the site on {HOST}:{number} ({exc.strerror})"
                ) from None
    raise AssertionError("unreachable")


def serve(root: Path, *, port: int | None, open_browser: bool, say: Callable[[str], None]) -> int:
    """Serve the built site until Ctrl+C; open the browser on it unless told not to."""
    server = bind(root, port)
    url = f"http://{HOST}:{server.server_address[1]}/"
    say(f"Serving the course at {url} (Ctrl+C to stop)")
    if open_browser:
        import webbrowser

        threading.Timer(0.2, webbrowser.open, args=(url,)).start()
    try:
        server.serve_forever()
    finally:
        with contextlib.suppress(Exception):
            server.server_close()
    return ExitCode.OK
