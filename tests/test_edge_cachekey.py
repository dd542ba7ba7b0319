"""CloudFront cache keys and origin requests: which requests share a cached object, and what
the origin receives on a miss. Each test names the CloudFront Developer Guide rule it holds."""

from __future__ import annotations

import pytest

from grader.aws.edge.cachekey import (
    cache_key,
    cache_policy_from_legacy,
    forwarded_to_origin,
    normalized_accept_encoding,
    policies_from_legacy,
    query_params,
)
from grader.aws.edge.request import EdgeRequest

HOST = ("Host", "d111111abcdef8.cloudfront.net")


def names(items):
    items = list(items)
    return {"Quantity": len(items), "Items": items} if items else {"Quantity": 0}


def policy(headers=(), cookies=("none", ()), query=("none", ()), gzip=False, br=False):
    """A CachePolicyConfig as create_cache_policy takes it."""
    params = {
        "EnableAcceptEncodingGzip": gzip,
        "EnableAcceptEncodingBrotli": br,
        "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": names(headers)}
        if headers
        else {"HeaderBehavior": "none"},
        "CookiesConfig": {"CookieBehavior": cookies[0], "Cookies": names(cookies[1])},
        "QueryStringsConfig": {
            "QueryStringBehavior": query[0],
            "QueryStrings": names(query[1]),
        },
    }
    return {
        "Name": "p",
        "MinTTL": 1,
        "DefaultTTL": 86400,
        "MaxTTL": 31536000,
        "ParametersInCacheKeyAndForwardedToOrigin": params,
    }


def orp(headers=("none", ()), cookies=("none", ()), query=("none", ())):
    """An OriginRequestPolicyConfig as create_origin_request_policy takes it."""
    return {
        "Name": "o",
        "HeadersConfig": {"HeaderBehavior": headers[0], "Headers": names(headers[1])},
        "CookiesConfig": {"CookieBehavior": cookies[0], "Cookies": names(cookies[1])},
        "QueryStringsConfig": {"QueryStringBehavior": query[0], "QueryStrings": names(query[1])},
    }


def req(path="/content/story.html", *, headers=(), **kw):
    return EdgeRequest(time_ms=0, path=path, headers=(HOST, *headers), **kw)


def same_key(a, b, pol):
    return cache_key(a, pol) == cache_key(b, pol)


# --- the default cache key (understanding-the-cache-key) -------------------------------------


def test_does_the_default_key_ignore_query_cookies_and_headers():
    """The doc's example: two browsers, other query string, User-Agent, Referer and session
    cookie, same domain and path: a cache hit."""
    first = req(
        query="ref=0123abc&split-pages=false",
        headers=(("User-Agent", "Firefox/68.0"), ("Referer", "https://news.example.com/")),
        cookies=(("session_id", "01234abcd"),),
    )
    second = req(
        query="ref=xyz987&split-pages=true",
        headers=(("User-Agent", "Chrome/83.0"), ("Referer", "https://rss.example.net/")),
        cookies=(("session_id", "wxyz9876"),),
    )
    assert same_key(first, second, policy())


def test_is_the_path_case_sensitive():
    assert not same_key(req("/Index.html"), req("/index.html"), policy())


def test_does_the_domain_name_split_the_cache():
    other = EdgeRequest(time_ms=0, path="/content/story.html", headers=(("Host", "other.example"),))
    assert not same_key(req(), other, policy())
    assert cache_key(req(), policy(), domain="a.example") == cache_key(
        other, policy(), domain="A.example"
    )


def test_are_options_responses_cached_apart_from_get_while_head_shares_get():
    assert not same_key(req(method="OPTIONS"), req(method="GET"), policy())
    assert same_key(req(method="HEAD"), req(method="GET"), policy())


def test_does_the_protocol_stay_out_of_the_key():
    """Match Viewer: 'CloudFront caches the object only once' for HTTP and HTTPS."""
    assert same_key(req(protocol="http"), req(protocol="https"), policy())


