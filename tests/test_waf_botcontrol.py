"""The Bot Control model: which rules match which clients, with which labels, at which level."""

from __future__ import annotations

import pytest

from grader.aws.waf import bot_signatures as sigs
from grader.aws.waf.botcontrol import (
    LABEL_NAMESPACE,
    LABELS,
    LABELS_ONLY_HIT,
    RULE_NAMES,
    RULES,
    TOKEN_ABSENT_PER_IP,
    UNMODELLED_LABELS,
    WINDOW_MS,
    BotControl,
    bot_control,
)
from grader.aws.waf.request import WafRequest

NS = LABEL_NAMESPACE
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
HOME_IP = "198.51.100.7"  # an ordinary client: outside every modelled range
DATA_CENTER_IP = "203.0.113.20"  # the lab's fake cloud "lab-cloud-east"
COMMON = {"AWSManagedRulesBotControlRuleSet": {"InspectionLevel": "COMMON"}}
TARGETED = {"AWSManagedRulesBotControlRuleSet": {"InspectionLevel": "TARGETED"}}


def req(
    user_agent: str | None = CHROME, ip: str = HOME_IP, *extra: tuple[str, str], **kw
) -> WafRequest:
    headers = (("Host", "shop.example.com"),)
    if user_agent is not None:
        headers += (("User-Agent", user_agent),)
    return WafRequest(client_ip=ip, headers=headers + extra, **kw)


def names(outcome) -> list[str]:
    return [h.name for h in outcome.hits]


def labels(outcome) -> set[str]:
    return {label for h in outcome.hits for label in h.labels}


def test_a_browser_from_home_gets_no_rule_and_no_bot_label():
    for config in (COMMON, TARGETED):
        outcome = bot_control(req(CHROME, HOME_IP, ("Cookie", "aws-waf-token=t1")), config)
        assert outcome.hits == ()
        assert outcome.inspected


# One self-identifying bot per documented category: (User-Agent, category, a bot:name).
CATEGORY_CASES = [
    ("AdsBot-Google (+http://www.google.com/adsbot.html)", "advertising", "google_adsbot"),
    ("Mozilla/5.0 (compatible; archive.org_bot +http://archive.org/details/archive.org_bot)",
     "archiver", "internet_archive"),
    ("FeedFetcher-Google; (+http://www.google.com/feedfetcher.html)", "content_fetcher",
     "google_feedfetcher"),
    ("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
     "email_client", "yahoo_mail"),
    ("python-requests/2.31.0", "http_library", "python_requests"),
    ("W3C-checklink/4.81 libwww-perl/6.72", "link_checker", "w3c"),
    ("Mozilla/5.0 (compatible; Wappalyzer)", "miscellaneous", "wappalyzer"),
    ("Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", "monitoring",
     "uptimerobot"),
    ("Scrapy/2.11.0 (+https://scrapy.org)", "scraping_framework", "scrapy"),
    ("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", "search_engine",
     "yandexbot"),
    ("Mozilla/5.0 (compatible; Detectify) +https://detectify.com/bot/", "security", "detectify"),
    ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", "seo", "ahrefsbot"),
    ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
     "social_media", "facebook"),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.1; "
     "+https://openai.com/gptbot)", "ai", "gptbot"),
]  # fmt: skip


@pytest.mark.parametrize(("agent", "category", "bot_name"), CATEGORY_CASES)
def test_does_each_category_rule_block_its_unverified_bot(agent, category, bot_name):
    outcome = bot_control(req(agent), COMMON)
    rule = sigs.CATEGORY_RULES[category]
    hit = next(h for h in outcome.hits if h.name == rule)
    assert hit.action == "Block"
    assert f"{NS}bot:category:{category}" in hit.labels
    assert f"{NS}bot:name:{bot_name}" in hit.labels
    assert f"{NS}{rule}" in hit.labels  # each rule also labels with its own name
    assert f"{NS}bot:verified" not in labels(outcome)
    # A bot the model cannot verify is not "unverified" in the spoofing sense.
    assert f"{NS}bot:unverified" not in labels(outcome)


def test_every_documented_category_has_a_case_above():
    assert {c for _, c, _ in CATEGORY_CASES} == set(sigs.CATEGORY_RULES)


def test_is_googlebot_from_googles_published_range_verified_and_let_through():
    outcome = bot_control(req(GOOGLEBOT, "66.249.66.1"), TARGETED)
    assert [h.action for h in outcome.hits] == ["Count"]
    assert names(outcome) == [LABELS_ONLY_HIT]  # labels, but no rule of the group matched
    assert labels(outcome) == {
        f"{NS}bot:category:search_engine",
        f"{NS}bot:name:googlebot",
        f"{NS}bot:verified",
    }


