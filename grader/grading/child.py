"""The grading child: ``python -m grader.grading.child CHECKS_MODULE [pytest options]``.

It is pytest with :mod:`grader.grading.plugin`, plus one thing settled before pytest is even
imported: when the lab's checks take the ``aws`` fixture, they use a sandbox process
(:mod:`grader.grading.sandbox_process`) that loads boto3 and moto on the other core meanwhile,
the one the runner forked and handed over, or else one forked here.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def _terminate(signum: int, _frame: object) -> None:
    """SIGTERM from the runner (the learner pressed Ctrl-C): end the learner's processes
    and the sandbox process, then this one, at once."""
    from grader.grading import jail, sandbox_process

    jail.end_all()
    sandbox_process.stop()
    os._exit(128 + signum)


def main(argv: list[str]) -> int:
    from grader.grading import sandbox_process
    from grader.grading.processes import private

    private()  # learner code at a weak jail level must not read our /proc entries
    signal.signal(signal.SIGTERM, _terminate)

    handed_over = os.environ.pop(sandbox_process.HANDOVER_ENV, None)
    if handed_over:
        sandbox_process.adopt(handed_over)
    elif argv and sandbox_process.uses_sandbox(Path(argv[0])):
        sandbox_process.start()
    try:
        import pytest

        return int(pytest.main(argv))
    finally:
        sandbox_process.stop()


if __name__ == "__main__":
    code = main(sys.argv[1:])
    # The plugin has written and flushed every result; skip the interpreter's teardown of
    # the catalog and moto's state (~0.1 s), which nobody needs.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
