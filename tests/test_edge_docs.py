"""The Edge chapter's sample (docs_src/edge/) says what the page says it does: the static
share is served from cache with query strings left out of the key, nothing personal is
cached, and the plain HTTP request is redirected."""

from __future__ import annotations

from grader.aws.edge.distribution import load_distribution
from grader.aws.edge.logs import load_log
from grader.aws.edge.origin import load_origin
from grader.aws.edge.policies import load_policies
from grader.aws.edge.simulate import simulate
from tests.conftest import ROOT

SAMPLE = ROOT / "docs_src" / "edge"


def test_the_chapters_sample_caches_static_files_only_and_leaks_nothing():
    distribution, warnings = load_distribution(SAMPLE / "shop-distribution.json")
    assert warnings == ()  # the S3 origin has origin access control
    requests, _ = load_log(SAMPLE / "shop-access-log.jsonl")
    report = simulate(
        distribution, load_policies({}), requests, load_origin(SAMPLE / "shop-origin.json")
    )
    static = report.behaviors["/static/*"]
    assert static.misses == 2  # one per edge location: ?v=3 and ?utm_source share one object
    assert static.hit_ratio > 0.9 and static.redirected == 1
    assert report.behaviors["/api/*"].hits == 0 and report.leaks == []