def test_is_a_spoofed_googlebot_from_a_data_center_blocked_as_unverified():
    outcome = bot_control(req(GOOGLEBOT, DATA_CENTER_IP), COMMON)
    assert names(outcome) == [
        "CategorySearchEngine",
        "SignalKnownBotDataCenter",
        "SignalNonBrowserUserAgent",
    ]
    assert f"{NS}bot:unverified" in labels(outcome)
    assert f"{NS}bot:verified" not in labels(outcome)


def test_is_bingbot_verified_only_from_bings_ranges():
    assert f"{NS}bot:verified" in labels(bot_control(req(BINGBOT, "157.55.39.10"), COMMON))
    spoofed = bot_control(req(BINGBOT, "66.249.66.1"), COMMON)  # Google's range, not Bing's
    assert "CategorySearchEngine" in names(spoofed)


def test_does_a_verified_bot_in_a_data_center_get_no_signal_labels():
    # Verified bots get no signal: labels ("to prevent known good bots from being blocked").
    outcome = bot_control(req(GOOGLEBOT, "2001:4860:4801:10::1"), COMMON)
    assert not any(":signal:" in label for label in labels(outcome))


def test_does_an_http_library_also_carry_the_non_browser_signal():
    outcome = bot_control(req("curl/8.4.0"), COMMON)
    assert names(outcome) == ["CategoryHttpLibrary", "SignalNonBrowserUserAgent"]
    assert f"{NS}bot:name:curl" in labels(outcome)
    assert f"{NS}signal:non_browser_user_agent" in labels(outcome)


def test_does_a_request_without_a_user_agent_count_as_non_browser():
    assert names(bot_control(req(None), COMMON)) == ["SignalNonBrowserUserAgent"]


@pytest.mark.parametrize(
    "agent",
    [
        CHROME.replace("Chrome/", "HeadlessChrome/"),
        "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
        "PhantomJS/2.1.1 Safari/538.1",
    ],
)
def test_is_a_self_identifying_automated_browser_signalled(agent):
    outcome = bot_control(req(agent), COMMON)
    assert names(outcome) == ["SignalAutomatedBrowser"]
    assert outcome.hits[0].action == "Block"
    assert f"{NS}signal:automated_browser" in outcome.hits[0].labels


def test_is_the_data_center_signal_given_on_source_address_alone():
    outcome = bot_control(req(CHROME, DATA_CENTER_IP), COMMON)
    assert names(outcome) == ["SignalKnownBotDataCenter"]
    assert bot_control(req(CHROME, "2001:db8:dc00::9"), COMMON).hits[0].labels[0] == (
        f"{NS}signal:known_bot_data_center"
    )


def test_do_ordinary_documentation_addresses_stay_outside_the_data_centers():
    for ip in ("198.51.100.7", "203.0.113.200", "192.0.2.10", "2001:db8::1"):
        assert sigs.data_center(ip) is None


def test_are_hits_in_the_groups_rule_order():
    outcome = bot_control(req("python-requests/2.31", DATA_CENTER_IP), COMMON)
    order = [RULE_NAMES.index(n) for n in names(outcome)]
    assert order == sorted(order) and len(order) == 3


# --- COMMON versus TARGETED -------------------------------------------------------------


def test_do_targeted_rules_run_only_at_the_targeted_level():
    driven = req(CHROME, HOME_IP, ("Cookie", "aws-waf-token=abc"), ("X-WebDriver", "1"))
    assert bot_control(driven, COMMON).hits == ()
    assert names(bot_control(driven, TARGETED)) == ["TGT_SignalAutomatedBrowser"]
    assert bot_control(driven, TARGETED).hits[0].action == "Captcha"


def test_is_common_the_level_when_no_config_is_given():
    assert bot_control(req(CHROME), {}).hits == ()


def test_does_targeted_need_a_token_for_its_browser_checks():
    # Without a token the targeted browser rules cannot inspect; TGT_TokenAbsent counts it.
    tokenless = req(CHROME, HOME_IP, ("X-WebDriver", "1"))
    assert names(bot_control(tokenless, TARGETED)) == ["TGT_TokenAbsent"]
    assert bot_control(tokenless, TARGETED).hits[0].action == "Count"


def test_is_a_browser_whose_client_hints_contradict_its_user_agent_inconsistent():
    liar = req(CHROME, HOME_IP, ("Cookie", "aws-waf-token=abc"), ("Sec-CH-UA-Platform", '"macOS"'))
    assert names(bot_control(liar, TARGETED)) == ["TGT_SignalBrowserInconsistency"]
    honest = req(
        CHROME, HOME_IP, ("Cookie", "aws-waf-token=abc"), ("Sec-CH-UA-Platform", '"Windows"')
    )
    assert bot_control(honest, TARGETED).hits == ()


