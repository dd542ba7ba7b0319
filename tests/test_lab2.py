"""lab2: does the solution pass, does the starter fail, does every check fail on a wrong
answer a learner could give, and do equivalent right answers pass? Each case is the reference
solution with one change, graded by the real runner."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.checks import lab2_scenario as scenario
from grader.course.checkinfo import read_checks
from grader.course.labs import load_course
from grader.grading.runner import run_lab
from tests.conftest import COURSE, ROOT

LAB = load_course(COURSE).lab("lab2")
SOLUTION = {
    name: json.loads((ROOT / "solutions" / "lab2" / name).read_text()) for name in LAB.files
}
BC = "awswaf:managed:aws:bot-control:"
ACL, LOGGING = "webacl.json", "logging.json"


def grade(tmp_path: Path, acl: dict | None = None, logging: dict | None = None, seed: int = 11):
    folder = tmp_path / "lab2"
    shutil.copytree(COURSE / "labs" / "lab2", folder)
    for name, doc in ((ACL, acl), (LOGGING, logging)):
        (folder / name).write_text(json.dumps(doc or SOLUTION[name], indent=2))
    result = run_lab(LAB, folder, seed=seed)
    assert result.problem is None, result.problem
    return {c.id: c for c in result.checks}


def acl_with(change: Callable[[dict], None]) -> dict:
    doc = copy.deepcopy(SOLUTION[ACL])
    change(doc)
    return doc


def logging_with(change: Callable[[dict], None]) -> dict:
    doc = copy.deepcopy(SOLUTION[LOGGING])
    change(doc["LoggingConfiguration"])
    return doc


def rule(doc: dict, name: str) -> dict:
    return next(r for r in doc["Rules"] if r["Name"] == name)


def bot_control(doc: dict) -> dict:
    return rule(doc, "bot-control")["Statement"]["ManagedRuleGroupStatement"]


def login_match(constraint: str, search: str = "/login", transform: str = "LOWERCASE") -> dict:
    return {
        "ByteMatchStatement": {
            "SearchString": search,
            "FieldToMatch": {"UriPath": {}},
            "TextTransformations": [{"Priority": 0, "Type": transform}],
            "PositionalConstraint": constraint,
        }
    }


def _scope(statement: dict) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        bot_control(doc)["ScopeDownStatement"] = statement
        rate = rule(doc, "login-rate-limit")["Statement"]["RateBasedStatement"]
        rate["ScopeDownStatement"] = statement

    return change


def _set(path: list, value) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        target = doc
        for key in path[:-1]:
            target = rule(doc, key) if isinstance(key, str) and target is doc else target[key]
        target[path[-1]] = value

    return change


def _priority(name: str, priority: int) -> Callable[[dict], None]:
    return _set([name, "Priority"], priority)


def test_solution_passes_every_check(tmp_path):
    results = grade(tmp_path)
    assert {c.id: c.status for c in results.values() if c.status != "passed"} == {}
    assert set(results) == {c.name for c in read_checks(LAB.checks_module)}


def test_starter_fails_every_task_but_the_gates(tmp_path):
    result = run_lab(LAB, LAB.folder, seed=3)
    failed = {c.id for c in result.checks if c.status == "failed"}
    assert failed == {c.id for c in result.checks if not c.gate}


# check that must fail -> (web ACL, logging configuration, the mistake)
WRONG_ANSWERS = {
    "test_bot_control_counts_and_labels_but_never_blocks": (
        acl_with(_set(["bot-control", "OverrideAction"], {"None": {}})),
        None,
        "Bot Control enforced on day one",
    ),
    "test_bot_control_inspects_the_login_page_and_nothing_else": (
        acl_with(_scope(login_match("EXACTLY", transform="NONE"))),
        None,
        "exact match: /LOGIN and /login/ are not inspected",
    ),
    "test_scrapers_and_headless_browsers_get_a_custom_json_block_on_the_login_page": (
        acl_with(_priority("block-bots-on-login", 5)),
        None,
        "the label rule runs before Bot Control has added the labels",
    ),
    "test_verified_search_engines_pass_with_a_header_and_impostors_get_none": (
        acl_with(
            _set(
                ["let-verified-bots-in", "Statement"],
                {
                    "LabelMatchStatement": {
                        "Scope": "LABEL",
                        "Key": BC + "bot:category:search_engine",
                    }
                },
            )
        ),
        None,
        "trusting the category: a fake Googlebot gets the header",
    ),
    "test_the_rate_limit_stops_credential_stuffing_and_spares_the_office": (
        acl_with(
            _set(
                ["login-rate-limit", "Statement"],
                {"RateBasedStatement": {"Limit": 100, "AggregateKeyType": "IP"}},
            )
        ),
        None,
        "a rate limit on every request: the office's shared address is blocked",
    ),
    "test_the_logging_filter_keeps_blocks_and_a_label_and_drops_ordinary_traffic": (
        None,
        logging_with(lambda c: c["LoggingFilter"].update(DefaultBehavior="KEEP")),
        "keeping everything by default",
    ),
    "test_the_logging_configuration_is_a_valid_request": (
        None,
        logging_with(
            lambda c: c.update(
                LogDestinationConfigs=[
                    "arn:aws:firehose:us-east-1:123456789012:deliverystream/shop-logs"
                ]
            )
        ),
        "a destination whose name lacks aws-waf-logs-",
    ),
}
MORE_WRONG = [
    (
        "test_the_web_acl_is_a_valid_create_web_acl_request",
        acl_with(lambda d: d.update(Scope="GLOBAL")),
        None,
        "a scope the API does not have",
    ),
    (
        "test_bot_control_inspects_the_login_page_and_nothing_else",
        acl_with(_scope(login_match("CONTAINS", search="login"))),
        None,
        "contains 'login': /blog/login-tips is inspected (and charged) too",
    ),
    (
        "test_scrapers_and_headless_browsers_get_a_custom_json_block_on_the_login_page",
        acl_with(_set(["block-bots-on-login", "Action"], {"Block": {}})),
        None,
        "a plain Block: WAF's default 403 without a body",
    ),
    (
        "test_scrapers_and_headless_browsers_get_a_custom_json_block_on_the_login_page",
        acl_with(
            lambda d: d["CustomResponseBodies"]["slow-down"].update(
                ContentType="TEXT_PLAIN", Content="slow down"
            )
        ),
        None,
        "a text body where the login form expects JSON",
    ),
    (
        "test_the_rate_limit_stops_credential_stuffing_and_spares_the_office",
        acl_with(_set(["login-rate-limit", "Statement", "RateBasedStatement", "Limit"], 1000)),
        None,
        "a limit above the attack's pace",
    ),
    (
        "test_no_person_is_ever_blocked_and_the_acl_fits_its_budget",
        acl_with(
            lambda d: d["Rules"].append(
                {
                    "Name": "no-browsers",
                    "Priority": 50,
                    "Statement": {
                        "ByteMatchStatement": {
                            "SearchString": "Mozilla",
                            "FieldToMatch": {"SingleHeader": {"Name": "user-agent"}},
                            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
                            "PositionalConstraint": "CONTAINS",
                        }
                    },
                    "Action": {"Block": {}},
                    "VisibilityConfig": rule(d, "bot-control")["VisibilityConfig"],
                }
            )
        ),
        None,
        "a rule that blocks every browser",
    ),
]
CASES = [(check, acl, log, why) for check, (acl, log, why) in WRONG_ANSWERS.items()] + MORE_WRONG


@pytest.mark.parametrize("check, acl, logging, why", CASES, ids=[c[3] for c in CASES])
def test_each_wrong_answer_fails_its_check(tmp_path, check, acl, logging, why):
    results = grade(tmp_path, acl, logging)
    assert results[check].status == "failed", why


def test_a_label_rule_placed_too_early_is_told_about_rule_order(tmp_path):
    results = grade(tmp_path, acl_with(_priority("block-bots-on-login", 5)))
    failed = results[
        "test_scrapers_and_headless_browsers_get_a_custom_json_block_on_the_login_page"
    ]
    assert "ran before it" in failed.fix


EQUIVALENT = [
    (
        acl_with(
            _scope(
                {
                    "RegexMatchStatement": {
                        "RegexString": "^/login/?$",
                        "FieldToMatch": {"UriPath": {}},
                        "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}],
                    }
                }
            )
        ),
        None,
        "a regex scope-down",
    ),
    (
        acl_with(
            lambda d: (
                rule(d, "login-rate-limit").update(Priority=15),
                rule(d, "block-bots-on-login")["Action"]["Block"]["CustomResponse"].update(
                    ResponseCode=403
                ),
            )
        ),
        None,
        "the rate rule before the label rules, and 403 instead of 429",
    ),
    (
        None,
        logging_with(
            lambda c: c["LoggingFilter"]["Filters"][0]["Conditions"].__setitem__(
                1, {"LabelNameCondition": {"LabelName": BC + "bot:verified"}}
            )
        ),
        "keeping verified bots instead of headless browsers",
    ),
]


@pytest.mark.parametrize("acl, logging, why", EQUIVALENT, ids=[c[2] for c in EQUIVALENT])
def test_each_equivalent_answer_passes(tmp_path, acl, logging, why):
    results = grade(tmp_path, acl, logging)
    assert {c.id: c.status for c in results.values() if c.status != "passed"} == {}, why


def test_the_traffic_is_seeded_and_holds_every_kind_of_visitor():
    one, again, other = (scenario.make_traffic(s) for s in (5, 5, 6))
    assert one == again and one.requests != other.requests
    kinds = {r.traffic_class for r in one.requests}
    assert kinds == {
        "human",
        "search-bot",
        "spoofed-bot",
        "scraper",
        "automated-browser",
        "credential-stuffing",
    }
    spellings = {r.uri for r in one.requests if scenario.is_login(r.uri)}
    assert {"/LOGIN", "/login/"} <= spellings


def test_the_report_shows_what_the_acl_did_to_each_kind_of_visitor(tmp_path):
    """The replay summary travels from the grading child to the report as a table."""
    folder = tmp_path / "lab2"
    shutil.copytree(ROOT / "solutions" / "lab2", folder)
    result = run_lab(LAB, folder, seed=11)
    (table,) = result.tables
    rows = {row[0]: row for row in table["rows"]}
    assert table["columns"][:4] == ["visitors", "requests", "allowed", "blocked"]
    assert rows["human"][3] == "0" and rows["automated-browser"][2] == "0"
    assert int(rows["credential-stuffing"][3]) > 0
