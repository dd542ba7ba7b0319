"""An offline CloudFront engine: distributions and their behaviors, cache and origin
request policies, cache keys and TTLs, and a cache simulator over an access log.

moto stores a distribution but drops origin access control, has no cache policies and
caches nothing; this package decides what CloudFront would do. Start from
:func:`load_distribution` and :func:`load_policies`.
"""

from grader.aws.edge.distribution import (
    Behavior,
    Distribution,
    EdgeConfigError,
    Origin,
    load_distribution,
    path_matches,
)
from grader.aws.edge.policies import (
    MANAGED_CACHE_POLICIES,
    MANAGED_ORIGIN_REQUEST_POLICIES,
    PolicyStore,
    UnknownPolicyError,
    check_references,
    load_policies,
)

__all__ = [
    "MANAGED_CACHE_POLICIES",
    "MANAGED_ORIGIN_REQUEST_POLICIES",
    "Behavior",
    "Distribution",
    "EdgeConfigError",
    "Origin",
    "PolicyStore",
    "UnknownPolicyError",
    "check_references",
    "load_distribution",
    "load_policies",
    "path_matches",
]
