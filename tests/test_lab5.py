"""lab5: does the solution pass, does the starter fail, and does every check fail on at
least one wrong answer? Each wrong answer is the reference solution with one mistake a
learner could make, graded by the real runner."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from grader.aws.iam import Request
from grader.checks import lab5 as checks
from grader.checks import lab5_scenario as org_data
from grader.checks.lab5_scenario import BOUNDARY, BUCKET, DELEGATED, RCP, SCP, SESSION
from grader.course.checkinfo import read_checks
from grader.course.labs import load_course
from grader.grading.runner import run_lab
from tests.conftest import COURSE, ROOT

LAB = load_course(COURSE).lab("lab5")
SOLUTION = {
    name: json.loads((ROOT / "solutions" / "lab5" / name).read_text()) for name in LAB.files
}


def grade(tmp_path: Path, changes: dict[str, dict] | None = None, seed: int = 11):
    folder = tmp_path / "lab5"
    shutil.copytree(COURSE / "labs" / "lab5", folder)
    for name in LAB.files:
        doc = (changes or {}).get(name) or SOLUTION[name]
        (folder / name).write_text(json.dumps(doc, indent=2))
    result = run_lab(LAB, folder, seed=seed)
    assert result.problem is None, result.problem
    return {c.id: c for c in result.checks}


def solution(name: str) -> dict:
    return copy.deepcopy(SOLUTION[name])


def statement(doc: dict, sid: str) -> dict:
    return next(s for s in doc["Statement"] if s.get("Sid") == sid)


def changed(name: str, sid: str, **changes) -> dict[str, dict]:
    """The solution's ``name`` with statement ``sid`` changed (a None value drops the key)."""
    doc = solution(name)
    st = statement(doc, sid)
    for key, value in changes.items():
        if value is None:
            st.pop(key, None)
        else:
            st[key] = value
    return {name: doc}


def without(name: str, *sids: str) -> dict[str, dict]:
    doc = solution(name)
    doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") not in sids]
    return {name: doc}


def added(name: str, *statements: dict) -> dict[str, dict]:
    doc = solution(name)
    doc["Statement"].extend(statements)
    return {name: doc}


def test_solution_passes_every_check(tmp_path):
    results = grade(tmp_path)
    assert {c.status for c in results.values()} == {"passed"}
    assert set(results) == {c.name for c in read_checks(LAB.checks_module)}


def test_starter_fails_and_shows_which_policy_decided(tmp_path):
    result = run_lab(LAB, LAB.folder, seed=3)
    by_id = {c.id: c for c in result.checks}
    assert not result.passed
    regions = by_id["test_scp_denies_unapproved_regions"]
    assert regions.status == "failed"
    assert regions.found.startswith("allowed: statement 1 of AdministratorAccess")
    nat = by_id["test_bucket_policy_passes_access_analyzer"]
    assert "ALLOW_WITH_NOT_PRINCIPAL" in nat.found
    outside = by_id["test_bucket_refuses_everyone_outside_the_organization"]
    assert "TODOTask3EveryoneButTheOldVendor" in outside.found
    # no Region deny over us-east-1 yet: the global services' exemption earns nothing
    exempts = by_id["test_scp_exempts_global_services"]
    assert exempts.status == "failed"
    assert "there is no Region deny there to exempt them from" in exempts.found
    session = by_id["test_break_glass_session_can_do_nothing_else"]
    assert "session policy break-glass-session-policy.json" in session.found


