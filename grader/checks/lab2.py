"""lab2 — bots, labels and the login page: a web ACL and its logging configuration.

Every verdict comes from the WAF engine: the learner's web ACL judges a half hour of the
shop's traffic made up from the run's seed (lab2_scenario), and the checks look at what
happened to each kind of visitor, never at the text of the files.
"""

from __future__ import annotations

import copy
import json
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from grader.aws.errors import GraderError
from grader.aws.jsonfile import InputError, load_json
from grader.aws.waf.acl import parse_web_acl
from grader.aws.waf.botcontrol import LABEL_NAMESPACE as BOT_LABELS
from grader.aws.waf.evaluate import WebAclEvaluator
from grader.aws.waf.groups import GroupOutcome
from grader.aws.waf.logfilter import apply_logging_filter, load_logging_configuration
from grader.aws.waf.logs import LogContext, log_record
from grader.aws.waf.request import WafRequest
from grader.aws.waf.verdict import Verdict
from grader.aws.waf.wcu import capacity
from grader.checks._support import count, fail, listing
from grader.checks.lab2_scenario import (
    ATTACK_ALLOWED_PER_WINDOW,
    MINUTE,
    Traffic,
    is_login,
    make_traffic,
)

ACL, LOGGING = "webacl.json", "logging.json"
DOCS = "waf/lab2.md"
# What the checks import on first use: a class's grading process imports it once, before
# it forks a grading child per learner (grader.grading.zygote).
PRELOAD = ("grader.aws.waf.managed",)
BOT_CONTROL = ("AWS", "AWSManagedRulesBotControlRuleSet")
WINDOW_MS = 5 * MINUTE
WCU_BUDGET = 1_500


# ---------------------------------------------------------------- inputs


def _load(lab_dir: Path, name: str, what: str, docs: str) -> Any:
    try:
        return load_json(lab_dir / name, what=what)
    except InputError as exc:
        where = f"{name}:{exc.line}:{exc.column}" if exc.line else name
        fail(
            expected=f"{name} to be a readable JSON object",
            found=f"{where}: {exc.message}",
            fix="fix the file at that spot and save it (the starter is restored by `grader reset`)",
            docs=docs,
        )


def _parse_acl(document: Any) -> tuple[Any, tuple]:
    try:
        return parse_web_acl(document)
    except GraderError as exc:
        fail(
            expected=f"{ACL} to be a web ACL that CreateWebACL accepts",
            found=str(exc),
            fix="correct the field at that JSON path; the API reference of each shape is "
            "linked from the chapter",
            docs=DOCS + "#task-7",
        )


@pytest.fixture(scope="module")
def traffic(seed: int) -> Traffic:
    """Hidden traffic for this run (see lab2_scenario)."""
    return make_traffic(seed)


@pytest.fixture(scope="module")
def acl_document(lab_dir: Path) -> Any:
    return _load(lab_dir, ACL, "a JSON object (a CreateWebACL request)", DOCS + "#task-7")


@pytest.fixture(scope="module")
def acl(acl_document: Any) -> tuple[Any, tuple]:
    """The learner's web ACL compiled, with the engine's warnings (label order, ...)."""
    return _parse_acl(acl_document)


@pytest.fixture(scope="module")
def logging_request(lab_dir: Path) -> dict:
    document = _load(
        lab_dir, LOGGING, "a JSON object (a PutLoggingConfiguration request)", DOCS + "#task-6"
    )
    try:
        return load_logging_configuration(document)
    except GraderError as exc:
        fail(
            expected=f"{LOGGING} to be a request PutLoggingConfiguration accepts",
            found=str(exc),
            fix="correct the field at that JSON path",
            docs=DOCS + "#task-6",
        )


def replay(acl_model: Any, requests: Iterable[WafRequest]) -> list[tuple[WafRequest, Verdict]]:
    """Each request with the ACL's verdict, in time order (rate-based rules keep state)."""
    evaluator = WebAclEvaluator(acl_model)
    return [(r, evaluator.evaluate(r)) for r in requests]


@pytest.fixture(scope="module")
def outcomes(acl: tuple, traffic: Traffic, report_table) -> list[tuple[WafRequest, Verdict]]:
    """The whole traffic through the learner's ACL; its summary goes into the report."""
    judged = replay(acl[0], traffic.requests)
    report_table(
        "Your web ACL on this run's traffic",
        (
            "visitors",
            "requests",
            "allowed",
            "blocked",
            "to the login page",
            "inspected by Bot Control",
        ),
        _summary_rows(judged),
    )
    return judged