# --- headers --------------------------------------------------------------------------------


def test_do_header_names_compare_case_insensitively():
    pol = policy(headers=["accept-language"])
    upper = req(headers=(("Accept-Language", "en-US"),))
    lower = req(headers=(("ACCEPT-LANGUAGE", "en-US"),))
    assert same_key(upper, lower, pol)


def test_does_a_listed_header_split_the_cache_by_its_whole_value():
    """'en-US,en' and 'en,en-US' are the same language but two objects (the doc's warning)."""
    pol = policy(headers=["Accept-Language"])
    a = req(headers=(("Accept-Language", "en-US,en"),))
    b = req(headers=(("Accept-Language", "en,en-US"),))
    assert not same_key(a, b, pol)


def test_does_an_unlisted_header_leave_the_key_alone():
    pol = policy(headers=["Accept-Language"])
    a = req(headers=(("Accept-Language", "en"), ("X-Debug", "1")))
    b = req(headers=(("Accept-Language", "en"), ("X-Debug", "2")))
    assert same_key(a, b, pol)


# --- query strings (QueryStringParameters) ---------------------------------------------------


def test_does_query_behavior_none_ignore_the_query():
    assert same_key(req(query="a=1"), req(query="a=2"), policy(query=("none", ())))


def test_does_query_behavior_all_make_order_matter():
    """'Always list parameters in the same order': color/size and size/color are two objects."""
    pol = policy(query=("all", ()))
    assert not same_key(req(query="color=red&size=large"), req(query="size=large&color=red"), pol)


@pytest.mark.parametrize("query", ["color=Red", "Color=red", "Color=Red"])
def test_are_query_names_and_values_case_sensitive(query):
    """'Always use the same case': four spellings, four cached objects."""
    pol = policy(query=("all", ()))
    assert not same_key(req(query="color=red"), req(query=query), pol)


def test_does_a_whitelist_key_only_on_its_names():
    pol = policy(query=("whitelist", ["color"]))
    assert same_key(req(query="color=red&size=L"), req(query="color=red&size=XL"), pol)
    assert not same_key(req(query="color=red"), req(query="color=blue"), pol)
    assert not same_key(req(query="color=red"), req(query="Color=red"), pol)


def test_does_all_except_key_on_everything_but_its_names():
    pol = policy(query=("allExcept", ["utm_source"]))
    assert same_key(req(query="id=1&utm_source=a"), req(query="id=1&utm_source=b"), pol)
    assert not same_key(req(query="id=1&utm_source=a"), req(query="id=2&utm_source=a"), pol)


def test_is_a_semicolon_part_of_the_value_not_a_separator():
    """Only & separates: '?color=red;size=large' has one parameter, color='red;size=large';
    '?size=large;color=red' has only 'size', so a color whitelist keys on nothing."""
    assert query_params("color=red;size=large") == [("color", "red;size=large")]
    pol = policy(query=("whitelist", ["color"]))
    assert not same_key(req(query="color=red;size=large"), req(query="color=red"), pol)
    assert same_key(req(query="size=large;color=red"), req(query=""), pol)


def test_are_repeated_parameters_kept():
    pol = policy(query=("all", ()))
    assert not same_key(req(query="tag=a&tag=b"), req(query="tag=a"), pol)


# --- cookies (Cookies) --------------------------------------------------------------------------


def test_does_cookie_order_not_split_the_cache():
    """CloudFront sorts cookies by name before forwarding."""
    pol = policy(cookies=("all", ()))
    a = req(cookies=(("b", "2"), ("a", "1")))
    b = req(cookies=(("a", "1"), ("b", "2")))
    assert same_key(a, b, pol)


