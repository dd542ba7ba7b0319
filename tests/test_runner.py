"""Does the runner give a complete, honest result whatever the checks do?

Each test builds a tiny course whose checks misbehave in one way, and grades it through
the real runner (a child interpreter with the grader's pytest plugin)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.course.labs import load_course
from grader.grading.runner import child_env, run_lab
from grader.grading.zygote import Zygote
from tests.conftest import make_course, process_ended

HEADER = """
import os, sys, time
import pytest
from grader.checks._support import fail
"""


@pytest.fixture(params=["afresh", "by a zygote"])
def started(request: pytest.FixtureRequest) -> str:
    """How the grading child starts: as its own interpreter (``grader check``), or forked
    from a lab's zygote (``grader class grade``). Every answer here must be the same."""
    return request.param


def grade(started: str, tmp_path: Path, body: str, *, timeout: int = 120):
    root = make_course(tmp_path / "course", "lab9", HEADER + body, timeout=timeout)
    lab = load_course(root, checks_dir=root / "checks").lab("lab9")
    if started == "afresh":
        return run_lab(lab, seed=7)
    zygote = Zygote(lab.checks_module, child_env())
    try:
        result = run_lab(lab, seed=7, zygote=zygote)
        assert zygote._proc.poll() is None, "the zygote died: the child started afresh"
        return result
    finally:
        zygote.close()


def test_structured_failure_reaches_the_parent(tmp_path, started):
    result = grade(
        started,
        tmp_path,
        '''
@pytest.mark.check(task=1, points=2)
def test_one():
    """The answer is right."""
    fail(expected="42", found="41", fix="add one", docs="siem/index.md#task-1")

@pytest.mark.check(task=2, points=3)
def test_two(lab_dir, seed):
    """The lab folder and seed arrive."""
    assert (lab_dir / "answer.json").is_file() and seed == 7
''',
    )
    one, two = result.checks
    assert (one.sentence, one.status, one.expected, one.found, one.fix) == (
        "The answer is right.",
        "failed",
        "42",
        "41",
        "add one",
    )
    assert one.docs == "siem/index.md#task-1"
    assert two.status == "passed" and (result.score, result.max_score) == (3, 5)
    assert result.problem is None and not result.passed


def test_a_failed_gate_skips_the_checks_after_it(tmp_path, started):
    result = grade(
        started,
        tmp_path,
        '''
@pytest.mark.check(task=4, points=1, gate=True)
def test_gate():
    """The file deploys."""
    fail(expected="a deploy", found="an error", fix="fix it")

@pytest.mark.check(task=1, points=1)
def test_later():
    """Something later."""
''',
    )
    gate, later = result.checks
    assert gate.status == "failed"
    assert later.status == "skipped" and "The file deploys." in later.message


def test_a_task_gate_skips_only_the_later_checks_of_its_own_task(tmp_path, started):
    result = grade(
        started,
        tmp_path,
        '''
@pytest.mark.check(task=1, points=1, gate="task")
def test_code_runs():
    """The learner's code runs."""
    fail(expected="a policy", found="a time-out", fix="fix it")

@pytest.mark.check(task=1, points=1)
def test_code_is_right():
    """The code's answer is right."""

@pytest.mark.check(task=2, points=1)
def test_file_is_right():
    """Task 2's file is right."""
''',
    )
    gate, same_task, other_task = result.checks
    assert gate.status == "failed"
    assert same_task.status == "skipped" and "The learner's code runs." in same_task.message
    assert other_task.status == "passed"


def test_sys_exit_in_a_check_is_a_failure_not_a_pass(tmp_path, started):
    result = grade(
        started,
        tmp_path,
        '''
@pytest.mark.check(task=1, points=1)
def test_exits():
    """Learner code runs."""
    sys.exit(0)

@pytest.mark.check(task=1, points=1)
def test_after():
    """The next check still runs."""
''',
    )
    exits, after = result.checks
    assert exits.status == "failed" and "sys.exit(0)" in exits.message
    assert after.status == "passed"


def test_os_exit_fails_every_unfinished_check(tmp_path, started):
    result = grade(
        started,
        tmp_path,
        '''
@pytest.mark.check(task=1, points=1)
def test_first():
    """Runs first."""

@pytest.mark.check(task=1, points=1)
def test_kills():
    """Learner code ends the process."""
    os._exit(0)

@pytest.mark.check(task=1, points=1)
def test_never():
    """Never reached."""
''',
    )
    first, kills, never = result.checks
    assert first.status == "passed"
    assert kills.status == never.status == "failed"
    assert "stopped early" in result.problem and "did not finish" in never.message
    assert not result.passed


def test_a_hang_is_stopped_at_the_time_limit(tmp_path, started):
    result = grade(
        started,
        tmp_path,
        '''
@pytest.mark.check(task=1, points=1)
def test_hangs():
    """Learner code returns."""
    time.sleep(60)
''',
        timeout=3,
    )
    (hangs,) = result.checks
    assert hangs.status == "failed"
    assert "longer than 3 s" in result.problem
    assert result.seconds < 30


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_a_hang_in_a_sandbox_check_stops_the_sandbox_process_too(tmp_path, started):
    result = grade(
        started,
        tmp_path,
        '''
@pytest.mark.check(task=1, points=1)
def test_hangs(lab_dir, aws):
    """The deploy returns."""
    aws.client("iam").list_users()
    status = open(f"/proc/{aws.pid}/status").read()
    ppid = status.split("PPid:")[1].split()[0]
    (lab_dir / "sandbox.pid").write_text(f"{aws.pid} {ppid}")
    time.sleep(60)
''',
        timeout=5,
    )
    assert "longer than 5 s" in result.problem and result.checks[0].status == "failed"
    pid, parent = map(int, (Path(result.path) / "sandbox.pid").read_text().split())
    # Forked by the runner (this process), the runner must also reap it: no zombie left.
    assert process_ended(pid, reaped=parent == os.getpid()), "the sandbox lives on"


