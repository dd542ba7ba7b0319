"""``python -m grader.cli``: the same entry point as the ``grader`` console script."""

from grader.cli import run

run()
