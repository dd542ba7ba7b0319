"""Does a scheduled detection miss late-delivered events, or alert twice, and how late?

Eight suspicious events (StopLogging), each in a log file CloudTrail delivers 5-20 minutes
after it, among ordinary calls. A detection run every 5 minutes over the last 5 minutes of
event time never holds an event's file while the event is still in its window; a 30-minute
look-back always does, at several ticks, so only a de-duplication key keeps it to one alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from grader.aws.siem.detections import Detection
from grader.aws.siem.schedule import ScheduleError, simulate
from grader.aws.siem.store import open_dataset, save_dataset
from tests.test_siem_store import record, write_log

START = datetime(2026, 11, 2, 9, 0)
DELAYS = (5, 8, 11, 14, 17, 20, 6, 19)  # minutes from event to delivery
EVENTS = [f"00000000-0000-4000-8000-0000000001{i:02d}" for i in range(len(DELAYS))]
STOP = Detection(
    "trail-stopped",
    "Trail stopped",
    ("T1562.008",),
    "critical",
    "SELECT event_id, user_name, event_time FROM cloudtrail WHERE event_name = 'StopLogging'",
)


def _stamp(moment: datetime) -> str:
    """The delivery stamp of a file: the whole minute at or after ``moment``."""
    up = moment if moment.second == 0 else moment.replace(second=0) + timedelta(minutes=1)
    return f"{up:%Y%m%dT%H%M}Z"


@pytest.fixture(scope="module", params=["in memory", "saved"])
def late(tmp_path_factory, request):
    """The late files, loaded in memory (``grader check``) or read from a saved database
    (a class's prepared day), where the replay's views are the connection's own."""
    root = tmp_path_factory.mktemp("siem-late")
    for index, (event_id, delay) in enumerate(zip(EVENTS, DELAYS, strict=True)):
        when = START + timedelta(minutes=1 + 13 * index, seconds=30)
        stop = record(
            event_id, f"{when:%Y-%m-%dT%H:%M:%SZ}", "StopLogging", "cloudtrail.amazonaws.com"
        )
        noise = record(f"{event_id[:-3]}9{index:02d}", f"{when:%Y-%m-%dT%H:%M:%SZ}")
        write_log(
            root,
            [stop, noise],
            delivered=_stamp(when + timedelta(minutes=delay)),
            unique=f"E{index:015d}",
        )
    saved = None
    if request.param == "saved":
        saved = tmp_path_factory.mktemp("siem-late-saved") / "day.duckdb"
        save_dataset(root, saved)
    with open_dataset(root, saved=saved) as dataset:
        yield dataset


def test_a_five_minute_look_back_on_a_five_minute_schedule_misses_every_late_event(late):
    report = simulate(late, STOP, interval=5, lookback=5, expected=EVENTS)
    assert report.alerts == () and set(report.missed) == set(EVENTS)
    assert report.latency_max is None


def test_a_thirty_minute_look_back_with_a_key_misses_none_and_alerts_once(late):
    report = simulate(late, STOP, interval=5, lookback=30, dedup_key=["event_id"], expected=EVENTS)
    assert report.missed == () and report.duplicates == () and report.repeated_events == ()
    assert sorted(e for a in report.alerts for e in a.event_ids) == sorted(EVENTS)
    assert report.suppressed  # the later ticks saw the same events again, and were held back
    assert timedelta(minutes=5) <= report.latency_median <= timedelta(minutes=25)
    assert report.latency_max <= timedelta(minutes=25)
    # Each alert comes at the first tick at or after its file's delivery.
    first = report.alerts[0]
    assert first.tick == datetime(2026, 11, 2, 9, 10) and first.event_ids == (EVENTS[0],)


def test_the_same_look_back_without_a_key_alerts_each_event_again_at_every_tick(late):
    end = START + timedelta(hours=3)
    report = simulate(late, STOP, interval=5, lookback=30, expected=EVENTS, end=end)
    assert report.missed == ()
    assert set(report.repeated_events) == set(EVENTS) and report.duplicates
    assert all(alert.key == alert.event_ids for alert in report.alerts)


def test_a_key_too_coarse_for_the_findings_suppresses_later_ones_as_missed(late):
    report = simulate(late, STOP, interval=5, lookback=30, dedup_key=["user_name"], expected=EVENTS)
    assert [a.key for a in report.alerts] == [("taro.yamada",)]
    assert set(report.missed) == set(EVENTS[1:])


def test_ticks_run_from_the_first_event_to_after_the_last_delivery(late):
    report = simulate(late, STOP, interval=5, lookback=30, dedup_key=["event_id"])
    assert report.ticks[0] == START
    assert report.ticks[-1] >= datetime(2026, 11, 2, 10, 52)  # the last file, 10:33:30 + 19
    assert len(report.latencies) == len(EVENTS)  # without expected: every alerted event


def test_after_a_simulation_the_views_hold_the_whole_dataset_again(late):
    simulate(late, STOP, interval=5, lookback=5, start=START, end=START + timedelta(minutes=30))
    assert late.count() == 2 * len(EVENTS)


def test_a_key_column_the_query_does_not_return_is_an_error(late):
    with pytest.raises(ScheduleError, match="source_ip"):
        simulate(late, STOP, interval=5, lookback=30, dedup_key=["source_ip"])


@pytest.mark.parametrize(("interval", "lookback"), [(0, 5), (5, -1)])
def test_a_schedule_needs_a_positive_interval_and_look_back(late, interval, lookback):
    with pytest.raises(ScheduleError, match="must be positive"):
        simulate(late, STOP, interval=interval, lookback=lookback)


def test_files_without_cloudtrail_names_have_no_delivery_time_to_simulate(tmp_path):
    (tmp_path / "copied.json").write_text(
        '{"Records": [{"eventID": "e", "eventTime": "2026-11-02T09:00:00Z", "eventName": "StopLogging"}]}'
    )
    with open_dataset(tmp_path) as dataset, pytest.raises(ScheduleError, match="delivery time"):
        simulate(dataset, STOP, interval=5, lookback=30)
