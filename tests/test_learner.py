"""Can learner code break the grader? Each test gives a learner file that misbehaves in one
way and checks the call ends in a clear LearnerCodeError pointing at the learner's line."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from grader.grading.learner import LearnerCodeError, call_learner


def learner_file(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "generate_policy.py"
    path.write_text(textwrap.dedent(source))
    return path


def test_the_value_comes_back_with_what_was_printed(tmp_path):
    path = learner_file(
        tmp_path,
        """
        def generate(records, principal):
            print("working on", len(records), "records")
            return {"Version": "2012-10-17", "Statement": [], "who": principal}
    """,
    )
    result = call_learner(path, "generate", [{"a": 1}, {"b": 2}], "arn:aws:iam::1:role/x")
    assert result.value["who"] == "arn:aws:iam::1:role/x"
    assert "working on 2 records" in result.output


def test_an_exception_names_the_learners_line(tmp_path):
    path = learner_file(
        tmp_path,
        """
        def generate(records, principal):
            first = records[0]
            return first["missing"]
    """,
    )
    with pytest.raises(LearnerCodeError, match=r"generate_policy\.py:4: KeyError: 'missing'"):
        call_learner(path, "generate", [{}], "p")


def test_a_syntax_error_gives_line_and_column(tmp_path):
    path = learner_file(tmp_path, "def generate(records, principal)\n    return {}\n")
    with pytest.raises(LearnerCodeError, match=r"generate_policy\.py:1:\d+: SyntaxError"):
        call_learner(path, "generate", [], "p")


def test_sys_exit_is_refused_not_counted(tmp_path):
    path = learner_file(
        tmp_path,
        """
        import sys
        def generate(records, principal):
            sys.exit(0)
    """,
    )
    with pytest.raises(LearnerCodeError, match=r"generate_policy\.py:4: sys\.exit\(0\) was called"):
        call_learner(path, "generate", [], "p")


def test_os_exit_is_a_clear_failure(tmp_path):
    path = learner_file(
        tmp_path,
        """
        import os
        def generate(records, principal):
            os._exit(0)
    """,
    )
    with pytest.raises(LearnerCodeError, match="before generate\\(\\) returned"):
        call_learner(path, "generate", [], "p")


def test_an_endless_loop_hits_the_time_limit(tmp_path):
    path = learner_file(
        tmp_path,
        """
        def generate(records, principal):
            while True:
                pass
    """,
    )
    started = time.monotonic()
    with pytest.raises(LearnerCodeError, match="did not return within 2 s"):
        call_learner(path, "generate", [], "p", timeout=2)
    assert time.monotonic() - started < 15


def test_the_network_is_refused_in_learner_code(tmp_path):
    path = learner_file(
        tmp_path,
        """
        import urllib.request
        def generate(records, principal):
            return urllib.request.urlopen("https://iam.amazonaws.com/").read()
    """,
    )
    with pytest.raises(LearnerCodeError, match="refused a connection to iam.amazonaws.com"):
        call_learner(path, "generate", [], "p")


def test_the_learners_aws_credentials_are_not_visible(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    path = learner_file(
        tmp_path,
        """
        import os
        def generate():
            return os.environ.get("AWS_SECRET_ACCESS_KEY")
    """,
    )
    assert call_learner(path, "generate").value is None  # no AWS settings at all


def test_a_value_that_is_not_json(tmp_path):
    path = learner_file(
        tmp_path,
        """
        def generate(records, principal):
            return {"Action": {"s3:GetObject"}}
    """,
    )
    with pytest.raises(LearnerCodeError, match="not plain JSON data"):
        call_learner(path, "generate", [], "p")


def test_a_renamed_function_is_named(tmp_path):
    path = learner_file(tmp_path, "def make_policy(records, principal):\n    return {}\n")
    with pytest.raises(LearnerCodeError, match=r"has no function named generate\(\)"):
        call_learner(path, "generate", [], "p")


def test_sibling_modules_can_be_imported(tmp_path):
    (tmp_path / "helpers.py").write_text("def double(x):\n    return 2 * x\n")
    path = learner_file(
        tmp_path, "from helpers import double\ndef generate(n):\n    return double(n)\n"
    )
    assert call_learner(path, "generate", 21).value == 42


def test_many_calls_share_one_process_and_keep_their_own_errors(tmp_path):
    from grader.grading.learner import call_learner_many

    path = learner_file(
        tmp_path,
        """
        import os
        def generate(n):
            if n == 2:
                raise ValueError("two is bad")
            return [n, os.getpid()]
    """,
    )
    first, second, third = call_learner_many(path, "generate", [(1,), (2,), (3,)])
    assert first.value[0] == 1 and third.value[0] == 3
    assert first.value[1] == third.value[1]  # the same process
    assert isinstance(second, LearnerCodeError)
    assert "generate_policy.py:5: ValueError: two is bad" in str(second)


def test_many_calls_time_out_together(tmp_path):
    from grader.grading.learner import call_learner_many

    path = learner_file(tmp_path, "def generate(n):\n    while n:\n        pass\n")
    with pytest.raises(LearnerCodeError, match="did not return within 2 s"):
        call_learner_many(path, "generate", [(0,), (1,)], timeout=2)


def test_the_bootstraps_loopback_rule_is_the_sandboxs():
    """learner_boot.py cannot import the grader, so it carries its own copy of the rule."""
    import ast
    import ipaddress

    from grader.grading.sandbox import is_loopback

    source = (Path(__file__).parents[1] / "grader" / "grading" / "learner_boot.py").read_text()
    tree = ast.parse(source)
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "loopback")
    namespace: dict = {"ipaddress": ipaddress}
    exec(compile(ast.Module([function], []), "learner_boot.py", "exec"), namespace)
    hosts = [
        None, "127.0.0.1", "127.8.9.10", "::1", "[::1]", "::ffff:127.0.0.1", "localhost",
        "LOCALHOST", "api.localhost", "ip6-localhost", b"127.0.0.1", "10.0.0.1", "192.0.2.1",
        "example.com", "localhost.example.com", "0.0.0.0", "fe80::1%eth0", 42,
    ]  # fmt: skip
    assert [namespace["loopback"](h) for h in hosts] == [is_loopback(h) for h in hosts]


def test_the_process_allowance_counts_the_users_threads_as_the_kernel_does():
    """RLIMIT_NPROC counts every thread of the user's (a laptop with a browser open holds
    hundreds): the learner's allowance must come on top of all of them, or its own first
    thread or process fails to start."""
    import threading

    from grader.grading.jail import _user_process_count

    before = _user_process_count()
    release = threading.Event()
    crowd = [threading.Thread(target=release.wait, daemon=True) for _ in range(100)]
    for thread in crowd:
        thread.start()
    try:
        assert _user_process_count() >= before + 100
    finally:
        release.set()
