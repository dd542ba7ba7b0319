"""lab2's hidden inputs: half an hour of traffic to the shop, made up from the run's seed.

Who visits (each request carries its ``traffic_class``, which WAF never sees):

- ``human``: people browsing with ordinary browsers, from many addresses, and a team of 25
  at one office who all share a single public address (their NAT). People sign in, so they
  reach the login page too, in every spelling a browser may send (``/login``, ``/login/``).
- ``search-bot``: Googlebot and Bingbot crawling from their operators' published addresses,
  login page included (crawlers follow links).
- ``spoofed-bot``: a scraper that claims to be Googlebot from a cloud data center.
- ``scraper``: HTTP libraries and scraping frameworks (python-requests, curl, Scrapy) from
  cloud data centers, hitting products and the login page, with its case and trailing-slash
  variants (the shop's framework routes ``/LOGIN`` and ``/login/`` to the same page).
- ``automated-browser``: headless browsers posting to the login form.
- ``credential-stuffing``: a burst of login posts from a handful of residential addresses,
  with ordinary browser User-Agents (so only their rate gives them away).

Addresses come from the ranges the WAF engine's Bot Control model knows (search-engine
ranges, data-center ranges) and, for people, from the shared address space 100.64.0.0/10,
as if behind carrier-grade NAT. The numbers are chosen so that one design works: a rate limit
on the login page between the office's peak (well under 100 login requests in five minutes)
and an attacker's pace (hundreds per address in five minutes).
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass

from grader.aws.waf.request import WafRequest

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: the replay's clock, not the run's
MINUTE = 60_000
DURATION_MIN = 30
LOGIN = "/login"
# How the shop's router spells its login page: case and a trailing slash do not matter.
LOGIN_VARIANTS = ("/login", "/login/", "/LOGIN", "/Login")
# Paths near the login page that are not it: inspecting them costs without protecting.
NOT_LOGIN = ("/blog/login-tips", "/account/login-history", "/help/logins")
PAGES = ("/", "/products", "/products/{id}", "/cart", "/search", "/about", "/blog")
ASSETS = ("/static/app.js", "/static/app.css", "/static/logo.svg")

OFFICE_PEOPLE = 25
# Login attempts one address may get through in five minutes: an attacker above this pace
# must be stopped; the office stays far below it.
ATTACK_ALLOWED_PER_WINDOW = 150

BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
)
SEARCH_BOTS = (
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "66.249.64.0/19"),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "157.55.39.0/24"),
)
SCRAPERS = ("python-requests/2.32.3", "curl/8.7.1", "Scrapy/2.11.2 (+https://scrapy.org)")
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36"
)
# Cloud data centers of the course's world (documentation ranges: RFC 5737).
DATA_CENTERS = ("203.0.113.0/25", "198.51.100.128/25")
PEOPLE = "100.64.0.0/10"
COUNTRIES = ("JP", "JP", "JP", "US", "DE", "SG")


@dataclass(frozen=True)
class Traffic:
    """The replayed traffic, in time order, and what the checks need to know about it."""

    requests: tuple[WafRequest, ...]
    office_ip: str
    attacker_ips: tuple[str, ...]


def is_login(uri: str) -> bool:
    """The shop's router: the login page whatever its case, with or without a slash."""
    return uri.lower().rstrip("/") == LOGIN


def _address(rng: random.Random, cidr: str) -> str:
    net = ipaddress.ip_network(cidr)
    return str(net[rng.randrange(1, net.num_addresses - 1)])


def _headers(user_agent: str, *, browser: bool, extra: tuple = ()) -> tuple:
    base = [("Host", "shop.example.com"), ("User-Agent", user_agent)]
    if browser:
        base += [
            ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
            ("Accept-Language", "ja,en-US;q=0.7"),
            ("Accept-Encoding", "gzip, deflate, br"),
        ]
    else:
        base.append(("Accept", "*/*"))
    return tuple(base) + tuple(extra)


