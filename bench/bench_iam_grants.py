"""How long the action catalog takes to load, and ``grants`` takes once it is loaded.

Run: ``python bench/bench_iam_grants.py [--runs N]``. Prints figures; asserts nothing.
The target is under 200 ms to list one policy's grants across the whole catalog, so
``grader check lab3`` and ``grader grants`` stay interactive.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from typing import Any

from grader.aws.iam import catalog as catalog_module
from grader.aws.iam.catalog import grants, load_catalog
from grader.aws.iam.data_access import data_read_actions
from grader.aws.iam.policy import parse_policy

SMALL_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["ec2:StartInstances", "ec2:StopInstances"],
            "Resource": "arn:aws:ec2:*:*:instance/*",
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "web"}},
        },
    ],
}


def best_of(runs: int, fn: Callable[[], Any]) -> tuple[float, float]:
    """(first, best) wall time in ms; the first run shows cold caches."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times[0], min(times)


def reload_catalog() -> None:
    catalog_module._catalog = None  # drop the cache so load_catalog() parses again
    load_catalog()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs

    start = time.perf_counter()
    catalog = load_catalog()
    first_load = (time.perf_counter() - start) * 1000
    print(f"catalog: {len(catalog.services())} services, {len(catalog.actions())} actions")
    print(f"catalog load, first in this process     {first_load:8.1f} ms")
    _, best = best_of(runs, reload_catalog)
    print(f"catalog load, best of {runs}                {best:8.1f} ms")
    gc.collect()

    from moto.iam.aws_managed_policies import aws_managed_policies_data

    read_only = parse_policy(
        json.loads(aws_managed_policies_data)["ReadOnlyAccess"]["Document"],
        name="ReadOnlyAccess",
    )
    small = parse_policy(SMALL_POLICY, name="ec2-operator")
    for policy in (read_only, small):
        patterns = sum(len(s.action or s.not_action or ()) for s in policy.statements)
        first, best = best_of(runs, lambda p=policy: grants(p))
        result = grants(policy)
        reads = len(data_read_actions(result))
        print(
            f"grants({policy.name}): {patterns} patterns -> {len(result)} actions, "
            f"{reads} data reads"
        )
        print(f"  first {first:7.1f} ms   best of {runs} {best:7.1f} ms")
        _, best_reads = best_of(runs, lambda g=result: data_read_actions(g))
        _, best_json = best_of(runs, lambda g=result: json.dumps(g.to_dict()))
        print(f"  data_read_actions {best_reads:6.2f} ms   to_dict+json {best_json:6.1f} ms")


if __name__ == "__main__":
    main()
