"""Where AWS decides before, or beside, the policies: documented exceptions as data.

Each rule names its source. Actions are lower-cased (IAM compares them without case);
resource patterns are regular expressions on the request's resource ARN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Needs no permission, and "if an administrator attaches a policy to your identity that
# explicitly denies access to the sts:GetCallerIdentity action, you can still perform this
# operation." STS API Reference, GetCallerIdentity.
ALWAYS_ALLOWED = frozenset({"sts:getcalleridentity"})


@dataclass(frozen=True)
class ResourcePolicyRule:
    """Requests the resource's own policy must allow even within one account."""

    policy: str  # how the learner knows it: "role trust policy"
    actions: frozenset[str]  # lower-cased; a "prefix:*" entry covers the whole service
    resource: re.Pattern[str]

    def covers(self, action: str, resource: str) -> bool:
        prefix = action.split(":", 1)[0]
        hit = action in self.actions or f"{prefix}:*" in self.actions
        return hit and self.resource.match(resource) is not None


RESOURCE_POLICY_REQUIRED = (
    # "a role trust policy is required": an identity policy alone never lets a principal
    # assume a role, in the same account too. IAM User Guide, "Policy evaluation logic" >
    # "Evaluating identity-based policies with resource-based policies", and
    # "Granting a user permissions to switch roles".
    ResourcePolicyRule(
        "role trust policy",
        frozenset(
            {
                "sts:assumerole",
                "sts:assumerolewithsaml",
                "sts:assumerolewithwebidentity",
                "sts:tagsession",
                "sts:setsourceidentity",
            }
        ),
        re.compile(r"^arn:[^:]+:iam::\d{12}:role/"),
    ),
    # "Every KMS key must have exactly one key policy ... IAM policies by themselves are not
    # sufficient to allow access to a KMS key." AWS KMS Developer Guide, "Key policies".
    ResourcePolicyRule(
        "key policy",
        frozenset({"kms:*"}),
        re.compile(r"^arn:[^:]+:kms:[^:]*:\d{12}:key/"),
    ),
)


@dataclass(frozen=True)
class OwnedRule:
    """Resources AWS owns: these actions on them are refused to every caller."""

    what: str  # "an AWS managed policy"
    actions: frozenset[str]
    resource: re.Pattern[str]


# The write actions IAM refuses on AWS managed policies ("You cannot change the permissions
# defined in AWS managed policies", IAM User Guide, "AWS managed policies").
_POLICY_WRITES = frozenset(
    {
        "iam:createpolicyversion",
        "iam:deletepolicy",
        "iam:deletepolicyversion",
        "iam:setdefaultpolicyversion",
        "iam:tagpolicy",
        "iam:untagpolicy",
    }
)
# Service-linked roles are "protected AWS resources. Only the service that depends on the
# service-linked role can modify or delete the role" (IAM API Reference,
# UnmodifiableEntity); only the description may change. Roles IAM Identity Center creates
# under /aws-reserved/ are managed by it the same way (IAM Identity Center User Guide,
# "Roles created in AWS accounts"). Neither can be passed to a service by a caller.
_ROLE_WRITES = frozenset(
    {
        "iam:attachrolepolicy",
        "iam:detachrolepolicy",
        "iam:putrolepolicy",
        "iam:deleterolepolicy",
        "iam:updateassumerolepolicy",
        "iam:putrolepermissionsboundary",
        "iam:deleterolepermissionsboundary",
        "iam:deleterole",
        "iam:passrole",
    }
)
AWS_OWNED = (
    OwnedRule("an AWS managed policy", _POLICY_WRITES, re.compile(r"^arn:[^:]+:iam::aws:policy/")),
    OwnedRule(
        "a service-linked role",
        _ROLE_WRITES,
        re.compile(r"^arn:[^:]+:iam::\d{12}:role/aws-service-role/"),
    ),
    OwnedRule(
        "a role reserved for AWS (IAM Identity Center)",
        _ROLE_WRITES,
        re.compile(r"^arn:[^:]+:iam::\d{12}:role/aws-reserved/"),
    ),
    # "You cannot create, delete or update an alias that begins with alias/aws/: such
    # aliases are reserved for AWS managed keys." AWS KMS API Reference, CreateAlias.
    OwnedRule(
        "an alias of an AWS managed key",
        frozenset({"kms:createalias", "kms:deletealias", "kms:updatealias"}),
        re.compile(r"^arn:[^:]+:kms:[^:]*:\d{12}:alias/aws/"),
    ),
)

# The services whose resources RCPs apply to; for any other service's action an RCP is not
# consulted (Organizations User Guide, "Resource control policies (RCPs)" > "List of AWS
# services that support RCPs", as launched: S3, STS, KMS, SQS, Secrets Manager; AWS adds
# services to that list, so keep this table in step with it). RCPs do not apply to
# requests by service-linked roles either (same page, "Resources and entities not
# restricted by RCPs").
RCP_SERVICES = frozenset({"s3", "sts", "kms", "sqs", "secretsmanager"})

# The account in the ARN of AWS managed policies: AWS itself, in every partition, not an
# account of anyone's (reading one is not a cross-account request).
AWS_ACCOUNT = "aws"


# For a quick "no" on the hot path: every action and service any rule above names.
_REQUIRED_ACTIONS = frozenset(a for rule in RESOURCE_POLICY_REQUIRED for a in rule.actions)
_OWNED_ACTIONS = frozenset(a for rule in AWS_OWNED for a in rule.actions)


_REQUIRED_SERVICES = frozenset(a[:-2] for a in _REQUIRED_ACTIONS if a.endswith(":*"))


def required_resource_policy(action: str, resource: str, service: str = "") -> str | None:
    """The policy the resource must have to allow ``action`` at all, if any. ``service`` is
    the action's prefix, when the caller has it already."""
    if (
        action not in _REQUIRED_ACTIONS
        and (service or action.partition(":")[0]) not in _REQUIRED_SERVICES
    ):
        return None
    for rule in RESOURCE_POLICY_REQUIRED:
        if rule.covers(action, resource):
            return rule.policy
    return None


def aws_owned(action: str, resource: str) -> str | None:
    """What the resource is, when ``action`` on it is refused to everyone."""
    if action not in _OWNED_ACTIONS:
        return None
    for rule in AWS_OWNED:
        if action in rule.actions and rule.resource.match(resource):
            return rule.what
    return None