class _Builder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.out: list[WafRequest] = []

    def add(
        self,
        cls: str,
        ip: str,
        at_ms: int,
        uri: str,
        user_agent: str,
        *,
        method: str = "GET",
        args: str = "",
        browser: bool = True,
        country: str | None = None,
        body: bytes = b"",
    ) -> None:
        extra: tuple = ()
        if method == "POST":
            extra = (("Content-Type", "application/x-www-form-urlencoded"),)
        self.out.append(
            WafRequest(
                client_ip=ip,
                uri=uri,
                method=method,
                args=args,
                headers=_headers(user_agent, browser=browser, extra=extra),
                country=country or self.rng.choice(COUNTRIES),
                body=body,
                timestamp_ms=at_ms,
                request_id=f"req-{len(self.out):05d}",
                traffic_class=cls,
            )
        )

    def page(self) -> tuple[str, str]:
        path = self.rng.choice(PAGES).format(id=self.rng.randrange(100, 999))
        args = f"q=blue+shirt&page={self.rng.randrange(1, 4)}" if path == "/search" else ""
        return path, args

    def visit(self, cls: str, ip: str, ua: str, start: int, *, sign_in: bool) -> None:
        """One person's visit: pages with their assets, sometimes a sign-in."""
        at = start
        for _ in range(self.rng.randrange(3, 8)):
            path, args = self.page()
            self.add(cls, ip, at, path, ua, args=args)
            for asset in ASSETS[: self.rng.randrange(0, 3)]:
                self.add(cls, ip, at + 150, asset, ua)
            at += self.rng.randrange(5_000, 40_000)
        if sign_in:
            login = self.rng.choice(("/login", "/login", "/login", "/login/"))
            self.add(cls, ip, at, login, ua)
            self.add(cls, ip, at + 9_000, login, ua, method="POST", body=b"user=me&password=***")
        if self.rng.random() < 0.2:
            self.add(cls, ip, at + 20_000, self.rng.choice(NOT_LOGIN), ua)


def make_traffic(seed: int) -> Traffic:
    """The run's traffic: deterministic for a seed, different between seeds."""
    rng = random.Random(f"lab2:{seed}")
    b = _Builder(rng)
    end = START_MS + DURATION_MIN * MINUTE

    # people from everywhere
    for _ in range(120):
        ip = _address(rng, PEOPLE)
        b.visit("human", ip, rng.choice(BROWSERS), rng.randrange(START_MS, end - 5 * MINUTE),
                sign_in=rng.random() < 0.5)  # fmt: skip
    # the office: 25 people behind one address, all signing in around the burst
    office_ip = _address(rng, "192.0.2.0/26")  # clear of the IP reputation model
    for _ in range(OFFICE_PEOPLE):
        start = rng.randrange(START_MS + 8 * MINUTE, START_MS + 18 * MINUTE)
        b.visit("human", office_ip, rng.choice(BROWSERS), start, sign_in=True)

    # verified search engines crawl, the login page included
    for ua, cidr in SEARCH_BOTS:
        ip = _address(rng, cidr)
        for _ in range(30):
            path, args = b.page()
            if rng.random() < 0.2:
                path, args = rng.choice(LOGIN_VARIANTS[:2]), ""
            b.add("search-bot", ip, rng.randrange(START_MS, end), path, ua, args=args,
                  browser=False, country="US")  # fmt: skip
    # a scraper that claims to be Googlebot
    spoof_ip = _address(rng, rng.choice(DATA_CENTERS))
    for _ in range(25):
        path = rng.choice((*LOGIN_VARIANTS, "/products"))
        b.add("spoofed-bot", spoof_ip, rng.randrange(START_MS, end), path, SEARCH_BOTS[0][0],
              browser=False)  # fmt: skip
    # HTTP libraries and scraping frameworks
    for ua in SCRAPERS:
        ip = _address(rng, rng.choice(DATA_CENTERS))
        for _ in range(40):
            path = rng.choice((*LOGIN_VARIANTS, "/products", "/products/{id}", "/search"))
            path = path.format(id=rng.randrange(100, 999))
            method = "POST" if is_login(path) and rng.random() < 0.5 else "GET"
            b.add("scraper", ip, rng.randrange(START_MS, end), path, ua, method=method,
                  browser=False)  # fmt: skip
    # headless browsers on the login form
    headless_ip = _address(rng, rng.choice(DATA_CENTERS))
    for _ in range(30):
        path = rng.choice(LOGIN_VARIANTS)
        b.add("automated-browser", headless_ip, rng.randrange(START_MS, end), path, HEADLESS,
              method="POST", body=b"user=admin&password=guess")  # fmt: skip

    # credential stuffing: four addresses, ~300 login posts each within five minutes
    attackers = tuple(_address(rng, PEOPLE) for _ in range(4))
    burst = START_MS + 12 * MINUTE
    for ip in attackers:
        ua = rng.choice(BROWSERS)
        for i in range(300):
            at = burst + i * 900 + rng.randrange(0, 400)
            b.add("credential-stuffing", ip, at, rng.choice(("/login", "/login/")), ua,
                  method="POST", body=b"user=someone&password=leaked")  # fmt: skip

    ordered = sorted(b.out, key=lambda r: r.timestamp_ms)
    return Traffic(tuple(ordered), office_ip, attackers)
