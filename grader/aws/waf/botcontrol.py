"""A model of the AWS managed rule group AWSManagedRulesBotControlRuleSet (Bot Control).

What it follows, from the AWS WAF Developer Guide page "AWS WAF Bot Control rule group"
(https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-bot.html):

- Two inspection levels. COMMON labels self-identifying bots and blocks the ones it cannot
  verify; TARGETED adds the ``TGT_`` rules, and ``TGT_ML_`` ones only while
  ``EnableMachineLearning`` is on (the default).
- A Category rule matches only *unverified* bots of its category (default action Block). A
  verified bot matches no rule: the group only labels it with its name, its category and
  ``bot:verified``, and adds no ``signal:`` labels, "to prevent known good bots from being
  blocked". The targeted rules, too, act only on clients that are not verified bots.
- A matching rule adds its detail label(s) and a label with the rule's own name
  (``awswaf:managed:aws:bot-control:CategoryAdvertising``).

What is the course's model (AWS does not publish it): the signatures, verification ranges and
data centers in ``bot_signatures.py``; ``bot:unverified`` on a bot AWS could verify whose source
fails (a spoofed User-Agent); the thresholds of the volumetric and token-reuse rules below;
a token is an ``aws-waf-token`` cookie (its validity is the web ACL evaluator's business).
``TGT_SignalBrowserAutomationExtension``, ``TGT_TokenReuseAsn*`` (no ASN data) and the
``TGT_ML_`` rules are listed, so overrides may name them, but never match.

Labels that the group adds without a rule matching (a verified bot's; the low and medium
session-volume labels) travel in a ``RuleHit`` named ``groups.LABELS_ONLY_HIT`` with action Count:
``GroupOutcome`` has no other place for them. It is no rule of the group, so ExcludedRules and
RuleActionOverrides cannot reach it, and it never terminates; an evaluator should add its
labels and leave it out of the log's matching rules.

Rules that need history (volumetric, token reuse) count within the object: ``bot_control``
judges each request alone, so they never match through it; a replay uses one ``BotControl()``
over the whole timeline, requests in timestamp order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from grader.aws.waf import bot_signatures as sigs
from grader.aws.waf.groups import LABELS_ONLY_HIT, GroupOutcome, RuleHit
from grader.aws.waf.request import WafRequest

VENDOR = "AWS"
NAME = "AWSManagedRulesBotControlRuleSet"
LABEL_NAMESPACE = "awswaf:managed:aws:bot-control:"

# The name of the pseudo-hit that carries labels added without a rule match (see above).

COMMON = "COMMON"
TARGETED = "TARGETED"

# The cookie in which a client presents its AWS WAF token, as AWS WAF's challenge and SDKs set
# it (developer guide, "Token use in AWS WAF intelligent threat mitigation").
TOKEN_COOKIE = "aws-waf-token"


@dataclass(frozen=True)
class BotRule:
    """A rule of the group: name, default action, the labels it adds, its level."""

    name: str
    action: str
    labels: tuple[str, ...]
    targeted: bool = False
    machine_learning: bool = False


def _rule(
    name: str, action: str, *details: str, targeted: bool = False, ml: bool = False
) -> BotRule:
    labels = tuple(LABEL_NAMESPACE + d for d in details) + (LABEL_NAMESPACE + name,)
    return BotRule(name, action, labels, targeted, ml)


_AGG = "targeted:aggregate:"
_REUSE = _AGG + "volumetric:session:token_reuse:"

# The group's rules in its order, with their default actions and labels. Source: the Bot
# Control rule listing in the developer guide (above) and the group's AvailableLabels. A
# Category rule's labels are its category label plus its own name; the bot:name label is added
# per request.
RULES: tuple[BotRule, ...] = (
    *(_rule(rule, "Block", f"bot:category:{cat}") for cat, rule in sigs.CATEGORY_RULES.items()),
    _rule("SignalAutomatedBrowser", "Block", "signal:automated_browser"),
    _rule("SignalKnownBotDataCenter", "Block", "signal:known_bot_data_center"),
    _rule("SignalNonBrowserUserAgent", "Block", "signal:non_browser_user_agent"),
    _rule(
        "TGT_VolumetricIpTokenAbsent",
        "Challenge",
        _AGG + "volumetric:ip:token_absent",
        targeted=True,
    ),
    _rule("TGT_TokenAbsent", "Count", targeted=True),
    _rule("TGT_VolumetricSession", "Captcha", _AGG + "volumetric:session:high", targeted=True),
    _rule(
        "TGT_VolumetricSessionMaximum", "Block", _AGG + "volumetric:session:maximum", targeted=True
    ),
    _rule(
        "TGT_SignalAutomatedBrowser", "Captcha", "targeted:signal:automated_browser", targeted=True
    ),
    _rule(
        "TGT_SignalBrowserAutomationExtension",
        "Captcha",
        "targeted:signal:browser_automation_extension",
        targeted=True,
    ),
    _rule(
        "TGT_SignalBrowserInconsistency",
        "Captcha",
        "targeted:signal:browser_inconsistency",
        targeted=True,
    ),
    # The TGT_ML_ rules' default actions have changed between versions of the group; these are
    # the latest listing's. The model never matches them (see the module docstring).
    _rule(
        "TGT_ML_CoordinatedActivityLow",
        "Challenge",
        _AGG + "coordinated_activity:low",
        targeted=True,
        ml=True,
    ),
    _rule(
        "TGT_ML_CoordinatedActivityMedium",
        "Captcha",
        _AGG + "coordinated_activity:medium",
        targeted=True,
        ml=True,
    ),
    _rule(
        "TGT_ML_CoordinatedActivityHigh",
        "Captcha",
        _AGG + "coordinated_activity:high",
        targeted=True,
        ml=True,
    ),
    *(
        _rule(
            f"TGT_TokenReuse{kind.capitalize()}{level}",
            action,
            f"{_REUSE}{kind}:{level.lower()}",
            targeted=True,
        )
        for kind in ("ip", "country", "asn")
        for level, action in (("Low", "Count"), ("Medium", "Captcha"), ("High", "Block"))
    ),
)
RULES_BY_NAME: dict[str, BotRule] = {r.name: r for r in RULES}
RULE_NAMES: tuple[str, ...] = tuple(r.name for r in RULES)
_RULE_ORDER = {name: i for i, name in enumerate(RULE_NAMES)}

_VERIFIED = LABEL_NAMESPACE + "bot:verified"
_UNVERIFIED = LABEL_NAMESPACE + "bot:unverified"
_SESSION_LEVEL_LABELS = {
    level: f"{LABEL_NAMESPACE}{_AGG}volumetric:session:{level}" for level in ("low", "medium")
}

# Every label the group can emit in this model (other modules check LabelMatchStatements
# against it). The token labels (awswaf:managed:token:*) are outside the group's namespace and
# come from the evaluator's token handling.
LABELS: frozenset[str] = frozenset(
    {label for r in RULES for label in r.labels}
    | {f"{LABEL_NAMESPACE}bot:name:{n}" for s in sigs.BOT_SIGNATURES for n in s.names}
    | {_VERIFIED, _UNVERIFIED}
    | set(_SESSION_LEVEL_LABELS.values())
)

# Real labels of the group that this model never emits, so a checker can tell a label the
# model does not produce from a typo. Source: the rule group page's label list and the group's
# AvailableLabels (newer categories, finer verification, organizations, one more signal).
UNMODELLED_LABELS: frozenset[str] = frozenset(
    LABEL_NAMESPACE + suffix
    for suffix in (
        "bot:category:page_preview",
        "bot:category:webhooks",
        "bot:user_triggered:verified",
        "bot:developer_platform:verified",
        "bot:organization:google",
        "bot:organization:microsoft",
        "signal:non_browser_header",
    )
)

# The model's thresholds for the targeted rules, over the last five minutes of requests.
# TGT_VolumetricIpTokenAbsent's "5 or more requests from a client in the last 5 minutes" without
# a token is documented; AWS compares the others with baselines it keeps and does not publish,
# so these numbers are the course's.
WINDOW_MS = 5 * 60 * 1000
TOKEN_ABSENT_PER_IP = 5
SESSION_LEVELS = (("maximum", 500), ("high", 200), ("medium", 100), ("low", 50))
TOKEN_REUSE_LEVELS = {
    "ip": (("High", 10), ("Medium", 5), ("Low", 3)),
    "country": (("High", 4), ("Medium", 3), ("Low", 2)),
}


def _settings(config: Mapping | list) -> Mapping:
    """The AWSManagedRulesBotControlRuleSet settings from the merged ManagedRuleGroupConfigs
    (a list of configs is merged too; the settings themselves are accepted as they are)."""
    if isinstance(config, list):
        merged: dict = {}
        for item in config:
            if isinstance(item, Mapping):
                merged.update(item)
        config = merged
    if not isinstance(config, Mapping):
        return {}
    inner = config.get(NAME, config)
    return inner if isinstance(inner, Mapping) else {}


def inspection_level(config: Mapping | list) -> str:
    """The InspectionLevel of the group's configuration (COMMON when absent)."""
    return str(_settings(config).get("InspectionLevel", COMMON)).upper()


