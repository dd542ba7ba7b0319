"""The CloudTrail engine: records, their S3 layout, event-to-action mapping, policies from
activity, marker windows, and a generator of realistic trails for labs.

Pure library: it knows nothing of labs, checks or the CLI; of the rest of the grader it
uses only the IAM engine's action catalog (loaded lazily, when a policy is drafted).
"""

from grader.aws.trail.actions import (
    EventMapping,
    action_for,
    actions_for,
    check_actions,
    map_event,
    passed_roles,
)
from grader.aws.trail.generator import GeneratedTrail, generate_trail
from grader.aws.trail.layout import (
    SkippedRecord,
    TrailFileError,
    TrailRead,
    load_trail,
    log_file_key,
    parse_log_file_name,
    read_log_file,
    read_trail,
    write_trail,
)
from grader.aws.trail.markers import Marker, MarkerWindow, find_marker_windows, find_markers
from grader.aws.trail.policy import (
    PolicyDraft,
    TrailPolicyError,
    draft_policy,
    generate_policy,
    policy_document,
    resources_by_action,
    scoped_policy,
    trail_policy,
)
from grader.aws.trail.records import (
    TrailRecordError,
    error_code,
    event_time,
    is_denied,
    is_service_made,
    principal_arn,
    principal_matches,
    service_prefix,
    sort_records,
)
from grader.aws.trail.resources import resource_arns

__all__ = [
    "EventMapping",
    "GeneratedTrail",
    "Marker",
    "MarkerWindow",
    "PolicyDraft",
    "SkippedRecord",
    "TrailFileError",
    "TrailPolicyError",
    "TrailRead",
    "TrailRecordError",
    "action_for",
    "actions_for",
    "check_actions",
    "draft_policy",
    "error_code",
    "event_time",
    "find_marker_windows",
    "find_markers",
    "generate_policy",
    "generate_trail",
    "is_denied",
    "is_service_made",
    "load_trail",
    "log_file_key",
    "map_event",
    "parse_log_file_name",
    "passed_roles",
    "policy_document",
    "principal_arn",
    "principal_matches",
    "read_log_file",
    "read_trail",
    "resource_arns",
    "resources_by_action",
    "scoped_policy",
    "service_prefix",
    "sort_records",
    "trail_policy",
    "write_trail",
]
