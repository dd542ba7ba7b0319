"""Which IAM service prefix an event source belongs to.

A CloudTrail record names the service by its endpoint (``eventSource``), and for most
services the host's first label is the IAM prefix (``ec2.amazonaws.com`` -> ``ec2``). The
table below lists the endpoints where it is not, so that a policy generated from a trail uses
the prefix IAM knows. Services whose endpoint and prefix agree are not listed (checked for
``elasticloadbalancing``, ``execute-api``, ``logs``, ``states``, ``es``, ``sso``, ``kms``,
``lambda``, ``cloudformation``, ``ssm``, ``ecr``, ``secretsmanager``).
"""

from __future__ import annotations

# The Service Authorization Reference gives each service's prefix
# (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html);
# each service's "Logging ... API calls with AWS CloudTrail" page gives its eventSource.
EVENT_SOURCE_PREFIX: dict[str, str] = {
    # CloudWatch's API endpoint is monitoring.<region>.amazonaws.com; its prefix is cloudwatch.
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/logging_cw_api_calls.html
    "monitoring.amazonaws.com": "cloudwatch",
    # SES's API endpoint is email.<region>.amazonaws.com (records usually say ses.amazonaws.com).
    # https://docs.aws.amazon.com/ses/latest/dg/logging-using-cloudtrail.html
    "email.amazonaws.com": "ses",
    # The Resource Groups Tagging API: endpoint tagging, prefix tag.
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonresourcegrouptaggingapi.html
    "tagging.amazonaws.com": "tag",
    # Cloud Control API's actions are cloudformation:CreateResource, GetResource, ...
    # https://docs.aws.amazon.com/cloudcontrolapi/latest/userguide/security.html
    "cloudcontrolapi.amazonaws.com": "cloudformation",
    # Pinpoint's prefix is mobiletargeting.
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonpinpoint.html
    "pinpoint.amazonaws.com": "mobiletargeting",
    # Lex and SageMaker runtime endpoints share their service's prefix.
    # https://docs.aws.amazon.com/lexv2/latest/dg/cloudtrail.html
    "models.lex.amazonaws.com": "lex",
    "runtime.lex.amazonaws.com": "lex",
    # https://docs.aws.amazon.com/sagemaker/latest/dg/logging-using-cloudtrail.html
    "runtime.sagemaker.amazonaws.com": "sagemaker",
}

_SUFFIX = ".amazonaws.com"


def prefix_for_source(event_source: str) -> str:
    """The IAM service prefix of an ``eventSource`` (``monitoring.amazonaws.com`` -> ``cloudwatch``)."""
    source = event_source.strip().lower()
    mapped = EVENT_SOURCE_PREFIX.get(source)
    if mapped is not None:
        return mapped
    host = source[: -len(_SUFFIX)] if source.endswith(_SUFFIX) else source
    return host.split(".", 1)[0]
