"""lab4: does the solution pass, does the starter fail, does every check fail on at least one
wrong answer, and is the shipped data what the course says it is? Each wrong answer is the
reference solution with one mistake a learner could make, graded by the real runner."""

from __future__ import annotations

import copy
import importlib.util
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from grader.aws.iam import parse_policy
from grader.aws.iam.catalog import grants, load_catalog
from grader.aws.trail import generate_trail, read_trail, trail_policy
from grader.aws.trail.records import parse_time
from grader.checks import lab4 as checks
from grader.checks import lab4_scenario as scenario
from grader.course.checkinfo import read_checks
from grader.course.labs import load_course
from grader.grading.runner import run_lab
from tests.conftest import COURSE, ROOT

LAB = load_course(COURSE).lab("lab4")
SOLUTIONS = ROOT / "solutions" / "lab4"
DATA = COURSE / "labs" / "lab4" / "data"
GENERATOR = (SOLUTIONS / "generate_policy.py").read_text()
DEPLOY = json.loads((SOLUTIONS / "deploy-role-policy.json").read_text())
LEGACY = json.loads((SOLUTIONS / "legacy-role-policy.json").read_text())


def grade(
    tmp_path: Path,
    generator: str | None = None,
    deploy: dict | None = None,
    legacy: dict | None = None,
    seed: int = 11,
):
    folder = tmp_path / "lab4"
    shutil.copytree(COURSE / "labs" / "lab4", folder)
    (folder / "generate_policy.py").write_text(generator or GENERATOR)
    (folder / "deploy-role-policy.json").write_text(json.dumps(deploy or DEPLOY, indent=2))
    (folder / "legacy-role-policy.json").write_text(json.dumps(legacy or LEGACY, indent=2))
    result = run_lab(LAB, folder, seed=seed)
    assert result.problem is None, result.problem
    return {c.id: c for c in result.checks}


def generator_with(old: str, new: str) -> str:
    assert old in GENERATOR, old
    return GENERATOR.replace(old, new)


def deploy_with(change) -> dict:
    doc = copy.deepcopy(DEPLOY)
    change(doc)
    return doc


def sid(doc: dict, name: str) -> dict:
    return next(s for s in doc["Statement"] if s.get("Sid") == name)


def legacy_without(*sids: str) -> dict:
    doc = copy.deepcopy(LEGACY)
    doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") not in sids]
    return doc