@pytest.mark.parametrize("cookie", [("Country", "uk"), ("country", "UK")])
def test_are_cookie_names_and_values_case_sensitive(cookie):
    pol = policy(cookies=("all", ()))
    assert not same_key(req(cookies=(("country", "uk"),)), req(cookies=(cookie,)), pol)


@pytest.mark.parametrize(
    ("selection", "split_by_session", "split_by_country"),
    [
        (("none", ()), False, False),
        (("whitelist", ["country"]), False, True),
        (("allExcept", ["session"]), False, True),
        (("all", ()), True, True),
    ],
)
def test_does_each_cookie_behavior_key_on_what_it_names(
    selection, split_by_session, split_by_country
):
    pol = policy(cookies=selection)
    base = req(cookies=(("country", "uk"), ("session", "1")))
    other_session = req(cookies=(("country", "uk"), ("session", "2")))
    other_country = req(cookies=(("country", "fr"), ("session", "1")))
    assert (not same_key(base, other_session, pol)) == split_by_session
    assert (not same_key(base, other_country, pol)) == split_by_country


def test_are_cookies_read_from_the_cookie_header_when_the_log_has_none():
    pol = policy(cookies=("whitelist", ["country"]))
    a = req(headers=(("Cookie", "country=uk; session=1"),))
    b = req(headers=(("Cookie", "session=2; country=fr"),))
    assert not same_key(a, b, pol)
    assert same_key(a, req(cookies=(("country", "uk"),)), pol)


# --- Authorization (add-origin-custom-headers, forwarding the Authorization header) ------------


def alice():
    return req("/api/me", headers=(("Authorization", "Bearer alice"),))


def bob():
    return req("/api/me", headers=(("Authorization", "Bearer bob"),))


def test_does_a_key_without_authorization_let_bob_get_alices_response():
    """The near miss of lab 1: without Authorization in the key, two users share one object."""
    assert same_key(alice(), bob(), policy())


def test_does_authorization_in_the_key_keep_users_apart_and_reach_the_origin():
    pol = policy(headers=["Authorization"])
    assert not same_key(alice(), bob(), pol)
    assert forwarded_to_origin(alice(), pol, None).header("authorization") == "Bearer alice"


def test_is_authorization_removed_from_a_get_by_default():
    assert forwarded_to_origin(alice(), policy(), None).header("Authorization") is None


def test_can_an_origin_request_policy_not_forward_authorization_on_its_own():
    """A whitelist in an origin request policy cannot carry Authorization (the API rejects
    it); forwarding all viewer headers does carry it."""
    listed = orp(headers=("whitelist", ["Authorization"]))
    assert forwarded_to_origin(alice(), policy(), listed).header("Authorization") is None
    every = orp(headers=("allViewer", ()))
    assert forwarded_to_origin(alice(), policy(), every).header("Authorization") == "Bearer alice"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_does_authorization_reach_the_origin_for_writes(method):
    request = EdgeRequest(time_ms=0, path="/api", method=method, headers=(("Authorization", "t"),))
    assert forwarded_to_origin(request, policy(), None).header("Authorization") == "t"


def test_does_authorization_reach_the_origin_for_options_only_when_options_are_not_cached():
    request = EdgeRequest(time_ms=0, path="/", method="OPTIONS", headers=(("Authorization", "t"),))
    assert forwarded_to_origin(request, policy(), None).header("Authorization") == "t"
    cached = forwarded_to_origin(request, policy(), None, options_cached=True)
    assert cached.header("Authorization") is None


# --- Accept-Encoding (controlling-the-cache-key, Compression support) ----------------------


