"""Generate a labelled SIEM dataset: an organization's CloudTrail and IdP sign-ins over days.

``generate(out_dir, seed=..., days=7, events=None, ...)`` writes, under ``out_dir``:

- ``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz``: CloudTrail log files, one
  per account, region and 5-minute window, each stamped 5-20 minutes after its newest event;
- ``idp/signins-YYYY-MM-DD.jsonl.gz``: the identity provider's sign-ins (Okta-like);
- ``labels.json``: the ground truth, never read by detections::

    {"seed": N, "start": ISO, "end": ISO, "events": N,
     "scenarios": [{"id", "technique", "title", "eventIDs": [...]}],
     "lookalikes": [{"id", "traps": <scenario id>, "title", "count", "eventIDs": [...]}]
                   (at most 1000 IDs each: the pipeline's nightly reads are sampled),
     "hunt": {"first_event_id", "first_event_time", "access_key_id", "user", "account",
              "source_ips", "user_agent", "buckets", "objects",
              "persistence": {"access_keys", "users", "login_profiles", "policies"},
              "eventIDs": every event of the intrusion},
     "correlation": [{"id", "expected": true|false, "user", "email", "description",
                      "source_ips", "idp_uuids", "eventIDs"}]}

A correlation case is ``expected`` when it is the pattern: the person's IdP sign-ins fail
and an AWS console sign-in succeeds within 30 minutes with no IdP success between, or AWS
console sign-ins fail and an IdP sign-in succeeds within 30 minutes with no console success
between. The seven near-misses are not: a typo, then an IdP success, then the console; a
console sign-in 45-50 minutes after a failure; another 35-44 minutes after one; a
colleague's console sign-in from the address where someone else failed at the IdP (that
case's ``user`` and ``email`` are the colleague's, its ``idp_uuids`` the other person's);
a console success, then an IdP failure (the wrong order); a console failure, then a
console success, then the IdP's success; and an IdP success 35-44 minutes after a console
failure.
Nothing else in the data is the pattern. A person maps across: IdP
``taro.yamada@example.co.jp`` is the IAM user ``taro.yamada`` or the SSO session
``taro.yamada@example.co.jp``.

The days run from midnight in Tokyo (people work 09:00-19:00 JST). Generation goes forward
in 5-minute slices; a slice's window is written as soon as no later event can fall in it,
so memory holds minutes of events, not the dataset. ``events`` sets the total (machine
sources scale; people keep human rates); by default the organization's own rate is used.
The hunt's intrusion is planted when any of its techniques is selected, and always with the
leaked key (it is how the intruder gets in). The same arguments give the same bytes.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from . import baseline, incidents
from .emit import Emitter
from .org import JST, Ids, build_org
from .scenarios import BY_ID, HUNT_SCENARIOS, LOOKALIKES, SCENARIO_IDS
from .writer import DatasetWriter, Progress, WriterStats

SLICE = baseline.SLICE
_INSTANCE_SCENARIOS = (
    "cloudtrail-stopped-or-guardduty-disabled",
    "ssh-open-to-world",
    "instances-in-unused-regions",
    "resource-shared-outside",
)
_LABEL_CAP = 1000


@dataclass
class Summary:
    """What a run wrote."""

    out_dir: Path
    seed: int
    events: int
    files: int
    bytes: int
    idp_events: int
    start: datetime
    end: datetime
    scenarios: dict[str, int] = field(default_factory=dict)  # planted events per scenario
    lookalikes: dict[str, int] = field(default_factory=dict)


def _start_of(start: datetime | None, rng: random.Random) -> int:
    """Midnight in Tokyo: of ``start``'s Tokyo day, or of a seed-chosen Monday in 2026."""
    offset = JST * 3600
    if start is None:
        monday = datetime(2026, 9, 7, tzinfo=UTC) + timedelta(weeks=rng.randint(0, 12))
        return int(monday.timestamp()) - offset
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    ts = int(start.timestamp())
    return (ts + offset) // 86400 * 86400 - offset


def _check(days: int, events: int | None, scenarios: Sequence[str] | None) -> set[str]:
    if days < 1:
        raise ValueError(f"days must be 1 or more, not {days}")
    if events is not None and events < 0:
        raise ValueError(f"events must be 0 or more, not {events}")
    if scenarios is None:
        return set(SCENARIO_IDS)
    unknown = [s for s in scenarios if s not in BY_ID]
    if unknown:
        raise ValueError(f"unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIO_IDS)}")
    return set(scenarios)


def _expected(streams: list[baseline.Stream], start: int, days: int) -> tuple[float, float]:
    """Expected calls of the scaled and the fixed streams over the span."""
    scaled = fixed = 0.0
    for t in range(start, start + days * 86400, SLICE):
        for s in streams:
            if s.scaled:
                scaled += s.rate(t)
            else:
                fixed += s.rate(t)
    return scaled, fixed


def _people_estimate(org_size: int, start: int, days: int) -> float:
    workdays = sum(baseline.is_workday(start + d * 86400 + 43200) for d in range(days))
    per_day = org_size * 0.94 * (9.0 * 28 - 0.7 * 28) + 5 * 45 + 230  # people, CI, sweep
    return workdays * per_day + (days - workdays) * 300


