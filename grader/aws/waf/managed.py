"""Models of AWS managed rule groups, and the registry the web ACL evaluator looks them up in.

Modelled: the Core rule set (AWSManagedRulesCommonRuleSet), Known bad inputs
(AWSManagedRulesKnownBadInputsRuleSet), SQL database (AWSManagedRulesSQLiRuleSet), the Amazon
IP reputation list (AWSManagedRulesAmazonIpReputationList), and Bot Control (botcontrol.py).
Rule names, order, default actions, labels, size limits and WCUs follow the AWS WAF Developer
Guide's rule group pages: "Baseline rule groups"
(https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html),
"Use-case specific rule groups" (.../aws-managed-rule-groups-use-case.html) and "IP reputation
rule groups" (.../aws-managed-rule-groups-ip-rep.html).

AWS publishes only example patterns for each rule, so the detection here is the course's
model: the documented examples and a few textbook variants of the same attack, after the
decoding an attacker's encoding would need (URL decoding twice, HTML entities, lower case).
Ordinary traffic - a browser page load, a JSON login, a search with quotes in prose - matches
nothing.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_plus

from grader.aws.waf import botcontrol
from grader.aws.waf.bot_signatures import ip_in_ranges
from grader.aws.waf.groups import GroupOutcome, RuleHit
from grader.aws.waf.request import WafRequest

VENDOR = "AWS"
CORE_RULE_SET = "AWSManagedRulesCommonRuleSet"
KNOWN_BAD_INPUTS = "AWSManagedRulesKnownBadInputsRuleSet"
SQL_DATABASE = "AWSManagedRulesSQLiRuleSet"
IP_REPUTATION = "AWSManagedRulesAmazonIpReputationList"
BOT_CONTROL = botcontrol.NAME

GroupModel = Callable[[WafRequest, Mapping], GroupOutcome]

# Each group's capacity in WCUs, as its page in the developer guide states it.
GROUP_CAPACITY: dict[tuple[str, str], int] = {
    (VENDOR, CORE_RULE_SET): 700,
    (VENDOR, KNOWN_BAD_INPUTS): 200,
    (VENDOR, SQL_DATABASE): 200,
    (VENDOR, IP_REPUTATION): 25,
    (VENDOR, BOT_CONTROL): 50,
}

# The namespace every label of a group starts with (developer guide, each rule's Label).
GROUP_LABEL_NAMESPACES: dict[tuple[str, str], str] = {
    (VENDOR, CORE_RULE_SET): "awswaf:managed:aws:core-rule-set:",
    (VENDOR, KNOWN_BAD_INPUTS): "awswaf:managed:aws:known-bad-inputs:",
    (VENDOR, SQL_DATABASE): "awswaf:managed:aws:sql-database:",
    (VENDOR, IP_REPUTATION): "awswaf:managed:aws:amazon-ip-list:",
    (VENDOR, BOT_CONTROL): botcontrol.LABEL_NAMESPACE,
}

# How much of a body WAF inspects by default: 8 KB for regional web ACLs (16 KB for
# CloudFront's, raisable to 64 KB); the rules use the Continue oversize handling, so they
# inspect what fits. Source: the body rules' notes on the "Baseline rule groups" page.
BODY_INSPECTION_LIMIT = 8 * 1024

# SizeRestrictions_* limits in bytes ("Baseline rule groups", Core rule set).
MAX_QUERY_STRING = 2048
MAX_COOKIE_HEADER = 10240
MAX_BODY = 8192
MAX_URI_PATH = 1024


@dataclass(frozen=True)
class _Parts:
    """The parts of a request the rules inspect, as sent (``decoded`` is applied per rule)."""

    query_string: str
    query_values: tuple[str, ...]
    uri: str
    cookie_header: str
    cookie_values: tuple[str, ...]
    body: str
    body_values: tuple[str, ...]
    body_size: int
    headers: tuple[tuple[str, str], ...]
    method: str
    client_ip: str


def decoded(text: str) -> str:
    """The text as the rules compare it: URL-decoded twice (double encoding), HTML entities
    decoded, lower case - the course's model of the managed rules' text transformations."""
    return html.unescape(unquote_plus(unquote_plus(text))).lower()


def _parts(request: WafRequest) -> _Parts:
    cookie_header = "; ".join(request.header_values("cookie"))
    cookie_values = tuple(
        part.partition("=")[2].strip() for part in cookie_header.split(";") if "=" in part
    )
    query_values = tuple(v for _, v in parse_qsl(request.args, keep_blank_values=True))
    body = request.body[:BODY_INSPECTION_LIMIT].decode("utf-8", errors="replace")
    return _Parts(
        query_string=request.args,
        query_values=query_values,
        uri=request.uri,
        cookie_header=cookie_header,
        cookie_values=cookie_values,
        body=body,
        body_values=(body, *_body_values(body)),
        body_size=len(request.body),
        headers=request.headers,
        method=request.method,
        client_ip=request.client_ip,
    )


def _body_values(body: str) -> tuple[str, ...]:
    """The values inside a JSON or form body, each of which the model also inspects alone, as
    a SQL parser would see the value the application pulls out (course's model: AWS's body
    rules read the body as text with a detector that knows where a string ends)."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        if "=" in body and "\n" not in body:
            return tuple(v for _, v in parse_qsl(body, keep_blank_values=True))
        return ()
    values: list[str] = []
    stack = [document]
    while stack and len(values) < 1000:
        item = stack.pop()
        if isinstance(item, str):
            values.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return tuple(values)


