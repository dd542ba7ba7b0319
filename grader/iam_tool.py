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
    InvalidPrincipalError,
    MalformedPolicyError,
    OrgLevel,
    Policy,
    PolicySet,
    Request,
    authorize,
    evaluate,
    parse_policy,
)
from grader.jsonfile import InputError, load_json

_STYLE = {"allowed": "green", "explicitDeny": "red", "implicitDeny": "yellow"}


class ToolInputError(Exception):
    """A file or argument the user gave cannot be used."""


def load_policy(path: Path, kind: str = "identity") -> Policy:
    """A policy file parsed, or one clear line saying where it is wrong."""
    try:
        document = load_json(path, what="a JSON object (an IAM policy document)")
        return parse_policy(document, name=Path(path).name, kind=kind)
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
            {
                "policy": m.policy,
                "policyType": getattr(m, "policy_type", "identity"),
                "sid": m.statement.sid,
                "index": m.statement.index,
            }
            for m in decision.matched
        ],
        "explanation": decision.explain(),
    }


def _level(value: str, kind: str) -> OrgLevel:
    """One level of the organization: ``--scp a.json,b.json`` attaches both there."""
    paths = [Path(part) for part in value.split(",") if part]
    if not paths:
        raise ToolInputError("--scp/--rcp needs at least one file")
    return OrgLevel(" + ".join(p.name for p in paths), [load_policy(p, kind) for p in paths])


class Evaluator:
    """Identity policies alone (``evaluate``), or the whole logic (``authorize``) as soon as
    another policy type or account is given."""

    def __init__(self, args: argparse.Namespace):
        self.identity = [load_policy(p) for p in args.policy]
        resource = [load_policy(p, "resource") for p in args.resource_policy]
        boundary = load_policy(args.boundary) if args.boundary else None
        session = load_policy(args.session_policy) if args.session_policy else None
        scps = [_level(value, "identity") for value in args.scp]
        rcps = [_level(value, "resource") for value in args.rcp]
        self.full = bool(
            resource
            or boundary
            or session
            or scps
            or rcps
            or args.caller_account
            or args.resource_account
        )
        if not self.identity and not resource:
            raise ToolInputError(
                "give at least one policy: --policy FILE or --resource-policy FILE"
            )
        if self.full:
            try:
                self.set = PolicySet(
                    identity=self.identity,
                    resource=resource,
                    boundary=boundary,
                    scps=scps,
                    rcps=rcps,
                    session=session,
                    caller_account=args.caller_account,
                    resource_account=args.resource_account,
                )
            except InvalidPrincipalError as exc:
                raise ToolInputError(f"a Principal element is not valid: {exc}") from None

    def __call__(self, request: Request) -> Any:
        if not self.full:
            return evaluate(self.identity, request)
        try:
            return authorize(request, self.set)
        except ValueError as exc:  # a principal ARN that is not one
            raise ToolInputError(f"--principal {request.principal!r}: {exc}") from None


def simulate(args: argparse.Namespace, console: Any) -> int:
    decide = Evaluator(args)
    if args.requests is not None:
        if args.action:
            raise ToolInputError("give either --action or --requests, not both")
        return _simulate_lines(decide, args.requests)
    if not args.action:
        raise ToolInputError("--action is required (or --requests FILE)")
    request = Request(
        action=args.action,
        resource=args.resource,
        principal=args.principal,
        context=parse_context(args.context),
    )
    decision = decide(request)
    if args.json:
        print(json.dumps(_answer(decision, request)))
        return 0
    style = _STYLE.get(decision.decision, "bold")
    console.print(
        f"[{style}]{decision.decision}[/]  {request.action} on {request.resource}", highlight=False
    )
    console.print(f"  {decision.explain()}", markup=False, highlight=False)
    return 0


def _simulate_lines(decide: Evaluator, source: Path) -> int:
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
            answer = _answer(decide(request), request)
        except (ValueError, ToolInputError) as exc:
            bad += 1
            out.write(json.dumps({"line": number, "error": str(exc)}) + "\n")
            continue
        out.write(json.dumps(answer) + "\n")
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


def validate(args: argparse.Namespace, console: Any) -> int:
    from grader.aws.iam.validate import findings_to_dict, resolve_policy_type, validate_policy
    from grader.jsonfile import read_text

    try:
        text = read_text(args.policy)
    except InputError as exc:
        raise ToolInputError(str(exc)) from None
    try:
        findings = validate_policy(
            text, resolve_policy_type(args.type), resource_type=args.resource_type
        )
    except ValueError as exc:  # an unknown --resource-type
        raise ToolInputError(str(exc)) from None
    serious = any(f.finding_type in ("ERROR", "SECURITY_WARNING") for f in findings)
    if args.json:
        print(json.dumps(findings_to_dict(findings), indent=2))
        return 1 if serious else 0
    if not findings:
        console.print(f"{args.policy}: no findings", highlight=False)
        return 0
    styles = {"ERROR": "red", "SECURITY_WARNING": "red", "WARNING": "yellow", "SUGGESTION": "cyan"}
    for finding in findings:
        style = styles.get(finding.finding_type, "bold")
        where = finding.locations[0].describe() if finding.locations else "policy"
        console.print(
            f"[{style}]{finding.finding_type}[/] {finding.issue_code} at {where}", highlight=False
        )
        console.print(f"  {finding.finding_details}", markup=False, highlight=False)
        if finding.fix:
            console.print(f"  to fix: {finding.fix}", markup=False, highlight=False)
        console.print(f"  {finding.learn_more_link}", markup=False, highlight=False, style="dim")
    counts = {}
    for finding in findings:
        counts[finding.finding_type] = counts.get(finding.finding_type, 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    console.print(f"{args.policy}: {summary}", highlight=False)
    return 1 if serious else 0
