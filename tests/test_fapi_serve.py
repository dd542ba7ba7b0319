"""``grader fapi serve``: the real command in a subprocess, walked as a person would walk it.

Does the printed stack do the whole FAPI flow over real TLS on 127.0.0.1 (PKCE, the code,
a token bound to app-one's certificate, the API call, the stolen token refused, the
untrusted certificate refused at the handshake)? Are the printed curl commands right, run
as printed? Does Ctrl-C (or SIGTERM) close both servers, remove the temporary keys and exit
0? And with ``--authorizer FILE``, does the learner's handler decide, jailed, with a broken
file refused at start-up and a handler that raises costing one request, not the server?
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.conftest import ROOT, run_grader

START_TIMEOUT = 20.0
REDIRECT_URI = "https://127.0.0.1/callback/app-one"


class Serve:
    """``grader fapi serve`` running in a subprocess, its output read line by line."""

    def __init__(self, *options: str) -> None:
        env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grader", "fapi", "serve", *options],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_for(r"^Requests and decisions follow", START_TIMEOUT)
        banner = "\n".join(self.lines)
        self.auth = re.search(r"authorization server +(https://\S+)", banner).group(1)
        self.api = re.search(r"API \(mTLS domain\) +(https://\S+)", banner).group(1)
        self.default = re.search(r"API default endpoint +(https://\S+)", banner).group(1)
        self.folder = Path(re.search(r"credentials +(/.+?) {3}\(", banner).group(1))

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if re.search(pattern, line):
                    return line
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(
            f"no line matching {pattern!r}; stdout:\n"
            + "\n".join(self.lines)
            + f"\nstderr:\n{self.stderr_now()}"
        )

    def stderr_now(self) -> str:
        return "" if self.proc.poll() is None else self.proc.stderr.read()

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str]:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=15)
        self._reader.join(timeout=5)
        return code, self.proc.stderr.read()

    def end(self) -> None:
        """After a failed test: stopped as Ctrl-C would (so no keys stay in /tmp), or killed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def serve():
    started: list[Serve] = []

    def start(*options: str) -> Serve:
        started.append(Serve(*options))
        return started[-1]

    yield start
    for running in started:
        running.end()


# --- a client, written with the standard library only -----------------------------------------