@pytest.mark.parametrize(
    ("gzip", "br", "viewer", "key", "origin"),
    [
        (True, True, "gzip, deflate, br", "br,gzip", "br,gzip"),
        (True, True, "br;q=1.0, gzip;q=0.8, *;q=0.1", "br,gzip", "br,gzip"),
        (True, True, "gzip", "gzip", "gzip"),
        (True, True, "br", "br", "br"),
        (True, True, "deflate", None, "identity"),
        (True, False, "gzip, br", "gzip", "gzip"),
        (False, True, "gzip, br", "br", "br"),
        (True, False, "br", None, "identity"),
    ],
)
def test_is_accept_encoding_normalised_as_documented(gzip, br, viewer, key, origin):
    pol = policy(gzip=gzip, br=br)
    request = req(headers=(("Accept-Encoding", viewer),))
    assert normalized_accept_encoding(request, pol) == key
    assert forwarded_to_origin(request, pol, None).header("Accept-Encoding") == origin


def test_do_viewers_listing_the_same_formats_share_an_object():
    pol = policy(gzip=True, br=True)
    a = req(headers=(("Accept-Encoding", "gzip, deflate, br"),))
    b = req(headers=(("Accept-Encoding", "br,gzip"),))
    c = req(headers=(("Accept-Encoding", "gzip"),))
    assert same_key(a, b, pol)
    assert not same_key(a, c, pol)


def test_without_accept_encoding_is_nothing_keyed_or_forwarded():
    pol = policy(gzip=True, br=True)
    assert normalized_accept_encoding(req(), pol) is None
    assert forwarded_to_origin(req(), pol, None).header("Accept-Encoding") is None


def test_with_compression_off_is_accept_encoding_an_ordinary_header():
    plain = policy()
    a = req(headers=(("Accept-Encoding", "gzip"),))
    b = req(headers=(("Accept-Encoding", "br"),))
    assert same_key(a, b, plain)
    assert forwarded_to_origin(a, plain, None).header("Accept-Encoding") is None
    listed = policy(headers=["Accept-Encoding"])
    assert not same_key(a, b, listed)
    assert forwarded_to_origin(a, listed, None).header("Accept-Encoding") == "gzip"


def test_does_listing_accept_encoding_with_compression_on_change_nothing():
    """'including Accept-Encoding in an origin request policy has no effect'; the raw value
    never replaces the normalised one."""
    a = req(headers=(("Accept-Encoding", "gzip, deflate"),))
    b = req(headers=(("Accept-Encoding", "gzip"),))
    pol = policy(headers=["Accept-Encoding"], gzip=True)
    assert same_key(a, b, pol)
    sent = forwarded_to_origin(a, pol, orp(headers=("whitelist", ["Accept-Encoding"])))
    assert sent.header("Accept-Encoding") == "gzip"


# --- the origin request ---------------------------------------------------------------------


def test_does_the_origin_get_the_key_values_plus_the_origin_request_policy_ones():
    pol = policy(headers=["Accept-Language"], query=("whitelist", ["id"]))
    extra = orp(headers=("whitelist", ["X-Trace"]), query=("whitelist", ["utm"]))
    request = req(
        query="id=1&utm=x&other=2",
        headers=(("Accept-Language", "en"), ("X-Trace", "t1"), ("X-Other", "o")),
    )
    sent = forwarded_to_origin(request, pol, extra)
    assert sent.header("Accept-Language") == "en"
    assert sent.header("X-Trace") == "t1"
    assert sent.header("X-Other") is None
    assert sent.query == "id=1&utm=x"
    # ... and what the origin request policy adds stays out of the key.
    other_trace = req(query="id=1&utm=y", headers=(("Accept-Language", "en"), ("X-Trace", "t2")))
    assert same_key(request, other_trace, pol)


def test_without_policies_does_the_origin_get_no_viewer_values():
    request = req(query="a=1", headers=(("X-Custom", "1"),), cookies=(("c", "1"),))
    sent = forwarded_to_origin(request, policy(), None)
    assert sent.query == "" and sent.cookies == () and sent.header("X-Custom") is None
    assert sent.header("Cookie") is None


