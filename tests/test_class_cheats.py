"""Does cheating pay class-wide? The cheat suite of #5, run through `grader class grade`.

One roster of lab4 learners (lab4's generator is learner code that runs in the jail) is
graded once through the real CLI: an honest learner whose generator fails, then one
learner per cheat (forging the result channel, patching the grader, ending the process at
import or in the call, an always-equal answer, reusing the grader's own code, a policy
hard-coded for the shipped sample trail) and a learner whose code fingerprints its
environment. Every cheat must score what the honest failure scores, or less, with a reason;
the fingerprint must be the one `grader check` gives the same code.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import textwrap
from pathlib import Path

import pytest

from grader.aws.trail import generate_trail
from tests.conftest import COURSE, ROOT, copy_course, run_grader
from tests.test_cheats import FORGE, HONEST_FAILURE

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="class grading needs the full jail (Linux)"
)

# (learner, generator, what the first check's failure must say)
CHEATS = [
    ("forger", FORGE, None),
    (
        "patcher",
        """
        import pytest, sys
        pytest.fail = lambda *a, **k: None
        sys.modules["grader"] = type(sys)("grader")
        def generate(records, principal_arn):
            raise ValueError("patched the grader, or so it thinks")
        """,
        "patched the grader",
    ),
    ("quitter", "import os\nos._exit(0)\ndef generate(records, principal_arn):\n    return {}\n",
     "ended"),
    ("leaver", "import os\ndef generate(records, principal_arn):\n    os._exit(0)\n",
     "ended before generate() returned"),
    (
        "flatterer",
        """
        class Always(dict):
            def __eq__(self, other):
                return True
            __hash__ = None
        def generate(records, principal_arn):
            return Always(Version="2012-10-17", Statement=object())
        """,
        "not plain JSON data",
    ),
    (
        "borrower",
        """
        from grader.aws.trail.policy import draft_policy
        def generate(records, principal_arn):
            return draft_policy(records, principal_arn)
        """,
        "learner code runs without the grader",
    ),
]  # fmt: skip

# Records what learner code can see of where it runs; raised as the error, so the check's
# message carries it out. The lab folder's own path is masked in the rest and told apart
# ("here"): it is wherever the course is.
SNOOP = """
import json, os, resource, socket, sys

def generate(records, principal_arn):
    here = os.path.dirname(os.path.abspath(__file__))
    def norm(text):
        return str(text).replace(here, "<lab>")
    limits = {name: resource.getrlimit(getattr(resource, name))
              for name in ("RLIMIT_AS", "RLIMIT_NOFILE", "RLIMIT_FSIZE", "RLIMIT_CORE")}
    with open("/proc/self/mountinfo") as f:
        mounts = sorted(norm(line.split()[4]) for line in f)
    facts = {
        "env": sorted(f"{k}={norm(v)}" for k, v in os.environ.items()),
        "cwd": norm(os.getcwd()),
        "ids": [os.getuid(), os.getgid(), os.geteuid()],
        "host": socket.gethostname(),
        "argv": [norm(a) for a in sys.argv],
        "path": [norm(p) for p in sys.path],
        "mounts": mounts,
        "limits": limits,
        "lab": sorted(os.listdir(here)),
        "home": sorted(os.listdir(os.path.expanduser("~"))),
        "here": here,
    }
    raise ValueError("FACTS" + json.dumps(facts, sort_keys=True) + "END")
"""


def hard_coded_generator() -> str:
    """A generator that returns what the reference solution makes of the shipped sample
    trail (seed 59), whatever trail it is given: right on the sample, wrong on hidden ones."""
    spec = importlib.util.spec_from_file_location(
        "solution_lab4", ROOT / "solutions" / "lab4" / "generate_policy.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    trail = generate_trail(59)
    policy = module.generate(trail.records, trail.principal_arn)
    return f"POLICY = {json.dumps(policy)!r}\n\nimport json\n\ndef generate(records, principal_arn):\n    return json.loads(POLICY)\n"


def learner(roster: Path, name: str, generator: str) -> None:
    """A learner's whole lab4 as their course has it, with their own generator."""
    folder = roster / name / "labs" / "lab4"
    folder.mkdir(parents=True)
    for file in ("deploy-role-policy.json", "legacy-role-policy.json"):
        (folder / file).write_bytes((ROOT / "labs" / "lab4" / ".starter" / file).read_bytes())
    (folder / "generate_policy.py").write_text(textwrap.dedent(generator))


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("class-cheats")
    roster = base / "roster"
    learner(roster, "aaron-honest", HONEST_FAILURE)
    for name, generator, _ in CHEATS:
        learner(roster, name, generator)
    learner(roster, "hardcoder", hard_coded_generator())
    learner(roster, "snooper", SNOOP)
    out = base / "out"
    done = run_grader(
        "class", "grade", str(roster), "--labs", "lab4", "--jobs", "2", "--out", str(out),
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    book = json.loads((out / "gradebook.json").read_text())
    results = {entry["name"]: entry["labs"]["lab4"] for entry in book["learners"]}
    return {"base": base, "results": results, "book": book}


def first_check(result: dict) -> dict:
    return result["checks"][0]


@pytest.mark.parametrize("name, reason", [(n, r) for n, _, r in CHEATS], ids=[c[0] for c in CHEATS])
def test_a_cheat_scores_no_more_than_an_honest_failure_and_says_why(graded, name, reason):
    honest, cheat = graded["results"]["aaron-honest"], graded["results"][name]
    assert cheat["score"] <= honest["score"] < cheat["max_score"]
    gate = first_check(cheat)
    assert gate["status"] == "failed"
    if reason is not None:
        assert reason in (gate["found"] or gate["message"] or "")


def test_an_answer_hard_coded_for_the_sample_trail_fails_on_the_hidden_trails(graded):
    result = graded["results"]["hardcoder"]
    assert first_check(result)["status"] == "passed"  # it runs and returns a policy
    task1 = [c for c in result["checks"] if c["task"] == 1]
    assert any(c["status"] == "failed" for c in task1), task1


def facts(text: str) -> dict:
    found = re.search(r"FACTS(.*?)END", text)
    assert found, text[:500]
    return json.loads(found.group(1).encode().decode("unicode_escape"))


def test_code_looking_for_signs_of_class_grading_sees_what_grader_check_shows(graded):
    course = copy_course(graded["base"] / "course")
    (course / "labs" / "lab4" / "generate_policy.py").write_text(SNOOP)
    done = run_grader("check", "lab4", "--json", cwd=course, timeout=300)
    alone = facts(done.stdout)
    in_class = facts(json.dumps(graded["results"]["snooper"]))
    # Each sees its folder where `grader check` in that course shows it: the class's
    # private copy is shown at the instructor's own lab folder, not at a temporary path.
    assert alone.pop("here") == str((course / "labs" / "lab4").resolve())
    if graded["book"]["isolation"] == "full":
        assert in_class.pop("here") == str((COURSE / "labs" / "lab4").resolve())
    else:  # below full isolation nothing can be shown at another path
        in_class.pop("here")
    assert in_class == alone
    assert alone["host"] == "jail" and not alone["home"]  # and it is the jail's view