def test_does_the_fifth_tokenless_request_in_five_minutes_get_challenged():
    model = BotControl()
    outcomes = [model(req(CHROME, HOME_IP, timestamp_ms=i * 1000), TARGETED) for i in range(5)]
    assert ["TGT_VolumetricIpTokenAbsent" in names(o) for o in outcomes] == [False] * 4 + [True]
    hit = next(h for h in outcomes[-1].hits if h.name == "TGT_VolumetricIpTokenAbsent")
    assert hit.action == "Challenge"
    assert f"{NS}targeted:aggregate:volumetric:ip:token_absent" in hit.labels


def test_does_the_tokenless_count_forget_requests_older_than_five_minutes():
    model = BotControl()
    for i in range(TOKEN_ABSENT_PER_IP - 1):
        model(req(CHROME, HOME_IP, timestamp_ms=i), TARGETED)
    later = model(req(CHROME, HOME_IP, timestamp_ms=WINDOW_MS + 10), TARGETED)
    assert "TGT_VolumetricIpTokenAbsent" not in names(later)


def test_is_the_tokenless_count_kept_per_client_ip():
    model = BotControl()
    for i in range(TOKEN_ABSENT_PER_IP):
        outcome = model(req(CHROME, f"198.51.100.{i + 1}", timestamp_ms=i), TARGETED)
    assert "TGT_VolumetricIpTokenAbsent" not in names(outcome)


def test_does_a_stateless_call_never_see_volume():
    for i in range(TOKEN_ABSENT_PER_IP + 2):
        outcome = bot_control(req(CHROME, HOME_IP, timestamp_ms=i), TARGETED)
    assert "TGT_VolumetricIpTokenAbsent" not in names(outcome)


def test_is_one_token_used_from_many_addresses_token_reuse():
    model = BotControl()
    token = ("Cookie", "aws-waf-token=shared")
    seen = [
        names(model(req(CHROME, f"198.51.100.{i + 1}", token, timestamp_ms=i), TARGETED))
        for i in range(10)
    ]
    assert "TGT_TokenReuseIpLow" not in seen[1]
    assert "TGT_TokenReuseIpLow" in seen[2]
    assert "TGT_TokenReuseIpMedium" in seen[4]
    assert "TGT_TokenReuseIpHigh" in seen[9]


def test_does_a_verified_bot_escape_the_targeted_rules():
    model = BotControl()
    for i in range(TOKEN_ABSENT_PER_IP + 1):
        outcome = model(req(GOOGLEBOT, "66.249.66.1", timestamp_ms=i), TARGETED)
    assert names(outcome) == [LABELS_ONLY_HIT]


def test_is_every_emitted_label_in_labels():
    requests = [req(sig.pattern.strip("^$").replace("\\", "")) for sig in sigs.BOT_SIGNATURES]
    requests += [req(GOOGLEBOT, "66.249.66.1"), req(None, DATA_CENTER_IP)]
    model = BotControl()
    for r in requests:
        assert labels(model(r, TARGETED)) <= LABELS
    assert all(label.startswith(NS) for label in LABELS)


def test_does_every_rule_have_a_documented_action():
    assert {r.action for r in RULES} <= {"Block", "Count", "Captcha", "Challenge"}
    assert all(r.name.startswith("TGT_") == r.targeted for r in RULES)


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        CHROME + " Edg/120.0.2210.61",
    ],
)
def test_do_other_browsers_get_no_bot_labels(agent):
    assert bot_control(req(agent), COMMON).hits == ()


def test_is_the_level_read_from_an_unmerged_list_of_configs_too():
    configs = [{"AWSManagedRulesBotControlRuleSet": {"InspectionLevel": "TARGETED"}}]
    assert names(bot_control(req(CHROME), configs)) == ["TGT_TokenAbsent"]


def test_does_a_busy_session_get_labelled_before_it_is_captchad_then_blocked():
    model = BotControl()
    token = ("Cookie", "aws-waf-token=busy")
    outcomes = [model(req(CHROME, HOME_IP, token, timestamp_ms=i), TARGETED) for i in range(500)]
    assert outcomes[48].hits == ()
    assert labels(outcomes[49]) == {f"{NS}targeted:aggregate:volumetric:session:low"}
    assert names(outcomes[49]) == [LABELS_ONLY_HIT]
    assert labels(outcomes[99]) == {f"{NS}targeted:aggregate:volumetric:session:medium"}
    assert [(h.name, h.action) for h in outcomes[199].hits] == [
        ("TGT_VolumetricSession", "Captcha")
    ]
    assert names(outcomes[499]) == ["TGT_VolumetricSession", "TGT_VolumetricSessionMaximum"]


def test_are_unmodelled_real_labels_kept_apart_from_emitted_ones():
    assert not (UNMODELLED_LABELS & LABELS)
    assert f"{NS}bot:category:page_preview" in UNMODELLED_LABELS
