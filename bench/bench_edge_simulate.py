"""How fast does the CloudFront cache simulator run? Simulated requests per second on one
core, beside a plain-Python loop that only reads the same access log (the floor any
simulation pays).

The distribution is the Edge chapter's sample (docs_src/edge/): a static behavior with
CachingOptimized, an API and pages with CachingDisabled. The log is made up here: 200,000
requests from 2,000 viewers at 3 edge locations, 80% static files (200 of them, with and
without query strings), 10% API calls, 10% pages.

Run: python bench/bench_edge_simulate.py
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.aws.edge.distribution import load_distribution  # noqa: E402
from grader.aws.edge.logs import load_log, write_log_jsonl  # noqa: E402
from grader.aws.edge.origin import load_origin  # noqa: E402
from grader.aws.edge.policies import load_policies  # noqa: E402
from grader.aws.edge.request import EdgeRequest  # noqa: E402
from grader.aws.edge.simulate import simulate  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "docs_src" / "edge"
COUNT = 200_000


def make_log(count: int) -> list[EdgeRequest]:
    rng = random.Random(7)
    edges = ("NRT57-P1", "KIX50-C1", "FRA56-P2")
    out = []
    for i in range(count):
        viewer = f"viewer-{rng.randrange(2000)}"
        roll = rng.random()
        if roll < 0.8:
            path, query = f"/static/asset-{rng.randrange(200)}.css", rng.choice(("", "v=3"))
        elif roll < 0.9:
            path, query = "/api/cart", ""
        else:
            path, query = "/", ""
        out.append(
            EdgeRequest(
                time_ms=1_767_225_600_000 + i * 10,
                path=path,
                query=query,
                edge_location=rng.choice(edges),
                viewer=viewer,
                headers=(("Host", "shop.example.com"), ("Accept-Encoding", "gzip, br")),
            )
        )
    return out


def main() -> None:
    distribution, _ = load_distribution(SAMPLE / "shop-distribution.json")
    policies = load_policies({})
    origin = load_origin(SAMPLE / "shop-origin.json")
    requests = make_log(COUNT)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.jsonl"
        write_log_jsonl(path, requests)
        start = time.perf_counter()
        with path.open(encoding="utf-8") as lines:
            parsed = [json.loads(line) for line in lines]
        floor = len(parsed) / (time.perf_counter() - start)
        start = time.perf_counter()
        loaded = load_log(path)
        read = COUNT / (time.perf_counter() - start)
    del loaded
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        report = simulate(distribution, policies, requests, origin)
        best = max(best, COUNT / (time.perf_counter() - start))
    print(f"{'measure':<48} {'requests/s':>12}")
    print(f"{'json.loads of each log line (the floor)':<48} {floor:>12,.0f}")
    print(f"{'load_log (parse and check every field)':<48} {read:>12,.0f}")
    print(f"{'simulate (best of 3)':<48} {best:>12,.0f}")
    print(f"\nsimulate / floor: {best / floor:.2f}x; {COUNT:,} requests, "
          f"hit ratio {report.total.hit_ratio:.1%}, one core")  # fmt: skip


if __name__ == "__main__":
    main()
