"""Does a warm learner function behave like a Lambda execution environment, inside the jail?
One process answers many calls; a call past its deadline resets it; errors read as
call_learner's; and the jail reaches exactly the loopback ports it is given, nothing else."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import ssl
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.aws.fapi.pki import AUTHORIZER_CLIENT, make_pki, server_context
from grader.grading import jail
from grader.grading.learner import LearnerCode, LearnerCodeError, call_learner
from grader.grading.learner_worker import LearnerWorker
from grader.grading.reach import Relay
from tests.test_cheats import NEED_JAIL, kill_survivors, no_survivors, survivors

FULL, NAMESPACES, LIMITS = jail.Level.FULL, jail.Level.NAMESPACES, jail.Level.LIMITS
ENV_FOR = {FULL: "", NAMESPACES: "namespaces", LIMITS: "limits"}
linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the jail's namespaces are Linux's"
)


def use_level(monkeypatch: pytest.MonkeyPatch, wanted: jail.Level) -> jail.Level:
    """Run learner code at ``wanted`` (skipped where this machine lacks it, failed in CI)."""
    monkeypatch.setenv(jail.LEVEL_ENV, ENV_FOR[wanted])
    found = jail.isolation()
    if found.level is not wanted:
        said = f"{wanted.value} isolation is not available here: {found.missing}"
        pytest.fail(said) if NEED_JAIL else pytest.skip(said)
    return wanted


@pytest.fixture
def level(request, monkeypatch) -> jail.Level:
    return use_level(monkeypatch, request.param)


@pytest.fixture
def full(monkeypatch) -> jail.Level:
    return use_level(monkeypatch, FULL)


def learner(tmp_path: Path, source: str, name: str = "authorizer.py") -> Path:
    folder = tmp_path / "lab"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def gone(path: Path, within: float = 3.0) -> bool:
    """No process of this learner file is alive (the jail's command line names the file)."""
    return no_survivors(str(path), within)


COUNTER = """
    import os
    count = 0
    print("loaded")

    def handler(event, context=None):
        global count
        count += 1
        print("call", count)
        return {"count": count, "pid": os.getpid(), "event": event}
"""


# --- warm calls -------------------------------------------------------------------------


def test_many_calls_share_one_process_and_its_module_state(tmp_path):
    path = learner(tmp_path, COUNTER)
    with LearnerWorker(path, "handler") as worker:
        results = [worker.call({"n": n}) for n in range(5)]
        assert worker.cold_starts == 1
    assert [r.value["count"] for r in results] == [1, 2, 3, 4, 5]
    assert len({r.value["pid"] for r in results}) == 1
    assert results[3].value["event"] == {"n": 3}
    assert results[0].output == "loaded\ncall 1\n"  # the import's print goes to the first call
    assert results[1].output == "call 2\n"


def test_start_loads_the_file_without_calling_it_and_says_what_breaks_it(tmp_path):
    path = learner(tmp_path, COUNTER)
    with LearnerWorker(path, "handler") as worker:
        loaded = worker.start()
        assert (loaded.value, loaded.output) == (None, "loaded\n")
        assert worker.call({}).value["count"] == 1  # start called nothing
        assert worker.cold_starts == 1
    broken = learner(tmp_path, "import no_such_module_here\n", name="broken.py")
    with LearnerWorker(broken, "handler") as worker, pytest.raises(LearnerCodeError) as caught:
        worker.start()
    assert str(caught.value).startswith("broken.py:1: ModuleNotFoundError")


def test_a_hung_call_is_ended_and_the_next_call_starts_fresh(tmp_path):
    marker = f"grader-worker-child-{os.getpid()}-{time.monotonic_ns()}"
    path = learner(
        tmp_path,
        f"""
        import subprocess, sys
        count = 0

        def handler(event, context=None):
            global count
            count += 1
            if event.get("hang"):
                subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", {marker!r}])
                while True:
                    pass
            return count
        """,
    )
    try:
        with LearnerWorker(path, "handler") as worker:
            assert worker.call({}).value == 1
            started = time.monotonic()
            with pytest.raises(
                LearnerCodeError, match=r"authorizer\.py: handler\(\) did not return within 1 s"
            ):
                worker.call({"hang": True}, timeout=1)
            assert time.monotonic() - started < 2.5
            assert no_survivors(marker), "the call's child outlived it"
            assert gone(path), "the timed-out process is still running"
            assert worker.call({}).value == 1  # a new process: the counter starts again
            assert worker.cold_starts == 2
    finally:
        kill_survivors(marker)


def test_a_call_that_ends_its_process_fails_clearly_and_the_next_starts_fresh(tmp_path):
    path = learner(
        tmp_path,
        """
        import os
        count = 0

        def handler(event, context=None):
            global count
            count += 1
            if event.get("quit"):
                os._exit(3)
            return count
        """,
    )
    with LearnerWorker(path, "handler") as worker:
        assert worker.call({}).value == 1
        with pytest.raises(LearnerCodeError, match=r"before handler\(\) returned \(exit code 3"):
            worker.call({"quit": True})
        assert worker.call({}).value == 1
        assert worker.cold_starts == 2


BROKEN = {
    "syntax error": "def handler(event, context)\n    return {}\n",
    "exception": "def handler(event, context):\n    return event['missing']\n",
    "sys.exit": "import sys\ndef handler(event, context):\n    sys.exit(0)\n",
    "not JSON": "def handler(event, context):\n    return {'allow': {1, 2}}\n",
    "renamed": "def authorize(event, context):\n    return {}\n",
    "import fails": "import no_such_module\ndef handler(event, context):\n    return {}\n",
}


@pytest.mark.parametrize("kind", BROKEN)
def test_failures_read_exactly_as_call_learners(tmp_path, kind):
    path = learner(tmp_path, BROKEN[kind])
    with pytest.raises(LearnerCodeError) as cold:
        call_learner(path, "handler", {}, None)
    with LearnerWorker(path, "handler") as worker:
        for _ in range(2):  # every call fails the same way, in the same warm process
            with pytest.raises(LearnerCodeError) as warm:
                worker.call({}, None)
            assert str(warm.value) == str(cold.value)
        assert worker.cold_starts == 1
    assert "authorizer.py" in str(cold.value)


def test_an_exception_leaves_the_process_warm(tmp_path):
    path = learner(
        tmp_path,
        COUNTER
        + """
    def fail_on_two(event, context=None):
        if handler(event)["count"] == 2:
            raise ValueError("two is bad")
        return count
    """,
    )
    with LearnerWorker(path, "fail_on_two") as worker:
        assert worker.call({}).value == 1
        with pytest.raises(LearnerCodeError, match=r"authorizer\.py:\d+: ValueError: two is bad"):
            worker.call({})
        assert worker.call({}).value == 3
        assert worker.cold_starts == 1


def test_a_worker_outlives_the_thread_that_first_called_it(tmp_path):
    """A child dies with the *thread* that started it (PR_SET_PDEATHSIG): a gateway's
    request thread that ends must not take the warm process with it."""
    path = learner(tmp_path, COUNTER)
    with LearnerWorker(path, "handler") as worker:
        first = threading.Thread(target=worker.call, args=({},))
        first.start()
        first.join()
        time.sleep(0.2)
        assert worker.call({}).value["count"] == 2
        assert worker.cold_starts == 1


def test_calls_from_many_threads_are_served_one_at_a_time(tmp_path):
    path = learner(tmp_path, COUNTER)
    counts: list[int] = []
    with LearnerWorker(path, "handler") as worker:

        def caller() -> None:
            for _ in range(5):
                counts.append(worker.call({}).value["count"])

        threads = [threading.Thread(target=caller) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert worker.cold_starts == 1
    assert sorted(counts) == list(range(1, 21))


def test_a_megabyte_of_printing_neither_blocks_the_call_nor_floods_the_output(tmp_path):
    path = learner(
        tmp_path,
        """
        def handler(event, context=None):
            for n in range(100_000):
                print("line", n)
            return "done"
        """,
    )
    with LearnerWorker(path, "handler") as worker:
        result = worker.call({}, timeout=5)
    assert result.value == "done"
    assert result.output.startswith("line 0\n") and result.output.endswith("line 99999\n")
    assert "left out" in result.output and len(result.output) < 5000


def test_the_code_and_its_children_hold_neither_the_requests_nor_the_answers(tmp_path):
    """Reading stdin finds nothing (the requests come on a descriptor of the bootstrap's),
    and a child process inherits neither that descriptor nor the answer pipe."""
    path = learner(
        tmp_path,
        """
        import os, subprocess, sys

        def handler(event, context=None):
            child = subprocess.run(
                [sys.executable, "-c", "import os; print(sorted(os.listdir('/proc/self/fd')))"],
                capture_output=True, text=True,
            )
            return [sys.stdin.read(), os.readlink("/proc/self/fd/0"), child.stdout.strip()]
        """,
    )
    with LearnerWorker(path, "handler") as worker:
        read, stdin, child_fds = worker.call({}).value
        assert worker.call({}).value[0] == ""  # the next request was not eaten
    assert (read, stdin) == ("", "/dev/null")
    assert child_fds == "['0', '1', '2', '3']"  # 3: the listing's own


def test_the_process_is_ended_at_its_lifetime_and_the_next_call_starts_fresh(tmp_path):
    path = learner(tmp_path, COUNTER)
    with LearnerWorker(path, "handler", lifetime=1.0) as worker:
        assert worker.call({}).value["count"] == 1
        assert gone(path, within=2.5), "the process outlived its lifetime"
        assert worker.call({}).value["count"] == 1
        assert worker.cold_starts == 2


# --- the environment --------------------------------------------------------------------


def test_env_variables_are_visible_and_the_graders_are_not(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    path = learner(
        tmp_path,
        """
        import os
        def handler(event, context=None):
            return {k: os.environ.get(k) for k in ("INTROSPECTION_URL", "AWS_SECRET_ACCESS_KEY")}
        """,
    )
    url = "https://127.0.0.1:8443/introspect"
    with LearnerWorker(path, "handler", env={"INTROSPECTION_URL": url}) as worker:
        seen = worker.call({}).value
    assert seen == {"INTROSPECTION_URL": url, "AWS_SECRET_ACCESS_KEY": None}


@pytest.mark.parametrize(
    "env, said",
    [
        ({"PATH": "/tmp/evil"}, "PATH is set by the jail"),
        ({"HOME": "/root"}, "HOME is set by the jail"),
        ({"lower": "x"}, "not a variable name"),
        ({"BAD-NAME": "x"}, "not a variable name"),
        ({"1ST": "x"}, "not a variable name"),
        ({"NUL": "a\0b"}, "without NUL"),
    ],
)
def test_env_cannot_move_the_jails_own_variables_or_use_odd_names(tmp_path, env, said):
    with pytest.raises(ValueError, match=said):
        LearnerWorker(learner(tmp_path, COUNTER), "handler", env=env)


def test_the_fixture_makes_workers_with_the_labs_memory_limit(tmp_path):
    path = learner(tmp_path, COUNTER)
    with LearnerCode(memory=300 * jail.MiB).worker(path, "handler") as worker:
        assert worker.limits.memory == 300 * jail.MiB
        assert worker.call({}).value["count"] == 1


# --- reach: exactly the given loopback ports ---------------------------------------------


class EchoServer:
    """A server on the machine's 127.0.0.1 that answers ``NAME:<what it read>``, reading a
    line or up to end of stream (so a half-close must get through), over TLS if asked."""

    def __init__(self, name: str, tls: ssl.SSLContext | None = None):
        self.name, self.tls = name, tls
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            conn.settimeout(5)
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            data = b""
            while not data.endswith(b"\n") and (chunk := conn.recv(4096)):
                data += chunk
            conn.sendall(self.name.encode() + b":" + data)

    def close(self) -> None:
        with contextlib.suppress(OSError):  # wakes the accept() (close alone would not)
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


@pytest.fixture
def servers() -> Iterator[tuple[EchoServer, EchoServer]]:
    first, second = EchoServer("A"), EchoServer("B")
    yield first, second
    first.close()
    second.close()


CLIENT = """
    import socket, ssl, sys

    def plain(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
                sock.sendall(b"hello")
                sock.shutdown(socket.SHUT_WR)  # the server answers at end of stream
                return sock.makefile("rb").read().decode()
        except OSError as exc:
            return "refused: " + type(exc).__name__

    def tls(port, cafile, certfile, keyfile):
        context = ssl.create_default_context(cafile=cafile)
        context.load_cert_chain(certfile, keyfile)
        with socket.create_connection(("127.0.0.1", port), timeout=3) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
                sock.sendall(b"hello over tls\\n")
                return sock.recv(100).decode()

    def routes():
        return [sys.argv[i + 1] for i, arg in enumerate(sys.argv[:-1]) if arg == "--reach"]

    def direct(path):
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(3)
            sock.connect(path)
            sock.sendall(b"GET http://127.0.0.1:1/ and not the relay's port")
            sock.shutdown(socket.SHUT_WR)
            return sock.makefile("rb").read().decode()
"""

REACHING = [pytest.param(FULL, id="full"), pytest.param(NAMESPACES, id="namespaces")]


@linux_only
@pytest.mark.parametrize("level", REACHING, indirect=True)
def test_a_given_port_is_reached_at_the_same_address_and_no_other(level, tmp_path, servers):
    first, second = servers
    path = learner(tmp_path, CLIENT)
    with LearnerWorker(path, "plain", reach=[first.port]) as worker:
        assert worker.call(first.port).value == "A:hello"  # half-close passed on both ways
        assert worker.call(first.port).value == "A:hello"
        assert worker.call(second.port).value.startswith("refused")
    assert (first.connections, second.connections) == (2, 0)


@linux_only
@pytest.mark.parametrize("level", REACHING, indirect=True)
def test_mutual_tls_runs_end_to_end_through_the_relay(level, tmp_path):
    pki = make_pki()
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "ca.pem").write_bytes(pki.server_truststore_pem)
    certfile, keyfile = pki.clients[AUTHORIZER_CLIENT].write(certs)
    context = server_context(
        pki.server, client_cas_pem=pki.client_truststore_pem, require_client_cert=True
    )
    server = EchoServer("TLS", tls=context)
    try:
        path = learner(tmp_path, CLIENT)
        with LearnerWorker(path, "tls", reach=[server.port], readable=[certs]) as worker:
            args = (server.port, str(certs / "ca.pem"), str(certfile), str(keyfile))
            assert worker.call(*args).value == "TLS:hello over tls\n"
    finally:
        server.close()


@linux_only
def test_without_reach_no_port_of_the_machine_is_reachable(full, tmp_path, servers):
    first, second = servers
    with LearnerWorker(learner(tmp_path, CLIENT), "plain") as worker:
        assert worker.call(first.port).value.startswith("refused")
        assert worker.call(second.port).value.startswith("refused")
    assert first.connections == second.connections == 0


@linux_only
def test_the_relay_socket_itself_leads_only_to_its_own_port(full, tmp_path, servers):
    first, second = servers
    path = learner(
        tmp_path,
        CLIENT
        + """
    import os

    def snoop():
        (route,) = routes()
        socket_path = route.split("=", 1)[1]
        folder = os.path.dirname(socket_path)
        try:
            open(os.path.join(folder, "planted"), "w").close()
            planted = "planted"
        except OSError:
            planted = "refused"
        try:
            os.unlink(socket_path)
            unlinked = "unlinked"
        except OSError:
            unlinked = "refused"
        return [direct(socket_path), os.listdir(folder), planted, unlinked]
    """,
    )
    with LearnerWorker(path, "snoop", reach=[first.port]) as worker:
        answer, listing, planted, unlinked = worker.call().value
    assert answer.startswith("A:GET http://127.0.0.1:1/")
    assert listing == [f"{first.port}.sock"]
    assert (planted, unlinked) == ("refused", "refused")  # the folder is mounted read-only
    assert second.connections == 0


@linux_only
def test_at_the_limits_level_the_port_is_reached_directly(monkeypatch, tmp_path, servers):
    """The known weakness of that level: no network namespace, so no relay is needed, and
    no other port can be kept out either."""
    use_level(monkeypatch, LIMITS)
    first, second = servers
    with LearnerWorker(learner(tmp_path, CLIENT), "plain", reach=[first.port]) as worker:
        assert worker.call(first.port).value == "A:hello"
        assert worker.call(second.port).value == "B:hello"


# --- ending -----------------------------------------------------------------------------


@linux_only
@pytest.mark.parametrize("level", REACHING, indirect=True)
def test_close_leaves_no_process_thread_or_folder(level, tmp_path, servers, monkeypatch):
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # where the learner's HOME goes
    first, _ = servers
    path = learner(tmp_path, CLIENT)
    worker = LearnerWorker(path, "routes", reach=[first.port])
    (route,) = worker.call().value
    folder = Path(route.split("=", 1)[1]).parent
    assert folder.is_dir() and list(temp.iterdir())
    worker.close()
    worker.close()  # idempotent
    assert gone(path)
    assert not folder.exists()
    assert list(temp.iterdir()) == []
    names = {t.name for t in threading.enumerate()}
    assert not names & {"grader-reach", "grader-jail-lifetime"}
    with pytest.raises(RuntimeError, match="closed"):
        worker.call()


def test_end_all_ends_workers_too(tmp_path):
    path = learner(tmp_path, COUNTER)
    with LearnerWorker(path, "handler") as worker:
        assert worker.call({}).value["count"] == 1
        jail.end_all()
        assert gone(path)
        assert worker.call({}).value["count"] == 1
        assert worker.cold_starts == 2


@linux_only
def test_a_setsid_daemon_is_gone_after_close(full, tmp_path):
    marker = f"grader-worker-daemon-{os.getpid()}-{time.monotonic_ns()}"
    path = learner(
        tmp_path,
        f"""
        import subprocess, sys

        subprocess.Popen(
            [sys.executable, "-c", "import os, time; os.fork(); time.sleep(60)", {marker!r}],
            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

        def handler(event, context=None):
            return "left a daemon"
        """,
    )
    try:
        with LearnerWorker(path, "handler") as worker:
            assert worker.call({}).value == "left a daemon"
            deadline = time.monotonic() + 5  # on a loaded machine it may take a moment
            while not survivors(marker) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert survivors(marker), "the daemon never started"
        assert no_survivors(marker), "the daemon outlived the worker"
    finally:
        kill_survivors(marker)


# --- the relay on its own ---------------------------------------------------------------


def test_the_relay_joins_its_socket_to_its_port_and_cleans_up(servers):
    first, _ = servers
    with Relay([first.port]) as relay:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(relay.sockets[first.port]))
            sock.sendall(b"half")
            sock.shutdown(socket.SHUT_WR)
            assert sock.makefile("rb").read() == b"A:half"
        assert oct(relay.folder.stat().st_mode & 0o777) == "0o700"
        assert len(str(relay.sockets[first.port])) < 100
    assert not relay.folder.exists() and relay.threads() == 0


def test_a_relay_to_a_closed_port_closes_the_connection(servers):
    first, _ = servers
    first.close()
    with Relay([first.port]) as relay, socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(3)
        sock.connect(str(relay.sockets[first.port]))
        assert sock.recv(10) == b""


@pytest.mark.parametrize("port", [0, 70000, "443", True])
def test_a_relay_refuses_what_is_not_a_port(port):
    with pytest.raises(ValueError, match="a port is a number"):
        Relay([port])


def test_a_new_relay_sweeps_the_folders_of_dead_processes_only(tmp_path):
    """A grading process killed outright cannot remove its relay's folder; the next one does."""
    import subprocess

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    suffix = f"-sweep-test-{time.monotonic_ns()}"
    orphan = Path("/tmp") / f"grader-reach-{int(dead.stdout)}{suffix}"
    ours = Path("/tmp") / f"grader-reach-{os.getpid()}{suffix}"
    for folder in (orphan, ours):
        folder.mkdir(mode=0o700)
        (folder / "1234.sock").touch()
    try:
        with Relay([1234]):
            pass
        assert not orphan.exists()
        assert ours.exists()
    finally:
        for folder in (orphan, ours):
            shutil.rmtree(folder, ignore_errors=True)