ORG_ACCOUNTS = [checks.DEV, checks.PROD, checks.SECURITY]
PERIMETER = "OnlyTheOrganizationAndAWSServicesActingForIt"
# check that must fail -> the files changed from the solution (a mistake a learner makes)
WRONG_ANSWERS: dict[str, dict[str, dict]] = {
    # a bucket policy written like an identity policy: no Principal
    "test_every_file_is_valid_iam": changed(
        BUCKET, "OrganizationReadsAndWritesArtifacts", Principal=None
    ),
    # a session policy longer than STS accepts
    "test_the_setup_deploys_to_the_sandbox": added(
        SESSION,
        *[
            {
                "Sid": f"Stop{i}",
                "Effect": "Allow",
                "Action": "ec2:StopInstances",
                "Resource": f"arn:aws:ec2:ap-northeast-1:{checks.PROD}:instance/i-0{i:016x}",
            }
            for i in range(30)
        ],
    ),
    "test_scp_keeps_accounts_in_the_organization": without(SCP, "StayInTheOrganization"),
    # only the obvious action: a trail logging nothing is stopped in all but name
    "test_scp_keeps_cloudtrail_and_guardduty_running": changed(
        SCP, "KeepCloudTrailRecording", Action="cloudtrail:StopLogging"
    ),
    # a list of Regions to block instead of a list to allow
    "test_scp_denies_unapproved_regions": changed(
        SCP,
        "OnlyApprovedRegions",
        Condition={"StringEquals": {"aws:RequestedRegion": ["us-west-2", "eu-west-1"]}},
    ),
    # every action denied outside the approved Regions, global services included
    "test_scp_exempts_global_services": changed(
        SCP, "OnlyApprovedRegions", NotAction=None, Action="*"
    ),
    # the wrong path
    "test_developers_create_app_roles_with_the_boundary": changed(
        DELEGATED,
        "CreateAndManageAppRolesOnlyWithTheBoundary",
        Resource=f"arn:aws:iam::{checks.DEV}:role/apps/*",
    ),
    # StringLike with a wildcard also matches AppRoleBoundaryLax and friends
    "test_developers_cannot_create_roles_without_the_boundary": changed(
        DELEGATED,
        "CreateAndManageAppRolesOnlyWithTheBoundary",
        Condition={"StringLike": {"iam:PermissionsBoundary": f"{checks.BOUNDARY_ARN}*"}},
    ),
    # developers may manage policies, and nothing protects the boundary's own versions
    "test_developers_cannot_remove_or_change_the_boundary": {
        DELEGATED: {
            **SOLUTION[DELEGATED],
            "Statement": [
                s for s in SOLUTION[DELEGATED]["Statement"] if s["Sid"] != "NeverEditTheBoundary"
            ]
            + [
                {
                    "Sid": "ManagePolicies",
                    "Effect": "Allow",
                    "Action": ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"],
                    "Resource": f"arn:aws:iam::{checks.DEV}:policy/*",
                }
            ],
        }
    },
    # PassRole without iam:PassedToService: an app role can go to an EC2 instance
    "test_developers_cannot_escalate": changed(
        DELEGATED, "PassAppRolesToLambdaOnly", Condition=None
    ),
    # a boundary that allows all of S3
    "test_boundary_caps_app_roles": changed(BOUNDARY, "AppObjects", Action="s3:*", Resource="*"),
    "test_bucket_refuses_requests_without_tls": without(BUCKET, "DenyRequestsWithoutTLS"),
    # today's accounts instead of the organization
    "test_bucket_serves_the_organization": changed(
        BUCKET,
        "OrganizationReadsAndWritesArtifacts",
        Principal={"AWS": [f"arn:aws:iam::{a}:root" for a in ORG_ACCOUNTS]},
        Condition=None,
    ),
    # the NotPrincipal anti-pattern
    "test_bucket_refuses_everyone_outside_the_organization": changed(
        BUCKET,
        "OrganizationReadsAndWritesArtifacts",
        Principal=None,
        NotPrincipal={"AWS": "arn:aws:iam::999988887777:root"},
        Condition=None,
    ),
    # forgot the snapshot the volume turns into
    "test_break_glass_session_can_contain_an_incident": changed(
        SESSION,
        "SnapshotVolumesForForensics",
        Resource=f"arn:aws:ec2:*:{checks.PROD}:volume/*",
    ),
    # all of EC2 "to be safe"
    "test_break_glass_session_can_do_nothing_else": changed(
        SESSION, "StopAffectedInstances", Action="ec2:*"
    ),
    # a misspelled action
    "test_scp_passes_access_analyzer": changed(
        SCP,
        "KeepGuardDutyWatching",
        Action=[*checks.GUARDDUTY_TAMPERING, "guardduty:DisableDetector"],
    ),
    # PassRole on every role in the boundary
    "test_delegation_passes_access_analyzer": added(
        BOUNDARY,
        {"Sid": "PassAnything", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
    ),
    "test_bucket_policy_passes_access_analyzer": added(
        BUCKET,
        {
            "Sid": "EveryoneButTheVendor",
            "Effect": "Allow",
            "NotPrincipal": {"AWS": "arn:aws:iam::999988887777:root"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::acme-release-artifacts/*",
        },
    ),
    # a session policy allowing everything
    "test_session_policy_passes_access_analyzer": {
        SESSION: {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
    },
    # an RCP that names the one vendor to keep out, as a bucket policy might
    "test_rcp_is_a_resource_control_policy": changed(
        RCP, PERIMETER, Principal={"AWS": "arn:aws:iam::999988887777:root"}, Condition=None
    ),
    # today's accounts instead of the organization
    "test_rcp_lets_the_organization_in": changed(
        RCP,
        PERIMETER,
        Condition={
            "StringNotEqualsIfExists": {"aws:PrincipalAccount": ORG_ACCOUNTS},
            "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
        },
    ),
    # AWS services carry no aws:PrincipalOrgID
    "test_rcp_lets_aws_services_work_for_the_organization": changed(
        RCP,
        PERIMETER,
        Condition={"StringNotEqualsIfExists": {"aws:PrincipalOrgID": checks.ORG_ID}},
    ),
    # the bucket only: the keys are left open
    "test_rcp_keeps_everyone_else_out": changed(RCP, PERIMETER, Action="s3:*"),
    # "nobody makes buckets" in a perimeter that should only keep outsiders out
    "test_rcp_keeps_the_rest_of_the_lab_working": added(
        RCP,
        {
            "Sid": "NoNewBuckets",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:CreateBucket",
            "Resource": "*",
        },
    ),
}


def test_every_check_has_a_wrong_answer():
    assert set(WRONG_ANSWERS) == {c.name for c in read_checks(LAB.checks_module)}


@pytest.mark.parametrize("check_id", sorted(WRONG_ANSWERS))
def test_each_check_fails_on_its_wrong_answer(tmp_path, check_id):
    results = grade(tmp_path, WRONG_ANSWERS[check_id])
    assert results[check_id].status == "failed", results[check_id]
    assert results[check_id].found or results[check_id].message


@pytest.mark.parametrize(
    "check_id",
    [
        "test_scp_denies_unapproved_regions",
        "test_developers_create_app_roles_with_the_boundary",
        "test_break_glass_session_can_contain_an_incident",
    ],
)
def test_matrix_failures_explain_the_deciding_policy(tmp_path, check_id):
    """The message names the decision word and the policy that decided."""
    found = grade(tmp_path, WRONG_ANSWERS[check_id])[check_id].found
    assert found.split(":", 1)[0] in ("allowed", "explicitDeny", "implicitDeny")
    assert ".json" in found or "AdministratorAccess" in found


def test_hard_coded_answers_fail_on_a_new_seed(tmp_path):
    """Listing the Regions, roles and instances of one run does not pass the next run."""
    world = checks.make_world(11)
    scp = changed(
        SCP,
        "OnlyApprovedRegions",
        Condition={"StringEquals": {"aws:RequestedRegion": list(world.regions)}},
    )
    delegated = changed(
        DELEGATED,
        "CreateAndManageAppRolesOnlyWithTheBoundary",
        Resource=[f"arn:aws:iam::{checks.DEV}:role/app/{n}" for n in world.app_roles],
    )
    session = changed(
        SESSION,
        "StopAffectedInstances",
        Resource=[f"arn:aws:ec2:*:{checks.PROD}:instance/{i}" for i in world.instances],
    )
    hard_coded = {**scp, **delegated, **session}
    same = grade(tmp_path / "same", hard_coded, seed=11)
    for check_id in (
        "test_scp_denies_unapproved_regions",
        "test_developers_create_app_roles_with_the_boundary",
        "test_break_glass_session_can_contain_an_incident",
    ):
        assert same[check_id].status == "passed", same[check_id]
    other = grade(tmp_path / "other", hard_coded, seed=12)
    for check_id in (
        "test_scp_denies_unapproved_regions",
        "test_developers_create_app_roles_with_the_boundary",
        "test_break_glass_session_can_contain_an_incident",
    ):
        assert other[check_id].status == "failed", other[check_id]


def test_data_matches_what_the_checks_use():
    data = COURSE / "labs" / "lab5" / "data"
    organization = json.loads((data / "organization.json").read_text())
    assert organization["organization_id"] == checks.ORG_ID
    assert organization["management_account"] == org_data.MANAGEMENT
    assert tuple(organization["approved_regions"]) == checks.APPROVED_REGIONS
    assert organization["dev"]["permissions_boundary"] == checks.BOUNDARY_ARN
    assert organization["prod"]["release_bucket"] == checks.BUCKET_NAME
    accounts = {
        a["name"]: a["id"]
        for ou in organization["root"]["organizational_units"]
        for a in ou["accounts"]
    }
    assert accounts == {"security": checks.SECURITY, "dev": checks.DEV, "prod": checks.PROD}
    assert json.loads((data / "app-role-policy.json").read_text()) == org_data.APP_ROLE_POLICY
    for name in ("FullAWSAccess.json", "AdministratorAccess.json"):
        assert json.loads((data / name).read_text()) == org_data.ADMIN_POLICY


def test_worlds_differ_between_seeds_and_keep_us_east_1():
    a, b = checks.make_world(1), checks.make_world(2)
    assert a != b
    for world in (a, b):
        assert "us-east-1" in world.regions
        assert not set(world.regions) & set(checks.APPROVED_REGIONS)
        assert world.new_account not in ORG_ACCOUNTS


TASK6 = {
    "test_rcp_is_a_resource_control_policy",
    "test_rcp_lets_the_organization_in",
    "test_rcp_lets_aws_services_work_for_the_organization",
    "test_rcp_keeps_everyone_else_out",
    "test_rcp_keeps_the_rest_of_the_lab_working",
}


def test_starter_rcp_fails_task_6_and_the_solution_passes(tmp_path):
    """The starter's rcp.json (a list of today's accounts, on S3 only) fails the perimeter
    checks and leaves the other tasks alone; the solution's passes every task-6 check."""
    starter = json.loads((COURSE / "labs" / "lab5" / RCP).read_text())
    results = grade(tmp_path / "starter", {RCP: starter})
    assert {c.name for c in read_checks(LAB.checks_module) if c.task == 6} == TASK6
    assert results["test_rcp_is_a_resource_control_policy"].status == "passed"
    for check_id in TASK6 - {"test_rcp_is_a_resource_control_policy"}:
        assert results[check_id].status == "failed", results[check_id]
    assert "TODOTask6OnlyTheOrganization" in results["test_rcp_lets_the_organization_in"].found
    assert "kms:" in results["test_rcp_keeps_everyone_else_out"].found
    others = {cid: c.status for cid, c in results.items() if cid not in TASK6}
    assert set(others.values()) == {"passed"}, others
    solved = grade(tmp_path / "solution")
    assert {solved[cid].status for cid in TASK6} == {"passed"}


def test_rcp_grammar_refuses_what_organizations_refuses():
    """An Allow, a Principal other than "*", NotPrincipal and NotAction are not an RCP."""
    ok = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}
    assert org_data.rcp_grammar({"Statement": [ok]}) == []
    for wrong, words in (
        ({**ok, "Effect": "Allow"}, "Effect"),
        ({**ok, "Principal": {"AWS": "arn:aws:iam::999988887777:root"}}, "Principal"),
        (
            {**{k: v for k, v in ok.items() if k != "Principal"}, "NotPrincipal": "*"},
            "NotPrincipal",
        ),
        ({**{k: v for k, v in ok.items() if k != "Action"}, "NotAction": "s3:*"}, "NotAction"),
    ):
        problems = org_data.rcp_grammar({"Statement": [wrong]})
        assert problems and words in problems[0], (wrong, problems)


def test_rcp_data_matches_what_the_checks_use():
    data = COURSE / "labs" / "lab5" / "data"
    full = json.loads((data / "RCPFullAWSAccess.json").read_text())
    assert full == org_data.RCP_FULL_ACCESS
    assert json.loads((data / "careless-share.json").read_text()) == org_data.CARELESS_SHARE
    organization = json.loads((data / "organization.json").read_text())
    assert organization["root"]["rcps"] == ["RCPFullAWSAccess", "rcp.json (yours)"]
    world = checks.make_world(5)
    assert len(set(world.key_ids)) == 2 and world.key_ids != checks.make_world(6).key_ids


# ---------------------------------------------------------------- messages and hints that teach

TAMPERING = org_data.CLOUDTRAIL_TAMPERING + org_data.GUARDDUTY_TAMPERING


def _message(check) -> str:
    return " ".join(filter(None, (check.expected, check.found, check.fix)))


@pytest.fixture(scope="module")
def starter() -> dict:
    return {c.id: c for c in run_lab(LAB, LAB.folder, seed=3).checks}


def test_the_audit_failure_names_the_concept_not_the_action_list(starter):
    """The starter denies only cloudtrail:StopLogging: the failure names the request that
    got through and the concept (stop, delete or reconfigure the trail or the detector),
    not the list of actions to research."""
    check = starter["test_scp_keeps_cloudtrail_and_guardduty_running"]
    assert check.status == "failed"
    assert ", ".join(TAMPERING) not in _message(check)
    assert not any(action in check.fix for action in TAMPERING)
    for words in ("CloudTrail", "GuardDuty", "stops, deletes or reconfigures", "Write"):
        assert words in check.fix, words
    assert check.docs == "least-privilege/policy-types.md#layer-3-add-scps-and-rcps"


@pytest.mark.parametrize(
    "check_id",
    [
        "test_developers_cannot_create_roles_without_the_boundary",
        "test_developers_cannot_remove_or_change_the_boundary",
        "test_developers_cannot_escalate",
    ],
)
def test_the_boundary_failures_name_the_key_not_the_condition_to_paste(starter, check_id):
    """The starter's iam:* fails the delegation checks with the concept (the boundary the
    request carries, the /app/ path), never the operator with its key and value, nor the
    ARN to paste."""
    check = starter[check_id]
    assert check.status == "failed"
    assert "StringEquals" not in _message(check) and "ArnEquals" not in _message(check)
    assert '"iam:PermissionsBoundary":' not in _message(check)
    assert org_data.BOUNDARY_ARN not in check.fix
    assert "role/app/*" not in check.fix and "lambda.amazonaws.com" not in check.fix
    assert check.docs == "least-privilege/policy-types.md#layer-2-add-a-permissions-boundary"


@pytest.mark.parametrize(
    "task, literals",
    [
        (1, [", ".join(f"`{a}`" for a in TAMPERING[:4]), "`guardduty:UpdateDetector`"]),
        (2, ['"StringEquals": {"iam:PermissionsBoundary"', org_data.BOUNDARY_ARN]),
        (2, ["`iam:CreatePolicyVersion`", "`iam:DeleteRolePermissionsBoundary`"]),
        (1, ['"StringNotEquals": {"aws:RequestedRegion"', '"NotAction": ["iam:*"']),
        (3, ['"StringEquals": {"aws:PrincipalOrgID"', '"aws:SecureTransport": "false"']),
        (4, ["`iam:UpdateAccessKey`", "`ec2:CreateSnapshot`", "`ec2:DescribeSnapshots`"]),
        (
            6,
            [
                '"StringNotEqualsIfExists": {"aws:PrincipalOrgID"',
                '"BoolIfExists": {"aws:PrincipalIsAWSService": "false"}',
            ],
        ),
    ],
)
def test_only_the_last_hint_of_a_task_gives_the_answer(task, literals):
    hints = [h.text for h in LAB.hints if h.task == task]
    for literal in literals:
        holders = [i for i, text in enumerate(hints) if literal in " ".join(text.split())]
        assert holders == [len(hints) - 1], (literal, holders)


def test_a_request_shows_its_condition_keys_as_documented():
    """The engine reads keys lower-cased; the message shows them as AWS documents them."""
    req = Request(
        action="iam:CreateRole",
        resource="arn:aws:iam::410987654321:role/app/x",
        context={"aws:RequestedRegion": "us-east-1", "iam:PermissionsBoundary": "arn:b"},
    )
    text = org_data.Cell("a developer", req, False, "").describe()
    assert "iam:PermissionsBoundary=arn:b" in text
    assert "iam:permissionsboundary" not in text


def test_a_refused_request_says_it_carried_no_boundary(starter):
    check = starter["test_developers_cannot_create_roles_without_the_boundary"]
    assert check.status == "failed"
    assert check.expected.startswith("a developer: iam:CreateRole on ")
    assert "(no boundary in the request) to be denied" in check.expected
    assert "iam:permissionsboundary" not in _message(check)


def test_an_scp_without_a_region_deny_does_not_pass_the_exemption_check(tmp_path):
    results = grade(tmp_path, without(SCP, "OnlyApprovedRegions"))
    check = results["test_scp_exempts_global_services"]
    assert check.status == "failed"
    assert "us-east-1" in check.found and "ec2:RunInstances" in check.found
    assert results["test_scp_keeps_accounts_in_the_organization"].status == "passed"


# Operators with their keys, as a policy writes them: the answer, kept for the last hint.
PASTABLE = (
    "StringEquals",
    "StringNotEquals",
    "StringNotLike",
    "IfExists",
    "BoolIfExists",
    '"Principal": "*"',
    '"aws:SecureTransport": "false"',
    "NotAction listing",
)


def _no_answer(check) -> None:
    for literal in PASTABLE:
        assert literal not in check.fix, (literal, check.fix)


def test_the_region_failure_names_the_concept_not_the_operator(starter):
    """The starter has no Region deny: the failure names the request that got through and
    the concept (the Region a request is made in, compared exactly with the approved list),
    never the operator to paste."""
    check = starter["test_scp_denies_unapproved_regions"]
    assert check.status == "failed"
    assert "ec2:RunInstances" in check.expected and "us-east-1" in check.expected
    _no_answer(check)
    for words in ("aws:RequestedRegion", "approved", "exactly", "wildcard", "global services"):
        assert words in check.fix, words
    assert check.docs == "least-privilege/policy-types.md#seven-policy-types"


BUCKET_POLICIES = "least-privilege/policy-types.md#layer-4-add-a-resource-based-policy"
ORG_POLICIES = "least-privilege/policy-types.md#layer-3-add-scps-and-rcps"


@pytest.mark.parametrize(
    "check_id, words, docs",
    [
        (
            "test_bucket_refuses_requests_without_tls",
            ("TLS", "explicit Deny", "objects"),
            BUCKET_POLICIES,
        ),
        (
            "test_bucket_refuses_everyone_outside_the_organization",
            ("organization ID", "exactly", "wildcard", "NotPrincipal"),
            BUCKET_POLICIES,
        ),
        ("test_rcp_lets_the_organization_in", ("aws:PrincipalOrgID", "not a list"), ORG_POLICIES),
        (
            "test_rcp_lets_aws_services_work_for_the_organization",
            ("AWS service", "aws:PrincipalIsAWSService"),
            ORG_POLICIES,
        ),
        (
            "test_rcp_keeps_everyone_else_out",
            ("KMS", "exactly", "no wildcard", "no organization ID", "anonymous"),
            ORG_POLICIES,
        ),
    ],
)
def test_bucket_and_rcp_failures_name_the_concept_not_the_condition(starter, check_id, words, docs):
    check = starter[check_id]
    assert check.status == "failed"
    assert check.expected.endswith(("to be denied", "to be allowed"))  # the failing request
    _no_answer(check)
    for word in words:
        assert word in check.fix, word
    assert check.docs == docs


def test_wrong_answers_for_the_org_grant_and_the_exemption_get_the_concept(tmp_path):
    """Today's accounts in the bucket policy, and a Region deny with no exemption: both
    fail with the concept, not the statement to write."""
    results = grade(
        tmp_path,
        {
            **WRONG_ANSWERS["test_bucket_serves_the_organization"],
            **WRONG_ANSWERS["test_scp_exempts_global_services"],
        },
    )
    serves = results["test_bucket_serves_the_organization"]
    exempts = results["test_scp_exempts_global_services"]
    for check in (serves, exempts):
        assert check.status == "failed"
        _no_answer(check)
    assert "organization" in serves.fix and "accounts join and leave" in serves.fix
    assert "global services" in exempts.fix and "us-east-1" in exempts.fix


def test_the_leave_failure_names_the_concept_not_the_statement_to_paste(starter):
    """The starter does not keep accounts in the organization: the failure names the request
    (the action, who made it) and why only an SCP Deny holds, never the statement to add."""
    check = starter["test_scp_keeps_accounts_in_the_organization"]
    assert check.status == "failed"
    assert "organizations:LeaveOrganization" in check.expected  # the failing request
    assert "organizations:LeaveOrganization" not in check.fix and '"*"' not in check.fix
    for words in ("SCP", "explicit Deny", "FullAWSAccess", "root user"):
        assert words in check.fix, words
    assert check.docs == ORG_POLICIES


def test_the_containment_failure_names_the_steps_not_the_actions(tmp_path):
    """A session policy that also reboots instances (no request of the matrix asks for it)
    fails with the steps containment needs (stop, snapshot, deactivate) and the action it
    has too many, never the action names to list."""
    reboot = {"Effect": "Allow", "Action": "ec2:RebootInstances", "Resource": "*"}
    results = grade(tmp_path, added(SESSION, reboot))
    check = results["test_break_glass_session_can_do_nothing_else"]
    assert check.status == "failed"
    assert "ec2:RebootInstances" in check.found
    for step in ("stopping instances", "snapshotting volumes", "deactivating access keys"):
        assert step in check.expected, step
    for action in ("ec2:StopInstances", "ec2:CreateSnapshot", "iam:UpdateAccessKey"):
        assert action not in check.expected and action not in check.fix, action
    assert check.docs == "least-privilege/policy-types.md#layer-5-add-a-session-policy"
