"""Every `grader ...` command the course shows works as shown: each one in a fenced code
block of docs/**/*.md and in an inline code span of a lab's hints (labs/*/lab.toml) is run,
as a learner would paste it, on a fresh copy of the course with the starter files in place.
It may exit 0 (all is well) or 1 (a check failed, or the tool reported a finding: both are
what a learner on the starters expects), never 2 (a usage or input error: the command as
printed is wrong) or anything else.

Where a page states what a command prints (a "Predict first" answer, a sentence such as
"on the starter file every attempt is allowed"), the claim is written next to the command
as an HTML comment on the line right before its fenced block, and the command's real output
must agree:

    <!-- expect: implicitDeny -->                 on the course as shipped (the starters)
    <!-- expect solved: allowed, explicitDeny --> with each lab's reference solution in place

One value per `grader` command of the block, in order, or one value for all of them. A
decision (`allowed`, `explicitDeny`, `implicitDeny`) must be the first word the command
prints, as `grader iam simulate` prints its decision; any other value must occur in the
output. Both kinds of marker may stand before the same block. A marker that is not right
before a fenced block, or whose count of values does not fit, is an error, and every
"Answer" box that is followed by a command (or holds one) must carry a marker for it, so
that a page cannot state a result the test does not check.

A hint states a result the same way in its own table of labs/*/lab.toml, beside its text:
`expect = ["allowed"]` (starters) or `expect_solved = ["explicitDeny"]` (solutions), one
value per command of the hint or one for all.
"""

from __future__ import annotations

import re
import shlex
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_course, run_grader

FENCE = re.compile(r"^(\s*)(```|~~~)[^\n]*\n(.*?)^\1\2\s*$", re.M | re.S)
INLINE = re.compile(r"`(grader [^`]+)`")
# Commands that never end by themselves; each is tested on its own elsewhere.
NEVER_ENDS = {
    "docs": "serves the site until interrupted (tests/test_docs_command.py runs it)",
    "watch": "waits for changes until interrupted (tests/test_learner.py covers it)",
    "fapi serve": "serves the FAPI stack until interrupted (tests/test_fapi_serve.py runs it)",
}


def _block_commands(body: str) -> list[str]:
    """The grader commands of one fenced block, continued lines joined."""
    found = []
    text = re.sub(r"\\\n\s*", " ", body)
    for line in text.splitlines():
        line = line.strip().removeprefix("$ ").strip()
        if line.startswith("grader "):
            found.append(line)
    return found


def _from_markdown(path: Path) -> list[str]:
    found = []
    for block in FENCE.finditer(path.read_text(encoding="utf-8")):
        found += _block_commands(block.group(3))
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


# ---------------------------------------------------------------- what a page says a command prints

EXPECT = re.compile(r"^\s*<!--\s*expect(?P<solved>\s+solved)?:\s*(?P<values>[^>]+?)\s*-->\s*$")
DECISIONS = ("allowed", "explicitDeny", "implicitDeny")
ANSWER = re.compile(r'^[ \t]*\?\?\?\+? success "Answer"', re.M)


@dataclass(frozen=True)
class Claim:
    """A page's statement of what one command prints (see the module's docstring)."""

    where: str  # the marker's file:line
    command: str
    expected: str
    solved: bool  # on the reference solutions, not the starters


class MarkerError(ValueError):
    """An ``expect`` marker the test cannot apply: fix the page."""


def claims_in(path: Path, name: str | None = None) -> list[Claim]:
    """Every claim a page makes, from the markers right before its fenced blocks."""
    text = path.read_text(encoding="utf-8")
    name = name or str(path)
    lines = text.splitlines()
    used: set[int] = set()
    out: list[Claim] = []
    for block in FENCE.finditer(text):
        commands = _block_commands(block.group(3))
        # the fence's own line: the match may begin with the blank lines before it
        fence_line = text.count("\n", 0, block.start() + len(block.group(1)))
        line = fence_line - 1
        while line >= 0 and EXPECT.match(lines[line]):
            used.add(line)
            marker = EXPECT.match(lines[line])
            values = [v.strip() for v in marker["values"].split(",")]
            where = f"{name}:{line + 1}"
            if not commands:
                raise MarkerError(f"{where}: the block after the marker shows no grader command")
            if len(values) == 1:
                values *= len(commands)
            if len(values) != len(commands):
                raise MarkerError(
                    f"{where}: {len(values)} values for the block's {len(commands)} commands"
                )
            out += [
                Claim(where, command, value, bool(marker["solved"]))
                for command, value in zip(commands, values, strict=True)
            ]
            line -= 1
    stray = [n + 1 for n, line in enumerate(lines) if EXPECT.match(line) and n not in used]
    if stray:
        raise MarkerError(f"{name}: markers not right before a fenced block at lines {stray}")
    return out