def context(folder: Path, cert: str | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    if cert is not None:
        ctx.load_cert_chain(folder / f"{cert}.pem", folder / f"{cert}.key")
    return ctx


def request(
    url: str, ctx: ssl.SSLContext, *, form: dict | None = None, token: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPSConnection("127.0.0.1", parts.port, context=ctx, timeout=15)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request("POST" if form is not None else "GET", target, body=body, headers=headers)
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


def token_for_app_one(stack: Serve) -> str:
    """PKCE, the authorization request from the browser, the token over mTLS as app-one."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": "app-one",
            "redirect_uri": REDIRECT_URI,
            "state": "s1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    status, headers, _ = request(f"{stack.auth}/authorize?{query}", context(stack.folder))
    assert status == 302
    code = dict(parse_qsl(urlsplit(headers["location"]).query))["code"]
    form = {
        "grant_type": "authorization_code",
        "client_id": "app-one",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    status, _, body = request(f"{stack.auth}/token", context(stack.folder, "app-one"), form=form)
    assert status == 200, body
    return json.loads(body)["access_token"]


def api_status(stack: Serve, app: str, token: str) -> int:
    return request(f"{stack.api}/accounts", context(stack.folder, app), token=token)[0]


def port_closed(url: str) -> bool:
    try:
        socket.create_connection(("127.0.0.1", urlsplit(url).port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


# --- the built-in authorizer ---------------------------------------------------------------


def test_the_flow_works_by_hand_and_ctrl_c_closes_everything(serve):
    stack = serve()
    assert stack.folder.is_dir() and (stack.folder.stat().st_mode & 0o077) == 0
    assert "built-in" in "\n".join(stack.lines)
    token = token_for_app_one(stack)

    assert api_status(stack, "app-one", token) == 200
    stack.wait_for(r"api +custom +GET /accounts .*\(app-one\).*invoked +-> 200 allowed")
    assert api_status(stack, "app-two", token) == 403  # the stolen token
    stack.wait_for(r"\(app-two\).*-> 403 authorizer denied")
    stack.wait_for(r"authorizer refused: the token is bound to")
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        api_status(stack, "attacker", token)
    stack.wait_for(r"handshake refused: .*certificate verify failed")
    # The default endpoint is disabled: it answers, with 403, whatever the token.
    assert request(f"{stack.default}/accounts", context(stack.folder), token=token)[0] == 403

    code, stderr = stack.stop(signal.SIGINT)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert stack.lines[-1].startswith("Stopped: both servers are closed")
    assert not stack.folder.exists()
    assert all(port_closed(url) for url in (stack.auth, stack.api, stack.default))


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_printed_curl_commands_walk_the_flow_as_printed(serve, tmp_path):
    creds = tmp_path / "my creds"  # a space: the printed CREDS=... must be quoted
    stack = serve(
        "--credentials", str(creds), "--payload-version", "1.0", "--token-format", "opaque"
    )
    assert stack.folder == creds.resolve()
    steps = printed_steps(stack.lines)
    assert list(steps) == ["setup", "1", "2", "3", "4", "5", "binding"]
    script = ['grader() { "$GRADER_PYTHON" -m grader "$@"; }']
    for name, commands in steps.items():
        script += [*commands, f'echo "@@ {name}"']
    run = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        env={**os.environ, "GRADER_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    out = split_by_marker(run.stdout)
    assert re.search(r"code=[\w-]+&iss=", out["1"]), run.stdout + run.stderr
    assert '"access_token"' in out["2"]
    assert out["3"].rstrip().endswith("HTTP 200"), out["3"]
    assert out["4"].rstrip().endswith("HTTP 403"), out["4"]
    assert out["5"].split().count("000") == 2, out["5"]
    thumb, answer = out["binding"].strip().split("\n", 1)
    assert json.loads(answer)["cnf"] == {"x5t#S256": thumb}
    stack.wait_for(r"\(app-one\).*-> 200 allowed")
    stack.wait_for(r"\(app-two\).*-> 403 authorizer denied")

    code, stderr = stack.stop(signal.SIGTERM)
    assert code == 0, stderr
    assert (creds / "app-one.key").is_file()  # --credentials DIR is kept
    assert (creds / "app-one.key").stat().st_mode & 0o077 == 0


def printed_steps(lines: list[str]) -> dict[str, list[str]]:
    """The commands of the printed walk (lines indented by four spaces), by step."""
    steps: dict[str, list[str]] = {}
    current = None
    for line in lines:
        if line.startswith("Walk the flow by hand"):
            current = "setup"
        elif match := re.match(r"Step (\d)\.", line):
            current = match.group(1)
        elif line.startswith("The binding:"):
            current = "binding"
        elif line.startswith("Requests and decisions"):
            break
        elif current and line.startswith("    "):
            steps.setdefault(current, []).append(line[4:])
    return steps


def split_by_marker(output: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    chunk: list[str] = []
    for line in output.splitlines():
        if line.startswith("@@ "):
            parts[line[3:]] = "\n".join(chunk)
            chunk = []
        else:
            chunk.append(line)
    return parts


def test_a_credentials_path_that_is_a_file_is_a_usage_error(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("x")
    result = run_grader("fapi", "serve", "--credentials", str(taken), timeout=30)
    assert result.returncode == 2
    assert "taken: --credentials: this is a file, not a folder" in result.stderr
    assert "Traceback" not in result.stderr


# --- the learner's authorizer, jailed ---------------------------------------------------------

# A right answer to lab 6, with the standard library only: introspect over mTLS with the
# variables a Lambda authorizer is configured with, compare cnf with the call's certificate.
BINDING_AUTHORIZER = """
import base64, hashlib, json, os, ssl, time, urllib.parse, urllib.request


def handler(event, context):
    print("context:", json.dumps(context, sort_keys=True))
    if "x-raise" in event["headers"]:
        raise ValueError("asked to fail")
    if "x-sleep" in event["headers"]:
        time.sleep(60)
    token = event["headers"]["authorization"].split(" ", 1)[1]
    tls = ssl.create_default_context(cafile=os.environ["AUTH_SERVER_CA_FILE"])
    tls.load_cert_chain(os.environ["AUTHORIZER_CERT_FILE"], os.environ["AUTHORIZER_KEY_FILE"])
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=tls)
    )
    form = urllib.parse.urlencode({"token": token}).encode()
    with opener.open(os.environ["INTROSPECTION_URL"], data=form, timeout=3) as reply:
        claims = json.load(reply)
    pem = event["requestContext"]["authentication"]["clientCert"]["clientCertPem"]
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).digest()
    thumb = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    bound = claims.get("cnf", {}).get("x5t#S256")
    return {"isAuthorized": claims.get("active") is True and bound == thumb}
