"""The hot path: sessions (who calls, from where, with what) and their calls as templates.

A ``Session`` is one set of credentials in use: a person's SSO role session for a day, a
workload's hourly role session, an IAM user's key. Its calls (``Op``) become templates the
first time they are used; after that a call costs a few random numbers and one
%-format. ``Emitter`` owns the random generator, the time strings and the writer.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .org import Account, Ids
from .recordkit import Template, api_record
from .writer import DatasetWriter

Fill = Callable[[dict[str, str], Any], None]
_CLOCK: list[str] = []


def _clock() -> list[str]:
    if not _CLOCK:
        _CLOCK.extend(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z" for s in range(86400))
    return _CLOCK


@dataclass(frozen=True, eq=False)
class Op:
    """One kind of call: service, name, and what its record holds besides the caller."""

    source: str
    name: str
    read_only: bool = True
    params: Any = None
    response: Any = None
    resources: list[dict[str, Any]] | None = None
    data: bool = False
    extra: dict[str, Any] | None = None
    error: tuple[str, str] | None = None
    region: str | None = None  # a global service's region (iam, sts global, signin)
    fill: Fill | None = None  # sets the op's own slots (an object key, a byte count)
    version: str = "1.09"


@dataclass(eq=False)
class Session:
    """Credentials in use: identity, account, address and client."""

    identity: dict[str, Any]
    account: Account
    ip: str
    agent: str
    console: bool = False
    cli_command: bool = False  # the AWS CLI v2 adds md/command#<service>.<operation>
    invoked_by: str | None = None  # a service calling on the principal's behalf
    templates: dict[tuple[int, str], Template] = field(default_factory=dict)

    def agent_for(self, op: Op) -> str:
        if self.invoked_by:
            return self.invoked_by
        agent = self.agent
        if self.cli_command:
            service = op.source.split(".", 1)[0]
            agent = f"{agent} md/command#{service}.{_kebab(op.name)}"
        if op.source == "s3.amazonaws.com" and not self.console:
            agent = f"[{agent}]"  # S3 records the caller's user agent in brackets
        return agent

    def template(self, op: Op, region: str) -> Template:
        key = (id(op), region)
        tmpl = self.templates.get(key)
        if tmpl is None:
            error = None
            if op.error is not None:
                error = (op.error[0], op.error[1].replace("{arn}", self.identity.get("arn", "")))
            rec = api_record(
                identity=self.identity,
                source=op.source,
                name=op.name,
                region=region,
                ip=self.invoked_by or self.ip,
                agent=self.agent_for(op),
                account=self.account.id,
                params=op.params,
                response=None if error else op.response,
                read_only=op.read_only,
                error=error,
                extra=op.extra,
                resources=op.resources,
                data_event=op.data,
                console=self.console,
                tls=self.invoked_by is None,
                version=op.version,
            )
            tmpl = self.templates[key] = Template(rec)
        return tmpl


def _kebab(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i:
            out.append("-")
        out.append(ch.lower())
    return "".join(out)


class Emitter:
    """Fills templates into the writer; planted events pass through ``record``."""

    def __init__(self, writer: DatasetWriter, ids: Ids) -> None:
        self.writer = writer
        self.ids = ids
        self.rng = ids.rng
        self.clock = _clock()
        self._day = -1
        self._prefix = ""

    def time(self, ts: int) -> str:
        day = ts // 86400
        if day != self._day:
            self._day = day
            self._prefix = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%dT")
        return self._prefix + self.clock[ts % 86400]

    def uuid(self) -> str:
        x = f"{self.rng.getrandbits(128):032x}"
        return f"{x[:8]}-{x[8:12]}-4{x[13:16]}-{'89ab'[int(x[16], 16) & 3]}{x[17:20]}-{x[20:]}"

    def s3_request_id(self) -> str:
        return f"{self.rng.getrandbits(64):016X}"

    def amz_id(self) -> str:
        return base64.b64encode(self.rng.getrandbits(408).to_bytes(51, "big")).decode()

    def call(self, session: Session, op: Op, ts: int, region: str) -> str:
        """Write one call; its eventID is returned (for labels)."""
        tmpl = session.template(op, op.region or region)
        eid = self.uuid()
        vals = {
            "t": self.time(ts),
            "e": eid,
            "r": self.s3_request_id() if tmpl.s3 else self.uuid(),
        }
        if op.fill is not None:
            op.fill(vals, self)
        self.writer.bucket(ts, session.account.id, op.region or region).append(
            (ts, tmpl.fmt % vals)
        )
        return eid

    def record(self, ts: int, rec: dict[str, Any]) -> str:
        """Write a whole record (a planted or rare event); its eventID is returned."""
        eid = self.uuid()
        rec["eventTime"] = self.time(ts)
        rec["eventID"] = eid
        if "requestID" in rec:
            s3 = rec.get("eventSource") == "s3.amazonaws.com"
            rec["requestID"] = self.s3_request_id() if s3 else self.uuid()
        text = json.dumps(rec, separators=(",", ":"), ensure_ascii=False)
        self.writer.add(ts, rec["recipientAccountId"], rec["awsRegion"], text)
        return eid
