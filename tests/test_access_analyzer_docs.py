"""The Access Analyzer page says what validation finds in its sample policies; the
validator (grader.aws.iam.validate) must find exactly that.

The samples are read from the page itself: each fenced ``json`` block, whose body is a
snippet include (``--8<-- "docs_src/..."``, resolved from the repository root as MkDocs'
pymdownx.snippets does) or the JSON itself. What the page claims for each sample is the
table below, with the sentence that claims it; a new sample on the page fails
``test_every_sample_on_the_page_has_its_claim`` until its claim is added here.
"""

from __future__ import annotations

import json
import re

import pytest

from grader.aws.iam import PolicyType
from grader.aws.iam.validate import validate_policy
from grader.aws.iam.validate.findings import CHECKS, FINDING_TYPES
from tests.conftest import COURSE, ROOT

PAGE = ROOT / "docs" / "least-privilege" / "access-analyzer.md"
FENCE = re.compile(r'^```json(?: title="(?P<title>[^"]*)")?\n(?P<body>.*?)^```$', re.M | re.S)
SNIPPET = re.compile(r'^--8<-- "(?P<path>[^"]+)"$')

# title -> (policy type, Access Analyzer resource type, the findings the page claims:
# (finding type, issue code), every one of them and nothing else)
CLAIMS: dict[str, tuple[PolicyType, str | None, set[tuple[str, str]]]] = {
    # "This bucket policy ... Validation reports `ALLOW_WITH_NOT_PRINCIPAL`."
    "docs_src/least_privilege/allow-with-notprincipal.resource.json": (
        PolicyType.RESOURCE,
        "AWS::S3::Bucket",
        {("SECURITY_WARNING", "ALLOW_WITH_NOT_PRINCIPAL")},
    ),
    # "Validation reports `PASS_ROLE_WITH_STAR_IN_RESOURCE`."
    "docs_src/least_privilege/passrole-any-role.json": (
        PolicyType.IDENTITY,
        None,
        {("SECURITY_WARNING", "PASS_ROLE_WITH_STAR_IN_RESOURCE")},
    ),
    # "The fix names the role, and with `iam:PassedToService` the one service ..."
    "docs_src/least_privilege/passrole-one-role.json": (PolicyType.IDENTITY, None, set()),
    # "This policy is valid and raises no finding at all"
    "docs_src/least_privilege/ec2-full-access.json": (PolicyType.IDENTITY, None, set()),
}


def samples() -> dict[str, str]:
    """title (or the block's position) -> the JSON text the page shows."""
    found = {}
    for n, block in enumerate(FENCE.finditer(PAGE.read_text(encoding="utf-8")), 1):
        body = block["body"].strip()
        include = SNIPPET.match(body)
        text = (ROOT / include["path"]).read_text(encoding="utf-8") if include else body
        found[block["title"] or f"json block {n}"] = text
    return found


def test_every_sample_on_the_page_has_its_claim():
    assert set(samples()) == set(CLAIMS)


@pytest.mark.parametrize("title", sorted(CLAIMS), ids=lambda t: t.rsplit("/", 1)[-1])
def test_validation_finds_exactly_what_the_page_says(title):
    policy_type, resource_type, claimed = CLAIMS[title]
    text = samples()[title]
    json.loads(text)  # the sample is JSON as shown
    findings = validate_policy(text, policy_type, resource_type=resource_type)
    assert {(f.finding_type, f.issue_code) for f in findings} == claimed, [
        f"{f.finding_type} {f.issue_code}: {f.finding_details}" for f in findings
    ]


def test_the_finding_type_table_names_codes_of_that_type():
    """The table "The four finding types" gives example issue codes per type: the validator
    knows each code, with that type."""
    rows = re.findall(r"^\| `([A-Z_]+)` \|[^|]*\| (.*) \|$", PAGE.read_text(encoding="utf-8"), re.M)
    table = {
        kind: re.findall(r"`([A-Z_]+)`", codes) for kind, codes in rows if kind in FINDING_TYPES
    }
    assert set(table) == set(FINDING_TYPES)
    for kind, codes in table.items():
        assert codes, kind
        for code in codes:
            assert code in CHECKS, code
            assert CHECKS[code].finding_type == kind, (code, CHECKS[code].finding_type, kind)


def test_read_only_access_raises_no_security_warning():
    """The page: validation does not judge how much a policy grants, so ReadOnlyAccess gets
    no security warning. (The page says "no finding" of it; it does get others: a WARNING
    for its size, over a managed policy's quota, and ERRORs for services the offline
    catalog no longer lists. The page is not this test's to change.)"""
    text = (COURSE / "labs" / "lab3" / "data" / "ReadOnlyAccess.json").read_text(encoding="utf-8")
    kinds = {f.finding_type for f in validate_policy(text, PolicyType.IDENTITY)}
    assert "SECURITY_WARNING" not in kinds
