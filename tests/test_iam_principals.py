"""Principals: parsing a caller, matching Principal/NotPrincipal elements, derived keys."""

from __future__ import annotations

import pytest

from grader.aws.iam.principals import (
    ACCOUNT,
    ANONYMOUS,
    CANONICAL_USER,
    DIRECT,
    FEDERATED_USER,
    PROVIDER,
    ROLE,
    ROLE_SESSION,
    ROOT,
    SERVICE,
    USER,
    InvalidPrincipalError,
    Principal,
    compile_principal,
    parse_principal,
    principal_context,
)

A = "111122223333"
B = "444455556666"
USER_ARN = f"arn:aws:iam::{A}:user/alice"
ROLE_ARN = f"arn:aws:iam::{A}:role/dev"
SESSION_ARN = f"arn:aws:sts::{A}:assumed-role/dev/alice"
FED_ARN = f"arn:aws:sts::{A}:federated-user/bob"


# --- parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,kind,account,name",
    [
        (USER_ARN, USER, A, "alice"),
        (f"arn:aws:iam::{A}:user/team/a/alice", USER, A, "alice"),
        (ROLE_ARN, ROLE_SESSION, A, "dev"),
        (SESSION_ARN, ROLE_SESSION, A, "dev"),
        (FED_ARN, FEDERATED_USER, A, "bob"),
        (f"arn:aws:iam::{A}:root", ROOT, A, None),
        (A, ROOT, A, None),
        ("cloudfront.amazonaws.com", SERVICE, None, "cloudfront.amazonaws.com"),
        ("accounts.google.com", PROVIDER, None, "accounts.google.com"),
        (f"arn:aws:iam::{A}:saml-provider/Okta", PROVIDER, A, "Okta"),
        ("a" * 64, CANONICAL_USER, None, "a" * 64),
        (None, ANONYMOUS, None, None),
        ("", ANONYMOUS, None, None),
    ],
)
def test_parse_principal_types_each_form(value, kind, account, name):
    p = parse_principal(value)
    assert (p.kind, p.account, p.name) == (kind, account, name)


def test_a_session_arn_keeps_its_session_name_and_knows_its_role():
    p = parse_principal(SESSION_ARN)
    assert p.session == "alice" and p.is_session
    assert p.role_arn == ROLE_ARN


def test_a_role_arn_as_caller_is_a_session_of_unknown_name():
    p = parse_principal(f"arn:aws:iam::{A}:role/ops/dev")
    assert p.session is None and p.role_arn == f"arn:aws:iam::{A}:role/ops/dev"


@pytest.mark.parametrize(
    "bad", ["alice", "arn:aws:s3:::bucket", f"arn:aws:iam::{A}:group/g", "12345"]
)
def test_parse_principal_rejects_what_is_not_a_principal(bad):
    with pytest.raises(ValueError, match="not a principal"):
        parse_principal(bad)


# --- Principal element ------------------------------------------------------------------


def grant(element, caller):
    p = caller if isinstance(caller, Principal) else parse_principal(caller)
    return compile_principal(element).grant(p)


@pytest.mark.parametrize("element", ["*", {"AWS": "*"}])
def test_star_names_everyone_including_anonymous_and_services(element):
    for caller in (USER_ARN, SESSION_ARN, f"arn:aws:iam::{B}:user/x", None, "s3.amazonaws.com"):
        assert grant(element, caller) == DIRECT


@pytest.mark.parametrize("account", [A, f"arn:aws:iam::{A}:root"])
def test_an_account_names_all_its_principals_but_only_by_delegation(account):
    element = {"AWS": account}
    for caller in (USER_ARN, SESSION_ARN, FED_ARN, f"arn:aws:iam::{A}:root"):
        assert grant(element, caller) == ACCOUNT
    assert grant(element, f"arn:aws:iam::{B}:user/alice") is None
    assert grant(element, None) is None


def test_a_role_arn_names_its_sessions_as_the_role_and_a_session_arn_names_one_session():
    assert grant({"AWS": ROLE_ARN}, SESSION_ARN) == ROLE
    assert grant({"AWS": SESSION_ARN}, SESSION_ARN) == DIRECT
    assert grant({"AWS": SESSION_ARN}, f"arn:aws:sts::{A}:assumed-role/dev/mallory") is None
    assert grant({"AWS": ROLE_ARN}, f"arn:aws:sts::{A}:assumed-role/ops/alice") is None


def test_a_role_arn_with_a_path_still_names_the_sessions_of_that_role():
    assert grant({"AWS": f"arn:aws:iam::{A}:role/team/dev"}, SESSION_ARN) == ROLE


def test_the_strongest_naming_wins():
    element = {"AWS": [A, ROLE_ARN, SESSION_ARN]}
    assert grant(element, SESSION_ARN) == DIRECT
    assert grant({"AWS": [A, ROLE_ARN]}, SESSION_ARN) == ROLE