def test_does_all_viewer_forward_every_viewer_header():
    request = req(headers=(("X-Custom", "1"), ("Accept-Language", "en")))
    sent = forwarded_to_origin(request, policy(), orp(headers=("allViewer", ())))
    assert sent.header("x-custom") == "1" and sent.header("Accept-Language") == "en"
    assert sent.header("Host") == HOST[1]


def test_does_all_viewer_except_host_replace_the_host_with_the_origin():
    """AllViewerExceptHostHeader: all headers but Host; CloudFront adds the origin's Host."""
    request = req(headers=(("X-Custom", "1"),))
    policy_orp = orp(headers=("allExcept", ["host"]))
    sent = forwarded_to_origin(request, policy(), policy_orp, origin_domain="api.example")
    assert sent.header("X-Custom") == "1"
    assert sent.header("Host") == "api.example"


def test_does_all_viewer_and_cloudfront_headers_add_the_listed_cloudfront_headers():
    policy_orp = orp(headers=("allViewerAndWhitelistCloudFront", ["CloudFront-Viewer-Country"]))
    sent = forwarded_to_origin(req(headers=(("X-A", "1"),)), policy(), policy_orp)
    assert sent.header("X-A") == "1"
    assert sent.header("CloudFront-Viewer-Country") is not None
    assert forwarded_to_origin(req(), policy(), None).header("CloudFront-Viewer-Country") is None


def test_does_keying_on_cloudfront_forwarded_proto_split_http_from_https():
    """A CloudFront-* header in the cache key holds the value CloudFront computes (here the
    viewer's protocol), which viewers do not send themselves."""
    pol = policy(headers=["CloudFront-Forwarded-Proto"])
    assert not same_key(req(protocol="http"), req(protocol="https"), pol)
    assert (
        forwarded_to_origin(req(protocol="http"), pol, None).header("cloudfront-forwarded-proto")
        == "http"
    )


def test_does_cloudfront_replace_the_user_agent_and_extend_x_forwarded_for():
    request = req(
        headers=(("User-Agent", "Firefox"), ("X-Forwarded-For", "192.0.2.4,192.0.2.3")),
        client_ip="192.0.2.2",
    )
    sent = forwarded_to_origin(request, policy(), None)
    assert sent.header("User-Agent") == "Amazon CloudFront"
    assert sent.header("X-Forwarded-For") == "192.0.2.4,192.0.2.3,192.0.2.2"
    keyed = forwarded_to_origin(request, policy(headers=["User-Agent"]), None)
    assert keyed.header("User-Agent") == "Firefox"


def test_are_forwarded_cookies_sorted_by_name():
    request = req(cookies=(("zeta", "1"), ("alpha", "2")))
    sent = forwarded_to_origin(request, policy(cookies=("all", ())), None)
    assert sent.cookies == (("alpha", "2"), ("zeta", "1"))
    assert sent.header("Cookie") == "alpha=2; zeta=1"


# The table of "Understanding how origin request policies and cache policies work together",
# on query strings a, b and c; the row and column of each case are in its id.
TABLE = [
    ("cache none + origin none", ("none", ()), ("none", ()), ""),
    ("cache none + origin all", ("none", ()), ("all", ()), "a=1&b=2&c=3"),
    ("cache none + origin allow list", ("none", ()), ("whitelist", ["b"]), "b=2"),
    ("cache none + origin block list", ("none", ()), ("allExcept", ["b"]), "a=1&c=3"),
    ("cache all + origin block list", ("all", ()), ("allExcept", ["b"]), "a=1&b=2&c=3"),
    ("cache allow + origin allow", ("whitelist", ["a"]), ("whitelist", ["c"]), "a=1&c=3"),
    ("cache allow + origin block", ("whitelist", ["b"]), ("allExcept", ["b"]), "a=1&b=2&c=3"),
    ("cache block + origin none", ("allExcept", ["b"]), ("none", ()), "a=1&c=3"),
    ("cache block + origin allow", ("allExcept", ["b"]), ("whitelist", ["b"]), "a=1&b=2&c=3"),
    ("cache block + origin block", ("allExcept", ["a"]), ("allExcept", ["c"]), "b=2"),
]


