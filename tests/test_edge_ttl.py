"""How long CloudFront keeps a response, and when it compresses it. Each test names the row of
"Manage how long content stays in the cache (expiration)", or the page, that it holds."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from grader.aws.edge.request import EdgeRequest, OriginResponse
from grader.aws.edge.ttl import cache_control, cache_seconds, compression_applies, origin_ttl

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


def ttls(min_ttl=0, default_ttl=86400, max_ttl=31536000, gzip=False, br=False):
    return {
        "Name": "p",
        "MinTTL": min_ttl,
        "DefaultTTL": default_ttl,
        "MaxTTL": max_ttl,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": gzip,
            "EnableAcceptEncodingBrotli": br,
            "HeadersConfig": {"HeaderBehavior": "none"},
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "none"},
        },
    }


def response(*headers, status=200):
    return OriginResponse(status=status, headers=tuple(headers))


def cc(value):
    return ("Cache-Control", value)


def seconds(policy, resp, **kw):
    return cache_seconds(policy, resp, now_ms=NOW_MS, **kw)


def http_date(offset_seconds):
    return format_datetime(datetime.fromtimestamp(NOW.timestamp() + offset_seconds, UTC), True)


# --- row: the origin adds no Cache-Control max-age (and no Expires) ------------------------


def test_row_no_header_min_ttl_0_uses_default_ttl():
    assert seconds(ttls(0, 3600, 7200), response()) == 3600


def test_row_no_header_min_ttl_above_0_uses_the_greater_of_min_and_default():
    assert seconds(ttls(600, 60, 7200), response()) == 600
    assert seconds(ttls(60, 600, 7200), response()) == 600


def test_is_default_ttl_not_capped_by_max_ttl():
    """MaxTTL applies only when the origin sends Cache-Control or Expires."""
    assert seconds(ttls(0, 9000, 100), response()) == 9000


# --- row: the origin adds Cache-Control max-age -------------------------------------------


def test_row_max_age_min_ttl_0_is_the_lesser_of_max_age_and_max_ttl():
    assert seconds(ttls(0, 10, 7200), response(cc("max-age=3600"))) == 3600
    assert seconds(ttls(0, 10, 600), response(cc("max-age=3600"))) == 600


def test_row_max_age_min_ttl_above_0_below_min_ttl_uses_min_ttl():
    assert seconds(ttls(300, 10, 7200), response(cc("max-age=60"))) == 300


def test_row_max_age_min_ttl_above_0_between_uses_max_age():
    assert seconds(ttls(300, 10, 7200), response(cc("public, max-age=3600"))) == 3600


def test_row_max_age_min_ttl_above_0_above_max_ttl_uses_max_ttl():
    assert seconds(ttls(300, 10, 7200), response(cc("max-age=86400"))) == 7200


def test_is_max_age_0_not_cached_when_min_ttl_is_0():
    assert seconds(ttls(0), response(cc("max-age=0"))) is None


# --- row: max-age and s-maxage ------------------------------------------------------------


def test_row_s_maxage_wins_over_max_age():
    assert seconds(ttls(0, 10, 7200), response(cc("max-age=60, s-maxage=600"))) == 600
    assert seconds(ttls(0, 10, 300), response(cc("max-age=60, s-maxage=600"))) == 300


def test_row_s_maxage_min_ttl_above_0_is_clamped_to_min_ttl():
    assert seconds(ttls(900, 10, 7200), response(cc("s-maxage=60, max-age=3600"))) == 900


def test_does_s_maxage_zero_stop_caching_even_with_a_long_max_age():
    assert seconds(ttls(0), response(cc("max-age=3600, s-maxage=0"))) is None


# --- row: the origin adds Expires ---------------------------------------------------------


def test_row_expires_min_ttl_0_is_the_sooner_of_expires_and_max_ttl():
    assert seconds(ttls(0, 10, 7200), response(("Expires", http_date(1800)))) == 1800
    assert seconds(ttls(0, 10, 600), response(("Expires", http_date(1800)))) == 600


def test_row_expires_min_ttl_above_0_in_the_past_uses_min_ttl():
    assert seconds(ttls(120, 10, 7200), response(("Expires", http_date(-60)))) == 120


def test_is_a_past_or_broken_expires_not_cached_when_min_ttl_is_0():
    assert seconds(ttls(0), response(("Expires", http_date(-60)))) is None
    assert seconds(ttls(0), response(("Expires", "0"))) is None


def test_does_max_age_win_over_expires():
    """'If you specify values both for max-age and for Expires, CloudFront uses only max-age'."""
    resp = response(cc("max-age=60"), ("Expires", http_date(3600)))
    assert seconds(ttls(0, 10, 7200), resp) == 60


# --- row: no-cache, no-store, private -----------------------------------------------------


@pytest.mark.parametrize("directive", ["no-cache", "no-store", "private", "private, max-age=600"])
def test_row_no_cache_min_ttl_0_is_not_cached(directive):
    assert seconds(ttls(0), response(cc(directive))) is None


@pytest.mark.parametrize("directive", ["no-cache", "No-Store", "private, max-age=600"])
def test_row_no_cache_min_ttl_above_0_uses_min_ttl(directive):
    assert seconds(ttls(30, 3600, 7200), response(cc(directive))) == 30


def test_does_a_no_cache_in_a_second_cache_control_header_count():
    assert seconds(ttls(0), response(cc("max-age=600"), cc("no-store"))) is None


# --- managed policies, Vary, methods --------------------------------------------------------


def test_does_caching_disabled_never_cache():
    """Managed-CachingDisabled: all TTLs 0."""
    assert seconds(ttls(0, 0, 0), response(cc("max-age=3600"))) is None
    assert seconds(ttls(0, 0, 0), response()) is None


def test_is_vary_star_revalidated_every_time_when_min_ttl_is_0():
    """Content negotiation: 'Vary:*' with MinTTL 0 goes back to the origin on every request."""
    assert seconds(ttls(0), response(cc("max-age=600"), ("Vary", "*"))) is None
    assert seconds(ttls(5), response(cc("max-age=600"), ("Vary", "*"))) == 600


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_are_responses_to_writes_never_cached(method):
    assert seconds(ttls(60), response(cc("max-age=600")), method=method) is None


def test_are_options_cached_only_when_cached_methods_lists_them():
    resp = response(cc("max-age=600"))
    assert seconds(ttls(), resp, method="OPTIONS") is None
    assert seconds(ttls(), resp, method="OPTIONS", cached_methods=("GET", "HEAD", "OPTIONS")) == 600
    assert seconds(ttls(), resp, method="HEAD", cached_methods=("GET",)) == 600


# --- status codes (HTTPStatusCodes) ---------------------------------------------------------


@pytest.mark.parametrize("status", [404, 405, 414, 500, 501, 502, 503, 504])
def test_are_the_always_cached_errors_kept_for_the_error_caching_min_ttl(status):
    assert seconds(ttls(), response(status=status)) == 10
    assert seconds(ttls(), response(status=status), error_caching_min_ttl=300) == 300


def test_does_an_errors_max_age_extend_its_caching():
    assert seconds(ttls(), response(cc("max-age=60"), status=404)) == 60


@pytest.mark.parametrize("status", [400, 403, 412, 415])
def test_are_some_4xx_cached_only_with_max_age(status):
    assert seconds(ttls(), response(status=status)) is None
    assert seconds(ttls(), response(cc("s-maxage=120"), status=status)) == 120


@pytest.mark.parametrize("status", [401, 429, 505])
def test_are_other_errors_not_cached(status):
    assert seconds(ttls(), response(cc("max-age=600"), status=status)) is None


def test_is_error_caching_turned_off_by_a_zero_error_caching_min_ttl():
    assert seconds(ttls(), response(status=503), error_caching_min_ttl=0) is None


def test_are_redirects_cached_like_other_responses():
    """'CloudFront caches the redirect and returns it to the viewer'."""
    assert seconds(ttls(0, 300), response(status=302)) == 300


# --- parsing --------------------------------------------------------------------------------


def test_is_cache_control_parsed_case_insensitively_with_quotes():
    parsed = cache_control(response(cc('Max-Age="60", PUBLIC')))
    assert parsed == {"max-age": "60", "public": None}
    assert origin_ttl(response(cc("max-age=abc")), now_ms=NOW_MS) is None


# --- compression (ServingCompressedFiles) ---------------------------------------------------


def viewer(encoding="gzip, deflate, br"):
    headers = (("Accept-Encoding", encoding),) if encoding is not None else ()
    return EdgeRequest(time_ms=0, path="/app.js", headers=headers)


def body(content_type="application/javascript", length="5000", *extra):
    headers = [("Content-Type", content_type)]
    if length is not None:
        headers.append(("Content-Length", length))
    return OriginResponse(status=200, headers=(*headers, *extra), size=int(length or 0))


def test_does_cloudfront_compress_a_mid_sized_script():
    assert compression_applies(ttls(gzip=True, br=True), True, viewer(), body())


def test_is_nothing_compressed_when_the_behavior_does_not_compress():
    assert not compression_applies(ttls(gzip=True, br=True), False, viewer(), body())


@pytest.mark.parametrize(
    ("length", "compressed"),
    [("999", False), ("1000", True), ("10000000", True), ("10000001", False), (None, False)],
)
def test_does_the_size_have_to_be_between_1000_and_10000000_bytes(length, compressed):
    """Outside the range, or with no Content-Length to tell the size, nothing is compressed."""
    assert compression_applies(ttls(gzip=True), True, viewer(), body(length=length)) is compressed


@pytest.mark.parametrize(
    ("content_type", "compressed"),
    [("text/html; charset=utf-8", True), ("image/png", False), ("application/json", True)],
)
def test_is_only_a_listed_content_type_compressed(content_type, compressed):
    result = compression_applies(ttls(gzip=True), True, viewer(), body(content_type))
    assert result is compressed


def test_is_a_response_the_origin_compressed_left_alone():
    already = body("text/css", "5000", ("Content-Encoding", "gzip"))
    assert not compression_applies(ttls(gzip=True), True, viewer(), already)


@pytest.mark.parametrize(
    ("encoding", "brotli", "compressed"),
    [
        (None, True, False),
        ("deflate", True, False),
        ("gzip", False, True),
        ("br", True, True),
        ("br", False, False),
    ],
)
def test_does_the_viewer_have_to_accept_an_available_format(encoding, brotli, compressed):
    """Gzip needs only the behavior's Compress; Brotli also needs the cache policy's
    EnableAcceptEncodingBrotli."""
    pol = ttls(gzip=True, br=brotli)
    assert compression_applies(pol, True, viewer(encoding), body()) is compressed
