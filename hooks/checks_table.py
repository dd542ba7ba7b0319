"""MkDocs hook: pages generated from the grader itself, so the docs cannot drift from it.

Two markers are replaced in ``on_page_markdown``:

``<!-- grader:checks LAB -->``
    A table of the checks in ``grader/checks/LAB.py``: task, the sentence the learner reads
    (the first paragraph of the check's docstring) and points, gates marked. The module is read
    with :mod:`ast`, never imported, so building the docs runs no check code.

``<!-- grader:cli-help -->``
    The ``--help`` text of every ``grader`` subcommand, from ``grader.cli.build_parser()``.

Any problem (unknown lab, a check with no docstring or no ``check`` mark, a CLI that cannot be
imported) raises :class:`mkdocs.exceptions.PluginError`, which stops the build with a message.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mkdocs.exceptions import PluginError

# hooks/ sits beside the grader package; the checks convention lives in grader.checkinfo.
_grader_root = str(Path(__file__).resolve().parents[1])
if _grader_root not in sys.path:
    sys.path.insert(0, _grader_root)
from grader.checkinfo import CheckInfo, CheckInfoError, read_checks  # noqa: E402

CHECKS_MARKER = re.compile(r"<!--\s*grader:checks\s+(?P<lab>[A-Za-z0-9_]+)\s*-->")
CLI_MARKER = re.compile(r"<!--\s*grader:cli-help\s*-->")
ANY_MARKER = re.compile(r"<!--\s*grader:(?P<rest>[^>]*?)\s*-->")

GATE_NOTE = "*Gate: later checks are skipped if this fails.*"
HELP_WIDTH = 88


def _grader_import(root: Path) -> None:
    """Make the course's own ``grader`` package importable (hooks run outside it)."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))


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


def checks_table(root: Path, lab: str) -> str:
    module = root / "grader" / "checks" / f"{lab}.py"
    if not module.is_file():
        raise PluginError(
            f"<!-- grader:checks {lab} --> names a lab with no checks module:"
            f" {module.relative_to(root)} does not exist"
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


def load_cli_parser(root: Path) -> argparse.ArgumentParser:
    _grader_import(root)
    try:
        cli = importlib.import_module("grader.cli")
    except ImportError as exc:
        raise PluginError(
            f"<!-- grader:cli-help --> needs grader.cli.build_parser(), but grader.cli"
            f" cannot be imported: {exc}"
        ) from None
    build = getattr(cli, "build_parser", None)
    if build is None:
        raise PluginError("<!-- grader:cli-help --> needs grader.cli.build_parser(); it is missing")
    parser = build()
    if not isinstance(parser, argparse.ArgumentParser):
        raise PluginError("grader.cli.build_parser() must return an argparse.ArgumentParser")
    return parser


# --------------------------------------------------------------------------- the hook


def expand_markers(markdown: str, root: Path, page_name: str = "page") -> str:
    """The page's Markdown with every grader marker replaced; unknown markers are errors."""

    def checks(match: re.Match[str]) -> str:
        return checks_table(root, match.group("lab"))

    def cli(_match: re.Match[str]) -> str:
        return render_cli_help(load_cli_parser(root))

    markdown = CHECKS_MARKER.sub(checks, markdown)
    markdown = CLI_MARKER.sub(cli, markdown)
    leftover = ANY_MARKER.search(markdown)
    if leftover:
        raise PluginError(f"{page_name}: unknown marker <!-- grader:{leftover.group('rest')} -->")
    return markdown


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 (hook API)
    if "grader:" not in markdown:
        return markdown
    root = Path(config.config_file_path).resolve().parent
    return expand_markers(markdown, root, page.file.src_uri)