def test_a_bug_in_a_check_is_reported_as_a_grader_bug_without_traceback(tmp_path, started):
    result = grade(
        started,
        tmp_path,
        '''
@pytest.mark.check(task=1, points=1)
def test_buggy():
    """A check with a bug."""
    {}["missing"]
''',
    )
    (buggy,) = result.checks
    assert buggy.status == "failed"
    assert "grader bug" in buggy.message and "KeyError" in buggy.message
    assert "Traceback" not in buggy.message


def test_a_network_call_in_the_child_is_refused_and_reported(tmp_path, started):
    result = grade(
        started,
        tmp_path,
        '''
import socket

@pytest.mark.check(task=1, points=1)
def test_calls_out():
    """Nothing reaches the network."""
    socket.create_connection(("203.0.113.9", 443), timeout=2)
''',
    )
    (calls,) = result.checks
    assert calls.status == "failed"
    assert "203.0.113.9:443" in result.problem


# The checks that take `aws` wait for the sandbox process, so they run last; what the
# learner reads must not change: the lab's order, and skips after a failed gate.
SANDBOX_GATE = '''
@pytest.mark.check(task=1, points=1)
def test_first(lab_dir):
    """A check before the gate."""

@pytest.mark.check(task=4, points=1, gate=True)
def test_deploys(aws):
    """The policy deploys."""
    from botocore.exceptions import ClientError
    try:
        aws.client("iam").create_policy(PolicyName="p", PolicyDocument=DOCUMENT)
    except ClientError as exc:
        fail(expected="IAM to accept it", found=exc.response["Error"]["Code"], fix="fix it")

@pytest.mark.check(task=2, points=1)
def test_after(lab_dir):
    """A check after the gate."""
    (lab_dir / "after-ran").write_text("yes")

@pytest.mark.check(task=3, points=1)
def test_after_failing():
    """Another check after the gate, failing on its own."""
    fail(expected="x", found="y", fix="z")
'''
GOOD_DOCUMENT = '"{\\"Version\\": \\"2012-10-17\\", \\"Statement\\": [{\\"Effect\\": \\"Allow\\", \\"Action\\": \\"s3:GetObject\\", \\"Resource\\": \\"*\\"}]}"'


def test_a_sandbox_gate_keeps_its_place_and_its_pass_changes_nothing(tmp_path, started):
    result = grade(started, tmp_path, f"DOCUMENT = {GOOD_DOCUMENT}\n" + SANDBOX_GATE)
    assert [c.id for c in result.checks] == [
        "test_first",
        "test_deploys",
        "test_after",
        "test_after_failing",
    ]
    assert [c.status for c in result.checks] == ["passed", "passed", "passed", "failed"]
    assert result.checks[3].found == "y"


def test_a_sandbox_gate_that_fails_skips_the_checks_after_it_even_if_they_ran(tmp_path, started):
    result = grade(started, tmp_path, 'DOCUMENT = "{not json"\n' + SANDBOX_GATE)
    assert (Path(result.path) / "after-ran").exists()  # it ran while moto loaded...
    first, gate, after, failing = result.checks
    assert first.status == "passed"
    assert gate.status == "failed" and gate.found == "MalformedPolicyDocument"
    for check in (after, failing):
        assert check.status == "skipped", check  # ...and is reported as skipped
        assert check.message == "skipped until this passes: The policy deploys."
        assert (check.expected, check.found, check.fix) == (None, None, None)
    assert result.problem is None


def test_without_process_groups_the_child_alone_is_killed(monkeypatch):
    """Windows has no os.killpg: a time-out still ends the child."""
    import subprocess
    import sys

    from grader.grading import processes

    monkeypatch.delattr(processes.os, "killpg", raising=False)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    processes.kill_group(proc)
    assert proc.wait(timeout=10) != 0


def test_a_late_gate_that_fails_takes_over_from_a_later_gate(tmp_path, started):
    """The learner reads "skipped until this passes" about the first failed gate in the
    lab's order, even when a gate after it ran, and failed, first."""
    result = grade(
        started,
        tmp_path,
        """
@pytest.mark.check(task=4, points=1, gate=True)
def test_deploys(aws):
    \"\"\"The policy deploys.\"\"\"
    fail(expected="a deploy", found="an error", fix="fix it")

@pytest.mark.check(task=4, points=1, gate=True)
def test_second_gate():
    \"\"\"The second gate holds.\"\"\"
    fail(expected="x", found="y", fix="z")

@pytest.mark.check(task=1, points=1)
def test_after():
    \"\"\"A check after both gates.\"\"\"
""",
    )
    deploys, second, after = result.checks
    assert deploys.status == "failed"
    for check in (second, after):
        assert check.status == "skipped"
        assert check.message == "skipped until this passes: The policy deploys."
