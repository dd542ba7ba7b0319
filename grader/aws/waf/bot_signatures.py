"""The data behind the course's model of AWS WAF Bot Control: who a client says it is, and
where it may come from.

AWS does not publish Bot Control's signatures (the rule group's page says its published
information is meant to let you use the rules "without giving bad actors what they need to
circumvent" them). Everything here is therefore the course's model, built on what AWS does
document: the bot categories and label names (AWS WAF Developer Guide, "AWS WAF Bot Control
rule group", https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-bot.html),
that a verified bot is one whose source AWS can confirm, and that signals such as an automated
browser or a known bot data center are labelled separately. Each table says where its entries
come from.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cache, lru_cache

# The categories Bot Control's Category* rules inspect for, as label suffixes
# (bot:category:<c>), each with the rule that matches it. Source: the Bot Control rule
# listing in the developer guide (above). AWS has added categories over time (page_preview,
# webhooks); the course models the fourteen below.
CATEGORY_RULES: dict[str, str] = {
    "advertising": "CategoryAdvertising",
    "archiver": "CategoryArchiver",
    "content_fetcher": "CategoryContentFetcher",
    "email_client": "CategoryEmailClient",
    "http_library": "CategoryHttpLibrary",
    "link_checker": "CategoryLinkChecker",
    "miscellaneous": "CategoryMiscellaneous",
    "monitoring": "CategoryMonitoring",
    "scraping_framework": "CategoryScrapingFramework",
    "search_engine": "CategorySearchEngine",
    "security": "CategorySecurity",
    "seo": "CategorySeo",
    "social_media": "CategorySocialMedia",
    "ai": "CategoryAI",
}


@dataclass(frozen=True)
class BotSignature:
    """One bot the model recognises by its User-Agent.

    ``pattern`` is a case-insensitive regular expression searched in the User-Agent;
    ``names`` are the bot:name:<n> label suffixes (AWS sometimes gives two, e.g. python and
    python_requests); ``verifier`` names the entry of ``VERIFIED_BOT_RANGES`` whose addresses
    prove the bot genuine, or None when the model cannot verify it (so it is always
    unverified, and its category rule matches).
    """

    pattern: str
    names: tuple[str, ...]
    category: str
    verifier: str | None = None


# The course's signature table: the first entry whose pattern matches wins, so specific
# entries come before general ones. The bot names are ones AWS lists in the rule group's
# AvailableLabels (DescribeManagedRuleGroup); which User-Agent text maps to which name is the
# course's model, taken from each operator's own documentation of its User-Agent where it
# publishes one (Google: "Overview of Google crawlers and fetchers"; Microsoft: "Which
# crawlers does Bing use?"; Apple: "About Applebot"; OpenAI: "Overview of OpenAI Crawlers").
BOT_SIGNATURES: tuple[BotSignature, ...] = (
    # search_engine
    BotSignature(r"googlebot", ("googlebot",), "search_engine", "googlebot"),
    BotSignature(r"bingbot", ("bingbot",), "search_engine", "bingbot"),
    BotSignature(r"applebot", ("applebot",), "search_engine", "applebot"),
    BotSignature(r"baiduspider", ("baidu",), "search_engine"),
    BotSignature(r"yandexbot", ("yandexbot",), "search_engine"),
    BotSignature(r"duckduckbot", ("duckduckbot",), "search_engine"),
    # advertising
    BotSignature(r"adsbot-google", ("google_adsbot",), "advertising"),
    BotSignature(r"mediapartners-google", ("google_mediapartners",), "advertising"),
    BotSignature(r"criteobot", ("criteobot",), "advertising"),
    # archiver
    BotSignature(r"archive\.org_bot|ia_archiver", ("internet_archive",), "archiver"),
    # content_fetcher
    BotSignature(r"feedfetcher-google", ("google_feedfetcher",), "content_fetcher"),
    BotSignature(r"feedspot", ("feedspot",), "content_fetcher"),
    BotSignature(r"miniflux", ("miniflux",), "content_fetcher"),
    BotSignature(r"tiny tiny rss", ("tiny_rss",), "content_fetcher"),
    # email_client
    BotSignature(r"yahoomailproxy", ("yahoo_mail",), "email_client"),
    BotSignature(r"microsoft outlook", ("outlook",), "email_client"),
    # link_checker
    BotSignature(r"w3c-checklink", ("w3c",), "link_checker"),
    BotSignature(r"linkchecker", ("linkchecker",), "link_checker"),
    BotSignature(r"linkwalker", ("linkwalker",), "link_checker"),
    # monitoring
    BotSignature(r"pingdom", ("pingdom",), "monitoring"),
    BotSignature(r"uptimerobot", ("uptimerobot",), "monitoring"),
    BotSignature(r"datadog/synthetics", ("datadog_synthetic_monitor",), "monitoring"),
    BotSignature(r"amazon-route53-health-check", ("route53_health_check",), "monitoring"),
    # scraping_framework
    BotSignature(r"scrapy", ("scrapy",), "scraping_framework"),
    BotSignature(r"crawler4j", ("crawler4j",), "scraping_framework"),
    BotSignature(r"heritrix", ("heritrix",), "scraping_framework"),
    BotSignature(r"phpcrawl", ("phpcrawl",), "scraping_framework"),
    # security
    BotSignature(r"detectify", ("detectify",), "security"),
    BotSignature(r"acunetix", ("acunetix",), "security"),
    # seo
    BotSignature(r"ahrefsbot", ("ahrefsbot",), "seo"),
    BotSignature(r"semrushbot", ("semrushbot",), "seo"),
    BotSignature(r"mj12bot", ("mj12bot",), "seo"),
    BotSignature(r"dotbot", ("dotbot",), "seo"),
    BotSignature(r"rogerbot", ("rogerbot",), "seo"),
    # social_media
    BotSignature(r"facebookexternalhit", ("facebook",), "social_media"),
    BotSignature(r"twitterbot", ("twitter",), "social_media"),
    BotSignature(r"linkedinbot", ("linkedin",), "social_media"),
    BotSignature(r"slackbot", ("slackbot",), "social_media"),
    BotSignature(r"discordbot", ("discordbot",), "social_media"),
    BotSignature(r"telegrambot", ("telegram",), "social_media"),
    BotSignature(r"whatsapp", ("whatsapp",), "social_media"),
    # ai
    BotSignature(r"gptbot", ("gptbot",), "ai"),
    BotSignature(r"chatgpt-user", ("chatgpt_user",), "ai"),
    BotSignature(r"ccbot", ("ccbot",), "ai"),
    BotSignature(r"bytespider", ("bytespider",), "ai"),
    # miscellaneous: technology profilers that fit no other category (course's choice)
    BotSignature(r"wappalyzer", ("wappalyzer",), "miscellaneous"),
    BotSignature(r"datanyze", ("datanyze",), "miscellaneous"),
    # http_library: last, since bots above sometimes embed a library's name
    BotSignature(r"python-requests", ("python", "python_requests"), "http_library"),
    BotSignature(r"python-urllib|aiohttp", ("python",), "http_library"),
    BotSignature(r"^curl/", ("curl",), "http_library"),
    BotSignature(r"^wget/", ("wget",), "http_library"),
    BotSignature(r"go-http-client", ("go_http",), "http_library"),
    BotSignature(r"okhttp", ("okhttp",), "http_library"),
    BotSignature(r"apache-httpclient", ("apache",), "http_library"),
    BotSignature(r"^java/", ("java",), "http_library"),
    BotSignature(r"axios/", ("axios",), "http_library"),
    BotSignature(r"node-fetch", ("node_fetch",), "http_library"),
    BotSignature(r"guzzlehttp", ("guzzle",), "http_library"),
    BotSignature(r"libwww-perl", ("libperl",), "http_library"),
    BotSignature(r"^ruby$", ("ruby",), "http_library"),
)

# Address ranges the operators publish for verifying their crawlers; a bot is verified when
# its request comes from one of its ranges. AWS verifies by the request's source IP (the
# developer guide's note on bot:verified) and does not publish how; this is the course's
# stand-in. The lists are summarised to covering prefixes of what each operator published:
# - googlebot: Google, "Verifying Googlebot and other Google crawlers"
#   (https://developers.google.com/search/docs/crawling-indexing/verifying-googlebot), whose
#   googlebot.json lists /27 and /64 blocks inside 66.249.64.0/19 and 2001:4860:4801::/48.
# - bingbot: Microsoft, "Verifying Bingbot" (https://www.bing.com/toolbox/bingbot.json).
# - applebot: Apple, "About Applebot" (https://support.apple.com/en-us/119829): Applebot comes
#   from the 17.0.0.0/8 net block.
VERIFIED_BOT_RANGES: dict[str, tuple[str, ...]] = {
    "googlebot": ("66.249.64.0/19", "2001:4860:4801::/48"),
    "bingbot": ("157.55.39.0/24", "207.46.13.0/24", "40.77.167.0/24"),
    "applebot": ("17.0.0.0/8",),
}

# The lab's fake cloud providers, whose addresses Bot Control treats as known bot data
# centers (signal:known_bot_data_center). AWS's own list is private; these are documentation
# ranges (RFC 5737 TEST-NET-2/3 and RFC 3849's 2001:db8::/32), so they never name a real
# network. Only part of each TEST-NET is a data center: 198.51.100.0/25 and 203.0.113.128/25
# stay free for ordinary clients, and 192.0.2.0/24 belongs to the IP reputation model
# (managed.py).
DATA_CENTER_RANGES: dict[str, tuple[str, ...]] = {
    "lab-cloud-east": ("203.0.113.0/25",),
    "lab-cloud-west": ("198.51.100.128/25",),
    "lab-cloud-v6": ("2001:db8:dc00::/40",),
}

# User-Agent markers of browsers driven by software that says so (SignalAutomatedBrowser).
# Course's model: each tool's default User-Agent names it (Chrome's headless mode sends
# "HeadlessChrome"; PhantomJS, SlimerJS and HtmlUnit name themselves).
AUTOMATED_BROWSER_UA_MARKERS: tuple[str, ...] = (
    "headlesschrome",
    "phantomjs",
    "slimerjs",
    "htmlunit",
)

# Headers that give away a driven browser when the User-Agent does not. Course's model of what
# TARGETED's browser interrogation finds: real Bot Control reads navigator.webdriver and other
# properties through its challenge script, which the model cannot run, so the lab's traffic
# carries the finding as a header. The first is real: older Chrome DevTools-driven sessions
# (Puppeteer) sent it. Client hints naming HeadlessChrome are checked too.
AUTOMATION_HINT_HEADERS: tuple[str, ...] = (
    "x-devtools-emulate-network-conditions-client-id",
    "x-webdriver",
)
AUTOMATION_CLIENT_HINT_MARKERS: tuple[str, ...] = ("headlesschrome",)

# What a browser's User-Agent looks like (SignalNonBrowserUserAgent inspects for ones that
# do not). Course's model: every current browser sends "Mozilla/5.0 (<platform>) <engine>",
# with a WebKit, Gecko or Trident engine token.
BROWSER_UA = re.compile(r"^Mozilla/5\.0 \([^)]+\) .*(AppleWebKit/|Gecko/|Trident/)")


@dataclass(frozen=True)
class BotIdentity:
    """Who a request says it is, and whether its source proves it."""

    signature: BotSignature
    verified: bool


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[re.Pattern[str], BotSignature], ...]:
    return tuple((re.compile(sig.pattern, re.IGNORECASE), sig) for sig in BOT_SIGNATURES)


@lru_cache(maxsize=4096)
def _parse_ip(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(ip.strip())
    except ValueError:
        return None


def ip_in_ranges(ip: str, ranges: tuple[str, ...]) -> bool:
    """Whether ``ip`` (v4 or v6 text) lies in one of ``ranges``; an unparsable IP never does."""
    address = _parse_ip(ip)
    if address is None:
        return False
    return any(address in net for net in _networks_cached(ranges))


@cache
def _networks_cached(ranges: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(cidr) for cidr in ranges)


def identify_bot(user_agent: str | None, client_ip: str) -> BotIdentity | None:
    """The bot a User-Agent names, verified when the source is in its operator's ranges."""
    if not user_agent:
        return None
    sig = signature_of(user_agent)
    if sig is None:
        return None
    ranges = VERIFIED_BOT_RANGES.get(sig.verifier or "", ())
    return BotIdentity(sig, bool(ranges) and ip_in_ranges(client_ip, ranges))


