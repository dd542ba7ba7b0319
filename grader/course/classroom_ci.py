"""The GitHub Actions workflow ``grader ci init`` writes into a course repository.

One job on every push and pull request: install the course and bubblewrap, grade every lab
once (``--json`` and ``--junit`` from the same run, so the points in the summary and the
JUnit report cannot disagree), publish the points per lab in the run's summary and the
JUnit XML as an artifact, and only then fail the job if a check failed. The workflow is
kept here as one literal text, so what a repository receives is what this file shows; the
Instructors page ``classroom-ci.md`` explains it step by step.
"""

from __future__ import annotations

from pathlib import Path

from grader.errors import UsageError

WORKFLOW_PATH = Path(".github/workflows/grader.yml")

# The summary step's inline script reads `grader check --json`: a list of results with
# --all, one object for one lab (grading/report.py render_json; fields: results.to_dict).
_WORKFLOW = r"""# Classroom CI for Cloud Security Labs, written by `grader ci init`.
# On every push and pull request: install the course, grade every lab, publish the points
# per lab in the run's summary and the JUnit report as an artifact, then fail the job if a
# check failed. The course's Instructors section ("Classroom CI") explains each step.
name: grader

on:
  push:
  pull_request:

permissions:
  contents: read

jobs:
  grade:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - name: Check out the course
        uses: actions/checkout@v4

      - name: Set up Python 3.11
        uses: actions/setup-python@v5
        with:
          python-version: "3.11"

      - name: Install bubblewrap, the jail for learner code
        run: |
          sudo apt-get update
          sudo apt-get install -y bubblewrap
          # Ubuntu 24.04 keeps unprivileged programs such as bubblewrap from making user
          # namespaces; this runner is thrown away after the job, so lift that here.
          if [ -e /proc/sys/kernel/apparmor_restrict_unprivileged_userns ]; then
            sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0
          fi

      - name: Install the course
        run: pip install -e .

      - name: Show the machine, isolation level included
        run: grader doctor || true

      - name: Grade every lab
        id: grade
        # The exit code is kept, not acted on, so the summary and the report are published
        # whatever the result; the last step fails the job.
        run: |
          set +e
          grader check --all --json --junit grader-results.xml > grader-results.json
          echo "exit_code=$?" >> "$GITHUB_OUTPUT"

      - name: Points per lab
        if: always()
        run: |
          python - grader-results.json <<'PY'
          import json, os, sys

          def cell(value):
              return str(value).replace("|", "\\|").replace("\n", " ")

          lines = ["## Grader: points per lab", ""]
          try:
              with open(sys.argv[1], encoding="utf-8") as source:
                  data = json.load(source)
          except (OSError, ValueError):
              data = None
          if data is None:
              lines.append("No results: grading stopped early; the Grade step's log says why.")
          else:
              results = data if isinstance(data, list) else [data]
              lines += ["| lab | title | points | checks passing | verdict |",
                        "|---|---|---:|---:|---|"]
              for r in results:
                  verdict = "passed" if r["passed"] else "not yet"
                  if r.get("problem"):
                      verdict = "problem: " + r["problem"]
                  lines.append(f"| {r['lab']} | {cell(r['title'])} | {r['score']}/{r['max_score']}"
                               f" | {r['passed_checks']}/{r['total_checks']} | {cell(verdict)} |")
              score = sum(r["score"] for r in results)
              most = sum(r["max_score"] for r in results)
              lines += ["", f"**Total: {score}/{most} points**"]
          text = "\n".join(lines) + "\n"
          summary = os.environ.get("GITHUB_STEP_SUMMARY")
          if summary:
              with open(summary, "a", encoding="utf-8") as out:
                  out.write(text)
          else:
              print(text)
          PY

      - name: Upload the JUnit report
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: grader-results
          path: grader-results.xml
          if-no-files-found: warn

      - name: Fail if a check failed
        if: always() && steps.grade.outputs.exit_code != '0'
        run: |
          echo "grader check exited with '${{ steps.grade.outputs.exit_code }}' (1: a check failed, 2: a lab could not be graded); the summary and grader-results.xml say which."
          exit 1
"""


def workflow_text() -> str:
    """The workflow as ``grader ci init`` writes it (YAML, ending in a newline)."""
    return _WORKFLOW


def write_workflow(course_root: Path, *, force: bool = False) -> Path:
    """Write ``.github/workflows/grader.yml`` under ``course_root`` and return its path.

    Writing the same text again changes nothing. A different file already there (the
    instructor's own edits, say) is refused unless ``force``: it is theirs to lose.
    """
    target = course_root / WORKFLOW_PATH
    text = workflow_text()
    if target.is_dir():
        raise UsageError(f"{target} is a folder; the workflow must be a file there")
    if target.exists() and not force:
        try:
            # Line ends as git checks them out on Windows do not make the file different.
            current = target.read_text(encoding="utf-8").replace("\r\n", "\n")
        except (OSError, UnicodeDecodeError):
            current = None
        if current == text:
            return target
        raise UsageError(
            f"{target} already exists and differs from the grader's workflow; keep yours, "
            "or replace it with `grader ci init --force`"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{target}: cannot write it ({exc.strerror or exc})") from None
    return target
