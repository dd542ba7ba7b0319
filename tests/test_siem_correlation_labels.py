"""Do the generator's correlation labels tell the truth on every seed? The pattern is
recomputed from its definition (lab 8's task 1) over the raw files the generator wrote, not
from the labels: each real match must be a case labelled expected, and no near-miss may be
a match, whatever a person's ordinary sign-ins or the other planted stories do that day."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from grader.aws.siem.generate import generate
from grader.aws.trail.layout import log_files, read_log_file

WINDOW = timedelta(minutes=30)


def _time(text: str) -> datetime:
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if "." in text else "%Y-%m-%dT%H:%M:%SZ"
    return datetime.strptime(text, fmt).replace(tzinfo=UTC)


def _person(identity: dict[str, Any]) -> str | None:
    """The login a console sign-in is for: an IAM user's name, or an SSO session's e-mail
    (the last part of its ARN) before the @. None for root."""
    if identity.get("type") == "IAMUser":
        return identity["userName"].lower()
    if identity.get("type") == "AssumedRole":
        return identity["arn"].rsplit("/", 1)[-1].split("@")[0].lower()
    return None


def pattern(root: Path) -> set[str]:
    """The eventIDs of the console sign-ins that are the pattern:

    - forward: an IdP failure of the person, then a console success of theirs at most 30
      minutes later, with no IdP success of theirs in between;
    - reverse: a console failure of the person, then an IdP success of theirs at most 30
      minutes later, with no console success of theirs in between.
    """
    idp: dict[str, list[tuple[datetime, bool]]] = {}
    for path in sorted((root / "idp").glob("*.jsonl.gz")):
        for line in gzip.decompress(path.read_bytes()).decode().splitlines():
            event = json.loads(line)
            who = event["actor"]["alternateId"].split("@")[0].lower()
            ok = event["outcome"]["result"] == "SUCCESS"
            idp.setdefault(who, []).append((_time(event["published"]), ok))
    console: dict[str, list[tuple[datetime, bool, str]]] = {}
    for path in log_files(root / "AWSLogs"):
        for rec in read_log_file(path):
            who = _person(rec["userIdentity"])
            if rec["eventName"] == "ConsoleLogin" and who:
                ok = rec["responseElements"]["ConsoleLogin"] == "Success"
                console.setdefault(who, []).append((_time(rec["eventTime"]), ok, rec["eventID"]))
    found = set()
    for who, logins in console.items():
        mine = idp.get(who, [])
        for when, ok, event_id in logins:
            if ok:
                forward = any(
                    not f_ok
                    and when - WINDOW <= f < when
                    and not any(s_ok and f < s < when for s, s_ok in mine)
                    for f, f_ok in mine
                )
                if forward:
                    found.add(event_id)
            else:
                reverse = any(
                    s_ok
                    and when < s <= when + WINDOW
                    and not any(k_ok and when < k < s for k, k_ok, _ in logins)
                    for s, s_ok in mine
                )
                if reverse:
                    found.add(event_id)
    return found


@pytest.mark.parametrize("seed", range(31))
def test_every_real_match_is_labelled_expected_and_no_near_miss_is_one(
    tmp_path: Path, seed: int
) -> None:
    generate(tmp_path, seed=seed, days=1, events=0, compresslevel=0)
    labels = json.loads((tmp_path / "labels.json").read_text())
    cases = labels["correlation"]
    expected = {e for c in cases if c["expected"] for e in c["eventIDs"]}
    near = {e: c["id"] for c in cases if not c["expected"] for e in c["eventIDs"]}
    found = pattern(tmp_path)
    assert found == expected, {
        "unlabelled matches": sorted(found - expected),
        "near-misses that match": sorted({near[e] for e in found if e in near}),
        "expected, not a match": sorted(expected - found),
    }
    assert len(cases) == 9 and sum(c["expected"] for c in cases) == 2
    assert all(c["eventIDs"] and c["idp_uuids"] for c in cases)


def test_the_definition_here_finds_a_match_the_labels_do_not_hold(tmp_path: Path) -> None:
    """The recomputation can fail: an IdP failure planted 10 minutes before a near-miss's
    console sign-in turns it into a match the labels do not list."""
    generate(tmp_path, seed=4, days=1, events=0, compresslevel=0)
    labels = json.loads((tmp_path / "labels.json").read_text())
    case = next(c for c in labels["correlation"] if c["id"] == "colleague-same-address")
    [event_id] = case["eventIDs"]
    rec = next(
        r
        for p in log_files(tmp_path / "AWSLogs")
        for r in read_log_file(p)
        if r["eventID"] == event_id
    )
    failed = _time(rec["eventTime"]) - timedelta(minutes=10)
    line = {
        "uuid": "planted-by-the-test",
        "published": failed.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "eventType": "user.session.start",
        "actor": {"alternateId": case["email"]},
        "outcome": {"result": "FAILURE"},
    }
    extra = tmp_path / "idp" / "signins-extra.jsonl.gz"
    extra.write_bytes(gzip.compress((json.dumps(line) + "\n").encode()))
    assert event_id in pattern(tmp_path)
