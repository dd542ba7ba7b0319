"""The request being authorized: action, resource, principal and context keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .model import iam_string
from .variables import ContextKeys

ContextValue = str | bool | int | float | Sequence[str | bool | int | float]


@dataclass(frozen=True)
class Request:
    """One API call to authorize.

    ``context`` maps condition keys to a value or a list of values (a list makes the key
    multivalued, e.g. ``aws:TagKeys``). Keys are case-insensitive, as in AWS; booleans
    and numbers are turned into the strings IAM compares ("true", "10").
    ``principal`` is kept for resource-based policies; identity policies ignore it.
    """

    action: str
    resource: str = "*"
    principal: str | None = None
    context: Mapping[str, ContextValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_keys", normalize_context(self.context))
        object.__setattr__(self, "_action_key", self.action.lower())

    @property
    def keys(self) -> ContextKeys:
        """The context, lower-cased keys to tuples of strings (what conditions read)."""
        return self._keys  # type: ignore[attr-defined,no-any-return]


_EMPTY: dict[str, tuple[str, ...]] = {}


def normalize_context(context: Mapping[str, Any]) -> ContextKeys:
    """Lower-case the keys and make every value a tuple of IAM strings."""
    if not context:
        return _EMPTY
    out: dict[str, tuple[str, ...]] = {}
    for key, value in context.items():
        if value is None:  # None means "not in the request", like leaving the key out
            continue
        values = (value,) if isinstance(value, str | bool | int | float) else tuple(value)
        out[key.lower()] = tuple(iam_string(v) for v in values)
    return out