def _any(patterns: tuple[re.Pattern[str], ...], texts: tuple[str, ...] | list[str]) -> bool:
    for text in texts:
        value = decoded(text)
        if any(p.search(value) for p in patterns):
            return True
    return False


def _compile(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE | re.DOTALL) for p in patterns)


# --- Attack patterns (course's model; each names the documented example it grows from) ---

# UserAgent_BadBots_HEADER: "Example patterns include nessus, and nmap."
BAD_BOT_USER_AGENTS = _compile(r"nessus", r"\bnmap\b")

# EC2MetaDataSSRF_*: attempts to reach the EC2 instance metadata service, by its documented
# addresses (169.254.169.254 and fd00:ec2::254, EC2 User Guide "Access instance metadata") or
# the decimal and hex spellings of the IPv4 one.
EC2_METADATA = _compile(
    r"169\.254\.169\.254",
    r"fd00:ec2::254",
    r"(?:^|[/@])(?:2852039166|0xa9fea9fe)(?:[:/]|$)",
)

# GenericLFI_*: "path traversal attempts using techniques like ../../" (two or more levels,
# or one that reaches a well-known system file).
PATH_TRAVERSAL = _compile(
    r"(?:\.\.[/\\]){2,}",
    r"\.\.[/\\].{0,200}?(?:etc[/\\](?:passwd|shadow)|win\.ini|boot\.ini)",
)

# RestrictedExtensions_*: "extensions like .log and .ini"; the rest are from OWASP CRS's
# restricted_extensions list (crs-setup.conf), which the course takes as the same family.
RESTRICTED_EXTENSION = _compile(
    r"\.(?:log|ini|bak|backup|cfg|conf|config|sql|swp|old|db|mdb|key|pwd|dll|bat|cmd)$"
)

# GenericRFI_*: "URLs that contain IPv4 addresses ... http://, https://, ftp://, ftps://, and
# file://".
REMOTE_FILE_URL = _compile(r"(?:https?|ftps?|file)://\d{1,3}(?:\.\d{1,3}){3}")

# CrossSiteScripting_*: "scripts like <script>alert("hello")</script>", and the textbook
# variants OWASP's XSS Filter Evasion Cheat Sheet starts with: event handler attributes,
# javascript: URLs that call something, and frames.
XSS = _compile(
    r"<\s*script\b",
    r"<[^>]{0,200}?\bon[a-z]+\s*=",
    r"\bjavascript\s*:\s*[a-z_$][\w$.]*\s*\(",
    r"<\s*(?:iframe|object|embed)\b",
)

