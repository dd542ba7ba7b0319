"""Is a SQL detection read right, kept read-only, run safely and scored fairly?"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from grader.aws.siem.attack import TECHNIQUES, TechniqueError, technique
from grader.aws.siem.detections import (
    Detection,
    DetectionError,
    check_read_only,
    load_detection,
    parse_detection,
    run_detection,
)
from grader.aws.siem.score import score
from grader.aws.siem.store import open_dataset
from tests.test_siem_store import console_login, record, sample_records, write_log

HEADER = """-- id: console-login-without-mfa
-- title: Console sign-in without MFA
-- technique: T1078.004
-- severity: high
"""
QUERY = """SELECT event_id FROM cloudtrail
WHERE event_name = 'ConsoleLogin' AND additional_event_data->>'MFAUsed' = 'No'
"""


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("siem-detections")
    records = sample_records() + [
        console_login("00000000-0000-4000-8000-000000000010", "2026-11-02T08:00:00Z", "iam", "No"),
        record(
            "00000000-0000-4000-8000-000000000011",
            "2026-11-02T08:30:00Z",
            "ListUsers",
            "iam.amazonaws.com",
        ),
    ]
    write_log(root, records)
    with open_dataset(root) as opened:
        yield opened


def write(tmp_path: Path, text: str, name: str = "rule.sql") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- the file format ----------------------------------------------------------------------


def test_a_well_formed_detection_is_read_with_its_header_and_query(tmp_path):
    text = HEADER.replace(
        "-- technique: T1078.004", "-- technique: T1078.004, T1078\n-- technique: T1621"
    )
    text = (
        "-- Written for lab7.\n"
        + text
        + "-- description: a person signs in without MFA\n\n"
        + QUERY
        + ";\n-- end\n"
    )
    found = load_detection(write(tmp_path, text))
    assert (found.id, found.title, found.severity) == (
        "console-login-without-mfa",
        "Console sign-in without MFA",
        "high",
    )
    assert found.techniques == ("T1078.004", "T1078", "T1621")
    assert found.description == "a person signs in without MFA"
    assert found.query == QUERY.strip() and found.query_line == 9


@pytest.mark.parametrize(
    ("header", "line", "says"),
    [
        (HEADER.replace("-- severity: high\n", ""), 1, "severity"),
        (HEADER.replace("-- id: console-login-without-mfa\n", ""), 1, "id"),
        (HEADER + "-- tactic: initial-access\n", 5, "unknown header key 'tactic'"),
        (HEADER.replace("T1078.004", "t1078.004"), 3, "'T1078.004'"),
        (HEADER.replace("T1078.004", "T1078.009"), 3, "T1078.004 (Cloud Accounts)"),
        (HEADER.replace("T1078.004", "T1059.001"), 3, "not a technique of ATT&CK's cloud"),
        (HEADER.replace("T1078.004", "TA0001"), 3, "look like T1078"),
        (HEADER.replace("high", "urgent"), 4, "low, medium, high, critical"),
        (HEADER + "-- title: again\n", 5, "given twice"),
        (HEADER.replace("console-login-without-mfa", "console login"), 1, "no spaces"),
    ],
    ids=[
        "no-severity",
        "no-id",
        "unknown-key",
        "lowercase-technique",
        "unknown-sub-technique",
        "endpoint-technique",
        "tactic-not-technique",
        "bad-severity",
        "key-twice",
        "id-with-space",
    ],
)
def test_a_bad_header_is_an_error_with_file_and_line(tmp_path, header, line, says):
    path = write(tmp_path, header + QUERY)
    with pytest.raises(DetectionError) as caught:
        load_detection(path)
    assert caught.value.file == str(path) and caught.value.line == line, str(caught.value)
    assert says in str(caught.value)


def test_a_header_without_a_query_says_so(tmp_path):
    with pytest.raises(DetectionError, match="no query after the header"):
        load_detection(write(tmp_path, HEADER))


def test_a_missing_file_is_a_detection_error(tmp_path):
    with pytest.raises(DetectionError, match="no such file"):
        load_detection(tmp_path / "absent.sql")


# -- ATT&CK --------------------------------------------------------------------------------

ISSUE_IDS = [
    *("T1078.004", "T1580", "T1098.001", "T1098.003", "T1562.008", "T1530", "T1537"),
    *("T1578.002", "T1562.007", "T1526", "T1110", "T1621", "T1069.003", "T1087.004"),
    *("T1136.003", "T1496", "T1485", "T1552.005", "T1535", "T1098"),
]


@pytest.mark.parametrize("ident", ISSUE_IDS)
def test_every_technique_the_issue_names_is_known(ident):
    assert technique(ident).id == ident


def test_a_technique_has_its_name_tactics_and_parent():
    found = technique("T1562.008")
    assert found.full_name == "Impair Defenses: Disable or Modify Cloud Logs"
    assert found.tactics == ("defense-evasion",) and found.parent == "T1562"
    assert found.url == "https://attack.mitre.org/techniques/T1562/008/"
    assert all(k.split(".")[0] in TECHNIQUES for k in TECHNIQUES)  # every parent is there


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("t1078.004", "is written 'T1078.004'"),
        (" T1078.004", "is written"),
        ("T1078/004", "is written"),
    ],
)
def test_a_technique_not_written_as_attack_writes_it_is_refused_with_the_right_form(given, says):
    with pytest.raises(TechniqueError, match=says):
        technique(given)


# -- the read-only guard ------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT event_id FROM cloudtrail; SELECT 1",
        "INSERT INTO cloudtrail_all SELECT * FROM cloudtrail_all",
        "CREATE TABLE x AS SELECT event_id FROM cloudtrail",
        "DROP VIEW cloudtrail",
        "UPDATE cloudtrail_all SET event_id = NULL",
        "DELETE FROM cloudtrail_all",
        "COPY cloudtrail_all TO '/tmp/out.csv'",
        "ATTACH '/tmp/other.db' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "PRAGMA database_list",
        "SET enable_external_access = true",
        "SELECT * INTO kept FROM cloudtrail",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_json_auto('https://example.com/x.json')",
        "SELECT * FROM '/etc/passwd.csv'",
        "SELECT content AS event_id FROM read_text('/etc/hostname')",
        "SELECT getenv('HOME') AS event_id",
        "SELECT * FROM query('SELECT 1')",
        "SELECT * FROM glob('/home/*')",
        "SELECT * FROM duckdb_settings()",
        "SELECT * FROM cloudtrail_all",
        "SELECT * FROM information_schema.tables",
        "SELECT * FROM other.main.cloudtrail",
        "WITH x AS (SELECT * FROM read_parquet('s3://b/k')) SELECT * FROM x",
    ],
)
def test_anything_but_one_read_of_the_views_is_refused(sql):
    with pytest.raises(DetectionError, match="a detection is one SELECT query"):
        check_read_only(sql)


@pytest.mark.parametrize(
    "sql",
    [
        QUERY,
        "WITH logins AS (SELECT * FROM cloudtrail WHERE event_name = 'ConsoleLogin') "
        "SELECT l.event_id FROM logins l JOIN idp_signins i ON i.user_name = l.user_name",
        "FROM cloudtrail SELECT event_id WHERE error_code IS NOT NULL",
        "SELECT event_id FROM main.cloudtrail UNION SELECT event_id FROM idp_signins",
        "SELECT event_id, count(*) OVER (PARTITION BY access_key_id) n FROM cloudtrail",
        "SELECT c.event_id FROM cloudtrail c, unnest([1, 2]) AS u(x), range(3) r",
        "SELECT event_id FROM cloudtrail WHERE event_name IN (SELECT 'ListUsers');",
        # The shape of the Sigma converter's SQL: lambdas over lists of JSON values.
        "SELECT event_id FROM cloudtrail WHERE array_length(list_filter(list_transform("
        "[record], lambda x: json_extract_string(x, '$.eventName')), lambda v: "
        "lower(v) LIKE lower('%Login') ESCAPE '\\')) > 0 "
        "AND regexp_matches(json_extract_string(record, '$.userAgent'), '^aws-cli/.*')",
    ],
)
def test_ordinary_detection_sql_is_allowed(sql):
    check_read_only(sql)


def test_a_refusal_points_at_the_line_in_the_file(tmp_path):
    path = write(tmp_path, HEADER + "SELECT event_id\nFROM read_csv('/etc/passwd')\n")
    with pytest.raises(DetectionError) as caught:
        load_detection(path)
    assert caught.value.line == 6 and "read_csv" in str(caught.value)


def test_sql_that_does_not_parse_says_where(tmp_path):
    path = write(tmp_path, HEADER + "SELECT event_id\nFROM cloudtrail WHERE (\n")
    with pytest.raises(DetectionError, match="cannot be parsed") as caught:
        load_detection(path)
    assert caught.value.line is not None and caught.value.line >= 5


# -- running ------------------------------------------------------------------------------


def detection(query: str, path: Path | None = None) -> Detection:
    return Detection("d", "D", ("T1078.004",), "high", query, path)


def test_hits_are_distinct_event_ids_in_event_time_order(dataset):
    hits = run_detection(
        dataset,
        detection(
            "SELECT event_id FROM cloudtrail WHERE event_name = 'ConsoleLogin' "
            "UNION ALL SELECT event_id FROM cloudtrail WHERE event_name = 'ConsoleLogin' "
            "ORDER BY event_id DESC"
        ),
    )
    assert hits.event_ids == (
        "00000000-0000-4000-8000-000000000010",  # 08:00
        "00000000-0000-4000-8000-000000000001",  # 09:00
        "00000000-0000-4000-8000-000000000002",  # 09:01
    )
    assert hits.event_times[0].hour == 8 and len(hits) == 3


def test_the_sample_rule_finds_the_mfa_less_logins(dataset, tmp_path):
    found = run_detection(dataset, load_detection(write(tmp_path, HEADER + QUERY)))
    assert list(found) == [
        "00000000-0000-4000-8000-000000000010",
        "00000000-0000-4000-8000-000000000001",
    ]


def test_a_query_without_event_id_says_which_columns_it_returns(dataset, tmp_path):
    path = tmp_path / "x.sql"
    with pytest.raises(
        DetectionError, match=r"no event_id column \(it returns eventid, user_name\)"
    ) as caught:
        run_detection(
            dataset, detection("SELECT event_id AS eventid, user_name FROM cloudtrail", path)
        )
    assert caught.value.file == str(path)


def test_a_failing_query_quotes_duckdb_with_the_detection_file(dataset, tmp_path):
    path = tmp_path / "typo.sql"
    with pytest.raises(DetectionError) as caught:
        run_detection(
            dataset, detection("SELECT event_id FROM cloudtrail WHERE evnt_name = 'x'", path)
        )
    assert caught.value.file == str(path)
    assert 'the query failed: Binder Error: Referenced column "evnt_name" not found' in str(
        caught.value
    )


def test_a_runaway_cross_join_is_stopped_at_the_time_limit_and_the_next_query_runs(dataset):
    runaway = detection(
        "SELECT a.event_id FROM cloudtrail a, range(1000000000000) r WHERE hash(r.range) = 0"
    )
    start = time.perf_counter()
    with pytest.raises(DetectionError, match="ran longer than 0.5 s"):
        run_detection(dataset, runaway, timeout=0.5)
    assert time.perf_counter() - start < 5
    assert len(run_detection(dataset, detection(QUERY))) == 2


def test_duckdb_only_syntax_runs_too(dataset):
    hits = run_detection(
        dataset, detection("FROM cloudtrail SELECT event_id WHERE error_code = 'AccessDenied';")
    )
    assert list(hits) == ["00000000-0000-4000-8000-000000000003"]


def test_a_detection_built_in_code_is_guarded_too(dataset):
    with pytest.raises(DetectionError, match="read_csv"):
        run_detection(dataset, detection("SELECT * FROM read_csv('/etc/passwd')"))


def test_parse_detection_takes_text_without_a_file():
    found = parse_detection(HEADER + QUERY)
    assert found.path is None and found.id == "console-login-without-mfa"


# -- scoring ------------------------------------------------------------------------------


def test_precision_and_recall_with_their_event_lists():
    got = score(["a", "b", "x", "a"], ["a", "b", "c", "d"])
    assert (got.precision, got.recall) == (2 / 3, 0.5)
    assert (got.true_positives, got.false_positives, got.false_negatives) == (
        ("a", "b"),
        ("x",),
        ("c", "d"),
    )
    assert (got.tp, got.fp, got.fn) == (2, 1, 2) and not got.meets(precision=0.9, recall=1.0)


def test_no_hits_is_precision_one_with_a_note_and_recall_zero():
    got = score([], ["a", "b"])
    assert (got.precision, got.recall) == (1.0, 0.0)
    assert any("no hits" in note for note in got.notes) and "no hits" in str(got)


def test_nothing_expected_is_recall_one_with_a_note():
    got = score(["x"], [])
    assert (got.precision, got.recall) == (0.0, 1.0)
    assert any("nothing was expected" in note for note in got.notes)


def test_hits_outside_the_universe_are_ignored_not_counted_wrong():
    got = score(["a", "other-scenario", "noise"], ["a"], universe=["a", "noise", "b"])
    assert got.ignored == ("other-scenario",) and got.false_positives == ("noise",)
    assert got.precision == 0.5 and got.recall == 1.0


def test_expected_events_outside_the_universe_are_a_mistake_in_the_labels():
    with pytest.raises(ValueError, match="outside the universe"):
        score(["a"], ["a", "zzz"], universe=["a"])


def test_a_perfect_detection_meets_the_lab_floors(dataset, tmp_path):
    hits = run_detection(dataset, load_detection(write(tmp_path, HEADER + QUERY)))
    got = score(
        hits, ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000010"]
    )
    assert got.meets(precision=0.9, recall=1.0) and got.notes == ()