def generate(
    out_dir: str | Path,
    *,
    seed: int,
    days: int = 7,
    events: int | None = None,
    start: datetime | None = None,
    scenarios: Sequence[str] | None = None,
    progress: Progress | None = None,
    compresslevel: int = 1,
    threads: int = 0,
) -> Summary:
    """Write a dataset under ``out_dir`` (see the module docstring) and summarize it.

    ``threads=1`` compresses files on a worker thread (it helps only with a free core).
    A folder that already holds a dataset is refused rather than mixed into.
    """
    selected = _check(days, events, scenarios)
    out = Path(out_dir)
    for name in ("AWSLogs", "idp", "labels.json"):
        if (out / name).exists():
            raise FileExistsError(f"{out / name} exists: generate into an empty folder")
    org = build_org(seed)
    rng = random.Random(f"siem/generate/{seed}")
    ids = Ids(rng)
    t_start = _start_of(start, rng)
    t_end = t_start + days * 86400

    hunt_on = bool(selected & set(HUNT_SCENARIOS))
    if hunt_on:
        selected.add("leaked-access-key")
    plan = incidents.Plan()
    times = incidents.pick_times(rng, t_start, days, 4)
    if hunt_on:
        incidents.hunt_story(org, ids, plan, times[0], selected)
    if selected & set(_INSTANCE_SCENARIOS):
        incidents.instance_credentials_story(org, ids, plan, times[1], selected)
    if "console-login-without-mfa" in selected:
        incidents.no_mfa_login(org, ids, plan, times[2])
    if "root-account-use" in selected:
        incidents.root_use(org, ids, plan, times[3])
    office = [
        t_start + d * 86400 for d in range(days) if baseline.is_workday(t_start + d * 86400 + 43200)
    ]
    office = office or [t_start]
    incidents.onboarding(org, ids, plan, rng.choice(office) + 11 * 3600 + rng.randint(0, 3600))
    incidents.trail_update(org, ids, plan, rng.choice(office) + 14 * 3600 + rng.randint(0, 3600))
    incidents.admin_lookalikes(
        org, ids, plan, rng.choice(office) + 13 * 3600 + rng.randint(0, 1800)
    )
    # Cases added after the rest draw from a generator of their own (see correlation_cases).
    own = random.Random(f"siem/correlation/{seed}")
    incidents.correlation_cases(org, ids, plan, t_start + min(1, days - 1) * 86400, own)
    later = random.Random(f"siem/lookalikes/{seed}")
    incidents.lookalikes_apart(org, plan, office[0] + 13 * 3600 + later.randint(0, 1800), later)
    plan.events.sort(key=lambda p: p.ts)

    streams = baseline.machine_streams(org, ids)
    scaled, fixed = _expected(streams, t_start, days)
    other = fixed + _people_estimate(len(org.people), t_start, days) + len(plan.events)
    k = 1.0
    if events is not None:
        k = max(0.0, events - other) / scaled if scaled else 0.0
    total = int(scaled * k + other)

    writer = DatasetWriter(
        out, seed=seed, compresslevel=compresslevel, progress=progress, total=total, threads=threads
    )
    em = Emitter(writer, ids)
    for ts, event, _tags in plan.idp:
        if not event["uuid"]:  # the cases planted apart bring their own
            event["uuid"] = em.uuid()
        event["published"] = baseline._ms(ts)
        writer.add_idp(ts, event)
    try:
        labels, sso_logins = _run(org, ids, em, writer, plan, streams, rng, t_start, days, k)
    except BaseException:
        writer.close()  # no worker thread outlives a failed run
        raise
    labels["sso-console-login"] = sso_logins
    stats = writer.finish()
    apart = _write_apart(out, seed, plan, compresslevel)
    stats.files += apart.files
    stats.events += apart.events
    stats.bytes += apart.bytes
    if progress is not None:
        progress(stats.events, total)  # the last report counts every event
    doc = _labels(seed, t_start, t_end, stats.events, plan, labels, selected)
    (out / "labels.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return Summary(
        out_dir=out,
        seed=seed,
        events=stats.events,
        files=stats.files,
        bytes=stats.bytes,
        idp_events=stats.idp_events,
        start=datetime.fromtimestamp(t_start, UTC),
        end=datetime.fromtimestamp(t_end, UTC),
        scenarios={s["id"]: len(s["eventIDs"]) for s in doc["scenarios"]},
        lookalikes={x["id"]: x["count"] for x in doc["lookalikes"]},
    )