# JavaDeserializationRCE_*: "(java.lang.Runtime).getRuntime().exec("whoami")", and the Spring
# Core / Cloud Function payloads the rule names (CVE-2022-22965's class.module.classLoader,
# CVE-2022-22963's T(java.lang.Runtime) routing expression).
JAVA_DESERIALIZATION = _compile(
    r"java\.lang\.(?:runtime|processbuilder)",
    r"getruntime\s*\(\s*\)\s*\.\s*exec",
    r"class\.module\.classloader",
)

# Log4JRCE_*: "${jndi:ldap://example.com/}", after undoing Log4j's own nested lookups that
# attackers use to hide it (${lower:j}, ${::-j}, ${env:X:-j}).
_LOG4J_DEFAULT = re.compile(r"\$\{[^${}]*?:-([^${}]*)\}")
_LOG4J_CASE = re.compile(r"\$\{(?:lower|upper):([^${}]*)\}", re.IGNORECASE)
_LOG4J_JNDI = re.compile(r"\$\{\s*jndi\s*:", re.IGNORECASE)

# Host_localhost_HEADER: "Example patterns include localhost."
LOCALHOST_HOST = _compile(r"^\s*localhost\.?(?::\d+)?\s*$")

# ExploitablePaths_URIPATH: "paths like web-inf".
EXPLOITABLE_PATH = _compile(r"(?:^|/)web-inf(?:/|$)")

# SQLi_*: the built-in SQL injection statement at LOW sensitivity. AWS does not publish its
# detector; the course models the classic injections of OWASP's "SQL Injection" page:
# tautologies after a closing quote, UNION SELECT, stacked statements, a quote closed by a
# comment at the end of the value.
SQLI = _compile(
    r"['\"][\s)]*(?:or|and|\|\||&&)[\s(]+['\"]?\w+['\"]?\s*(?:=|<>|!=)[\s(]*['\"]?\w+",
    r"\b(?:or|and)\s+(\d+)\s*=\s*\1\b",
    r"\bunion(?:\s+(?:all|distinct))?\s+select\b",
    r";\s*(?:drop|delete|insert|update|alter|truncate|exec|shutdown)\s",
    r"['\"][\s)]*(?:--|#)\s*$",
)

# SQLiExtendedPatterns_*: "patterns ... not covered by" SQLi_*; the course's model takes the
# time-based and schema-probing forms from the same OWASP page.
SQLI_EXTENDED = _compile(
    r"\b(?:sleep|benchmark|pg_sleep)\s*\(\s*\d",
    r"\bwaitfor\s+delay\s+'",
    r"\binformation_schema\b",
    r"@@version\b",
    r"\b(?:load_file\s*\(|into\s+(?:out|dump)file\b)",
    r"\b(?:extractvalue|updatexml)\s*\(",
)


_SQL_COMMENT = re.compile(r"/\*.{0,256}?\*/", re.DOTALL)


def _sql_text(text: str) -> str:
    # Inline comments (UN/**/ION) are whitespace to a SQL parser.
    return _SQL_COMMENT.sub(" ", decoded(text))


def _sqli(patterns: tuple[re.Pattern[str], ...], texts: tuple[str, ...]) -> bool:
    return any(p.search(_sql_text(t)) for t in texts for p in patterns)


def has_log4j_lookup(text: str) -> bool:
    """Whether the text holds a JNDI lookup once Log4j's nested lookups are undone."""
    value = decoded(text)
    for _ in range(10):  # bounded: each pass removes one level of nesting
        unwrapped = _LOG4J_CASE.sub(r"\1", _LOG4J_DEFAULT.sub(r"\1", value))
        if unwrapped == value:
            break
        value = unwrapped
    return _LOG4J_JNDI.search(value) is not None


def _header_texts(parts: _Parts) -> tuple[str, ...]:
    # The header rules inspect "the keys and values of HTTP request headers".
    return tuple(f"{name}: {value}" for name, value in parts.headers)


def _header(parts: _Parts, name: str) -> str | None:
    return next((v for k, v in parts.headers if k.lower() == name), None)


# --- The rule groups ---


@dataclass(frozen=True)
class ManagedRule:
    """A rule of a modelled group: name, default action, label, and what it matches."""

    name: str
    action: str
    label: str
    matches: Callable[[_Parts], bool]


