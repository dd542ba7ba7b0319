"""lab1 — the shop's CloudFront distribution: HTTPS everywhere, static files cached long and
compressed, personal answers never cached, and a bucket only this distribution can read.

Every verdict comes from the engines: the learner's distribution and policies replay six
hours of the shop's access log through the cache simulator (lab1_scenario), and the bucket
policy is judged by the IAM engine, never by the text of the files.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from grader.aws.edge.cachekey import forwarded_to_origin
from grader.aws.edge.distribution import Distribution, load_distribution
from grader.aws.edge.origin import load_origin
from grader.aws.edge.policies import PolicyStore, check_references, load_policies
from grader.aws.edge.simulate import SimulationReport, behavior_name, simulate
from grader.aws.edge.ttl import cache_seconds
from grader.aws.errors import GraderError
from grader.aws.iam import PolicySet, PolicyType, Request, authorize, parse_principal
from grader.checks._support import (
    Verdict,
    account_neighbours,
    count,
    fail,
    judge,
    learner_policy,
    listing,
)
from grader.checks.lab1_scenario import (
    ACCOUNT,
    BUCKET,
    DISTRIBUTION_ARN,
    DISTRIBUTION_ID,
    ORIGIN,
    STATIC_FILES,
    STATIC_HIT_TARGET,
    Log,
    make_log,
)

DISTRIBUTION, POLICIES, BUCKET_POLICY = (
    "distribution.json",
    "cache-policies.json",
    "bucket-policy.json",
)
DOCS = "edge/lab1.md"
SANDBOX_SERVICES = ("cloudfront",)
DAY = 86_400
WEB_ACL_NAME = "shop-web-acl"  # lab2's web ACL, which the distribution attaches
BUCKET_WHAT = "a valid S3 bucket policy"


# ---------------------------------------------------------------- inputs


def _input_failure(name: str, exc: GraderError, what: str) -> None:
    fail(
        expected=f"{name} to be {what}",
        found=str(exc).replace(str(Path.cwd()) + "/", ""),
        fix="correct the field at that JSON path (the starter is restored by `grader reset`)",
        docs=DOCS + "#task-5",
    )


@pytest.fixture(scope="module")
def distribution(lab_dir: Path) -> Distribution:
    try:
        return load_distribution(lab_dir / DISTRIBUTION)[0]
    except GraderError as exc:
        _input_failure(DISTRIBUTION, exc, "a DistributionConfig CreateDistribution accepts")


@pytest.fixture(scope="module")
def policies(lab_dir: Path) -> PolicyStore:
    try:
        return load_policies(lab_dir / POLICIES)
    except GraderError as exc:
        _input_failure(POLICIES, exc, "cache and origin request policies CloudFront accepts")


@pytest.fixture(scope="module")
def log(seed: int) -> Log:
    """Hidden access log for this run (see lab1_scenario)."""
    return make_log(seed)


@pytest.fixture(scope="module")
def report(
    distribution: Distribution, policies: PolicyStore, log: Log, report_table
) -> SimulationReport:
    """The log through the learner's caches; the hit ratio per behavior goes into the report."""
    try:
        result = simulate(distribution, policies, log.requests, load_origin(ORIGIN))
    except GraderError as exc:
        _input_failure(DISTRIBUTION, exc, "a distribution whose behaviors name existing policies")
    rows = []
    for name, stats in result.behaviors.items():
        ratio = "-" if stats.hit_ratio is None else f"{stats.hit_ratio:.0%}"
        turned = stats.redirected + stats.refused
        rows.append((name, stats.requests, stats.hits, stats.misses, ratio, turned, stats.leaks))
    report_table(
        "Your distribution on this run's access log",
        ("behavior", "requests", "hits", "misses", "hit ratio", "HTTP turned away", "leaks"),
        rows,
    )
    return result


def _policy_of(distribution: Distribution, policies: PolicyStore, path: str) -> tuple[Any, dict]:
    behavior = distribution.match(path)
    if behavior.cache_policy_id is None:
        from grader.aws.edge.cachekey import policies_from_legacy

        legacy = {"ForwardedValues": behavior.forwarded_values or {}}
        return behavior, policies_from_legacy(legacy)[0]
    return behavior, policies.cache_policy(behavior.cache_policy_id)