def load_solution_module():
    spec = importlib.util.spec_from_file_location("lab4_solution", SOLUTIONS / "generate_policy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- solution and starter


def test_solution_passes_every_check(tmp_path):
    results = grade(tmp_path)
    assert {c.status for c in results.values()} == {"passed"}, {
        c.id: c.found or c.message for c in results.values() if c.status != "passed"
    }
    assert set(results) == {c.name for c in read_checks(LAB.checks_module)}


def test_starter_fails_each_task(tmp_path):
    result = run_lab(LAB, LAB.folder, seed=3)
    by_id = {c.id: c for c in result.checks}
    assert not result.passed
    assert by_id["test_generator_runs"].status == "passed"  # the skeleton runs, wrongly
    for check in (
        "test_generated_policy_grants_nothing_else",
        "test_deploy_policy_denies_lookalikes",
        "test_deploy_policy_allows_what_the_window_used",  # the draft lacks iam:PassRole
        "test_deploy_policy_passes_only_that_role_to_that_service",  # ... so it limits none
        "test_legacy_policy_drops_unused_services",
    ):
        assert by_id[check].status == "failed", check


@pytest.mark.parametrize("seed", range(40))
def test_solution_generator_matches_the_truth_on_hidden_trails(seed):
    """In-process, over many seeds: the reference generate() gives exactly the ground truth."""
    solution = load_solution_module()
    for trail, _region in scenario.hidden_trails(seed):
        policy = solution.generate(trail.records, trail.principal_arn)
        got = {a for s in policy["Statement"] for a in s["Action"]}
        assert got == set(trail.actions), (seed, got ^ set(trail.actions))


# ---------------------------------------------------------------- wrong answers

LOOPS_FOREVER = GENERATOR.replace(
    "def generate(records: list[dict], principal_arn: str) -> dict:\n",
    "def generate(records: list[dict], principal_arn: str) -> dict:\n    while True:\n        pass\n",
)
CALLS_EXIT = GENERATOR.replace(
    "def generate(records: list[dict], principal_arn: str) -> dict:\n",
    "def generate(records: list[dict], principal_arn: str) -> dict:\n    sys.exit(0)\n",
)
HARD_CODED = (
    "import json\n\n\ndef generate(records, principal_arn):\n"
    f"    return json.loads({json.dumps(json.dumps(trail_policy(DATA / 'trail', scenario.PRINCIPAL, markers=True).policy))})\n"
)

# (check that must fail, generator, deploy policy, legacy policy)
WRONG_ANSWERS = {
    "test_generator_runs": (LOOPS_FOREVER, None, None),
    "test_generated_policy_is_valid": (
        # the Lambda API version left on the event name: lambda:GetFunction20150331v2
        generator_with("    if pattern and pattern.match(name):", "    if False:"),
        None,
        None,
    ),
    "test_generated_policy_allows_what_was_used": (
        # denied calls dropped (Access Analyzer keeps them)
        generator_with(
            "    mine = [r for r in records if caller(r) == principal_arn and not made_by_a_service(r)]",
            "    mine = [r for r in records if caller(r) == principal_arn and not made_by_a_service(r)"
            ' and not r.get("errorCode")]',
        ),
        None,
        None,
    ),
    "test_generated_policy_grants_nothing_else": (
        # the marker calls kept in the window
        generator_with(
            "    for (_, opening_end), (closing_start, _) in zip(runs, runs[1:], strict=False):\n"
            "        inside.extend(calls[opening_end + 1 : closing_start])",
            "    for (opening_start, _), (_, closing_end) in zip(runs, runs[1:], strict=False):\n"
            "        inside.extend(calls[opening_start : closing_end + 1])",
        ),
        None,
        None,
    ),
    "test_both_policies_are_valid_iam": (
        None,
        deploy_with(lambda d: d["Statement"][0].update(Effect="Permit")),
        None,
    ),
    "test_both_policies_deploy_to_the_sandbox": (
        None,
        deploy_with(
            lambda d: d["Statement"].extend(
                {
                    "Sid": f"Function{i}",
                    "Effect": "Allow",
                    "Action": "lambda:GetFunction",
                    "Resource": f"arn:aws:lambda:ap-northeast-1:123456789012:function:inventory-worker-{i:040d}",
                }
                for i in range(60)
            )
        ),
        None,
    ),
    "test_deploy_policy_allows_what_the_window_used": (
        None,
        deploy_with(lambda d: d["Statement"].remove(sid(d, "PassTheStackRoleToCloudFormation"))),
        None,
    ),
    "test_deploy_policy_denies_lookalikes": (
        None,
        deploy_with(
            lambda d: sid(d, "ShipFunctionCode").update(
                Resource="arn:aws:lambda:*:*:function:inventory-*"
            )
        ),
        None,
    ),
    "test_deploy_policy_passes_only_that_role_to_that_service": (
        None,
        deploy_with(lambda d: sid(d, "PassTheStackRoleToCloudFormation").pop("Condition")),
        None,
    ),
    "test_deploy_policy_grants_only_the_actions_used": (
        None,
        deploy_with(
            lambda d: d["Statement"].append(
                {
                    "Sid": "TheMarker",
                    "Effect": "Allow",
                    "Action": "s3:ListAllMyBuckets",
                    "Resource": "*",
                }
            )
        ),
        None,
    ),
    "test_deploy_policy_names_actions_and_resources": (
        None,
        deploy_with(lambda d: sid(d, "DecryptWithTheAppKey").update(Resource="*")),
        None,
    ),
    "test_deploy_policy_validates_clean": (
        None,
        deploy_with(
            lambda d: sid(d, "ShipFunctionCode")["Action"].append(
                "lambda:UpdateFunctionCode20150331v2"
            )
        ),
        None,
    ),
    "test_legacy_policy_drops_unused_services": (
        None,
        None,
        json.loads((DATA / "legacy-role-policy.original.json").read_text()),
    ),
    "test_legacy_policy_keeps_used_services": (None, None, legacy_without("SignalDone")),
}


def test_every_check_has_a_wrong_answer():
    assert set(WRONG_ANSWERS) == {c.name for c in read_checks(LAB.checks_module)}


@pytest.mark.parametrize("check_id", sorted(WRONG_ANSWERS))
def test_each_check_fails_on_its_wrong_answer(tmp_path, check_id):
    generator, deploy, legacy = WRONG_ANSWERS[check_id]
    results = grade(tmp_path, generator, deploy, legacy)
    assert results[check_id].status == "failed", results[check_id]
    assert results[check_id].found or results[check_id].message


def test_an_endless_generator_fails_task_1_only_and_tasks_2_and_3_are_still_graded(tmp_path):
    folder = tmp_path / "lab4"
    shutil.copytree(COURSE / "labs" / "lab4", folder)
    for name in ("deploy-role-policy.json", "legacy-role-policy.json"):
        shutil.copy(SOLUTIONS / name, folder / name)
    (folder / "generate_policy.py").write_text(LOOPS_FOREVER)
    result = run_lab(LAB, folder, seed=4)
    gate = {c.id: c for c in result.checks}["test_generator_runs"]
    assert gate.status == "failed"
    assert "did not return within" in gate.found
    assert {c.status for c in result.checks if c.task == 1 and c is not gate} == {"skipped"}
    assert {c.status for c in result.checks if c.task != 1} == {"passed"}
    assert result.score == result.max_score - sum(c.points for c in result.checks if c.task == 1)
    assert result.seconds < checks.LEARNER_TIMEOUT + 15


def test_sys_exit_in_generate_fails_the_gate_with_the_line(tmp_path):
    results = grade(tmp_path, CALLS_EXIT)
    gate = results["test_generator_runs"]
    assert gate.status == "failed"
    assert "sys.exit" in gate.found and "generate_policy.py:" in gate.found
    assert results["test_generated_policy_is_valid"].status == "skipped"


def test_a_generator_hard_coded_to_the_shipped_trail_fails_on_hidden_trails(tmp_path):
    results = grade(tmp_path, HARD_CODED)
    assert results["test_generator_runs"].status == "passed"
    assert "failed" in {
        results["test_generated_policy_allows_what_was_used"].status,
        results["test_generated_policy_grants_nothing_else"].status,
    }


# The invokedBy rule dropped: the role's records that a service sent for it are kept.
KEEPS_INVOKED_BY = generator_with(
    '        bool(identity.get("invokedBy"))\n        or identity.get("type") == "AWSService"',
    '        identity.get("type") == "AWSService"',
)


def test_a_generator_without_the_invoked_by_rule_fails(tmp_path):
    """Every hidden trail holds a call a service sent for the role inside the window
    (userIdentity.invokedBy in the role's own session): keeping it grants one action too
    many, and the failure says where that action came from."""
    results = grade(tmp_path, KEEPS_INVOKED_BY)
    check = results["test_generated_policy_grants_nothing_else"]
    assert check.status == "failed", check
    assert "logs:DescribeLogGroups" in check.found and "invokedBy" in check.found
    # the section that says when a service's call is (and is not) the role's business
    assert check.docs == "least-privilege/cloudtrail.md#noise-you-cannot-control"
    others = {c.id for c in results.values() if c.status != "passed"}
    assert others == {"test_generated_policy_grants_nothing_else"}


@pytest.mark.parametrize("seed", range(0, 40, 3))
def test_every_hidden_trail_has_a_call_sent_for_the_role(seed):
    """In-process: on every hidden trail, whatever the seed, the generator without the
    invokedBy rule grants the service's call, and the reference generator does not."""
    import types

    lenient = types.ModuleType("lab4_lenient")
    exec(compile(KEEPS_INVOKED_BY, "generate_policy.py", "exec"), lenient.__dict__)
    for trail, _region in scenario.hidden_trails(seed):
        policy = lenient.generate(trail.records, trail.principal_arn)
        got = {a for s in policy["Statement"] for a in s["Action"]}
        assert got - set(trail.actions) == {"logs:DescribeLogGroups"}, seed


def test_hidden_trails_change_with_the_seed():
    first = scenario.hidden_trails(1)
    second = scenario.hidden_trails(2)
    assert len(first) == scenario.HIDDEN_TRAILS
    assert {t.principal_arn for t, _ in first} != {t.principal_arn for t, _ in second} or {
        frozenset(t.actions) for t, _ in first
    } != {frozenset(t.actions) for t, _ in second}


# ---------------------------------------------------------------- the shipped data


def test_shipped_trail_is_what_its_seed_generates():
    """If this fails, regenerate the trail: rm -r labs/lab4/data/trail && python -c "from
    grader.aws.trail import generate_trail; generate_trail(59).write('labs/lab4/data/trail')"
    (59 is SHIPPED_SEED in grader/checks/lab4.py)."""
    expected = generate_trail(scenario.SHIPPED_SEED)
    shipped = read_trail(DATA / "trail")
    key = lambda r: r["eventID"]  # noqa: E731
    assert sorted(shipped, key=key) == sorted(expected.records, key=key)
    assert expected.principal_arn == scenario.PRINCIPAL


def test_starter_deploy_policy_is_the_draft_of_the_shipped_trail():
    draft = trail_policy(DATA / "trail", scenario.PRINCIPAL, markers=True).policy
    starter = json.loads((COURSE / "labs" / "lab4" / "deploy-role-policy.json").read_text())
    for statement in (*draft["Statement"], *starter["Statement"]):
        statement.pop("Sid", None)
    assert starter == draft


def test_starter_legacy_policy_is_the_original():
    original = json.loads((DATA / "legacy-role-policy.original.json").read_text())
    starter = json.loads((COURSE / "labs" / "lab4" / "legacy-role-policy.json").read_text())
    for statement in (*original["Statement"], *starter["Statement"]):
        statement.pop("Sid", None)
    assert starter == original


def test_last_accessed_report_is_consistent_with_the_original_policy():
    report = json.loads((DATA / "last-accessed.json").read_text())
    catalog = load_catalog()
    original = parse_policy(
        (DATA / "legacy-role-policy.original.json").read_text(), name="original"
    )
    granted = {g.service for g in grants(original).actions.values()}
    listed = {s["ServiceNamespace"]: s for s in report["ServicesLastAccessed"]}
    assert set(listed) == granted  # access advisor lists every service the policies grant
    completed = parse_time(report["JobCompletionDate"])
    assert report["JobStatus"] == "COMPLETED"
    assert parse_time(report["JobCreationDate"]) <= completed
    cutoff = completed - checks.UNUSED_AFTER
    unused = set()
    for ns, service in listed.items():
        assert service["ServiceName"] == catalog.service_name(ns)
        last = service.get("LastAuthenticated")
        if last is None:
            assert service["TotalAuthenticatedEntities"] == 0
            assert "LastAuthenticatedEntity" not in service
            unused.add(ns)
            continue
        assert service["TotalAuthenticatedEntities"] >= 1
        assert service["LastAuthenticatedEntity"].endswith(":role/legacy-role")
        when = parse_time(last)
        assert when <= completed
        assert abs(when - cutoff) > timedelta(days=1)  # no service sits on the boundary
        if when < cutoff:
            unused.add(ns)
    # the lab's point: some services go (one just past 90 days), some stay (one just inside)
    assert {"sns", "kinesis", "glue"} <= unused
    assert "sqs" not in unused and "s3" not in unused


def test_solution_legacy_policy_removes_exactly_the_unused_services():
    report = json.loads((DATA / "last-accessed.json").read_text())
    solution = parse_policy(json.dumps(LEGACY), name="solution")
    kept = {g.service for g in grants(solution).actions.values()}
    completed = parse_time(report["JobCompletionDate"])
    used = {
        s["ServiceNamespace"]
        for s in report["ServicesLastAccessed"]
        if s.get("LastAuthenticated")
        and parse_time(s["LastAuthenticated"]) >= completed - checks.UNUSED_AFTER
    }
    assert kept == used


@pytest.mark.parametrize("folder", ["labs", "solutions"])
def test_learner_generator_stands_alone(folder):
    """The starter and the solution import only the standard library, never the grader."""
    import ast
    import sys

    tree = ast.parse((COURSE / folder / "lab4" / "generate_policy.py").read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


# ---------------------------------------------------------------- messages and hints that teach

CUTOFF = "2024-04-01"
UNUSED = ("Athena", "EC2", "Glue", "Kinesis", "SNS", "athena", "glue", "kinesis", "sns")


def test_the_pruning_failure_names_the_rule_not_the_date_or_the_services(tmp_path):
    """The untouched legacy policy fails with the rule (90 days before the report, from
    data/last-accessed.json) and how many services break it, not the cutoff date it works
    out nor the services to remove."""
    check = {c.id: c for c in run_lab(LAB, LAB.folder, seed=3).checks}[
        "test_legacy_policy_drops_unused_services"
    ]
    assert check.status == "failed"
    message = " ".join(filter(None, (check.expected, check.found, check.fix)))
    assert CUTOFF not in message
    for name in UNUSED:
        assert name not in message, name
    for words in ("90 days", "last-accessed", "JobCompletionDate", "LastAuthenticated"):
        assert words in message, words
    assert "5 services" in check.found and "never used" in check.found
    assert check.docs == "least-privilege/access-analyzer.md#pruning-services-unused-for-n-days"


def test_only_the_last_hint_of_task_3_works_out_the_date_and_the_services():
    hints = [h.text for h in LAB.hints if h.task == 3]
    for literal in (CUTOFF, "AWS Glue", "AdHocAnalytics"):
        assert [i for i, t in enumerate(hints) if literal in t] == [len(hints) - 1], literal


# ---------------------------------------------------------------- no points for what is not there


def test_a_policy_without_pass_role_does_not_pass_the_pass_role_check(tmp_path):
    """The "passes only that role" check needs a PassRole to judge: a policy that grants
    none (the untouched draft, or the solution without its PassRole statement) fails it."""
    no_pass_role = deploy_with(
        lambda d: d["Statement"].remove(sid(d, "PassTheStackRoleToCloudFormation"))
    )
    check = grade(tmp_path, deploy=no_pass_role)[
        "test_deploy_policy_passes_only_that_role_to_that_service"
    ]
    assert check.status == "failed"
    assert "no statement grants iam:PassRole" in check.found
    assert check.docs == "least-privilege/access-analyzer.md#security-warnings-worth-knowing"


# ---------------------------------------------------------------- the look-alikes message

REGION_CONDITION = '"StringEquals": {"aws:RequestedRegion": "ap-northeast-1"}'


def test_the_lookalike_failure_names_the_concept_not_the_condition_to_paste(tmp_path):
    """Region-wide lookups allowed in ap-northeast-*: the failure names the request that got
    through (the next Region) and the concept (a whole ARN; a condition on the Region the
    request is made in), never the operator with its key and value."""
    loosened = deploy_with(
        lambda d: sid(d, "LookUpInTheTokyoRegion").update(
            Condition={"StringLike": {"aws:RequestedRegion": "ap-northeast-*"}}
        )
    )
    check = grade(tmp_path, deploy=loosened)["test_deploy_policy_denies_lookalikes"]
    assert check.status == "failed"
    assert "ap-northeast-2" in check.expected
    message = " ".join(filter(None, (check.expected, check.found, check.fix)))
    assert REGION_CONDITION not in message
    assert "StringEquals" not in check.fix and "aws:RequestedRegion" not in check.fix
    for words in ("whole", "Region", "account", "condition", "look-alikes"):
        assert words in check.fix, words
    assert check.docs == "least-privilege/index.md#wildcards-need-care"


def test_only_the_last_hint_of_task_2_gives_the_region_condition():
    hints = [" ".join(h.text.split()) for h in LAB.hints if h.task == 2]
    assert [i for i, t in enumerate(hints) if REGION_CONDITION in t] == [len(hints) - 1]
    assert any("aws:RequestedRegion" in t for t in hints[:-1])  # the key comes first


def test_only_the_last_hint_of_task_2_gives_the_passrole_condition():
    condition = '"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}'
    hints = [" ".join(h.text.split()) for h in LAB.hints if h.task == 2]
    assert [i for i, t in enumerate(hints) if condition in t] == [len(hints) - 1]
    assert any("iam:PassedToService" in t for t in hints[:-1])  # the key comes first


def test_the_passrole_failure_names_the_key_not_the_condition_to_paste(tmp_path):
    def unconditioned(doc):
        for statement in doc["Statement"]:
            if "iam:PassRole" in str(statement.get("Action")):
                statement.pop("Condition", None)

    checks = grade(tmp_path, deploy=deploy_with(unconditioned))
    check = checks["test_deploy_policy_passes_only_that_role_to_that_service"]
    assert check.status == "failed"
    assert "iam:PassedToService" in check.fix and "StringEquals" not in check.fix