def _rules(namespace: str, *rows: tuple[str, str, Callable[[_Parts], bool]]) -> tuple:
    return tuple(
        ManagedRule(name, "Block", namespace + label, check) for name, label, check in rows
    )


# Core rule set, in the order of its page (rule names, labels, Block actions, size limits).
CORE_RULES: tuple[ManagedRule, ...] = _rules(
    GROUP_LABEL_NAMESPACES[(VENDOR, CORE_RULE_SET)],
    ("NoUserAgent_HEADER", "NoUserAgent_Header", lambda p: not _header(p, "user-agent")),
    (
        "UserAgent_BadBots_HEADER",
        "BadBots_Header",
        lambda p: _any(BAD_BOT_USER_AGENTS, [_header(p, "user-agent") or ""]),
    ),
    (
        "SizeRestrictions_QUERYSTRING",
        "SizeRestrictions_QueryString",
        lambda p: len(p.query_string.encode()) > MAX_QUERY_STRING,
    ),
    (
        "SizeRestrictions_Cookie_HEADER",
        "SizeRestrictions_Cookie_Header",
        lambda p: len(p.cookie_header.encode()) > MAX_COOKIE_HEADER,
    ),
    ("SizeRestrictions_BODY", "SizeRestrictions_Body", lambda p: p.body_size > MAX_BODY),
    (
        "SizeRestrictions_URIPATH",
        "SizeRestrictions_URIPath",
        lambda p: len(p.uri.encode()) > MAX_URI_PATH,
    ),
    ("EC2MetaDataSSRF_BODY", "EC2MetaDataSSRF_Body", lambda p: _any(EC2_METADATA, p.body_values)),
    (
        "EC2MetaDataSSRF_COOKIE",
        "EC2MetaDataSSRF_Cookie",
        lambda p: _any(EC2_METADATA, p.cookie_values),
    ),
    ("EC2MetaDataSSRF_URIPATH", "EC2MetaDataSSRF_URIPath", lambda p: _any(EC2_METADATA, [p.uri])),
    (
        "EC2MetaDataSSRF_QUERYARGUMENTS",
        "EC2MetaDataSSRF_QueryArguments",
        lambda p: _any(EC2_METADATA, p.query_values),
    ),
    (
        "GenericLFI_QUERYARGUMENTS",
        "GenericLFI_QueryArguments",
        lambda p: _any(PATH_TRAVERSAL, p.query_values),
    ),
    ("GenericLFI_URIPATH", "GenericLFI_URIPath", lambda p: _any(PATH_TRAVERSAL, [p.uri])),
    ("GenericLFI_BODY", "GenericLFI_Body", lambda p: _any(PATH_TRAVERSAL, p.body_values)),
    (
        "RestrictedExtensions_URIPATH",
        "RestrictedExtensions_URIPath",
        lambda p: _any(RESTRICTED_EXTENSION, [p.uri]),
    ),
    (
        "RestrictedExtensions_QUERYARGUMENTS",
        "RestrictedExtensions_QueryArguments",
        lambda p: _any(RESTRICTED_EXTENSION, p.query_values),
    ),
    (
        "GenericRFI_QUERYARGUMENTS",
        "GenericRFI_QueryArguments",
        lambda p: _any(REMOTE_FILE_URL, p.query_values),
    ),
    ("GenericRFI_BODY", "GenericRFI_Body", lambda p: _any(REMOTE_FILE_URL, p.body_values)),
    ("GenericRFI_URIPATH", "GenericRFI_URIPath", lambda p: _any(REMOTE_FILE_URL, [p.uri])),
    (
        "CrossSiteScripting_COOKIE",
        "CrossSiteScripting_Cookie",
        lambda p: _any(XSS, p.cookie_values),
    ),
    (
        "CrossSiteScripting_QUERYARGUMENTS",
        "CrossSiteScripting_QueryArguments",
        lambda p: _any(XSS, p.query_values),
    ),
    ("CrossSiteScripting_BODY", "CrossSiteScripting_Body", lambda p: _any(XSS, p.body_values)),
    ("CrossSiteScripting_URIPATH", "CrossSiteScripting_URIPath", lambda p: _any(XSS, [p.uri])),
)

