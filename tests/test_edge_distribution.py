"""The CloudFront distribution model: loading every API shape, CloudFront's rules with their
JSON paths, and which cache behavior serves a path."""

from __future__ import annotations

import copy
import json
import time

import pytest

from grader.aws.edge import EdgeConfigError, load_distribution, path_matches
from grader.aws.errors import GraderError

OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
FUNCTION_ARN = "arn:aws:cloudfront::123456789012:function/rewrite"


def _behavior(pattern: str, origin: str = "site", **extra) -> dict:
    return {
        "PathPattern": pattern,
        "TargetOriginId": origin,
        "ViewerProtocolPolicy": "redirect-to-https",
        "CachePolicyId": OPTIMIZED,
        **extra,
    }


def _config(*behaviors: dict) -> dict:
    """A create_distribution-shaped config: an S3 origin with OAC and an API origin."""
    return {
        "CallerReference": "lab1",
        "Comment": "lab1",
        "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": ["shop.example.com"]},
        "Origins": {
            "Quantity": 2,
            "Items": [
                {
                    "Id": "site",
                    "DomainName": "shop-site.s3.ap-northeast-1.amazonaws.com",
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                    "OriginAccessControlId": "E2OACEXAMPLE",
                },
                {
                    "Id": "api",
                    "DomainName": "api.example.com",
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                    },
                },
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "site",
            "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": OPTIMIZED,
            "Compress": True,
        },
        "CacheBehaviors": {"Quantity": len(behaviors), "Items": list(behaviors)},
    }


def _error(document) -> EdgeConfigError:
    with pytest.raises(EdgeConfigError) as info:
        load_distribution(document)
    return info.value


# A real `aws cloudfront get-distribution-config` answer, as the CLI prints it.
EXPORT = {
    "ETag": "E2QWRUHEXAMPLE",
    "DistributionConfig": {
        "CallerReference": "cli-1700000000-123456",
        "Aliases": {"Quantity": 0},
        "DefaultRootObject": "index.html",
        "Origins": {
            "Quantity": 2,
            "Items": [
                {
                    "Id": "shop-site.s3.ap-northeast-1.amazonaws.com",
                    "DomainName": "shop-site.s3.ap-northeast-1.amazonaws.com",
                    "OriginPath": "",
                    "CustomHeaders": {"Quantity": 0},
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                    "ConnectionAttempts": 3,
                    "ConnectionTimeout": 10,
                    "OriginShield": {"Enabled": False},
                    "OriginAccessControlId": "E3OACEXAMPLE",
                },
                {
                    "Id": "api",
                    "DomainName": "api.example.com",
                    "OriginPath": "",
                    "CustomHeaders": {"Quantity": 0},
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                        "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
                        "OriginReadTimeout": 30,
                        "OriginKeepaliveTimeout": 5,
                    },
                    "ConnectionAttempts": 3,
                    "ConnectionTimeout": 10,
                    "OriginShield": {"Enabled": False},
                    "OriginAccessControlId": "",
                },
            ],
        },
        "OriginGroups": {"Quantity": 0},
        "DefaultCacheBehavior": {
            "TargetOriginId": "shop-site.s3.ap-northeast-1.amazonaws.com",
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
            "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
            "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": {
                "Quantity": 2,
                "Items": ["HEAD", "GET"],
                "CachedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]},
            },
            "SmoothStreaming": False,
            "Compress": True,
            "LambdaFunctionAssociations": {"Quantity": 0},
            "FunctionAssociations": {
                "Quantity": 1,
                "Items": [{"FunctionARN": FUNCTION_ARN, "EventType": "viewer-request"}],
            },
            "FieldLevelEncryptionId": "",
            "CachePolicyId": OPTIMIZED,
        },
        "CacheBehaviors": {
            "Quantity": 1,
            "Items": [
                {
                    "PathPattern": "/api/*",
                    "TargetOriginId": "api",
                    "TrustedSigners": {"Enabled": False, "Quantity": 0},
                    "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
                    "ViewerProtocolPolicy": "https-only",
                    "AllowedMethods": {
                        "Quantity": 7,
                        "Items": ["HEAD", "DELETE", "POST", "GET", "OPTIONS", "PUT", "PATCH"],
                        "CachedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]},
                    },
                    "SmoothStreaming": False,
                    "Compress": False,
                    "LambdaFunctionAssociations": {"Quantity": 0},
                    "FunctionAssociations": {"Quantity": 0},
                    "FieldLevelEncryptionId": "",
                    "CachePolicyId": DISABLED,
                    "OriginRequestPolicyId": ALL_VIEWER,
                }
            ],
        },
        "CustomErrorResponses": {"Quantity": 0},
        "Comment": "",
        "Logging": {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
        "PriceClass": "PriceClass_200",
        "Enabled": True,
        "ViewerCertificate": {
            "CloudFrontDefaultCertificate": True,
            "SSLSupportMethod": "vip",
            "MinimumProtocolVersion": "TLSv1",
            "CertificateSource": "cloudfront",
        },
        "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        "WebACLId": "",
        "HttpVersion": "http2",
        "IsIPV6Enabled": True,
        "ContinuousDeploymentPolicyId": "",
        "Staging": False,
    },
}


