"""WAF's monthly cost estimate: each line of the bill, the free tiers and the WCU surcharge."""

from __future__ import annotations

import pytest

from grader.aws.waf.pricing import LOGGING_NOTE, PRICES, monthly_cost

M = 1_000_000


def test_is_the_base_bill_acl_plus_rules_plus_requests():
    estimate = monthly_cost(rules=10, requests=50 * M)
    # The worked example every source gives: $5 + 10 x $1 + 50 x $0.60.
    assert estimate.total == pytest.approx(45.00)
    assert [line.item for line in estimate.lines] == ["web_acl", "rules", "requests"]


def test_are_requests_billed_pro_rata_within_a_million():
    assert monthly_cost(rules=0, requests=M // 2).line("requests").amount == pytest.approx(0.30)


def test_does_bot_control_common_charge_only_above_its_free_tier_plus_subscription():
    free = monthly_cost(rules=1, requests=M, bot_control_common_inspected=10 * M)
    assert free.line("bot_control_common").amount == 0
    assert free.line("bot_control_subscription").amount == pytest.approx(10.00)
    paid = monthly_cost(rules=1, requests=M, bot_control_common_inspected=12 * M)
    assert paid.line("bot_control_common").amount == pytest.approx(2 * 1.00)


def test_is_targeted_inspection_dearer_than_common():
    common = monthly_cost(rules=1, requests=20 * M, bot_control_common_inspected=20 * M)
    targeted = monthly_cost(rules=1, requests=20 * M, bot_control_targeted_inspected=20 * M)
    assert targeted.total > common.total
    assert targeted.line("bot_control_targeted").amount == pytest.approx(19 * 10.00)


def test_does_scoping_bot_control_down_lower_the_bill():
    everything = monthly_cost(rules=3, requests=100 * M, bot_control_targeted_inspected=100 * M)
    login_only = monthly_cost(rules=3, requests=100 * M, bot_control_targeted_inspected=2 * M)
    assert login_only.total < everything.total


def test_is_there_no_bot_control_line_without_inspected_requests():
    estimate = monthly_cost(rules=1, requests=M)
    assert estimate.line("bot_control_subscription") is None


def test_are_captcha_attempts_priced_per_thousand():
    estimate = monthly_cost(rules=1, requests=M, captcha_attempts=5000)
    assert estimate.line("captcha").amount == pytest.approx(5 * 0.40)


def test_are_challenge_responses_priced_per_million():
    estimate = monthly_cost(rules=1, requests=M, challenge_responses=3 * M)
    assert estimate.line("challenge").amount == pytest.approx(3 * 0.40)


@pytest.mark.parametrize(("wcu", "blocks"), [(1500, 0), (1501, 1), (2000, 1), (2001, 2)])
def test_does_each_started_500_wcus_above_1500_add_a_request_charge(wcu, blocks):
    estimate = monthly_cost(rules=1, requests=10 * M, wcu=wcu)
    line = estimate.line("extra_wcu")
    if blocks == 0:
        assert line is None
    else:
        assert line.amount == pytest.approx(blocks * 10 * 0.20)


def test_does_the_estimate_say_which_prices_are_unverified_and_who_bills_logging():
    estimate = monthly_cost(rules=1, requests=M, bot_control_targeted_inspected=5 * M)
    assert "bot_control_targeted" in estimate.unverified
    assert "requests" not in estimate.unverified
    data = estimate.to_json()
    assert data["source"].startswith("https://aws.amazon.com/waf/pricing")
    assert data["prices_read"] and LOGGING_NOTE in data["notes"]
    assert data["lines"][0]["item"] == "web_acl"


def test_does_every_price_name_its_source_and_status():
    for price in PRICES.values():
        assert price.source and price.status in {"secondary", "unverified"}