def _summary_rows(judged: list[tuple[WafRequest, Verdict]]) -> list[tuple]:
    rows: dict[str, list[int]] = {}
    for request, verdict in judged:
        row = rows.setdefault(request.traffic_class or "other", [0, 0, 0, 0, 0])
        row[0] += 1
        row[1] += verdict.action == "ALLOW"
        row[2] += verdict.action == "BLOCK"
        row[3] += is_login(request.uri)
        row[4] += BOT_CONTROL[1] in verdict.inspected_by
    return [(kind, *numbers) for kind, numbers in sorted(rows.items())]


def _describe(request: WafRequest) -> str:
    return (
        f"{request.traffic_class} request {request.method} {request.uri} from "
        f"{request.client_ip} ({request.user_agent})"
    )


def _what_happened(verdict: Verdict) -> str:
    rule = verdict.terminating_rule_id
    if verdict.terminating_rule_group:
        rule = f"{verdict.terminating_rule_group} rule {rule}"
    labels = [label.removeprefix(BOT_LABELS) for label in verdict.labels]
    text = f"{verdict.action} by {rule}"
    return text + (f", labels: {listing(labels, 6)}" if labels else ", no labels")


def _bot_control_rules(document: Any) -> list[dict]:
    rules = document.get("Rules") if isinstance(document, dict) else None
    found = []
    for rule in rules or []:
        statement = (rule.get("Statement") or {}).get("ManagedRuleGroupStatement") or {}
        if (statement.get("VendorName"), statement.get("Name")) == BOT_CONTROL:
            found.append(rule)
    return found


def _needs_bot_control(document: Any) -> dict:
    rules = _bot_control_rules(document)
    if not rules:
        fail(
            expected="a rule that adds the managed rule group AWSManagedRulesBotControlRuleSet",
            found="no rule in the web ACL uses Bot Control",
            fix="add Bot Control as a ManagedRuleGroupStatement rule (vendor AWS)",
            docs=DOCS + "#task-1",
        )
    return rules[0]


# ---------------------------------------------------------------- gates (task 7)


@pytest.mark.check(task=7, points=1, gate=True)
def test_the_web_acl_is_a_valid_create_web_acl_request(acl: tuple) -> None:
    """webacl.json is a CreateWebACL request the API accepts (its shapes, enumerations and
    WAF's own rules)."""


@pytest.mark.check(task=7, points=1, gate=True)
def test_the_logging_configuration_is_a_valid_request(logging_request: dict) -> None:
    """logging.json is a PutLoggingConfiguration request WAF accepts, delivering to a
    destination whose name starts with aws-waf-logs-."""


@pytest.mark.check(task=7, points=1, gate=True)
def test_both_deploy_to_the_sandbox(acl_document: Any, logging_request: dict, aws) -> None:
    """Both files deploy to the sandbox: the web ACL is created and the logging
    configuration attached to it."""
    request = copy.deepcopy(acl_document.get("WebACL", acl_document))
    for read_only in ("Id", "ARN", "Capacity", "LabelNamespace", "ManagedByFirewallManager"):
        request.pop(read_only, None)
    waf = aws.client("wafv2")
    try:
        created = waf.create_web_acl(**request)
        config = copy.deepcopy(logging_request["LoggingConfiguration"])
        config["ResourceArn"] = created["Summary"]["ARN"]  # the ARN this deploy was given
        waf.put_logging_configuration(LoggingConfiguration=config)
    except Exception as exc:  # botocore's ClientError or ParamValidationError
        fail(
            expected="the web ACL and its logging configuration to deploy",
            found=f"{type(exc).__name__}: {exc}",
            fix="fix what the API names; `grader waf replay` checks the same shapes offline",
            docs=DOCS + "#task-7",
        )
    finally:
        for summary in waf.list_web_acls(Scope=request.get("Scope", "CLOUDFRONT"))["WebACLs"]:
            if summary["Name"] == request.get("Name"):
                waf.delete_web_acl(
                    Name=summary["Name"],
                    Scope=request.get("Scope", "CLOUDFRONT"),
                    Id=summary["Id"],
                    LockToken=summary["LockToken"],
                )


# ---------------------------------------------------------------- task 1


