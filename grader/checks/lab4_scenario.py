"""lab4's hidden inputs: trails made up from the run's seed, and the requests the checks ask.

Task 1's hidden trails (another role, account, Region and day each run, each with a call a
service sent for the role inside the window, which a generator must leave out), the shipped
trail's ground truth with look-alikes drawn for the run (another app's resources, names one
suffix, prefix or character away, the same names in the Regions next to the trail's and in
another account or one a digit away, another role to pass), and the requests task 3 asks of
the pruned policy (what the original allowed, and the look-alikes it refused). It imports
no pytest: the checks in ``lab4.py`` read top to bottom.
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from grader.aws.iam import Policy, Request, evaluate
from grader.aws.trail import GeneratedTrail, generate_trail, map_event, passed_roles
from grader.aws.trail.records import event_time, principal_matches
from grader.checks._support import account_neighbours, look_alikes, region_neighbours

# The shipped trail (labs/lab4/data/trail) is generate_trail(SHIPPED_SEED) with the
# defaults below; tests/test_lab4.py proves it, and says how to regenerate it.
SHIPPED_SEED = 59
ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
PRINCIPAL = f"arn:aws:iam::{ACCOUNT}:role/deploy-role"

HIDDEN_TRAILS = 3
# What the hidden trails vary: the role (with and without a path), the Region, the account.
HIDDEN_ROLES = ("deploy-role", "release-bot", "ci/deployer", "pipelines/prod/deploy", "app-deploy")
HIDDEN_REGIONS = ("ap-northeast-1", "us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2")
LOOKALIKE_REGIONS = ("us-east-1", "eu-west-1", "ap-northeast-3", "us-west-2")
LOOKALIKE_APPS = ("orders", "billing", "catalog", "checkout", "profile", "payments")
# IAM's own Region for a global service: aws:RequestedRegion is us-east-1 for IAM calls.
GLOBAL_SERVICES = {"iam": "us-east-1"}


def requested_region(action: str, region: str) -> str:
    return GLOBAL_SERVICES.get(action.split(":", 1)[0], region)


def deploy_request(action: str, resource: str, region: str, **extra: Any) -> Request:
    """A request as the deployment would send it, with the context keys AWS adds."""
    context: dict[str, Any] = {
        "aws:RequestedRegion": requested_region(action, region),
        "aws:PrincipalAccount": ACCOUNT,
    }
    context.update(extra)
    return Request(action=action, resource=resource, context=context)


def concrete(arn: str) -> str:
    """An ARN a request could name: a truth pattern's ``*`` filled in (a stack's ID)."""
    return arn.replace("*", "6d3f9a20-1b7c-11ef-9c1e-0a1b2c3d4e5f")


@dataclass(frozen=True)
class Run:
    """One hidden trail and what the learner's generate() made of it."""

    trail: GeneratedTrail
    region: str
    policy: Any = None
    error: str | None = None
    output: str = ""

    def describe(self) -> str:
        return f"the hidden trail of {self.trail.principal_arn} in {self.region}"


def hidden_trails(seed: int) -> list[tuple[GeneratedTrail, str]]:
    """The run's hidden trails: another role, account, Region and day each time."""
    rng = random.Random(f"lab4/{seed}")
    trails = []
    for k in range(HIDDEN_TRAILS):
        region = rng.choice(HIDDEN_REGIONS)
        account = str(rng.randrange(10**11, 10**12))
        start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(
            days=rng.randrange(0, 330), minutes=rng.randrange(0, 24 * 60)
        )
        trail = generate_trail(
            seed * HIDDEN_TRAILS + k,
            account=account,
            region=region,
            principal_role=rng.choice(HIDDEN_ROLES),
            start=start,
        )
        trails.append((with_a_call_sent_for_the_role(trail, rng), region))
    return trails


# A call a service sends for the role, in the role's own session, while the role's work runs
# (userIdentity.invokedBy names the service). The lab's rule leaves such calls out: the role
# did not call this API, and in these trails its policy is not what authorized the call.
SENT_FOR_THE_ROLE = ("logs.amazonaws.com", "DescribeLogGroups", "cloudformation.amazonaws.com")


