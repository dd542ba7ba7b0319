"""The MkDocs plugin (grader/course/mkdocs_hook.py): the checks table read with ast from a checks module,
and the CLI help rendered from an argparse parser."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

from tests.conftest import load_hook

hook = load_hook()

MODULE = '''
"""A lab's checks."""

import pytest

HELPER = 1


def helper():
    """Not a check: its name does not start with test_."""


@pytest.mark.check(task=3, points=0, gate=True)
def test_files_parse(lab_dir):
    """Both files parse.

    Details for maintainers, not shown to the learner.
    """


@pytest.mark.check(task=1, points=5)
def test_viewer_sees(policies):
    """The viewer can
    describe `ec2:Describe*` instances | and more."""


@pytest.mark.check(task=2, points=3)
def test_operator_acts(policies):
    """The operator starts only dev* instances."""
'''


def write(tmp_path: Path, source: str, lab: str = "labx") -> Path:
    folder = tmp_path / "grader" / "checks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{lab}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def test_checks_are_read_in_file_order_with_marks_and_first_paragraph(tmp_path):
    checks = hook.parse_checks(write(tmp_path, MODULE))
    assert [(c.name, c.task, c.points, c.gate) for c in checks] == [
        ("test_files_parse", 3, 0, True),
        ("test_viewer_sees", 1, 5, False),
        ("test_operator_acts", 2, 3, False),
    ]
    assert checks[0].sentence == "Both files parse."
    assert checks[1].sentence == "The viewer can describe `ec2:Describe*` instances | and more."


def test_the_module_is_not_imported(tmp_path):
    source = MODULE + "\nraise SystemExit('imported!')\n"
    assert len(hook.parse_checks(write(tmp_path, source))) == 3


def test_table_marks_gates_totals_points_and_keeps_markdown_literal(tmp_path):
    table = hook.render_checks_table(hook.parse_checks(write(tmp_path, MODULE)))
    lines = table.splitlines()
    assert lines[0] == "| Task | What the grader checks | Points |"
    assert lines[2] == f"| 3 | Both files parse.<br>{hook.GATE_NOTE} | 0 |"
    # code spans stay code; a pipe outside them does not split the cell
    assert lines[3] == (
        "| 1 | The viewer can describe `ec2:Describe*` instances \\| and more. | 5 |"
    )
    assert lines[4] == "| 2 | The operator starts only dev\\* instances. | 3 |"
    assert lines[-1] == "| | **Total** | **8** |"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "import pytest\n@pytest.mark.check(task=1, points=1)\ndef test_a():\n    pass\n",
            "test_a: the check has no docstring",
        ),
        ('def test_a():\n    """Checks."""\n', "needs exactly one @pytest.mark.check"),
        (
            'import pytest\n@pytest.mark.check(1, 2)\ndef test_a():\n    """C."""\n',
            "by keyword",
        ),
        (
            'import pytest\n@pytest.mark.check(task=1)\ndef test_a():\n    """C."""\n',
            "points= must be",
        ),
        (
            "import pytest\n@pytest.mark.check(task=1, points=1, weight=2)\ndef test_a():\n"
            '    """C."""\n',
            "unknown check mark argument(s): weight",
        ),
        (
            'import pytest\n@pytest.mark.check(task=1, points=1, gate="tasks")\ndef test_a():\n'
            '    """C."""\n',
            'gate= must be True, False or "task"',
        ),
        ("import pytest\n", "no checks found"),
        ("def test_a(:\n", "cannot parse"),
    ],
)
def test_bad_checks_modules_stop_the_build_with_a_clear_message(tmp_path, source, message):
    path = write(tmp_path, source)
    with pytest.raises(PluginError) as info:
        hook.parse_checks(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_a_marker_naming_a_lab_without_checks_is_an_error(tmp_path):
    write(tmp_path, MODULE, lab="labx")
    page = "# Lab\n\n<!-- grader:checks labx -->\n\nmore"
    checks = tmp_path / "grader" / "checks"
    assert "| 3 | Both files parse." in hook.expand_markers(page, checks_dir=checks)
    with pytest.raises(PluginError, match=r"grader/checks/lab9\.py does not exist"):
        hook.expand_markers("<!-- grader:checks lab9 -->", checks_dir=checks)


def test_an_unknown_marker_is_an_error(tmp_path):
    with pytest.raises(PluginError, match="unknown marker <!-- grader:chekcs lab3 -->"):
        hook.expand_markers("<!-- grader:chekcs lab3 -->", "x.md")


def small_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tool", description="A tool.")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", aliases=["r"], help="run it", description="Run something.")
    run.add_argument("target", help="what to run")
    group = sub.add_parser("group", help="a group")
    inner = group.add_subparsers(dest="inner")
    inner.add_parser("leaf", description="The leaf.")
    return parser


def test_cli_help_has_each_subcommand_once_nested_ones_one_level_deeper():
    text = hook.render_cli_help(small_parser())
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        "### `tool`",
        "### `tool run`",
        "### `tool group`",
        "#### `tool group leaf`",
    ]
    assert "usage: tool run [-h] target" in text
    assert "Run something." in text and "The leaf." in text
    assert text.count("```text") == 4


def test_cli_help_does_not_depend_on_the_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "30")
    narrow_env_result = hook.render_cli_help(small_parser())
    monkeypatch.setenv("COLUMNS", "200")
    assert hook.render_cli_help(small_parser()) == narrow_env_result


def test_the_cli_help_marker_renders_the_real_grader_command():
    text = hook.expand_markers("<!-- grader:cli-help -->")
    assert "### `grader`" in text and "#### `grader iam simulate`" in text