# ---------------------------------------------------------------- gates (task 5)


@pytest.mark.check(task=5, points=1, gate=True)
def test_the_distribution_and_its_policies_are_valid_requests(
    distribution: Distribution, policies: PolicyStore
) -> None:
    """distribution.json and cache-policies.json are requests CloudFront accepts, and every
    behavior names a cache policy that exists (yours or one of AWS's managed ones)."""
    problems = check_references(distribution, policies)
    if problems:
        fail(
            expected="every policy a behavior names to exist",
            found=listing(problems, 3),
            fix="name a policy of cache-policies.json by its Id, or a managed policy by its ID",
            docs=DOCS + "#task-5",
        )


@pytest.mark.check(task=5, points=1, gate=True)
def test_the_bucket_policy_is_valid_iam(lab_dir: Path) -> None:
    """bucket-policy.json is a valid S3 bucket policy (IAM's policy grammar)."""
    learner_policy(
        lab_dir, BUCKET_POLICY, DOCS + "#task-4", kind=PolicyType.RESOURCE, what=BUCKET_WHAT
    )


@pytest.mark.check(task=5, points=2)
def test_the_distribution_deploys_with_lab2s_web_acl_attached(lab_dir: Path, aws) -> None:
    """The distribution deploys to the sandbox (CreateDistribution) with lab 2's web ACL,
    shop-web-acl, attached by its ARN. (The sandbox keeps no cache policies, drops origin
    access control and does not look the web ACL up: the first gate, the engine and this
    check's reading of the ARN check those.)"""
    config = json.loads(json.dumps(load_distribution(lab_dir / DISTRIBUTION)[0].config))
    attached = config.get("WebACLId") or ""
    marker = f":global/webacl/{WEB_ACL_NAME}/"
    if marker not in attached:
        regional = ":regional/webacl/" in attached
        fail(
            expected=f"WebACLId to be the ARN of lab 2's web ACL, {WEB_ACL_NAME}",
            found=f"WebACLId is {attached!r}" if attached else "no web ACL attached",
            fix="a distribution takes a web ACL of scope CLOUDFRONT (made in us-east-1), named "
            "by its ARN; a REGIONAL one cannot be attached"
            if regional
            else "attach the web ACL by its ARN (get_web_acl shows it)",
            docs="edge/index.md#why-a-security-course-starts-at-the-edge",
        )
    # moto stores WebACLId without looking it up, so the reference is checked above (a
    # global web ACL named shop-web-acl, as CloudFront requires) and the deploy below.
    try:
        aws.client("cloudfront").create_distribution(DistributionConfig=config)
    except Exception as exc:  # botocore's ClientError or ParamValidationError
        fail(
            expected="the distribution to deploy",
            found=f"{type(exc).__name__}: {exc}",
            fix="fix what the API names; `grader edge match` reads the same file offline",
            docs=DOCS + "#task-5",
        )


# ---------------------------------------------------------------- task 1


@pytest.mark.check(task=1, points=2)
def test_every_behavior_turns_plain_http_away(distribution: Distribution, log: Log, report) -> None:
    """No behavior serves a request made over plain HTTP: each redirects it to HTTPS or
    refuses it, before any cache or origin sees it."""
    served = []
    for behavior in distribution.all_behaviors:
        name = behavior_name(behavior)
        stats = report.behaviors[name]
        over_http = sum(
            1
            for r in log.requests
            if r.protocol == "http" and distribution.match(r.path) is behavior
        )
        # allow-all serves HTTP whether or not this run's log happened to try that behavior
        if over_http > stats.redirected + stats.refused or (
            behavior.viewer_protocol_policy == "allow-all"
        ):
            served.append(f"{name} ({behavior.viewer_protocol_policy})")
    if served:
        fail(
            expected="every plain HTTP request redirected (301) or refused (403)",
            found=f"served over HTTP by {listing(served)}",
            fix="each behavior has its own viewer protocol policy: HTTP must never reach the "
            "shop's pages, files or API",
            docs="edge/index.md#distributions-and-behaviors",
        )


# ---------------------------------------------------------------- task 2


