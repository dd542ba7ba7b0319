"""``report.html``: what a class understood, in one self-contained page.

No external asset and no script: the CSS is inline and the charts are SVG drawn here (bars
are rectangles whose width is the value). Every text a learner controls (their name, the
messages quoting their files) goes through :func:`html.escape`; so does everything else.
"""

from __future__ import annotations

from html import escape
from typing import Any

from grader.grading.classroom import ClassResult
from grader.grading.gradebook import check_ids, totals
from grader.grading.results import FAILED, PASSED

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}
h1,h2,h3{font-weight:600} table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
.passed{color:#17652b}.failed{color:#a11}.skipped{color:#886600}.note{color:#555}
svg text{font-size:12px;font-family:system-ui,sans-serif} .bar{fill:#3b6fb6}
.bar.low{fill:#c0392b} .axis{stroke:#999}
"""
_LABEL_WIDTH = 260
_BAR_WIDTH = 360
_ROW = 18


def bar_chart(chart_id: str, title: str, rows: list[tuple[str, float, str]]) -> str:
    """A horizontal bar chart: each row (label, fraction 0..1, the value as text)."""
    height = _ROW * len(rows) + 10
    width = _LABEL_WIDTH + _BAR_WIDTH + 70
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{_LABEL_WIDTH}" y1="0" x2="{_LABEL_WIDTH}" y2="{height}"/>',
    ]
    for i, (label, fraction, text) in enumerate(rows):
        y = i * _ROW + 4
        fraction = min(max(fraction, 0.0), 1.0)
        low = " low" if fraction < 0.5 else ""
        short = label if len(label) <= 40 else label[:39] + "…"
        parts.append(
            f'<text x="{_LABEL_WIDTH - 6}" y="{y + 12}" text-anchor="end">{escape(short)}</text>'
            f'<rect class="bar{low}" x="{_LABEL_WIDTH}" y="{y}" '
            f'width="{fraction * _BAR_WIDTH:.1f}" height="{_ROW - 4}">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
            f'<text x="{_LABEL_WIDTH + fraction * _BAR_WIDTH + 4:.1f}" y="{y + 12}">'
            f"{escape(text)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def check_stats(result: ClassResult) -> list[dict[str, Any]]:
    """Per check: how many learners passed and failed it (a refusal counts as a failure)."""
    stats = []
    learners = result.learners
    for lab in result.labs:
        for check in check_ids(result, lab):
            passed = failed = 0
            sentence = check
            for learner in learners:
                for c in result.pair(learner, lab).result.checks:
                    if c.id == check:
                        sentence = c.sentence
                        passed += c.status == PASSED
                        failed += c.status == FAILED
            stats.append(
                {
                    "lab": lab.id,
                    "id": check,
                    "sentence": sentence,
                    "passed": passed,
                    "failed": failed,
                    "rate": passed / len(learners) if learners else 0.0,
                }
            )
    return stats


def score_bins(result: ClassResult, bins: int = 10) -> list[int]:
    """How many learners scored in each tenth of the maximum (the last bin holds 100%)."""
    counts = [0] * bins
    for learner in result.learners:
        points, most = totals(result, learner)
        share = points / most if most else 0.0
        counts[min(int(share * bins), bins - 1)] += 1
    return counts


def render(result: ClassResult) -> str:
    stats = check_stats(result)
    n = len(result.learners)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Class report</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Class report</h1>",
        f'<p id="summary">{n} learners × {len(result.labs)} labs '
        f"({escape(', '.join(lab.id for lab in result.labs))}). "
        f'Learner code ran with <strong id="isolation">{escape(result.isolation)}</strong> '
        f"isolation; every learner met the hidden inputs of seed "
        f'<strong id="seed">{result.seed}</strong>. Grader {escape(result.grader_version)}, '
        f"started {escape(result.started)}.</p>",
    ]
    if result.isolation_note:
        out.append(f'<p class="note">Not full isolation: {escape(result.isolation_note)}</p>')
    out += ["<h2>Class pass rate per check</h2>"]
    out.append(
        bar_chart(
            "pass-rate",
            "Share of learners passing each check",
            [(f"{s['lab']} · {s['sentence']}", s["rate"], f"{s['passed']}/{n}") for s in stats],
        )
    )
    most_failed = sorted((s for s in stats if s["failed"]), key=lambda s: (-s["failed"], s["lab"]))
    out += ["<h2>Checks most failed</h2>"]
    if most_failed:
        out.append(
            bar_chart(
                "most-failed",
                "Learners failing each check, most first",
                [
                    (f"{s['lab']} · {s['sentence']}", s["failed"] / n, f"{s['failed']}/{n}")
                    for s in most_failed[:10]
                ],
            )
        )
        out.append(
            '<table id="most-failed-table"><tr><th>lab</th><th>check</th><th>failed</th></tr>'
        )
        for s in most_failed[:10]:
            out.append(
                f"<tr><td>{escape(s['lab'])}</td><td>{escape(s['sentence'])}</td>"
                f"<td>{s['failed']}/{n}</td></tr>"
            )
        out.append("</table>")
    else:
        out.append("<p>No check was failed.</p>")
    counts = score_bins(result)
    out += ["<h2>Score distribution</h2>"]
    top = max(counts) or 1
    out.append(
        bar_chart(
            "score-distribution",
            "Learners per tenth of the total points",
            [
                (f"{i * 10}–{i * 10 + 10}%", count / top, str(count))
                for i, count in enumerate(counts)
            ],
        )
    )
    out.append("<h2>Learners</h2>")
    for learner in result.learners:
        out.append(_learner_section(result, learner))
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _learner_section(result: ClassResult, learner: Any) -> str:
    points, most = totals(result, learner)
    rows = [
        f'<section class="learner" id="learner-{escape(learner.slug)}">',
        f"<h3>{escape(learner.name)} — {points}/{most}</h3>",
    ]
    if learner.refused:
        rows.append(f'<p class="failed">Not graded: {escape(learner.refused)}</p>')
    rows += [f'<p class="note">{escape(note)}</p>' for note in learner.general]
    rows.append(
        '<table class="learner-table"><tr><th>lab</th><th>points</th><th>checks passed</th>'
        "<th>failed checks</th><th>notes</th></tr>"
    )
    for lab in result.labs:
        pair = result.pair(learner, lab)
        r = pair.result
        failed = "<br>".join(escape(c.sentence) for c in r.checks if c.status == FAILED)
        notes = [*pair.notes, *([r.problem] if r.problem else [])]
        if pair.cached:
            notes.append("unchanged since the last run: result reused")
        rows.append(
            f"<tr><td>{escape(lab.id)}</td><td>{r.score}/{r.max_score}</td>"
            f"<td>{r.passed_count}/{len(r.checks)}</td><td>{failed}</td>"
            f"<td>{'<br>'.join(escape(n) for n in notes)}</td></tr>"
        )
    rows.append("</table></section>")
    return "\n".join(rows)
