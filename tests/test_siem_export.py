"""A detection's DuckDB SQL becomes Athena SQL over Athena's documented CloudTrail table."""

from __future__ import annotations

import textwrap

import pytest
import sqlglot
from sqlglot import exp

from grader.aws.errors import GraderError
from grader.aws.siem.export import ExportError, to_dialect
from grader.aws.siem.sigma import convert


def _sigma(detection: str) -> str:
    text = "title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n"
    return convert(text + textwrap.indent(textwrap.dedent(detection).strip("\n"), "  ")).sql


def _trino(sql: str) -> exp.Expression:
    """The exported SQL must parse as Trino (Athena's engine)."""
    return sqlglot.parse_one(sql, read="trino")


def _columns(tree: exp.Expression) -> set[str]:
    return {c.sql(dialect="trino").lower() for c in tree.find_all(exp.Column)}


def test_a_view_query_names_athenas_columns_and_table() -> None:
    out = to_dialect(
        "SELECT event_id, event_time, user_arn FROM cloudtrail "
        "WHERE event_source = 'iam.amazonaws.com' AND user_type = 'Root' "
        "AND NOT mfa_authenticated AND source_ip = '203.0.113.10' ORDER BY event_time"
    )
    tree = _trino(out)
    assert tree.find(exp.Table).name == "cloudtrail_logs"
    assert {
        "eventid",
        "eventtime",
        "useridentity.arn",
        "eventsource",
        "useridentity.type",
        "useridentity.sessioncontext.attributes.mfaauthenticated",
        "sourceipaddress",
    } <= _columns(tree)
    # Results keep the view's names, so a caller reads the same columns from both engines.
    assert [e.alias_or_name for e in tree.expressions] == ["event_id", "event_time", "user_arn"]
    assert "FROM_ISO8601_TIMESTAMP(eventtime)" in out


def test_the_table_name_can_be_chosen() -> None:
    out = to_dialect(
        "SELECT event_id FROM cloudtrail WHERE event_name = 'StopLogging'", table="trails"
    )
    assert _trino(out).find(exp.Table).name == "trails"


def test_record_paths_become_struct_fields_and_json_extracts() -> None:
    out = to_dialect(
        "SELECT event_id FROM cloudtrail WHERE "
        "record->>'$.userIdentity.sessionContext.sessionIssuer.arn' LIKE '%role/ci%' "
        "AND json_extract_string(record, '$.requestParameters.policyArn') = 'x' "
        "AND request_parameters->>'$.userName' = 'taro.yamada' "
        "AND json_extract_string(record, '$.eventName') = 'AttachUserPolicy'"
    )
    tree = _trino(out)
    assert "useridentity.sessioncontext.sessionissuer.arn" in _columns(tree)
    assert "eventname" in _columns(tree)
    assert "JSON_EXTRACT_SCALAR(requestparameters, '$.policyArn')" in out
    assert "JSON_EXTRACT_SCALAR(requestparameters, '$.userName')" in out
    assert "record" not in _columns(tree)


def test_a_sigma_rule_exports_with_its_array_crossing_paths_in_lax_mode() -> None:
    out = to_dialect(
        _sigma(
            """
            selection:
                eventSource: ec2.amazonaws.com
                eventName: AuthorizeSecurityGroupIngress
                requestParameters.ipPermissions.items.ipRanges.items.cidrIp: 0.0.0.0/0
                userIdentity.sessionContext.attributes.mfaAuthenticated: 'false'
            condition: selection
            """
        )
    )
    tree = _trino(out)
    assert {"eventsource", "eventname", "requestparameters"} <= _columns(tree)
    assert "lax $.ipPermissions.items.ipRanges.items.cidrIp[*]" in out
    assert "WITH ARRAY WRAPPER" in out
    assert "useridentity.sessioncontext.attributes.mfaauthenticated" in _columns(tree)
    assert "JSON_TYPE" not in out.upper() and "LIST_" not in out.upper()


def test_sigma_modifiers_export_to_trino_functions() -> None:
    out = to_dialect(
        _sigma(
            """
            a:
                userAgent|re|i: '^aws-cli/'
                sourceIPAddress|cidr: ['10.0.0.0/8', '2001:db8::/32']
                resources.ARN|contains: corp-reports
                responseElements|contains: Failure
                requestParameters.ipPermissions.items.fromPort|lte: 22
            condition: not a
            """
        )
    )
    tree = _trino(out)
    assert {"useragent", "sourceipaddress", "responseelements"} <= _columns(tree)
    assert "REGEXP_LIKE(" in out and "(?i)^aws-cli/" in out
    assert "TRANSFORM(resources, r -> r.arn)" in out
    assert "CARDINALITY(" in out


