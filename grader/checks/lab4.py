"""lab4 — a policy from activity: generate it from CloudTrail, refine it, prune it.

Task 1 runs the learner's ``generate()`` through the ``learner_code`` fixture (its own
process, with a time limit) on trails generated at check time from the run's seed (another role, account, Region and day each
time), and compares what the returned policy grants with the generator's ground truth.
Task 2 asks the IAM engine about the calls the shipped trail's window made and about
seeded look-alikes (another bucket, function, key, Region, account). Task 3 compares what
the pruned policy grants with the original and the last-accessed report. No verdict reads
the text of a learner's file.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from grader.aws.iam import Policy, PolicyType, Request, evaluate, parse_policy
from grader.aws.jsonfile import InputError, load_json
from grader.aws.trail.records import parse_time
from grader.checks._support import (
    Verdict,
    count,
    deploy_role_policies,
    fail,
    judge,
    learner_policy,
    listing,
    parse_learner_policy,
)
from grader.checks.lab4_scenario import (
    ACCOUNT,
    REGION,
    Run,
    Shipped,
    Usage,
    concrete,
    deploy_request,
    hidden_trails,
    lookalike_requests,
    make_shipped,
    origin_of_extra,
    sample_requests,
    used_requests,
    widened_requests,
)

DOCS = "least-privilege/lab4.md"
# What the checks import on first use: a class's grading process imports it once, before
# it forks a grading child per learner (grader.grading.zygote).
PRELOAD = ("grader.aws.iam.catalog", "grader.aws.iam.validate.run")
# The sandbox services the deploy gate calls (warmed before the checks start).
SANDBOX_SERVICES = ("iam",)
# The concept sections a failure points at: the page that teaches why, not only the task.
MAPPING = "least-privilege/cloudtrail.md#what-the-trail-does-not-show"
MARKERS = "least-privilege/cloudtrail.md#marker-events-sync-sync-sync"
NOISE = "least-privilege/cloudtrail.md#noise-you-cannot-control"
WILDCARDS = "least-privilege/index.md#wildcards-need-care"
PASSROLE = "least-privilege/access-analyzer.md#security-warnings-worth-knowing"
GENERATION = "least-privilege/access-analyzer.md#generating-a-policy-from-cloudtrail"
VALIDATION = "least-privilege/access-analyzer.md#validating-a-policy"
PRUNING = "least-privilege/access-analyzer.md#pruning-services-unused-for-n-days"
GENERATOR = "generate_policy.py"
DEPLOY = "deploy-role-policy.json"
LEGACY = "legacy-role-policy.json"
ORIGINAL = "data/legacy-role-policy.original.json"
LAST_ACCESSED = "data/last-accessed.json"
# The learner's generate() gets this long for all hidden trails together (one process).
LEARNER_TIMEOUT = 10.0
COURSE_LAB = Path(__file__).resolve().parents[2] / "labs" / "lab4"

# The unused-service rule of task 3: IAM's own advice for access advisor data is to look at
# a recent period; this lab uses 90 days before the report (JobCompletionDate).
UNUSED_AFTER = timedelta(days=90)
# Severities a clean policy must not have (Access Analyzer's findingType values).
BLOCKING = ("ERROR", "SECURITY_WARNING")


# ---------------------------------------------------------------- shared helpers


def _findings(document: Any, blocking: tuple[str, ...]) -> list[str]:
    from grader.aws.iam.validate import validate_policy

    return [
        f"{f.finding_type} {f.issue_code}"
        + (f" in {f.statement}" if f.statement else "")
        + f": {f.finding_details}"
        for f in validate_policy(document, PolicyType.IDENTITY)
        if f.finding_type in blocking
    ]


# ---------------------------------------------------------------- task 1: hidden trails


@pytest.fixture(scope="module")
def runs(lab_dir: Path, seed: int, learner_code: Any) -> list[Run]:
    """generate() on every hidden trail, all in one child process with one time limit."""
    trails = hidden_trails(seed)
    error = learner_code.Error
    try:
        outcomes = learner_code.call_many(
            lab_dir / GENERATOR,
            "generate",
            [(trail.records, trail.principal_arn) for trail, _ in trails],
            timeout=LEARNER_TIMEOUT,  # for all hidden trails together: each takes milliseconds
        )
    except error as exc:
        return [Run(trail, region, error=str(exc), output=exc.output) for trail, region in trails]
    return [
        Run(trail, region, error=str(o), output=o.output)
        if isinstance(o, error)
        else Run(trail, region, policy=o.value, output=o.output)
        for (trail, region), o in zip(trails, outcomes, strict=True)
    ]


def _learner_policy(run: Run) -> Policy:
    """The run's policy, parsed; a failure when generate() crashed or returned no policy."""
    if run.error is not None:
        fail(
            expected=f"generate() to return a policy for {run.describe()}",
            found=run.error
            + (f"\nit printed: {run.output.strip()[-400:]}" if run.output.strip() else ""),
            fix="make generate() work from the records it is given, whatever the role, Region "
            "or day (run it on the shipped trail to see the error)",
            docs=DOCS + "#task-1",
        )
    if not isinstance(run.policy, dict):
        fail(
            expected="generate() to return a policy document (a dict with Version and Statement)",
            found=f"it returned {type(run.policy).__name__}: {json.dumps(run.policy)[:200]}",
            fix='return {"Version": "2012-10-17", "Statement": [...]}',
            docs=DOCS + "#task-1",
        )
    return parse_learner_policy(
        run.policy, f"the policy generate() returned for {run.describe()}", DOCS + "#task-1"
    )