def machine_learning(config: Mapping | list) -> bool:
    """EnableMachineLearning (default true). The model's TGT_ML_ rules never match either way;
    this tells a caller whether AWS would evaluate them."""
    return bool(_settings(config).get("EnableMachineLearning", True))


def waf_token(request: WafRequest) -> str | None:
    """The value of the request's aws-waf-token cookie, if it sends one."""
    for header in request.header_values("cookie"):
        for part in header.split(";"):
            name, _, value = part.strip().partition("=")
            if name == TOKEN_COOKIE and value:
                return value
    return None


def _labels_only(labels: tuple[str, ...]) -> RuleHit:
    """Labels the group adds without a rule matching (see the module docstring)."""
    return RuleHit(LABELS_ONLY_HIT, "Count", labels)


def _hit(rule_name: str, *extra: str) -> RuleHit:
    # Detail labels, then the per-request ones (bot name), then the rule's own name.
    rule = RULES_BY_NAME[rule_name]
    return RuleHit(rule.name, rule.action, rule.labels[:-1] + tuple(extra) + rule.labels[-1:])


def _browser_inconsistent(request: WafRequest) -> bool:
    """Client hints that contradict the User-Agent's platform (course's model of
    TGT_SignalBrowserInconsistency's "inconsistent browser interrogation data")."""
    platform = (request.header("sec-ch-ua-platform") or "").strip('" ').lower()
    agent = (request.user_agent or "").lower()
    if not platform or not agent:
        return False
    claims = {
        "windows": "windows nt",
        "macos": "macintosh",
        "linux": "linux",
        "android": "android",
        "ios": "iphone",
    }
    expected = claims.get(platform)
    return expected is not None and expected not in agent


