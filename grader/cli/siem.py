"""``grader siem generate``, ``query`` and ``export``: the SIEM engine as a tool.

``generate`` writes a realistic, labelled CloudTrail dataset (and identity-provider sign-ins)
in CloudTrail's S3 layout; ``query`` runs one detection, SQL or a Sigma rule, over any folder
of CloudTrail files and lists its hits by eventID; ``export`` turns a detection into Athena's
SQL, where CloudTrail is queried at scale.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader.errors import ExitCode, UsageError

# How many hits the plain listing shows (--json lists them all).
HITS_SHOWN = 50
# The columns a hit is shown with, beside its eventID.
_HIT_COLUMNS = ("event_time", "event_name", "user_name", "source_ip", "aws_region")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "siem",
        help="the SIEM engine: generate CloudTrail, run detections, offline",
        description="Use the SIEM engine directly: generate a labelled CloudTrail dataset, run "
        "a detection (SQL or Sigma) over any folder of CloudTrail files, or export one to "
        "Athena's SQL, offline.",
    )
    siem = p.add_subparsers(dest="siem_command", metavar="SIEM_COMMAND", required=True)

    g = siem.add_parser(
        "generate",
        help="write a realistic, labelled CloudTrail dataset",
        description="Write an organization's CloudTrail (and its identity provider's sign-ins) "
        "in CloudTrail's S3 layout: a benign baseline with look-alikes that trap naive rules, "
        "planted attack scenarios each with its ATT&CK technique, and labels.json with the "
        "ground truth. Each log file is delivered 5-20 minutes after its events. The same seed "
        "writes the same files.",
    )
    g.add_argument(
        "out", metavar="DIR", type=Path, help="the folder to write (must not hold a dataset)"
    )
    g.add_argument("--seed", type=int, default=1, help="the run's seed (default: 1)")
    g.add_argument("--days", type=int, default=7, help="days of activity (default: 7)")
    g.add_argument(
        "--events",
        type=int,
        help="about this many events in all (the machine traffic scales; default: what the "
        "organization does in --days)",
    )
    g.add_argument(
        "--start",
        metavar="YYYY-MM-DD",
        help="the first day (Tokyo time; default: a Monday the seed picks)",
    )
    g.add_argument(
        "--scenario",
        metavar="ID",
        action="append",
        help="plant only this attack scenario (repeat for more; default: all of them)",
    )
    g.set_defaults(run=cmd_generate)

    q = siem.add_parser(
        "query",
        help="run one detection over a folder of CloudTrail files",
        description="Load a folder of CloudTrail files into DuckDB (the cloudtrail and "
        "idp_signins views) and run one detection: a SQL file (a header of -- id:, -- title:, "
        "-- technique:, -- severity: lines, then one SELECT of event_id) or a Sigma rule "
        "(logsource product aws, service cloudtrail). The folder may hold CloudTrail's S3 "
        'layout or any files of {"Records": [...]}, gzipped or not.',
    )
    q.add_argument(
        "--data", metavar="DIR", type=Path, required=True, help="the folder of CloudTrail files"
    )
    rule = q.add_mutually_exclusive_group(required=True)
    rule.add_argument("--sql", metavar="FILE", type=Path, help="a SQL detection")
    rule.add_argument("--sigma", metavar="FILE", type=Path, help="a Sigma rule (YAML)")
    q.add_argument("--json", action="store_true", help="print the hits as a JSON array")
    q.add_argument(
        "--scenario",
        metavar="ID",
        help="score the hits against this planted scenario of the folder's labels.json "
        "(a dataset from grader siem generate): precision, recall, what was missed and which "
        "look-alikes were caught",
    )
    q.set_defaults(run=cmd_query)

    e = siem.add_parser(
        "export",
        help="a detection in Athena's SQL",
        description="Print a detection (SQL or Sigma) as Athena (Trino) SQL over the CloudTrail "
        "table Athena's documentation creates, with sqlglot.",
    )
    rule = e.add_mutually_exclusive_group(required=True)
    rule.add_argument("--sql", metavar="FILE", type=Path, help="a SQL detection")
    rule.add_argument("--sigma", metavar="FILE", type=Path, help="a Sigma rule (YAML)")
    e.add_argument(
        "--dialect", choices=("athena",), default="athena", help="the target (default: athena)"
    )
    e.add_argument(
        "--table",
        default="cloudtrail_logs",
        help="Athena's CloudTrail table (default: cloudtrail_logs)",
    )
    e.set_defaults(run=cmd_export)


# --- generate ---------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> int:
    from grader.aws.siem.generate import generate
    from grader.terminal import console

    start = None
    if args.start:
        try:
            start = datetime.strptime(args.start, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise UsageError(f"--start: {args.start!r} is not a date like 2026-11-02") from None
    for name in ("days", "events"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name} must be at least 1, not {value}")
    out = console(stderr=True)
    with _bar(out) as progress:
        try:
            summary = generate(
                args.out,
                seed=args.seed,
                days=args.days,
                events=args.events,
                start=start,
                scenarios=args.scenario,
                progress=progress,
            )
        except FileExistsError as exc:
            raise UsageError(f"{args.out}: {exc}") from None
        except ValueError as exc:  # an unknown scenario id
            raise UsageError(str(exc)) from None
    print(
        f"{summary.events:,} CloudTrail events in {summary.files:,} files "
        f"({summary.bytes / 1e6:,.1f} MB) and {summary.idp_events:,} identity-provider "
        f"sign-ins, {summary.start:%Y-%m-%d %H:%M} to {summary.end:%Y-%m-%d %H:%M} UTC, "
        f"seed {summary.seed}, in {summary.out_dir}"
    )
    for scenario, count in sorted(summary.scenarios.items()):
        print(f"  planted {scenario}: {count} event{'s' if count != 1 else ''}")
    print(f"ground truth: {Path(summary.out_dir) / 'labels.json'} (keep it away from detections)")
    return ExitCode.OK


class _bar:
    """A progress bar on stderr for a terminal; nothing otherwise (a log stays clean)."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.progress: Any = None
        self.task: Any = None

    def __enter__(self) -> _bar:
        if self.out.is_terminal:
            from rich.progress import Progress

            self.progress = Progress(console=self.out, transient=True)
            self.progress.__enter__()
            self.task = self.progress.add_task("generating", total=None)
        return self

    def __call__(self, done: int, total: int | None) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)


