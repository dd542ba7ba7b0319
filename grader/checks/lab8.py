"""lab8 — correlation, late logs and alerts: a cross-source correlation, a schedule that
survives late log files, and an enriched alert message for Slack.

Everything is judged on a day of the organization generated from the run's seed at check
time (lab8_scenario), with the correlation's near-misses planted. The schedule is replayed
over that day's files as they were delivered (5-20 minutes late), and the learner's
renderer runs in the jail, once per alert, with the context the grader computes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from grader.aws.errors import GraderError
from grader.aws.siem import blockkit
from grader.aws.siem.detections import Detection, load_detection
from grader.aws.siem.schedule import ScheduleReport
from grader.checks._support import count, fail, listing
from grader.checks.lab8_scenario import (
    RENDER_TIMEOUT,
    Correlated,
    Hidden,
    Schedule,
    alerts_and_contexts,
    enrichment,
    judge_correlation,
    load_schedule,
    make_hidden,
    prepare,  # noqa: F401 - called by a class's grading process (grader.grading.zygote)
    replay,
    result_columns,
    scheduled_expected,
    unseen,
)

DOCS = "siem/lab8.md"
# What the checks import on first use: a class's grading process imports it once, before
# it forks a grading child per learner (grader.grading.zygote).
PRELOAD = ("duckdb", "sqlglot.dialects.duckdb")
# The latest an alert may come: a file arrives up to 20 minutes after its newest event and
# holds 5 minutes of events (25 minutes in all), then a run every few minutes reads it.
LATEST_ALERT = timedelta(minutes=40)
CHAPTER = "siem/index.md"
CORRELATE = "correlate.sql"
SCHEDULE = "schedule.toml"
SCHEDULED = "scheduled.sql"
ALERT = "alert.py"


def _relative(text: str) -> str:
    return text.replace(str(Path.cwd()) + "/", "")


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def hidden(seed: int) -> Iterator[Hidden]:
    """This run's day, generated from the seed, opened once, removed at the end."""
    data = make_hidden(seed)
    try:
        yield data
    finally:
        data.close()


def _detection(lab_dir: Path, name: str, task: int) -> Detection:
    try:
        return load_detection(lab_dir / name)
    except GraderError as exc:
        fail(
            expected=f"{name} to be a SQL detection: a header (-- id:, -- title:, -- technique:, "
            "-- severity:) and one read-only SELECT over the cloudtrail and idp_signins views",
            found=_relative(str(exc)),
            fix="correct what the message names; try it with `grader siem query --data "
            f"~/siem-practice --sql labs/lab8/{name}` (the starter is restored by `grader reset`)",
            docs=f"{DOCS}#task-{task}",
        )


@pytest.fixture(scope="module")
def correlated(lab_dir: Path, hidden: Hidden, report_table) -> Correlated | GraderError:
    """correlate.sql run once over the whole day."""
    try:
        detection = load_detection(lab_dir / CORRELATE)
        result: Correlated | GraderError = judge_correlation(hidden, detection)
    except GraderError as exc:
        return exc
    report_table(
        "Your correlation on this run's hidden day",
        ("hits", "of the pattern", "missed", "near-misses caught", "other events caught"),
        [(len(result.hits), len(hidden.expected), len(result.missed),
          sum(len(v) for v in result.near_misses.values()), len(result.others))],
    )  # fmt: skip
    return result


@pytest.fixture(scope="module")
def scheduled(lab_dir: Path, hidden: Hidden) -> tuple[Schedule, Detection] | None:
    """schedule.toml and scheduled.sql, if both load (the gate reports why not)."""
    try:
        return load_schedule(lab_dir / SCHEDULE), load_detection(lab_dir / SCHEDULED)
    except GraderError:
        return None


@pytest.fixture(scope="module")
def replayed(hidden: Hidden, scheduled, report_table) -> ScheduleReport | GraderError | None:
    """The schedule replayed over the day's late files, once."""
    if scheduled is None:
        return None
    schedule, detection = scheduled
    try:
        report = replay(hidden, detection, schedule)
    except GraderError as exc:
        return exc
    worst = report.latency_max
    median = report.latency_median
    report_table(
        "Your schedule replayed over this run's day",
        ("runs", "alerts", "planted events missed", "duplicate alerts", "median latency",
         "worst latency"),
        [(len(report.ticks), len(report.alerts), len(report.missed),
          len(report.duplicates) + len(report.repeated_events),
          _minutes(median), _minutes(worst))],
    )  # fmt: skip
    return report


