"""The IAM action catalog and ``grants``: which actions a policy hands out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from grader.aws.iam.catalog import ACCESS_LEVELS, Catalog, Grants, grants, load_catalog
from grader.aws.iam.model import Policy, Statement
from tests.policy_builder import make_policy


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


# --- the catalog ------------------------------------------------------------------------


def test_catalog_is_loaded_once_and_is_complete(catalog: Catalog) -> None:
    assert load_catalog() is catalog
    assert len(catalog.services()) > 400
    assert len(catalog.actions()) > 15_000
    assert list(catalog.actions()) == sorted(catalog.actions())
    assert "s3:GetObject" in catalog.actions()


def test_access_levels(catalog: Catalog) -> None:
    assert catalog.access_level("s3:GetObject") == "Read"
    assert catalog.access_level("s3:ListBucket") == "List"
    assert catalog.access_level("ec2:StartInstances") == "Write"
    assert catalog.access_level("iam:PutRolePolicy") == "Permissions management"
    assert catalog.access_level("ec2:CreateTags") == "Tagging"
    assert catalog.access_level("S3:GETOBJECT") == "Read"
    assert {catalog.access_level(a) for a in catalog.actions()} == set(ACCESS_LEVELS)
    with pytest.raises(KeyError, match="ec2:DescribeInstance"):
        catalog.access_level("ec2:DescribeInstance")


def test_services_and_known_actions(catalog: Catalog) -> None:
    assert catalog.service_name("s3") == "Amazon S3"
    assert catalog.service_name("EC2") == "Amazon EC2"
    assert catalog.service_url("s3").endswith("/list_amazons3.html")
    assert catalog.known_service("Ec2")
    assert not catalog.known_service("ec3")
    assert catalog.is_known("ec2:describeinstances")
    assert not catalog.is_known("ec2:DescribeInstance")
    assert not catalog.is_known("ec2:Describe*")
    assert catalog.canonical("S3:getobject") == "s3:GetObject"
    assert catalog.canonical("s3:NoSuchThing") is None
    with pytest.raises(KeyError):
        catalog.service_name("ec3")


def test_resource_types(catalog: Catalog) -> None:
    assert "object" in catalog.resource_types("s3:GetObject")
    assert catalog.resource_types("ec2:DescribeInstances") == ()  # needs Resource "*"


def test_expand_describe_wildcard(catalog: Catalog) -> None:
    found = catalog.expand("ec2:Describe*")
    assert len(found) > 100
    assert all(a.startswith("ec2:Describe") for a in found)
    assert "ec2:DescribeInstances" in found
    assert "ec2:StartInstances" not in found
    assert list(found) == sorted(found)
    assert catalog.expand("EC2:describe*") == found


def test_expand_is_case_insensitive_and_canonical(catalog: Catalog) -> None:
    assert catalog.expand("S3:getobject") == ("s3:GetObject",)
    assert catalog.expand("s3:GetObjec?") == ("s3:GetObject",)
    assert "s3:GetObjectTorrent" in catalog.expand("s3:getobject*")
    middle = catalog.expand("s3:Get*Tagging*")
    assert "s3:GetObjectTagging" in middle and "s3:GetObject" not in middle


def test_expand_wildcards_in_the_service_part(catalog: Catalog) -> None:
    everything = catalog.expand("*")
    assert everything == catalog.actions()
    s3_all = catalog.expand("s3:*")
    assert s3_all and all(a.startswith("s3:") for a in s3_all)
    spanning = catalog.expand("s3*")  # "*" crosses the colon: s3 and s3-object-lambda, ...
    assert set(s3_all) < set(spanning)
    assert "s3-object-lambda:GetObject" in spanning
    assert {"s3:GetObject", "s3-object-lambda:GetObject"} <= set(catalog.expand("*:GetObject"))
    assert "ec2:DescribeInstances" not in catalog.expand("*:GetObject")


def test_expand_matches_nothing(catalog: Catalog) -> None:
    assert catalog.expand("ec3:Describe*") == ()
    assert catalog.expand("ec2:DescribeInstance") == ()
    assert catalog.expand("s3:Fly*") == ()


def test_small_catalog_can_be_built_by_hand() -> None:
    tiny = Catalog([("svc", "Service", "https://example.test", {"GetA": "Read", "PutA": "Write"})])
    assert tiny.actions() == ("svc:GetA", "svc:PutA")
    assert tiny.expand("svc:*A") == ("svc:GetA", "svc:PutA")
    policy = make_policy({"Effect": "Allow", "NotAction": "svc:Put*", "Resource": "*"})
    assert list(grants(policy, tiny).actions) == ["svc:GetA"]


# --- what a policy grants --------------------------------------------------------------


def test_grants_describe_only(catalog: Catalog) -> None:
    g = grants(make_policy(allow("ec2:Describe*")))
    assert set(g.actions) == set(catalog.expand("ec2:Describe*"))
    assert list(g.by_service) == ["ec2"]
    assert set(g.by_service["ec2"]) <= {"List", "Read"}
    assert "ec2:StartInstances" not in g
    assert "EC2:DESCRIBEINSTANCES" in g
    assert g.unknown == ()


def test_not_action_allow_grants_the_complement(catalog: Catalog) -> None:
    policy = make_policy({"Effect": "Allow", "NotAction": ["iam:*", "sts:*"], "Resource": "*"})
    g = grants(policy)
    assert "s3:GetObject" in g
    assert "ec2:RunInstances" in g
    assert "iam:CreateUser" not in g
    assert "sts:AssumeRole" not in g
    removed = len(catalog.expand("iam:*")) + len(catalog.expand("sts:*"))
    assert len(g) == len(catalog.actions()) - removed


def test_unconditional_deny_removes(catalog: Catalog) -> None:
    g = grants(make_policy(allow("s3:*"), deny(["s3:Delete*", "s3:PutBucketPolicy"])))
    assert "s3:GetObject" in g
    assert "s3:DeleteObject" not in g
    assert "s3:DeleteBucket" not in g
    assert "s3:PutBucketPolicy" not in g
    assert len(g) == len(catalog.expand("s3:*")) - len(catalog.expand("s3:Delete*")) - 1


def test_deny_on_every_resource_removes_however_written() -> None:
    star_among_others = deny("s3:DeleteObject", resource=["arn:aws:s3:::a/*", "*"])
    no_resource_element = {"Effect": "Deny", "Action": "s3:DeleteBucket"}  # a trust policy's form
    g = grants(make_policy(allow("s3:*"), star_among_others, no_resource_element))
    assert "s3:DeleteObject" not in g
    assert "s3:DeleteBucket" not in g
    assert "s3:GetObject" in g


def test_deny_with_not_action_removes_the_complement() -> None:
    policy = make_policy(
        allow(["s3:*", "ec2:*"]),
        {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"},
    )
    g = grants(policy)
    assert "s3:GetObject" in g
    assert "ec2:StartInstances" not in g
    assert list(g.by_service) == ["s3"]


def test_conditional_or_scoped_deny_does_not_remove() -> None:
    conditional = deny(
        "s3:DeleteObject", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}}
    )
    scoped = deny("s3:DeleteBucket", resource="arn:aws:s3:::prod")
    not_resource = {"Effect": "Deny", "Action": "s3:PutObject", "NotResource": "arn:aws:s3:::x/*"}
    g = grants(make_policy(allow("s3:*"), conditional, scoped, not_resource))
    assert "s3:DeleteObject" in g
    assert "s3:DeleteBucket" in g
    assert "s3:PutObject" in g


def test_conditional_and_resource_limited_flags() -> None:
    tagged = {"StringEquals": {"aws:ResourceTag/team": "web"}}
    policy = make_policy(
        {"Sid": "Start", **allow("ec2:StartInstances", Condition=tagged)},
        allow("ec2:StopInstances", Condition=tagged),
        allow("ec2:StopInstances"),
        allow("s3:GetObject", resource="arn:aws:s3:::reports/*"),
        allow("s3:GetObject", resource="arn:aws:s3:::logs/*"),
        {"Effect": "Allow", "Action": "s3:PutObject", "NotResource": "arn:aws:s3:::x/*"},
        allow("ec2:DescribeInstances"),
        allow("ec2:RebootInstances"),  # broad and unconditional first, narrower after
        allow("ec2:RebootInstances", resource="arn:aws:ec2:*:*:instance/i-1", Condition=tagged),
        allow("ec2:TerminateInstances", resource="arn:aws:ec2:*:*:instance/i-1"),
        allow("ec2:TerminateInstances"),  # narrow first, broad after
    )
    g = grants(policy)
    start = g.get("ec2:startinstances")
    assert start is not None
    assert start.conditional and not start.resource_limited
    assert start.statements == ("Sid 'Start'",)
    stop = g.actions["ec2:StopInstances"]
    assert not stop.conditional  # one of its two statements has no condition
    assert stop.statements == ("statement 2", "statement 3")
    get = g.actions["s3:GetObject"]
    assert get.resource_limited and not get.conditional
    assert not g.actions["s3:PutObject"].resource_limited  # NotResource: nearly everything
    assert not g.actions["ec2:DescribeInstances"].resource_limited
    reboot = g.actions["ec2:RebootInstances"]
    assert not reboot.conditional and not reboot.resource_limited
    assert not g.actions["ec2:TerminateInstances"].resource_limited
    assert g.totals["conditional"] == 1
    assert g.totals["resource_limited"] == 1


def test_typos_and_dead_patterns_are_unknown() -> None:
    policy = make_policy(
        {"Sid": "View", **allow(["ec2:DescribeInstance", "ec2:DescribeVpcs", "ec3:Describe*"])},
        allow(["s3:Fly*", "GetObject", "s3:getobject"]),
        deny("iam:DeleteRol"),
    )
    g = grants(policy)
    found = {(u.pattern, u.effect, u.statement): u.reason for u in g.unknown}
    assert set(found) == {
        ("ec2:DescribeInstance", "Allow", "Sid 'View'"),
        ("ec3:Describe*", "Allow", "Sid 'View'"),
        ("s3:Fly*", "Allow", "statement 2"),
        ("GetObject", "Allow", "statement 2"),
        ("iam:DeleteRol", "Deny", "statement 3"),
    }
    assert (
        "has no action 'DescribeInstance'" in found[("ec2:DescribeInstance", "Allow", "Sid 'View'")]
    )
    assert "'ec3' is not an AWS service prefix" in found[("ec3:Describe*", "Allow", "Sid 'View'")]
    assert "matches no action" in found[("s3:Fly*", "Allow", "statement 2")]
    assert "service:Action" in found[("GetObject", "Allow", "statement 2")]
    assert set(g.actions) == {"ec2:DescribeVpcs", "s3:GetObject"}
    assert g.totals["unknown"] == 5


def test_by_service_and_totals(catalog: Catalog) -> None:
    g = grants(make_policy(allow(["s3:Get*", "s3:ListBucket", "s3:PutObject*", "iam:Get*"])))
    assert list(g.by_service) == ["iam", "s3"]
    s3 = g.by_service["s3"]
    assert list(s3) == [level for level in ACCESS_LEVELS if level in s3]
    assert s3["List"] == ("s3:ListBucket",)
    assert "s3:PutObject" in s3["Write"]
    assert "s3:PutObjectAcl" in s3["Permissions management"]
    assert all(list(actions) == sorted(actions) for actions in s3.values())
    totals = g.totals
    assert totals["services"] == 2
    assert totals["actions"] == len(g) == sum(totals["by_access_level"].values())
    assert totals["by_access_level"]["List"] == sum(
        len(s.get("List", ())) for s in g.by_service.values()
    )


def test_to_dict_is_json(catalog: Catalog) -> None:
    g: Grants = grants(
        make_policy(
            allow("s3:GetObject", resource="arn:aws:s3:::b/*"),
            allow("ec2:Describe*Zebra"),
            name="viewer",
        )
    )
    data = json.loads(json.dumps(g.to_dict()))
    assert data["policy"] == "viewer"
    assert data["totals"]["actions"] == 1
    entry = data["services"]["s3"]["Read"][0]
    assert entry == {
        "action": "s3:GetObject",
        "conditional": False,
        "resource_limited": True,
        "statements": ["statement 1"],
    }
    assert data["unknown"][0]["pattern"] == "ec2:Describe*Zebra"


def test_a_statement_without_actions_grants_nothing() -> None:
    policy = Policy((Statement(index=0, effect="Allow", resource=("*",)),))
    assert len(grants(policy)) == 0


def test_effects_other_than_allow_grant_nothing() -> None:
    g = grants(make_policy({"Effect": "allow", "Action": "s3:*", "Resource": "*"}))
    assert len(g) == 0  # IAM's Effect values are case-sensitive


def test_the_parsed_catalog_is_cached_between_runs_and_a_bad_cache_is_rebuilt(
    tmp_path, monkeypatch
):
    """A second process reads the cache; a corrupt cache file is replaced, not trusted."""
    import subprocess
    import sys

    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path))
    probe = "from grader.aws.iam.catalog import load_catalog; print(load_catalog().access_level('s3:GetObject'))"
    first = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    (cache,) = tmp_path.glob("iam-catalog-*.pickle")
    cache.write_bytes(b"not a pickle")
    second = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert first.stdout == second.stdout == "Read\n"
    assert cache.read_bytes() != b"not a pickle"
