"""Cache and origin request policies: AWS's managed table, the learner's own file with
CloudFront's rules, lookups by ID or name, and references from a distribution."""

from __future__ import annotations

import copy
import json

import pytest

from grader.aws.edge import (
    MANAGED_CACHE_POLICIES,
    MANAGED_ORIGIN_REQUEST_POLICIES,
    EdgeConfigError,
    PolicyStore,
    check_references,
    load_distribution,
    load_policies,
)

OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def _cache_config(name: str = "api-per-user", **overrides) -> dict:
    config = {
        "Name": name,
        "MinTTL": 0,
        "DefaultTTL": 0,
        "MaxTTL": 60,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": True,
            "EnableAcceptEncodingBrotli": True,
            "HeadersConfig": {
                "HeaderBehavior": "whitelist",
                "Headers": {"Quantity": 1, "Items": ["Authorization"]},
            },
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "all"},
        },
    }
    config.update(overrides)
    return config


def _orp_config(name: str = "forward-lang", headers=("Accept-Language",)) -> dict:
    return {
        "Name": name,
        "HeadersConfig": {
            "HeaderBehavior": "whitelist",
            "Headers": {"Quantity": len(headers), "Items": list(headers)},
        },
        "CookiesConfig": {
            "CookieBehavior": "whitelist",
            "Cookies": {"Quantity": 1, "Items": ["s"]},
        },
        "QueryStringsConfig": {"QueryStringBehavior": "none"},
    }


def _file(cache=(), orp=()) -> dict:
    return {"CachePolicies": list(cache), "OriginRequestPolicies": list(orp)}


def _error(document) -> EdgeConfigError:
    with pytest.raises(EdgeConfigError) as info:
        load_policies(document)
    return info.value


# --- the managed table ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "ttls"),
    [
        ("CachingOptimized", (1, 86400, 31536000)),
        ("Managed-CachingOptimized", (1, 86400, 31536000)),
        (DISABLED, (0, 0, 0)),
        ("CachingOptimizedForUncompressedObjects", (1, 86400, 31536000)),
        ("Amplify", (2, 2, 600)),
        ("Elemental-MediaPackage", (0, 86400, 31536000)),
        ("UseOriginCacheControlHeaders", (0, 0, 31536000)),
        ("UseOriginCacheControlHeaders-QueryStrings", (0, 0, 31536000)),
    ],
)
def test_is_each_managed_cache_policy_found_by_id_or_name_with_its_ttls(key, ttls):
    policy = PolicyStore().cache_policy(key)
    assert (policy["MinTTL"], policy["DefaultTTL"], policy["MaxTTL"]) == ttls