def test_the_exported_rule_keeps_the_sigma_rule_logic() -> None:
    # The same leaves and connectives in both: only names and functions change.
    sql = _sigma(
        "a: {eventName: StopLogging}\nb: {userIdentity.type: Root}\ncondition: a and not b"
    )
    tree = _trino(to_dialect(sql))
    where = tree.find(exp.Where)
    assert where.find(exp.Not) is not None and where.find(exp.And) is not None
    assert "'StopLogging'" in where.sql(dialect="trino")


@pytest.mark.parametrize(
    "sql, words",
    [
        (
            "SELECT event_id FROM cloudtrail WHERE CAST(record AS VARCHAR) LIKE '%x%'",
            "whole record",
        ),
        ("SELECT event_id, file FROM cloudtrail", "file"),
        ("SELECT event_id FROM cloudtrail WHERE delivered_at > event_time", "delivered_at"),
        (
            "SELECT event_id FROM cloudtrail WHERE record->>'$.userIdentity.credentialId' = 'x'",
            "credentialId",
        ),
        (
            "SELECT event_id FROM cloudtrail WHERE record->>'$.insightDetails' = 'x'",
            "insightDetails",
        ),
    ],
)
def test_what_athenas_table_does_not_have_is_a_clear_error(sql: str, words: str) -> None:
    with pytest.raises(ExportError, match=words) as caught:
        to_dialect(sql)
    assert isinstance(caught.value, GraderError)


def test_a_sigma_keyword_search_is_refused_for_athena() -> None:
    with pytest.raises(ExportError, match="whole record"):
        to_dialect(_sigma("k: [mimikatz]\ncondition: k"))


def test_a_sigma_time_modifier_is_refused_for_athena() -> None:
    with pytest.raises(ExportError, match="date_part"):
        to_dialect(_sigma("a: {eventTime|hour: 3}\ncondition: a"))


def test_an_unknown_dialect_is_refused() -> None:
    with pytest.raises(ExportError, match="only 'athena'"):
        to_dialect("SELECT event_id FROM cloudtrail", dialect="splunk")


def test_sql_that_is_not_duckdb_is_refused() -> None:
    with pytest.raises(ExportError, match="does not parse"):
        to_dialect("SELECT FROM WHERE (")


def test_an_aliased_table_keeps_its_alias_on_athenas_columns() -> None:
    out = to_dialect(
        "SELECT c.event_id FROM cloudtrail AS c "
        "WHERE c.event_name = 'ConsoleLogin' AND c.record->>'$.userIdentity.arn' LIKE '%:root'"
    )
    assert {"c.eventid", "c.eventname", "c.useridentity.arn"} <= _columns(_trino(out))


def test_a_cte_over_the_view_keeps_its_own_column_names() -> None:
    out = to_dialect(
        "WITH hits AS (SELECT event_id, user_arn FROM cloudtrail WHERE error_code = 'AccessDenied') "
        "SELECT user_arn, count(*) AS n FROM hits GROUP BY user_arn HAVING count(*) > 5"
    )
    tree = _trino(out)
    inner = tree.find(exp.CTE).this
    assert {"eventid", "useridentity.arn", "errorcode"} <= _columns(inner)
    outer_columns = {c.sql().lower() for c in tree.args["group"].find_all(exp.Column)}
    assert outer_columns == {"user_arn"}


def test_the_identity_provider_view_has_no_athena_table() -> None:
    with pytest.raises(ExportError, match="idp_signins"):
        to_dialect(
            "SELECT c.event_id FROM cloudtrail AS c JOIN idp_signins AS i "
            "ON i.user_name = c.user_name WHERE i.result = 'FAILURE'"
        )


def test_record_paths_keep_cloudtrails_spelling() -> None:
    # DuckDB reads '$.eventname' as a missing key; Athena's columns ignore case: refused
    # rather than turned into a query that matches what DuckDB did not.
    with pytest.raises(ExportError, match="eventname"):
        to_dialect("SELECT event_id FROM cloudtrail WHERE record->>'$.eventname' = 'x'")


def test_keys_that_need_quotes_are_quoted_for_each_json_path_flavour() -> None:
    out = to_dialect(
        "SELECT event_id FROM cloudtrail WHERE "
        "record->>'$.additionalEventData.\"x-amz-id-2\"' = 'LIST_X(' AND "
        + _sigma("a: {additionalEventData.cipher suite|startswith: ECDHE}\ncondition: a").split(
            " WHERE ", 1
        )[1]
    )
    _trino(out)
    assert "JSON_EXTRACT_SCALAR(additionaleventdata, '$[\"x-amz-id-2\"]')" in out
    assert "'lax $.\"cipher suite\"[*]'" in out
