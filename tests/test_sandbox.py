"""Is the grader offline, whatever credentials and profiles the learner has?"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from grader.grading.sandbox import OfflineError, is_loopback, offline, sandbox, scrub_environment
from tests.conftest import run_grader

REAL_LOOKING = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_PROFILE": "production",
}


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost", True),
        ("::ffff:127.0.0.1", True),
        ("203.0.113.7", False),
        ("10.0.0.1", False),
        ("sts.amazonaws.com", False),
        ("169.254.169.254", False),
        ("localhost.evil.com", False),
    ],
)
def test_only_loopback_counts_as_local(host, loopback):
    assert is_loopback(host) is loopback


def test_outside_connection_is_refused_naming_the_host():
    with offline(), pytest.raises(OfflineError, match=r"203\.0\.113\.7:443"):
        socket.create_connection(("203.0.113.7", 443), timeout=2)


def test_name_lookup_of_an_outside_host_is_refused():
    with offline(), pytest.raises(OfflineError, match="iam.amazonaws.com"):
        socket.getaddrinfo("iam.amazonaws.com", 443)


def test_loopback_connection_is_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        with offline():
            socket.create_connection(server.getsockname(), timeout=2).close()
    finally:
        server.close()


def test_guard_is_off_outside_the_block_and_env_is_restored(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "production")
    with offline():
        import os

        assert "AWS_PROFILE" not in os.environ
    assert os.environ["AWS_PROFILE"] == "production"


def test_scrub_removes_every_aws_setting():
    env = {
        **REAL_LOOKING,
        "AWS_ROLE_ARN": "arn:aws:iam::1:role/x",
        "BOTO_CONFIG": "/x",
        "HOME": "/root",
    }
    removed = scrub_environment(env)
    assert set(removed) == {*REAL_LOOKING, "AWS_ROLE_ARN", "BOTO_CONFIG"}
    assert env["AWS_ACCESS_KEY_ID"] == "testing" and "AWS_PROFILE" not in env
    assert env["HOME"] == "/root"


def test_boto3_in_the_sandbox_never_sees_the_learners_credentials(monkeypatch):
    for key, value in REAL_LOOKING.items():
        monkeypatch.setenv(key, value)
    with sandbox() as box:
        creds = box.credentials()
        assert creds.access_key == "testing"
        box.client("iam").create_user(UserName="alice")  # answered by moto, not AWS
        assert box.client("iam").list_users()["Users"][0]["UserName"] == "alice"


def test_a_whole_grader_check_makes_no_outbound_connection(tmp_path, lab3_copy):
    """An independent observer (an audit hook installed by sitecustomize in every process
    the test starts) logs each connection and lookup; a profile whose credential_process
    would leave a marker file proves no profile is ever read."""
    log = tmp_path / "net.log"
    marker = tmp_path / "credential_process_ran"
    observer = tmp_path / "observer"
    observer.mkdir()
    (observer / "sitecustomize.py").write_text(
        textwrap.dedent(f"""
        import sys
        def _watch(event, args):
            if event in ("socket.connect", "socket.getaddrinfo", "socket.sendto"):
                with open({str(log)!r}, "a") as f:
                    f.write(event + " " + repr(args[1] if event != "socket.getaddrinfo" else args[0]) + "\\n")
        sys.addaudithook(_watch)
    """)
    )
    config = tmp_path / "aws-config"
    config.write_text(
        textwrap.dedent(f"""
        [profile production]
        credential_process = sh -c "touch {marker}; echo '{{}}'"
        region = us-east-1
    """)
    )
    env = {**REAL_LOOKING, "AWS_CONFIG_FILE": str(config), "PYTHONPATH": str(observer)}
    # The observer works: a loopback lookup in a process started the same way is logged.
    probe = "import socket; socket.getaddrinfo('localhost', 9)"
    subprocess.run([sys.executable, "-c", probe], env={**os.environ, **env}, check=True)
    assert "localhost" in log.read_text()
    done = run_grader("check", "lab3", "--path", str(lab3_copy), "--json", env=env)
    assert done.returncode == 1, done.stderr  # the starter fails, and the run completed
    assert json.loads(done.stdout)["problem"] is None
    assert not marker.exists(), "boto3 read the learner's profile"
    lines = log.read_text().splitlines() if log.exists() else []
    outside = [
        line for line in lines if not any(h in line for h in ("127.", "localhost", "::1", "None"))
    ]
    assert outside == [], outside


def test_moto_reads_service_models_through_one_loader_per_sandbox():
    import moto.core.utils as moto_utils

    original = moto_utils.create_loader
    with sandbox() as box:
        assert moto_utils.create_loader() is moto_utils.create_loader()
        box.client("iam").create_user(UserName="alice")
        box.client("s3").create_bucket(
            Bucket="one-loader-test", CreateBucketConfiguration={"LocationConstraint": box.region}
        )
        assert [u["UserName"] for u in box.client("iam").list_users()["Users"]] == ["alice"]
    assert moto_utils.create_loader is original


def test_moto_builds_its_route_client_from_the_sandboxs_session_and_never_the_learners(
    monkeypatch,
):
    import boto3

    for key, value in REAL_LOOKING.items():
        monkeypatch.setenv(key, value)
    before = boto3.DEFAULT_SESSION
    with sandbox() as box:
        box.client("cloudfront").list_distributions()  # moto makes boto3.client("cloudfront")
        assert boto3.DEFAULT_SESSION is box._session
        assert boto3.client("sts").get_caller_identity()["Account"] == box.account
        assert boto3.DEFAULT_SESSION.get_credentials().access_key == "testing"
    assert boto3.DEFAULT_SESSION is before