"""


def api_status_with(stack: Serve, token: str, header: str) -> int:
    conn = http.client.HTTPSConnection(
        "127.0.0.1",
        urlsplit(stack.api).port,
        context=context(stack.folder, "app-one"),
        timeout=30,
    )
    try:
        conn.request("GET", "/accounts", headers={"Authorization": f"Bearer {token}", header: "1"})
        return conn.getresponse().status
    finally:
        conn.close()


def test_the_learners_authorizer_decides_jailed_and_a_failing_call_costs_one_request(
    serve, tmp_path
):
    authorizer = tmp_path / "authorizer.py"
    authorizer.write_text(BINDING_AUTHORIZER)
    stack = serve("--authorizer", str(authorizer))
    assert f"{authorizer}: your handler(event, context), in the jail" in "\n".join(stack.lines)
    token = token_for_app_one(stack)

    assert api_status(stack, "app-one", token) == 200
    stack.wait_for(
        r'authorizer printed: context: \{"awsRequestId": "[0-9a-f-]{36}", '
        r'"functionName": "authorizer", "timeoutSeconds": 5'
    )
    assert api_status(stack, "app-two", token) == 403

    assert api_status_with(stack, token, "X-Raise") == 500
    stack.wait_for(r"authorizer error: authorizer\.py:\d+: ValueError: asked to fail")
    stack.wait_for(r"-> 500 authorizer raised LearnerCodeError")
    assert api_status_with(stack, token, "X-Sleep") == 500
    stack.wait_for(r"authorizer error: authorizer\.py: handler\(\) did not return within 5 s")
    assert api_status(stack, "app-one", token) == 200  # the server lives on, cold start

    code, stderr = stack.stop()
    assert code == 0, stderr
    assert not stack.folder.exists()


@pytest.mark.parametrize(
    "source, message",
    [
        (None, r"authorizer\.py: --authorizer: no such file"),
        ("def handler(event, context):\n    return {\n", r"authorizer\.py:2:\d+: SyntaxError: "),
        (
            "def authorize(event, context):\n    return {}\n",
            r"authorizer\.py has no function named handler\(\)",
        ),
        (
            "import shop_secrets\n\ndef handler(event, context):\n    return {}\n",
            r"authorizer\.py:1: ModuleNotFoundError: .*while the file was imported",
        ),
    ],
    ids=["missing", "syntax-error", "no-handler", "import-fails"],
)
def test_a_broken_authorizer_file_is_refused_at_start_up(tmp_path, source, message):
    authorizer = tmp_path / "authorizer.py"
    if source is not None:
        authorizer.write_text(source)
    result = run_grader("fapi", "serve", "--authorizer", str(authorizer), timeout=30)
    assert result.returncode == 2, result.stdout + result.stderr
    assert re.search(rf"^grader: error: \S*{message}", result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # nothing was started