def unclaimed_answers(path: Path) -> list[int]:
    """Lines of "Answer" boxes whose command (the first grader block after the box's
    start) carries no marker: a stated result the test would not check."""
    text = path.read_text(encoding="utf-8")
    marked = {c.command for c in claims_in(path)}
    missing = []
    for box in ANSWER.finditer(text):
        for block in FENCE.finditer(text, box.end()):
            commands = _block_commands(block.group(3))
            if commands:
                if not set(commands) <= marked:
                    missing.append(text.count("\n", 0, box.start()) + 1)
                break
    return missing


def decision_of(output: str) -> str:
    """The first word a command printed: the decision, for ``grader iam simulate``."""
    words = output.split()
    return words[0] if words else ""


def disagreement(claim: Claim, output: str) -> str | None:
    """What is wrong when the output does not say what the page claims, else None."""
    if claim.expected in DECISIONS:
        got = decision_of(output)
        if got != claim.expected:
            return f"{claim.where}: the page says {claim.expected}, `{claim.command}` printed {got}"
        return None
    if claim.expected not in output:
        return f"{claim.where}: the page says `{claim.command}` prints {claim.expected!r}"
    return None


def hint_claims(path: Path, name: str | None = None) -> list[Claim]:
    """The claims of a lab's hints: their ``expect`` and ``expect_solved`` lists."""
    name = name or str(path)
    out = []
    for i, hint in enumerate(tomllib.loads(path.read_text(encoding="utf-8")).get("hints", [])):
        commands = [" ".join(m.split()) for m in INLINE.findall(hint["text"])]
        for key, solved in (("expect", False), ("expect_solved", True)):
            values = hint.get(key)
            if values is None:
                continue
            values = [values] if isinstance(values, str) else list(values)
            if len(values) == 1:
                values *= len(commands)
            if not commands or len(values) != len(commands):
                raise MarkerError(
                    f"{name}: hints[{i}].{key} has {len(values)} values for "
                    f"{len(commands)} commands"
                )
            out += [
                Claim(f"{name}:hints[{i}]", c, v, solved)
                for c, v in zip(commands, values, strict=True)
            ]
    return out


def page_claims() -> list[Claim]:
    out = []
    for path in sorted((ROOT / "docs").rglob("*.md")):
        out += claims_in(path, str(path.relative_to(ROOT)))
    for path in sorted((ROOT / "labs").glob("*/lab.toml")):
        out += hint_claims(path, str(path.relative_to(ROOT)))
    return out


CLAIMS = page_claims()
ON_STARTERS: dict[tuple[str, str], list[Claim]] = {}
for _claim in CLAIMS:
    if not _claim.solved:
        _file = re.sub(r":(\d+|hints\[\d+\])$", "", _claim.where)
        ON_STARTERS.setdefault((_file, _claim.command), []).append(_claim)
ON_SOLUTIONS = [c for c in CLAIMS if c.solved]


def test_pages_that_state_a_result_mark_it():
    """Every "Answer" box with a command has a marker, and pages do state results."""
    for path in sorted((ROOT / "docs").rglob("*.md")):
        assert not unclaimed_answers(path), (str(path), unclaimed_answers(path))
    assert ON_STARTERS and ON_SOLUTIONS
    assert set(ON_STARTERS) <= set(COMMANDS)  # each claim reaches the run of its command
    assert any(c.where.endswith("]") for c in CLAIMS)  # hints state results too


def test_a_hint_states_a_result_beside_its_text(tmp_path):
    toml = tmp_path / "lab.toml"
    toml.write_text(
        '[[hints]]\ntask = 1\ntext = """Try `grader iam simulate --action a:B`."""\n'
        'expect_solved = ["explicitDeny"]\n'
    )
    [claim] = hint_claims(toml)
    assert (claim.command, claim.expected, claim.solved) == (
        "grader iam simulate --action a:B",
        "explicitDeny",
        True,
    )
    toml.write_text(toml.read_text().replace('["explicitDeny"]', '["allowed", "allowed"]'))
    with pytest.raises(MarkerError):
        hint_claims(toml)


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
    for words in (" ".join(args[1:3]), args[1]):
        if words in NEVER_ENDS:
            pytest.skip(f"grader {words} {NEVER_ENDS[words]}")
    course = fresh_course(tmp_path / "course")
    done = run_grader(*args[1:], cwd=course, timeout=300)
    assert done.returncode in (0, 1), (
        f"{where}: `{command}` exited {done.returncode}\n{done.stderr[-1500:]}"
    )
    wrong = [disagreement(c, done.stdout) for c in ON_STARTERS.get((where, command), [])]
    assert not any(wrong), "\n".join(filter(None, wrong)) + "\n" + done.stdout[-1500:]


