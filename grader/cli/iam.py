"""``grader iam simulate``, ``validate`` and ``grants``: the IAM engine as a tool.

Like ``aws iam simulate-custom-policy`` and ``aws accessanalyzer validate-policy``, offline:
decisions in AWS's words (``allowed``, ``explicitDeny``, ``implicitDeny``) with the
statement that decided, findings with Access Analyzer's codes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from grader.aws.iam import OrgLevel, Policy, PolicyType, Request

_STYLE = {"allowed": "green", "explicitDeny": "red", "implicitDeny": "yellow"}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "iam",
        help="the IAM engine, offline",
        description="Use the IAM policy engine directly, like the AWS CLI's policy simulator, offline.",
    )
    iam = p.add_subparsers(dest="iam_command", metavar="IAM_COMMAND", required=True)
    s = iam.add_parser(
        "simulate",
        help="is this request allowed?",
        description="Evaluate requests against the principal's identity policies and, if given, "
        "a resource-based policy, a permissions boundary, SCPs, RCPs and a session policy, "
        "with AWS's evaluation logic. Prints allowed, explicitDeny or implicitDeny and the "
        "policy and statement that decided.",
    )
    s.add_argument(
        "--policy",
        metavar="FILE",
        type=Path,
        action="append",
        default=[],
        help="an identity policy of the principal (repeatable)",
    )
    s.add_argument(
        "--resource-policy",
        metavar="FILE",
        type=Path,
        action="append",
        default=[],
        help="a resource-based policy of the resource, e.g. a bucket policy (repeatable)",
    )
    s.add_argument(
        "--boundary", metavar="FILE", type=Path, help="the principal's permissions boundary"
    )
    s.add_argument(
        "--scp",
        metavar="FILE[,FILE...]",
        action="append",
        default=[],
        help="the SCPs attached at one level of the organization, comma-separated; repeat "
        "--scp for each level from the root to the account (every level must allow)",
    )
    s.add_argument(
        "--rcp",
        metavar="FILE[,FILE...]",
        action="append",
        default=[],
        help="the RCPs attached at one level, comma-separated; repeat for each level, like --scp",
    )
    s.add_argument(
        "--session-policy",
        metavar="FILE",
        type=Path,
        help="the session policy passed when the role was assumed",
    )
    s.add_argument(
        "--caller-account",
        metavar="ID",
        help="the principal's account (default: from --principal, else the resource's)",
    )
    s.add_argument(
        "--resource-account",
        metavar="ID",
        help="the resource's account (default: from the ARN; needed for S3)",
    )
    s.add_argument("--action", help="the action, e.g. ec2:StartInstances")
    s.add_argument("--resource", default="*", help="the resource ARN (default: *)")
    s.add_argument(
        "--principal",
        metavar="ARN",
        help="the calling principal's ARN (default: an IAM user of the caller's account, "
        "from --caller-account, else the resource's account)",
    )
    s.add_argument(
        "--anonymous", action="store_true", help="the caller is anonymous (not signed at all)"
    )
    s.add_argument(
        "--context",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="a context key; give a key more than once for several values",
    )
    s.add_argument(
        "--requests",
        metavar="FILE",
        type=Path,
        help='JSON lines of {"action", "resource", "principal", "context"}; one JSON answer per line ("-" for stdin)',
    )
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(run=cmd_simulate)
    v = iam.add_parser(
        "validate",
        help="Access-Analyzer-style findings for a policy",
        description="Check a policy with IAM Access Analyzer's policy checks, offline, like "
        "`aws accessanalyzer validate-policy`. Exit code 1 when there is an ERROR or a "
        "SECURITY_WARNING, so it can guard policies kept in code.",
    )
    v.add_argument("policy", type=Path)
    v.add_argument(
        "--type",
        default="identity",
        choices=["identity", "boundary", "resource", "scp", "rcp"],
        help="the kind of policy (default: identity; a boundary is checked as identity)",
    )
    v.add_argument(
        "--resource-type",
        metavar="TYPE",
        help="for --type resource: e.g. AWS::S3::Bucket or AWS::IAM::AssumeRolePolicyDocument",
    )
    v.add_argument("--json", action="store_true", help="print JSON in validate-policy's shape")
    v.set_defaults(run=cmd_validate)
    g = iam.add_parser(
        "grants",
        help="what a policy grants",
        description="List what a policy grants across the IAM action catalog, by service and access level.",
    )
    g.add_argument("policy", type=Path)
    g.add_argument(
        "--all", action="store_true", help="list every action granted, not a few per row"
    )
    g.add_argument("--json", action="store_true", help="print JSON")
    g.set_defaults(run=cmd_grants)


def parse_context(pairs: Iterable[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; a key given more than once becomes multi-valued."""
    context: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(
                f"--context {pair!r}: expected KEY=VALUE, e.g. aws:ResourceTag/Environment=dev"
            )
        if key in context:
            previous = context[key]
            context[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            context[key] = value
    return context


def _request(data: dict[str, Any]) -> Request:
    from grader.aws.iam import Request

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
                "policyType": m.policy_type,
                "sid": m.statement.sid,
                "index": m.statement.index,
            }
            for m in decision.matched
        ],
        "explanation": decision.explain(),
    }


