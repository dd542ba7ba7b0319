"""``grader iam simulate`` and ``grader iam grants``: the IAM engine as a tool.

Like ``aws iam simulate-custom-policy``, offline: decisions in AWS's words (``allowed``,
``explicitDeny``, ``implicitDeny``) with the statement that decided.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from grader.aws.iam import (
    MalformedPolicyError,
    Policy,
    Request,
    evaluate,
    parse_policy,
)
from grader.jsonfile import InputError, load_json

_STYLE = {"allowed": "green", "explicitDeny": "red", "implicitDeny": "yellow"}


class ToolInputError(Exception):
    """A file or argument the user gave cannot be used."""


def load_policy(path: Path) -> Policy:
    """A policy file parsed, or one clear line saying where it is wrong."""
    try:
        document = load_json(path, what="a JSON object (an IAM policy document)")
        return parse_policy(document, name=Path(path).name)
    except InputError as exc:
        raise ToolInputError(str(exc)) from None
    except MalformedPolicyError as exc:
        where = f" at {exc.path}" if getattr(exc, "path", None) else ""
        raise ToolInputError(f"{path}: MalformedPolicyDocument{where}: {exc}") from None


def parse_context(pairs: Iterable[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; a key given more than once becomes multi-valued."""
    context: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ToolInputError(
                f"--context {pair!r}: expected KEY=VALUE, e.g. aws:ResourceTag/Environment=dev"
            )
        if key in context:
            previous = context[key]
            context[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            context[key] = value
    return context


def _request(data: dict[str, Any]) -> Request:
    action = data.get("action")
    if not isinstance(action, str) or not action:
        raise ValueError('"action" must be a non-empty string')
    resource = data.get("resource", "*")
    principal = data.get("principal")
    context = data.get("context") or {}
    if not isinstance(resource, str):
        raise ValueError('"resource" must be a string')
    if principal is not None and not isinstance(principal, str):
        raise ValueError('"principal" must be a string')
    if not isinstance(context, dict) or not all(
        isinstance(v, str) or (isinstance(v, list) and all(isinstance(i, str) for i in v))
        for v in context.values()
    ):
        raise ValueError('"context" must map each key to a string or a list of strings')
    return Request(action=action, resource=resource, principal=principal, context=context)


def _answer(decision: Any, request: Request) -> dict[str, Any]:
    return {
        "action": request.action,
        "resource": request.resource,
        "decision": decision.decision,
        "matchedStatements": [
            {"policy": m.policy, "sid": m.statement.sid, "index": m.statement.index}
            for m in decision.matched
        ],
        "explanation": decision.explain(),
    }


def simulate(args: argparse.Namespace, console: Any) -> int:
    policies = [load_policy(p) for p in args.policy]
    if args.requests is not None:
        if args.action:
            raise ToolInputError("give either --action or --requests, not both")
        return _simulate_lines(policies, args.requests)
    if not args.action:
        raise ToolInputError("--action is required (or --requests FILE)")
    request = Request(
        action=args.action,
        resource=args.resource,
        principal=args.principal,
        context=parse_context(args.context),
    )
    decision = evaluate(policies, request)
    if args.json:
        print(json.dumps(_answer(decision, request)))
        return 0
    style = _STYLE.get(decision.decision, "bold")
    console.print(
        f"[{style}]{decision.decision}[/]  {request.action} on {request.resource}", highlight=False
    )
    console.print(f"  {decision.explain()}", markup=False, highlight=False)
    return 0


def _simulate_lines(policies: list[Policy], source: Path) -> int:
    if str(source) == "-":
        lines: Iterable[str] = sys.stdin
    else:
        try:
            lines = Path(source).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ToolInputError(f"--requests {source}: cannot read it ({exc})") from None
    out = sys.stdout
    bad = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("each line must be a JSON object")
            request = _request(data)
        except (ValueError, json.JSONDecodeError) as exc:
            bad += 1
            out.write(json.dumps({"line": number, "error": str(exc)}) + "\n")
            continue
        out.write(json.dumps(_answer(evaluate(policies, request), request)) + "\n")
    out.flush()
    return 2 if bad else 0


def grants(args: argparse.Namespace, console: Any) -> int:
    from grader.aws.iam.catalog import grants as policy_grants

    policy = load_policy(args.policy)
    result = policy_grants(policy)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    from rich.table import Table

    table = Table(title=f"What {args.policy.name} grants", title_justify="left")
    for column in ("service", "access level", "actions", "examples"):
        table.add_column(column)
    for service, levels in result.by_service.items():
        for level, actions in levels.items():
            sample = ", ".join(a.split(":", 1)[1] for a in actions[:4])
            more = f" … +{len(actions) - 4}" if len(actions) > 4 else ""
            table.add_row(service, level, str(len(actions)), sample + more)
    console.print(table)
    totals = result.totals
    console.print(f"{totals['actions']} actions in {totals['services']} services.", highlight=False)
    for unknown in result.unknown:
        console.print(
            f"[yellow]{unknown.pattern}[/] ({unknown.statement}, {unknown.element}): {unknown.reason}",
            highlight=False,
        )
    return 0
