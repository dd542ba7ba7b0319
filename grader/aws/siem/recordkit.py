"""CloudTrail records in CloudTrail's own shape, and fast templates for the many alike.

A record is built once as a dict (the field order of "CloudTrail record contents" in the
CloudTrail User Guide) and serialized once into a ``Template``: a %-format string in which
only what changes from call to call (time, IDs, an object key, a byte count) is left open.
Filling a template costs a fraction of ``json.dumps``, which is what lets the baseline run
at hundreds of thousands of events per second. Planted (labelled) events are few and are
serialized whole with ``json.dumps``; both give the same JSON layout.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .org import Account, Person, Role, SsoRole

_SLOT = re.compile(r'"\\u0002(\w)"|\\u0001(\w)')
DUMP = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def slot(name: str) -> str:
    """A placeholder for a string-valued part that changes per event (inside any string)."""
    return "\x01" + name


def raw_slot(name: str) -> str:
    """A placeholder for a whole JSON value (a number) that changes per event."""
    return "\x02" + name


class Template:
    """A record serialized once; ``fill(values)`` gives its JSON with the slots filled.

    Every template has the slots ``t`` (eventTime), ``e`` (eventID) and ``r`` (requestID);
    ``s3`` says the requestID is S3's 16 hex digits rather than a UUID.
    """

    __slots__ = ("fmt", "s3")

    def __init__(self, record: dict[str, Any]) -> None:
        record["eventTime"] = slot("t")
        record["eventID"] = slot("e")
        self.s3 = record.get("eventSource") == "s3.amazonaws.com" and "requestID" in record
        if "requestID" in record:
            record["requestID"] = slot("r")
        text = DUMP(record).replace("%", "%%")
        self.fmt = _SLOT.sub(lambda m: f"%({m.group(1) or m.group(2)})s", text)


def identity_user(person: Person, account: Account) -> dict[str, Any]:
    """An IAM user calling with its long-term key (``AKIA...``)."""
    return {
        "type": "IAMUser",
        "principalId": person.user_id,
        "arn": f"arn:aws:iam::{account.id}:user/{person.login}",
        "accountId": account.id,
        "accessKeyId": person.access_key,
        "userName": person.login,
    }


def identity_user_console(
    person: Person, account: Account, key: str, created: str, *, mfa: bool = True
) -> dict[str, Any]:
    """An IAM user in the console: a session key and its sign-in's MFA state."""
    return {
        **identity_user(person, account),
        "accessKeyId": key,
        "sessionContext": {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {"creationDate": created, "mfaAuthenticated": "true" if mfa else "false"},
        },
    }


def identity_role(
    role: Role | SsoRole,
    session: str,
    key: str,
    created: str,
    *,
    mfa: bool = False,
    web_identity: str | None = None,
    invoked_by: str | None = None,
) -> dict[str, Any]:
    """An assumed-role session: SSO permission sets, workloads, service-linked roles."""
    name = role.role_name if isinstance(role, SsoRole) else role.name
    account = role.account.id
    ident: dict[str, Any] = {
        "type": "AssumedRole",
        "principalId": f"{role.role_id}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{name}/{session}",
        "accountId": account,
        "accessKeyId": key,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role.role_id,
                "arn": role.arn,
                "accountId": account,
                "userName": name,
            },
            "webIdFederationData": (
                {"federatedProvider": web_identity, "attributes": {}} if web_identity else {}
            ),
            "attributes": {
                "creationDate": created,
                "mfaAuthenticated": "true" if mfa else "false",
            },
        },
    }
    if invoked_by:
        ident["invokedBy"] = invoked_by
    return ident


def identity_root(account: Account, key: str = "") -> dict[str, Any]:
    ident: dict[str, Any] = {
        "type": "Root",
        "principalId": account.id,
        "arn": f"arn:aws:iam::{account.id}:root",
        "accountId": account.id,
    }
    if key:
        ident["accessKeyId"] = key
    return ident


def identity_service(service: str) -> dict[str, Any]:
    return {"type": "AWSService", "invokedBy": service}


def host_for(source: str, region: str) -> str:
    service = source.split(".", 1)[0]
    if service == "iam":
        return "iam.amazonaws.com"
    return f"{service}.{region}.amazonaws.com"


def api_record(
    *,
    identity: dict[str, Any],
    source: str,
    name: str,
    region: str,
    ip: str,
    agent: str,
    account: str,
    params: Any = None,
    response: Any = None,
    read_only: bool = True,
    error: tuple[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    resources: list[dict[str, Any]] | None = None,
    data_event: bool = False,
    console: bool = False,
    tls: bool = True,
    event_type: str = "AwsApiCall",
    version: str = "1.09",
) -> dict[str, Any]:
    """A record with CloudTrail's fields in CloudTrail's order (time and IDs left open)."""
    rec: dict[str, Any] = {
        "eventVersion": "1.10" if data_event else version,
        "userIdentity": identity,
        "eventTime": "",
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": agent,
    }
    if error:
        rec["errorCode"], rec["errorMessage"] = error
    rec["requestParameters"] = params
    rec["responseElements"] = response
    if extra is not None:
        rec["additionalEventData"] = extra
    rec["requestID"] = ""
    rec["eventID"] = ""
    rec["readOnly"] = read_only
    if resources:
        rec["resources"] = resources
    rec["eventType"] = event_type
    rec["managementEvent"] = not data_event
    rec["recipientAccountId"] = account
    rec["eventCategory"] = "Data" if data_event else "Management"
    if tls:
        rec["tlsDetails"] = {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": host_for(source, region),
        }
    if console:
        rec["sessionCredentialFromConsole"] = "true"
    return rec


def console_login(
    *,
    identity: dict[str, Any],
    account: str,
    ip: str,
    agent: str,
    success: bool = True,
    mfa_used: str | None = "Yes",
    sso: bool = False,
) -> dict[str, Any]:
    """A ``ConsoleLogin`` (eventType ``AwsConsoleSignIn``; "AWS Management Console sign-in
    events" in the CloudTrail User Guide). A federated sign-in (``sso=True``: IAM Identity
    Center, SAML) says ``MFAUsed: "No"`` even when the identity provider asked for MFA: AWS
    did not see it (the AWS CLI's own ``lookup-events`` example shows an AssumedRole
    ConsoleLogin with ``"MFAUsed": "No"``, and vendors' "console login without MFA" rules
    leave SAML/SSO sign-ins out for that reason). ``mfa_used=None`` leaves the key out."""
    extra: dict[str, Any] = {
        "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
        "MobileVersion": "No",
    }
    if sso:
        extra = {"MobileVersion": "No"}
    if mfa_used is not None:
        extra["MFAUsed"] = mfa_used
    rec: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": "",
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1",
        "sourceIPAddress": ip,
        "userAgent": agent,
    }
    if not success:
        rec["errorMessage"] = "Failed authentication"
    rec["requestParameters"] = None
    rec["responseElements"] = {"ConsoleLogin": "Success" if success else "Failure"}
    rec["additionalEventData"] = extra
    rec["eventID"] = ""
    rec["readOnly"] = False
    rec["eventType"] = "AwsConsoleSignIn"
    rec["managementEvent"] = True
    rec["recipientAccountId"] = account
    rec["eventCategory"] = "Management"
    rec["tlsDetails"] = {
        "tlsVersion": "TLSv1.3",
        "cipherSuite": "TLS_AES_128_GCM_SHA256",
        "clientProvidedHostHeader": "signin.aws.amazon.com",
    }
    return rec