def load_policy(path: Path, kind: PolicyType | None = None) -> Policy:
    """A policy file parsed with the grammar of its type (default: an identity policy); a
    GraderError naming the file and where it is wrong."""
    from grader.aws.iam import PolicyType, load_policy_file

    return load_policy_file(path, kind=kind or PolicyType.IDENTITY)


def _level(value: str, kind: PolicyType) -> OrgLevel:
    """One level of the organization: ``--scp a.json,b.json`` attaches both there."""
    from grader.aws.iam import OrgLevel

    paths = [Path(part) for part in value.split(",") if part]
    if not paths:
        raise UsageError("--scp/--rcp needs at least one file")
    return OrgLevel(" + ".join(p.name for p in paths), [load_policy(p, kind) for p in paths])


# The caller when none is named: an IAM user in the caller's account, as
# `aws iam simulate-custom-policy` evaluates for an IAM principal of your own account.
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_CALLER = "arn:aws:iam::{account}:user/simulated-caller"


def _account_id(value: str | None, option: str) -> str | None:
    if value is not None and not (len(value) == 12 and value.isdigit()):
        raise UsageError(f"{option} {value!r}: an account ID is 12 digits, e.g. 123456789012")
    return value


class Evaluator:
    """Every policy type through the one decision path (``authorize``), for one caller: the
    ``--principal``, anonymous when ``--anonymous`` says so, else an IAM user of the caller's
    account, whichever policy types are given."""

    def __init__(self, args: argparse.Namespace):
        from grader.aws.iam import PolicySet, PolicyType, parse_principal

        self.caller_account = _account_id(args.caller_account, "--caller-account")
        self.resource_account = _account_id(args.resource_account, "--resource-account")
        if args.anonymous and args.principal:
            raise UsageError("give either --principal ARN or --anonymous, not both")
        if args.principal:
            try:
                parse_principal(args.principal)
            except ValueError as exc:
                raise UsageError(f"--principal {args.principal!r}: {exc}") from None
        self.principal = "anonymous" if args.anonymous else args.principal
        self.identity = [load_policy(p) for p in args.policy]
        self.set = PolicySet(
            identity=self.identity,
            resource=[load_policy(p, PolicyType.RESOURCE) for p in args.resource_policy],
            boundary=load_policy(args.boundary, PolicyType.BOUNDARY) if args.boundary else None,
            scps=[_level(value, PolicyType.SCP) for value in args.scp],
            rcps=[_level(value, PolicyType.RCP) for value in args.rcp],
            session=(
                load_policy(args.session_policy, PolicyType.SESSION)
                if args.session_policy
                else None
            ),
            caller_account=self.caller_account,
            resource_account=self.resource_account,
        )

    def caller(self, request: Request) -> str:
        """The request's own principal, else the one the options name, else the default."""
        if request.principal:
            return request.principal
        if self.principal:
            return self.principal
        account = self.caller_account or self.resource_account or _arn_account(request.resource)
        return DEFAULT_CALLER.format(account=account or DEFAULT_ACCOUNT)

    def __call__(self, request: Request) -> Any:
        from grader.aws.iam import authorize, parse_principal

        try:
            principal = parse_principal(self.caller(request))
        except ValueError as exc:  # a principal ARN that is not one
            raise UsageError(f"principal {request.principal!r}: {exc}") from None
        return authorize(request, self.set, principal)


def _arn_account(resource: str) -> str | None:
    parts = resource.split(":", 5)
    if len(parts) > 4 and parts[0] == "arn" and len(parts[4]) == 12 and parts[4].isdigit():
        return parts[4]
    return None


def _unknown_action(action: str) -> str | None:
    """A warning when ``action`` is not in the action catalog (the decision still stands)."""
    from grader.aws.iam.catalog import load_catalog

    if "*" in action or "?" in action or load_catalog().is_known(action):
        return None
    return (
        f"warning: {action} is not an action in the IAM action catalog; check its spelling "
        "(the decision treats it as a real action)"
    )


