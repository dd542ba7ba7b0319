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
