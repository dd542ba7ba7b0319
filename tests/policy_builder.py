"""Build Policy objects straight from statement dicts, bypassing the parser.

The catalog and data-table tests use it so they can also build statements the parser
would reject (no Resource, an odd Effect) and so they do not depend on the parser.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grader.aws.iam.model import Policy, Statement


def _strings(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)


def make_policy(*statements: Mapping[str, Any], name: str = "test-policy") -> Policy:
    """A minimal JSON-to-model converter, so these tests do not depend on the parser."""
    return Policy(
        statements=tuple(
            Statement(
                index=i,
                effect=st["Effect"],
                sid=st.get("Sid"),
                action=_strings(st.get("Action")),
                not_action=_strings(st.get("NotAction")),
                resource=_strings(st.get("Resource")),
                not_resource=_strings(st.get("NotResource")),
                condition={
                    op: {key: _strings(v) for key, v in block.items()}
                    for op, block in st.get("Condition", {}).items()
                },
            )
            for i, st in enumerate(statements)
        ),
        version="2012-10-17",
        name=name,
    )
