"""The grading child: ``python -m grader.child CHECKS_MODULE [pytest options]``.

It is pytest with :mod:`grader.plugin`, plus one thing settled before pytest is even
imported: when the lab's checks take the ``aws`` fixture, they use a sandbox process
(:mod:`grader.sandbox_process`) that loads boto3 and moto on the other core meanwhile,
the one the runner forked and handed over, or else one forked here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from grader import sandbox_process

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
