"""Every `grader ...` command the course shows works as shown: each one in a fenced code
block of docs/**/*.md and in an inline code span of a lab's hints (labs/*/lab.toml) is run,
as a learner would paste it, on a fresh copy of the course with the starter files in place.
It may exit 0 (all is well) or 1 (a check failed, or the tool reported a finding: both are
what a learner on the starters expects), never 2 (a usage or input error: the command as
printed is wrong) or anything else."""

from __future__ import annotations

import re
import shlex
import shutil
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_course, run_grader

FENCE = re.compile(r"^(\s*)(```|~~~)[^\n]*\n(.*?)^\1\2\s*$", re.M | re.S)
INLINE = re.compile(r"`(grader [^`]+)`")
# Commands that never end by themselves; each is tested on its own elsewhere.
NEVER_ENDS = {
    "docs": "serves the site until interrupted (tests/test_docs_command.py runs it)",
    "watch": "waits for changes until interrupted (tests/test_learner.py covers it)",
}


def _from_markdown(path: Path) -> list[str]:
    found = []
    for block in FENCE.finditer(path.read_text(encoding="utf-8")):
        text = re.sub(r"\\\n\s*", " ", block.group(3))  # join continued lines
        for line in text.splitlines():
            line = line.strip().removeprefix("$ ").strip()
            if line.startswith("grader "):
                found.append(line)
    return found


def _from_hints(path: Path) -> list[str]:
    lab = tomllib.loads(path.read_text(encoding="utf-8"))
    return [
        " ".join(match.split())
        for hint in lab.get("hints", [])
        for match in INLINE.findall(hint["text"])
    ]


def shown_commands() -> list[tuple[str, str]]:
    """(where, command) for every grader command the docs and hints show."""
    out = []
    for path in sorted((ROOT / "docs").rglob("*.md")):
        out += [(str(path.relative_to(ROOT)), c) for c in _from_markdown(path)]
    for path in sorted((ROOT / "labs").glob("*/lab.toml")):
        out += [(str(path.relative_to(ROOT)), c) for c in _from_hints(path)]
    return sorted(set(out))


COMMANDS = shown_commands()


def test_the_docs_and_hints_show_commands_of_every_kind():
    verbs = {as_arguments(c)[1] for _, c in COMMANDS}
    assert {"check", "iam", "trail", "hint", "docs"} <= verbs, verbs
    assert any(where.endswith("lab.toml") for where, _ in COMMANDS)


# The instructors' page grades a folder of submissions in a shell loop: its variables are
# one learner's folder (a copy of lab3's starters) and name, its redirections are the shell's.
SHELL_VARIABLES = {"$dir": "submissions/alice/", "$name": "alice"}


def as_arguments(command: str) -> list[str]:
    """The command's arguments as the shell would pass them: variables filled in, and the
    redirection (``> FILE``) left to the shell."""
    args = []
    for arg in shlex.split(command, comments=True):
        if arg.startswith(">"):
            break
        for variable, value in SHELL_VARIABLES.items():
            arg = arg.replace(variable, value)
        args.append(arg)
    return args


def fresh_course(target: Path) -> Path:
    """A copy of the course, starters in place, with the instructors' layout beside it."""
    course = copy_course(target)
    shutil.copytree(course / "labs" / "lab3", course / "submissions" / "alice")
    (course / "results").mkdir()
    return course


@pytest.mark.parametrize(("where", "command"), COMMANDS, ids=[f"{w}: {c}" for w, c in COMMANDS])
def test_a_shown_command_runs_as_printed(where, command, tmp_path):
    args = as_arguments(command)
    assert args[0] == "grader"
    if args[1] in NEVER_ENDS:
        pytest.skip(f"grader {args[1]} {NEVER_ENDS[args[1]]}")
    course = fresh_course(tmp_path / "course")
    done = run_grader(*args[1:], cwd=course, timeout=300)
    assert done.returncode in (0, 1), (
        f"{where}: `{command}` exited {done.returncode}\n{done.stderr[-1500:]}"
    )
