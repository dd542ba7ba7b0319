"""`grader iam simulate` and `grader iam grants`, as a learner runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import COURSE, ROOT, run_grader

OPERATOR = str(ROOT / "solutions" / "lab3" / "operator-policy.json")
DEV_INSTANCE = "arn:aws:ec2:ap-northeast-1:123456789012:instance/i-0abc"


def test_simulate_allows_with_the_tag_and_names_the_statement():
    done = run_grader(
        "iam",
        "simulate",
        "--policy",
        OPERATOR,
        "--action",
        "ec2:StartInstances",
        "--resource",
        DEV_INSTANCE,
        "--context",
        "aws:ResourceTag/Environment=dev",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("allowed")
    assert "StartStopDevInstances" in done.stdout


def test_simulate_implicit_deny_explains_the_near_miss_in_json():
    done = run_grader(
        "iam",
        "simulate",
        "--policy",
        OPERATOR,
        "--action",
        "ec2:StartInstances",
        "--resource",
        DEV_INSTANCE,
        "--context",
        "aws:ResourceTag/Environment=prod",
        "--json",
    )
    answer = json.loads(done.stdout)
    assert answer["decision"] == "implicitDeny" and answer["matchedStatements"] == []
    assert "condition" in answer["explanation"]


def test_simulate_explicit_deny_with_two_policies(tmp_path):
    deny = tmp_path / "deny.json"
    deny.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "NoStopping", "Effect": "Deny", "Action": "ec2:Stop*", "Resource": "*"}
                ],
            }
        )
    )
    done = run_grader(
        "iam",
        "simulate",
        "--policy",
        OPERATOR,
        "--policy",
        str(deny),
        "--action",
        "ec2:StopInstances",
        "--resource",
        DEV_INSTANCE,
        "--context",
        "aws:ResourceTag/Environment=dev",
        "--json",
    )
    answer = json.loads(done.stdout)
    assert answer["decision"] == "explicitDeny"
    assert answer["matchedStatements"] == [
        {"policy": "deny.json", "policyType": "identity", "sid": "NoStopping", "index": 0}
    ]


def test_a_key_given_twice_is_multivalued(tmp_path):
    policy = tmp_path / "tags.json"
    policy.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "ec2:CreateTags",
                        "Resource": "*",
                        "Condition": {
                            "ForAllValues:StringEquals": {"aws:TagKeys": ["Name", "Team"]}
                        },
                    }
                ],
            }
        )
    )
    base = ["iam", "simulate", "--policy", str(policy), "--action", "ec2:CreateTags", "--json"]
    ok = run_grader(*base, "--context", "aws:TagKeys=Name", "--context", "aws:TagKeys=Team")
    bad = run_grader(*base, "--context", "aws:TagKeys=Name", "--context", "aws:TagKeys=Owner")
    assert json.loads(ok.stdout)["decision"] == "allowed"
    assert json.loads(bad.stdout)["decision"] == "implicitDeny"


def test_requests_file_answers_one_line_each_and_flags_bad_lines(tmp_path):
    lines = [
        {
            "action": "ec2:StartInstances",
            "resource": DEV_INSTANCE,
            "context": {"aws:ResourceTag/Environment": "dev"},
        },
        {
            "action": "ec2:TerminateInstances",
            "resource": DEV_INSTANCE,
            "context": {"aws:ResourceTag/Environment": "dev"},
        },
        {"resource": "*"},
    ]
    requests = tmp_path / "requests.jsonl"
    requests.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n")
    done = run_grader("iam", "simulate", "--policy", OPERATOR, "--requests", str(requests))
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a.get("decision") for a in answers[:2]] == ["allowed", "implicitDeny"]
    assert answers[2] == {"line": 3, "error": '"action" must be a non-empty string'}
    assert answers[3]["line"] == 4
    assert done.returncode == 2


def test_requests_from_stdin_handle_thousands():
    lines = "".join(
        json.dumps(
            {
                "action": "ec2:StopInstances",
                "resource": DEV_INSTANCE[:-3] + f"{i:03x}",
                "context": {"aws:ResourceTag/Environment": "dev" if i % 2 else "prod"},
            }
        )
        + "\n"
        for i in range(3000)
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader.cli",
            "iam",
            "simulate",
            "--policy",
            OPERATOR,
            "--requests",
            "-",
        ],
        input=lines,
        capture_output=True,
        text=True,
        cwd=COURSE,
        env=os.environ,
        timeout=120,
    )
    decisions = [json.loads(line)["decision"] for line in done.stdout.splitlines()]
    assert len(decisions) == 3000 and decisions.count("allowed") == 1500


def test_broken_policy_file_is_exit_2_with_line_and_column(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"Version": "2012-10-17",\n "Statement": [}')
    done = run_grader("iam", "simulate", "--policy", str(bad), "--action", "s3:GetObject")
    assert done.returncode == 2
    assert f"{bad}:2:16: not valid JSON" in done.stderr and "Traceback" not in done.stderr


def test_malformed_policy_uses_iams_words(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*"}]})
    )
    done = run_grader("iam", "grants", str(bad))
    assert done.returncode == 2
    assert (
        "MalformedPolicyDocument" in done.stderr
        and "Policy statement must contain resources." in done.stderr
    )


def test_bad_context_pair_is_a_usage_error():
    done = run_grader(
        "iam",
        "simulate",
        "--policy",
        OPERATOR,
        "--action",
        "ec2:StartInstances",
        "--context",
        "novalue",
    )
    assert done.returncode == 2 and "KEY=VALUE" in done.stderr


def test_grants_lists_services_and_access_levels_of_read_only_access():
    done = run_grader(
        "iam", "grants", str(COURSE / "labs" / "lab3" / "data" / "ReadOnlyAccess.json"), "--json"
    )
    data = json.loads(done.stdout)
    assert data["totals"]["services"] > 200
    assert "s3:GetObject" in [g["action"] for g in data["services"]["s3"]["Read"]]


def test_grants_all_lists_every_action_not_a_sample(tmp_path):
    policy = write_policy(
        tmp_path, "s3-read.json", {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}
    )
    env = {"NO_COLOR": "1", "COLUMNS": "100000"}
    sample = run_grader("iam", "grants", policy, env=env).stdout
    every = run_grader("iam", "grants", policy, "--all", env=env).stdout
    assert "… +" in sample and "… +" not in every
    for action in ("GetObject", "GetBucketPolicy", "GetObjectAttributes", "GetBucketTagging"):
        assert action in every


def test_grants_names_actions_not_in_the_catalog(tmp_path):
    typo = tmp_path / "typo.json"
    typo.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["ec2:DescribeInstance", "ec2:StartInstances"],
                        "Resource": "*",
                    }
                ],
            }
        )
    )
    done = run_grader("iam", "grants", str(typo))
    assert done.returncode == 0
    assert "ec2:DescribeInstance" in done.stdout and "StartInstances" in done.stdout


def write_policy(tmp_path, name: str, *statements: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))
    return str(path)


ADMIN = {"Effect": "Allow", "Action": "*", "Resource": "*"}
ROLE = "arn:aws:iam::123456789012:role/app"


def simulate_json(*args: str) -> dict:
    done = run_grader("iam", "simulate", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_an_scp_deny_overrides_an_admin_identity_policy(tmp_path):
    admin = write_policy(tmp_path, "admin.json", ADMIN)
    full = write_policy(tmp_path, "FullAWSAccess.json", ADMIN)
    guard = write_policy(
        tmp_path,
        "guardrails.json",
        {
            "Sid": "NoLeaving",
            "Effect": "Deny",
            "Action": "organizations:LeaveOrganization",
            "Resource": "*",
        },
    )
    answer = simulate_json(
        "--policy",
        admin,
        "--scp",
        full,
        "--scp",
        guard,
        "--principal",
        ROLE,
        "--action",
        "organizations:LeaveOrganization",
    )
    assert answer["decision"] == "explicitDeny"
    assert answer["matchedStatements"][0]["policyType"] == "scp"
    assert "guardrails.json" in answer["explanation"]


def test_an_scp_level_without_an_allow_denies_implicitly(tmp_path):
    admin = write_policy(tmp_path, "admin.json", ADMIN)
    only_s3 = write_policy(
        tmp_path, "only-s3.json", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    )
    answer = simulate_json(
        "--policy", admin, "--scp", only_s3, "--principal", ROLE, "--action", "ec2:RunInstances"
    )
    assert answer["decision"] == "implicitDeny"


def test_a_boundary_caps_the_identity_policy(tmp_path):
    admin = write_policy(tmp_path, "admin.json", ADMIN)
    boundary = write_policy(
        tmp_path, "boundary.json", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    )
    base = ["--policy", admin, "--boundary", boundary, "--principal", ROLE]
    assert (
        simulate_json(*base, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/k")[
            "decision"
        ]
        == "allowed"
    )
    assert simulate_json(*base, "--action", "iam:CreateRole")["decision"] == "implicitDeny"


def test_cross_account_bucket_access_needs_both_sides(tmp_path):
    bucket = write_policy(
        tmp_path,
        "bucket.json",
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::shared/*",
        },
    )
    reader = write_policy(
        tmp_path, "reader.json", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    )
    other = "arn:aws:iam::210987654321:role/reader"
    base = [
        "--resource-policy",
        bucket,
        "--principal",
        other,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::shared/report.csv",
        "--resource-account",
        "123456789012",
    ]
    assert simulate_json(*base, "--policy", reader)["decision"] == "allowed"
    assert simulate_json(*base)["decision"] == "implicitDeny"  # no identity side in its own account


def test_a_session_policy_caps_the_session(tmp_path):
    admin = write_policy(tmp_path, "admin.json", ADMIN)
    session = write_policy(
        tmp_path, "session.json", {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}
    )
    base = [
        "--policy",
        admin,
        "--session-policy",
        session,
        "--principal",
        "arn:aws:sts::123456789012:assumed-role/BreakGlass/alice",
    ]
    assert simulate_json(*base, "--action", "ec2:DescribeInstances")["decision"] == "allowed"
    assert simulate_json(*base, "--action", "ec2:TerminateInstances")["decision"] == "implicitDeny"


def test_no_policy_at_all_is_a_question_with_an_answer():
    done = run_grader("iam", "simulate", "--action", "s3:GetObject")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("implicitDeny")
    assert "no policy was given" in done.stdout


@pytest.mark.parametrize("kind", ["--boundary", "--session-policy", "--scp", "--rcp"])
def test_without_a_principal_the_caller_is_the_same_iam_user_whatever_is_added(tmp_path, kind):
    admin = write_policy(tmp_path, "admin.json", ADMIN)
    allow_all = write_policy(
        tmp_path, "allow-all.json", {"Effect": "Allow", "Action": "*", "Resource": "*"}
    )
    if kind == "--rcp":
        allow_all = write_policy(
            tmp_path,
            "allow-all-rcp.json",
            {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        )
    request = ["--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/k"]
    alone = simulate_json("--policy", admin, *request)
    added = simulate_json("--policy", admin, kind, allow_all, *request)
    assert alone["decision"] == added["decision"] == "allowed", added


def test_anonymous_only_when_asked(tmp_path):
    public = write_policy(
        tmp_path,
        "public.json",
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
        },
    )
    request = [
        "--resource-policy",
        public,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::b/k",
    ]
    assert simulate_json(*request, "--anonymous")["decision"] == "allowed"
    explained = run_grader("iam", "simulate", *request, "--anonymous").stdout
    assert "anonymously" not in explained  # allowed: no need to say who cannot
    both = run_grader("iam", "simulate", *request, "--anonymous", "--principal", ROLE)
    assert both.returncode == 2 and "not both" in both.stderr


@pytest.mark.parametrize(
    "args, said",
    [
        (("--caller-account", "abc"), "--caller-account 'abc': an account ID is 12 digits"),
        (("--resource-account", "12345"), "--resource-account '12345'"),
        (("--principal", "garbage"), "--principal 'garbage'"),
    ],
)
def test_a_malformed_caller_is_a_usage_error_not_a_silent_switch(args, said):
    done = run_grader("iam", "simulate", "--action", "s3:GetObject", *args)
    assert done.returncode == 2
    assert said in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_an_action_not_in_the_catalog_is_warned_about_and_still_decided(tmp_path):
    admin = write_policy(tmp_path, "admin.json", ADMIN)
    done = run_grader("iam", "simulate", "--policy", str(admin), "--action", "s3:GetObjekt")
    assert done.returncode == 0
    assert "s3:GetObjekt is not an action in the IAM action catalog" in done.stderr
    assert done.stdout.startswith("allowed")
    known = run_grader("iam", "simulate", "--policy", str(admin), "--action", "s3:GetObject")
    assert known.stderr == ""


def test_validate_flags_passrole_on_star_with_its_code_and_line():
    done = run_grader("iam", "validate", str(COURSE / "labs" / "lab3" / "operator-policy.json"))
    assert done.returncode == 1
    assert "SECURITY_WARNING PASS_ROLE_WITH_STAR_IN_RESOURCE" in done.stdout
    assert "line 11" in done.stdout


def test_validate_clean_policy_exits_zero():
    done = run_grader("iam", "validate", OPERATOR)
    assert done.returncode == 0 and "no findings" in done.stdout


def test_validate_json_has_validate_policys_shape(tmp_path):
    policy = write_policy(
        tmp_path,
        "bucket.json",
        {
            "Effect": "Allow",
            "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
        },
    )
    done = run_grader("iam", "validate", policy, "--type", "resource", "--json")
    findings = json.loads(done.stdout)["findings"]
    codes = {f["issueCode"] for f in findings}
    assert "ALLOW_WITH_NOT_PRINCIPAL" in codes
    first = findings[0]
    assert set(first) == {
        "findingType",
        "issueCode",
        "findingDetails",
        "learnMoreLink",
        "locations",
    }
    assert done.returncode == 1


def test_validate_broken_json_is_an_error_finding_with_position(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"Version": "2012-10-17",\n "Statement": [}')
    done = run_grader("iam", "validate", str(bad), "--json")
    findings = json.loads(done.stdout)["findings"]
    assert findings[0]["findingType"] == "ERROR"
    assert findings[0]["locations"][0]["span"]["start"]["line"] == 2


def test_several_scps_at_one_level_are_given_with_a_comma(tmp_path):
    """FullAWSAccess beside a Deny-only SCP at the OU: the Deny decides, the rest is allowed."""
    admin = write_policy(tmp_path, "admin.json", ADMIN)
    full = write_policy(tmp_path, "FullAWSAccess.json", ADMIN)
    deny = write_policy(
        tmp_path,
        "deny-only.json",
        {"Effect": "Deny", "Action": "cloudtrail:StopLogging", "Resource": "*"},
    )
    base = ["--policy", admin, "--scp", full, "--scp", f"{full},{deny}", "--principal", ROLE]
    assert simulate_json(*base, "--action", "cloudtrail:StopLogging")["decision"] == "explicitDeny"
    assert simulate_json(*base, "--action", "cloudtrail:LookupEvents")["decision"] == "allowed"
    alone = simulate_json(
        "--policy", admin, "--scp", deny, "--principal", ROLE, "--action", "s3:ListAllMyBuckets"
    )
    assert alone["decision"] == "implicitDeny"  # a level with only a Deny allows nothing
