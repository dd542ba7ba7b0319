"""Marker events: the "sync sync sync" that brackets a piece of work in a trail.

Before and after the work, the engineer runs one harmless command three times in a row
(``aws sts get-caller-identity``, ``aws s3 ls``). In a busy trail those three identical
calls, seconds apart and with nothing else by the same principal between them, are easy to
find, and the work is everything that principal did between one marker and the next.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .records import (
    Record,
    event_key,
    event_time,
    is_read_only,
    is_service_made,
    principal_matches,
    record_id,
)

MARKER_COUNT = 3
MARKER_SPAN = timedelta(seconds=60)


@dataclass(frozen=True)
class Marker:
    """One marker: identical consecutive calls by the principal within ``MARKER_SPAN``."""

    event_source: str
    event_name: str
    start: datetime
    end: datetime
    event_ids: tuple[str, ...]


@dataclass(frozen=True)
class MarkerWindow:
    """The work between two markers: after ``opening`` ends, before ``closing`` starts."""

    opening: Marker
    closing: Marker

    @property
    def start(self) -> datetime:
        return self.opening.end

    @property
    def end(self) -> datetime:
        return self.closing.start

    def contains(self, record: Record) -> bool:
        """Whether ``record`` falls in the window (bounds inclusive, because CloudTrail
        times have whole seconds) and is not one of the marker calls themselves."""
        if not self.start <= event_time(record) <= self.end:
            return False
        rid = record_id(record)
        return rid not in self.opening.event_ids and rid not in self.closing.event_ids


def own_calls(records: Iterable[Record], principal_arn: str) -> list[Record]:
    """The principal's own calls (not those an AWS service made for it), in time order."""
    mine = [r for r in records if principal_matches(r, principal_arn) and not is_service_made(r)]
    return sorted(mine, key=event_time)


def find_markers(
    records: Iterable[Record],
    principal_arn: str,
    *,
    count: int = MARKER_COUNT,
    span: timedelta = MARKER_SPAN,
    read_only: bool = True,
) -> list[Marker]:
    """Every marker of ``principal_arn``: ``count`` identical calls (same eventSource and
    eventName) in a row among the principal's own calls, all within ``span``.

    A longer run of the same call is one marker. With ``read_only`` (the default) only calls
    CloudTrail marks read-only can be markers: a marker is a harmless command, and a job that
    writes three files in a row is working, not marking.
    """
    calls = own_calls(records, principal_arn)
    markers: list[Marker] = []
    i = 0
    while i < len(calls):
        key = event_key(calls[i])
        j = i + 1
        first = event_time(calls[i])
        while (
            j < len(calls) and event_key(calls[j]) == key and event_time(calls[j]) - first <= span
        ):
            j += 1
        run = calls[i:j]
        if len(run) >= count and (not read_only or is_read_only(run[0]) is not False):
            markers.append(
                Marker(
                    key[0],
                    key[1],
                    event_time(run[0]),
                    event_time(run[-1]),
                    tuple(record_id(r) for r in run),
                )
            )
            i = j
        else:
            i += 1
    return markers


def find_marker_windows(
    records: Iterable[Record],
    principal_arn: str,
    *,
    count: int = MARKER_COUNT,
    span: timedelta = MARKER_SPAN,
    read_only: bool = True,
) -> list[MarkerWindow]:
    """The work windows of ``principal_arn``: from the end of each marker to the start of
    the next, in time order (two markers give one window; none or one give none)."""
    records = list(records)
    markers = find_markers(records, principal_arn, count=count, span=span, read_only=read_only)
    return [MarkerWindow(a, b) for a, b in zip(markers, markers[1:], strict=False)]
