"""The ``grader`` MkDocs plugin: pages generated from the grader itself, so the docs cannot
drift from it. ``mkdocs.yml`` names it under ``plugins:`` (an entry point in pyproject.toml).

Two markers are replaced in ``on_page_markdown``:

``<!-- grader:checks LAB -->``
    A table of the checks in ``grader/checks/LAB.py`` (the installed grader's): task, the
    sentence the learner reads (the first paragraph of the check's docstring) and points,
    gates marked. The module is read with :mod:`ast`, never imported, so building the docs
    runs no check code.

``<!-- grader:cli-help -->``
    The ``--help`` text of every ``grader`` subcommand, from ``grader.cli.build_parser()``.

Any problem (unknown lab, a check with no docstring or no ``check`` mark) raises
:class:`mkdocs.exceptions.PluginError`, which stops the build with a message.

``mkdocs.yml`` lists the plugin as ``grader`` under ``plugins:``; the installed package
registers it (``pyproject.toml``, entry point group ``mkdocs.plugins``), so any copy of the
course builds with the installed grader's checks, with no path to this file and no
``sys.path`` edits.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin

from grader.course.checkinfo import CheckInfo, read_checks
from grader.course.labs import CHECKS_DIR
from grader.errors import CheckInfoError

CHECKS_MARKER = re.compile(r"<!--\s*grader:checks\s+(?P<lab>[A-Za-z0-9_]+)\s*-->")
CLI_MARKER = re.compile(r"<!--\s*grader:cli-help\s*-->")
ANY_MARKER = re.compile(r"<!--\s*grader:(?P<rest>[^>]*?)\s*-->")

GATE_NOTE = "*Gate: later checks are skipped if this fails.*"
HELP_WIDTH = 88


def parse_checks(path: Path) -> list[CheckInfo]:
    """The checks of one checks module, in file order, read without importing it."""
    try:
        return read_checks(path)
    except CheckInfoError as exc:
        raise PluginError(str(exc)) from None


_CODE_SPAN = re.compile(r"(`+)(?:.+?)\1")
_MARKDOWN_SPECIAL = re.compile(r"([\\*_|\[\]])")


def _cell(text: str) -> str:
    """A sentence as a table cell: literal text, except that `code spans` stay code."""
    out, pos = [], 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_plain(text[pos : match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_plain(text[pos:]))
    return "".join(out)


def _plain(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def render_checks_table(checks: list[CheckInfo]) -> str:
    rows = ["| Task | What the grader checks | Points |", "|:---:|---|---:|"]
    for check in checks:
        what = _cell(check.sentence)
        if check.gate:
            what += f"<br>{GATE_NOTE}"
        rows.append(f"| {check.task} | {what} | {check.points} |")
    total = sum(check.points for check in checks)
    rows.append(f"| | **Total** | **{total}** |")
    return "\n".join(rows)


def checks_table(lab: str, checks_dir: Path = CHECKS_DIR) -> str:
    module = checks_dir / f"{lab}.py"
    if not module.is_file():
        raise PluginError(
            f"<!-- grader:checks {lab} --> names a lab with no checks module:"
            f" grader/checks/{lab}.py does not exist"
        )
    return render_checks_table(parse_checks(module))


# --------------------------------------------------------------------------- CLI help


def subcommands(
    parser: argparse.ArgumentParser, depth: int = 1
) -> Iterator[tuple[int, argparse.ArgumentParser]]:
    """Each subcommand's parser and its depth, depth first, in the order they were added.

    argparse keeps no public list of subparsers; the ``_SubParsersAction`` among the parser's
    actions holds them in ``choices`` (an alias maps to the same parser, so it is listed once).
    """
    seen: set[int] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                if id(sub) in seen:
                    continue
                seen.add(id(sub))
                yield depth, sub
                yield from subcommands(sub, depth + 1)


@contextmanager
def _fixed_terminal() -> Iterator[None]:
    """argparse wraps help to the terminal's width: make it the same on every machine."""
    saved = {key: os.environ.get(key) for key in ("COLUMNS", "NO_COLOR")}
    os.environ["COLUMNS"] = str(HELP_WIDTH + 2)
    os.environ["NO_COLOR"] = "1"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def render_cli_help(parser: argparse.ArgumentParser, level: int = 3) -> str:
    """A heading and a text block with ``format_help()`` for the parser and each subcommand.

    The program and its direct subcommands get headings of ``level``; a nested subcommand
    (``grader iam simulate``) one level deeper per step.
    """
    parts: list[str] = []
    with _fixed_terminal():
        for depth, sub in [(1, parser), *subcommands(parser)]:
            hashes = "#" * min(6, level + depth - 1)
            text = sub.format_help().rstrip()
            parts.append(f"{hashes} `{sub.prog}`\n\n```text\n{text}\n```")
    return "\n\n".join(parts)


def load_cli_parser() -> argparse.ArgumentParser:
    from grader.cli import build_parser

    return build_parser()


# --------------------------------------------------------------------------- the hook


def expand_markers(markdown: str, page_name: str = "page", checks_dir: Path = CHECKS_DIR) -> str:
    """The page's Markdown with every grader marker replaced; unknown markers are errors."""

    def checks(match: re.Match[str]) -> str:
        return checks_table(match.group("lab"), checks_dir)

    def cli(_match: re.Match[str]) -> str:
        return render_cli_help(load_cli_parser())

    markdown = CHECKS_MARKER.sub(checks, markdown)
    markdown = CLI_MARKER.sub(cli, markdown)
    leftover = ANY_MARKER.search(markdown)
    if leftover:
        raise PluginError(f"{page_name}: unknown marker <!-- grader:{leftover.group('rest')} -->")
    return markdown


class GraderPlugin(BasePlugin):
    """The ``grader`` MkDocs plugin: expands the grader's markers in every page."""

    def on_page_markdown(self, markdown: str, *, page, config, files) -> str:  # noqa: ARG002
        if "grader:" not in markdown:
            return markdown
        return expand_markers(markdown, page.file.src_uri)