@pytest.mark.parametrize(
    ("cache_sel", "origin_sel", "expected"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_does_the_origin_get_the_documented_query_strings(cache_sel, origin_sel, expected):
    request = req(query="a=1&b=2&c=3")
    sent = forwarded_to_origin(request, policy(query=cache_sel), orp(query=origin_sel))
    assert sent.query == expected


def test_do_cookies_follow_the_same_table():
    """Cache block list + origin block list: all cookies except those either one lists."""
    request = req(cookies=(("a", "1"), ("b", "2"), ("c", "3")))
    sent = forwarded_to_origin(
        request, policy(cookies=("allExcept", ["a"])), orp(cookies=("allExcept", ["c"]))
    )
    assert sent.cookies == (("b", "2"),)


# --- legacy ForwardedValues -----------------------------------------------------------------


def behavior(**fv):
    forwarded = {"QueryString": False, "Cookies": {"Forward": "none"}, **fv}
    return {"TargetOriginId": "o", "MinTTL": 0, "ForwardedValues": forwarded}


def test_does_legacy_query_string_true_key_on_all_of_it():
    pol = cache_policy_from_legacy(behavior(QueryString=True))
    assert not same_key(req(query="a=1"), req(query="a=2"), pol)
    none = cache_policy_from_legacy(behavior())
    assert same_key(req(query="a=1"), req(query="a=2"), none)


def test_does_legacy_forward_all_and_cache_on_a_whitelist():
    """'Forward all, cache based on whitelist': every parameter reaches the origin, the
    listed ones key the cache."""
    pol, origin = policies_from_legacy(
        behavior(QueryString=True, QueryStringCacheKeys={"Quantity": 1, "Items": ["lang"]})
    )
    assert same_key(req(query="lang=en&x=1"), req(query="lang=en&x=2"), pol)
    assert not same_key(req(query="lang=en"), req(query="lang=fr"), pol)
    assert forwarded_to_origin(req(query="lang=en&x=1"), pol, origin).query == "lang=en&x=1"


def test_do_legacy_cookies_and_headers_key_the_cache():
    pol = cache_policy_from_legacy(
        behavior(
            Cookies={"Forward": "whitelist", "WhitelistedNames": {"Quantity": 1, "Items": ["s"]}},
            Headers={"Quantity": 1, "Items": ["Authorization"]},
        )
    )
    assert not same_key(alice(), bob(), pol)
    assert not same_key(req(cookies=(("s", "1"),)), req(cookies=(("s", "2"),)), pol)
    assert same_key(req(cookies=(("t", "1"),)), req(cookies=(("t", "2"),)), pol)


def test_does_legacy_forwarding_all_headers_disable_caching():
    """'If you configure CloudFront to forward all headers ... CloudFront never caches'."""
    pol, origin = policies_from_legacy(behavior(Headers={"Quantity": 1, "Items": ["*"]}))
    assert (pol["MinTTL"], pol["DefaultTTL"], pol["MaxTTL"]) == (0, 0, 0)
    assert forwarded_to_origin(alice(), pol, origin).header("Authorization") == "Bearer alice"


def test_do_legacy_ttls_take_the_documented_defaults():
    pol = cache_policy_from_legacy(behavior())
    assert (pol["MinTTL"], pol["DefaultTTL"], pol["MaxTTL"]) == (0, 86400, 31536000)
    big = cache_policy_from_legacy({**behavior(), "MinTTL": 100000})
    assert big["DefaultTTL"] == 100000


def test_does_legacy_compress_cache_gzip_but_never_brotli():
    pol = cache_policy_from_legacy({**behavior(), "Compress": True})
    request = req(headers=(("Accept-Encoding", "gzip, br"),))
    assert normalized_accept_encoding(request, pol) == "gzip"
