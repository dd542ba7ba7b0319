"""A scheduled detection under late log delivery: what it misses, what it says twice.

A SIEM runs a detection every ``interval`` minutes over the events of the last ``lookback``
minutes of event time. CloudTrail delivers a log file 5-20 minutes after its events (the
stamp in its name), so at a tick the SIEM holds only the records delivered by then. An
event whose file arrives after the tick that covered its time, and before no later tick
still looks back far enough, is never seen: a missed event. A look-back long enough to
cover the delay sees an event at several ticks, so the same finding alerts again unless
the alerts are de-duplicated by a key (the columns of the result that name a finding).

``simulate`` replays that: at each tick it points the ``cloudtrail`` view at the records
with ``delivered_at <= tick`` and ``event_time`` in ``[tick - lookback, tick)`` (and
``idp_signins`` at its events in that window: the identity provider's log has no delivery
time here), runs the detection, and groups the rows into alerts by key. An alert whose key
was alerted before is suppressed when a key is given (the SIEM's de-duplication), and is a
duplicate when none is (each event is its own key then).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import GraderError
from .detections import (
    Detection,
    DetectionError,
    check_read_only,
    run_detection,
    strip_query,
    time_limit,
)
from .store import VIEWS

if TYPE_CHECKING:
    from .store import Dataset

Key = tuple[Any, ...]


class ScheduleError(GraderError):
    """A schedule that cannot be simulated (bad interval, no delivery times, unknown key)."""


@dataclass(frozen=True)
class Alert:
    """What one tick raised for one key: the events behind it."""

    tick: datetime
    key: Key
    event_ids: tuple[str, ...]


@dataclass(frozen=True)
class ScheduleReport:
    """Every alert, what the de-duplication suppressed, and what went wrong."""

    ticks: tuple[datetime, ...]
    alerts: tuple[Alert, ...]
    suppressed: tuple[Alert, ...] = ()
    duplicates: tuple[Alert, ...] = ()  # alerts whose key had alerted before
    repeated_events: tuple[str, ...] = ()  # events in more than one alert
    missed: tuple[str, ...] = ()  # expected, never in an alert
    latencies: dict[str, timedelta] = field(default_factory=dict)  # first alert - event time

    @property
    def alerted_events(self) -> set[str]:
        return {event for alert in self.alerts for event in alert.event_ids}

    @property
    def latency_median(self) -> timedelta | None:
        if not self.latencies:
            return None
        return timedelta(
            seconds=statistics.median(d.total_seconds() for d in self.latencies.values())
        )

    @property
    def latency_max(self) -> timedelta | None:
        return max(self.latencies.values()) if self.latencies else None


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _timestamp(moment: datetime) -> str:
    return f"TIMESTAMP '{moment:%Y-%m-%d %H:%M:%S.%f}'"


def simulate(
    dataset: Dataset,
    detection: Detection,
    *,
    interval: float,
    lookback: float,
    dedup_key: Sequence[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    expected: Iterable[str] | None = None,
    timeout: float = 30.0,
) -> ScheduleReport:
    """Replay ``detection`` every ``interval`` minutes with a ``lookback`` (minutes) on
    event time, from ``start`` to ``end`` (UTC; defaults: the first event's time rounded
    down to the interval, and the last delivery plus one interval).

    ``dedup_key`` names columns of the detection's result; without it each event is its
    own key. ``expected`` (event IDs) gives ``missed``; latencies are measured for the
    expected events, or for every alerted event when none are given.
    """
    if interval <= 0 or lookback <= 0:
        raise ScheduleError(
            f"interval ({interval} min) and look-back ({lookback} min) must be positive"
        )
    undelivered = dataset.sql("SELECT file FROM cloudtrail_all WHERE delivered_at IS NULL LIMIT 1")
    if undelivered:
        raise ScheduleError(
            "the dataset has records without a delivery time (their file name is not "
            "CloudTrail's <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz)",
            file=undelivered[0][0],
        )
    first, last = dataset.sql("SELECT min(event_time), max(delivered_at) FROM cloudtrail_all")[0]
    if first is None:
        return ScheduleReport((), ())
    step = timedelta(minutes=interval)
    back = timedelta(minutes=lookback)
    if start is None:
        midnight = first.replace(hour=0, minute=0, second=0, microsecond=0)
        start = midnight + step * int((first - midnight) / step)
    if end is None:
        end = last + step
    start, end = _naive_utc(start), _naive_utc(end)
    ticks: list[datetime] = []
    tick = start
    while tick <= end:
        ticks.append(tick)
        tick += step
    check_read_only(
        strip_query(detection.query), path=detection.path, first_line=detection.query_line
    )

    seen_keys: set[Key] = set()
    alerts: list[Alert] = []
    suppressed: list[Alert] = []
    duplicates: list[Alert] = []
    try:
        for tick in ticks:
            _window(dataset, tick, back)
            for key, events in _tick_alerts(dataset, detection, dedup_key, timeout):
                alert = Alert(tick, key, events)
                if key in seen_keys:
                    (suppressed if dedup_key else duplicates).append(alert)
                    if dedup_key:
                        continue
                seen_keys.add(key)
                alerts.append(alert)
    finally:
        for view, table in VIEWS.items():
            dataset.con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {table}")

    first_alert: dict[str, datetime] = {}
    counts: dict[str, int] = {}
    for alert in alerts:
        for event in alert.event_ids:
            first_alert.setdefault(event, alert.tick)
            counts[event] = counts.get(event, 0) + 1
    wanted = list(dict.fromkeys(expected)) if expected is not None else None
    missed = tuple(e for e in wanted if e not in first_alert) if wanted is not None else ()
    measured = [e for e in (wanted if wanted is not None else first_alert) if e in first_alert]
    times = _event_times(dataset, measured)
    latencies = {e: first_alert[e] - times[e] for e in measured if times.get(e) is not None}
    return ScheduleReport(
        tuple(ticks),
        tuple(alerts),
        tuple(suppressed),
        tuple(duplicates),
        tuple(e for e, n in counts.items() if n > 1),
        missed,
        latencies,
    )


def _window(dataset: Dataset, tick: datetime, back: timedelta) -> None:
    """Point the views at what the SIEM holds at ``tick`` within the look-back."""
    low, high = _timestamp(tick - back), _timestamp(tick)
    dataset.con.execute(
        "CREATE OR REPLACE VIEW cloudtrail AS SELECT * FROM cloudtrail_all "
        f"WHERE delivered_at <= {high} AND event_time >= {low} AND event_time < {high}"
    )
    dataset.con.execute(
        "CREATE OR REPLACE VIEW idp_signins AS SELECT * FROM idp_signins_all "
        f"WHERE event_time >= {low} AND event_time < {high}"
    )


def _tick_alerts(
    dataset: Dataset, detection: Detection, dedup_key: Sequence[str] | None, timeout: float
) -> list[tuple[Key, tuple[str, ...]]]:
    """The alerts of one run: rows grouped by key, each with its distinct event IDs."""
    if not dedup_key:
        hits = run_detection(dataset, detection, timeout=timeout)
        return [((event,), (event,)) for event in hits.event_ids]
    import duckdb

    where = detection.path if detection.path is not None else detection.id
    try:
        with time_limit(dataset.con, timeout):
            query = strip_query(detection.query)
            result = dataset.con.execute(f"SELECT * FROM (\n{query}\n)")
            columns = [d[0].lower() for d in result.description]
            rows = result.fetchall()
    except duckdb.InterruptException:
        raise DetectionError(f"the query ran longer than {timeout:g} s", file=where) from None
    except duckdb.Error as exc:
        raise DetectionError(f"the query failed: {str(exc).splitlines()[0]}", file=where) from None
    wanted = [c.lower() for c in dedup_key]
    absent = [c for c in [*wanted, "event_id"] if c not in columns]
    if absent:
        raise ScheduleError(
            f"the de-duplication key needs the column(s) {', '.join(absent)}, but the query "
            f"returns {', '.join(columns)}",
            file=where,
        )
    places = [columns.index(c) for c in wanted]
    event_place = columns.index("event_id")
    grouped: dict[Key, dict[str, None]] = {}
    for row in rows:
        if row[event_place] is None:
            continue
        key = tuple(row[i] for i in places)
        grouped.setdefault(key, {})[str(row[event_place])] = None
    return [(key, tuple(sorted(events))) for key, events in grouped.items()]


def _event_times(dataset: Dataset, events: list[str]) -> dict[str, datetime]:
    if not events:
        return {}
    dataset.con.execute("CREATE OR REPLACE TEMP TABLE __wanted (event_id VARCHAR)")
    dataset.con.executemany("INSERT INTO __wanted VALUES (?)", [(e,) for e in events])
    rows = dataset.sql(
        "SELECT event_id, min(event_time) FROM (SELECT event_id, event_time FROM cloudtrail_all "
        "UNION ALL SELECT event_id, event_time FROM idp_signins_all) "
        "SEMI JOIN __wanted USING (event_id) GROUP BY event_id"
    )
    dataset.con.execute("DROP TABLE __wanted")
    return {r[0]: r[1] for r in rows}
