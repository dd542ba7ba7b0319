"""The cache simulator: hits, misses, expiry, per-edge caches, HTTP refused before the cache,
and personal answers served to the wrong viewer (leaks)."""

from __future__ import annotations

import json

import pytest

from grader.aws.edge.distribution import load_distribution
from grader.aws.edge.origin import load_origin
from grader.aws.edge.request import EdgeRequest
from grader.aws.edge.simulate import DEFAULT_BEHAVIOR_NAME, simulate


def cache_policy(min_ttl=0, default_ttl=86400, max_ttl=31536000, cookies=None, gzip=False):
    """A CachePolicyConfig; ``cookies`` lists the cookies in the key (None: none)."""
    cookie_config = {"CookieBehavior": "none"}
    if cookies:
        cookie_config = {
            "CookieBehavior": "whitelist",
            "Cookies": {"Quantity": len(cookies), "Items": list(cookies)},
        }
    return {
        "Name": "p",
        "MinTTL": min_ttl,
        "DefaultTTL": default_ttl,
        "MaxTTL": max_ttl,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": gzip,
            "EnableAcceptEncodingBrotli": False,
            "HeadersConfig": {"HeaderBehavior": "none"},
            "CookiesConfig": cookie_config,
            "QueryStringsConfig": {"QueryStringBehavior": "none"},
        },
    }


# AWS's CachingDisabled managed policy: every TTL 0 (using-managed-cache-policies).
CACHING_DISABLED = cache_policy(0, 0, 0)


class Policies:
    """A stand-in for policies.PolicyStore: configs by id."""

    def __init__(self, **configs):
        self.configs = configs

    def cache_policy(self, name, behavior=None):
        return self.configs[name]

    def origin_request_policy(self, name, behavior=None):
        return self.configs[name]


def distribution(*behaviors, default_policy="static", default_vpp="redirect-to-https"):
    """A distribution with one custom origin; ``behaviors`` are (pattern, cache policy id)
    or (pattern, cache policy id, extra fields)."""
    items = []
    for pattern, policy, *extra in behaviors:
        item = {
            "PathPattern": pattern,
            "TargetOriginId": "app",
            "ViewerProtocolPolicy": "https-only",
            "CachePolicyId": policy,
        }
        item.update(*extra)
        items.append(item)
    config = {
        "CallerReference": "test",
        "Comment": "",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "app",
                    "DomainName": "app.example.com",
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "app",
            "ViewerProtocolPolicy": default_vpp,
            "CachePolicyId": default_policy,
        },
    }
    if items:
        config["CacheBehaviors"] = {"Quantity": len(items), "Items": items}
    return load_distribution(config)[0]


ORIGIN = load_origin(
    {
        "/account*": {
            "headers": {"Cache-Control": "max-age=300", "Content-Type": "text/html"},
            "size": 2000,
            "personal": True,
        },
        "/api/*": {"headers": {"Cache-Control": "no-store"}, "size": 300, "personal": True},
        "*": {
            "headers": {"Cache-Control": "max-age=60", "Content-Type": "text/css"},
            "size": 5000,
        },
    }
)


def get(t, path="/site.css", viewer="alice", edge="NRT57-P1", **kw):
    return EdgeRequest(
        time_ms=t * 1000,
        path=path,
        viewer=viewer,
        edge_location=edge,
        headers=(("Host", "d111111abcdef8.cloudfront.net"),),
        **kw,
    )


def test_is_the_second_request_for_an_object_a_hit():
    report = simulate(distribution(), Policies(static=cache_policy()), [get(0), get(1)], ORIGIN)
    stats = report.behaviors[DEFAULT_BEHAVIOR_NAME]
    assert (stats.requests, stats.hits, stats.misses) == (2, 1, 1)
    assert stats.hit_ratio == 0.5
    assert stats.bytes_from_origin == 5000 and stats.bytes_to_viewers == 10000