def test_a_user_arn_names_the_user_and_its_federated_sessions_as_capped():
    assert grant({"AWS": USER_ARN}, USER_ARN) == DIRECT
    assert grant({"AWS": f"arn:aws:iam::{A}:user/bob"}, USER_ARN) is None
    fed = Principal(FEDERATED_USER, FED_ARN, A, "bob", source_user=USER_ARN)
    assert grant({"AWS": USER_ARN}, fed) == ROLE
    assert grant({"AWS": FED_ARN}, fed) == DIRECT


def test_service_federated_and_canonical_user_keys():
    assert grant({"Service": "cloudfront.amazonaws.com"}, "cloudfront.amazonaws.com") == DIRECT
    assert grant({"Service": ["cloudtrail.amazonaws.com"]}, "cloudfront.amazonaws.com") is None
    assert grant({"Service": "cloudfront.amazonaws.com"}, USER_ARN) is None
    assert grant({"AWS": A}, "cloudfront.amazonaws.com") is None
    assert grant({"Federated": "accounts.google.com"}, "accounts.google.com") == DIRECT
    assert grant({"CanonicalUser": "b" * 64}, "b" * 64) == DIRECT
    assert grant({"CanonicalUser": "b" * 64}, "c" * 64) is None


def test_a_unique_id_left_by_a_deleted_user_matches_only_that_id():
    element = {"AWS": "AIDAEXAMPLEID"}
    assert (
        grant(element, Principal(USER, USER_ARN, A, "alice", unique_id="AIDAEXAMPLEID")) == DIRECT
    )
    assert grant(element, USER_ARN) is None


@pytest.mark.parametrize(
    "element",
    [{"AWS": "arn:aws:s3:::bucket"}, {"People": "alice"}, {"AWS": 12}, {}, "someone"],
)
def test_invalid_principal_elements_are_rejected(element):
    with pytest.raises(InvalidPrincipalError, match="Invalid principal"):
        compile_principal(element)


# --- NotPrincipal with Deny: every identity in the chain must be listed ------------------


def lists_all(element, caller):
    return compile_principal(element).lists_all(parse_principal(caller))


def test_not_principal_deny_exempts_a_session_only_with_session_role_and_account():
    full = {"AWS": [SESSION_ARN, ROLE_ARN, f"arn:aws:iam::{A}:root"]}
    assert lists_all(full, SESSION_ARN)
    assert not lists_all({"AWS": [SESSION_ARN, f"arn:aws:iam::{A}:root"]}, SESSION_ARN)
    assert not lists_all({"AWS": [SESSION_ARN, ROLE_ARN]}, SESSION_ARN)
    assert not lists_all(full, f"arn:aws:sts::{A}:assumed-role/dev/other")


def test_not_principal_deny_exempts_a_user_only_with_the_account_listed():
    assert lists_all({"AWS": [USER_ARN, A]}, USER_ARN)
    assert not lists_all({"AWS": USER_ARN}, USER_ARN)
    assert not lists_all({"AWS": [A]}, USER_ARN)


def test_not_principal_deny_never_exempts_anonymous_unless_star():
    assert not lists_all({"AWS": [USER_ARN, A]}, None)
    assert lists_all({"Service": "cloudtrail.amazonaws.com"}, "cloudtrail.amazonaws.com")


# --- derived context keys ---------------------------------------------------------------


def keys(caller):
    p = caller if isinstance(caller, Principal) else parse_principal(caller)
    return {k: v[0] for k, v in principal_context(p).items()}


def test_keys_of_an_iam_user():
    assert keys(Principal(USER, USER_ARN, A, "alice", unique_id="AIDAX")) == {
        "aws:principalarn": USER_ARN,
        "aws:principalaccount": A,
        "aws:principaltype": "User",
        "aws:username": "alice",
        "aws:userid": "AIDAX",
        "aws:principalisawsservice": "false",
    }


def test_keys_of_a_role_session_use_the_role_arn_and_no_username():
    got = keys(SESSION_ARN)
    assert got["aws:principalarn"] == ROLE_ARN
    assert got["aws:principaltype"] == "AssumedRole"
    assert "aws:username" not in got and "aws:userid" not in got  # role ID unknown
    with_id = Principal(ROLE_SESSION, SESSION_ARN, A, "dev", "alice", unique_id="AROAX")
    assert keys(with_id)["aws:userid"] == "AROAX:alice"


def test_keys_of_root_federated_anonymous_and_service():
    root = keys(f"arn:aws:iam::{A}:root")
    assert root["aws:principaltype"] == "Account" and root["aws:userid"] == A
    fed = keys(FED_ARN)
    assert fed["aws:principaltype"] == "FederatedUser" and fed["aws:userid"] == f"{A}:bob"
    assert keys(None) == {
        "aws:principalaccount": "anonymous",
        "aws:principaltype": "Anonymous",
        "aws:userid": "anonymous",
    }
    service = keys("cloudfront.amazonaws.com")
    assert service == {
        "aws:principalisawsservice": "true",
        "aws:principalservicename": "cloudfront.amazonaws.com",
    }
