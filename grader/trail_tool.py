"""``grader trail policy``: a least-privilege draft from a CloudTrail trail, offline.

Like IAM Access Analyzer's policy generation: the principal's calls become actions; the
resources and conditions are left for a person to add (``--scoped`` starts them off).
"""

from __future__ import annotations

import argparse
import json
from typing import Any


class ToolInputError(Exception):
    """A trail, time or ARN the user gave cannot be used."""


def policy(args: argparse.Namespace, out: Any, err: Any) -> int:
    from grader.aws.trail import (
        TrailFileError,
        TrailPolicyError,
        TrailRecordError,
        scoped_policy,
        trail_policy,
    )

    if not args.trail_dir.is_dir():
        raise ToolInputError(f"{args.trail_dir}: no such folder")
    try:
        draft = trail_policy(
            args.trail_dir, args.principal, args.start, args.end, markers=args.markers
        )
    except (TrailFileError, TrailPolicyError, TrailRecordError) as exc:
        raise ToolInputError(str(exc)) from None
    document = scoped_policy(draft) if args.scoped else draft.policy
    if args.json:
        print(json.dumps({**draft.to_dict(), "policy": document}, indent=2))
        return 0
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
    return 0