def _minutes(delta: Any) -> str:
    return "-" if delta is None else f"{delta.total_seconds() / 60:.1f} min"


@pytest.fixture(scope="module")
def rendered(lab_dir: Path, hidden: Hidden, learner_code: Any) -> list[tuple[dict, dict, Any]]:
    """render(alert, context) for each alert, in one jailed process: (alert, context, the
    message or the learner's error)."""
    pairs = alerts_and_contexts(hidden)
    try:
        outcomes = learner_code.call_many(
            lab_dir / ALERT, "render", [(a, c) for a, c in pairs], timeout=RENDER_TIMEOUT
        )
    except learner_code.Error as exc:
        outcomes = [exc] * len(pairs)
    out = []
    for (alert, context), outcome in zip(pairs, outcomes, strict=True):
        value = outcome if isinstance(outcome, learner_code.Error) else outcome.value
        out.append((alert, context, value))
    return out


# ---------------------------------------------------------------- task 1: correlation


@pytest.mark.check(task=1, points=1, gate="task")
def test_the_correlation_is_a_valid_sql_detection(lab_dir: Path, hidden: Hidden) -> None:
    """correlate.sql is a SQL detection the engine accepts, and it runs over both views."""
    detection = _detection(lab_dir, CORRELATE, 1)
    try:
        judge_correlation(hidden, detection)
    except GraderError as exc:
        fail(
            expected=f"{CORRELATE} to run over the hidden day",
            found=_relative(str(exc)),
            fix="run it on your practice dataset with `grader siem query --sql` and fix what fails",
            docs=f"{DOCS}#task-1",
        )


def _result(correlated: Correlated | GraderError) -> Correlated:
    if isinstance(correlated, GraderError):  # the gate has said why
        pytest.skip(str(correlated))
    return correlated


@pytest.mark.check(task=1, points=3)
def test_the_correlation_finds_both_directions_of_the_pattern(
    correlated: Correlated | GraderError, hidden: Hidden
) -> None:
    """It finds every console sign-in of the pattern on a hidden day: AWS lets a person in
    within 30 minutes after the identity provider refused them, and AWS refuses a person
    the identity provider lets in within 30 minutes."""
    result = _result(correlated)
    if not result.missed:
        return
    fail(
        expected=f"the {count(len(hidden.expected), 'console sign-in')} of the pattern",
        found=f"missed {len(result.missed)}: "
        + listing(hidden.describe(result.missed), 4)
        + _context_of(hidden, result.missed),
        fix="the pattern runs both ways: an IdP failure then a console success, and a console "
        "failure then an IdP success. Match the two logs by the person (how does an IAM "
        "user's name, an SSO session and the IdP's e-mail name the same person?)",
        docs=f"{CHAPTER}#enrichment",
    )


def _context_of(hidden: Hidden, events: tuple[str, ...] | list[str]) -> str:
    """The IdP sign-ins of the same cases, so the learner sees the pair they missed."""
    around: list[str] = []
    for event in events:
        case = hidden.case_of(event)
        if case is not None:
            around += case["idp_uuids"]
    if not around:
        return ""
    return "; with " + listing(hidden.describe(around), 4)


@pytest.mark.check(task=1, points=3)
def test_the_correlation_leaves_the_near_misses_alone(
    correlated: Correlated | GraderError, hidden: Hidden
) -> None:
    """It flags nothing else: not a typo corrected before the other side lets the person in
    (at the identity provider or at the console), not a sign-in 35 to 50 minutes after a
    failure (either way), not the events in the wrong order, not a colleague who signs in
    from the address where someone else failed."""
    result = _result(correlated)
    if not result.wrong:
        return
    found: list[str] = []
    fixes: list[str] = []
    cases = {c["id"]: c for c in hidden.cases}
    for case_id, events in result.near_misses.items():
        case = cases[case_id]
        found.append(
            f"the near-miss {case['description']!r}: "
            + listing(hidden.describe(events + case["idp_uuids"]), 4)
        )
        fixes.append(NEAR_MISS_FIX.get(case_id, "compare it with the pattern's definition"))
    if result.others:
        found.append(
            f"{count(len(result.others), 'other event')}: "
            + listing(hidden.describe(result.others), 3)
        )
        fixes.append("keep to console sign-ins (signin.amazonaws.com ConsoleLogin) that meet "
                     "the pattern")  # fmt: skip
    fail(
        expected="no hit outside the pattern's cases",
        found="; ".join(found),
        fix="; ".join(dict.fromkeys(fixes)),
        docs=f"{DOCS}#task-1",
    )