def test_does_an_expired_entry_go_back_to_the_origin():
    # max-age=60: fresh at 59 s, expired at 60 s; fetched again then, fresh until 120 s.
    requests = [get(0), get(59), get(60), get(119), get(120)]
    report = simulate(distribution(), Policies(static=cache_policy()), requests, ORIGIN)
    stats = report.total
    assert (stats.hits, stats.misses) == (2, 3) and stats.bytes_from_origin == 15000


def test_does_max_ttl_cut_the_origins_max_age():
    requests = [get(0), get(11)]
    report = simulate(distribution(), Policies(static=cache_policy(max_ttl=10)), requests, ORIGIN)
    assert report.total.misses == 2


def test_has_each_edge_location_its_own_cache():
    requests = [get(0, edge="NRT57-P1"), get(1, edge="FRA56-P2"), get(2, edge="FRA56-P2")]
    report = simulate(distribution(), Policies(static=cache_policy()), requests, ORIGIN)
    assert report.total.misses == 2 and report.total.hits == 1
    assert report.edges["NRT57-P1"].misses == 1 and report.edges["FRA56-P2"].hits == 1


def test_do_an_alternate_domain_name_and_the_cloudfront_name_share_cached_objects():
    as_alias = EdgeRequest(time_ms=0, path="/a.css", headers=(("Host", "www.example.com"),))
    as_cloudfront = EdgeRequest(time_ms=1, path="/a.css", headers=(("Host", "d1.cloudfront.net"),))
    report = simulate(
        distribution(), Policies(static=cache_policy()), [as_alias, as_cloudfront], ORIGIN
    )
    assert (report.total.misses, report.total.hits) == (1, 1)


def test_is_a_personal_page_cached_without_the_cookie_in_its_key_leaked_to_the_next_viewer():
    requests = [
        get(0, "/account", "alice", cookies=(("session", "s-alice"),)),
        get(1, "/account", "bob", cookies=(("session", "s-bob"),)),
        get(2, "/account", "alice", cookies=(("session", "s-alice"),)),
    ]
    report = simulate(distribution(), Policies(static=cache_policy()), requests, ORIGIN)
    (leak,) = report.leaks  # alice's own page served back to her is no leak
    assert leak.made_for == "alice" and leak.request.viewer == "bob"
    assert leak.behavior == DEFAULT_BEHAVIOR_NAME
    assert dict(leak.cache_key)["cookies"] == ()
    data = report.to_json()["leaks"][0]
    assert data["madeFor"] == "alice" and data["servedTo"] == "bob"
    assert data["cacheKey"]["path"] == "/account"
    assert report.behaviors[DEFAULT_BEHAVIOR_NAME].leaks == 1


def test_is_nothing_leaked_when_the_session_cookie_is_in_the_cache_key():
    requests = [
        get(0, "/account", "alice", cookies=(("session", "s-alice"),)),
        get(1, "/account", "bob", cookies=(("session", "s-bob"),)),
        get(2, "/account", "bob", cookies=(("session", "s-bob"),)),
    ]
    policies = Policies(static=cache_policy(cookies=["session"]))
    report = simulate(distribution(), policies, requests, ORIGIN)
    assert report.leaks == [] and report.total.hits == 1 and report.total.misses == 2


def test_is_nothing_leaked_or_cached_under_a_behavior_that_does_not_cache():
    requests = [
        get(0, "/account", "alice", cookies=(("session", "s-alice"),)),
        get(1, "/account", "bob", cookies=(("session", "s-bob"),)),
    ]
    dist = distribution(("/account*", "disabled"))
    report = simulate(
        dist, Policies(static=cache_policy(), disabled=CACHING_DISABLED), requests, ORIGIN
    )
    stats = report.behaviors["/account*"]
    assert report.leaks == [] and (stats.hits, stats.misses) == (0, 2)
    assert stats.bytes_from_origin == 4000


def test_does_no_store_from_the_origin_keep_a_personal_answer_out_of_the_cache():
    requests = [get(0, "/api/me", "alice"), get(1, "/api/me", "bob")]
    report = simulate(distribution(), Policies(static=cache_policy()), requests, ORIGIN)
    assert report.leaks == [] and report.total.misses == 2