# --- shapes -----------------------------------------------------------------------------------


def test_does_a_get_distribution_config_export_load_unchanged():
    distribution, warnings = load_distribution(copy.deepcopy(EXPORT))
    assert warnings == ()
    assert distribution.web_acl_id is None  # "" in an export means none
    assert distribution.aliases == ()
    assert distribution.default_root_object == "index.html"
    api = distribution.origins["api"]
    assert (api.kind, api.protocol_policy, api.origin_access_control_id) == (
        "custom",
        "https-only",
        None,
    )
    site = distribution.origins["shop-site.s3.ap-northeast-1.amazonaws.com"]
    assert (site.kind, site.origin_access_control_id) == ("s3", "E3OACEXAMPLE")
    (behavior,) = distribution.behaviors
    assert behavior.origin_request_policy_id == ALL_VIEWER
    assert set(behavior.allowed_methods) >= {"POST", "DELETE"}
    assert distribution.default_behavior.function_associations == (
        ("viewer-request", FUNCTION_ARN),
    )


def test_does_a_get_distribution_answer_load_from_its_file(tmp_path):
    answer = {
        "Distribution": {
            "Id": "E1EXAMPLE",
            "ARN": "arn:aws:cloudfront::123456789012:distribution/E1EXAMPLE",
            "Status": "Deployed",
            "DomainName": "d111111abcdef8.cloudfront.net",
            "DistributionConfig": EXPORT["DistributionConfig"],
        },
        "ETag": "E2QWRUHEXAMPLE",
    }
    path = tmp_path / "distribution.json"
    path.write_text(json.dumps(answer))
    distribution, _ = load_distribution(path)
    assert distribution.match("/api/orders").target_origin_id == "api"


@pytest.mark.parametrize("wrap", [lambda c: c, lambda c: {"DistributionConfig": c}])
def test_do_the_bare_config_and_the_create_request_both_load(wrap):
    distribution, _ = load_distribution(wrap(_config(_behavior("/img/*"))))
    assert distribution.match("/img/a.png").path_pattern == "/img/*"


def test_is_a_missing_required_field_refused_with_its_path():
    config = _config()
    del config["DefaultCacheBehavior"]["ViewerProtocolPolicy"]
    error = _error({"DistributionConfig": config})
    assert error.json_path == "DistributionConfig.DefaultCacheBehavior.ViewerProtocolPolicy"
    assert "Missing required parameter" in error.message
    assert isinstance(error, GraderError)


def test_is_an_unknown_field_refused_with_its_path():
    config = _config(_behavior("/a/*", TTL=5))
    error = _error(config)
    assert error.json_path == "CacheBehaviors.Items[0].TTL"
    assert "Unknown parameter" in error.message


def test_is_a_wrong_type_refused_with_its_path():
    config = _config()
    config["DefaultCacheBehavior"]["Compress"] = "yes"
    assert _error(config).json_path == "DefaultCacheBehavior.Compress"


def test_is_a_value_outside_the_enum_refused():
    config = _config()
    config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] = "https"
    error = _error(config)
    assert error.json_path == "DefaultCacheBehavior.ViewerProtocolPolicy"
    assert "redirect-to-https" in error.message


def test_does_a_file_error_carry_the_file_name(tmp_path):
    config = _config()
    config["DefaultCacheBehavior"]["TargetOriginId"] = "nowhere"
    path = tmp_path / "d.json"
    path.write_text(json.dumps(config))
    with pytest.raises(EdgeConfigError) as info:
        load_distribution(path)
    assert info.value.file == str(path)
    assert str(info.value).startswith(str(path))