def with_a_call_sent_for_the_role(trail: GeneratedTrail, rng: random.Random) -> GeneratedTrail:
    """The trail with one record more inside the marker window: the role's session as the
    identity, ``invokedBy`` set, and an action the role itself never used there. A generator
    that keeps records with ``invokedBy`` grants that action and fails; the ground truth is
    unchanged."""
    source, name, service = SENT_FOR_THE_ROLE
    mine = [
        r
        for r in trail.records
        if principal_matches(r, trail.principal_arn)
        and not (r.get("userIdentity") or {}).get("invokedBy")
        and trail.window_start < event_time(r) < trail.window_end
    ]
    if not mine:
        return trail
    taken = {event_time(r) for r in trail.records}
    when = trail.window_start + (trail.window_end - trail.window_start) / 2
    when = when.replace(microsecond=0)
    while when in taken:
        when += timedelta(seconds=1)
    identity = {**mine[0]["userIdentity"], "invokedBy": service}
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": mine[0].get("awsRegion"),
        "sourceIPAddress": service,
        "userAgent": service,
        "requestParameters": {"logGroupNamePrefix": "/aws/lambda/"},
        "responseElements": None,
        "requestID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "eventID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": mine[0].get("recipientAccountId"),
        "eventCategory": "Management",
    }
    records = sorted([*trail.records, record], key=lambda r: r["eventTime"])
    return replace(trail, records=records)


def origin_of_extra(trail: GeneratedTrail) -> dict[str, str]:
    """For each action some record of the trail needed: where a wrong policy took it from."""
    origin: dict[str, str] = {}
    marker = None
    for record in trail.records:
        mapping = map_event(record)
        if (record["eventSource"], record["eventName"]) == trail.marker and principal_matches(
            record, trail.principal_arn
        ):
            marker = mapping
        if mapping.service_made:
            why = (
                f"a call {mapping.service_made} sent for the role (invokedBy): "
                "the role did not call it, and its policy is not what authorized it"
            )
        elif not principal_matches(record, trail.principal_arn):
            who = (record.get("userIdentity") or {}).get("arn", "another principal")
            why = f"a call by {who}"
        elif not trail.window_start <= event_time(record) <= trail.window_end:
            why = "the role's call outside the marker window"
        else:
            continue
        for action in mapping.actions or ():
            origin.setdefault(action.casefold(), why)
    if marker is not None:
        for action in marker.actions:
            origin[action.casefold()] = "the marker call itself"
    return origin


@dataclass(frozen=True)
class Shipped:
    """The shipped trail's ground truth and the look-alikes drawn for this run."""

    trail: GeneratedTrail
    passed: dict[str, str]  # role ARN passed -> the service it was passed to
    app: str
    other_app: str
    other_region: str
    other_account: str
    other_key: str
    # (value, how it differs) for the Region, the account and each name the window used
    regions: tuple[tuple[str, str], ...] = ()
    accounts: tuple[tuple[str, str], ...] = ()
    names: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def name_in(self, arn: str) -> str | None:
        """The app's resource name an ARN holds (a bucket, stack, function or role)."""
        found = re.search(rf"{self.app}[a-z0-9-]*", arn)
        return found.group(0) if found else None


