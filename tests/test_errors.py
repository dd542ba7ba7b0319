"""Does every input problem reach the user as one line (what and where) and exit code 2,
from whichever command, and never as a traceback?"""

from __future__ import annotations

import ast
import json
import shutil

import pytest

from grader.aws.iam import InvalidPrincipalError, MalformedPolicyError
from grader.aws.jsonfile import InputError
from grader.aws.trail import TrailFileError, TrailPolicyError, TrailRecordError
from grader.errors import (
    CheckInfoError,
    CourseError,
    ExitCode,
    GraderError,
    ProgressError,
    StarterError,
    UsageError,
)
from tests.conftest import COURSE, ROOT, run_grader

NESTING = 5000  # far deeper than Python's parser goes


def deeply_nested_policy() -> str:
    """A policy whose Condition value is nested 5,000 levels deep."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:username": "HERE"}},
            }
        ],
    }
    return json.dumps(policy).replace('"HERE"', '{"a":' * NESTING + "1" + "}" * NESTING)


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


@pytest.mark.parametrize(
    "error",
    [
        InputError,
        MalformedPolicyError,
        InvalidPrincipalError,
        TrailFileError,
        TrailPolicyError,
        TrailRecordError,
        CourseError,
        StarterError,
        CheckInfoError,
        ProgressError,
        UsageError,
    ],
)
def test_every_input_error_is_a_grader_error_with_exit_code_2(error):
    assert issubclass(error, GraderError)
    assert error.exit_code == ExitCode.USAGE == 2


def test_a_grader_error_says_where_first():
    error = GraderError("not valid JSON", file="p.json", line=4, column=1)
    assert str(error) == "p.json:4:1: not valid JSON"
    assert str(GraderError("bad", file="p.json", json_path="Statement[0]")) == (
        "p.json at Statement[0]: bad"
    )


@pytest.mark.parametrize(
    "args",
    [
        ("iam", "simulate", "--policy", "{policy}", "--action", "s3:GetObject"),
        ("iam", "grants", "{policy}"),
        ("iam", "validate", "{policy}"),
    ],
    ids=["simulate", "grants", "validate"],
)
def test_a_json_file_nested_5000_levels_is_one_line_naming_the_file(tmp_path, args):
    policy = tmp_path / "deep.json"
    policy.write_text(deeply_nested_policy())
    done = run_grader(*(a.format(policy=policy) for a in args))
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert str(policy) in line and "nested too deeply" in line


def test_a_trail_file_nested_5000_levels_is_one_line_naming_the_file(tmp_path):
    logs = tmp_path / "AWSLogs" / "123456789012" / "CloudTrail" / "us-east-1" / "2024" / "01" / "01"
    logs.mkdir(parents=True)
    bad = logs / "123456789012_CloudTrail_us-east-1_20240101T0000Z_abc.json"
    bad.write_text('{"Records": [' + "[" * NESTING + "]" * NESTING + "]}")
    done = run_grader(
        "trail", "policy", str(tmp_path), "--principal", "arn:aws:iam::123456789012:role/r"
    )
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert bad.name in line and "nested too deeply" in line


def test_a_deeply_nested_lab_file_fails_its_gate_naming_the_file(tmp_path):
    lab = tmp_path / "lab3"
    shutil.copytree(COURSE / "labs" / "lab3", lab)
    (lab / "viewer-policy.json").write_text(deeply_nested_policy())
    done = run_grader("check", "lab3", "--path", str(lab), "--json")
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    gate = json.loads(done.stdout)["checks"][0]
    assert gate["status"] == "failed"
    assert gate["found"].startswith("viewer-policy.json: the JSON is nested too deeply")


def test_an_unexpected_error_is_one_line_naming_where_and_exit_2(monkeypatch, capsys):
    from grader import cli
    from grader.cli import learner

    def broken(_args):
        raise KeyError("labs")

    monkeypatch.setattr(learner, "cmd_list", broken)
    monkeypatch.delenv("GRADER_TRACEBACK", raising=False)
    assert cli.main(["--course", str(COURSE), "list"]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("grader: error: internal error: KeyError: 'labs' (in test_errors.py:")
    assert "this is a grader bug" in line


def test_grader_traceback_shows_the_traceback_for_debugging(monkeypatch, capsys):
    from grader import cli
    from grader.cli import learner

    monkeypatch.setattr(learner, "cmd_list", lambda _args: 1 / 0)
    monkeypatch.setenv("GRADER_TRACEBACK", "1")
    assert cli.main(["--course", str(COURSE), "list"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_command_modules_leave_input_errors_to_the_one_handler():
    """No command module catches a GraderError to re-wrap it: cli/__init__.py does, once."""
    names = {
        "GraderError",
        "InputError",
        "MalformedPolicyError",
        "CourseError",
        "StarterError",
        "TrailFileError",
        "TrailPolicyError",
        "TrailRecordError",
        "InvalidPrincipalError",
    }
    for path in sorted((ROOT / "grader" / "cli").glob("*.py")):
        if path.name == "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                caught = {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)}
                caught |= {n.attr for n in ast.walk(node.type) if isinstance(n, ast.Attribute)}
                assert not caught & names, (path.name, node.lineno, caught & names)