# --- CloudFront's rules -----------------------------------------------------------------------


def test_is_a_behavior_aimed_at_no_origin_refused_as_no_such_origin():
    error = _error({"DistributionConfig": _config(_behavior("/api/*", origin="apii"))})
    assert error.code == "NoSuchOrigin"
    assert error.json_path == "DistributionConfig.CacheBehaviors.Items[0].TargetOriginId"
    assert "'apii'" in error.message


def test_may_a_behavior_target_an_origin_group():
    config = _config(_behavior("/g/*", origin="failover"))
    config["OriginGroups"] = {
        "Quantity": 1,
        "Items": [
            {
                "Id": "failover",
                "FailoverCriteria": {"StatusCodes": {"Quantity": 1, "Items": [503]}},
                "Members": {
                    "Quantity": 2,
                    "Items": [{"OriginId": "api"}, {"OriginId": "site"}],
                },
            }
        ],
    }
    distribution, _ = load_distribution(config)
    assert distribution.origin_groups == {"failover": ("api", "site")}


def test_is_the_first_disagreeing_quantity_in_the_document_the_one_reported():
    config = _config(_behavior("/a/*"))
    config["Aliases"]["Quantity"] = 5
    config["CacheBehaviors"]["Quantity"] = 7
    assert _error(config).json_path == "Aliases.Quantity"


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda c: c["Origins"].update(Quantity=3), "Origins.Quantity"),
        (lambda c: c["CacheBehaviors"].update(Quantity=0), "CacheBehaviors.Quantity"),
        (lambda c: c["Aliases"].update(Quantity=2), "Aliases.Quantity"),
    ],
)
def test_is_a_quantity_that_disagrees_with_its_items_refused(mutate, path):
    config = _config(_behavior("/a/*"))
    mutate(config)
    error = _error(config)
    assert (error.code, error.json_path) == ("InconsistentQuantities", path)


@pytest.mark.parametrize(
    "pattern",
    ["/images/[a-z]*", "/api/ *", "/a#b", "/a%20b", "/" + "a" * 255, "/q=1"],
)
def test_is_a_bad_path_pattern_refused(pattern):
    error = _error(_config(_behavior(pattern)))
    assert error.code == "InvalidArgument"
    assert error.json_path == "CacheBehaviors.Items[0].PathPattern"


@pytest.mark.parametrize(
    "pattern", ["*.jpg", "/images/*", "a??.jpg", "/~user/$x@y:z+1-2_3.'\"", "a" * 254]
)
def test_are_allowed_path_patterns_accepted(pattern):
    load_distribution(_config(_behavior(pattern)))


def test_are_two_behaviors_with_one_pattern_refused_even_without_the_slash():
    error = _error(_config(_behavior("/api/*"), _behavior("api/*")))
    assert error.json_path == "CacheBehaviors.Items[1].PathPattern"
    assert "CacheBehaviors.Items[0].PathPattern" in error.message


def test_is_an_s3_origin_without_oac_a_warning_naming_oai_as_legacy():
    config = _config()
    del config["Origins"]["Items"][0]["OriginAccessControlId"]
    config["Origins"]["Items"][0]["S3OriginConfig"]["OriginAccessIdentity"] = (
        "origin-access-identity/cloudfront/E1OAI"
    )
    distribution, warnings = load_distribution(config)
    (warning,) = warnings
    assert warning.startswith("Origins.Items[0]:")
    assert "legacy" in warning and "OriginAccessControlId" in warning
    assert distribution.origins["site"].origin_access_identity.endswith("E1OAI")


def test_is_an_s3_domain_without_s3_origin_config_still_an_s3_origin():
    config = _config()
    origin = config["Origins"]["Items"][0]
    del origin["S3OriginConfig"], origin["OriginAccessControlId"]
    origin["DomainName"] = "shop-site.s3.amazonaws.com"
    distribution, warnings = load_distribution(config)
    assert distribution.origins["site"].kind == "s3"
    assert len(warnings) == 1