def test_does_caching_optimized_keep_only_accept_encoding_in_the_key():
    params = PolicyStore().cache_policy(OPTIMIZED)["ParametersInCacheKeyAndForwardedToOrigin"]
    assert params["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert params["CookiesConfig"]["CookieBehavior"] == "none"
    assert params["QueryStringsConfig"]["QueryStringBehavior"] == "none"
    assert params["EnableAcceptEncodingGzip"] and params["EnableAcceptEncodingBrotli"]


def test_does_the_uncompressed_variant_turn_compression_off():
    params = PolicyStore().cache_policy("CachingOptimizedForUncompressedObjects")[
        "ParametersInCacheKeyAndForwardedToOrigin"
    ]
    assert not params["EnableAcceptEncodingGzip"] and not params["EnableAcceptEncodingBrotli"]


def test_does_the_query_strings_variant_differ_only_in_query_strings():
    store = PolicyStore()
    plain = store.cache_policy("UseOriginCacheControlHeaders")
    with_qs = store.cache_policy("UseOriginCacheControlHeaders-QueryStrings")
    key = "ParametersInCacheKeyAndForwardedToOrigin"
    assert plain[key]["QueryStringsConfig"]["QueryStringBehavior"] == "none"
    assert with_qs[key]["QueryStringsConfig"]["QueryStringBehavior"] == "all"
    assert plain[key]["HeadersConfig"] == with_qs[key]["HeadersConfig"]


@pytest.mark.parametrize(
    ("name", "behavior", "headers"),
    [
        ("AllViewer", "allViewer", None),
        ("AllViewerExceptHostHeader", "allExcept", ["Host"]),
        ("CORS-S3Origin", "whitelist", None),
        ("CORS-CustomOrigin", "whitelist", ["Origin"]),
        ("UserAgentRefererHeaders", "whitelist", ["User-Agent", "Referer"]),
        ("HostHeaderOnly", "whitelist", ["Host"]),
        ("AllViewerAndCloudFrontHeaders-2022-06", "allViewerAndWhitelistCloudFront", None),
        ("Elemental-MediaTailor-PersonalizedManifests", "whitelist", None),
    ],
)
def test_is_each_managed_origin_request_policy_found_with_its_headers(name, behavior, headers):
    policy = PolicyStore().origin_request_policy(name)
    assert policy["HeadersConfig"]["HeaderBehavior"] == behavior
    if headers is not None:
        assert policy["HeadersConfig"]["Headers"]["Items"] == headers


def test_does_every_managed_policy_pass_the_apis_own_checks():
    # The table is built by hand: a typo in a key or a Quantity would show here.
    load_policies(
        _file(
            [
                {"Id": f"copy-{k}", **{**v, "Name": f"copy-{k}"}}
                for k, v in MANAGED_CACHE_POLICIES.items()
            ],
            [
                {"Id": f"copy-{k}", **{**v, "Name": f"copy-{k}"}}
                for k, v in MANAGED_ORIGIN_REQUEST_POLICIES.items()
            ],
        )
    )


def test_does_a_lookup_return_a_copy_the_caller_cannot_corrupt():
    store = PolicyStore()
    store.cache_policy(OPTIMIZED)["MaxTTL"] = 5
    key = "ParametersInCacheKeyAndForwardedToOrigin"
    store.cache_policy(OPTIMIZED)[key]["HeadersConfig"]["HeaderBehavior"] = "whitelist"
    assert store.cache_policy(OPTIMIZED)["MaxTTL"] == 31536000
    assert store.cache_policy(OPTIMIZED)[key]["HeadersConfig"]["HeaderBehavior"] == "none"


# --- the learner's file -----------------------------------------------------------------------


def test_do_both_accepted_shapes_load_and_resolve_by_id_and_name():
    store = load_policies(
        _file(
            cache=[{"Id": "api", "CachePolicyConfig": _cache_config()}],
            orp=[
                {
                    "OriginRequestPolicy": {
                        "Id": "lang",
                        "LastModifiedTime": "2026-01-01T00:00:00Z",
                        "OriginRequestPolicyConfig": _orp_config(),
                    },
                    "ETag": "E1",
                }
            ],
        )
    )
    assert store.cache_policy("api")["Name"] == "api-per-user"
    assert store.cache_policy("api-per-user")["MaxTTL"] == 60
    assert store.origin_request_policy("lang")["Name"] == "forward-lang"


def test_does_a_bare_config_with_an_id_beside_it_load(tmp_path):
    path = tmp_path / "policies.json"
    path.write_text(json.dumps(_file(cache=[{"Id": "api", **_cache_config()}])))
    assert load_policies(path).cache_policy("api")["DefaultTTL"] == 0


def test_is_a_policy_without_an_id_refused():
    error = _error(_file(cache=[{"CachePolicyConfig": _cache_config()}]))
    assert error.json_path == "CachePolicies[0].Id"


def test_is_a_shape_error_refused_with_its_path():
    config = _cache_config()
    del config["ParametersInCacheKeyAndForwardedToOrigin"]["CookiesConfig"]
    error = _error(_file(cache=[{"Id": "api", "CachePolicyConfig": config}]))
    assert error.json_path == (
        "CachePolicies[0].CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin.CookiesConfig"
    )


def test_is_a_header_behavior_a_cache_policy_cannot_have_refused():
    config = _cache_config()
    params = config["ParametersInCacheKeyAndForwardedToOrigin"]
    params["HeadersConfig"] = {"HeaderBehavior": "allViewer"}
    error = _error(_file(cache=[{"Id": "api", **config}]))
    assert error.json_path.endswith("HeadersConfig.HeaderBehavior")


@pytest.mark.parametrize(
    ("ttls", "field"),
    [({"MinTTL": 10, "DefaultTTL": 5}, "MinTTL"), ({"DefaultTTL": 100, "MaxTTL": 50}, "MaxTTL")],
)
def test_are_cache_policy_ttls_out_of_order_refused(ttls, field):
    error = _error(_file(cache=[{"Id": "api", **_cache_config(**ttls)}]))
    assert error.json_path == f"CachePolicies[0].{field}"


def test_does_a_default_ttl_left_out_take_a_day_and_clash_with_a_small_max():
    config = _cache_config()
    del config["DefaultTTL"]
    error = _error(_file(cache=[{"Id": "api", **config}]))
    assert "86400" in error.message


def test_is_a_whitelist_with_no_names_refused():
    config = _cache_config()
    config["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"] = {
        "HeaderBehavior": "whitelist",
        "Headers": {"Quantity": 0},
    }
    error = _error(_file(cache=[{"Id": "api", **config}]))
    assert error.json_path.endswith("HeadersConfig.Headers")


def test_are_names_under_a_behavior_that_takes_none_refused():
    config = _cache_config()
    config["ParametersInCacheKeyAndForwardedToOrigin"]["CookiesConfig"] = {
        "CookieBehavior": "all",
        "Cookies": {"Quantity": 1, "Items": ["session"]},
    }
    error = _error(_file(cache=[{"Id": "api", **config}]))
    assert error.json_path.endswith("CookiesConfig.Cookies.Items")


def test_is_a_policy_quantity_that_disagrees_refused():
    config = _cache_config()
    config["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]["Headers"]["Quantity"] = 2
    error = _error(_file(cache=[{"Id": "api", **config}]))
    assert error.code == "InconsistentQuantities"
    assert error.json_path.endswith("HeadersConfig.Headers.Quantity")


@pytest.mark.parametrize("spelling", ["Authorization", "authorization"])
def test_is_authorization_in_an_origin_request_policy_refused(spelling):
    config = _orp_config(headers=("Accept-Language", spelling))
    error = _error(_file(orp=[{"Id": "fwd", "OriginRequestPolicyConfig": config}]))
    assert error.json_path == (
        "OriginRequestPolicies[0].OriginRequestPolicyConfig.HeadersConfig.Headers.Items[1]"
    )
    assert "cache key" in error.message


def test_is_compression_on_a_policy_with_caching_disabled_refused():
    config = _cache_config(MaxTTL=0)
    error = _error(_file(cache=[{"Id": "off", **config}]))
    assert error.message == (
        "The parameter EnableAcceptEncodingGzip is invalid for policy with caching disabled."
    )
    assert error.json_path.endswith(
        "ParametersInCacheKeyAndForwardedToOrigin.EnableAcceptEncodingGzip"
    )


def test_is_accept_encoding_listed_beside_compression_support_refused():
    config = _cache_config()
    headers = config["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]["Headers"]
    headers.update(Quantity=2, Items=["Authorization", "Accept-Encoding"])
    error = _error(_file(cache=[{"Id": "api", **config}]))
    assert error.json_path.endswith("HeadersConfig.Headers.Items[1]")
    params = config["ParametersInCacheKeyAndForwardedToOrigin"]
    params["EnableAcceptEncodingGzip"] = params["EnableAcceptEncodingBrotli"] = False
    load_policies(_file(cache=[{"Id": "api", **config}]))  # without compression it is a header


def test_may_authorization_be_in_a_cache_policys_key():
    load_policies(_file(cache=[{"Id": "api", **_cache_config()}]))


def test_are_two_policies_with_one_id_or_name_refused():
    twice = [{"Id": "api", **_cache_config("a")}, {"Id": "api", **_cache_config("b")}]
    assert _error(_file(cache=twice)).json_path == "CachePolicies[1].Id"
    names = [{"Id": "a", **_cache_config("x")}, {"Id": "b", **_cache_config("x")}]
    assert _error(_file(cache=names)).json_path == "CachePolicies[1].Name"


def test_is_an_unknown_policy_an_error_that_names_the_behavior_and_the_id():
    with pytest.raises(EdgeConfigError) as info:
        PolicyStore().cache_policy("no-such-id", behavior="the behavior for '/api/*'")
    assert "'/api/*'" in str(info.value) and "'no-such-id'" in str(info.value)
    assert info.value.code == "NoSuchCachePolicy"
    with pytest.raises(KeyError):  # KeyError-like for callers that catch that
        PolicyStore().origin_request_policy("nope")


# --- references from a distribution -----------------------------------------------------------


def _distribution(cache_policy: str, orp: str | None = None):
    behavior = {
        "PathPattern": "/api/*",
        "TargetOriginId": "o",
        "ViewerProtocolPolicy": "https-only",
        "CachePolicyId": cache_policy,
        **({"OriginRequestPolicyId": orp} if orp else {}),
    }
    config = {
        "CallerReference": "r",
        "Comment": "",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "api.example.com"}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "o",
            "ViewerProtocolPolicy": "https-only",
            "CachePolicyId": OPTIMIZED,
        },
        "CacheBehaviors": {"Quantity": 1, "Items": [behavior]},
    }
    return load_distribution(copy.deepcopy(config))[0]


def test_are_managed_and_own_policies_both_good_references():
    store = load_policies(_file(cache=[{"Id": "api", **_cache_config()}]))
    assert check_references(_distribution("api", "AllViewerExceptHostHeader"), store) == []


def test_is_a_policy_that_exists_nowhere_a_problem_with_its_path():
    store = load_policies(_file(cache=[{"Id": "api", **_cache_config()}]))
    problems = check_references(_distribution("apii", "not-a-policy"), store)
    assert len(problems) == 2
    assert problems[0].startswith("CacheBehaviors.Items[0].CachePolicyId:")
    assert "'apii'" in problems[0]
    assert problems[1].startswith("CacheBehaviors.Items[0].OriginRequestPolicyId:")


def test_does_a_rule_broken_in_a_policies_file_name_the_file(tmp_path):
    path = tmp_path / "policies.json"
    config = _orp_config(headers=("Authorization",))
    path.write_text(json.dumps(_file(orp=[{"Id": "fwd", **config}])))
    with pytest.raises(EdgeConfigError) as info:
        load_policies(path)
    assert info.value.file == str(path)
    assert info.value.json_path == "OriginRequestPolicies[0].HeadersConfig.Headers.Items[0]"