def _common_hits(request: WafRequest) -> tuple[list[RuleHit], bool]:
    """The COMMON-level hits, and whether the client is a verified bot."""
    agent = request.user_agent
    bot = sigs.identify_bot(agent, request.client_ip)
    if bot is not None and bot.verified:
        labels = (
            f"{LABEL_NAMESPACE}bot:category:{bot.signature.category}",
            *(f"{LABEL_NAMESPACE}bot:name:{n}" for n in bot.signature.names),
            _VERIFIED,
        )
        return [_labels_only(labels)], True
    hits: list[RuleHit] = []
    if bot is not None:
        names = tuple(f"{LABEL_NAMESPACE}bot:name:{n}" for n in bot.signature.names)
        if bot.signature.verifier is not None:
            names += (_UNVERIFIED,)
        hits.append(_hit(sigs.CATEGORY_RULES[bot.signature.category], *names))
    if sigs.self_identified_automation(agent) or sigs.automation_hints(_client_hints(request)):
        hits.append(_hit("SignalAutomatedBrowser"))
    if sigs.data_center(request.client_ip) is not None:
        hits.append(_hit("SignalKnownBotDataCenter"))
    if not sigs.is_browser_user_agent(agent):
        hits.append(_hit("SignalNonBrowserUserAgent"))
    return hits, False


