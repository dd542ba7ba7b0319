"""``grader waf replay``: the WAF engine as a tool.

Replays a traffic file through a web ACL offline, as WAF would judge it: a summary of the
outcomes (by action, rule, traffic class, label), or with ``--json`` each request's verdict
followed by the log records the logging configuration keeps.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from grader.errors import ExitCode


def register(sub: Any) -> None:
    p = sub.add_parser(
        "waf",
        help="the AWS WAF engine, offline",
        description="Use the web ACL engine directly: replay traffic through a web ACL, offline.",
    )
    waf = p.add_subparsers(dest="waf_command", metavar="WAF_COMMAND", required=True)
    r = waf.add_parser(
        "replay",
        help="replay traffic through a web ACL",
        description="Judge each request of a traffic file (JSON lines: WAF log records or "
        "httpRequest objects with a timestamp) with a web ACL, in time order, as AWS WAF "
        "would: actions, the rules that matched, labels, custom responses, inserted headers, "
        "the requests each managed rule group inspected and, with --logging, the log records "
        "the logging filter keeps.",
    )
    r.add_argument("--acl", metavar="FILE", type=Path, required=True, help="the web ACL (JSON)")
    r.add_argument(
        "--traffic", metavar="FILE", type=Path, required=True, help="the requests (JSON lines)"
    )
    r.add_argument(
        "--ipsets",
        metavar="FILE",
        type=Path,
        help="IP sets by ARN or name: a JSON object of CIDR lists (or get_ip_set's IPSet)",
    )
    r.add_argument(
        "--rule-groups",
        metavar="FILE",
        type=Path,
        help="rule groups the ACL references, by ARN (a JSON object of rule groups)",
    )
    r.add_argument(
        "--logging",
        metavar="FILE",
        type=Path,
        help="the logging configuration (PutLoggingConfiguration's request) to filter logs",
    )
    r.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip traffic lines that cannot be read (with a warning) instead of stopping",
    )
    r.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per request, then the log records kept (JSON lines)",
    )
    r.set_defaults(run=cmd_replay)


def cmd_replay(args: argparse.Namespace) -> int:
    from grader.aws.waf.replay import replay_files
    from grader.terminal import console

    run, warnings = replay_files(
        args.acl,
        args.traffic,
        ip_sets=args.ipsets,
        rule_groups=args.rule_groups,
        logging=args.logging,
        skip_bad=args.skip_bad,
    )
    err = console(stderr=True)
    for warning in warnings:
        err.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    if args.json:
        for item in run.items:
            print(json.dumps(_verdict_json(item), separators=(",", ":")))
        for record in run.kept_records:
            print(json.dumps(record, separators=(",", ":")))
        return ExitCode.OK
    _print_summary(run.summary)
    return ExitCode.OK


def _verdict_json(item: Any) -> dict[str, Any]:
    """One request's outcome: what a learner checks first."""
    verdict, request = item.verdict, item.request
    response = verdict.custom_response
    return {
        "requestId": request.request_id,
        "timestamp": request.timestamp_ms,
        "class": request.traffic_class,
        "action": verdict.action,
        "terminatingRuleId": item.record["terminatingRuleId"],
        "terminatingRuleType": verdict.terminating_rule_type,
        # When a rule group ended evaluation: the group's own rule that did.
        "terminatingGroupRuleId": verdict.terminating_rule_id
        if verdict.terminating_rule_type in ("MANAGED_RULE_GROUP", "GROUP")
        else None,
        "labels": list(verdict.labels),
        "customResponse": None
        if response is None
        else {
            "status": response.status,
            "headers": [{"name": n, "value": v} for n, v in response.headers],
            "body": response.body,
        },
        "insertedHeaders": [{"name": n, "value": v} for n, v in verdict.inserted_headers],
    }


def _print_summary(summary: Any) -> None:
    from rich import box
    from rich.table import Table

    from grader.terminal import console, is_plain

    out = console()
    plain = is_plain(out)
    data = summary.to_json()
    totals = data["totals"]
    out.print(
        f"{totals['requests']} requests: {totals['allowed']} allowed, {totals['blocked']} "
        f"blocked, {totals['captcha']} CAPTCHA, {totals['challenge']} challenged; "
        f"{totals['counted']} counted by a rule",
        markup=False,
        highlight=False,
    )

    def table(title: str, *columns: str) -> Any:
        t = Table(title=title, title_justify="left", box=None if plain else box.HEAVY_HEAD)
        for column in columns:
            t.add_column(column)
        return t

    if data["classes"]:
        t = table("By traffic class", "class", "requests", "ALLOW", "BLOCK", "CAPTCHA", "CHALLENGE")
        for name, row in data["classes"].items():
            t.add_row(
                name, *(str(row[k]) for k in ("requests", "ALLOW", "BLOCK", "CAPTCHA", "CHALLENGE"))
            )
        out.print(t)
    if data["rules"]:
        t = table("By rule", "rule", "matched", "terminated", "counted")
        for name, row in data["rules"].items():
            t.add_row(name, str(row["matched"]), str(row["terminated"]), str(row["counted"]))
        out.print(t)
    if data["labels"]:
        t = table("Labels", "label", "requests")
        for name, count in data["labels"].items():
            t.add_row(name, str(count))
        out.print(t)
    lines = [
        *(f"custom response {code}: {n} requests" for code, n in data["customResponses"].items()),
        *(f"header inserted {name}: {n} requests" for name, n in data["headersInserted"].items()),
        *(
            f"inspected by {group}: {n} requests"
            for group, n in data["managedGroupsInspected"].items()
        ),
    ]
    if data["logged"] is not None:
        lines.append(f"log records kept by the logging filter: {data['logged']}")
    for line in lines:
        out.print(line, markup=False, highlight=False)
    cost = data["monthlyCost"]
    estimate = (cost or {}).get("estimate")
    if isinstance(estimate, dict) and "lines" in estimate:
        t = table(
            f"Monthly cost if this traffic went on for 30 days (x{cost['scale']:g}), "
            f"prices read {estimate.get('prices_read', '?')}",
            "item",
            "quantity",
            f"amount ({estimate.get('currency', 'USD')})",
            "price source",
        )
        for row in estimate["lines"]:
            t.add_row(row["item"], f"{row['quantity']:,}", f"{row['amount']:.2f}", row["status"])
        t.add_row("total", "", f"{estimate['total']:.2f}", "")
        out.print(t)
        for note in estimate.get("notes", ()):
            out.print(f"note: {note}", markup=False, highlight=False)