# What each near-miss teaches: the concept, never the answer.
WIDER = (
    "the window is 30 minutes between the two events; a wider one takes in an ordinary "
    "sign-in later in the evening"
)
NEAR_MISS_FIX = {
    "idp-typo-then-success-then-console": "a failure followed by a success at the identity "
    "provider is a typo, not an attack: no IdP success may come between the failure and the "
    "console sign-in",
    "idp-failure-console-after-45-minutes": WIDER,
    "idp-failure-console-after-40-minutes": WIDER,
    "colleague-same-address": "people share addresses (an office, a VPN): the two events must "
    "be the same person's, whatever the address",
    "console-success-then-idp-failure": "the pattern has an order: the refusal comes first, "
    "then the other side lets the person in",
    "console-failure-then-success-then-idp": "the reverse direction has its typo too: a "
    "console success between the console failure and the IdP's success",
    "console-failure-idp-success-after-40-minutes": "the reverse direction's window is 30 "
    "minutes too",
}


# ---------------------------------------------------------------- task 2: the schedule


@pytest.mark.check(task=2, points=1, gate="task")
def test_the_schedule_and_its_query_are_valid(lab_dir: Path, hidden: Hidden) -> None:
    """schedule.toml sets interval_minutes, lookback_minutes and dedup_key with valid values,
    and scheduled.sql is a detection that returns event_id and the key's columns."""
    try:
        schedule = load_schedule(lab_dir / SCHEDULE)
    except GraderError as exc:
        fail(
            expected=f"{SCHEDULE} to hold interval_minutes and lookback_minutes (whole minutes) "
            "and dedup_key (an array of the query's column names)",
            found=str(exc),
            fix="correct what the message names (the starter is restored by `grader reset`)",
            docs=f"{DOCS}#task-2",
        )
    detection = _detection(lab_dir, SCHEDULED, 2)
    try:
        columns = result_columns(hidden, detection)
    except Exception as exc:  # duckdb's errors: the query cannot run
        fail(
            expected=f"{SCHEDULED} to run over the hidden day",
            found=str(exc).splitlines()[0],
            fix="run it on your practice dataset with `grader siem query --sql` and fix what fails",
            docs=f"{DOCS}#task-2",
        )
    absent = [c for c in ["event_id", *schedule.dedup_key] if c.lower() not in columns]
    if absent:
        fail(
            expected=f"{SCHEDULED} to return event_id and every column of dedup_key",
            found=f"it returns {', '.join(columns)}; {', '.join(absent)} missing",
            fix="select the columns the key names, or name columns the query returns",
            docs=f"{DOCS}#task-2",
        )


def _report(replayed: ScheduleReport | GraderError | None) -> ScheduleReport:
    if replayed is None:
        pytest.skip("schedule.toml or scheduled.sql does not load")
    if isinstance(replayed, GraderError):
        fail(
            expected="the schedule to replay over the hidden day",
            found=_relative(str(replayed)),
            fix="run scheduled.sql on your practice dataset and fix what fails",
            docs=f"{DOCS}#task-2",
        )
    return replayed