def _client_hints(request: WafRequest) -> tuple[tuple[str, str], ...]:
    # COMMON sees only what a client says about itself: its client hints, not the
    # interrogation findings that need TARGETED's challenge script.
    return tuple((k, v) for k, v in request.headers if k.lower() == "sec-ch-ua")


class BotControl:
    """Bot Control for one timeline of requests: a callable group model with memory.

    Call it with requests in timestamp order. It remembers, per client IP, the requests
    without a token, and per token the requests, source IPs and countries seen within
    ``WINDOW_MS``, which the TARGETED volumetric and token-reuse rules count.
    """

    def __init__(self) -> None:
        self._tokenless: dict[str, deque[int]] = {}
        self._sessions: dict[str, deque[int]] = {}
        self._token_ips: dict[str, dict[str, int]] = {}
        self._token_countries: dict[str, dict[str, int]] = {}

    def __call__(self, request: WafRequest, config: Mapping) -> GroupOutcome:
        hits, verified = _common_hits(request)
        if inspection_level(config) == TARGETED and not verified:
            hits.extend(self._targeted_hits(request))
        hits.sort(key=lambda h: _RULE_ORDER.get(h.name, -1))  # labels-only first
        return GroupOutcome(hits=tuple(hits))

    def _targeted_hits(self, request: WafRequest) -> list[RuleHit]:
        now = request.timestamp_ms
        token = waf_token(request)
        hits: list[RuleHit] = []
        if token is None:
            seen = _window(self._tokenless.setdefault(request.client_ip, deque()), now)
            seen.append(now)
            hits.append(_hit("TGT_TokenAbsent"))
        else:
            seen = _window(self._tokenless.get(request.client_ip, deque()), now)
        # Documented: a client over the limit can match even on a request that has a token.
        if len(seen) >= TOKEN_ABSENT_PER_IP:
            hits.append(_hit("TGT_VolumetricIpTokenAbsent"))
        if token is None:
            return hits  # the remaining targeted rules inspect only requests with a token
        session = _window(self._sessions.setdefault(token, deque()), now)
        session.append(now)
        level = next((name for name, floor in SESSION_LEVELS if len(session) >= floor), None)
        if level == "maximum":
            hits.append(_hit("TGT_VolumetricSession"))
            hits.append(_hit("TGT_VolumetricSessionMaximum"))
        elif level == "high":
            hits.append(_hit("TGT_VolumetricSession"))
        elif level is not None:
            hits.append(_labels_only((_SESSION_LEVEL_LABELS[level],)))
        if sigs.self_identified_automation(request.user_agent) or sigs.automation_hints(
            request.headers
        ):
            hits.append(_hit("TGT_SignalAutomatedBrowser"))
        if _browser_inconsistent(request):
            hits.append(_hit("TGT_SignalBrowserInconsistency"))
        reuse = (
            ("ip", self._token_ips, request.client_ip),
            ("country", self._token_countries, request.country),
        )
        for kind, table, key in reuse:
            seen_keys = table.setdefault(token, {})
            if key:
                seen_keys[key] = now
            for stale in [k for k, t in seen_keys.items() if t <= now - WINDOW_MS]:
                del seen_keys[stale]
            for level_name, floor in TOKEN_REUSE_LEVELS[kind]:
                if len(seen_keys) >= floor:
                    hits.append(_hit(f"TGT_TokenReuse{kind.capitalize()}{level_name}"))
                    break
        return hits


def _window(times: deque[int], now: int) -> deque[int]:
    while times and times[0] <= now - WINDOW_MS:
        times.popleft()
    return times


def bot_control(request: WafRequest, config: Mapping) -> GroupOutcome:
    """Bot Control judging one request with no history: the volumetric and token-reuse
    rules cannot match here (use a ``BotControl()`` over a timeline for those)."""
    return BotControl()(request, config)
