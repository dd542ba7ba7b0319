"""Validator checks of entries and statements that repeat what the policy already says.

Kept apart from ``validate`` because these checks compare entries with each other (within
one Action or Resource list, or statement against statement) instead of checking one entry.
A repeat changes nothing the policy allows, but a later edit to one copy makes the copies
drift apart, and a repeated Sid makes findings and logs ambiguous.

Access Analyzer's checks implemented here (``findings.CHECKS``): REDUNDANT_ACTION,
REDUNDANT_RESOURCE and REDUNDANT_STATEMENT (suggestions), and UNIQUE_SIDS_REQUIRED
(identity policies and SCPs) or UNIQUE_SIDS_RECOMMENDED (other policy types).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..arns import arn_matches
from ..model import PolicyType
from ..wildcards import wildcard_match
from .run import StatementView, ValidationRun, as_list, has_wildcard


def check_redundant_entries(run: ValidationRun, st: StatementView) -> None:
    """Report Action and Resource entries that another entry of the same list covers."""
    actions = st.entries("Action")
    if len(actions) > 1:
        redundant = _redundant_actions(run, actions)
        if redundant:
            run.add(
                "REDUNDANT_ACTION",
                redundant[0][1],
                st,
                count=len(redundant),
                action=redundant[0][0],
            )
    resources = st.entries("Resource")
    if len(resources) > 1:
        redundant = [
            (r, p)
            for i, (r, p) in enumerate(resources)
            if "${" not in r
            and any(j != i and _resource_covers(s, r, j < i) for j, (s, _) in enumerate(resources))
        ]
        if redundant:
            run.add(
                "REDUNDANT_RESOURCE",
                redundant[0][1],
                st,
                count=len(redundant),
                resource=redundant[0][0],
            )


def _redundant_actions(
    run: ValidationRun, actions: list[tuple[str, tuple]]
) -> list[tuple[str, tuple]]:
    """Entries another entry already grants in full: a later exact duplicate, a name a
    wildcard matches, or a wildcard whose actions another wildcard's include."""
    seen: set[str] = set()
    wild: dict[str, list[str]] = {}  # service prefix ("" for a wildcard service) -> patterns
    for action, _ in actions:
        if has_wildcard(action):
            prefix = action.partition(":")[0].casefold()
            wild.setdefault("" if has_wildcard(prefix) else prefix, []).append(action)
    expanded: dict[str, frozenset[str]] = {}

    def grants(pattern: str) -> frozenset[str]:
        if pattern not in expanded:
            expanded[pattern] = frozenset(run.catalog.expand(pattern))
        return expanded[pattern]

    redundant = []
    for action, path in actions:
        folded = action.casefold()
        prefix = folded.partition(":")[0]
        wides = [w for w in wild.get(prefix, []) + wild.get("", []) if w.casefold() != folded]
        if folded in seen:
            hit = True
        elif not has_wildcard(action):
            hit = any(wildcard_match(w, action, ignore_case=True) for w in wides)
        else:
            inner = grants(action)
            hit = bool(inner) and any(inner <= grants(w) for w in wides)
        seen.add(folded)
        if hit:
            redundant.append((action, path))
    return redundant


def _resource_covers(wide: str, narrow: str, earlier: bool) -> bool:
    if wide == narrow:
        return earlier
    if wide == "*":
        return True
    if "${" in wide or not has_wildcard(wide):
        return False
    return arn_matches(wide, narrow)


def check_across_statements(run: ValidationRun, statements: list[StatementView]) -> None:
    """Compare statements: report a Sid used twice and a statement that repeats another."""
    seen_sids: dict[str, int] = {}
    seen_bodies: dict[str, StatementView] = {}
    for st in statements:
        sid = st.raw.get("Sid")
        if isinstance(sid, str) and sid:
            if sid in seen_sids:
                code = (
                    "UNIQUE_SIDS_REQUIRED"
                    if run.policy_type in (PolicyType.IDENTITY, PolicyType.SCP)
                    else "UNIQUE_SIDS_RECOMMENDED"
                )
                run.add(code, (*st.path, "Sid"), st, name=sid)
            seen_sids.setdefault(sid, st.index)
        body = _canonical(st.raw)
        if body in seen_bodies:
            other = seen_bodies[body]
            label = f"{other.sid!r}" if other.sid else str(other.index + 1)
            run.add("REDUNDANT_STATEMENT", st.path, st, other=label)
        else:
            seen_bodies[body] = st


def _canonical(raw: Mapping[str, Any]) -> str:
    """The statement without its Sid, lists as sorted sets, actions in one case."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "Sid":
            continue
        if key in ("Action", "NotAction") and _all_strings(value):
            value = sorted({v.casefold() for v in as_list(value)})
        elif key in ("Resource", "NotResource") and _all_strings(value):
            value = sorted(set(as_list(value)))
        out[key] = value
    return json.dumps(out, sort_keys=True, default=str)


def _all_strings(value: Any) -> bool:
    return all(isinstance(v, str) for v in as_list(value))