@pytest.mark.check(task=2, points=2)
def test_every_event_reaches_a_run_within_its_look_back(
    scheduled: tuple[Schedule, Detection] | None, hidden: Hidden
) -> None:
    """With log files delivered 5 to 20 minutes after their events, every event of the day
    is inside the look-back of some run after its file arrived."""
    if scheduled is None:
        pytest.skip("schedule.toml or scheduled.sql does not load")
    schedule = scheduled[0]
    total, worst = unseen(hidden, schedule, limit=2)
    if not total:
        return
    examples = [
        f"{name} at {when:%H:%M:%S}, delivered {got:%H:%M}, first run after it at "
        f"{run:%H:%M} looks back to {run - timedelta(minutes=schedule.lookback):%H:%M}"
        for when, got, run, name in worst
    ]
    fail(
        expected="every event within the look-back of the first run after its file arrives",
        found=f"{count(total, 'event')} of the day never seen by any run (interval "
        f"{schedule.interval} min, look-back {schedule.lookback} min); e.g. " + listing(examples),
        fix="a run reads only what has been delivered, and only back to its look-back: the "
        "look-back must cover the longest delivery delay plus the time until the next run",
        docs=f"{CHAPTER}#late-delivery",
    )


@pytest.mark.check(task=2, points=2)
def test_every_planted_event_raises_an_alert(
    replayed, scheduled: tuple[Schedule, Detection] | None, hidden: Hidden
) -> None:
    """Replayed over the day as its files were delivered, the scheduled detection alerts on
    every action of the root user and nothing else (none missed, none swallowed by the
    de-duplication), each within 40 minutes of the action."""
    report = _report(replayed)
    planted = scheduled_expected(hidden)
    others = report.alerted_events - set(planted)
    if others:
        fail(
            expected="alerts on the root user's actions only",
            found=f"alerts on {count(len(others), 'other event')}, e.g. "
            + listing(hidden.describe(sorted(others)[:3]), 3),
            fix="scheduled.sql is the root-user detection: select the root user's own actions, "
            "and let the schedule choose the time window",
            docs=f"{DOCS}#task-2",
        )
    late = report.latency_max
    if late is not None and late > LATEST_ALERT:
        fail(
            expected=f"each alert within {LATEST_ALERT.seconds // 60} minutes of its event (a "
            "file can arrive 25 minutes after its first event, then the next run reads it)",
            found=f"the latest alert came {late} after its event (interval "
            f"{scheduled[0].interval if scheduled else '?'} min)",
            fix="late logs are a reason to look back further, not to run less often: an alert "
            "hours late lets an intruder finish; run every few minutes",
            docs=f"{CHAPTER}#late-delivery",
        )
    if not report.missed:
        return
    suppressed = {e for a in report.suppressed for e in a.event_ids}
    swallowed = [e for e in report.missed if e in suppressed]
    why = []
    if swallowed:
        why.append(
            f"{count(len(swallowed), 'event')} found but suppressed: its key had alerted "
            "before (one key, one finding)"
        )
    fix = (
        "the key names one finding: if two different events share a key, the second never alerts"
        if swallowed
        else "let the schedule choose the events a run reads: a query that filters on the "
        "wall clock (now()) or a look-back shorter than the delay sees nothing late"
    )
    fail(
        expected=f"an alert for each of the {count(len(planted), 'planted event')}",
        found=f"missed {len(report.missed)}: "
        + listing(hidden.describe(report.missed), 3)
        + ("; " + "; ".join(why) if why else ""),
        fix=fix,
        docs=f"{DOCS}#task-2",
    )


@pytest.mark.check(task=2, points=2)
def test_each_event_alerts_once(replayed, hidden: Hidden) -> None:
    """Each event raises one alert, however many runs' look-backs it falls in."""
    report = _report(replayed)
    if not report.alerts:
        pytest.skip("no event alerted at all: make the check above pass first")
    repeated = set(report.repeated_events) | {e for a in report.duplicates for e in a.event_ids}
    if not repeated:
        return
    runs = {}
    for alert in report.alerts:
        for event in alert.event_ids:
            runs.setdefault(event, []).append(alert.tick)
    event = sorted(repeated)[0]
    ticks = ", ".join(f"{t:%H:%M}" for t in runs.get(event, []))
    fail(
        expected="one alert per event",
        found=f"{count(len(repeated), 'event')} alerted more than once; e.g. "
        f"{listing(hidden.describe([event]), 1)} alerted at the runs of {ticks}",
        fix="overlapping look-backs see an event at several runs: give the SIEM a "
        "de-duplication key, the result columns that name one finding",
        docs=f"{CHAPTER}#late-delivery",
    )