# Known bad inputs, in the order of its page.
KNOWN_BAD_INPUT_RULES: tuple[ManagedRule, ...] = _rules(
    GROUP_LABEL_NAMESPACES[(VENDOR, KNOWN_BAD_INPUTS)],
    (
        "JavaDeserializationRCE_HEADER",
        "JavaDeserializationRCE_Header",
        lambda p: _any(JAVA_DESERIALIZATION, _header_texts(p)),
    ),
    (
        "JavaDeserializationRCE_BODY",
        "JavaDeserializationRCE_Body",
        lambda p: _any(JAVA_DESERIALIZATION, p.body_values),
    ),
    (
        "JavaDeserializationRCE_URIPATH",
        "JavaDeserializationRCE_URIPath",
        lambda p: _any(JAVA_DESERIALIZATION, [p.uri]),
    ),
    (
        "JavaDeserializationRCE_QUERYSTRING",
        "JavaDeserializationRCE_QueryString",
        lambda p: _any(JAVA_DESERIALIZATION, [p.query_string]),
    ),
    (
        "Host_localhost_HEADER",
        "Host_Localhost_Header",
        lambda p: _any(LOCALHOST_HOST, [_header(p, "host") or ""]),
    ),
    ("PROPFIND_METHOD", "Propfind_Method", lambda p: p.method.upper() == "PROPFIND"),
    (
        "ExploitablePaths_URIPATH",
        "ExploitablePaths_URIPath",
        lambda p: _any(EXPLOITABLE_PATH, [p.uri]),
    ),
    (
        "Log4JRCE_HEADER",
        "Log4JRCE_Header",
        lambda p: any(has_log4j_lookup(t) for t in _header_texts(p)),
    ),
    ("Log4JRCE_QUERYSTRING", "Log4JRCE_QueryString", lambda p: has_log4j_lookup(p.query_string)),
    ("Log4JRCE_BODY", "Log4JRCE_Body", lambda p: any(has_log4j_lookup(t) for t in p.body_values)),
    ("Log4JRCE_URIPATH", "Log4JRCE_URIPath", lambda p: has_log4j_lookup(p.uri)),
)

# SQL database, in the order of its page.
SQLI_RULES: tuple[ManagedRule, ...] = _rules(
    GROUP_LABEL_NAMESPACES[(VENDOR, SQL_DATABASE)],
    ("SQLi_QUERYARGUMENTS", "SQLi_QueryArguments", lambda p: _sqli(SQLI, p.query_values)),
    (
        "SQLiExtendedPatterns_QUERYARGUMENTS",
        "SQLiExtendedPatterns_QueryArguments",
        lambda p: _sqli(SQLI_EXTENDED, p.query_values),
    ),
    ("SQLi_BODY", "SQLi_Body", lambda p: _sqli(SQLI, p.body_values)),
    (
        "SQLiExtendedPatterns_BODY",
        "SQLiExtendedPatterns_Body",
        lambda p: _sqli(SQLI_EXTENDED, p.body_values),
    ),
    ("SQLi_COOKIE", "SQLi_Cookie", lambda p: _sqli(SQLI, p.cookie_values)),
)

# The Amazon IP reputation list's addresses. AWS's lists come from its internal threat
# intelligence and are private; the course's stand-in is documentation addresses (RFC 5737
# TEST-NET-1, 192.0.2.0/24, and RFC 3849's 2001:db8::/32), so no real network is named.
# 192.0.2.0/26 is left for ordinary clients; the Bot Control model's data centers use other
# TEST-NETs (bot_signatures.DATA_CENTER_RANGES).
IP_REPUTATION_RANGES: dict[str, tuple[str, ...]] = {
    "AWSManagedIPReputationList": ("192.0.2.64/26", "2001:db8:bad::/48"),
    "AWSManagedReconnaissanceList": ("192.0.2.128/26", "2001:db8:5ca0::/48"),
    "AWSManagedIPDDoSList": ("192.0.2.192/26", "2001:db8:dd05::/48"),
}

