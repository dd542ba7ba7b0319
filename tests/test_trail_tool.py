"""`grader trail policy`, run on a generated trail as a learner would."""

from __future__ import annotations

import json

import pytest

from grader.aws.trail import generate_trail
from tests.conftest import run_grader


@pytest.fixture(scope="module")
def trail(tmp_path_factory):
    generated = generate_trail(7)
    root = tmp_path_factory.mktemp("trail")
    generated.write(root)
    return generated, root


def test_markers_give_exactly_the_actions_of_the_work_window(trail):
    generated, root = trail
    done = run_grader(
        "trail", "policy", str(root), "--principal", generated.principal_arn, "--markers", "--json"
    )
    assert done.returncode == 0, done.stderr
    draft = json.loads(done.stdout)
    granted = {a for st in draft["policy"]["Statement"] for a in st["Action"]}
    assert granted == set(generated.actions)
    assert not granted & (set(generated.outside_actions) - set(generated.actions))


def test_the_plain_output_is_a_policy_and_notes_go_to_stderr(trail):
    generated, root = trail
    done = run_grader(
        "trail", "policy", str(root), "--principal", generated.principal_arn, "--markers"
    )
    policy = json.loads(done.stdout)
    assert policy["Version"] == "2012-10-17" and policy["Statement"]
    assert "Review before use" in done.stderr


def test_scoped_names_resources(trail):
    generated, root = trail
    done = run_grader(
        "trail",
        "policy",
        str(root),
        "--principal",
        generated.principal_arn,
        "--markers",
        "--scoped",
    )
    resources = {
        r
        for st in json.loads(done.stdout)["Statement"]
        for r in ([st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"])
    }
    assert any(r.startswith("arn:aws:") for r in resources)


def test_unknown_principal_and_missing_folder_are_usage_errors(trail, tmp_path):
    _, root = trail
    nobody = run_grader(
        "trail", "policy", str(root), "--principal", "arn:aws:iam::123456789012:role/nobody"
    )
    assert nobody.returncode == 2 and "no calls by" in nobody.stderr
    missing = run_grader(
        "trail", "policy", str(tmp_path / "none"), "--principal", "arn:aws:iam::1:role/x"
    )
    assert missing.returncode == 2 and "no such folder" in missing.stderr


def test_a_broken_log_file_names_the_file(tmp_path):
    folder = (
        tmp_path
        / "AWSLogs"
        / "123456789012"
        / "CloudTrail"
        / "ap-northeast-1"
        / "2026"
        / "11"
        / "29"
    )
    folder.mkdir(parents=True)
    (folder / "123456789012_CloudTrail_ap-northeast-1_20261129T0000Z_abc.json").write_text(
        '{"Records": [}'
    )
    done = run_grader(
        "trail", "policy", str(tmp_path), "--principal", "arn:aws:iam::123456789012:role/x"
    )
    assert done.returncode == 2
    assert "123456789012_CloudTrail_ap-northeast-1_20261129T0000Z_abc.json" in done.stderr
    assert "Traceback" not in done.stderr
