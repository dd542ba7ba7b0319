"""Scoring a detection's hits against the labelled events of one scenario.

Precision is the share of hits that are expected; recall the share of expected events hit.
Two edge cases get a value and a note rather than a division by zero: no hits at all
(precision 1.0: nothing was wrongly flagged, and recall says what was missed) and nothing
expected (recall 1.0). ``universe``, when given, is the set of events the detection is
judged on: a hit outside it (say, an event of another scenario that a broader rule rightly
flags too) is neither right nor wrong and is listed as ``ignored``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Score:
    """Precision and recall, and the event IDs behind them (hits in the order given)."""

    precision: float
    recall: float
    true_positives: tuple[str, ...]
    false_positives: tuple[str, ...]
    false_negatives: tuple[str, ...]
    ignored: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def tp(self) -> int:
        return len(self.true_positives)

    @property
    def fp(self) -> int:
        return len(self.false_positives)

    @property
    def fn(self) -> int:
        return len(self.false_negatives)

    def meets(self, *, precision: float = 0.0, recall: float = 0.0) -> bool:
        """Whether both reach the given floors (``meets(precision=0.9, recall=1.0)``)."""
        return self.precision >= precision and self.recall >= recall

    def __str__(self) -> str:
        text = (
            f"precision {self.precision:.2f} ({self.tp} of {self.tp + self.fp} hits expected), "
            f"recall {self.recall:.2f} ({self.tp} of {self.tp + self.fn} expected events hit)"
        )
        return "; ".join((text, *self.notes))


def score(
    hits: Iterable[str], expected: Iterable[str], *, universe: Iterable[str] | None = None
) -> Score:
    """Score ``hits`` (event IDs, a ``Hits``) against ``expected`` event IDs.

    A hit repeated counts once. Every expected ID must be in ``universe`` when one is given
    (else ValueError: the labels and the universe disagree).
    """
    wanted = list(dict.fromkeys(expected))
    wanted_set = set(wanted)
    scope = set(universe) if universe is not None else None
    if scope is not None and not wanted_set <= scope:
        outside = sorted(wanted_set - scope)
        raise ValueError(f"expected events outside the universe: {', '.join(outside[:5])}")
    tp: list[str] = []
    fp: list[str] = []
    ignored: list[str] = []
    for hit in dict.fromkeys(hits):
        if hit in wanted_set:
            tp.append(hit)
        elif scope is not None and hit not in scope:
            ignored.append(hit)
        else:
            fp.append(hit)
    hit_set = set(tp)
    fn = [event for event in wanted if event not in hit_set]
    notes: list[str] = []
    if tp or fp:
        precision = len(tp) / (len(tp) + len(fp))
    else:
        precision = 1.0
        notes.append("no hits: precision is 1.0 because nothing was flagged wrongly")
    if wanted:
        recall = len(tp) / len(wanted)
    else:
        recall = 1.0
        notes.append("nothing was expected: recall is 1.0")
    if ignored:
        notes.append(f"{len(ignored)} hits outside the judged events were ignored")
    return Score(precision, recall, tuple(tp), tuple(fp), tuple(fn), tuple(ignored), tuple(notes))
