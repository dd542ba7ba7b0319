"""The ``grader`` command: argument parsing and dispatch only.

Each subcommand's work lives in the module named for it; heavy modules are imported inside
the handler that needs them, so ``grader --help`` and ``grader list`` stay instant.
Exit codes: 0 all passed, 1 a check failed, 2 a usage or input error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader",
        description="Cloud Security Labs: grade your lab work offline, with no AWS account.",
        epilog="Exit codes: 0 all checks pass, 1 a check fails, 2 usage or input error.",
    )
    parser.add_argument(
        "--course",
        metavar="DIR",
        type=Path,
        help="the course folder (default: found from here upwards)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub.add_parser(
        "list",
        help="the labs in order, with your status",
        description="List the labs in order with title, chapter, time needed and your status.",
    )

    p = sub.add_parser(
        "check",
        help="grade a lab",
        description="Run a lab's checks and print each verdict and your score.",
    )
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("lab", nargs="?", help="the lab to grade, e.g. lab3")
    target.add_argument("--all", action="store_true", help="grade every lab")
    p.add_argument(
        "--path",
        metavar="DIR",
        type=Path,
        help="grade a copy of the lab in DIR instead of labs/LAB",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "--junit", metavar="FILE", type=Path, help="also write a JUnit XML report to FILE"
    )
    p.add_argument("--seed", type=int, help="seed for the hidden inputs (to reproduce a run)")

    p = sub.add_parser(
        "hint",
        help="the next hint for a lab",
        description="Show the next hint for a lab, one at a time; your place is remembered.",
    )
    p.add_argument("lab")
    p.add_argument("--all", action="store_true", help="show every hint")

    p = sub.add_parser(
        "reset",
        help="restore a lab's starter files",
        description="Restore a lab's starter files after saving yours to a timestamped backup.",
    )
    p.add_argument("lab")

    p = sub.add_parser(
        "watch",
        help="re-check a lab on every save",
        description="Re-check a lab each time one of its files is saved, or when you press Enter.",
    )
    p.add_argument("lab")
    p.add_argument("--path", metavar="DIR", type=Path, help="watch a copy of the lab in DIR")

    sub.add_parser(
        "doctor",
        help="check this machine can run the course",
        description="Show Python and package versions, the notebook kernel, the offline guard (tested live) and the labs found.",
    )

    p = sub.add_parser(
        "dev", help="tools for course authors", description="Tools for course authors."
    )
    dev = p.add_subparsers(dest="dev_command", metavar="DEV_COMMAND", required=True)
    d = dev.add_parser(
        "check",
        help="check every lab's files, solution, checks and docs",
        description="Every lab has its lab.toml, starter files, solution, checks module and docs page; every starter fails a check; every solution passes all; every hint and check is documented.",
    )
    d.add_argument("labs", nargs="*", help="only these labs (default: all)")

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
        "--caller-account", metavar="ID", help="the principal's account (default: from --principal)"
    )
    s.add_argument(
        "--resource-account",
        metavar="ID",
        help="the resource's account (default: from the ARN; needed for S3)",
    )
    s.add_argument("--action", help="the action, e.g. ec2:StartInstances")
    s.add_argument("--resource", default="*", help="the resource ARN (default: *)")
    s.add_argument("--principal", metavar="ARN", help="the calling principal's ARN")
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
    g = iam.add_parser(
        "grants",
        help="what a policy grants",
        description="List what a policy grants across the IAM action catalog, by service and access level.",
    )
    g.add_argument("policy", type=Path)
    g.add_argument("--json", action="store_true", help="print JSON")
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
        "what to review (denied calls, unmapped events, roles passed) go to stderr.",
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
        "--scoped",
        action="store_true",
        help="scope each statement to the resources the records name, instead of '*'",
    )
    t.add_argument("--json", action="store_true", help="print the draft with its notes as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from grader import commands  # the handlers; imported after parsing so --help stays fast

    handler = {
        "list": commands.cmd_list,
        "check": commands.cmd_check,
        "hint": commands.cmd_hint,
        "reset": commands.cmd_reset,
        "watch": commands.cmd_watch,
        "doctor": commands.cmd_doctor,
        "dev": commands.cmd_dev,
        "iam": commands.cmd_iam,
        "trail": commands.cmd_trail,
    }[args.command]
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except commands.InputProblem as exc:
        commands.error_console().print(f"grader: error: {exc}", markup=False, highlight=False)
        return EXIT_USAGE


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