@pytest.mark.check(task=1, points=2)
def test_bot_control_counts_and_labels_but_never_blocks(
    acl_document: Any, outcomes: list[tuple[WafRequest, Verdict]]
) -> None:
    """Bot Control is in the web ACL in Count mode: it labels bots but never ends a request
    itself, so your own rules decide."""
    _needs_bot_control(acl_document)
    ended = [(r, v) for r, v in outcomes if v.terminating_rule_group == BOT_CONTROL[1]]
    if ended:
        request, verdict = ended[0]
        fail(
            expected="Bot Control to count and label only (no request ended by its rules)",
            found=f"{count(len(ended), 'request')} ended by Bot Control's own rules, e.g. "
            f"{_describe(request)}: {_what_happened(verdict)}",
            fix="roll a managed rule group out in Count mode: override what its rules do",
            docs="waf/index.md#bot-control-in-count-mode-first",
        )
    labelled = [v for _, v in outcomes if any(x.startswith(BOT_LABELS) for x in v.labels)]
    if not labelled:
        fail(
            expected="Bot Control to label some requests (HTTP libraries on the login page)",
            found="no request got a Bot Control label",
            fix="make sure Bot Control inspects the login page (task 2) and runs first",
            docs=DOCS + "#task-1",
        )


# ---------------------------------------------------------------- task 2


def _inspected(acl_document: Any, rule: dict, requests: Iterable[WafRequest]) -> list[bool]:
    """For each request, whether Bot Control, alone in a web ACL with ``rule``'s statement
    and scope-down as written, would inspect it."""
    alone = {
        "Name": "inspection-probe",
        "Scope": acl_document.get("Scope", "CLOUDFRONT"),
        "DefaultAction": {"Allow": {}},
        "VisibilityConfig": rule["VisibilityConfig"],
        "Rules": [{**rule, "Priority": 0}],
    }
    model, _ = _parse_acl(alone)
    # Only the scope-down matters here, not what Bot Control finds: a stand-in group that
    # inspects and matches nothing answers the question at a fraction of the cost.
    probe = WebAclEvaluator(model, managed={BOT_CONTROL: lambda request, config: GroupOutcome()})
    return [BOT_CONTROL[1] in probe.evaluate(r).inspected_by for r in requests]


@pytest.mark.check(task=2, points=3)
def test_bot_control_inspects_the_login_page_and_nothing_else(
    acl_document: Any, traffic: Traffic
) -> None:
    """Bot Control inspects every request to the login page, however its path is spelled,
    and no other request: you pay only for what protects the login."""
    rule = _needs_bot_control(acl_document)
    requests = traffic.requests
    inspected = _inspected(acl_document, rule, requests)
    total = len(requests)
    done = sum(inspected)
    missed = sorted({r.uri for r, seen in zip(requests, inspected, strict=True)
                     if is_login(r.uri) and not seen})  # fmt: skip
    extra = sorted({r.uri for r, seen in zip(requests, inspected, strict=True)
                    if seen and not is_login(r.uri)})  # fmt: skip
    if missed:
        fail(
            expected="every request to the login page inspected, in every spelling the shop "
            "routes to it",
            found=f"not inspected: {listing(missed)} (Bot Control inspected {done} of {total} "
            "requests)",
            fix="the shop's router ignores case and a trailing slash; make the scope-down "
            "match the login page the way the router does (text transformations help)",
            docs="waf/index.md#scope-down-statements",
        )
    if extra:
        fail(
            expected="no request outside the login page inspected",
            found=f"also inspected: {listing(extra)} ({done} of {total} requests inspected, "
            f"where {sum(1 for r in requests if is_login(r.uri))} reach the login page)",
            fix="narrow the scope-down to the login page itself: each inspection is charged",
            docs="waf/index.md#scope-down-statements",
        )


# ---------------------------------------------------------------- task 3

BLOCKED_KINDS = ("scraper", "automated-browser")


def _order_warning(acl: tuple) -> str | None:
    return next((str(w) for w in acl[1] if "label" in w.message.lower()), None)


@pytest.mark.check(task=3, points=4)
def test_scrapers_and_headless_browsers_get_a_custom_json_block_on_the_login_page(
    acl: tuple, outcomes: list[tuple[WafRequest, Verdict]]
) -> None:
    """On the login page, HTTP libraries, scraping frameworks and headless browsers are
    blocked by a rule that reads Bot Control's labels, with a custom 403 or 429 answer and
    a JSON body."""
    targets = [(r, v) for r, v in outcomes
               if r.traffic_class in BLOCKED_KINDS and is_login(r.uri)]  # fmt: skip
    passed = [(r, v) for r, v in targets if v.action != "BLOCK"]
    if passed:
        request, verdict = passed[0]
        order = _order_warning(acl)
        fix = "block on Bot Control's labels for HTTP libraries, scraping frameworks and " \
              "automated browsers"  # fmt: skip
        if order:
            fix = (
                "a rule sees only the labels of rules that ran before it (lower Priority "
                f"first); the engine warns: {order}"
            )
        fail(
            expected="every scraper and headless-browser request to the login page blocked",
            found=f"{count(len(passed), 'request')} let through, e.g. {_describe(request)}: "
            f"{_what_happened(verdict)}",
            fix=fix,
            docs="waf/index.md#labels",
        )
    for request, verdict in targets:
        response = verdict.custom_response
        problem = None
        if response is None or response.status not in (403, 429):
            status = response.status if response else 403
            problem = f"status {status}" + ("" if response else " (WAF's default answer)")
        elif not response.body or "json" not in (response.content_type or "").lower():
            problem = f"a body of type {response.content_type or 'none'}"
        else:
            try:
                json.loads(response.body)
            except ValueError:
                problem = "a body that is not valid JSON"
        if problem:
            fail(
                expected="a custom response: status 403 or 429 with a JSON body",
                found=f"{_describe(request)} got {problem}",
                fix="give the Block action a CustomResponse whose body key names a JSON body "
                "in the ACL's CustomResponseBodies",
                docs="waf/index.md#custom-responses-and-inserted-headers",
            )


