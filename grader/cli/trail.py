"""``grader trail policy``: a least-privilege draft from a CloudTrail trail, offline.

Like IAM Access Analyzer's policy generation: the principal's calls become actions; the
resources and conditions are left for a person to add (``--scoped`` starts them off).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from grader.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "trail",
        help="CloudTrail tools, offline",
        description="Work with CloudTrail logs in their S3 layout, offline.",
    )
    trail = p.add_subparsers(dest="trail_command", metavar="TRAIL_COMMAND", required=True)
    t = trail.add_parser(
        "policy",
        help="a least-privilege policy from what a principal did",
        description="Draft an identity policy from a principal's calls in a CloudTrail trail, "
        "like IAM Access Analyzer's policy generation: actions only, Resource '*'. Notes on "
        "what to review (denied calls, unmapped events, roles passed) and warnings about "
        "records skipped as unusable go to stderr.",
    )
    t.add_argument(
        "trail_dir",
        metavar="TRAIL_DIR",
        type=Path,
        help="a folder of CloudTrail logs (AWSLogs/...)",
    )
    t.add_argument("--principal", metavar="ARN", required=True, help="the role, session or user")
    t.add_argument("--start", metavar="TIME", help="only calls at or after TIME (ISO 8601)")
    t.add_argument("--end", metavar="TIME", help="only calls at or before TIME (ISO 8601)")
    t.add_argument(
        "--markers",
        action="store_true",
        help="only calls between marker runs (three identical read-only calls in a row)",
    )
    t.add_argument(
        "--include-service-calls",
        action="store_true",
        help="keep calls an AWS service made on the principal's behalf (userIdentity.invokedBy)",
    )
    t.add_argument(
        "--scoped",
        action="store_true",
        help="scope each statement to the resources the records name, instead of '*'",
    )
    t.add_argument("--json", action="store_true", help="print the draft with its notes as JSON")
    t.set_defaults(run=cmd_policy)
    _register_actions(trail)


def _register_actions(trail: Any) -> None:
    a = trail.add_parser(
        "actions",
        help="the IAM actions one CloudTrail event needs, offline",
        description="Say which IAM actions a CloudTrail event needed and why (the default "
        "rule, a renamed permission, an API version in the event name, no permission at all, "
        "an HTTP verb for API Gateway), or list every exception the course knows with --list. "
        "The offline reference for lab 4.",
    )
    a.add_argument("event_source", nargs="?", metavar="EVENT_SOURCE", help="e.g. s3.amazonaws.com")
    a.add_argument("event_name", nargs="?", metavar="EVENT_NAME", help="e.g. HeadObject")
    a.add_argument(
        "--param",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="a requestParameters field, where the mapping depends on it (e.g. versionId=1)",
    )
    a.add_argument("--list", action="store_true", help="every exception to <prefix>:<eventName>")
    a.set_defaults(run=cmd_actions)


def cmd_actions(args: argparse.Namespace) -> int:
    from grader.aws.trail.actions import (
        EVENT_ACTIONS,
        NO_PERMISSION_SOURCES,
        S3_VERSIONED_ACTIONS,
        VERSIONED_EVENT_NAMES,
        map_event,
    )
    from grader.aws.trail.sources import EVENT_SOURCE_PREFIX

    if args.list:
        if args.event_source or args.event_name:
            raise UsageError("give either EVENT_SOURCE EVENT_NAME or --list, not both")
        print("Endpoints whose IAM prefix differs from their name:")
        for source, prefix in sorted(EVENT_SOURCE_PREFIX.items()):
            print(f"  {source} -> {prefix}:")
        print("Operations whose permission has another name (or needs none):")
        for (source, operation), actions in sorted(EVENT_ACTIONS.items()):
            print(f"  {source} {operation} -> {', '.join(actions) or '(no permission)'}")
        print("S3 operations on a version (requestParameters.versionId):")
        for action, versioned in sorted(S3_VERSIONED_ACTIONS.items()):
            print(f"  {action} -> {versioned}")
        print("Event names that carry an API version (the version is not part of the action):")
        for source, pattern in sorted(VERSIONED_EVENT_NAMES.items()):
            print(f"  {source}: {pattern.pattern}")
        print("Endpoints whose calls need no IAM permission:")
        for source, why in sorted(NO_PERMISSION_SOURCES.items()):
            print(f"  {source}: {why}")
        return ExitCode.OK
    if not (args.event_source and args.event_name):
        raise UsageError(
            "give EVENT_SOURCE EVENT_NAME (e.g. s3.amazonaws.com HeadObject) or --list"
        )
    params: dict[str, str] = {}
    for pair in args.param:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--param {pair!r}: expected KEY=VALUE, e.g. versionId=1")
        params[key] = value
    record = {
        "eventSource": args.event_source,
        "eventName": args.event_name,
        "userIdentity": {"type": "AssumedRole"},
        "requestParameters": params,
    }
    mapping = map_event(record)
    actions = ", ".join(mapping.actions) or "none"
    print(f"{args.event_source} {args.event_name}: {actions}")
    why = {
        "default": "the default rule: <prefix>:<eventName>",
        "renamed": "an exception: the permission has another name",
        "versioned": "the API version in the event name is not part of the action",
        "no-permission": "this call needs no IAM permission",
        "http-verb": "API Gateway: an HTTP verb on the resource path",
        "unmappable": "no rule maps it: choose the actions by hand",
        "service-event": "made by an AWS service, not by a principal",
    }.get(mapping.kind, mapping.kind)
    host = args.event_source.lower().removesuffix(".amazonaws.com")
    prefix = mapping.actions[0].split(":", 1)[0] if mapping.actions else host
    if mapping.kind == "default" and prefix != host:
        why += f", with the endpoint's IAM prefix ({args.event_source} is {prefix}:)"
    print(f"  why: {why}" + (f" ({mapping.note})" if mapping.note else ""))
    for arn in mapping.resources:
        print(f"  on: {arn}")
    return ExitCode.OK


def cmd_policy(args: argparse.Namespace) -> int:
    from grader.aws.trail import scoped_policy, trail_policy
    from grader.terminal import console

    if not args.trail_dir.is_dir():
        raise UsageError(f"{args.trail_dir}: no such folder")
    draft = trail_policy(
        args.trail_dir,
        args.principal,
        args.start,
        args.end,
        markers=args.markers,
        include_service_calls=args.include_service_calls,
    )
    err = console(stderr=True)
    for warning in draft.warnings:  # records skipped while reading: one line each
        err.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    document = scoped_policy(draft) if args.scoped else draft.policy
    if args.json:
        print(json.dumps({**draft.to_dict(), "policy": document}, indent=2))
        return ExitCode.OK
    print(json.dumps(document, indent=2))
    notes = [
        *(f"denied in the trail (kept: it was attempted): {a}" for a in draft.denied_actions),
        *(f"not in the IAM action catalog: {a}" for a in draft.unknown_actions),
        *(
            f"not mapped to an action: {m.event_source} {m.event_name} ({m.note})"
            for m in draft.unmapped
        ),
        *(
            f"roles passed (iam:PassRole is never logged; add it if needed): {r}"
            for r in draft.passed_roles
        ),
    ]
    for note in notes:
        err.print(f"note: {note}", markup=False, highlight=False)
    err.print(
        f"{draft.events} calls, {len(draft.actions)} actions. Review before use: "
        "add resources and conditions; this draft names actions only.",
        markup=False,
        highlight=False,
    )
    return ExitCode.OK
