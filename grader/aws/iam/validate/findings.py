"""The policy checks the validator runs, as data: one row per issue code.

Codes, finding types and anchors follow IAM Access Analyzer's policy-check reference
("IAM Access Analyzer policy check reference", IAM User Guide,
https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html);
each row's ``anchor`` is the section it comes from, and ``learn_more_link`` points there, as
``aws accessanalyzer validate-policy`` does. Messages and fixes are this course's own words.
Rows whose ``source`` is ``PROJECT`` are this course's additions, not Access Analyzer checks;
rows whose ``source`` is ``ORGANIZATIONS_RCP`` are the RCP grammar of AWS Organizations
(its "RCP syntax" page), for which the reference has no issue codes: their codes are named
like the reference's SCP ones and say so in the output.

Also here: the result types (``Finding``, ``Location``, ``Span``) and ``NOT_CHECKED``, the
reference's checks this offline validator does not run, each with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

ERROR = "ERROR"
SECURITY_WARNING = "SECURITY_WARNING"
WARNING = "WARNING"
SUGGESTION = "SUGGESTION"
FINDING_TYPES = (ERROR, SECURITY_WARNING, WARNING, SUGGESTION)  # most to least severe

REFERENCE_URL = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html"
)
REFERENCE = "IAM Access Analyzer policy check reference"
PROJECT = "Cloud Security Labs (not an Access Analyzer check)"
ORGANIZATIONS_RCP = "AWS Organizations User Guide, RCP syntax (not an Access Analyzer check)"
RCP_SYNTAX_URL = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html"
# Where a PROJECT check sends the learner: the actions/resources/condition keys tables.
SERVICE_REFERENCE_URL = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/"
    "reference_policies_actions-resources-contextkeys.html"
)


@dataclass(frozen=True)
class Check:
    """One issue code: its severity, the message template, and how to fix it."""

    code: str
    finding_type: str
    title: str
    message: str  # str.format template over the fields the check passes
    fix: str
    anchor: str  # section of the reference, e.g. "error-invalid-action"
    source: str = REFERENCE

    @property
    def learn_more_link(self) -> str:
        if self.source == PROJECT:
            return SERVICE_REFERENCE_URL
        if self.source == ORGANIZATIONS_RCP:
            return RCP_SYNTAX_URL
        return f"{REFERENCE_URL}#access-analyzer-reference-policy-checks-{self.anchor}"


def _c(code: str, kind: str, title: str, message: str, fix: str, **kw: str) -> Check:
    prefix = {
        ERROR: "error",
        SECURITY_WARNING: "security-warning",
        WARNING: "general-warning",
        SUGGESTION: "suggestion",
    }[kind]
    anchor = kw.pop("anchor", f"{prefix}-{code.lower().replace('_', '-')}")
    return Check(code, kind, title, message, fix, anchor, **kw)


_E, _S, _W, _G = ERROR, SECURITY_WARNING, WARNING, SUGGESTION

# fmt: off
_ROWS: tuple[Check, ...] = (
    # --- the document and its elements ---------------------------------------------------
    _c("JSON_SYNTAX_ERROR", _E, "JSON syntax error",
       "The policy is not valid JSON: {detail} (line {line}, column {column}).",
       "Fix the JSON at that position: a missing comma, quote or bracket is the usual cause."),
    _c("MISSING_STATEMENT", _E, "Missing statement",
       "The policy has no statement.",
       "Add a Statement element holding at least one statement."),
    _c("INVALID_POLICY_ELEMENT", _E, "Invalid policy element",
       "{element} is not a policy element.",
       "Remove it or correct its spelling: Version, Id, Statement at the top; Sid, Effect, "
       "Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition in a "
       "statement."),
    _c("DATA_TYPE_MISMATCH", _E, "Data type mismatch",
       "{element} should be {expected}.",
       "Write the element with the JSON type IAM expects (for example Version as a string, "
       "Action as a string or a list of strings)."),
    _c("UNSUPPORTED_ELEMENT_COMBINATION", _E, "Unsupported element combination",
       "A statement cannot have both {first} and {second}.",
       "Keep one of the two elements."),
    _c("INVALID_VERSION", _E, "Invalid version",
       "{version} is not a policy language version; use 2012-10-17.",
       "Set Version to 2012-10-17."),
    _c("MISSING_VERSION", _W, "Missing version",
       "The policy has no Version, so it is read with the 2008 rules and policy variables "
       "stay literal text.",
       'Add "Version": "2012-10-17" at the top of the policy.'),
    _c("MISSING_EFFECT", _E, "Missing effect",
       "The statement has no Effect.",
       'Add "Effect": "Allow" or "Effect": "Deny".'),
    _c("INVALID_EFFECT", _E, "Invalid effect",
       "{effect} is not an effect; IAM knows only Allow and Deny (with that capitalization).",
       "Write Allow or Deny."),
    _c("MISSING_ACTION", _E, "Missing action",
       "The statement names no Action or NotAction, so it does nothing.",
       "Add an Action element listing what the statement allows or denies."),
    _c("MISSING_RESOURCE", _E, "Missing resource",
       "The statement names no Resource or NotResource.",
       "Add a Resource element with the ARNs the statement applies to."),
    _c("UNIQUE_SIDS_REQUIRED", _E, "Unique Sids required",
       "Sid {name} is used by more than one statement; this policy type needs unique Sids.",
       "Give each statement its own Sid."),
    _c("UNIQUE_SIDS_RECOMMENDED", _W, "Unique Sids recommended",
       "Sid {name} is used by more than one statement.",
       "Give each statement its own Sid, so findings and logs point at one statement."),
    _c("UNSUPPORTED_SID", _E, "Unsupported Sid",
       "Sid {name} has characters this policy type does not accept (only A-Z, a-z, 0-9).",
       "Use letters and digits only in the Sid."),
    _c("EMPTY_SID_VALUE", _G, "Empty Sid value",
       "The Sid is an empty string.",
       "Name the statement, or remove the empty Sid."),
    # --- actions -------------------------------------------------------------------------
    _c("INVALID_ACTION", _E, "Invalid action",
       "{action} matches no action of {service}.{hint}",
       "Check the action's spelling in the service's actions table."),
    _c("INVALID_SERVICE_IN_ACTION", _E, "Invalid service in action",
       "{service} in {action} is not a service prefix.{hint}",
       "Use the service's prefix as the actions table spells it (ec2, s3, iam ...)."),
    _c("WILDCARD_IN_SERVICE_NAME", _G, "Wildcard in service name",
       "{value} has a wildcard in its service name, which can reach services you did not mean.",
       "Name each service explicitly."),
    _c("REDUNDANT_ACTION", _G, "Redundant action",
       "{count} action(s) are already covered by other entries of the same list, such as "
       "{action}.",
       "Remove the entries another entry already includes."),
    _c("REDUNDANT_RESOURCE", _G, "Redundant resource",
       "{count} resource ARN(s) are already covered by other entries, such as {resource}.",
       "Remove the ARNs a wildcard entry already includes, or drop the wildcard if the list "
       "should stay fixed."),
    _c("REDUNDANT_STATEMENT", _G, "Redundant statement",
       "This statement repeats statement {other}: they grant exactly the same thing.",
       "Keep one of them, so a later edit cannot make them drift apart."),
    _c("EMPTY_ARRAY_ACTION", _G, "Empty array action",
       "The action list is empty, so the statement has no effect.",
       "List the actions, or remove the statement."),
    _c("EMPTY_ARRAY_RESOURCE", _G, "Empty array resource",
       "The resource list is empty, so the statement has no effect.",
       "List the resources, or remove the statement."),
    # --- resources -----------------------------------------------------------------------
    _c("INVALID_ARN_PREFIX", _E, "Invalid ARN prefix",
       "{resource} does not start with arn:.",
       "Write the resource as arn:partition:service:region:account:resource, or *."),
    _c("MISSING_ARN_FIELD", _E, "Missing ARN field",
       "{resource} has {count} of the 6 ARN fields arn:partition:service:region:account:resource.",
       "Add the missing fields; leave a field empty (::) where the service has none."),
    _c("INVALID_PARTITION", _E, "Invalid partition",
       "{partition} is not an AWS partition (use {partitions}).",
       "Use aws, or the partition of your Regions (aws-cn, aws-us-gov ...)."),
    _c("INVALID_ARN_SERVICE_CASE", _E, "Invalid ARN service case",
       "The service {service} in the ARN must be lowercase.",
       "Write the service prefix in lowercase."),
    _c("ARN_REGION_NOT_ALLOWED", _E, "ARN Region not allowed",
       "{service} ARNs have no Region, but {resource} names {region}.",
       "Leave the Region field empty (::)."),
    _c("MISSING_ARN_REGION", _E, "Missing ARN Region",
       "{service} ARNs need a Region, and {resource} has none.",
       "Add the Region (or * for every Region)."),
    _c("ARN_ACCOUNT_NOT_ALLOWED", _E, "ARN account not allowed",
       "{service} ARNs have no account ID, but {resource} names {account}.",
       "Leave the account field empty; for S3 the bucket name alone is the namespace."),
    _c("INVALID_ARN_ACCOUNT", _E, "Invalid ARN account",
       "{account} in {resource} is not an account ID.",
       "Write the 12-digit account ID, or *."),
    _c("INVALID_ARN_REGION", _E, "Invalid ARN Region",
       "{region} in {resource} is not a Region.",
       "Write a Region code such as us-east-1, or *."),
    _c("INVALID_ARN_RESOURCE", _E, "Invalid ARN resource",
       "{resource} matches none of the resource types of {service}.",
       "Copy the ARN format from the service's resource types table and fill it in."),
    _c("MISMATCHED_RESOURCE_TYPE", _W, "Mismatched resource type",
       "{action} applies to {expected}, and none of this statement's resources is of that "
       "type, so the statement never grants it.",
       "Give the action a resource of the type it supports (or * if it supports none), or "
       "move it to a statement that has one.",
       anchor="", source=PROJECT),
    _c("UNSUPPORTED_ACTION_IN_POLICY", _E, "Unsupported action in policy",
       "{action} cannot be granted by a policy attached to {resource_type}.",
       "Grant only actions of the service that owns the resource."),
    _c("UNSUPPORTED_RESOURCE_ARN_IN_POLICY", _E, "Unsupported resource ARN in policy",
       "{resource} is not a resource a policy attached to {resource_type} can name.",
       "Name the resource the policy is attached to (or its children)."),
    # --- principals ----------------------------------------------------------------------
    _c("MISSING_PRINCIPAL", _E, "Missing principal",
       "A resource policy statement must say who it applies to.",
       'Add a Principal, for example "Principal": {{"AWS": "arn:aws:iam::111122223333:root"}}.'),
    _c("UNSUPPORTED_PRINCIPAL", _E, "Unsupported principal",
       "{policy_type} policies cannot have a {element}: the principal is whoever the policy "
       "is attached to.",
       "Remove the element."),
    _c("INVALID_PRINCIPAL_FORMAT", _E, "Invalid principal format",
       'The principal must be "*" or an object such as {{"AWS": [...]}}.',
       "Write the principal as a key-value object."),
    _c("INVALID_PRINCIPAL_KEY", _E, "Invalid principal key",
       "{key} is not a principal type (AWS, Service, Federated, CanonicalUser).",
       "Use one of AWS, Service, Federated or CanonicalUser."),
    _c("UNSUPPORTED_WILDCARD_IN_PRINCIPAL", _E, "Unsupported wildcard in principal",
       "{value}: a {key} principal cannot contain a wildcard.",
       'Name each principal, or use "*" with a condition such as aws:PrincipalOrgID.'),
    _c("INVALID_SERVICE_PRINCIPAL_FORMAT", _E, "Invalid service principal format",
       "{value} is not a service principal.",
       "Write it as service-name.amazonaws.com, lowercase."),
    _c("FEDERATED_PRINCIPAL_NOT_SUPPORTED", _E, "Federated principal not supported",
       "Only role trust policies can name a federated identity provider.",
       "Use an AWS or Service principal here."),
    _c("INVALID_ROLE_REFERENCE", _W, "Invalid role reference",
       "{value} is a role's unique ID; it stops matching if the role is recreated.",
       "Use the role's ARN."),
    _c("INVALID_USER_REFERENCE", _W, "Invalid user reference",
       "{value} is a user's unique ID; it stops matching if the user is recreated.",
       "Use the user's ARN."),
    _c("EMPTY_ARRAY_PRINCIPAL", _G, "Empty array principal",
       "The principal list is empty, so the statement has no effect.",
       "List the principals, or remove the statement."),
    _c("EMPTY_OBJECT_PRINCIPAL", _G, "Empty object principal",
       "The principal object is empty, so the statement has no effect.",
       "Add the principals, or remove the statement."),
    # role trust policies (resource_type AWS::IAM::AssumeRolePolicyDocument)
    _c("ROLE_TRUST_POLICY_SYNTAX_ERROR_NOTPRINCIPAL", _E, "Role trust policy NotPrincipal",
       "A role trust policy cannot use NotPrincipal.",
       "Name who may assume the role with Principal."),
    _c("ROLE_TRUST_POLICY_UNSUPPORTED_WILDCARD_IN_PRINCIPAL", _E, "Role trust policy wildcard",
       'A role trust policy cannot trust "*".',
       "Name the accounts, roles or services that may assume the role."),
    _c("ROLE_TRUST_POLICY_SYNTAX_ERROR_RESOURCE", _E, "Role trust policy resource",
       "A role trust policy applies to its role; it cannot have {element}.",
       "Remove the element."),
    _c("MISMATCHED_ACTION_FOR_PRINCIPAL", _E, "Mismatched action for principal",
       "{action} cannot be used by {principal}; {expected} is the action for this kind of "
       "identity provider.",
       "Use sts:AssumeRoleWithSAML for a SAML provider and sts:AssumeRoleWithWebIdentity for "
       "an OIDC provider."),
    _c("INVALID_FEDERATED_PRINCIPAL_SYNTAX_IN_ROLE_TRUST_POLICY", _E,
       "Invalid federated principal syntax",
       "{value} is neither a provider domain nor a SAML or OIDC provider ARN.",
       "Use the provider's domain (accounts.google.com) or its IAM provider ARN."),
    _c("MISSING_ACTION_FOR_ROLES_ANYWHERE_TRUST_POLICY", _E, "Missing action for Roles Anywhere",
       "rolesanywhere.amazonaws.com also needs {missing} to assume this role.",
       "Allow sts:AssumeRole, sts:SetSourceIdentity and sts:TagSession together."),
    _c("REDUNDANT_PRINCIPAL_IN_ROLE_TRUST_POLICY", _G, "Redundant principal in trust policy",
       "{value} is already trusted through its role {role}.",
       "Remove the assumed-role principal."),
    _c("POLICY_SIZE_EXCEEDS_ROLE_TRUST_POLICY_QUOTA", _W, "Trust policy size",
       "The trust policy has {size} characters without whitespace; the default maximum is "
       "{quota}.",
       "Shorten the policy, or ask for a higher quota."),
    # --- conditions ----------------------------------------------------------------------
    _c("INVALID_CONDITION_OPERATOR", _E, "Invalid condition operator",
       "{operator} is not a condition operator.",
       "Use an operator from the condition operators page (StringEquals, ArnLike, Bool ...)."),
    _c("NULL_WITH_IF_EXISTS", _E, "Null with IfExists",
       "{operator}: Null already tests whether the key exists, so it has no IfExists form.",
       "Write Null, without IfExists."),
    _c("NULL_WITH_QUALIFIER", _G, "Null with qualifier",
       "{operator}: with ForAllValues the test is always true, with ForAnyValue always false.",
       "Use Null without a qualifier."),
    _c("INVALID_CONDITION_KEY_FORMAT", _E, "Invalid condition key format",
       "{key} is not of the form service:key.",
       "Prefix the key with its service (aws:, s3:, ec2: ...)."),
    _c("INVALID_GLOBAL_CONDITION_KEY", _E, "Invalid global condition key",
       "{key} is not a global condition key.{hint}",
       "Check the key's spelling on the global condition keys page."),
    _c("INVALID_SERVICE_CONDITION_KEY", _E, "Invalid service condition key",
       "{service} has no condition key {key}.{hint}",
       "Check the key's spelling in the service's condition keys table."),
    _c("INVALID_SERVICE", _E, "Invalid service",
       "{service} (in {where}) is not a service prefix.",
       "Use the service's prefix as the condition keys table spells it."),
    _c("UNSUPPORTED_GLOBAL_CONDITION_KEY", _E, "Unsupported global condition key",
       "{key} is not supported.",
       "Use aws:PrincipalArn for the caller or aws:SourceArn for the calling resource."),
    _c("MISSING_TAG_KEY_IN_CONDITION", _E, "Missing tag key in condition",
       "{key} needs a tag key after the slash, such as {key}team.",
       "Add the tag key: {key}<tag-key>."),
    _c("DUPLICATE_KEYS_WITH_DIFFERENT_CASE", _E, "Duplicate keys with different case",
       "{key} appears more than once in {operator}, spelled with different case; keys ignore "
       "case, so only one of them counts.",
       "Merge the values under one key."),
    _c("INVALID_CONDITION_DATA_TYPE", _E, "Invalid condition data type",
       "The values of {key} mix JSON types ({types}).",
       "Write every value of a key with the same JSON type."),
    _c("INVALID_CONDITION_MULTIPLE_BOOLEAN", _E, "Multiple Boolean values",
       "{key} is given several Boolean values; a Boolean key holds one.",
       "Keep a single true or false."),
    _c("TYPE_MISMATCH", _W, "Type mismatch",
       "{key} is a {key_type} key: use a {allowed} operator instead of {operator}.",
       "Use the operator family that matches the key's type."),
    _c("TYPE_MISMATCH_BOOLEAN", _W, "Type mismatch Boolean",
       "{value} is not a Boolean for {operator}.",
       "Write true or false."),
    _c("TYPE_MISMATCH_DATE", _W, "Type mismatch date",
       "{value} is not a date for {operator}.",
       "Write an ISO 8601 date, such as 2025-01-31 or 2025-01-31T12:00:00Z."),
    _c("TYPE_MISMATCH_IP_RANGE", _W, "Type mismatch IP range",
       "{value} is not an IP address or CIDR range for {operator}.",
       "Write an address or range such as 203.0.113.0/24."),
    _c("TYPE_MISMATCH_NUMBER", _W, "Type mismatch number",
       "{value} is not a number for {operator}.",
       "Write a number."),
    _c("TYPE_MISMATCH_STRING", _W, "Type mismatch string",
       "{value} is not base64 for {operator}.",
       "Write the value base64-encoded."),
    _c("INVALID_DATE_VALUE", _W, "Invalid date value",
       "{value} is an epoch time, which may not resolve as you expect.",
       "Write the date as YYYY-MM-DD (or a full ISO 8601 timestamp)."),
    _c("WILDCARD_WITHOUT_LIKE_OPERATOR", _W, "Wildcard without Like operator",
       "{value} contains * or ?, which {operator} compares literally.",
       "Use the Like form of the operator (StringLike, ArnLike) if you meant a wildcard."),
    _c("MISSING_QUALIFIER", _E, "Missing qualifier",
       "{key} can hold several values in one request; say how to compare them.",
       "Prefix the operator with ForAllValues: or ForAnyValue:."),
    _c("FORALLVALUES_WITH_SINGLE_VALUED_KEY", _S, "ForAllValues with single-valued key",
       "ForAllValues with the single-valued key {key} is also true when the key is absent, "
       "which can grant more than you meant.",
       "Remove ForAllValues: and use the plain operator."),
    _c("INVALID_VARIABLE_FOR_OPERATOR", _E, "Invalid variable for operator",
       "{operator} cannot resolve the policy variable in {value}.",
       "Use policy variables only with String and Arn operators."),
    _c("REDUNDANT_CONDITION_VALUE_NUM", _G, "Redundant numeric values",
       "{operator} {key} has several values; only the {which} one matters ({value}).",
       "Keep the single value {value}."),
    _c("PRIVATE_IP_ADDRESS", _E, "Private IP address",
       "aws:SourceIp never holds a private address, so {operator} on {values} never matches.",
       "Use public ranges with aws:SourceIp, or aws:VpcSourceIp for addresses in a VPC."),
    _c("PRIVATE_NOT_IP_ADDRESS", _E, "Private NotIpAddress",
       "aws:SourceIp never holds a private address, so NotIpAddress on {values} always matches.",
       "Use public ranges with aws:SourceIp, or aws:VpcSourceIp for addresses in a VPC."),
    _c("PRIVATE_IP_ADDRESS_SUBSET", _G, "Private IP address subset",
       "{values} are private; aws:SourceIp never holds them, so they have no effect here.",
       "Remove the private ranges, or test them with aws:VpcSourceIp in another statement."),
    _c("PRIVATE_NOT_IP_ADDRESS_SUBSET", _G, "Private NotIpAddress subset",
       "{values} are private; aws:SourceIp never holds them, so they have no effect here.",
       "Remove the private ranges, or test them with aws:VpcSourceIp in another statement."),
    _c("IMPROVE_IP_RANGE", _G, "Improve IP range",
       "{value} has bits set after the mask, which are ignored; it means {network}.",
       "Write {network}."),
    _c("INVALID_REGION", _E, "Invalid Region",
       "{value} is not a Region code.",
       "Write a Region code such as eu-west-1."),
    _c("INVALID_VPC_FORMAT", _E, "Invalid VPC format",
       "{value} is not a VPC ID.",
       "Write vpc- followed by 8 or 17 hexadecimal characters."),
    _c("INVALID_VPCE_FORMAT", _E, "Invalid VPCE format",
       "{value} is not a VPC endpoint ID.",
       "Write vpce- followed by 8 or 17 hexadecimal characters."),
    _c("EMPTY_ARRAY_CONDITION", _G, "Empty array condition",
       "{key} has no values, so the condition has no effect.",
       "Give the key its values, or remove it."),
    _c("EMPTY_ARRAY_CONDITION_FORALLVALUES", _G, "Empty array with ForAllValues",
       "ForAllValues with no values for {key} matches only when the key is absent.",
       "To test for absence, write Null with true."),
    _c("EMPTY_ARRAY_CONDITION_FORANYVALUE", _G, "Empty array with ForAnyValue",
       "ForAnyValue with no values for {key} never matches.",
       "Give the key its values, or remove it."),
    _c("EMPTY_ARRAY_CONDITION_IFEXISTS", _G, "Empty array with IfExists",
       "IfExists with no values for {key} matches only when the key is absent.",
       "To test for absence, write Null with true."),
    _c("EMPTY_OBJECT_CONDITION", _G, "Empty object condition",
       "The condition block is empty, so it has no effect.",
       "Add the condition, or remove the block."),
    # policy variables
    _c("MISSING_BRACE_IN_VARIABLE", _E, "Missing brace in variable",
       "The policy variable in {value} has no closing }}.",
       "Close the variable with }}."),
    _c("MISSING_QUOTE_IN_VARIABLE", _E, "Missing quote in variable",
       "The default value in {value} must be in single quotes.",
       "Write the default as ${{key, 'default'}}."),
    _c("UNSUPPORTED_SPACE_IN_VARIABLE", _E, "Space in variable",
       "The policy variable in {value} contains a space.",
       "Remove the space inside ${{...}}."),
    _c("EMPTY_VARIABLE", _E, "Empty variable",
       "{value} has an empty policy variable ${{}}.",
       "Name a key inside ${{...}}, or remove it."),
    _c("VARIABLE_UNSUPPORTED_IN_ELEMENT", _E, "Variable not supported in element",
       "{element} cannot hold the policy variable in {value}.",
       "Use policy variables only in Resource and Condition values."),
    _c("VARIABLE_UNSUPPORTED_IN_VERSION", _E, "Variable not supported in version",
       "{value} uses a policy variable, but without Version 2012-10-17 it is literal text.",
       'Set "Version": "2012-10-17".'),
    # --- sensitive actions ---------------------------------------------------------------
    _c("PASS_ROLE_WITH_STAR_IN_RESOURCE", _S, "PassRole with star in resource",
       "iam:PassRole on {resource} lets the holder hand any role to any service.",
       "List the role ARNs that may be passed, or add an iam:PassedToService condition."),
    _c("PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE", _S,
       "PassRole with star in action and resource",
       "{action} on {resource} includes iam:PassRole on every role.",
       "Grant iam:PassRole in its own statement with the role ARNs, or add "
       "iam:PassedToService."),
    _c("PASS_ROLE_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION", _S,
       "PassRole with star in resource and NotAction",
       "NotAction on {resource} includes iam:PassRole on every role.",
       "Use Action with the actions you need; grant iam:PassRole on named roles only."),
    _c("PASS_ROLE_WITH_NOT_RESOURCE", _S, "PassRole with NotResource",
       "iam:PassRole with NotResource allows passing every role not listed.",
       "Use Resource with the role ARNs that may be passed."),
    _c("PASS_ROLE_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE", _S,
       "PassRole with star in action and NotResource",
       "{action} with NotResource includes iam:PassRole on every role not listed.",
       "Grant iam:PassRole in its own statement with Resource listing the roles."),
    _c("PASS_ROLE_WITH_NOT_ACTION_AND_NOT_RESOURCE", _S,
       "PassRole with NotAction and NotResource",
       "NotAction with NotResource includes iam:PassRole on every role not listed.",
       "Use Action and Resource; grant iam:PassRole on named roles only."),
    _c("CREATE_SLR_WITH_STAR_IN_RESOURCE", _W, "CreateServiceLinkedRole with star in resource",
       "iam:CreateServiceLinkedRole on {resource} can create a service-linked role for any "
       "service.",
       "Name the service-linked role ARNs, or add an iam:AWSServiceName condition."),
    _c("CREATE_SLR_WITH_STAR_IN_ACTION_AND_RESOURCE", _W,
       "CreateServiceLinkedRole with star in action and resource",
       "{action} on {resource} includes iam:CreateServiceLinkedRole for any service.",
       "Grant iam:CreateServiceLinkedRole in its own statement on named roles."),
    _c("CREATE_SLR_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION", _W,
       "CreateServiceLinkedRole with star in resource and NotAction",
       "NotAction on {resource} includes iam:CreateServiceLinkedRole for any service.",
       "Use Action with the actions you need."),
    _c("CREATE_SLR_WITH_NOT_RESOURCE", _W, "CreateServiceLinkedRole with NotResource",
       "iam:CreateServiceLinkedRole with NotResource can create any role not listed.",
       "Use Resource with the service-linked role ARNs."),
    _c("CREATE_SLR_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE", _W,
       "CreateServiceLinkedRole with star in action and NotResource",
       "{action} with NotResource includes iam:CreateServiceLinkedRole on every role not "
       "listed.",
       "Grant iam:CreateServiceLinkedRole in its own statement on named roles."),
    _c("CREATE_SLR_WITH_NOT_ACTION_AND_NOT_RESOURCE", _W,
       "CreateServiceLinkedRole with NotAction and NotResource",
       "NotAction with NotResource includes iam:CreateServiceLinkedRole on every role not "
       "listed.",
       "Use Action and Resource."),
    # --- principals and conditions that open access too wide -----------------------------
    _c("ALLOW_WITH_NOT_PRINCIPAL", _S, "Allow with NotPrincipal",
       "Allow with NotPrincipal grants access to everyone not listed, anonymous users included.",
       "Name who is allowed with Principal; keep NotPrincipal for Deny statements."),
    _c("RESTRICT_ACCESS_TO_SERVICE_PRINCIPAL", _S, "Restrict access to service principal",
       "{service} is allowed on behalf of any account or resource (a confused deputy risk).",
       "Add aws:SourceArn or aws:SourceAccount naming the resource or account it acts for."),
    _c("RECOMMENDED_CONDITION_KEY_FOR_SERVICE_PRINCIPAL", _G,
       "Recommended condition key for service principal",
       "{key} does not say on whose behalf {service} acts.",
       "Use aws:SourceArn or aws:SourceAccount instead of {key}."),
    _c("MISSING_CONDITION_KEY_FOR_OIDC_PRINCIPAL", _S, "Missing condition key for OIDC principal",
       "Any identity of {provider} can assume this role: nothing checks which one.",
       "Add conditions on {provider}: keys (for example :aud and :sub)."),
    _c("MISSING_GITHUB_REPO_CONDITION_KEY", _S, "Missing GitHub repository condition key",
       "Any GitHub repository's workflow can assume this role.",
       "Add token.actions.githubusercontent.com:sub with your repository and branch, "
       "e.g. repo:my-org/my-repo:ref:refs/heads/main."),
    _c("SPECIFIC_GITHUB_REPO_AND_BRANCH_RECOMMENDED", _W,
       "Specific GitHub repository and branch recommended",
       "{value} lets more repositories or branches assume the role than one.",
       "Name the repository and branch without a wildcard."),
    _c("MISSING_PAIRED_CONDITION_KEYS", _S, "Missing paired condition keys",
       "{key} alone is not unique across networks; pair it with {paired}.",
       "Add {paired} to the same Condition element."),
    _c("DENY_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE", _S,
       "Deny with unsupported tag condition key",
       "{key} is never set for {services}, so this Deny never applies to their actions.",
       "Move those actions to a Deny without the tag condition."),
    _c("DENY_NOTACTION_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE", _S,
       "Deny NotAction with unsupported tag condition key",
       "Deny with NotAction and {key} skips every action whose service has no such key.",
       "List the actions to deny with Action."),
    _c("ALLOW_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE", _G,
       "Allow with unsupported tag condition key",
       "{key} is never set for {services}, so this statement never allows their actions.",
       "Move those actions to a statement without the tag condition."),
    _c("ALLOW_NOTACTION_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE", _G,
       "Allow NotAction with unsupported tag condition key",
       "With NotAction and {key}, only services that set the key are allowed.",
       "List the actions to allow with Action."),
    # --- service control policies --------------------------------------------------------
    _c("SCP_SYNTAX_ERROR_PRINCIPAL", _E, "SCP principal",
       "An SCP cannot have {element}: it applies to the accounts it is attached to.",
       "Remove the element; use aws:PrincipalArn in a Condition to exempt principals."),
    _c("SCP_SYNTAX_ERROR_NOTRESOURCE", _E, "SCP NotResource",
       "An SCP cannot use NotResource.",
       "Use Resource."),
    _c("SCP_SYNTAX_ERROR_ALLOW_CONDITION", _E, "SCP Allow with Condition",
       "An SCP Allow statement cannot have a Condition.",
       "Put the condition on a Deny statement instead."),
    _c("SCP_SYNTAX_ERROR_ALLOW_NOTACTION", _E, "SCP Allow with NotAction",
       "An SCP Allow statement cannot use NotAction.",
       "List the allowed actions with Action, or deny the others with a Deny + NotAction."),
    _c("SCP_SYNTAX_ERROR_ALLOW_RESOURCE", _E, "SCP Allow with Resource",
       'An SCP Allow statement must apply to "*", not to {resource}.',
       'Use "Resource": "*" in Allow statements; restrict resources with Deny.'),
    _c("SCP_SYNTAX_ERROR_ACTION_WILDCARD", _E, "SCP action wildcard",
       "{action}: an SCP accepts a wildcard only at the end of an action.",
       "Put the * last (iam:Get*), or list the actions."),
    # --- resource control policies (Organizations, "RCP syntax": an RCP a customer writes
    # only denies, its Principal is "*", and it has no NotPrincipal and no NotAction) ------
    _c("RCP_SYNTAX_ERROR_ALLOW", _E, "RCP Allow",
       "An RCP you write can only deny: Allow is supported only in RCPFullAWSAccess, the "
       "policy AWS attaches to every level for you.",
       "Make the statement a Deny and describe what to refuse with its conditions.",
       anchor="", source=ORGANIZATIONS_RCP),
    _c("RCP_SYNTAX_ERROR_PRINCIPAL", _E, "RCP principal",
       'An RCP\'s Principal must be "*": it applies to every caller of the resources.',
       'Use "Principal": "*" and name the callers to refuse with condition keys such as '
       "aws:PrincipalOrgID or aws:PrincipalAccount.",
       anchor="", source=ORGANIZATIONS_RCP),
    _c("RCP_SYNTAX_ERROR_ELEMENT", _E, "RCP element",
       "An RCP cannot use {element}.",
       'Use Principal "*" with conditions instead of NotPrincipal, and Action instead of '
       "NotAction.",
       anchor="", source=ORGANIZATIONS_RCP),
    # --- sizes ---------------------------------------------------------------------------
    _c("POLICY_SIZE_EXCEEDS_SCP_QUOTA", _E, "SCP size",
       "The SCP has {size} characters; an SCP holds at most {quota}.",
       "Split it into several SCPs."),
    _c("POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA", _W, "Identity policy size",
       "The policy has {size} characters without whitespace; a managed policy holds at "
       "most {quota}.",
       "Split it into several policies, or use wildcards where they grant nothing extra."),
    _c("POLICY_SIZE_EXCEEDS_RESOURCE_POLICY_QUOTA", _W, "Resource policy size",
       "The policy has {size} characters; a policy on {resource_type} holds at most {quota}.",
       "Split the access between several policies or resources."),
)
# fmt: on

CHECKS: Mapping[str, Check] = MappingProxyType({row.code: row for row in _ROWS})

# Checks of the reference this validator does not run, and why. Every issue code of the
# reference is either in CHECKS or here (a test counts them).
# fmt: off
NOT_CHECKED: tuple[tuple[str, str], ...] = (
    ("DEPRECATED_GLOBAL_CONDITION_KEY",
     "the reference also lists aws:ARN as the ERROR UNSUPPORTED_GLOBAL_CONDITION_KEY, "
     "which is reported instead"),
    ("UNSUPPORTED_ACTION_FOR_CONDITION_KEY",
     "which actions set a service key depends on the request; the offline database lists "
     "keys per resource type, which gives false findings"),
    ("MISSING_ACTION_FOR_CONDITION_KEY",
     "the table of keys that need a companion action is internal to Access Analyzer"),
    ("UNSUPPORTED_CONDITION_KEY_FOR_SERVICE_PRINCIPAL",
     "the list of keys absent from service-principal requests is not published as data"),
    ("IRRELEVANT_CONDITION_KEY_IN_POLICY",
     "needs Access Analyzer's per-resource-type table of relevant keys"),
    ("CONFIRM_AUDIENCE_CLAIM_TYPE",
     "whether an IdP's aud claim is multivalued depends on the provider, unknown offline"),
)
# fmt: on


@dataclass(frozen=True)
class Position:
    """A point in the policy text: line from 1, column and offset from 0 (as Access Analyzer)."""

    line: int
    column: int
    offset: int

    def to_dict(self) -> dict[str, int]:
        return {"line": self.line, "column": self.column, "offset": self.offset}


@dataclass(frozen=True)
class Span:
    start: Position
    end: Position

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start.to_dict(), "end": self.end.to_dict()}


# A path element as Access Analyzer writes it: ("value", "Statement"), ("index", 0),
# ("key", "aws:SourceIp") - "key" points at an object key itself, "value" at its value.
PathElement = tuple[str, str | int]


@dataclass(frozen=True)
class Location:
    path: tuple[PathElement, ...]
    span: Span | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": [{kind: item} for kind, item in self.path]}
        if self.span is not None:
            out["span"] = self.span.to_dict()
        return out

    def describe(self) -> str:
        """``Statement[0].Action[1]`` and, with text input, ``(line 5, column 8)``."""
        text = ""
        for kind, item in self.path:
            if kind == "index":
                text += f"[{item}]"
            else:
                text += f".{item}" if text else str(item)
        text = text or "policy"
        if self.span is not None:
            text += f" (line {self.span.start.line}, column {self.span.start.column + 1})"
        return text


@dataclass(frozen=True)
class Finding:
    """One problem in a policy, in Access Analyzer's terms, plus the fix and the statement."""

    finding_type: str
    issue_code: str
    finding_details: str
    learn_more_link: str
    locations: tuple[Location, ...] = ()
    statement_index: int | None = None
    sid: str | None = None
    fix: str = ""
    title: str = field(default="", compare=False)

    @property
    def statement(self) -> str | None:
        """How a learner finds the statement: its Sid, else its position (1-based)."""
        if self.sid:
            return f"Sid {self.sid!r}"
        if self.statement_index is not None:
            return f"statement {self.statement_index + 1}"
        return None

    def to_dict(self) -> dict[str, Any]:
        """The shape of one entry of ``aws accessanalyzer validate-policy``'s ``findings``."""
        return {
            "findingType": self.finding_type,
            "issueCode": self.issue_code,
            "findingDetails": self.finding_details,
            "learnMoreLink": self.learn_more_link,
            "locations": [location.to_dict() for location in self.locations],
        }

    def describe(self) -> str:
        """One line for a terminal: type, code, where, message."""
        where = self.locations[0].describe() if self.locations else "policy"
        return f"{self.finding_type} {self.issue_code} at {where}: {self.finding_details}"


def make_finding(
    code: str,
    locations: tuple[Location, ...] = (),
    statement_index: int | None = None,
    sid: str | None = None,
    **fields: Any,
) -> Finding:
    """A finding of ``code`` with its message filled from ``fields``."""
    check = CHECKS[code]
    return Finding(
        finding_type=check.finding_type,
        issue_code=code,
        finding_details=check.message.format(**fields),
        learn_more_link=check.learn_more_link,
        locations=locations,
        statement_index=statement_index,
        sid=sid,
        fix=check.fix.format(**fields),
        title=check.title,
    )