# ---------------------------------------------------------------- task 4


@pytest.mark.check(task=4, points=3)
def test_verified_search_engines_pass_with_a_header_and_impostors_get_none(
    outcomes: list[tuple[WafRequest, Verdict]],
) -> None:
    """Verified search engines are never blocked, and where Bot Control has verified them
    the origin receives an inserted header; a bot that only claims to be one gets none."""
    bots = [(r, v) for r, v in outcomes if r.traffic_class == "search-bot"]
    blocked = [(r, v) for r, v in bots if v.action != "ALLOW"]
    if blocked:
        request, verdict = blocked[0]
        fail(
            expected="no verified search-engine request blocked",
            found=f"{_describe(request)}: {_what_happened(verdict)}",
            fix="verified bots carry their own label; let them through before any rule that "
            "blocks bot categories",
            docs=DOCS + "#task-4",
        )
    verified = [(r, v) for r, v in bots if BOT_LABELS + "bot:verified" in v.labels]
    bare = [(r, v) for r, v in verified if not v.inserted_headers]
    if not verified or bare:
        request, verdict = (bare or bots)[0]
        fail(
            expected="every request Bot Control verified as a search engine to reach the "
            "origin with an inserted header (x-amzn-waf-...)",
            found=f"{_describe(request)}: {_what_happened(verdict)}, no header inserted",
            fix="insert a request header in the action of a rule that matches verified bots",
            docs="waf/index.md#custom-responses-and-inserted-headers",
        )
    impostors = [(r, v) for r, v in outcomes
                 if r.traffic_class == "spoofed-bot" and v.inserted_headers]  # fmt: skip
    if impostors:
        request, verdict = impostors[0]
        names = ", ".join(name for name, _ in verdict.inserted_headers)
        fail(
            expected="no header for a bot that only claims to be a search engine",
            found=f"{_describe(request)} reached the origin with {names}; it was labelled "
            f"{listing([x.removeprefix(BOT_LABELS) for x in verdict.labels], 6)}",
            fix="a User-Agent can say anything; match the label Bot Control gives only to "
            "bots it has verified",
            docs="waf/index.md#labels",
        )


# ---------------------------------------------------------------- task 5


def _worst_window(times: list[int]) -> int:
    """The most timestamps within any five minutes."""
    window: deque[int] = deque()
    worst = 0
    for t in times:
        window.append(t)
        while window[0] <= t - WINDOW_MS:
            window.popleft()
        worst = max(worst, len(window))
    return worst


@pytest.mark.check(task=5, points=4)
def test_the_rate_limit_stops_credential_stuffing_and_spares_the_office(
    traffic: Traffic, outcomes: list[tuple[WafRequest, Verdict]]
) -> None:
    """A rate-based rule stops the credential-stuffing burst (no attacking address gets more
    than 150 login attempts through in five minutes) without blocking anyone at the office,
    whose people all share one address."""
    office = [(r, v) for r, v in outcomes if r.client_ip == traffic.office_ip]
    blocked = [(r, v) for r, v in office if v.action == "BLOCK"]
    if blocked:
        request, verdict = blocked[0]
        fail(
            expected="no request from the office blocked",
            found=f"{count(len(blocked), 'request')} of the office's {len(office)} blocked, "
            f"e.g. {_describe(request)}: {_what_happened(verdict)}",
            fix="25 people share the office's address: count only what the attack does "
            "(login requests), with a limit above what the office sends",
            docs=DOCS + "#task-5",
        )
    for ip in traffic.attacker_ips:
        through = [r.timestamp_ms for r, v in outcomes
                   if r.client_ip == ip and is_login(r.uri) and v.action == "ALLOW"]  # fmt: skip
        worst = _worst_window(through)
        if worst > ATTACK_ALLOWED_PER_WINDOW:
            fail(
                expected=f"at most {ATTACK_ALLOWED_PER_WINDOW} login attempts in five minutes "
                "from one attacking address",
                found=f"{worst} attempts from {ip} got through within five minutes",
                fix="add or tighten a rate-based rule on login requests",
                docs=DOCS + "#task-5",
            )