def test_does_min_ttl_cache_even_a_no_store_answer_and_so_leak_it():
    requests = [get(0, "/api/me", "alice"), get(1, "/api/me", "bob")]
    report = simulate(distribution(), Policies(static=cache_policy(min_ttl=60)), requests, ORIGIN)
    assert [leak.made_for for leak in report.leaks] == ["alice"]


def test_is_http_redirected_or_refused_before_the_cache():
    dist = distribution(("/secure/*", "static"))  # https-only; the default redirects
    requests = [
        get(0, "/a.css", protocol="http"),
        get(1, "/secure/x", protocol="http"),
        get(2, "/a.css", protocol="https"),
    ]
    report = simulate(dist, Policies(static=cache_policy()), requests, ORIGIN)
    default, secure = report.behaviors[DEFAULT_BEHAVIOR_NAME], report.behaviors["/secure/*"]
    assert (default.redirected, default.refused, default.misses, default.hits) == (1, 0, 1, 0)
    assert (secure.refused, secure.misses, secure.bytes_to_viewers) == (1, 0, 0)
    assert report.total.requests == 3


def test_does_allow_all_serve_http_from_the_same_cache_as_https():
    dist = distribution(default_vpp="allow-all")
    requests = [get(0, protocol="http"), get(1, protocol="https")]
    report = simulate(dist, Policies(static=cache_policy()), requests, ORIGIN)
    assert report.total.hits == 1 and report.total.redirected == 0


def test_does_a_post_go_to_the_origin_and_stay_out_of_the_hit_ratio():
    methods = {
        "AllowedMethods": {
            "Quantity": 7,
            "Items": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
            "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
        }
    }
    dist = distribution(("/form", "static", methods))
    requests = [get(0, "/form", method="POST"), get(1, "/form", method="POST"), get(2, "/form")]
    report = simulate(dist, Policies(static=cache_policy()), requests, ORIGIN)
    stats = report.behaviors["/form"]
    assert (stats.passed, stats.misses, stats.hits, stats.hit_ratio) == (2, 1, 0, 0.0)
    assert stats.bytes_from_origin == 15000


def test_is_a_method_the_behavior_does_not_allow_refused():
    report = simulate(
        distribution(), Policies(static=cache_policy()), [get(0, method="DELETE")], ORIGIN
    )
    assert report.total.method_not_allowed == 1 and report.total.bytes_from_origin == 0


def test_is_compression_counted_per_behavior_when_the_viewer_accepts_it():
    dist = distribution(("*.css", "static", {"Compress": True}))
    accept = (("Host", "d.cloudfront.net"), ("Accept-Encoding", "gzip, br"))
    requests = [
        EdgeRequest(time_ms=0, path="/a.css", headers=accept),
        EdgeRequest(time_ms=1, path="/a.css", headers=accept),
        EdgeRequest(time_ms=2, path="/b.css"),  # no Accept-Encoding: sent as is
    ]
    report = simulate(dist, Policies(static=cache_policy(gzip=True)), requests, ORIGIN)
    assert report.behaviors["*.css"].compressed == {"gzip": 2}
    assert report.behaviors[DEFAULT_BEHAVIOR_NAME].compressed == {}


def test_does_a_legacy_forwarded_values_behavior_cache_with_its_own_ttls():
    legacy = {
        "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
        "MinTTL": 0,
        "DefaultTTL": 5,
        "MaxTTL": 5,
    }
    dist = distribution()
    config = dict(dist.config)
    config["CacheBehaviors"] = {
        "Quantity": 1,
        "Items": [
            {
                "PathPattern": "/old/*",
                "TargetOriginId": "app",
                "ViewerProtocolPolicy": "allow-all",
                **legacy,
            }
        ],
    }
    dist = load_distribution(config)[0]
    requests = [get(0, "/old/a"), get(4, "/old/a"), get(6, "/old/a")]
    report = simulate(dist, Policies(static=cache_policy()), requests, ORIGIN)
    assert (report.behaviors["/old/*"].hits, report.behaviors["/old/*"].misses) == (1, 2)