@pytest.mark.check(task=2, points=4)
def test_static_files_are_cached_long_compressed_and_keyed_on_what_changes_them(
    distribution: Distribution, policies: PolicyStore, report
) -> None:
    """The static files are kept at least a day, served compressed, and reach the hit-ratio
    target: their cache key leaves out what does not change a file (tracking query strings,
    cookies)."""
    served_by = {}  # behavior name -> (behavior, its cache policy, a file it serves)
    for path in STATIC_FILES:
        behavior, policy = _policy_of(distribution, policies, path)
        served_by.setdefault(behavior_name(behavior), (behavior, policy, path))
    for name, (behavior, policy, path) in served_by.items():
        if behavior.path_pattern is None:
            fail(
                expected="a cache behavior for the static files under /static/",
                found=f"{path} is served by the default behavior",
                fix="add a behavior whose path pattern matches the static files, with the "
                "bucket as its origin",
                docs="edge/index.md#distributions-and-behaviors",
            )
        origin = load_origin(ORIGIN).respond(path, "someone")
        seconds = cache_seconds(policy, origin, now_ms=0) or 0
        if seconds < DAY:
            fail(
                expected="static files kept at least a day (they are versioned by name)",
                found=f"{name} keeps {path}, which the bucket sends without Cache-Control, for "
                f"{seconds:,} seconds",
                fix="the bucket sends no caching headers, so the cache policy's default TTL "
                "decides",
                docs="edge/index.md#cache-keys-and-ttls",
            )
        stats = report.behaviors[name]
        if not stats.compress or not stats.compressed:
            fail(
                expected="static files served compressed to browsers that accept it",
                found=f"{name} compressed none of {stats.hits + stats.misses} responses",
                fix="compression needs the behavior's setting and the cache policy's encodings",
                docs="edge/index.md#cache-keys-and-ttls",
            )
    hits = sum(report.behaviors[name].hits for name in served_by)
    looked_up = sum(
        report.behaviors[name].hits + report.behaviors[name].misses for name in served_by
    )
    ratio = hits / looked_up if looked_up else 0.0
    if ratio < STATIC_HIT_TARGET:
        fail(
            expected=f"a hit ratio of {STATIC_HIT_TARGET:.0%} or more on the static files",
            found=f"{ratio:.1%} ({hits} hits, {looked_up - hits} misses)",
            fix="find what splits one file into many cached objects: the log's static "
            "requests differ only in query strings and cookies that do not change the file",
            docs="edge/index.md#cache-keys-and-ttls",
        )


# ---------------------------------------------------------------- task 3


@pytest.mark.check(task=3, points=4)
def test_personal_answers_are_never_cached_and_the_api_gets_the_token(
    distribution: Distribution, policies: PolicyStore, log: Log, report
) -> None:
    """No viewer ever receives a response made for another; the API's answers are never
    cached, and the API receives each caller's Authorization header."""
    if report.leaks:
        leak = report.leaks[0]
        r = leak.request
        fail(
            expected="no cached answer made for one viewer served to another",
            found=f"{count(len(report.leaks), 'response')} served to the wrong viewer, e.g. "
            f"{r.method} {r.path} for {r.viewer}, answered from the cache of {leak.behavior} "
            f"with the answer made for {leak.made_for}",
            fix="pages and API answers are personal and the app sends no caching headers: "
            "the behaviors that serve them must not keep them",
            docs="edge/index.md#cache-keys-and-ttls",
        )
    first_call = {}  # behavior name -> (behavior, the first API request it serves)
    for r in log.requests:
        if r.path.startswith("/api/") and r.protocol == "https":
            behavior = distribution.match(r.path)
            first_call.setdefault(behavior_name(behavior), (behavior, r))
    for name, (behavior, request) in first_call.items():
        stats = report.behaviors[name]
        if stats.hits:
            fail(
                expected="no API answer served from the cache",
                found=f"{stats.hits} requests answered from the cache of {name}, which serves "
                f"{request.path}",
                fix="the API's answers depend on who calls; keep them out of the cache",
                docs="edge/index.md#cache-keys-and-ttls",
            )
        _, policy = _policy_of(distribution, policies, request.path)
        orp = (
            policies.origin_request_policy(behavior.origin_request_policy_id)
            if behavior.origin_request_policy_id
            else None
        )
        sent = forwarded_to_origin(request, policy, orp)
        if not any(header.lower() == "authorization" for header, _ in sent.headers):
            fail(
                expected="the API to receive the caller's Authorization header",
                found=f"{request.method} {request.path} reaches the origin through {name} "
                "without it",
                fix="CloudFront drops Authorization on GET unless the cache policy puts it in "
                "the key (an origin request policy cannot forward it alone)",
                docs="edge/index.md#cache-keys-and-ttls",
            )