def test_is_an_s3_website_endpoint_a_custom_origin_with_no_warning():
    config = _config()
    config["Origins"]["Items"][0] = {
        "Id": "site",
        "DomainName": "shop-site.s3-website-ap-northeast-1.amazonaws.com",
        "CustomOriginConfig": {
            "HTTPPort": 80,
            "HTTPSPort": 443,
            "OriginProtocolPolicy": "http-only",
        },
    }
    distribution, warnings = load_distribution(config)
    assert distribution.origins["site"].kind == "custom" and warnings == ()


def test_is_an_origin_with_both_oac_and_oai_refused():
    config = _config()
    config["Origins"]["Items"][0]["S3OriginConfig"]["OriginAccessIdentity"] = (
        "origin-access-identity/cloudfront/E1OAI"
    )
    error = _error(config)
    assert (error.code, error.json_path) == ("IllegalOriginAccessConfiguration", "Origins.Items[0]")


def test_are_forwarded_values_and_a_cache_policy_together_refused():
    legacy = {"QueryString": False, "Cookies": {"Forward": "none"}}
    error = _error(_config(_behavior("/a/*", ForwardedValues=legacy)))
    assert error.json_path == "CacheBehaviors.Items[0].ForwardedValues"
    assert "cache policy" in error.message


def test_are_legacy_ttls_and_a_cache_policy_together_refused():
    error = _error(_config(_behavior("/a/*", MaxTTL=60)))
    assert error.json_path == "CacheBehaviors.Items[0].MaxTTL"


def test_is_a_behavior_with_neither_cache_policy_nor_forwarded_values_refused():
    config = _config()
    del config["DefaultCacheBehavior"]["CachePolicyId"]
    assert _error(config).json_path == "DefaultCacheBehavior.CachePolicyId"


def test_is_an_origin_request_policy_without_a_cache_policy_refused():
    config = _config()
    behavior = config["DefaultCacheBehavior"]
    del behavior["CachePolicyId"]
    behavior["ForwardedValues"] = {"QueryString": False, "Cookies": {"Forward": "none"}}
    behavior["OriginRequestPolicyId"] = ALL_VIEWER
    assert _error(config).json_path == "DefaultCacheBehavior.OriginRequestPolicyId"


def _legacy(**ttls) -> dict:
    config = _config()
    behavior = config["DefaultCacheBehavior"]
    del behavior["CachePolicyId"]
    behavior["ForwardedValues"] = {"QueryString": True, "Cookies": {"Forward": "none"}}
    behavior.update(ttls)
    return config


@pytest.mark.parametrize(
    ("ttls", "path"),
    [
        ({"MinTTL": 100, "DefaultTTL": 50, "MaxTTL": 200}, "DefaultCacheBehavior.MinTTL"),
        ({"MinTTL": 0, "DefaultTTL": 500, "MaxTTL": 200}, "DefaultCacheBehavior.MaxTTL"),
        ({"MinTTL": 0, "MaxTTL": 60}, "DefaultCacheBehavior.MaxTTL"),  # DefaultTTL 86400
    ],
)
def test_are_legacy_ttls_out_of_order_refused(ttls, path):
    error = _error(_legacy(**ttls))
    assert (error.code, error.json_path) == ("InvalidTTLOrder", path)


def test_do_legacy_ttls_take_cloudfronts_defaults():
    distribution, _ = load_distribution(_legacy(MinTTL=0))
    behavior = distribution.default_behavior
    assert (behavior.min_ttl, behavior.default_ttl, behavior.max_ttl) == (0, 86400, 31536000)
    assert behavior.forwarded_values["QueryString"] is True
    # A MinTTL above a day raises the default DefaultTTL with it.
    raised = load_distribution(_legacy(MinTTL=100000))[0].default_behavior
    assert raised.default_ttl == 100000


def test_are_allowed_methods_outside_cloudfronts_three_sets_refused():
    methods = {"Quantity": 3, "Items": ["GET", "HEAD", "POST"]}
    error = _error(_config(_behavior("/a/*", AllowedMethods=methods)))
    assert error.json_path == "CacheBehaviors.Items[0].AllowedMethods.Items"


# --- matching ---------------------------------------------------------------------------------


def _distribution(*patterns: str):
    return load_distribution(_config(*(_behavior(p, origin="api") for p in patterns)))[0]


def test_does_the_first_matching_pattern_win_over_a_later_one():
    distribution = _distribution("images/*.jpg", "images/*", "*.gif")
    assert distribution.match("/images/sample.gif").path_pattern == "images/*"
    assert distribution.match("/images/a/b.jpg").path_pattern == "images/*.jpg"
    assert distribution.match("/logo.gif").path_pattern == "*.gif"


