"""What a web ACL costs a month: AWS WAF's price structure as data, and an estimate.

The prices are US dollars, the same in every Region, monthly fees prorated hourly (AWS
WAF pricing page). The AWS pricing page itself is not in the offline material; each price
says how far it could be checked: ``"secondary"`` when pages available offline agree on it
(AWS blogs, whitepapers, partner write-ups), ``"unverified"`` when it is the figure we
believe from the pricing page but could not check offline. An estimate carries that status
on every line, so a learner never mistakes it for a quote.

Logging is not a WAF charge: WAF writes the records, and the destination bills for them
(CloudWatch Logs vended-log ingestion, S3 storage and requests, or Data Firehose), so it is
a note on the estimate, not a line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from grader.aws.waf.wcu import BASE_INCLUDED_WCU, EXTRA_WCU_BLOCK

SOURCE = "https://aws.amazon.com/waf/pricing/"
PRICES_READ = "2026-12-03"
CURRENCY = "USD"

MILLION = 1_000_000


@dataclass(frozen=True)
class Price:
    """One price: ``amount`` per ``per`` units of ``unit``, after ``free`` units a month."""

    amount: float
    unit: str
    per: int = 1
    free: int = 0
    status: str = "unverified"  # "secondary" (checked offline) or "unverified"
    source: str = SOURCE


# The price table. Sources beside each entry; every "secondary" one agrees with the
# AWS pricing page as we last read it.
PRICES: dict[str, Price] = {
    # $5.00 per web ACL per month; $1.00 per rule (a rule group counts as one) per month;
    # $0.60 per million requests. Secondary: "AWS WAF cost explained" (c3x.dev) and "AWS
    # WAF Pricing Strategy" (awsnegotiations.com) give the same three figures.
    "web_acl": Price(5.00, "web ACL-month", status="secondary"),
    "rule": Price(1.00, "rule-month", status="secondary"),
    "requests": Price(0.60, "requests", per=MILLION, status="secondary"),
    # Above 1,500 WCUs: $0.20 per million requests for each (started) 500 WCUs. Secondary:
    # Classmethod DevelopersIO, on the default web ACL limit rising to 5,000 WCUs (2023-04-12).
    "extra_wcu_requests": Price(0.20, "requests per 500 WCUs", per=MILLION, status="secondary"),
    # Bot Control: a $10.00 subscription per web ACL per month (secondary: c3x.dev), and
    # per inspected request: Common $1.00 per million after 10 million free a month, Targeted
    # $10.00 per million after 1 million free (unverified: the pricing page's figures).
    "bot_control_subscription": Price(10.00, "web ACL-month", status="secondary"),
    "bot_control_common": Price(1.00, "inspected requests", per=MILLION, free=10 * MILLION),
    "bot_control_targeted": Price(10.00, "inspected requests", per=MILLION, free=MILLION),
    # CAPTCHA: $0.40 per 1,000 attempts (unverified). The AWS Networking blog "Cost-effective
    # ways for securing your web applications using AWS WAF" confirms attempts are what is
    # billed, and that CAPTCHA and Challenge run by Targeted Bot Control or Fraud Control
    # are free; callers count only the others.
    "captcha_attempts": Price(0.40, "attempts", per=1000),
    # Challenge: $0.40 per million challenge responses served by the rule action (the same
    # blog: billed per response served; the price itself unverified).
    "challenge_responses": Price(0.40, "challenge responses", per=MILLION),
}

LOGGING_NOTE = (
    "Logging is billed by the destination, not by WAF: CloudWatch Logs (vended logs), S3, or "
    "Data Firehose."
)


@dataclass(frozen=True)
class CostLine:
    """One line of an estimate: what was counted, the price, the amount, how sure."""

    item: str
    quantity: int
    billable: int
    unit: str
    unit_price: float
    per: int
    amount: float
    status: str


@dataclass(frozen=True)
class CostEstimate:
    """A month's WAF bill by line, with the total and where the prices came from."""

    lines: tuple[CostLine, ...]
    total: float
    currency: str = CURRENCY
    prices_read: str = PRICES_READ
    source: str = SOURCE
    notes: tuple[str, ...] = (LOGGING_NOTE,)

    @property
    def unverified(self) -> tuple[str, ...]:
        """The lines with an amount whose price could not be checked offline."""
        return tuple(
            line.item for line in self.lines if line.status == "unverified" and line.amount
        )

    def line(self, item: str) -> CostLine | None:
        return next((line for line in self.lines if line.item == item), None)

    def to_json(self) -> dict:
        data = asdict(self)
        data["lines"] = [asdict(line) for line in self.lines]
        data["notes"] = list(self.notes)
        data["unverified"] = list(self.unverified)
        return data


def _line(item: str, quantity: int, price: Price, multiplier: int = 1) -> CostLine:
    billable = max(0, quantity - price.free)
    amount = round(billable / price.per * price.amount * multiplier, 6)
    unit = price.unit if multiplier == 1 else f"{price.unit} x {multiplier}"
    return CostLine(item, quantity, billable, unit, price.amount, price.per, amount, price.status)


def monthly_cost(
    rules: int,
    requests: int,
    bot_control_common_inspected: int = 0,
    bot_control_targeted_inspected: int = 0,
    captcha_attempts: int = 0,
    wcu: int = 0,
    challenge_responses: int = 0,
) -> CostEstimate:
    """One web ACL's monthly cost: ``rules`` rules (a rule group counts as one), ``requests``
    requests, the requests Bot Control inspected at each level, CAPTCHA attempts, and the
    ACL's WCUs (above 1,500 each started 500 adds a request charge), and the Challenge
    responses served. CAPTCHA and Challenge run by Targeted Bot Control are free: leave
    them out of the counts."""
    lines = [
        _line("web_acl", 1, PRICES["web_acl"]),
        _line("rules", rules, PRICES["rule"]),
        _line("requests", requests, PRICES["requests"]),
    ]
    above = max(0, wcu - BASE_INCLUDED_WCU)
    blocks = -(-above // EXTRA_WCU_BLOCK)
    if blocks:
        lines.append(_line("extra_wcu", requests, PRICES["extra_wcu_requests"], blocks))
    if bot_control_common_inspected or bot_control_targeted_inspected:
        lines.append(_line("bot_control_subscription", 1, PRICES["bot_control_subscription"]))
    if bot_control_common_inspected:
        lines.append(
            _line("bot_control_common", bot_control_common_inspected, PRICES["bot_control_common"])
        )
    if bot_control_targeted_inspected:
        lines.append(
            _line(
                "bot_control_targeted",
                bot_control_targeted_inspected,
                PRICES["bot_control_targeted"],
            )
        )
    if captcha_attempts:
        lines.append(_line("captcha", captcha_attempts, PRICES["captcha_attempts"]))
    if challenge_responses:
        lines.append(_line("challenge", challenge_responses, PRICES["challenge_responses"]))
    total = round(sum(line.amount for line in lines), 2)
    return CostEstimate(lines=tuple(lines), total=total)
