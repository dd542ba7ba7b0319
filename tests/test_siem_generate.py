"""The SIEM generator: deterministic, labelled truthfully, in CloudTrail's S3 layout with
late delivery, streamed, and with nothing but the attack itself to give an attack away."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from grader.aws.siem.generate import generate
from grader.aws.siem.org import USED_REGIONS, build_org
from grader.aws.siem.scenarios import LOOKALIKE_IDS, SCENARIO_IDS
from grader.aws.trail.layout import load_trail, log_files, parse_log_file_name, read_log_file

JST = timedelta(hours=9)


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _get(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class Dataset:
    def __init__(self, root: Path, summary: Any) -> None:
        self.root = root
        self.summary = summary
        self.labels = json.loads((root / "labels.json").read_text())
        self.files = log_files(root / "AWSLogs")
        self.records: dict[str, dict[str, Any]] = {}
        self.file_of: dict[str, Path] = {}
        for path in self.files:
            for rec in read_log_file(path):
                self.records[rec["eventID"]] = rec
                self.file_of[rec["eventID"]] = path
        self.idp = [
            json.loads(line)
            for path in sorted((root / "idp").glob("*.jsonl.gz"))
            for line in gzip.decompress(path.read_bytes()).decode().splitlines()
        ]

    def scenario(self, sid: str) -> list[dict[str, Any]]:
        entry = next(s for s in self.labels["scenarios"] if s["id"] == sid)
        return [self.records[e] for e in entry["eventIDs"]]

    def lookalike(self, lid: str) -> list[dict[str, Any]]:
        entry = next(x for x in self.labels["lookalikes"] if x["id"] == lid)
        return [self.records[e] for e in entry["eventIDs"]]

    def attack_ids(self) -> set[str]:
        return {e for s in self.labels["scenarios"] for e in s["eventIDs"]}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    root = tmp_path_factory.mktemp("siem")
    start = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
    summary = generate(root, seed=11, days=2, events=40_000, start=start)
    return Dataset(root, summary)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_values(tmp_path: Path) -> None:
    start = datetime(2026, 11, 4, tzinfo=UTC)
    generate(tmp_path / "a", seed=5, days=1, events=8_000, start=start)
    generate(tmp_path / "b", seed=5, days=1, events=8_000, start=start)
    generate(tmp_path / "c", seed=6, days=1, events=8_000, start=start)
    a, b, c = _tree(tmp_path / "a"), _tree(tmp_path / "b"), _tree(tmp_path / "c")
    assert len(a) > 50
    assert a == b
    ids_a = {r["eventID"] for p in log_files(tmp_path / "a" / "AWSLogs") for r in read_log_file(p)}
    ids_c = {r["eventID"] for p in log_files(tmp_path / "c" / "AWSLogs") for r in read_log_file(p)}
    assert not ids_a & ids_c
    accounts_a = {p.split("/")[1] for p in a if p.startswith("AWSLogs/")}
    accounts_c = {p.split("/")[1] for p in c if p.startswith("AWSLogs/")}
    assert accounts_a.isdisjoint(accounts_c)


def test_a_folder_holding_a_dataset_is_refused(tmp_path: Path) -> None:
    generate(tmp_path, seed=1, days=1, events=2_000, scenarios=["root-account-use"])
    with pytest.raises(FileExistsError, match="empty folder"):
        generate(tmp_path, seed=1, days=1, events=2_000)


def test_an_unknown_scenario_is_refused_and_a_chosen_one_planted_alone(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown scenario 'root-use'"):
        generate(tmp_path / "x", seed=1, scenarios=["root-use"])
    summary = generate(tmp_path / "y", seed=1, days=1, events=3_000, scenarios=["root-account-use"])
    labels = json.loads((tmp_path / "y" / "labels.json").read_text())
    assert [s["id"] for s in labels["scenarios"]] == ["root-account-use"]
    assert labels["hunt"] == {}
    assert summary.scenarios["root-account-use"] >= 2


def test_every_scenario_is_planted_and_each_labelled_event_is_what_it_says(data: Dataset) -> None:
    assert {s["id"] for s in data.labels["scenarios"]} == set(SCENARIO_IDS)
    for entry in data.labels["scenarios"]:
        assert entry["eventIDs"], entry["id"]
        assert entry["technique"].startswith("T1")
        assert all(e in data.records for e in entry["eventIDs"]), entry["id"]
    hunt = data.labels["hunt"]
    external = set(build_org(11).external_accounts)

    (login,) = data.scenario("console-login-without-mfa")
    assert login["eventName"] == "ConsoleLogin"
    assert login["additionalEventData"]["MFAUsed"] == "No"
    assert login["userIdentity"]["type"] == "IAMUser"
    assert login["responseElements"] == {"ConsoleLogin": "Success"}

    assert all(r["userIdentity"]["type"] == "Root" for r in data.scenario("root-account-use"))
    for r in data.scenario("leaked-access-key"):
        assert r["userIdentity"]["accessKeyId"] == hunt["access_key_id"]
        assert r["sourceIPAddress"] in hunt["source_ips"]
    discovery = data.scenario("discovery-burst-across-regions")
    assert all(r["readOnly"] for r in discovery)
    assert len({r["awsRegion"] for r in discovery}) >= 10
    for r in data.scenario("credentials-created-for-another-user"):
        assert r["eventName"] in ("CreateAccessKey", "CreateLoginProfile")
        assert r["requestParameters"]["userName"] != r["userIdentity"].get("userName")
    admin = {r["eventName"]: r["requestParameters"] for r in data.scenario("admin-policy-attached")}
    assert set(admin) == {"AttachUserPolicy", "AttachRolePolicy", "PutUserPolicy"}
    assert admin["AttachRolePolicy"]["policyArn"] == "arn:aws:iam::aws:policy/AdministratorAccess"
    assert json.loads(admin["PutUserPolicy"]["policyDocument"])["Statement"][0]["Action"] == "*"
    names = {r["eventName"] for r in data.scenario("cloudtrail-stopped-or-guardduty-disabled")}
    assert (
        {"StopLogging", "UpdateDetector"}
        <= names
        <= {"StopLogging", "DeleteTrail", "UpdateDetector"}
    )
    exfil = data.scenario("object-exfiltration-burst")
    gets = [r for r in exfil if r["eventName"] == "GetObject"]
    assert len(gets) >= 100 and all(r["eventCategory"] == "Data" for r in exfil)
    span = _time(exfil[-1]["eventTime"]) - _time(exfil[0]["eventTime"])
    assert span < timedelta(minutes=15)
    for r in data.scenario("resource-shared-outside"):
        text = json.dumps(r["requestParameters"])
        assert any(a in text for a in external), r["eventName"]
    for r in data.scenario("instances-in-unused-regions"):
        assert r["eventName"] == "RunInstances" and r["awsRegion"] not in USED_REGIONS
    (ssh,) = data.scenario("ssh-open-to-world")
    perm = ssh["requestParameters"]["ipPermissions"]["items"][0]
    assert (perm["fromPort"], perm["toPort"], perm["ipRanges"]["items"][0]["cidrIp"]) == (
        22,
        22,
        "0.0.0.0/0",
    )


def test_lookalikes_are_planted_benign_and_look_like_what_they_trap(data: Dataset) -> None:
    assert [x["id"] for x in data.labels["lookalikes"]] == list(LOOKALIKE_IDS)
    attacks = data.attack_ids()
    for entry in data.labels["lookalikes"]:
        assert entry["eventIDs"], entry["id"]
        assert not attacks & set(entry["eventIDs"]), entry["id"]
    onboarding = data.lookalike("onboarding-new-hire")
    assert [r["eventName"] for r in onboarding][0] == "CreateUser"
    assert "CreateAccessKey" in {r["eventName"] for r in onboarding}
    office = {
        a
        for n in ("office-tokyo", "office-osaka", "vpn")
        for a in build_org(11).networks[n].addresses
    }
    assert all(r["sourceIPAddress"] in office for r in onboarding)
    ci = data.lookalike("ci-in-another-region")
    assert any(r["eventName"] == "RunInstances" and r["awsRegion"] == "us-east-1" for r in ci)
    for r in data.lookalike("sso-console-login"):
        assert r["eventName"] == "ConsoleLogin" and "AWSReservedSSO_" in r["userIdentity"]["arn"]
        # MFA happened at the identity provider; AWS did not see it and says "No"
        assert r["additionalEventData"]["MFAUsed"] == "No"
        assert r["userIdentity"]["type"] == "AssumedRole"
    trail = {r["eventName"] for r in data.lookalike("trail-updated-not-stopped")}
    assert trail and not trail & {"StopLogging", "DeleteTrail"}
    batch = [r for r in data.lookalike("pipeline-batch-read") if r["eventName"] == "GetObject"]
    assert len(batch) > len(data.scenario("object-exfiltration-burst"))
    sweep = data.lookalike("posture-scan-all-regions")
    assert len({r["awsRegion"] for r in sweep}) >= 10
    (named,) = data.lookalike("managed-policy-named-like-admin")
    assert named["requestParameters"]["policyArn"].startswith(
        "arn:aws:iam::aws:policy/AdministratorAccess-"
    )
    (scoped,) = data.lookalike("scoped-inline-policy")
    assert (
        json.loads(scoped["requestParameters"]["policyDocument"])["Statement"][0]["Action"] != "*"
    )
    (detector,) = data.lookalike("detector-changed-not-disabled")
    assert (
        detector["eventName"] == "UpdateDetector" and "enable" not in detector["requestParameters"]
    )
    (own,) = data.lookalike("own-access-key-rotated")
    assert own["requestParameters"]["userName"] == own["userIdentity"]["userName"]


def test_the_hunt_ground_truth_matches_the_records(data: Dataset) -> None:
    hunt = data.labels["hunt"]
    story = [data.records[e] for e in hunt["eventIDs"]]
    first = min(story, key=lambda r: r["eventTime"])
    assert (
        first["eventID"] == hunt["first_event_id"]
        and first["eventTime"] == hunt["first_event_time"]
    )
    # Nothing of the key's from the intruder's addresses comes before the first event.
    for rec in data.records.values():
        if rec["sourceIPAddress"] in hunt["source_ips"] and rec["eventID"] != first["eventID"]:
            assert rec["eventTime"] >= first["eventTime"]
    taken = [r["requestParameters"]["key"] for r in story if r["eventName"] == "GetObject"]
    assert taken == hunt["objects"] and hunt["buckets"]
    created = {
        r["responseElements"]["accessKey"]["accessKeyId"]
        for r in story
        if r["eventName"] == "CreateAccessKey"
    }
    assert created == set(hunt["persistence"]["access_keys"])
    users = [r["requestParameters"]["userName"] for r in story if r["eventName"] == "CreateUser"]
    assert users == hunt["persistence"]["users"]
    profiles = [
        r["requestParameters"]["userName"] for r in story if r["eventName"] == "CreateLoginProfile"
    ]
    assert profiles == hunt["persistence"]["login_profiles"]


def _idp_time(event: dict[str, Any]) -> datetime:
    return datetime.strptime(event["published"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def test_correlation_cases_hold_the_pattern_and_the_near_misses_do_not(data: Dataset) -> None:
    cases = {c["id"]: c for c in data.labels["correlation"]}
    assert sum(c["expected"] for c in cases.values()) == 2 and len(cases) == 9
    idp = {e["uuid"]: e for e in data.idp}
    window = timedelta(minutes=30)
    for case in cases.values():
        events = [idp[u] for u in case["idp_uuids"]]
        logins = [data.records[e] for e in case["eventIDs"]]
        assert events and logins
        if case["id"] == "colleague-same-address":
            # Someone else fails at the IdP, from the address the user signs in from.
            assert {e["actor"]["alternateId"] for e in events} != {case["email"]}
            assert {e["client"]["ipAddress"] for e in events} == {
                r["sourceIPAddress"] for r in logins
            }
            continue
        assert all(e["actor"]["alternateId"] == case["email"] for e in events)
        assert all(
            case["user"] in r["userIdentity"].get("arn", r["userIdentity"].get("userName", ""))
            for r in logins
        )
        failures = [_idp_time(e) for e in events if e["outcome"]["result"] == "FAILURE"]
        successes = [_idp_time(e) for e in events if e["outcome"]["result"] == "SUCCESS"]
        console_ok = [
            _time(r["eventTime"])
            for r in logins
            if r["responseElements"]["ConsoleLogin"] == "Success"
        ]
        console_bad = [
            _time(r["eventTime"])
            for r in logins
            if r["responseElements"]["ConsoleLogin"] == "Failure"
        ]
        # The pattern: IdP failure, then console success within 30 minutes with no IdP
        # success between; or console failure, then IdP success within 30 minutes with no
        # console success between.
        forward = any(
            f < c <= f + window and not any(f < s < c for s in successes)
            for f in failures
            for c in console_ok
        )
        reverse = any(
            b < s <= b + window and not any(b < c < s for c in console_ok)
            for b in console_bad
            for s in successes
        )
        assert (forward or reverse) == case["expected"], case["id"]


def _console_user(record: dict[str, Any]) -> str:
    ident = record["userIdentity"]
    if ident.get("type") == "IAMUser":
        return ident["userName"]
    return ident.get("arn", "").rsplit("/", 1)[-1].split("@")[0]


def test_across_the_whole_dataset_the_correlation_rule_hits_exactly_the_planted_cases(
    data: Dataset,
) -> None:
    window = timedelta(minutes=30)
    idp: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for e in data.idp:
        if e["eventType"] == "user.session.start":
            idp[e["actor"]["alternateId"].split("@")[0]].append(
                (_idp_time(e), e["outcome"]["result"])
            )
    logins = [r for r in data.records.values() if r["eventName"] == "ConsoleLogin"]
    successes: dict[str, list[datetime]] = defaultdict(list)
    for rec in logins:
        if rec["responseElements"]["ConsoleLogin"] == "Success":
            successes[_console_user(rec)].append(_time(rec["eventTime"]))
    hits = set()
    for rec in logins:
        user, when = _console_user(rec), _time(rec["eventTime"])
        outcome = rec["responseElements"]["ConsoleLogin"]
        if outcome == "Success":
            before = sorted(t for t in idp[user] if when - window <= t[0] < when)
            if before and any(r == "FAILURE" for _, r in before) and before[-1][1] == "FAILURE":
                hits.add(rec["eventID"])
        elif any(
            when < t <= when + window
            and r == "SUCCESS"
            and not any(when < ok < t for ok in successes[user])  # no console success between
            for t, r in idp[user]
        ):
            hits.add(rec["eventID"])
    expected = {e for c in data.labels["correlation"] if c["expected"] for e in c["eventIDs"]}
    assert hits == expected


def test_files_follow_the_s3_layout_and_arrive_5_to_20_minutes_after_their_newest_event(
    data: Dataset,
) -> None:
    assert len(data.files) == data.summary.files
    by_file: dict[Path, list[dict[str, Any]]] = defaultdict(list)
    for eid, path in data.file_of.items():
        by_file[path].append(data.records[eid])
    delays = []
    for path, records in by_file.items():
        name = parse_log_file_name(path.name)
        assert name is not None, path
        rel = path.relative_to(data.root).parts
        assert rel[:4] == ("AWSLogs", name.account, "CloudTrail", name.region)
        assert "/".join(rel[4:7]) == name.delivered.strftime("%Y/%m/%d")
        assert {r["recipientAccountId"] for r in records} == {name.account}
        assert {r["awsRegion"] for r in records} == {name.region}
        times = sorted(_time(r["eventTime"]) for r in records)
        assert (times[-1] - times[0]) < timedelta(minutes=5)
        assert times[0].minute // 5 == times[-1].minute // 5
        delay = name.delivered - times[-1]
        assert timedelta(minutes=5) <= delay <= timedelta(minutes=20), path.name
        delays.append(delay)
    assert max(delays) - min(delays) > timedelta(minutes=8)  # jittered, not constant
    assert data.summary.events == len(data.records) == data.labels["events"]
    assert data.summary.bytes == sum(p.stat().st_size for p in data.files) + sum(
        p.stat().st_size for p in (data.root / "idp").iterdir()
    )


def test_the_records_read_back_with_the_trail_readers_and_the_idp_log_has_the_contract_fields(
    data: Dataset,
) -> None:
    read = load_trail(data.root / "AWSLogs")
    assert not read.skipped and len(read.records) == len(data.records)
    rec = next(iter(data.records.values()))
    assert float(rec["eventVersion"]) >= 1.08
    for event in data.idp:
        assert set(event) >= {
            "uuid",
            "published",
            "eventType",
            "actor",
            "client",
            "outcome",
            "displayMessage",
        }
        assert event["actor"]["alternateId"].endswith("@example.co.jp")
        assert event["outcome"]["result"] in ("SUCCESS", "FAILURE", "DENY")
        assert set(event["client"]["geographicalContext"]) == {"country", "city"}


def test_people_work_office_hours_in_tokyo_and_machines_around_the_clock(data: Dataset) -> None:
    planted = {e for x in data.labels["lookalikes"] for e in x["eventIDs"]} | data.attack_ids()
    planted |= {e for c in data.labels["correlation"] for e in c["eventIDs"]}
    human_hours: list[int] = []
    machine_hours: set[int] = set()
    for rec in data.records.values():
        arn = rec["userIdentity"].get("arn", "")
        hour = (_time(rec["eventTime"]) + JST).hour
        if rec["eventID"] in planted:
            continue
        if "AWSReservedSSO_" in arn or rec["userIdentity"].get("type") == "IAMUser":
            human_hours.append(hour)
        elif "orders-api-task" in arn:
            machine_hours.add(hour)
    assert human_hours and all(8 <= h <= 21 for h in human_hours)
    assert sum(9 <= h < 19 for h in human_hours) / len(human_hours) > 0.9
    assert len(machine_hours) == 24


# Fields that describe how a call was made (not what it did): none may hold a value seen
# only in attacks. Allowed: the attack itself (a root identity is what root use is).
_DESCRIPTIVE = (
    "userAgent",
    "eventVersion",
    "eventType",
    "eventCategory",
    "awsRegion",
    "eventSource",
    "errorCode",
    "userIdentity.type",
    "userIdentity.sessionContext.attributes.mfaAuthenticated",
    "tlsDetails.tlsVersion",
    "tlsDetails.cipherSuite",
    "tlsDetails.clientProvidedHostHeader",
    "sessionCredentialFromConsole",
    "additionalEventData.SignatureVersion",
    "additionalEventData.CipherSuite",
    "additionalEventData.AuthenticationMethod",
    "additionalEventData.MobileVersion",
    "additionalEventData.LoginTo",
)
_THE_ATTACK_ITSELF = {("userIdentity.type", "Root")}


def test_no_field_value_gives_an_attack_away(data: Dataset) -> None:
    attacks = data.attack_ids()
    benign: dict[str, set[Any]] = defaultdict(set)
    malicious: dict[str, set[Any]] = defaultdict(set)
    for rec in data.records.values():
        target = malicious if rec["eventID"] in attacks else benign
        for field in _DESCRIPTIVE:
            target[field].add(_get(rec, field))
        target["keys"].add(tuple(sorted(rec)))
    for field, values in malicious.items():
        only = {v for v in values - benign[field] if (field, v) not in _THE_ATTACK_ITSELF}
        assert not only, f"{field} holds values only attacks use: {only}"


def test_progress_is_reported_and_a_large_run_keeps_memory_low(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    tracemalloc.start()
    try:
        summary = generate(
            tmp_path, seed=2, days=1, events=40_000, progress=lambda d, t: seen.append((d, t))
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 36_000 < summary.events < 44_000
    # Held whole, the records would take ~60 MB as JSON text alone; streamed, ~10 MB.
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == summary.events and len(seen) >= 288