@pytest.mark.check(task=1, points=2, gate="task")
def test_generator_runs(runs: list[Run]) -> None:
    """generate_policy.py runs: generate(records, principal_arn) returns a policy document
    within the time limit, without crashing or calling sys.exit."""
    first = runs[0]
    if first.error is not None or not isinstance(first.policy, dict):
        _learner_policy(first)


@pytest.mark.check(task=1, points=2)
def test_generated_policy_is_valid(runs: list[Run]) -> None:
    """On hidden trails, the generated policy is valid IAM with no ERROR or SECURITY_WARNING
    finding (so no misspelled or made-up action names)."""
    for run in runs:
        _learner_policy(run)
        problems = _findings(run.policy, BLOCKING)
        if problems:
            fail(
                expected=f"no ERROR or SECURITY_WARNING finding in the policy for {run.describe()}",
                found=listing(problems, limit=4),
                fix="map each event to the IAM action it needs: Lambda event names carry an API "
                "version, some endpoints are not the IAM prefix, some S3 operations have other names",
                docs=MAPPING,
            )


@pytest.mark.check(task=1, points=3)
def test_generated_policy_allows_what_was_used(runs: list[Run]) -> None:
    """On hidden trails, the generated policy allows every action the role used between its
    markers (denied calls included, as Access Analyzer does)."""
    from grader.aws.iam.catalog import grants

    for run in runs:
        policy = _learner_policy(run)
        granted = grants(policy)
        missing = sorted(a for a in run.trail.actions if a not in granted)
        for action in sorted(run.trail.actions):
            if action in missing:
                continue
            for arn in sorted(run.trail.resources.get(action, ())):
                decision = evaluate([policy], deploy_request(action, concrete(arn), run.region))
                if not decision.allowed:
                    missing.append(f"{action} on {concrete(arn)} ({decision.decision})")
        if missing:
            fail(
                expected=f"every action the role used in the window of {run.describe()} to be allowed",
                found=f"not allowed: {listing(missing)}",
                fix="keep all of the role's own calls between the markers (every session of the "
                "role counts), and map each one, including calls that were denied",
                docs=MARKERS,
            )


@pytest.mark.check(task=1, points=3)
def test_generated_policy_grants_nothing_else(runs: list[Run]) -> None:
    """On hidden trails, the generated policy grants nothing else: not the markers, not the
    role's calls outside the window, not other principals' or AWS services' calls."""
    from grader.aws.iam.catalog import grants

    for run in runs:
        policy = _learner_policy(run)
        used = {a.casefold() for a in run.trail.actions}
        extra = [a for a in grants(policy).actions if a.casefold() not in used]
        if extra:
            origin = origin_of_extra(run.trail)
            shown = [
                f"{a} ({origin.get(a.casefold(), 'used by no call in the window')})" for a in extra
            ]
            fail(
                expected=f"only the {count(len(used), 'action')} the role used in the window of "
                f"{run.describe()}",
                found=f"{len(extra)} more granted: {listing(shown, limit=6)}",
                fix="keep only the role's own calls (not calls with userIdentity.invokedBy, not "
                "other roles whose names start alike), only between the two markers, markers "
                "excluded; and name each action, no wildcards",
                docs=NOISE,
            )


# ---------------------------------------------------------------- gates: the JSON files


