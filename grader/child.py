"""The grading child: ``python -m grader.child CHECKS_MODULE [pytest options]``.

It is pytest with :mod:`grader.plugin`, plus one thing done before pytest is even
imported: when the lab's checks take the ``aws`` fixture, the offline sandbox is forked
(:mod:`grader.sandbox_process`) so boto3 and moto load on the other core meanwhile.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

# A check asks for the sandbox by taking the ``aws`` fixture as a parameter.
_TAKES_AWS = re.compile(r"^\s*def\s+test_\w*\s*\([^)]*\baws\b", re.MULTILINE)


def uses_sandbox(checks_module: Path) -> bool:
    """Whether any check takes ``aws``. A miss costs speed only: the plugin then falls back
    to the in-process sandbox."""
    try:
        return bool(_TAKES_AWS.search(checks_module.read_text(encoding="utf-8")))
    except OSError:
        return False


def main(argv: list[str]) -> int:
    from grader import sandbox_process

    if argv and uses_sandbox(Path(argv[0])):
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
