"""The attacks the generator plants and the look-alikes that trap naive rules, as data.

Techniques are from MITRE ATT&CK's cloud (IaaS) matrix, https://attack.mitre.org/matrices/
enterprise/cloud/iaas/; the API calls that show each one are CloudTrail's own event names
("CloudTrail record contents" and the services' "Logging ... API calls with CloudTrail"
pages). Each row's comment says what a record of it looks like.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    id: str
    technique: str
    title: str
    # Other techniques ATT&CK's own text also fits (either is a right answer).
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lookalike:
    id: str
    traps: str  # the scenario a naive rule for which fires on this benign activity
    title: str


SCENARIOS: tuple[Scenario, ...] = (
    # T1078.004 Valid Accounts: Cloud Accounts. An IAM user's long-term key (AKIA...) used
    # from an address and with a client its owner never used.
    Scenario("leaked-access-key", "T1078.004", "Leaked access key used from a new network"),
    # T1078.004. signin.amazonaws.com ConsoleLogin by an IAM user with
    # additionalEventData.MFAUsed = "No".
    Scenario("console-login-without-mfa", "T1078.004", "Console sign-in without MFA"),
    # T1078.004. userIdentity.type = "Root" (sign-in and calls).
    # ATT&CK's Default Accounts (T1078.001) names "the root user account in AWS" among its
    # examples (ATT&CK 16.1, T1078.001's description), so it is as right as Cloud Accounts.
    Scenario("root-account-use", "T1078.004", "Root user activity", also=("T1078.001",)),
    # T1580 Cloud Infrastructure Discovery. Describe*/List*/Get* across many regions in
    # minutes (ec2 DescribeInstances, DescribeRegions, s3 ListBuckets, iam ListUsers).
    Scenario("discovery-burst-across-regions", "T1580", "Discovery burst across regions"),
    # T1098.001 Account Manipulation: Additional Cloud Credentials. iam CreateAccessKey or
    # CreateLoginProfile whose requestParameters.userName is not the caller.
    Scenario(
        "credentials-created-for-another-user",
        "T1098.001",
        "Access key or login profile created for another user",
    ),
    # T1098.003 Account Manipulation: Additional Cloud Roles. iam AttachUserPolicy /
    # AttachRolePolicy with policyArn .../AdministratorAccess; PutUserPolicy with an inline
    # policyDocument allowing Action "*" on Resource "*".
    Scenario("admin-policy-attached", "T1098.003", "Administrator policy attached"),
    # T1562.008 Impair Defenses: Disable or Modify Cloud Logs. cloudtrail StopLogging /
    # DeleteTrail, guardduty DeleteDetector / UpdateDetector with enable = false.
    Scenario(
        "cloudtrail-stopped-or-guardduty-disabled",
        "T1562.008",
        "CloudTrail stopped or deleted, GuardDuty disabled",
    ),
    # T1530 Data from Cloud Storage. S3 data events: a burst of GetObject by one principal.
    Scenario("object-exfiltration-burst", "T1530", "Object exfiltration burst"),
    # T1537 Transfer Data to Cloud Account. ec2 ModifySnapshotAttribute adding another
    # account's createVolumePermission; s3 PutBucketPolicy granting another account.
    Scenario("resource-shared-outside", "T1537", "Bucket or snapshot shared outside"),
    # T1578.002 Modify Cloud Compute Infrastructure: Create Cloud Instance. ec2 RunInstances
    # in regions the organization does not use.
    Scenario("instances-in-unused-regions", "T1578.002", "Instances launched in unused regions"),
    # T1562.007 Impair Defenses: Disable or Modify Cloud Firewall. ec2
    # AuthorizeSecurityGroupIngress with port 22 from 0.0.0.0/0 or ::/0.
    Scenario("ssh-open-to-world", "T1562.007", "SSH opened to the world"),
)
SCENARIO_IDS = tuple(s.id for s in SCENARIOS)
BY_ID = {s.id: s for s in SCENARIOS}

LOOKALIKES: tuple[Lookalike, ...] = (
    # An administrator (SSO session, office network) runs CreateUser, CreateLoginProfile and
    # CreateAccessKey for a new hire: another user's credentials, but onboarding.
    Lookalike(
        "onboarding-new-hire",
        "credentials-created-for-another-user",
        "An administrator creates a new hire's user, password and access key",
    ),
    # The CI role (GitHub Actions OIDC) deploys and launches instances in us-east-1, a
    # region people rarely use but the organization does.
    Lookalike("ci-in-another-region", "instances-in-unused-regions", "CI deploys in us-east-1"),
    # An IAM Identity Center console sign-in: MFA happened at the IdP, so AWS records
    # MFAUsed "No" and the session's mfaAuthenticated "false" all the same.
    Lookalike(
        "sso-console-login", "console-login-without-mfa", "Console sign-in through SSO with MFA"
    ),
    # UpdateTrail and PutEventSelectors by the security team: the trail changes, logging
    # goes on.
    Lookalike(
        "trail-updated-not-stopped",
        "cloudtrail-stopped-or-guardduty-disabled",
        "A trail updated, not stopped",
    ),
    # The data pipeline's role reads thousands of objects every night.
    Lookalike(
        "pipeline-batch-read", "object-exfiltration-burst", "A data pipeline's nightly batch read"
    ),
    # The security account's posture scanner describes every region every day.
    Lookalike(
        "posture-scan-all-regions",
        "discovery-burst-across-regions",
        "The posture scanner's daily sweep of every region",
    ),
    # An SSO administrator attaches AdministratorAccess-Amplify or
    # -AWSElasticBeanstalk to a deployment role: real AWS managed policies (IAM's "AWS
    # managed policies" list) whose names begin like AdministratorAccess's, what a LIKE
    # 'AdministratorAccess%' also matches.
    Lookalike(
        "managed-policy-named-like-admin",
        "admin-policy-attached",
        "An administrator attaching an AWS managed policy whose name starts with "
        "AdministratorAccess",
    ),
    # An SSO administrator's PutRolePolicy granting s3:GetObject on one bucket: an inline
    # policy, but scoped ("PutRolePolicy", IAM API Reference).
    Lookalike(
        "scoped-inline-policy",
        "admin-policy-attached",
        "An administrator adding a scoped inline policy to a role",
    ),
    # The security team's CLI UpdateDetector with findingPublishingFrequency only: the
    # detector changes, it stays enabled ("UpdateDetector", GuardDuty API Reference).
    Lookalike(
        "detector-changed-not-disabled",
        "cloudtrail-stopped-or-guardduty-disabled",
        "The security team changing GuardDuty's publishing frequency (still enabled)",
    ),
    # An IAM user's CreateAccessKey naming themselves (the CLI's --user-name, "Rotating
    # access keys", IAM User Guide): a key made, but for the caller.
    Lookalike(
        "own-access-key-rotated",
        "credentials-created-for-another-user",
        "An IAM user rotating their own access key",
    ),
    # An IAM user (a developer with IAM rights in prod) attaching AWS managed policies that
    # are not AdministratorAccess (ReadOnlyAccess to an audit role, IAMUserChangePassword
    # to themselves): the intruder's call names, the intruder's kind of caller, another
    # policy. Traps a rule that never reads policyArn.
    Lookalike(
        "iam-user-attaches-other-policies",
        "admin-policy-attached",
        "A developer's IAM user attaching managed policies that are not AdministratorAccess",
    ),
    # The same developer downloading reports one by one through an afternoon (GetObject
    # every few minutes, never a burst): an IAM user's key reading S3 objects. Traps a rule
    # that flags IAM users' reads without counting them in a window.
    Lookalike(
        "iam-user-reads-reports",
        "object-exfiltration-burst",
        "A developer's IAM user reading report objects one by one over an afternoon",
    ),
)
LOOKALIKE_IDS = tuple(x.id for x in LOOKALIKES)

# The intrusion told in the hunt: which scenarios it is made of, in order.
HUNT_SCENARIOS = (
    "leaked-access-key",
    "discovery-burst-across-regions",
    "credentials-created-for-another-user",
    "object-exfiltration-burst",
    "admin-policy-attached",
)
