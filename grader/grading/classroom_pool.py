"""Running a class's pairs on threads: a slot per job for pairs that compute, and as many
slots again for pairs of labs whose checks mostly wait.

Why two kinds: a lab whose checks wait out time-outs on purpose (lab 6 waits for the
learner's function to give up on a slow server: 2-3 s of its 3-5 s) holds a core's slot
while using a quarter of a core. Run in slots of their own, those pairs overlap the pairs
that compute instead of queueing with them; a class of thirty grades about a third faster
on two cores (``bench/bench_class.py``). A checks module says so with ``WAITS_ON_TIMERS =
True``; whether a lab waits is the checks' author's knowledge, because the grader cannot
measure it reliably (learner code in the jail is not always in a child's CPU account).
Pairs start in the order given, except that a waiting pair may pass computing ones queued
before it while every computing slot is taken, and the other way round.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_all(
    items: Sequence[T],
    work: Callable[[T], R],
    done: Callable[[T, R], None],
    *,
    jobs: int,
    waits: Callable[[T], bool],
) -> None:
    """``work(item)`` for every item, at most ``jobs`` at once of the computing kind and
    ``jobs`` of the waiting kind (``waits(item)``); ``done(item, result)`` in this thread
    as each ends. An exception from ``work`` or ``done`` (or Ctrl-C) starts nothing more
    and is raised; work already running is not waited for."""
    jobs = max(1, jobs)
    pending = list(items)
    running: dict[Future[R], tuple[T, bool]] = {}
    busy = {False: 0, True: 0}
    pool = ThreadPoolExecutor(max_workers=2 * jobs, thread_name_prefix="grade")
    try:
        while pending or running:
            index = 0
            while index < len(pending) and min(busy.values()) < jobs:
                kind = bool(waits(pending[index]))
                if busy[kind] < jobs:
                    item = pending.pop(index)
                    running[pool.submit(work, item)] = (item, kind)
                    busy[kind] += 1
                else:
                    index += 1
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                item, kind = running.pop(future)
                busy[kind] -= 1
                done(item, future.result())
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
