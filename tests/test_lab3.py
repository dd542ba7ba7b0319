"""lab3: does the solution pass, does the starter fail, and does every check fail on at
least one wrong answer? Each wrong answer is the reference solution with one mistake a
learner could make, graded by the real runner."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import pytest

from grader.aws.iam import parse_policy
from grader.checks import lab3_scenario as scenario
from grader.course.checkinfo import read_checks
from grader.course.labs import load_course
from grader.grading.runner import run_lab
from tests.conftest import COURSE, ROOT

LAB = load_course(COURSE).lab("lab3")
SOLUTION = {
    name: json.loads((ROOT / "solutions" / "lab3" / name).read_text()) for name in LAB.files
}


def grade(tmp_path: Path, viewer: dict | None = None, operator: dict | None = None, seed: int = 11):
    folder = tmp_path / "lab3"
    shutil.copytree(COURSE / "labs" / "lab3", folder)
    for name, doc in (("viewer-policy.json", viewer), ("operator-policy.json", operator)):
        (folder / name).write_text(json.dumps(doc or SOLUTION[name], indent=2))
    result = run_lab(LAB, folder, seed=seed)
    assert result.problem is None, result.problem
    return {c.id: c for c in result.checks}


def solution(name: str) -> dict:
    return copy.deepcopy(SOLUTION[name])


def with_statement(name: str, **changes) -> dict:
    doc = solution(name)
    doc["Statement"][0].update(changes)
    return doc


def add_statement(name: str, statement: dict) -> dict:
    doc = solution(name)
    doc["Statement"].append(statement)
    return doc


def test_solution_passes_every_check(tmp_path):
    results = grade(tmp_path)
    assert {c.status for c in results.values()} == {"passed"}
    assert set(results) == {c.name for c in read_checks(LAB.checks_module)}


def test_starter_fails_and_names_the_data_reads(tmp_path):
    result = run_lab(LAB, LAB.folder, seed=3)
    by_id = {c.id: c for c in result.checks}
    assert not result.passed
    reads = by_id["test_viewer_reads_no_data"]
    assert reads.status == "failed"
    for action in ("s3:GetObject", "dynamodb:GetItem", "ssm:GetParameter", "sqs:ReceiveMessage"):
        assert action in reads.found or "more" in reads.found
    assert "s3:GetObject" in reads.found or "dynamodb" in reads.found


# (check that must fail, viewer, operator, why this is a mistake a learner makes)
WRONG_ANSWERS = {
    "test_both_policies_are_valid_iam": (
        with_statement("viewer-policy.json", Effect="Permit"),
        None,
    ),
    "test_both_policies_deploy_to_the_sandbox": (
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": f"S{i}",
                    "Effect": "Allow",
                    "Action": "ec2:Describe*",
                    "Resource": f"arn:aws:ec2:*:*:instance/i-{i:017x}",
                }
                for i in range(90)
            ]
            + [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}],
        },
        None,
    ),
    "test_viewer_sees_ec2_and_vpc": (
        with_statement("viewer-policy.json", Action=["ec2:DescribeInstances", "ec2:DescribeVpcs"]),
        None,
    ),
    "test_viewer_reads_no_data": (
        with_statement("viewer-policy.json", Action=["ec2:Describe*", "s3:GetObject"]),
        None,
    ),
    "test_viewer_cannot_read_user_data": (
        # ec2:Describe* alone: DescribeInstanceAttribute returns user data
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}],
        },
        None,
    ),
    "test_viewer_changes_nothing": (
        add_statement(
            "viewer-policy.json",
            {"Effect": "Allow", "Action": "ec2:StopInstances", "Resource": "*"},
        ),
        None,
    ),
    "test_operator_starts_and_stops_dev_instances": (
        None,
        with_statement(
            "operator-policy.json",
            Condition={"StringEquals": {"aws:ResourceTag/Environment": "Dev"}},
        ),
    ),
    "test_operator_cannot_touch_other_instances": (
        None,
        with_statement(
            "operator-policy.json",
            Condition={"StringLike": {"aws:ResourceTag/Environment": "dev*"}},
        ),
    ),
    "test_operator_has_no_other_power": (
        None,
        add_statement(
            "operator-policy.json", {"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*"}
        ),
    ),
    "test_no_wildcard_action_beyond_describe": (
        None,
        with_statement("operator-policy.json", Action=["ec2:Start*", "ec2:Stop*"]),
    ),
    "test_operator_is_scoped_to_the_account_and_region": (
        None,
        with_statement("operator-policy.json", Resource="arn:aws:ec2:*:*:instance/*"),
    ),
}


def test_every_check_has_a_wrong_answer():
    assert set(WRONG_ANSWERS) == {c.name for c in read_checks(LAB.checks_module)}


@pytest.mark.parametrize("check_id", sorted(WRONG_ANSWERS))
def test_each_check_fails_on_its_wrong_answer(tmp_path, check_id):
    viewer, operator = WRONG_ANSWERS[check_id]
    results = grade(tmp_path, viewer, operator)
    assert results[check_id].status == "failed", results[check_id]
    assert results[check_id].found or results[check_id].message


def test_hard_coded_instance_ids_fail_on_a_new_seed(tmp_path):
    """A policy listing the instances one run used does not pass the next run."""
    import random

    rng = random.Random(11)
    ids = [scenario._instance_id(rng) for _ in range(3)]
    operator = with_statement(
        "operator-policy.json",
        Resource=[f"arn:aws:ec2:{scenario.REGION}:{scenario.ACCOUNT}:instance/{i}" for i in ids],
        Condition={},
    )
    del operator["Statement"][0]["Condition"]
    results = grade(tmp_path, operator=operator, seed=12)
    assert results["test_operator_starts_and_stops_dev_instances"].status == "failed"


def test_inventory_matches_the_account_and_region_the_checks_use():
    inventory = json.loads((COURSE / "labs" / "lab3" / "data" / "inventory.json").read_text())
    assert (inventory["account"], inventory["region"]) == (scenario.ACCOUNT, scenario.REGION)


def test_shipped_read_only_access_is_a_valid_policy_that_reads_data():
    from grader.aws.iam.catalog import grants
    from grader.aws.iam.data_access import data_read_actions

    policy = parse_policy(
        (COURSE / "labs" / "lab3" / "data" / "ReadOnlyAccess.json").read_text(),
        name="ReadOnlyAccess",
    )
    reads = {entry.action for entry, _ in data_read_actions(grants(policy))}
    assert {"s3:GetObject", "dynamodb:GetItem", "sqs:ReceiveMessage"} <= reads


@pytest.mark.parametrize(
    "path", sorted((ROOT / "docs_src" / "least_privilege").rglob("*.json")), ids=lambda p: p.name
)
def test_docs_sample_policies_are_valid_iam(path):
    """Every policy the least-privilege chapter shows parses; ``*.resource.json`` ones as
    resource policies. (The Edge chapter's samples are run by the docs-command test.)"""
    kind = "resource" if path.name.endswith(".resource.json") else "identity"
    parse_policy(path.read_text(), name=path.name, kind=kind)


# ---------------------------------------------------------------- messages and hints that teach

SCOPED_ARN = "arn:aws:ec2:ap-northeast-1:123456789012:instance/*"


def _message(check) -> str:
    return " ".join(filter(None, (check.expected, check.found, check.fix)))


def test_the_scope_failure_names_the_concept_not_the_arn_to_paste(tmp_path):
    """The starter's operator ("Resource": "*") fails the scope check with the concept (the
    account and Region in the ARN, no wildcard there) and the docs, not the ARN itself."""
    check = {c.id: c for c in run_lab(LAB, LAB.folder, seed=3).checks}[
        "test_operator_is_scoped_to_the_account_and_region"
    ]
    assert check.status == "failed"
    assert SCOPED_ARN not in _message(check)
    assert "instance/*" not in check.fix
    for words in ("account", "Region", "wildcard", "data/inventory.json"):
        assert words in check.fix, words
    assert check.docs == "least-privilege/index.md#wildcards-need-care"


def test_only_the_last_hint_of_task_3_gives_the_arn():
    hints = [h.text for h in LAB.hints if h.task == 3]
    assert len(hints) >= 3
    assert [i for i, text in enumerate(hints) if SCOPED_ARN in text] == [len(hints) - 1]


USER_DATA_DENY = '"Action": "ec2:DescribeInstanceAttribute"'
EXACT_TAG = '"StringEquals": {"aws:ResourceTag/Environment": "dev"}'


@pytest.fixture(scope="module")
def loosened(tmp_path_factory):
    """ec2:Describe* with no user data deny, and an operator whose tag condition is a
    pattern (dev*): one run fails both the user data and the other-instances checks."""
    return grade(
        tmp_path_factory.mktemp("loosened"),
        WRONG_ANSWERS["test_viewer_cannot_read_user_data"][0],
        WRONG_ANSWERS["test_operator_cannot_touch_other_instances"][1],
    )


def test_the_user_data_failure_names_the_concept_not_the_statement_to_paste(loosened):
    check = loosened["test_viewer_cannot_read_user_data"]
    assert check.status == "failed"
    assert "ec2:DescribeInstanceAttribute" in check.expected  # the failing request
    assert "Deny statement" not in _message(check) and '"Resource": "*"' not in check.fix
    assert "ec2:DescribeInstanceAttribute" not in check.fix
    for words in ("user data", "explicit Deny", "Allow"):
        assert words in check.fix, words
    assert check.docs == "least-privilege/index.md#how-a-request-is-decided"


def test_the_tag_failure_names_the_concept_not_the_operator(loosened):
    check = loosened["test_operator_cannot_touch_other_instances"]
    assert check.status == "failed"
    for operator in ("StringEquals", "StringLike", "IgnoreCase"):
        assert operator not in check.fix, operator
    for words in ("Environment tag", "exactly", "case", "look-alikes"):
        assert words in check.fix, words
    assert check.docs == "least-privilege/index.md#condition-operators"


@pytest.mark.parametrize(
    "task, literal",
    [
        (1, USER_DATA_DENY),
        (1, 'Allow `ec2:Describe*` on `"Resource": "*"`'),
        (2, EXACT_TAG),
        (2, "`ec2:StartInstances`"),
    ],
)
def test_only_the_last_hint_of_tasks_1_and_2_gives_the_answer(task, literal):
    hints = [" ".join(h.text.split()) for h in LAB.hints if h.task == task]
    assert len(hints) >= 3
    assert [i for i, text in enumerate(hints) if literal in text] == [len(hints) - 1]


def test_the_describe_failure_names_the_concept_not_the_wildcard_to_paste(tmp_path):
    """A viewer that lists a few Describe actions on one instance's ARN fails with the
    requests it refused and the concept (the Describe family, which takes no resource-level
    permissions), never the wildcard and Resource to paste."""
    narrow = with_statement(
        "viewer-policy.json",
        Action=["ec2:DescribeInstances"],
        Resource="arn:aws:ec2:ap-northeast-1:123456789012:instance/*",
    )
    check = grade(tmp_path, viewer=narrow)["test_viewer_sees_ec2_and_vpc"]
    assert check.status == "failed"
    assert "ec2:DescribeVpcs" in check.found  # a request it refused
    assert "ec2:Describe*" not in _message(check) and '"Resource": "*"' not in _message(check)
    for words in ("describe", "resource-level permissions"):
        assert words in check.fix, words
    assert check.docs == "least-privilege/index.md#wildcards-need-care"


def test_the_operator_failures_name_the_duty_not_the_actions_to_list(tmp_path):
    """An operator allowed ec2:* on dev instances fails with the duty (start and stop), never
    the two action names to paste."""
    wide = with_statement("operator-policy.json", Action="ec2:*")
    checks = grade(tmp_path, operator=wide)
    for check_id in ("test_operator_has_no_other_power", "test_no_wildcard_action_beyond_describe"):
        check = checks[check_id]
        assert check.status == "failed", check_id
        for action in ("ec2:StartInstances", "ec2:StopInstances"):
            assert action not in check.fix and action not in check.expected, (check_id, action)
    assert "start" in checks["test_operator_has_no_other_power"].fix
    assert checks["test_operator_has_no_other_power"].docs == (
        "least-privilege/index.md#roles-per-duty"
    )


# ---------------------------------------------------------------- the docs a failure links to

CHAPTER_CHECKS = [ROOT / "grader" / "checks" / f"lab{n}.py" for n in (3, 4, 5)]
# A docs reference as the checks write it: a whole literal, or the lab page plus an anchor.
DOCS_LITERAL = re.compile(r'"(least-privilege/[\w-]+\.md)#([\w-]+)"')
# (an anchor built at run time, ``{DOCS}#task-{task}``, is left out)
LAB_PAGE_ANCHOR = re.compile(r'DOCS \+ "#([\w-]+)"|\{DOCS\}#([\w-]+)(?![\w{-])')
LAB_PAGE = re.compile(r'^DOCS = "(least-privilege/[\w-]+\.md)"$', re.M)
HEADING = re.compile(r"^#{1,6} (.+?)(?:\s*\{\s*#([\w-]+)\s*\})?\s*$", re.M)


def anchors(page: Path) -> set[str]:
    """The ids MkDocs gives a page's headings: ``{ #id }`` when written, else the title
    slugified as the toc extension does (code spans and quotes dropped)."""
    from markdown.extensions.toc import slugify

    found = set()
    for title, explicit in HEADING.findall(page.read_text(encoding="utf-8")):
        found.add(explicit or slugify(re.sub(r"[`*]", "", title), "-"))
    return found


def docs_references(module: Path) -> set[tuple[str, str]]:
    text = module.read_text(encoding="utf-8")
    refs = set(DOCS_LITERAL.findall(text))
    page = LAB_PAGE.search(text).group(1)
    refs |= {(page, a or b) for a, b in LAB_PAGE_ANCHOR.findall(text)}
    return refs


@pytest.mark.parametrize("module", CHAPTER_CHECKS, ids=lambda p: p.name)
def test_every_failure_links_to_a_section_that_exists(module):
    """Each docs section a check of the chapter points at is a heading of that page, so a
    renamed heading cannot leave a failure pointing nowhere (MkDocs checks only the links
    inside pages)."""
    refs = docs_references(module)
    assert refs, module
    for page, anchor in sorted(refs):
        assert anchor in anchors(ROOT / "docs" / page), f"{page}#{anchor}"


@pytest.mark.parametrize("module", CHAPTER_CHECKS, ids=lambda p: p.name)
def test_failures_point_at_the_concept_pages_too(module):
    """A lab's failures send the learner to the page that teaches the concept, not only to
    the lab page's task (which says what to build, not why)."""
    pages = {page for page, _anchor in docs_references(module)}
    assert pages - {LAB_PAGE.search(module.read_text(encoding="utf-8")).group(1)}, pages


def test_the_anchor_reader_knows_a_missing_section(tmp_path):
    page = tmp_path / "page.md"
    page.write_text('# T\n\n## Marker events: "sync, sync"\n\n## Task 1: x { #task-1 }\n')
    assert anchors(page) == {"t", "marker-events-sync-sync", "task-1"}