@lru_cache(maxsize=4096)
def signature_of(user_agent: str) -> BotSignature | None:
    """The first signature (in table order) whose pattern the User-Agent holds. Remembered
    per User-Agent: traffic repeats a few of them thousands of times."""
    for pattern, sig in _compiled():
        if pattern.search(user_agent):
            return sig
    return None


def data_center(client_ip: str) -> str | None:
    """The (fake) data center a source address belongs to, or None."""
    for provider, ranges in DATA_CENTER_RANGES.items():
        if ip_in_ranges(client_ip, ranges):
            return provider
    return None


def is_browser_user_agent(user_agent: str | None) -> bool:
    return bool(user_agent) and BROWSER_UA.search(user_agent or "") is not None


def self_identified_automation(user_agent: str | None) -> bool:
    """Whether the User-Agent names a browser-automation tool."""
    text = (user_agent or "").lower()
    return any(marker in text for marker in AUTOMATED_BROWSER_UA_MARKERS)


def automation_hints(headers: tuple[tuple[str, str], ...]) -> bool:
    """Whether headers betray a driven browser that does not say so in its User-Agent."""
    for name, value in headers:
        key = name.lower()
        if key in AUTOMATION_HINT_HEADERS:
            return True
        if key == "sec-ch-ua" and any(m in value.lower() for m in AUTOMATION_CLIENT_HINT_MARKERS):
            return True
    return False