def _run(
    org: Any,
    ids: Ids,
    em: Emitter,
    writer: DatasetWriter,
    plan: incidents.Plan,
    streams: list[baseline.Stream],
    rng: random.Random,
    t_start: int,
    days: int,
    k: float,
) -> tuple[dict[str, list[str]], list[str]]:
    """The day-by-day, slice-by-slice loop; returns the streamed look-alike labels and the
    SSO console sign-ins."""
    people = baseline.People(org, em, ids)
    labels: dict[str, list[str]] = {}
    planned = iter(plan.events)
    pending = next(planned, None)
    for day in range(days):
        day_start = t_start + day * 86400
        actions = people.plan_day(day_start)
        workday = baseline.is_workday(day_start + 43200)
        if workday:
            for n in range(rng.randint(3, 6)):
                when = day_start + int(rng.uniform(10, 18.5) * 3600)
                acct = "prod" if n % 3 else "dev"
                actions.append(
                    (
                        when,
                        lambda w=when, a=acct: baseline.ci_job(
                            org, em, ids, w, a, baseline.HOME, rng.choice(org.repos)
                        ),
                    )
                )
            when = day_start + int(rng.uniform(11, 17) * 3600)
            actions.append(
                (
                    when,
                    lambda w=when: labels.setdefault("ci-in-another-region", []).extend(
                        baseline.ci_job(org, em, ids, w, "dev", "us-east-1", "orders-web")
                    ),
                )
            )
        rotate_at = day_start + 4 * 3600 + rng.randint(0, 3600)
        actions.append((rotate_at, lambda w=rotate_at: baseline.key_rotation(org, em, ids, w)))
        sweep_at = day_start + 3 * 3600 + rng.randint(0, 600)
        actions.append(
            (
                sweep_at,
                lambda w=sweep_at, d=day: _sweep(org, em, ids, w, labels if d == 0 else None),
            )
        )
        actions.sort(key=lambda a: a[0])
        next_action = 0
        day_streams = people.streams + streams
        for t0 in range(day_start, day_start + 86400, SLICE):
            t1 = t0 + SLICE
            while next_action < len(actions) and actions[next_action][0] < t1:
                actions[next_action][1]()
                next_action += 1
            while pending is not None and pending.ts < t1:
                em.record(pending.ts, pending.record)
                pending = next(planned, None)
            for stream in day_streams:
                baseline.run_stream(stream, em, t0, k, labels)
            writer.close_before(t1)
    return labels, people.sso_logins


def _write_apart(out: Path, seed: int, plan: incidents.Plan, compresslevel: int) -> WriterStats:
    """The events planted apart, in log files of their own (same layout, same 5-20 minute
    delay) from a writer with its own generator: the main writer's files and draws stay
    as they were without them. CloudTrail may deliver several files for one account,
    region and window."""
    writer = DatasetWriter(out, seed=seed, compresslevel=compresslevel)
    writer.rng = random.Random(f"siem/writer/apart/{seed}")
    for p in plan.apart:
        text = json.dumps(p.record, separators=(",", ":"), ensure_ascii=False)
        writer.add(p.ts, p.record["recipientAccountId"], p.record["awsRegion"], text)
    return writer.finish()


def _sweep(org: Any, em: Emitter, ids: Ids, when: int, labels: dict[str, list[str]] | None) -> None:
    found = baseline.posture_sweep(org, em, ids, when)
    if labels is not None:
        labels.setdefault("posture-scan-all-regions", []).extend(found)


def _labels(
    seed: int,
    t_start: int,
    t_end: int,
    count: int,
    plan: incidents.Plan,
    streamed: dict[str, list[str]],
    selected: set[str],
) -> dict[str, Any]:
    tagged: dict[str, list[str]] = {}
    for p in plan.events + plan.apart:
        for tag in p.tags:
            tagged.setdefault(tag, []).append(p.record["eventID"])
    scenarios = [
        {
            "id": s,
            "technique": BY_ID[s].technique,
            "title": BY_ID[s].title,
            "eventIDs": tagged.get(s, []),
        }
        for s in SCENARIO_IDS
        if s in selected
    ]
    lookalikes = []
    for x in LOOKALIKES:
        found = tagged.get(x.id, []) + streamed.get(x.id, [])
        lookalikes.append(
            {
                "id": x.id,
                "traps": x.traps,
                "title": x.title,
                "count": min(len(found), _LABEL_CAP),
                "eventIDs": found[:_LABEL_CAP],
            }
        )
    hunt: dict[str, Any] = {}
    if plan.hunt:
        first = plan.hunt.pop("first_record")
        hunt = {
            "first_event_id": first["eventID"],
            "first_event_time": first["eventTime"],
            **plan.hunt,
            "eventIDs": tagged.get("leaked-access-key", []),
        }
    idp_by_case: dict[str, list[str]] = {}
    for _ts, event, tags in plan.idp:
        for tag in tags:
            idp_by_case.setdefault(tag, []).append(event["uuid"])
    correlation = []
    for case in plan.correlation:
        key = f"corr:{case['id']}"
        correlation.append(
            {**case, "idp_uuids": idp_by_case.get(key, []), "eventIDs": tagged.get(key, [])}
        )
    return {
        "seed": seed,
        "start": datetime.fromtimestamp(t_start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": datetime.fromtimestamp(t_end, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "events": count,
        "scenarios": scenarios,
        "lookalikes": lookalikes,
        "hunt": hunt,
        "correlation": correlation,
    }