def make_shipped(seed: int) -> Shipped:
    """The shipped trail's ground truth, and look-alikes drawn from the run's seed."""
    trail = generate_trail(SHIPPED_SEED)
    passed: dict[str, str] = {}
    for record in trail.records:
        if (
            principal_matches(record, trail.principal_arn)
            and trail.window_start <= event_time(record) <= trail.window_end
        ):
            for role in passed_roles(record):
                passed[role] = record["eventSource"]
    stacks = [a for arns in trail.resources.values() for a in arns if ":stack/" in a]
    app = re.search(r":stack/([a-z]+)-", stacks[0]).group(1)  # the change set names the stack
    rng = random.Random(f"lab4/lookalikes/{seed}")
    other_region = rng.choice([r for r in LOOKALIKE_REGIONS if r != REGION])
    other_account = str(rng.randrange(10**11, 10**12))
    shipped = Shipped(
        trail=trail,
        passed=passed,
        app=app,
        other_app=rng.choice([a for a in LOOKALIKE_APPS if a != app]),
        other_region=other_region,
        other_account=other_account,
        other_key=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        regions=tuple(
            dict([(other_region, "another Region"), *region_neighbours(REGION, rng)]).items()
        ),
        accounts=((other_account, "another account"), *account_neighbours(ACCOUNT, rng)),
    )
    arns = sorted({a for v in trail.resources.values() for a in v} | set(passed))
    names = sorted({n for a in arns if (n := shipped.name_in(a))})
    shipped.names.update({n: tuple(look_alikes(n, rng, case=False)) for n in names})
    return shipped


def used_requests(shipped: Shipped) -> list[tuple[str, Request]]:
    """(what, request) for every action and resource the window used, and each role passed."""
    out = []
    for action in sorted(shipped.trail.actions):
        arns = sorted(shipped.trail.resources.get(action, ())) or ["*"]
        for arn in arns:
            out.append(
                (f"{action} on {concrete(arn)}", deploy_request(action, concrete(arn), REGION))
            )
    for role, source in sorted(shipped.passed.items()):
        out.append(
            (
                f"iam:PassRole of {role} to {source}",
                deploy_request("iam:PassRole", role, REGION, **{"iam:PassedToService": source}),
            )
        )
    return out


def lookalike_requests(shipped: Shipped) -> list[tuple[str, Request]]:
    """The same actions on what the window did not touch: another app's resources, names
    one suffix, prefix or character away, the same names in the Regions next to the trail's
    and elsewhere, in another account and in accounts one digit away; and the Region-wide
    lookups in those Regions."""
    used = {concrete(a) for arns in shipped.trail.resources.values() for a in arns}
    out = []
    for action in sorted(shipped.trail.actions):
        arns = sorted(shipped.trail.resources.get(action, ()))
        if not arns:
            for region, why in shipped.regions:
                out.append((f"{action} in {region} ({why})", deploy_request(action, "*", region)))
            continue
        for arn in arns:
            arn = concrete(arn)
            variants: list[tuple[str, str, str]] = []  # (arn, how it differs, region)
            name = shipped.name_in(arn)
            if name is not None:
                variants.append(
                    (arn.replace(shipped.app, shipped.other_app), "another app", REGION)
                )
                variants += [
                    (arn.replace(name, other, 1), f"{name} with {why}", REGION)
                    for other, why in shipped.names[name]
                ]
            else:  # a key has no name to change: another key of the account
                other = re.sub(r"key/[0-9a-f-]+", f"key/{shipped.other_key}", arn)
                variants.append((other, "another key", REGION))
            if REGION in arn:
                variants += [(arn.replace(REGION, r), why, r) for r, why in shipped.regions]
            if ACCOUNT in arn:
                variants += [(arn.replace(ACCOUNT, a), why, REGION) for a, why in shipped.accounts]
            for other, why, region in variants:
                if other not in used:
                    out.append(
                        (f"{action} on {other} ({why})", deploy_request(action, other, region))
                    )
    return out


@dataclass(frozen=True)
class Usage:
    cutoff: datetime
    used: dict[str, str]  # namespace -> when last used
    unused: dict[str, str]  # namespace -> why it counts as unused
    original: Policy
    original_document: dict[str, Any]


def sample_requests(usage: Usage) -> list[tuple[str, Request]]:
    """One request per action and resource of the original's statements for used services,
    with the condition values those statements expect."""
    return [
        (f"{action} on {resource}", deploy_request(action, resource, region, **context))
        for action, resource, region, context in _samples(usage)
    ]