def test_does_the_report_list_every_behavior_in_order_as_plain_json():
    dist = distribution(("/api/*", "disabled"), ("*.css", "static"))
    report = simulate(
        dist, Policies(static=cache_policy(), disabled=CACHING_DISABLED), [get(0)], ORIGIN
    )
    data = json.loads(json.dumps(report.to_json()))
    assert [b["pathPattern"] for b in data["behaviors"]] == ["/api/*", "*.css", "Default (*)"]
    assert data["behaviors"][0]["hitRatio"] is None and data["total"]["requests"] == 1
    assert data["edges"]["NRT57-P1"]["misses"] == 1


@pytest.mark.parametrize("viewer", ["alice", ""])
def test_is_a_shared_answer_served_to_anyone_no_leak(viewer):
    requests = [get(0, viewer="alice"), get(1, viewer="bob"), get(2, viewer=viewer)]
    report = simulate(distribution(), Policies(static=cache_policy()), requests, ORIGIN)
    assert report.leaks == [] and report.total.hits == 2


# --- end to end, with the real policy store -------------------------------------------------

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


def test_does_the_lab_shape_cache_static_files_and_never_an_api_under_managed_policies():
    from grader.aws.edge.policies import load_policies

    # The console's names of AWS's managed policies work as well as their IDs.
    dist = distribution(("/api/*", "CachingDisabled"), default_policy=CACHING_OPTIMIZED)
    requests = [
        get(0, "/api/me", "alice", cookies=(("session", "a"),)),
        get(1, "/api/me", "bob", cookies=(("session", "b"),)),
        get(2, "/site.css", "alice"),
        get(3, "/site.css", "bob"),
    ]
    report = simulate(dist, load_policies({}), requests, ORIGIN)
    api, default = report.behaviors["/api/*"], report.behaviors[DEFAULT_BEHAVIOR_NAME]
    assert (api.hits, api.misses, default.hits, default.misses) == (0, 2, 1, 1)
    assert report.leaks == []


def test_is_a_policy_that_exists_nowhere_an_error_at_the_behavior_that_names_it():
    from grader.aws.edge.policies import load_policies
    from grader.aws.errors import GraderError

    dist = distribution(("/api/*", "no-such-policy"), default_policy=CACHING_OPTIMIZED)
    with pytest.raises(GraderError) as caught:
        simulate(dist, load_policies({}), [get(0)], ORIGIN)
    assert caught.value.json_path == "CacheBehaviors.Items[0].CachePolicyId"
    assert "no-such-policy" in caught.value.message


def test_does_an_origin_that_reads_the_forwarded_request_get_what_cloudfront_sends():
    seen = []

    class Recorder:
        needs_forwarded = True

        def respond(self, path, viewer, forwarded):
            seen.append(forwarded)
            return ORIGIN.respond(path, viewer)

    cookies = (("session", "s-alice"), ("theme", "dark"))
    policies = Policies(static=cache_policy(cookies=["session"]))
    simulate(distribution(), policies, [get(0, cookies=cookies)], Recorder())
    (forwarded,) = seen
    assert forwarded.cookies == (("session", "s-alice"),)  # only the cookie in the key


def test_does_a_key_on_the_viewers_protocol_keep_http_and_https_answers_apart():
    """CloudFront-Forwarded-Proto in the cache key: the same request over HTTP and over
    HTTPS are two objects, even though the request itself carries nothing different."""
    policy = cache_policy()
    policy["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"] = {
        "HeaderBehavior": "whitelist",
        "Headers": {"Quantity": 1, "Items": ["CloudFront-Forwarded-Proto"]},
    }
    requests = [get(0, protocol="https"), get(1, protocol="http"), get(2, protocol="https")]
    report = simulate(
        distribution(default_vpp="allow-all"), Policies(static=policy), requests, ORIGIN
    )
    assert (report.total.misses, report.total.hits) == (2, 1)