# --- query and export -------------------------------------------------------------------


def _detection(args: argparse.Namespace) -> Any:
    """The detection the arguments name, as the engine's Detection (a Sigma rule converted)."""
    from grader.aws.siem.detections import Detection, load_detection

    if args.sql is not None:
        _exists(args.sql, "--sql")
        return load_detection(args.sql)
    from grader.aws.siem.sigma import convert

    _exists(args.sigma, "--sigma")
    rule = convert(args.sigma, typed_columns=True)
    return Detection(
        id=rule.id or args.sigma.stem,
        title=rule.title,
        techniques=rule.techniques,
        severity=rule.level or "medium",
        query=rule.sql,
        path=args.sigma,
    )


def _exists(path: Path, option: str) -> None:
    if not path.is_file():
        raise UsageError(f"{option}: no such file", file=path)


def cmd_query(args: argparse.Namespace) -> int:
    from grader.aws.siem.detections import run_detection
    from grader.aws.siem.store import open_dataset

    detection = _detection(args)
    if not args.data.is_dir():
        raise UsageError("--data: not a folder of CloudTrail files", file=args.data)
    labels = _labels(args.data, args.scenario) if args.scenario else None
    with open_dataset(args.data) as dataset:
        hits = run_detection(dataset, detection)
        rows = _hit_rows(dataset, hits.event_ids)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return ExitCode.OK
    techniques = ", ".join(detection.techniques) or "no ATT&CK technique"
    print(
        f"{detection.id}: {detection.title} ({techniques}; {detection.severity}): "
        f"{len(rows)} hit{'s' if len(rows) != 1 else ''} in {hits.seconds:.2f} s"
    )
    for row in rows[:HITS_SHOWN]:
        print(
            "  "
            + "  ".join(
                str(row[key] if row[key] is not None else "-")
                for key in ("eventID", "eventTime", "eventName", "user", "sourceIPAddress")
            )
        )
    if len(rows) > HITS_SHOWN:
        print(f"  ... and {len(rows) - HITS_SHOWN} more (--json lists them all)")
    if labels is not None:
        _print_score(args.scenario, labels, hits.event_ids)
    return ExitCode.OK


def _labels(folder: Path, scenario: str) -> dict[str, Any]:
    """labels.json of a generated dataset, checked to plant ``scenario``."""
    from grader.aws.jsonfile import load_json

    path = folder / "labels.json"
    if not path.is_file():
        raise UsageError(
            "--scenario needs the labels.json that grader siem generate writes beside AWSLogs/",
            file=path,
        )
    labels = load_json(path)
    known = [s.get("id") for s in labels.get("scenarios", [])]
    if scenario not in known:
        raise UsageError(
            f"--scenario: {scenario!r} is not planted in this dataset; its scenarios are "
            + ", ".join(str(k) for k in known)
        )
    return labels


def _print_score(scenario: str, labels: dict[str, Any], hits: tuple[str, ...]) -> None:
    from grader.aws.siem.score import score

    planted = next(s for s in labels["scenarios"] if s["id"] == scenario)
    result = score(hits, planted["eventIDs"])
    print(f"against {scenario} ({planted.get('technique', '?')}): {result}")
    traps = {e: look["id"] for look in labels.get("lookalikes", []) for e in look["eventIDs"]}
    caught: dict[str, int] = {}
    for event_id in result.false_positives:
        name = traps.get(event_id, "ordinary activity")
        caught[name] = caught.get(name, 0) + 1
    for name, count in sorted(caught.items(), key=lambda item: -item[1]):
        print(f"  wrongly caught: {count} event{'s' if count != 1 else ''} of {name}")
    if result.false_negatives:
        print(
            f"  missed: {len(result.false_negatives)} planted event(s), e.g. "
            + ", ".join(result.false_negatives[:3])
        )


def _hit_rows(dataset: Any, event_ids: tuple[str, ...]) -> list[dict[str, Any]]:
    """Each hit with the fields a person reads first, in the detection's (time) order."""
    if not event_ids:
        return []
    found = dataset.sql(
        f"SELECT event_id, {', '.join(_HIT_COLUMNS)} FROM cloudtrail "
        "WHERE event_id IN (SELECT unnest(?))",
        [list(event_ids)],
    )
    by_id = {row[0]: row for row in found}
    rows = []
    for event_id in event_ids:
        row = by_id.get(event_id) or (event_id, *(None for _ in _HIT_COLUMNS))
        when = row[1]
        rows.append(
            {
                "eventID": event_id,
                "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else None,
                "eventName": row[2],
                "user": row[3],
                "sourceIPAddress": row[4],
                "awsRegion": row[5],
            }
        )
    return rows


def cmd_export(args: argparse.Namespace) -> int:
    from grader.aws.siem.export import to_dialect

    detection = _detection(args)
    print(f"-- {detection.id}: {detection.title}")
    print(to_dialect(detection.query, args.dialect, table=args.table))
    return ExitCode.OK
