"""The offline AWS: moto behind fake credentials, and a guard that refuses the network.

Two promises to the learner: nothing they grade here ever reaches AWS, and their own
credentials are never seen. So the environment is scrubbed of every ``AWS_*`` variable and
profile before boto3 is imported, boto3 gets fixed fake keys, and a Python audit hook
refuses any connection or name lookup that is not loopback, naming the host it refused.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import os
import sys
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_REGION = "ap-northeast-1"
FAKE_ACCOUNT = "123456789012"  # moto's default account id
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# Names under which boto3/botocore would otherwise find real credentials or endpoints.
_SCRUB_PREFIXES = ("AWS_", "BOTO_")
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class OfflineError(ConnectionRefusedError):
    """Raised in place of a connection to anything but loopback."""


def scrub_environment(
    environ: MutableMapping[str, str] | None = None, *, region: str = DEFAULT_REGION
) -> dict[str, str]:
    """Remove the learner's AWS settings and put fake ones in their place.

    Returns what was removed, so a caller can restore it. Config and credential files
    point at an empty file, so no profile (and no ``credential_process``) is ever read.
    """
    env = os.environ if environ is None else environ
    removed = {k: env.pop(k) for k in [k for k in env if k.startswith(_SCRUB_PREFIXES)]}
    env.update(FAKE_CREDENTIALS)
    env["AWS_DEFAULT_REGION"] = region
    env["AWS_REGION"] = region
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env["AWS_EC2_METADATA_DISABLED"] = "true"  # never ask 169.254.169.254 for a role
    env["MOTO_ALLOW_NONEXISTENT_REGION"] = "false"
    return removed


def is_loopback(host: Any) -> bool:
    """Whether a socket address's host part is this machine."""
    if host is None:
        return True  # getaddrinfo(None, port): the local wildcard address
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%", 1)[0].lower()
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        addr = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(addr, "ipv4_mapped", None)
    return addr.is_loopback or bool(mapped and mapped.is_loopback)


@dataclass
class NetworkGuard:
    """Refuses non-loopback connections while active. One per process (audit hooks stay)."""

    active: bool = False
    refused: list[str] = field(default_factory=list)
    log_path: str | None = None

    def hook(self, event: str, args: tuple) -> None:
        if not self.active:
            return
        if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
            address = args[1] if len(args) > 1 else None
            if not isinstance(address, tuple):
                return  # AF_UNIX paths and the like never leave the machine
            host, port = address[0], address[1] if len(address) > 1 else None
        elif event == "socket.getaddrinfo":
            host, port = args[0], args[1]
        else:
            return
        ok = is_loopback(host)
        target = f"{host}:{port}" if port is not None else str(host)
        if self.log_path:
            with open(self.log_path, "a", encoding="utf-8") as log:
                log.write(f"{'allowed' if ok else 'refused'} {event} {target}\n")
        if not ok:
            self.refused.append(target)
            raise OfflineError(
                f"the grader works offline and refused a connection to {target}; "
                "nothing here may reach AWS or any other host"
            )


_GUARD: NetworkGuard | None = None


def network_guard() -> NetworkGuard:
    """The process's guard, installed on first use (an audit hook cannot be removed)."""
    global _GUARD
    if _GUARD is None:
        _GUARD = NetworkGuard(log_path=os.environ.get("GRADER_NETWORK_LOG") or None)
        sys.addaudithook(_GUARD.hook)
    return _GUARD


@contextlib.contextmanager
def offline(region: str = DEFAULT_REGION) -> Iterator[NetworkGuard]:
    """Scrubbed environment and network guard, restored on exit."""
    saved = dict(os.environ)
    scrub_environment(region=region)
    guard = network_guard()
    was_active, guard.active = guard.active, True
    try:
        yield guard
    finally:
        guard.active = was_active
        os.environ.clear()
        os.environ.update(saved)


class Sandbox:
    """An offline AWS account: moto's ``mock_aws`` and one reused boto3 session."""

    def __init__(self, region: str = DEFAULT_REGION):
        self.region = region
        self.account = FAKE_ACCOUNT
        self._session = None
        self._clients: dict[str, Any] = {}
        self.shares_default_session = False  # see _moto_shares_the_session

    def client(self, service: str) -> Any:
        """A boto3 client for the sandbox (clients are cached: each costs ~60 ms)."""
        if service not in self._clients:
            if self._session is None:
                import boto3  # heavy: only when a check needs AWS

                self._session = boto3.session.Session(
                    region_name=self.region,
                    **{
                        "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                        "aws_session_token": FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
                    },
                )
                if self.shares_default_session:
                    boto3.DEFAULT_SESSION = self._session
            self._clients[service] = self._session.client(service)
        return self._clients[service]

    def credentials(self) -> Any:
        """The credentials boto3 resolved (for tests proving the learner's are never used)."""
        self.client("sts")
        return self._session.get_credentials()


@contextlib.contextmanager
def sandbox(region: str = DEFAULT_REGION) -> Iterator[Sandbox]:
    """Offline and mocked: every boto3 call inside goes to moto, nothing leaves the machine."""
    with offline(region):
        from moto import mock_aws  # heavy: only when a check needs AWS

        with mock_aws(), _one_moto_loader():
            box = Sandbox(region)
            with _moto_shares_the_session(box):
                yield box


@contextlib.contextmanager
def _moto_shares_the_session(box: Sandbox) -> Iterator[None]:
    """moto answers a service's first request by reading the service's routes from a new
    client it makes with ``boto3.client(...)``: boto3's default session, a fresh botocore
    session that loads the service model all over again (~0.13 s for CloudFront). Made
    the sandbox's own session (fake credentials, the sandbox's Region) for the sandbox's
    life, that client reuses what the sandbox's clients loaded already."""
    import boto3

    saved = boto3.DEFAULT_SESSION
    box.shares_default_session = True  # the session is made with the first client
    try:
        yield
    finally:
        boto3.DEFAULT_SESSION = saved


@contextlib.contextmanager
def _one_moto_loader() -> Iterator[None]:
    """moto builds a new botocore ``Loader`` each time it reads a service's model, and each
    new one walks all ~400 service folders again (~40 ms). One per sandbox walks them once;
    what it loads is the same. Without that function (another moto), nothing changes."""
    import moto.core.utils as moto_utils

    original = getattr(moto_utils, "create_loader", None)
    if original is None:
        yield
        return
    moto_utils.create_loader = functools.cache(original)
    try:
        yield
    finally:
        moto_utils.create_loader = original
