"""A web ACL's logging configuration: load and check it, then filter and redact log records.

:func:`load_logging_configuration` reads a ``PutLoggingConfiguration`` request (or the
LoggingConfiguration inside it, or ``get_logging_configuration``'s answer) and checks it as
WAF would: the API's shapes and enums (botocore), then the service's own rules - one
destination, whose name starts with ``aws-waf-logs-``, and only the fields WAF can redact.
:func:`apply_logging_filter` keeps or drops WAF log records as a LoggingFilter says, and
blanks the redacted fields of the records it keeps.

Sources: API reference, LoggingConfiguration, LoggingFilter, Filter, Condition,
ActionCondition and LabelNameCondition (botocore's WAFv2 model); developer guide, "Logging
web ACL traffic" / "AWS WAF logging destinations" (the aws-waf-logs- prefix) and "Log
fields for web ACL traffic" (the record's fields).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from grader.aws.jsonfile import load_json
from grader.aws.waf.acl import validate_shapes
from grader.aws.waf.statements import WafConfigError, invalid

# Every log destination's name starts with this. Source: API reference, LoggingConfiguration
# ("The name that you give the destination must start with aws-waf-logs-").
DESTINATION_PREFIX = "aws-waf-logs-"

# Where the name sits in each destination type's ARN. Source: developer guide, "AWS WAF
# logging destinations": a CloudWatch Logs log group, an S3 bucket (the bucket's ARN, no
# prefix), or a Firehose delivery stream.
_DESTINATION_ARNS = (
    (
        "CloudWatch Logs log group",
        re.compile(r"^arn:aws[\w-]*:logs:[^:]*:\d{12}:log-group:([^:]+)(:\*)?$"),
    ),
    ("S3 bucket", re.compile(r"^arn:aws[\w-]*:s3:::([^/]+)$")),
    (
        "Firehose delivery stream",
        re.compile(r"^arn:aws[\w-]*:firehose:[^:]*:\d{12}:deliverystream/(.+)$"),
    ),
)

# The request fields a logging configuration can redact, and the httpRequest field each
# blanks. Source: API reference, LoggingConfiguration.RedactedFields ("You can specify only
# the following fields for redaction: UriPath, QueryString, SingleHeader, and Method").
REDACTABLE = {
    "UriPath": "uri",
    "QueryString": "args",
    "SingleHeader": "headers",
    "Method": "httpMethod",
}
REDACTED = "REDACTED"

# The record fields that list non-terminating matches, for ActionCondition (see _actions).
_NON_TERMINATING = "nonTerminatingMatchingRules"


def load_logging_configuration(path_or_dict: str | Path | Mapping[str, Any]) -> dict:
    """The PutLoggingConfiguration request (``{"LoggingConfiguration": {...}}``) in a file or
    a dict, checked; a WafConfigError with the JSON path says what WAF would refuse."""
    document: Any
    if isinstance(path_or_dict, Mapping):
        document = dict(path_or_dict)
    else:
        document = load_json(path_or_dict, what="a logging configuration in the API's JSON")
    inner = document.get("LoggingConfiguration", document)
    if not isinstance(inner, Mapping):
        raise WafConfigError(
            "LoggingConfiguration must be an object", json_path="LoggingConfiguration"
        )
    request = {"LoggingConfiguration": dict(inner)}
    validate_shapes(request, "PutLoggingConfiguration")
    _check_service_rules(request["LoggingConfiguration"])
    return request


def _check_service_rules(config: Mapping[str, Any]) -> None:
    """What the API's shapes allow but WAF's service refuses."""
    destinations = config["LogDestinationConfigs"]
    if len(destinations) != 1:
        # "You can associate one logging destination to a web ACL" (LogDestinationConfigs).
        raise invalid(
            f"You can associate one logging destination to a web ACL, not {len(destinations)}",
            "LOG_DESTINATION",
            str(len(destinations)),
            "LoggingConfiguration.LogDestinationConfigs",
        )
    arn = destinations[0]
    path = "LoggingConfiguration.LogDestinationConfigs[0]"
    for kind, pattern in _DESTINATION_ARNS:
        match = pattern.match(arn)
        if match:
            if not match.group(1).startswith(DESTINATION_PREFIX):
                raise invalid(
                    f"The {kind}'s name, {match.group(1)}, must start with {DESTINATION_PREFIX}",
                    "LOG_DESTINATION",
                    arn,
                    path,
                )
            break
    else:
        raise invalid(
            "The ARN isn't a CloudWatch Logs log group, S3 bucket or Firehose delivery stream",
            "LOG_DESTINATION",
            arn,
            path,
        )
    for i, redacted in enumerate(config.get("RedactedFields") or ()):
        for key in redacted:
            if key not in REDACTABLE:
                raise invalid(
                    f"You can only redact {', '.join(REDACTABLE)}",
                    "REDACTED_FIELDS",
                    key,
                    f"LoggingConfiguration.RedactedFields[{i}].{key}",
                )


# --- filtering --------------------------------------------------------------------------------


def _actions(record: Mapping[str, Any]) -> set[str]:
    """The actions an ActionCondition can match in a record.

    The record's own ``action`` is the terminating one (ALLOW, BLOCK, CAPTCHA, CHALLENGE);
    COUNT never terminates, so a COUNT condition can only mean the rules that counted the
    request: the non-terminating matches, at the top level and inside rule groups. A
    CAPTCHA or Challenge that found a valid token is there too. EXCLUDED_AS_COUNT "matches on
    excluded rules and also on rules that have a rule action override of Count"
    (ActionCondition): a group's ``excludedRules``, or a counted entry with an
    ``overriddenAction``. This reading of the API's text is the course's model."""
    found = {str(record.get("action", "")).upper()}
    entries = list(record.get(_NON_TERMINATING) or ())
    for group in record.get("ruleGroupList") or ():
        entries += group.get(_NON_TERMINATING) or ()
        if group.get("excludedRules"):
            found.add("EXCLUDED_AS_COUNT")
    for entry in entries:
        found.add(str(entry.get("action", "")).upper())
        if entry.get("overriddenAction"):
            found.add("EXCLUDED_AS_COUNT")
    return found


def _labels(record: Mapping[str, Any]) -> set[str]:
    return {str(label.get("name")) for label in record.get("labels") or ()}


def _condition_met(condition: Mapping[str, Any], actions: set[str], labels: set[str]) -> bool:
    if "ActionCondition" in condition:
        return str(condition["ActionCondition"].get("Action", "")).upper() in actions
    if "LabelNameCondition" in condition:
        # A fully qualified label name, compared whole (LabelNameCondition.LabelName).
        return condition["LabelNameCondition"].get("LabelName") in labels
    return False


def keeps(record: Mapping[str, Any], logging_filter: Mapping[str, Any] | None) -> bool:
    """Whether ``logging_filter`` keeps ``record``: the first filter whose conditions it
    meets (all of them for MEETS_ALL, one for MEETS_ANY) decides; DefaultBehavior for the
    rest. No filter keeps everything."""
    if not logging_filter:
        return True
    actions, labels = _actions(record), _labels(record)
    for flt in logging_filter.get("Filters") or ():
        results = [_condition_met(c, actions, labels) for c in flt.get("Conditions") or ()]
        met = all(results) if flt.get("Requirement") == "MEETS_ALL" else any(results)
        if results and met:
            return flt.get("Behavior") == "KEEP"
    return logging_filter.get("DefaultBehavior", "KEEP") == "KEEP"


def redact(record: Mapping[str, Any], redacted_fields: Sequence[Mapping[str, Any]]) -> dict:
    """A copy of ``record`` whose httpRequest has each redacted field's value replaced by
    REDACTED (a SingleHeader's by header name, case-insensitively)."""
    out = copy.deepcopy(dict(record))
    http = out.get("httpRequest")
    if not isinstance(http, dict):
        return out
    for field in redacted_fields:
        if "SingleHeader" in field:
            name = str(field["SingleHeader"].get("Name", "")).lower()
            for header in http.get("headers") or ():
                if str(header.get("name", "")).lower() == name:
                    header["value"] = REDACTED
            continue
        for key, target in REDACTABLE.items():
            if key in field and target in http:
                http[target] = REDACTED
    return out


def apply_logging_filter(
    records: Iterable[Mapping[str, Any]],
    logging_filter: Mapping[str, Any] | None,
    *,
    redacted_fields: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict]:
    """The records ``logging_filter`` keeps, in order, each redacted as ``redacted_fields``
    (a LoggingConfiguration's RedactedFields) say. The input records are not changed."""
    kept = []
    for record in records:
        if keeps(record, logging_filter):
            kept.append(redact(record, redacted_fields) if redacted_fields else dict(record))
    return kept


def apply_logging_configuration(
    records: Iterable[Mapping[str, Any]], configuration: Mapping[str, Any]
) -> list[dict]:
    """:func:`apply_logging_filter` with a whole (loaded) logging configuration's
    LoggingFilter and RedactedFields."""
    config = configuration.get("LoggingConfiguration", configuration)
    return apply_logging_filter(
        records, config.get("LoggingFilter"), redacted_fields=config.get("RedactedFields")
    )