@pytest.fixture(scope="module")
def policies(lab_dir: Path) -> dict[str, Policy]:
    """The learner's two JSON policies, parsed (the gate below proves they parse)."""
    return {
        name: learner_policy(lab_dir, name, f"{DOCS}#task-{task}")
        for name, task in ((DEPLOY, 2), (LEGACY, 3))
    }


@pytest.mark.check(task=2, points=1, gate=True)
def test_both_policies_are_valid_iam(lab_dir: Path) -> None:
    """deploy-role-policy.json and legacy-role-policy.json are valid IAM identity policies
    (JSON, and IAM's policy grammar)."""
    for name, task in ((DEPLOY, 2), (LEGACY, 3)):
        learner_policy(lab_dir, name, f"{DOCS}#task-{task}")


@pytest.mark.check(task=2, points=1, gate=True)
def test_both_policies_deploy_to_the_sandbox(
    lab_dir: Path, policies: dict[str, Policy], aws
) -> None:
    """Both policies deploy to the sandbox account: created as managed policies and attached
    to the deploy-role and legacy-role roles."""
    deploy_role_policies(
        aws,
        lab_dir,
        [(DEPLOY, "deploy-role", f"{DOCS}#task-2"), (LEGACY, "legacy-role", f"{DOCS}#task-3")],
        account=ACCOUNT,
        too_long_fix="group actions that share resources into one statement; a policy that long "
        "grants far more than one job needs",
    )


# ---------------------------------------------------------------- task 2: the refined policy


def _judge(
    policy: Policy, requests: list[tuple[str, Request]], allowed: bool, fix: str, docs: str
) -> None:
    judge(
        [Verdict(what, evaluate([policy], request), allowed, fix) for what, request in requests],
        docs,
    )


@pytest.mark.check(task=2, points=3)
def test_deploy_policy_allows_what_the_window_used(
    policies: dict[str, Policy], shipped: Shipped
) -> None:
    """deploy-role-policy.json allows every call the deployment made between its markers, on
    the resources the records name, and passing the role the change set names."""
    _judge(
        policies[DEPLOY],
        used_requests(shipped),
        True,
        "allow each action on the resources the records name (a denied call is still one the "
        "job needs), and iam:PassRole for the role a request passes: it is checked, never logged",
        MAPPING,
    )


@pytest.mark.check(task=2, points=3)
def test_deploy_policy_denies_lookalikes(policies: dict[str, Policy], shipped: Shipped) -> None:
    """deploy-role-policy.json denies the same actions on anything else: another app's
    bucket, functions, stack and key, names one character, prefix or suffix away, the same
    names in another Region (the next one too) or account, and Region-wide lookups outside
    the trail's Region."""
    _judge(
        policies[DEPLOY],
        lookalike_requests(shipped),
        False,
        "name the resources the records show, whole, with the Region and account they show "
        "(a * or ? in a name, Region or account also matches look-alikes such as a name with "
        "a suffix or the next Region); where an action takes no resource, limit it to the "
        "Region the records show with a condition on the Region the request is made in",
        WILDCARDS,
    )


@pytest.mark.check(task=2, points=2)
def test_deploy_policy_passes_only_that_role_to_that_service(
    policies: dict[str, Policy], shipped: Shipped
) -> None:
    """deploy-role-policy.json passes only the role the records pass, and only to the service
    they pass it to (iam:PassedToService)."""
    from grader.aws.iam.catalog import grants

    if shipped.passed and grants(policies[DEPLOY]).get("iam:PassRole") is None:
        fail(
            expected="iam:PassRole for the role the change set passes, limited to that role "
            "and the service it is passed to",
            found="no statement grants iam:PassRole: there is nothing yet to limit",
            fix="a request that names a role for a service to use needs iam:PassRole on that "
            "role; CloudTrail never logs it, so read it from the request parameters, then "
            "limit it to that one role and service",
            docs=PASSROLE,
        )
    requests = []
    for role, source in sorted(shipped.passed.items()):
        other_service = (
            "lambda.amazonaws.com" if source != "lambda.amazonaws.com" else "ec2.amazonaws.com"
        )
        name = role.rsplit("/", 1)[1]
        near = [
            (f"{role.replace(name, other)} to {source} ({name} with {why})",
             role.replace(name, other), source)
            for other, why in shipped.names.get(name, ())
        ]  # fmt: skip
        for what, resource, service in (
            (f"{role} to {other_service}", role, other_service),
            (f"{role} to ec2.amazonaws.com", role, "ec2.amazonaws.com"),
            (
                f"{name.replace(shipped.app, shipped.other_app)} to {source}",
                role.replace(shipped.app, shipped.other_app),
                source,
            ),
            (
                f"role/admin to {source}",
                f"arn:aws:iam::{ACCOUNT}:role/admin",
                source,
            ),
            (
                f"{name} of account {shipped.other_account} to {source}",
                role.replace(ACCOUNT, shipped.other_account),
                source,
            ),
            *near,
        ):
            requests.append(
                (
                    f"iam:PassRole of {what}",
                    deploy_request(
                        "iam:PassRole", resource, REGION, **{"iam:PassedToService": service}
                    ),
                )
            )
    _judge(
        policies[DEPLOY],
        requests,
        False,
        "scope iam:PassRole to that role's whole ARN (no wildcard: a role whose name only "
        "starts alike is another role), and only when it is passed to the service the "
        "records pass it to (a condition on iam:PassedToService, compared exactly)",
        PASSROLE,
    )


