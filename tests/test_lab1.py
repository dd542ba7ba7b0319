"""lab1: does the solution pass, does the starter fail, does every check fail on a wrong
answer a learner could give, and do equivalent right answers pass? Each case is the reference
solution with one change, graded by the real runner."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.checks import lab1_scenario as scenario
from grader.course.checkinfo import read_checks
from grader.course.labs import load_course
from grader.grading.runner import run_lab
from tests.conftest import COURSE, ROOT

LAB = load_course(COURSE).lab("lab1")
DIST, POLICIES, BUCKET = "distribution.json", "cache-policies.json", "bucket-policy.json"
SOLUTION = {
    name: json.loads((ROOT / "solutions" / "lab1" / name).read_text()) for name in LAB.files
}
OPTIMIZED, DISABLED = "658327ea-f89d-4fab-a63d-7e88639e58f6", "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"


def grade(tmp_path: Path, seed: int = 11, **files: dict):
    folder = tmp_path / "lab1"
    shutil.copytree(COURSE / "labs" / "lab1", folder)
    for name in LAB.files:
        doc = files.get(name.replace("-", "_").removesuffix(".json")) or SOLUTION[name]
        (folder / name).write_text(json.dumps(doc, indent=2))
    result = run_lab(LAB, folder, seed=seed)
    assert result.problem is None, result.problem
    return {c.id: c for c in result.checks}


def changed(name: str, change: Callable[[dict], None]) -> dict:
    doc = copy.deepcopy(SOLUTION[name])
    change(doc)
    return doc


def behavior(doc: dict, pattern: str | None) -> dict:
    if pattern is None:
        return doc["DefaultCacheBehavior"]
    return next(b for b in doc["CacheBehaviors"]["Items"] if b["PathPattern"] == pattern)


def set_in(pattern: str | None, **fields) -> Callable[[dict], None]:
    return lambda doc: behavior(doc, pattern).update(fields)


def static_policy(**overrides) -> dict:
    """cache-policies.json with a policy 'static' like CachingOptimized, changed."""
    config = {
        "Name": "static",
        "MinTTL": 1,
        "DefaultTTL": 86400,
        "MaxTTL": 31536000,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": True,
            "EnableAcceptEncodingBrotli": True,
            "HeadersConfig": {"HeaderBehavior": "none"},
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "none"},
        },
    }
    for key, value in overrides.items():
        if key in config:
            config[key] = value
        else:
            config["ParametersInCacheKeyAndForwardedToOrigin"][key] = value
    doc = copy.deepcopy(SOLUTION[POLICIES])
    doc["CachePolicies"].append({"Id": "static", "CachePolicyConfig": config})
    return doc


STATIC_CUSTOM = changed(DIST, set_in("/static/*", CachePolicyId="static"))


def split_static(doc: dict) -> None:
    """Scripts under a behavior of their own (first in order), with the policy 'static'."""
    scripts = dict(behavior(doc, "/static/*"), PathPattern="/static/*.js", CachePolicyId="static")
    doc["CacheBehaviors"]["Items"].insert(0, scripts)
    doc["CacheBehaviors"]["Quantity"] += 1


def unused_http_behavior(doc: dict) -> None:
    """A behavior on allow-all for a path the log never asks for."""
    unused = dict(behavior(doc, "/static/*"), PathPattern="/static/unused/*")
    unused["ViewerProtocolPolicy"] = "allow-all"
    doc["CacheBehaviors"]["Items"].insert(0, unused)
    doc["CacheBehaviors"]["Quantity"] += 1


def split_api(doc: dict) -> None:
    """/api/orders under a behavior of its own that caches like static files."""
    orders = dict(behavior(doc, "/api/*"), PathPattern="/api/orders", CachePolicyId=OPTIMIZED)
    orders.pop("OriginRequestPolicyId")
    doc["CacheBehaviors"]["Items"].insert(0, orders)
    doc["CacheBehaviors"]["Quantity"] += 1


def bucket_condition(condition: dict, **statement) -> dict:
    def change(doc: dict) -> None:
        doc["Statement"][0]["Condition"] = condition
        doc["Statement"][0].update(statement)

    return changed(BUCKET, change)


THIS = f"arn:aws:cloudfront::{scenario.ACCOUNT}:distribution/{scenario.DISTRIBUTION_ID}"


def test_solution_passes_every_check(tmp_path):
    results = grade(tmp_path)
    assert {c.id: c.status for c in results.values() if c.status != "passed"} == {}
    assert set(results) == {c.name for c in read_checks(LAB.checks_module)}


def test_starter_fails_every_task_but_the_file_gates(tmp_path):
    result = run_lab(LAB, LAB.folder, seed=3)
    failed = {c.id for c in result.checks if c.status == "failed"}
    assert failed == {c.id for c in result.checks if not c.gate}


# (check that must fail, files changed from the solution, the mistake)
WRONG = [
    ("test_every_behavior_turns_plain_http_away",
     {"distribution": changed(DIST, set_in("/static/*", ViewerProtocolPolicy="allow-all"))},
     "one behavior left on allow-all"),
    ("test_static_files_are_cached_long_compressed_and_keyed_on_what_changes_them",
     {"distribution": STATIC_CUSTOM,
      "cache_policies": static_policy(QueryStringsConfig={"QueryStringBehavior": "all"})},
     "tracking query strings in the cache key"),
    ("test_static_files_are_cached_long_compressed_and_keyed_on_what_changes_them",
     {"distribution": STATIC_CUSTOM, "cache_policies": static_policy(DefaultTTL=300)},
     "five minutes for a file that never changes"),
    ("test_static_files_are_cached_long_compressed_and_keyed_on_what_changes_them",
     {"distribution": changed(DIST, set_in("/static/*", Compress=False))},
     "compression left off"),
    ("test_static_files_are_cached_long_compressed_and_keyed_on_what_changes_them",
     {"distribution": changed(DIST, set_in("/static/*", PathPattern="/Static/*"))},
     "a pattern in the wrong case: the files fall to the default behavior"),
    ("test_personal_answers_are_never_cached_and_the_api_gets_the_token",
     {"distribution": changed(DIST, set_in("/api/*", CachePolicyId=OPTIMIZED))},
     "the API cached like static files"),
    ("test_personal_answers_are_never_cached_and_the_api_gets_the_token",
     {"distribution": changed(DIST, set_in(None, CachePolicyId=OPTIMIZED))},
     "personal pages cached by the default behavior"),
    ("test_personal_answers_are_never_cached_and_the_api_gets_the_token",
     {"distribution": changed(DIST, set_in("/static/*", PathPattern="/static*"))},
     "/static* also catches the personal /static-preview/ pages"),
    ("test_personal_answers_are_never_cached_and_the_api_gets_the_token",
     {"distribution": changed(DIST, lambda d: behavior(d, "/api/*").update(CachePolicyId=DISABLED)
                              or behavior(d, "/api/*").pop("OriginRequestPolicyId"))},
     "caching disabled, but the token never reaches the API"),
    ("test_only_this_distribution_reads_the_bucket",
     {"bucket_policy": bucket_condition({"ArnLike": {"aws:SourceArn": THIS[: THIS.rindex("/")] + "/*"}})},
     "any distribution of the account"),
    ("test_only_this_distribution_reads_the_bucket",
     {"bucket_policy": changed(BUCKET, lambda d: d["Statement"][0].pop("Condition"))},
     "CloudFront without a condition: every distribution of every account"),
    ("test_only_this_distribution_reads_the_bucket",
     {"bucket_policy": changed(BUCKET, lambda d: d["Statement"][0].update(Action="s3:*"))},
     "this distribution may also write and delete"),
    ("test_static_files_are_cached_long_compressed_and_keyed_on_what_changes_them",
     {"distribution": changed(DIST, split_static), "cache_policies": static_policy(DefaultTTL=300)},
     "the scripts get a behavior of their own with a five-minute TTL"),
    ("test_personal_answers_are_never_cached_and_the_api_gets_the_token",
     {"distribution": changed(DIST, split_api)},
     "one API endpoint gets a behavior of its own that caches"),
    ("test_every_behavior_turns_plain_http_away",
     {"distribution": changed(DIST, unused_http_behavior)},
     "allow-all on a behavior this run's log does not reach"),
    ("test_the_distribution_and_its_policies_are_valid_requests",
     {"distribution": changed(DIST, set_in("/api/*", TargetOriginId="no-such-origin"))},
     "a behavior pointing at an origin that does not exist"),
    ("test_the_bucket_policy_is_valid_iam",
     {"bucket_policy": changed(BUCKET, lambda d: d["Statement"][0].update(Effect="Permit"))},
     "an Effect IAM does not know"),
    ("test_only_this_distribution_reads_the_bucket",
     {"distribution": changed(DIST, lambda d: d["Origins"]["Items"][0].pop("OriginAccessControlId"))},
     "an S3 origin without origin access control"),
    ("test_the_distribution_deploys_with_lab2s_web_acl_attached",
     {"distribution": changed(DIST, lambda d: d.update(
         WebACLId=d["WebACLId"].replace(":global/", ":regional/").replace("us-east-1", "ap-northeast-1")))},
     "a REGIONAL web ACL"),
]  # fmt: skip


@pytest.mark.parametrize("check, files, why", WRONG, ids=[w[2] for w in WRONG])
def test_each_wrong_answer_fails_its_check(tmp_path, check, files, why):
    assert grade(tmp_path, **files)[check].status == "failed", why


EQUIVALENT = [
    ({"distribution": STATIC_CUSTOM, "cache_policies": static_policy()},
     "a custom policy equal to CachingOptimized"),
    ({"distribution": changed(DIST, lambda d: behavior(d, "/api/*").update(
        CachePolicyId=DISABLED, OriginRequestPolicyId=ALL_VIEWER))},
     "caching disabled with every viewer header forwarded"),
    ({"distribution": changed(DIST, set_in("/static/*", ViewerProtocolPolicy="https-only"))},
     "https-only instead of a redirect"),
    ({"bucket_policy": bucket_condition(
        {"ArnEquals": {"aws:SourceArn": THIS}, "StringEquals": {"aws:SourceAccount": scenario.ACCOUNT}})},
     "ArnEquals, and the account checked too"),
]  # fmt: skip


@pytest.mark.parametrize("files, why", EQUIVALENT, ids=[e[1] for e in EQUIVALENT])
def test_each_equivalent_answer_passes(tmp_path, files, why):
    results = grade(tmp_path, **files)
    assert {c.id: c.status for c in results.values() if c.status != "passed"} == {}, why


def test_the_log_is_seeded_and_holds_the_near_paths_and_plain_http():
    one, again, other = (scenario.make_log(s) for s in (5, 5, 6))
    assert one == again and one.requests != other.requests
    paths = {r.path for r in one.requests}
    assert any(p.startswith("/Static/") for p in paths)
    assert any(p.startswith("/static-preview/") for p in paths)
    assert {r.protocol for r in one.requests} == {"http", "https"}
    assert any(r.query.startswith("utm_") for r in one.requests if scenario.is_static(r.path))