def widened_requests(usage: Usage, seed: int) -> list[tuple[str, Request]]:
    """Look-alikes of each sample request that the original policy refuses: each part of
    the resource's name one suffix, prefix or character away, the Regions next to the
    resource's, accounts one digit away and another account, and each condition value's
    look-alikes. A pruned policy that allows one of them widened a statement it kept."""
    rng = random.Random(f"lab4/widened/{seed}")
    out = []
    for action, resource, region, context in _samples(usage):
        variants: list[tuple[str, str, dict[str, Any], str]] = []  # resource, region, ctx, why
        parts = resource.split(":", 5)
        if len(parts) == 6:
            _, _, service, arn_region, account, rest = parts
            head = ":".join(parts[:5]) + ":"
            segments = re.split(r"([:/])", rest)
            for i, segment in enumerate(segments):
                if (
                    segment in ":/"
                    or not segment
                    or (i == 0 and len(segments) > 1 and service != "s3")
                ):
                    continue  # a separator, or the resource type (table/, log-group:)
                if re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", segment):
                    found = [(str(uuid.UUID(int=rng.getrandbits(128), version=4)), "another key")]
                else:
                    found = look_alikes(segment, rng, case=False)
                for other, why in found:
                    changed = head + "".join(segments[:i] + [other] + segments[i + 1 :])
                    variants.append((changed, region, context, f"{segment} with {why}"))
            if arn_region:
                variants += [
                    (resource.replace(f":{arn_region}:", f":{r}:", 1), r, context, why)
                    for r, why in region_neighbours(arn_region, rng)
                ]
            if account:
                others = [(str(rng.randrange(10**11, 10**12)), "another account")]
                variants += [
                    (resource.replace(f":{account}:", f":{a}:", 1), region, context, why)
                    for a, why in others + account_neighbours(account, rng)
                ]
        for key, value in context.items():
            for other, why in _value_look_alikes(str(value), rng):
                variants.append(
                    (resource, region, {**context, key: other}, f"{key}={other}, {why}")
                )
        for changed, there, ctx, why in variants:
            request = deploy_request(action, changed, there, **ctx)
            if not evaluate([usage.original], request).allowed:
                out.append((f"{action} on {changed} ({why})", request))
    return out


def _value_look_alikes(value: str, rng: random.Random) -> list[tuple[str, str]]:
    """A condition value's look-alikes: the Region it names replaced by its neighbours
    (``s3.ap-northeast-3.amazonaws.com``), and the value itself one step away."""
    found = re.search(r"[a-z]{2}-[a-z]+-\d", value)
    near = []
    if found:
        near = [
            (value.replace(found.group(0), r), why)
            for r, why in region_neighbours(found.group(0), rng)
        ]
    # AWS writes service principals and endpoints in lower case only; other values
    # (a metric namespace, a tag) are the account's own, where case matters.
    return near + look_alikes(value, rng, case=not value.endswith(".amazonaws.com"))


def _samples(usage: Usage) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(action, resource, region, context) for each action and resource of the original's
    statements for used services, with the condition values those statements expect."""
    out = []
    statements = usage.original_document["Statement"]
    for st in statements if isinstance(statements, list) else [statements]:
        if st.get("Effect") != "Allow":
            continue
        actions = st.get("Action", [])
        resources = st.get("Resource", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        context: dict[str, Any] = {}
        for operator, pairs in (st.get("Condition") or {}).items():
            if operator.startswith("String"):
                for key, value in pairs.items():
                    context[key] = value[0] if isinstance(value, list) else value
        for action in actions:
            prefix = action.split(":", 1)[0]
            if prefix not in usage.used or "*" in action:
                continue
            for resource in resources:
                if resource != "*" and resource.split(":")[2] != prefix:
                    continue  # a resource of another service in a mixed statement
                concrete = (
                    resource if resource == "*" else resource.replace("*", "nightly/2024-06-29.csv")
                )
                parts = concrete.split(":")
                region = parts[3] if len(parts) > 3 and parts[3] else REGION
                out.append((action, concrete, region, context))
    return out