def test_does_reordering_the_same_patterns_change_the_answer():
    distribution = _distribution("images/*", "images/*.jpg")
    assert distribution.match("/images/a.jpg").path_pattern == "images/*"


def test_does_a_path_no_pattern_matches_fall_to_the_default():
    distribution = _distribution("/api/*")
    assert distribution.match("/index.html") is distribution.default_behavior
    assert distribution.match("/apiary").path_pattern is None
    assert distribution.default_behavior.path_pattern is None


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/api/*", "/api/v1/users", True),  # * crosses /
        ("/api/*", "/api/", True),  # * matches nothing
        ("/api/*", "/api", False),
        ("api/*", "/api/x", True),  # the leading / is optional
        ("*.jpg", "/a/b/c.jpg", True),
        ("*.jpg", "/LOGO.JPG", False),  # case-sensitive
        ("/Images/*", "/images/a", False),
        ("a??.jpg", "/ant.jpg", True),
        ("a??.jpg", "/an.jpg", False),  # ? is exactly one character
        ("a??.jpg", "/antt.jpg", False),
        ("/a?c", "/a/c", True),  # ? matches / too
        ("*.doc*", "/x.docx", True),
        ("*.doc?", "/x.doc", False),
        ("/about", "/about", True),  # no wildcard: that one path
        ("/about", "/about/team", False),
        ("/about", "/aboutx", False),
        ("*", "/anything/at/all", True),
        ("/a*b*c", "/abxbc", True),
        ("/a*b*c", "/acb", False),
        ("/api/*", "/api/x?y=1", True),  # query strings play no part
    ],
)
def test_does_a_pattern_match_a_path_as_cloudfront_does(pattern, path, matches):
    assert path_matches(pattern, path) is matches


def test_does_explain_match_name_the_first_match_and_why():
    distribution = _distribution("/static/*", "*.css")
    text = distribution.explain_match("/theme.css")
    assert "cache behavior 2" in text and "'*.css'" in text and "first" in text
    assert "behavior 1 did not match" in text
    third = _distribution("/a/*", "/b/*", "*.css").explain_match("/x.css")
    assert "cache behavior 3" in third and "behaviors 1-2 did not match" in third


def test_does_explain_match_say_when_the_default_serves():
    text = _distribution("/static/*").explain_match("/index.html")
    assert "default cache behavior" in text and "none of the 1" in text


def _best_ns(pattern: str, path: str) -> int:
    best = None
    for _ in range(5):
        start = time.perf_counter_ns()
        path_matches(pattern, path)
        elapsed = time.perf_counter_ns() - start
        best = elapsed if best is None else min(best, elapsed)
    return max(best, 1)


def test_does_a_hostile_pattern_cost_about_what_a_plain_one_does():
    # "*a*a*...*b*" against "aaaa...": a backtracking matcher tries every split of the a's.
    hostile = "/" + "*a" * 120 + "*b*"
    plain = "/*b*"
    path = "/" + "a" * 1_000_000
    assert not path_matches(hostile, path)
    ratio = _best_ns(hostile, path) / _best_ns(plain, path)
    assert ratio < 10, f"the hostile pattern took {ratio:.1f}x the plain one"


def test_does_a_hostile_pattern_of_question_marks_cost_about_what_a_plain_one_does():
    hostile = "/*" + "a?" * 100 + "b*"
    plain = "/*b*"
    path = "/" + "a" * 200_000
    assert not path_matches(hostile, path)
    ratio = _best_ns(hostile, path) / _best_ns(plain, path)
    assert ratio < 20, f"the hostile pattern took {ratio:.1f}x the plain one"


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/*x?z*", "/axyzb", True),
        ("/*x?z*", "/axzzb", True),
        ("/*x?z*", "/axz", False),
        ("/*a?c?e*", "/zzabcdezz", True),
        ("/*a?c?e*", "/zzabcdzz", False),
        ("/*?b", "/ab", True),
        ("/*??*", "/ab", True),
        ("/*??*", "/a", False),  # the pattern's own "/" takes the path's
        ("/?*", "/", False),
    ],
)
def test_do_question_marks_between_stars_match_where_they_should(pattern, path, matches):
    assert path_matches(pattern, path) is matches