# The IP reputation rules: Block, Block, and Count for the DDoS list (its page).
IP_REPUTATION_RULES: tuple[ManagedRule, ...] = tuple(
    ManagedRule(
        name,
        "Count" if name == "AWSManagedIPDDoSList" else "Block",
        GROUP_LABEL_NAMESPACES[(VENDOR, IP_REPUTATION)] + name,
        lambda p, ranges=ranges: ip_in_ranges(p.client_ip, ranges),
    )
    for name, ranges in IP_REPUTATION_RANGES.items()
)


def _outcome(rules: tuple[ManagedRule, ...], request: WafRequest) -> GroupOutcome:
    parts = _parts(request)
    hits = tuple(RuleHit(r.name, r.action, (r.label,)) for r in rules if r.matches(parts))
    return GroupOutcome(hits=hits)


def core_rule_set(request: WafRequest, config: Mapping) -> GroupOutcome:
    """AWSManagedRulesCommonRuleSet (the Core rule set)."""
    return _outcome(CORE_RULES, request)


def known_bad_inputs(request: WafRequest, config: Mapping) -> GroupOutcome:
    """AWSManagedRulesKnownBadInputsRuleSet."""
    return _outcome(KNOWN_BAD_INPUT_RULES, request)


def sql_database(request: WafRequest, config: Mapping) -> GroupOutcome:
    """AWSManagedRulesSQLiRuleSet."""
    return _outcome(SQLI_RULES, request)


def ip_reputation(request: WafRequest, config: Mapping) -> GroupOutcome:
    """AWSManagedRulesAmazonIpReputationList, on the request's source IP (not a forwarded one:
    the page says these rules use the web request origin)."""
    return _outcome(IP_REPUTATION_RULES, request)


def managed_groups() -> dict[tuple[str, str], GroupModel]:
    """A fresh registry of the modelled groups, keyed by (VendorName, Name). Its Bot Control
    is a new ``BotControl()`` that remembers the requests it sees, so the volumetric and
    token-reuse rules work: take a fresh registry for each replayed timeline."""
    return {
        (VENDOR, CORE_RULE_SET): core_rule_set,
        (VENDOR, KNOWN_BAD_INPUTS): known_bad_inputs,
        (VENDOR, SQL_DATABASE): sql_database,
        (VENDOR, IP_REPUTATION): ip_reputation,
        (VENDOR, BOT_CONTROL): botcontrol.BotControl(),
    }


# The stateless registry: every group judges each request alone (Bot Control's volumetric and
# token-reuse rules never match through it; use managed_groups() for a replay).
MANAGED_GROUPS: dict[tuple[str, str], GroupModel] = {
    **managed_groups(),
    (VENDOR, BOT_CONTROL): botcontrol.bot_control,
}

# The name evaluate.default_registry() looks for (it adds its own fresh BotControl()).
MODELS = MANAGED_GROUPS

# Each group's rules in order with their default actions (for checking ExcludedRules and
# RuleActionOverrides names), and every label it can emit.
GROUP_RULES: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    (VENDOR, CORE_RULE_SET): tuple((r.name, r.action) for r in CORE_RULES),
    (VENDOR, KNOWN_BAD_INPUTS): tuple((r.name, r.action) for r in KNOWN_BAD_INPUT_RULES),
    (VENDOR, SQL_DATABASE): tuple((r.name, r.action) for r in SQLI_RULES),
    (VENDOR, IP_REPUTATION): tuple((r.name, r.action) for r in IP_REPUTATION_RULES),
    (VENDOR, BOT_CONTROL): tuple((r.name, r.action) for r in botcontrol.RULES),
}
GROUP_LABELS: dict[tuple[str, str], frozenset[str]] = {
    (VENDOR, CORE_RULE_SET): frozenset(r.label for r in CORE_RULES),
    (VENDOR, KNOWN_BAD_INPUTS): frozenset(r.label for r in KNOWN_BAD_INPUT_RULES),
    (VENDOR, SQL_DATABASE): frozenset(r.label for r in SQLI_RULES),
    (VENDOR, IP_REPUTATION): frozenset(r.label for r in IP_REPUTATION_RULES),
    (VENDOR, BOT_CONTROL): botcontrol.LABELS,
}