@pytest.mark.check(task=2, points=2)
def test_deploy_policy_grants_only_the_actions_used(
    policies: dict[str, Policy], shipped: Shipped
) -> None:
    """deploy-role-policy.json grants no action the window did not use (iam:PassRole aside)."""
    from grader.aws.iam.catalog import grants

    allowed = {a.casefold() for a in shipped.trail.actions}
    if shipped.passed:
        allowed.add("iam:passrole")
    extra = [a for a in grants(policies[DEPLOY]).actions if a.casefold() not in allowed]
    if extra:
        fail(
            expected=f"only the {count(len(allowed), 'action')} the deployment used",
            found=f"{len(extra)} more granted: {listing(extra)}",
            fix="remove what the records do not show: the markers, calls outside the window, "
            "other principals' calls",
            docs=NOISE,
        )


@pytest.mark.check(task=2, points=2)
def test_deploy_policy_names_actions_and_resources(policies: dict[str, Policy]) -> None:
    """deploy-role-policy.json names every action (no wildcards, no NotAction) and uses
    "Resource": "*" only for actions that cannot be scoped to a resource."""
    from grader.aws.iam.catalog import load_catalog

    catalog = load_catalog()
    wide = []
    for statement in policies[DEPLOY].statements:
        if statement.effect != "Allow":
            continue
        if statement.not_action is not None:
            wide.append(f"NotAction in {statement.label}")
            continue
        if statement.not_resource is not None:
            wide.append(f"NotResource in {statement.label}")
        everything = statement.resource is None or "*" in statement.resource
        for pattern in statement.action or ():
            if "*" in pattern or "?" in pattern:
                wide.append(f"{pattern} in {statement.label} (a wildcard action)")
                continue
            if everything and any(catalog.resource_types(a) for a in catalog.expand(pattern)):
                types = ", ".join(catalog.resource_types(catalog.expand(pattern)[0]))
                wide.append(f'{pattern} on "*" in {statement.label} (it can name a {types})')
    if wide:
        fail(
            expected='named actions, and "Resource": "*" only where an action takes no resource',
            found=listing(wide, limit=6),
            fix="list each action; give each action the ARNs the records name "
            "(`grader iam grants` and the Service Authorization Reference show what it accepts)",
            docs=GENERATION,
        )


@pytest.mark.check(task=2, points=1)
def test_deploy_policy_validates_clean(lab_dir: Path, policies: dict[str, Policy]) -> None:
    """deploy-role-policy.json has no ERROR, SECURITY_WARNING or WARNING finding
    (`grader iam validate`)."""
    text = (lab_dir / DEPLOY).read_text(encoding="utf-8-sig")
    problems = _findings(text, (*BLOCKING, "WARNING"))
    if problems:
        fail(
            expected="no ERROR, SECURITY_WARNING or WARNING finding",
            found=listing(problems, limit=4),
            fix=f"run `grader iam validate labs/lab4/{DEPLOY}` and apply each finding's fix",
            docs=VALIDATION,
        )


# ---------------------------------------------------------------- task 3: pruning


@pytest.fixture(scope="module")
def shipped(seed: int) -> Shipped:
    return make_shipped(seed)


def _data_file(lab_dir: Path, name: str) -> Path:
    """The course's own copy of a data file (the learner's copy is not trusted), else the
    learner's (when the grader runs outside the course)."""
    course = COURSE_LAB / name
    return course if course.is_file() else lab_dir / name