@pytest.fixture(scope="module")
def solved_course(tmp_path_factory) -> Path:
    """A copy of the course with every lab's reference solution over its starters."""
    course = copy_course(tmp_path_factory.mktemp("solved") / "course")
    for solution in sorted((ROOT / "solutions").iterdir()):
        if solution.is_dir() and (course / "labs" / solution.name).is_dir():
            shutil.copytree(solution, course / "labs" / solution.name, dirs_exist_ok=True)
    return course


@pytest.mark.parametrize(
    "claim", ON_SOLUTIONS, ids=[f"{c.where}: {c.command}" for c in ON_SOLUTIONS]
)
def test_a_stated_result_on_the_solutions_is_what_the_command_prints(claim, solved_course):
    done = run_grader(*as_arguments(claim.command)[1:], cwd=solved_course, timeout=300)
    assert done.returncode in (0, 1), done.stderr[-1500:]
    assert disagreement(claim, done.stdout) is None, (
        disagreement(claim, done.stdout) + "\n" + done.stdout[-1500:]
    )


# ---------------------------------------------------------------- the convention, on a fake page

LAYER_1 = (
    "grader iam simulate --policy docs_src/least_privilege/ec2-full-access.json "
    "--principal arn:aws:sts::123456789012:assumed-role/Operator/nightly-stop "
    "--action ec2:TerminateInstances "
    "--resource arn:aws:ec2:ap-northeast-1:123456789012:instance/i-0123456789abcdef0"
)


def _page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    return page


def test_a_page_whose_claim_the_output_contradicts_fails(tmp_path):
    """A fake page claims explicitDeny for a request ec2:* allows: the test catches it, and
    accepts the same page once it says allowed."""
    command = LAYER_1.replace(" --", " \\\n  --")
    wrong = _page(tmp_path, f"# P\n\n<!-- expect: explicitDeny -->\n```bash\n{command}\n```\n")
    [claim] = claims_in(wrong)
    assert (
        " ".join(claim.command.split()) == LAYER_1
        and claim.expected == "explicitDeny"
        and not claim.solved
    )
    done = run_grader(*as_arguments(claim.command)[1:])
    assert done.returncode == 0
    assert "explicitDeny" in disagreement(claim, done.stdout)
    right = Claim(claim.where, claim.command, "allowed", False)
    assert disagreement(right, done.stdout) is None
    # "allowed" appears in the explanation of a denial too: a decision is the first word only
    denied = Claim(claim.where, claim.command, "allowed", False)
    assert disagreement(denied, "implicitDeny  x\n  implicitDeny: ... allowed by ...") is not None


def test_markers_read_per_command_and_per_state(tmp_path):
    page = _page(
        tmp_path,
        "<!-- expect: allowed -->\n<!-- expect solved: implicitDeny, explicitDeny -->\n"
        "```bash\ngrader iam simulate --action a:B\ngrader iam simulate --action c:D\n```\n",
    )
    claims = {(c.command, c.solved): c.expected for c in claims_in(page)}
    assert claims == {
        ("grader iam simulate --action a:B", False): "allowed",
        ("grader iam simulate --action c:D", False): "allowed",
        ("grader iam simulate --action a:B", True): "implicitDeny",
        ("grader iam simulate --action c:D", True): "explicitDeny",
    }


@pytest.mark.parametrize(
    "text",
    [
        "<!-- expect: allowed -->\n\nSome prose.\n\n```bash\ngrader iam simulate\n```\n",
        "<!-- expect: allowed, allowed -->\n```bash\ngrader iam simulate --action a:B\n```\n",
        "<!-- expect: allowed -->\n```bash\necho no grader here\n```\n",
    ],
    ids=["not before a block", "too many values", "no command"],
)
def test_a_marker_that_cannot_apply_is_an_error(tmp_path, text):
    with pytest.raises(MarkerError):
        claims_in(_page(tmp_path, text))


def test_an_answer_box_without_a_marker_is_reported(tmp_path):
    page = _page(
        tmp_path,
        '!!! question "Predict first"\n\n    Guess.\n\n    ??? success "Answer"\n\n'
        "        `allowed`.\n\n```bash\ngrader iam simulate --action a:B\n```\n",
    )
    assert unclaimed_answers(page) == [5]