# ---------------------------------------------------------------- task 4


def _bucket_requests(seed: int) -> list[tuple[str, Request, Any, bool]]:
    """(what, request, caller, must it be allowed) for the static bucket."""
    rng = random.Random(f"lab1-bucket:{seed}")
    obj = f"arn:aws:s3:::{BUCKET}/static/app.3f2a9c.css"
    cloudfront = parse_principal("cloudfront.amazonaws.com")

    def via(arn: str, action: str = "s3:GetObject", account: str = ACCOUNT) -> Request:
        context = {"aws:SourceArn": arn, "aws:SourceAccount": account, "aws:SecureTransport": True}
        return Request(
            action=action, resource=obj, principal="cloudfront.amazonaws.com", context=context
        )

    other_ids = {
        DISTRIBUTION_ID[:-1]
        + rng.choice("ABCDFGH"): "a distribution whose ID differs by one letter",
        DISTRIBUTION_ID + "2": "a distribution whose ID starts with this one's",
        "E"
        + "".join(
            rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(13)
        ): "another distribution",
    }
    rows: list[tuple[str, Request, Any, bool]] = [
        ("GetObject by this distribution", via(DISTRIBUTION_ARN), cloudfront, True),
        ("PutObject by this distribution (it only reads)", via(DISTRIBUTION_ARN, "s3:PutObject"), cloudfront, False),
        ("DeleteObject by this distribution", via(DISTRIBUTION_ARN, "s3:DeleteObject"), cloudfront, False),
        (
            "GetObject by anyone on the internet",
            Request(action="s3:GetObject", resource=obj, context={"aws:SecureTransport": True}),
            parse_principal(None),
            False,
        ),
    ]  # fmt: skip
    for other, why in other_ids.items():
        arn = f"arn:aws:cloudfront::{ACCOUNT}:distribution/{other}"
        rows.append((f"GetObject by {why}", via(arn), cloudfront, False))
    for account, why in account_neighbours(ACCOUNT, rng)[:1]:
        arn = f"arn:aws:cloudfront::{account}:distribution/{DISTRIBUTION_ID}"
        rows.append((f"GetObject by a distribution with this ID in {why}", via(arn, account=account), cloudfront, False))  # fmt: skip
    return rows


@pytest.mark.check(task=4, points=4)
def test_only_this_distribution_reads_the_bucket(
    lab_dir: Path, seed: int, distribution: Distribution
) -> None:
    """The bucket is readable only through this distribution: its origin signs requests with
    origin access control, and the bucket policy lets CloudFront read objects when the
    request comes from this distribution (aws:SourceArn), and nobody else: not the internet,
    not another distribution, not this one with write actions."""
    unsigned = [o.id for o in distribution.origins.values() if o.kind == "s3"
                and not o.origin_access_control_id]  # fmt: skip
    if unsigned:
        fail(
            expected="every S3 origin to use origin access control",
            found=f"origin {listing(unsigned)} has no OriginAccessControlId",
            fix="without it CloudFront asks the bucket anonymously, so the bucket would have "
            "to be public; attach an origin access control (OAI is its legacy predecessor)",
            docs="edge/index.md#origin-access-control",
        )
    bucket_policy = learner_policy(
        lab_dir, BUCKET_POLICY, DOCS + "#task-4", kind=PolicyType.RESOURCE, what=BUCKET_WHAT
    )
    policy_set = PolicySet(resource=[bucket_policy], resource_account=ACCOUNT)
    fix = (
        "allow the CloudFront service principal to read objects only when the request comes "
        "from this distribution, compared exactly"
    )
    judge(
        [
            Verdict(what, authorize(request, policy_set, caller), allowed, fix)
            for what, request, caller, allowed in _bucket_requests(seed)
        ],
        "edge/index.md#origin-access-control",
    )