@pytest.fixture(scope="module")
def usage(lab_dir: Path) -> Usage:
    try:
        report = load_json(_data_file(lab_dir, LAST_ACCESSED), what="the last-accessed report")
        original = load_json(_data_file(lab_dir, ORIGINAL), what="the original legacy policy")
    except InputError as exc:
        fail(
            expected=f"the lab's data files ({LAST_ACCESSED}, {ORIGINAL})",
            found=str(exc),
            fix="restore them from the course's git history (git checkout -- labs/lab4/data)",
            docs=DOCS + "#task-3",
        )
    completed = parse_time(report["JobCompletionDate"])
    cutoff = completed - UNUSED_AFTER
    used, unused = {}, {}
    for service in report["ServicesLastAccessed"]:
        ns, last = service["ServiceNamespace"], service.get("LastAuthenticated")
        if last is None:
            unused[ns] = f"{service['ServiceName']}: never used"
        elif parse_time(last) < cutoff:
            unused[ns] = f"{service['ServiceName']}: last used {last[:10]}"
        else:
            used[ns] = last[:10]
    return Usage(cutoff, used, unused, parse_policy(original, name="original"), original)


@pytest.mark.check(task=3, points=2)
def test_legacy_policy_drops_unused_services(policies: dict[str, Policy], usage: Usage) -> None:
    """legacy-role-policy.json grants no action of a service unused in the 90 days before
    the last-accessed report, and nothing the original did not grant."""
    from grader.aws.iam.catalog import grants

    granted = grants(policies[LEGACY])
    stale = sorted({g.service for g in granted.actions.values() if g.service in usage.unused})
    if stale:
        never = sum(1 for s in stale if usage.unused[s].endswith("never used"))
        kinds = [
            *([f"{never} never used"] if never else []),
            *([f"{len(stale) - never} last used before the cutoff"] if len(stale) > never else []),
        ]
        fail(
            expected="no action of a service the role has not used in the 90 days before the "
            "last-accessed report",
            found=f"{count(len(stale), 'service')} the report shows unused still granted "
            f"({' and '.join(kinds)})",
            fix="find the cutoff (JobCompletionDate in data/last-accessed.json, minus 90 days), "
            "compare each service's LastAuthenticated with it, and remove every action and "
            "resource of a service used before it or never; a statement that mixes services "
            "keeps its used ones",
            docs=PRUNING,
        )
    before = grants(usage.original)
    extra = [a for a in granted.actions if a not in before]
    if extra:
        fail(
            expected="nothing the original policy did not grant",
            found=f"{count(len(extra), 'new action')}: {listing(extra)}",
            fix=f"prune only: start again from {ORIGINAL} if needed",
            docs=PRUNING,
        )


@pytest.mark.check(task=3, points=2)
def test_legacy_policy_keeps_used_services(
    policies: dict[str, Policy], usage: Usage, seed: int
) -> None:
    """legacy-role-policy.json still grants every action of the services used in the last
    90 days that the original granted, on the same resources and under the same conditions:
    no narrower, and no wider (not another bucket, table, queue or log group, Region,
    account or condition value)."""
    from grader.aws.iam.catalog import grants

    after = grants(policies[LEGACY])
    lost = []
    for action, before in grants(usage.original).actions.items():
        if before.service not in usage.used:
            continue
        now = after.get(action)
        if now is None:
            lost.append(f"{action} (removed)")
        elif before.conditional and not now.conditional:
            lost.append(f"{action} (its condition was dropped)")
        elif before.resource_limited and not now.resource_limited:
            lost.append(f'{action} (widened to "*")')
    if not lost:
        for what, request in sample_requests(usage):
            if (
                evaluate([usage.original], request).allowed
                and not evaluate([policies[LEGACY]], request).allowed
            ):
                lost.append(f"{what} (no longer allowed)")
    if lost:
        fail(
            expected="the used services' statements as they were: same actions, resources "
            "and conditions",
            found=listing(lost, limit=6),
            fix="remove only what belongs to unused services; leave the rest exactly as in "
            f"{ORIGINAL}",
            docs=PRUNING,
        )
    judge(
        [
            Verdict(what, evaluate([policies[LEGACY]], request), False,
                    "pruning removes, it never widens: keep each kept statement's Resource and "
                    f"Condition exactly as in {ORIGINAL} (no new wildcard in a name, Region or "
                    "account, no looser condition operator)")
            for what, request in widened_requests(usage, seed)
        ],
        PRUNING,
    )  # fmt: skip