# ---------------------------------------------------------------- task 3: the alert


def _messages(rendered: list[tuple[dict, dict, Any]]) -> list[tuple[dict, dict, dict]]:
    return [(a, c, m) for a, c, m in rendered if isinstance(m, dict)]


@pytest.mark.check(task=3, points=1, gate="task")
def test_render_returns_a_message_for_each_alert(rendered) -> None:
    """alert.py's render(alert, context) returns a message object for each alert, within
    the time limit, in the jail."""
    for alert, _context, value in rendered:
        if isinstance(value, Exception):
            fail(
                expected=f"render() to return a message for the alert {alert['id']}",
                found=_relative(str(value)),
                fix="run render() yourself on the lab page's example alert and context",
                docs=f"{DOCS}#the-alert-contract",
            )
        if not isinstance(value, dict) or "blocks" not in value:
            fail(
                expected='render() to return a message: an object {"blocks": [...]}',
                found=f"it returned {json.dumps(value)[:200]}",
                fix="return the message object itself, not a JSON string",
                docs=f"{DOCS}#the-alert-contract",
            )


@pytest.mark.check(task=3, points=2)
def test_each_message_is_valid_block_kit_within_slacks_limits(rendered) -> None:
    """Each message is Block Kit Slack accepts: known blocks, at most 50 of them, each text
    within its limit, and plain text where Slack allows no markdown."""
    for alert, _context, message in _messages(rendered):
        problems = blockkit.validate(message)
        if problems:
            fail(
                expected="a message Slack's chat.postMessage accepts",
                found=f"for the alert on {alert['event']['event_name']} by "
                f"{alert['event']['user_name']}: " + listing([str(p) for p in problems], 3),
                fix="read each JSON path in the message: Slack's limits are per block and "
                "per element, and headers and button labels take plain_text only",
                docs=f"{DOCS}#block-kit",
            )


@pytest.mark.check(task=3, points=2)
def test_each_message_carries_the_user_the_network_and_the_last_day(rendered) -> None:
    """Each message names the user, shows the source address with where it is, and says how
    many events the user made in the last 24 hours."""
    for alert, context, message in _messages(rendered):
        shown = enrichment("\n".join(blockkit.texts(message, fallback=False)), alert, context)
        missing = [
            what
            for what, ok in (
                ("the user (a name from context['user'])", shown.user),
                ("the source address and where it is (context['network'])", shown.network),
                ("the last day's event count (context['activity']['events'])", shown.activity),
            )
            if not ok
        ]
        if missing:
            fail(
                expected="each message to carry the user, the source network and the last "
                "day's activity",
                found=f"the message for {alert['event']['event_name']} by "
                f"{alert['event']['user_name']} lacks {listing(missing)}",
                fix="a responder decides from the message alone: show who, from where and "
                "what else they did",
                docs=f"{CHAPTER}#enrichment",
            )


@pytest.mark.check(task=3, points=2)
def test_each_message_asks_to_confirm_or_deny(rendered) -> None:
    """Each message has two buttons or more, to confirm or deny, each telling the SIEM which
    alert it answers."""
    for alert, _context, message in _messages(rendered):
        found = blockkit.buttons(message)
        event = alert["event"]["event_id"]
        if len(found) < 2:
            fail(
                expected="buttons to confirm (it was me) and deny (it was not me)",
                found=f"{count(len(found), 'button')} in the message for {alert['id']}",
                fix="add an actions block with a button per answer",
                docs=f"{DOCS}#task-3",
            )
        unnamed = [path for path, b in found if event not in str(b.get("value", ""))]
        if unnamed:
            fail(
                expected="each button's value to name the alert it answers (its event_id)",
                found=f"no event_id in the value of {listing(unnamed, 3)}",
                fix="when someone presses a button, Slack sends back its value, and only its "
                "value says which alert the answer is for",
                docs=f"{DOCS}#the-alert-contract",
            )
        answers = {(b.get("action_id"), b.get("value")) for _path, b in found}
        if len(answers) < 2:
            fail(
                expected="the buttons to differ (action_id or value)",
                found="every button sends the same action_id and value",
                fix="give each answer its own action_id",
                docs=f"{DOCS}#the-alert-contract",
            )
