"""Does the sandbox process answer like the in-process sandbox, and never outlive or hang
the grading process?

Each scenario runs in a fresh interpreter, as the grading child does: forking this test
process (with its threads and imports) would not be the situation the code is built for.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.grading import sandbox, sandbox_process
from grader.grading.sandbox_process import uses_sandbox
from tests.conftest import make_course, process_ended

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def run(script: str) -> subprocess.CompletedProcess[str]:
    code = "from grader.grading import sandbox_process as sp\n" + textwrap.dedent(script)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_calls_are_answered_by_moto_in_another_process():
    done = run("""
        import os
        box = sp.start()
        iam = box.client("iam")
        iam.create_user(UserName="alice")
        print(box.pid != os.getpid(), [u["UserName"] for u in iam.list_users()["Users"]])
        print(box.account, box.region)
        sp.stop()
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["True ['alice']", "123456789012 ap-northeast-1"]


def test_an_aws_error_arrives_as_botocores_client_error():
    done = run("""
        from botocore.exceptions import ClientError
        box = sp.start()
        try:
            box.client("iam").create_policy(PolicyName="p", PolicyDocument="{not json")
        except ClientError as exc:
            print(exc.response["Error"]["Code"], exc.operation_name)
        sp.stop()
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "MalformedPolicyDocument CreatePolicy"


def test_the_sandbox_process_never_sees_the_learners_credentials():
    done = run("""
        import os
        os.environ["AWS_ACCESS_KEY_ID"] = "AKIAIOSFODNN7EXAMPLE"
        os.environ["AWS_PROFILE"] = "production"
        box = sp.start()
        print(box.client("sts").get_caller_identity()["Account"])
        sp.stop()
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "123456789012"  # moto's account: the fake keys were used


def test_a_dead_sandbox_process_is_an_error_not_a_hang():
    done = run("""
        import os, signal
        box = sp.start()
        os.kill(box.pid, signal.SIGKILL)
        try:
            box.client("iam").list_users()
        except sp.SandboxUnavailable as exc:
            print(exc)
    """)
    assert done.returncode == 0, done.stderr
    assert "the sandbox process stopped before it answered iam.list_users" in done.stdout


def test_live_objects_are_refused_with_a_reason():
    done = run("""
        box = sp.start()
        try:
            box.client("iam").get_paginator("list_users")
        except AttributeError as exc:
            print(exc)
        sp.stop()
    """)
    assert "not available through the sandbox process" in done.stdout, done.stderr


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_the_sandbox_process_ends_with_the_grading_process():
    done = run("""
        import os
        box = sp.start()
        box.client("iam").list_users()
        print(box.pid, flush=True)
        os._exit(0)  # no stop(): as if learner code ended the grading process
    """)
    pid = int(done.stdout.strip())
    assert process_ended(pid), "the sandbox process outlived the grading process"


def test_region_and_account_match_the_in_process_sandbox():
    assert sandbox_process.DEFAULT_REGION == sandbox.DEFAULT_REGION
    assert sandbox_process.FAKE_ACCOUNT == sandbox.FAKE_ACCOUNT


@pytest.mark.parametrize(
    "source, expected",
    [
        ("def test_deploys(lab_dir, aws):\n    pass\n", True),
        ("def test_deploys(\n    lab_dir: Path,\n    aws,\n) -> None:\n    pass\n", True),
        ("def test_reads(lab_dir):\n    aws = 1\n", False),
        ("def helper(aws):\n    pass\n", False),
        ("def test_x(lab_dir, aws_region):\n    pass\n", False),
    ],
)
def test_the_child_starts_the_sandbox_only_for_checks_that_take_aws(tmp_path, source, expected):
    module = tmp_path / "lab9.py"
    module.write_text(source)
    assert uses_sandbox(module) is expected
    assert uses_sandbox(tmp_path / "missing.py") is False


WHO_FORKED = """
import os
import pytest
from pathlib import Path

@pytest.mark.check(task=1, points=1)
def test_deploys(lab_dir, aws):
    \"\"\"Which process forked the sandbox process?\"\"\"
    aws.client("iam").list_users()
    status = Path(f"/proc/{aws.pid}/status").read_text()
    ppid = int(status.split("PPid:")[1].split()[0])
    who = {os.getpid(): "child", os.getppid(): "runner"}.get(ppid, "other")
    (lab_dir / "who.txt").write_text(who)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
@pytest.mark.parametrize("threads, forker", [(False, "runner"), (True, "child")])
def test_the_runner_forks_the_sandbox_unless_it_has_threads(tmp_path, threads, forker):
    root = make_course(tmp_path / "course", "lab9", WHO_FORKED)
    done = _run_lab9(root, threads)
    assert done.stdout.split() == ["passed", "None"], done.stderr
    assert (root / "labs" / "lab9" / "who.txt").read_text() == forker


IN_THE_CHILD = """
import pytest

@pytest.mark.check(task=1, points=1)
def test_deploys(lab_dir, aws):
    \"\"\"Is the sandbox in the grading process itself?\"\"\"
    aws.client("iam").create_user(UserName="alice")
    assert not hasattr(aws, "pid")
"""


def test_the_sandbox_process_can_be_turned_off(tmp_path):
    root = make_course(tmp_path / "course", "lab9", IN_THE_CHILD)
    done = _run_lab9(root, False, {sandbox_process.DISABLE_ENV: "1"})
    assert done.stdout.split() == ["passed", "None"], done.stderr


def _run_lab9(root: Path, threads: bool, env: dict[str, str] | None = None):
    script = f"""
import threading, time
from grader.course.labs import load_course
from grader.grading.runner import run_lab
if {threads}:  # a thread (like watch mode's) makes forking unsafe in the runner
    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
result = run_lab(load_course({str(root)!r}, checks_dir={str(root / "checks")!r}).lab("lab9"), seed=1)
print(result.checks[0].status, result.problem)
"""
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_an_object_body_crosses_as_something_to_read():
    done = run("""
        box = sp.start()
        s3 = box.client("s3")
        s3.create_bucket(
            Bucket="body-test", CreateBucketConfiguration={"LocationConstraint": box.region}
        )
        s3.put_object(Bucket="body-test", Key="k", Body=b"hello world")
        body = s3.get_object(Bucket="body-test", Key="k")["Body"]
        print(body.read(5), body.read())
        sp.stop()
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "b'hello' b' world'"


def test_the_services_a_lab_calls_are_known_before_its_checks_start(tmp_path):
    """The runner warms these in the sandbox process while the checks start: a declared
    SANDBOX_SERVICES wins, else the aws.client("...") calls in the module."""
    from grader.grading.sandbox_process import services_used

    declared = tmp_path / "declared.py"
    declared.write_text('SANDBOX_SERVICES = ("iam",)\n\ndef f(aws):\n    aws.client("s3")\n')
    written = tmp_path / "written.py"
    written.write_text('def f(aws):\n    aws.client("wafv2")\n    aws.client("wafv2")\n')
    assert services_used(declared) == ("iam",)
    assert services_used(written) == ("wafv2",)
    assert services_used(tmp_path / "missing.py") == ()


def test_every_warm_up_call_is_a_real_read_of_its_service():
    """The warm-up calls must exist in botocore's models (a typo would only cost speed, so
    nothing else would notice) and only read: List*, Get*, Describe*."""
    from grader.aws.botomodel import service_model
    from grader.grading.sandbox_process import WARM_CALLS

    for service, (operation, _kwargs) in WARM_CALLS.items():
        by_key = {name.lower(): name for name in service_model(service).operation_names}
        name = by_key.get(operation.replace("_", ""))  # list_web_acls -> ListWebACLs
        assert name is not None, (service, operation)
        assert name.startswith(("List", "Get", "Describe")), (service, operation)