def cmd_simulate(args: argparse.Namespace) -> int:
    from grader.aws.iam import Request
    from grader.terminal import console

    decide = Evaluator(args)
    if args.requests is not None:
        if args.action:
            raise UsageError("give either --action or --requests, not both")
        return _simulate_lines(decide, args.requests)
    if not args.action:
        raise UsageError("--action is required (or --requests FILE)")
    request = Request(
        action=args.action,
        resource=args.resource,
        principal=args.principal,
        context=parse_context(args.context),
    )
    decision = decide(request)
    warning = _unknown_action(request.action)
    if warning:
        print(warning, file=sys.stderr)
    if args.json:
        print(json.dumps(_answer(decision, request)))
        return ExitCode.OK
    style = _STYLE.get(decision.decision, "bold")
    out = console()
    out.print(
        f"[{style}]{decision.decision}[/]  {request.action} on {request.resource}", highlight=False
    )
    out.print(f"  {decision.explain()}", markup=False, highlight=False)
    return ExitCode.OK


def _simulate_lines(decide: Evaluator, source: Path) -> int:
    if str(source) == "-":
        lines: Iterable[str] = sys.stdin
    else:
        try:
            lines = Path(source).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--requests {source}: cannot read it ({exc})") from None
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
            warning = _unknown_action(request.action)
            if warning:
                answer["warning"] = warning
        except (ValueError, UsageError) as exc:
            bad += 1
            out.write(json.dumps({"line": number, "error": str(exc)}) + "\n")
            continue
        out.write(json.dumps(answer) + "\n")
    out.flush()
    return ExitCode.USAGE if bad else ExitCode.OK


def cmd_grants(args: argparse.Namespace) -> int:
    from grader.aws.iam.catalog import grants as policy_grants

    policy = load_policy(args.policy)
    result = policy_grants(policy)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return ExitCode.OK
    from rich.table import Table

    from grader.terminal import console

    out = console()
    table = Table(title=f"What {args.policy.name} grants", title_justify="left")
    for column in ("service", "access level", "actions", "all" if args.all else "examples"):
        table.add_column(column)
    for service, levels in result.by_service.items():
        for level, actions in levels.items():
            names = [a.split(":", 1)[1] for a in actions]
            if args.all:
                sample = ", ".join(names)
            else:
                sample = ", ".join(names[:4]) + (f" … +{len(names) - 4}" if len(names) > 4 else "")
            table.add_row(service, level, str(len(actions)), sample)
    out.print(table)
    totals = result.totals
    out.print(f"{totals['actions']} actions in {totals['services']} services.", highlight=False)
    for unknown in result.unknown:
        out.print(
            f"[yellow]{unknown.pattern}[/] ({unknown.statement}, {unknown.element}): {unknown.reason}",
            highlight=False,
        )
    return ExitCode.OK


def cmd_validate(args: argparse.Namespace) -> int:
    from grader.aws.iam.validate import (
        RESOURCE_TYPES,
        findings_to_dict,
        resolve_policy_type,
        validate_policy,
    )
    from grader.aws.jsonfile import TOO_DEEP, InputError, read_text
    from grader.terminal import console

    if args.resource_type is not None and args.resource_type not in RESOURCE_TYPES:
        raise UsageError(
            f"--resource-type {args.resource_type!r}: use one of {', '.join(RESOURCE_TYPES)}"
        )
    text = read_text(args.policy)
    try:
        findings = validate_policy(
            text, resolve_policy_type(args.type), resource_type=args.resource_type
        )
    except RecursionError:  # json.loads gives up on thousands of nested levels
        raise InputError(args.policy, TOO_DEEP) from None
    serious = any(f.finding_type in ("ERROR", "SECURITY_WARNING") for f in findings)
    verdict = ExitCode.FAILED if serious else ExitCode.OK
    if args.json:
        print(json.dumps(findings_to_dict(findings), indent=2))
        return verdict
    out = console()
    if not findings:
        out.print(f"{args.policy}: no findings", highlight=False)
        return ExitCode.OK
    styles = {"ERROR": "red", "SECURITY_WARNING": "red", "WARNING": "yellow", "SUGGESTION": "cyan"}
    for finding in findings:
        style = styles.get(finding.finding_type, "bold")
        where = finding.locations[0].describe() if finding.locations else "policy"
        out.print(
            f"[{style}]{finding.finding_type}[/] {finding.issue_code} at {where}", highlight=False
        )
        out.print(f"  {finding.finding_details}", markup=False, highlight=False)
        if finding.fix:
            out.print(f"  to fix: {finding.fix}", markup=False, highlight=False)
        out.print(f"  {finding.learn_more_link}", markup=False, highlight=False, style="dim")
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.finding_type] = counts.get(finding.finding_type, 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    out.print(f"{args.policy}: {summary}", highlight=False)
    return verdict
