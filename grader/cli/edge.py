"""``grader edge simulate`` and ``grader edge match``: the CloudFront engine as a tool.

``simulate`` replays an access log through a distribution's behaviors and edge caches and
reports hits, misses, origin load, HTTP turned away and every personal answer served to
the wrong viewer; ``match`` says which cache behavior serves a path, and why.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from grader.errors import ExitCode

# How many leaks the plain summary lists (--json lists them all).
LEAKS_SHOWN = 10


def register(sub: Any) -> None:
    p = sub.add_parser(
        "edge",
        help="the CloudFront engine, offline",
        description="Use the CloudFront engine directly: replay an access log through a "
        "distribution's caches, or see which cache behavior serves a path, offline.",
    )
    edge = p.add_subparsers(dest="edge_command", metavar="EDGE_COMMAND", required=True)
    s = edge.add_parser(
        "simulate",
        help="replay an access log through the distribution's caches",
        description="Replay an access log (CloudFront's standard log format, or JSON lines "
        "with the same field names) through a distribution, in time order: each request's "
        "cache behavior, its viewer protocol policy, the edge location's cache under the "
        "behavior's cache key and TTLs. Prints hits, misses and hit ratio per behavior and "
        "overall, bytes from the origin and to viewers, HTTP requests redirected or refused, "
        "compression, and every leak: a cached answer made for one viewer served to another.",
    )
    s.add_argument(
        "--distribution",
        metavar="FILE",
        type=Path,
        required=True,
        help="the DistributionConfig (JSON; create_distribution's request or "
        "get_distribution_config's answer)",
    )
    s.add_argument(
        "--policies",
        metavar="FILE",
        type=Path,
        help="your cache and origin request policies (JSON: CachePolicies and "
        "OriginRequestPolicies lists); AWS's managed policies are always known",
    )
    s.add_argument(
        "--log", metavar="FILE", type=Path, required=True, help="the access log to replay"
    )
    s.add_argument(
        "--origin",
        metavar="FILE",
        type=Path,
        help="the origin model (JSON: path pattern -> status, headers, size, personal); "
        "without it every path answers 200 with Cache-Control: max-age=86400, 10 kB, the "
        "same for every viewer; with it a path no pattern matches answers 404",
    )
    s.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip log lines that cannot be read (with a warning) instead of stopping",
    )
    s.add_argument("--json", action="store_true", help="print the whole report as JSON")
    s.set_defaults(run=cmd_simulate)

    m = edge.add_parser(
        "match",
        help="which cache behavior serves a path, and why",
        description="For each path, the cache behavior CloudFront applies (the first path "
        "pattern in order that matches, else the default behavior) and why.",
    )
    m.add_argument(
        "--distribution", metavar="FILE", type=Path, required=True, help="the DistributionConfig"
    )
    m.add_argument("paths", metavar="PATH", nargs="+", help="a request path, e.g. /api/cart")
    m.add_argument("--json", action="store_true", help="print one JSON object per path")
    m.set_defaults(run=cmd_match)


def _warn(warnings: Any) -> None:
    from grader.terminal import console

    err = console(stderr=True)
    for warning in warnings:
        err.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)


def cmd_simulate(args: argparse.Namespace) -> int:
    from grader.aws.edge.distribution import EdgeConfigError, load_distribution
    from grader.aws.edge.logs import load_log
    from grader.aws.edge.origin import DEFAULT_ORIGIN, load_origin
    from grader.aws.edge.policies import PolicyStore, load_policies
    from grader.aws.edge.simulate import simulate

    distribution, warnings = load_distribution(args.distribution)
    policies = load_policies(args.policies) if args.policies else PolicyStore()
    origin = load_origin(args.origin if args.origin else DEFAULT_ORIGIN)
    requests, skipped = load_log(args.log, skip_bad=args.skip_bad)
    _warn([*warnings, *skipped])
    try:
        report = simulate(distribution, policies, requests, origin)
    except EdgeConfigError as exc:
        if exc.file is not None:
            raise
        # A policy a behavior names that exists nowhere: the fault is in the distribution.
        raise EdgeConfigError(
            exc.message, code=exc.code, file=args.distribution, json_path=exc.json_path
        ) from None
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
        return ExitCode.OK
    _print_report(report, default_origin=args.origin is None)
    return ExitCode.OK


def cmd_match(args: argparse.Namespace) -> int:
    from grader.aws.edge.distribution import load_distribution
    from grader.aws.edge.simulate import behavior_name
    from grader.terminal import console

    distribution, warnings = load_distribution(args.distribution)
    _warn(warnings)
    out = console()
    for path in args.paths:
        behavior = distribution.match(path)
        why = distribution.explain_match(path)
        if args.json:
            answer = {
                "path": path,
                "pathPattern": behavior.path_pattern,
                "behavior": behavior_name(behavior),
                "targetOriginId": behavior.target_origin_id,
                "why": why,
            }
            print(json.dumps(answer, separators=(",", ":")))
        else:
            out.print(f"{path} -> {behavior_name(behavior)}", markup=False, highlight=False)
            out.print(f"  {why}", markup=False, highlight=False)
    return ExitCode.OK


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _print_report(report: Any, *, default_origin: bool) -> None:
    from rich import box
    from rich.table import Table

    from grader.terminal import console, is_plain

    out = console()
    plain = is_plain(out)
    data = report.to_json()
    total = data["total"]

    def say(text: str) -> None:
        out.print(text, markup=False, highlight=False)

    if default_origin:
        say("origin: the default model (every path 200, max-age=86400, 10 kB, not personal)")
    say(
        f"{total['requests']} requests: {total['hits']} hits, {total['misses']} misses, "
        f"{total['passed']} passed to the origin uncached; hit ratio {_ratio(total['hitRatio'])}"
    )
    say(
        f"bytes from the origin: {total['bytesFromOrigin']:,}; "
        f"to viewers: {total['bytesToViewers']:,}"
    )
    if total["redirected"] or total["refused"] or total["methodNotAllowed"]:
        say(
            f"turned away before the cache: {total['redirected']} HTTP redirected (301), "
            f"{total['refused']} HTTP refused (403), {total['methodNotAllowed']} with a method "
            "the behavior does not allow"
        )

    t = Table(
        title="By cache behavior", title_justify="left", box=None if plain else box.HEAVY_HEAD
    )
    columns = ("behavior", "requests", "hits", "misses", "passed", "hit ratio", "from origin")
    for column in (*columns, "HTTP 301/403", "compressed", "leaks"):
        t.add_column(column)
    for row in data["behaviors"]:
        compressed = ", ".join(f"{k} {v}" for k, v in row["compressed"].items())
        t.add_row(
            row["pathPattern"],
            str(row["requests"]),
            str(row["hits"]),
            str(row["misses"]),
            str(row["passed"]),
            _ratio(row["hitRatio"]),
            f"{row['bytesFromOrigin']:,}",
            f"{row['redirected']}/{row['refused']}",
            compressed or ("-" if row["compress"] else "off"),
            str(row["leaks"]),
        )
    out.print(t)

    leaks = data["leaks"]
    if not leaks:
        say("leaks: none (no cached answer made for one viewer was served to another)")
        return
    answers = "answer" if len(leaks) == 1 else "answers"
    say(f"LEAKS: {len(leaks)} cached {answers} served to a viewer they were not made for")
    for leak in leaks[:LEAKS_SHOWN]:
        where = f" ({leak['source']})" if leak["source"] else ""
        say(
            f"  {leak['path']}{where} at {leak['edgeLocation']}: made for {leak['madeFor']!r}, "
            f"served to {leak['servedTo']!r} by {leak['behavior']}; cache key "
            f"{json.dumps(leak['cacheKey'], separators=(',', ':'))}"
        )
    if len(leaks) > LEAKS_SHOWN:
        say(f"  ... and {len(leaks) - LEAKS_SHOWN} more (--json lists them all)")
