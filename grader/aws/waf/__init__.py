"""An offline AWS WAF (WAFv2) engine: load a web ACL, evaluate requests, explain verdicts.

moto stores a web ACL but evaluates nothing; this package decides what WAF would do with
each request. Start from :func:`parse_web_acl` and :class:`WebAclEvaluator`.
"""

from grader.aws.waf.acl import (
    AclWarning,
    WafParameterError,
    WafValidationError,
    WebAcl,
    load_web_acl,
    load_web_acl_file,
    parse_rule_group,
    parse_web_acl,
)
from grader.aws.waf.evaluate import NonexistentItemError, WebAclEvaluator, default_registry
from grader.aws.waf.groups import GroupOutcome, RuleHit
from grader.aws.waf.request import WafRequest
from grader.aws.waf.statements import WafConfigError
from grader.aws.waf.verdict import CustomResponse, RuleMatchInfo, Verdict

__all__ = [
    "AclWarning",
    "CustomResponse",
    "GroupOutcome",
    "NonexistentItemError",
    "RuleHit",
    "RuleMatchInfo",
    "Verdict",
    "WafConfigError",
    "WafParameterError",
    "WafRequest",
    "WafValidationError",
    "WebAcl",
    "WebAclEvaluator",
    "default_registry",
    "load_web_acl",
    "load_web_acl_file",
    "parse_rule_group",
    "parse_web_acl",
]
