"""lab1's hidden inputs: six hours of the shop's CloudFront access log, made up from the
run's seed, and the origin that answers it.

Who asks for what:

- people load pages (personal: each greets its viewer), the shop's static files (CSS and
  JavaScript, named by version), and call the API with their own Authorization token;
- links shared in newsletters and chats add tracking query strings (``utm_source=...``) to
  static files: the same file, whatever the query string;
- a few requests ask for near paths that are not static files: ``/Static/...`` (paths are
  case-sensitive: this is the application's, not the bucket's) and ``/static-preview/...``
  (the application's personal draft previews);
- a few requests arrive over plain HTTP, to every part of the site.

The origin model says what each path returns, as the real origins would: S3 sends static
files without caching headers (the distribution decides how long they live), and the
application forgets caching headers on its personal pages and API answers, so only the
distribution can keep them out of the cache.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from grader.aws.edge.request import EdgeRequest

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: the log's clock, not the run's
HOUR = 3_600_000
DURATION_H = 6
ACCOUNT = "111122223333"
# The distribution the learner configures; its ARN is what the bucket policy must name.
DISTRIBUTION_ID = "E1SHOPLAB1EXAMPLE"
DISTRIBUTION_ARN = f"arn:aws:cloudfront::{ACCOUNT}:distribution/{DISTRIBUTION_ID}"
BUCKET = "shop-static-assets"
EDGES = ("NRT57-P1", "KIX50-C1", "ICN54-C2")
STATIC_FILES = tuple(
    f"/static/{name}"
    for name in (
        "app.3f2a9c.js",
        "app.3f2a9c.css",
        "vendor.91be02.js",
        "checkout.77d1e0.js",
        "fonts.c2a1f4.css",
        "icons.0b9d3e.css",
    )
)
PAGES = ("/", "/products", "/products/{id}", "/cart", "/account")
API = ("/api/cart", "/api/orders", "/api/profile")
TRACKING = ("utm_source=newsletter", "utm_source=chat&utm_medium=share", "fbclid={n}")
# The target the static share of the log must reach.
STATIC_HIT_TARGET = 0.90
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)

# What each path answers (the origin model's JSON, first match wins).
ORIGIN = {
    "/static/*": {
        "headers": {"Content-Type": "text/css"},
        "size": 48_000,
    },
    "/api/*": {
        "headers": {"Content-Type": "application/json"},
        "size": 900,
        "personal": True,
    },
    "*": {
        "headers": {"Content-Type": "text/html"},
        "size": 12_000,
        "personal": True,
    },
}


@dataclass(frozen=True)
class Log:
    """The replayed log, in time order."""

    requests: tuple[EdgeRequest, ...]


def is_static(path: str) -> bool:
    """A static file of the bucket (the distribution's /static/* behavior is for these)."""
    return path.startswith("/static/")


def _request(
    rng: random.Random,
    at: int,
    viewer: str,
    path: str,
    *,
    edge: str,
    query: str = "",
    protocol: str = "https",
    token: bool = False,
) -> EdgeRequest:
    headers = [
        ("Host", "shop.example.com"),
        ("User-Agent", BROWSER),
        ("Accept-Encoding", "gzip, deflate, br"),
    ]
    if token:
        headers.append(("Authorization", f"Bearer token-of-{viewer}"))
    return EdgeRequest(
        time_ms=at,
        path=path,
        edge_location=edge,
        viewer=viewer,
        client_ip=f"100.64.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        query=query,
        headers=tuple(headers),
        cookies=(("session", f"s-{viewer}"),),
        protocol=protocol,
    )


def make_log(seed: int) -> Log:
    """The run's log: deterministic for a seed, different between seeds."""
    rng = random.Random(f"lab1:{seed}")
    out: list[EdgeRequest] = []
    end = START_MS + DURATION_H * HOUR
    for n in range(300):
        viewer = f"viewer-{seed % 97}-{n}"
        edge = rng.choice(EDGES)  # people use the edge location nearest to them
        at = rng.randrange(START_MS, end - HOUR)
        for _ in range(rng.randrange(2, 6)):
            page = rng.choice(PAGES).format(id=rng.randrange(100, 999))
            out.append(_request(rng, at, viewer, page, edge=edge))
            for path in rng.sample(STATIC_FILES, rng.randrange(2, 5)):
                query = ""
                if rng.random() < 0.3:
                    query = rng.choice(TRACKING).format(n=rng.randrange(10**6))
                out.append(_request(rng, at + 200, viewer, path, query=query, edge=edge))
            if rng.random() < 0.6:
                out.append(_request(rng, at + 900, viewer, rng.choice(API), token=True, edge=edge))
            at += rng.randrange(20_000, 300_000)
        if rng.random() < 0.1:  # near paths that are not the bucket's
            near = rng.choice(("/Static/app.3f2a9c.css", "/static-preview/spring-sale"))
            out.append(_request(rng, at, viewer, near, edge=edge))
        if rng.random() < 0.1:  # an old bookmark over plain HTTP
            path = rng.choice((*STATIC_FILES[:2], "/", "/api/cart"))
            out.append(_request(rng, at + 1000, viewer, path, protocol="http", edge=edge))
    # and at least one plain HTTP request to every part of the site
    for i, path in enumerate((STATIC_FILES[0], "/", "/api/cart", "/static-preview/spring-sale")):
        out.append(
            _request(rng, end - i * 1000, "viewer-http", path, protocol="http", edge=EDGES[0])
        )
    return Log(tuple(sorted(out, key=lambda r: r.time_ms)))