# ---------------------------------------------------------------- task 6


@pytest.mark.check(task=6, points=3)
def test_the_logging_filter_keeps_blocks_and_a_label_and_drops_ordinary_traffic(
    acl: tuple, logging_request: dict, outcomes: list[tuple[WafRequest, Verdict]]
) -> None:
    """The logging filter keeps every blocked request and the requests with a label you
    chose, and drops ordinary allowed traffic (most of the volume, and of the bill)."""
    context = LogContext.from_web_acl({"Name": acl[0].name, "Scope": acl[0].scope})
    records = [log_record(r, v, context) for r, v in outcomes]
    logging_filter = logging_request["LoggingConfiguration"].get("LoggingFilter")
    survivors = apply_logging_filter(records, logging_filter) if logging_filter else records
    kept = {_record_id(x) for x in survivors}
    lost = [rec for rec in records if rec["action"] == "BLOCK" and _record_id(rec) not in kept]
    if lost:
        fail(
            expected="every BLOCK record kept",
            found=f"{count(len(lost), 'blocked request')} dropped from the logs",
            fix="keep records whose action is BLOCK",
            docs="waf/index.md#log-filtering",
        )
    plain = [
        (r, rec)
        for (r, v), rec in zip(outcomes, records, strict=True)
        if r.traffic_class == "human" and v.action == "ALLOW" and _record_id(rec) in kept
    ]
    if plain:
        fail(
            expected="ordinary allowed traffic dropped from the logs",
            found=f"{count(len(plain), 'allowed request')} of people kept, e.g. "
            f"{_describe(plain[0][0])}",
            fix="drop what no one will read: make the filter's default behavior drop records",
            docs="waf/index.md#log-filtering",
        )
    # A label condition shows on records that were not blocked: try each label the traffic
    # produced on an otherwise ordinary allowed record.
    plain_record = next(rec for (r, v), rec in zip(outcomes, records, strict=True)
                        if v.action == "ALLOW" and not rec.get("labels"))  # fmt: skip
    seen = sorted({x["name"] for rec in records for x in rec.get("labels") or ()})
    chosen = [
        name
        for name in seen
        if apply_logging_filter([{**plain_record, "labels": [{"name": name}]}], logging_filter)
    ] if logging_filter else []  # fmt: skip
    if not chosen:
        fail(
            expected="the records with a label you chose kept too, whatever their action",
            found="an allowed request is kept for none of the labels this traffic gets "
            f"({count(len(seen), 'label')})",
            fix="add a label condition to a filter that keeps records",
            docs=DOCS + "#task-6",
        )


def _record_id(record: dict) -> str:
    """A log record's request ID: the filter returns kept records as copies (redacted)."""
    return record["httpRequest"]["requestId"]


# ---------------------------------------------------------------- task 7


@pytest.mark.check(task=7, points=3)
def test_no_person_is_ever_blocked_and_the_acl_fits_its_budget(
    acl_document: Any, outcomes: list[tuple[WafRequest, Verdict]]
) -> None:
    """No person is ever blocked, and the web ACL fits the 1,500 WCUs its base price
    includes."""
    people = [(r, v) for r, v in outcomes if r.traffic_class == "human"]
    blocked = [(r, v) for r, v in people if v.action != "ALLOW"]
    if blocked:
        request, verdict = blocked[0]
        fail(
            expected="no request from a person blocked or challenged",
            found=f"{count(len(blocked), 'request')} of people stopped, e.g. "
            f"{_describe(request)}: {_what_happened(verdict)}",
            fix="find the rule that stopped it in the message and narrow it",
            docs=DOCS + "#task-7",
        )
    report = capacity(acl_document.get("WebACL", acl_document))
    if report.total > WCU_BUDGET:
        costly = sorted(report.rules, key=lambda r: -r.wcu)[:3]
        fail(
            expected=f"at most {WCU_BUDGET:,} WCUs",
            found=f"{report.total:,} WCUs; the costliest rules: "
            + ", ".join(f"{r.name} ({r.wcu})" for r in costly),
            fix="drop rules you do not need or use cheaper statements",
            docs=DOCS + "#task-7",
        )
