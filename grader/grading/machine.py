"""Can this machine run the course? The probes behind ``grader doctor``, each one tested,
not assumed: versions, the notebook kernel, the offline guard against a real outside
address, the sandbox process answering a real moto call, and the labs found."""

from __future__ import annotations

import socket
import sys
import time
from importlib import metadata
from pathlib import Path

# (distribution, why the course needs it)
PACKAGES = (
    ("boto3", "the AWS SDK the sandbox answers"),
    ("moto", "the offline AWS the configs deploy to"),
    ("pytest", "runs the checks"),
    ("policy_sentry", "the IAM action catalog"),
    ("rich", "terminal output"),
    ("watchfiles", "grader watch"),
    ("mkdocs", "the course site"),
    ("mkdocs-material", "the course site's theme"),
    ("nbclient", "runs notebooks in the SIEM labs"),
    ("ipykernel", "the notebook kernel"),
)


def _python() -> tuple[bool, str]:
    ok = sys.version_info >= (3, 11)
    return ok, f"{sys.version.split()[0]} ({sys.executable})" + (
        "" if ok else " — 3.11 or newer is needed"
    )


def _package(name: str) -> tuple[bool, str]:
    try:
        return True, metadata.version(name)
    except metadata.PackageNotFoundError:
        return False, 'not installed: run python -m pip install -e ".[dev]" in the course folder'


def _kernel() -> tuple[bool, str]:
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        specs = KernelSpecManager().find_kernel_specs()
    except Exception as exc:  # noqa: BLE001 - any failure here is the answer
        return False, f"cannot list kernels ({exc})"
    if "python3" in specs:
        return True, f"python3 ({specs['python3']})"
    return False, "no python3 kernel: run python -m ipykernel install --user"


def _offline_guard() -> tuple[bool, str]:
    """Try a real outside address (TEST-NET-3, never routed) and a real loopback socket."""
    from grader.grading.sandbox import OfflineError, offline

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        with offline():
            try:
                socket.create_connection(("203.0.113.7", 443), timeout=2).close()
            except OfflineError:
                refused = True
            except OSError:
                refused = False
            else:
                refused = False
            socket.create_connection(server.getsockname(), timeout=2).close()
    finally:
        server.close()
    if not refused:
        return False, "a connection to 203.0.113.7 was NOT refused by the guard"
    return True, "outside hosts refused, loopback allowed"


def _sandbox() -> tuple[bool, str]:
    """Start the sandbox process as grading does and ask moto one question through it."""
    from grader.grading import sandbox_process

    reason = sandbox_process.why_not_fork()
    if reason is not None:
        return True, f"inside the grading process ({reason})"
    started = time.monotonic()
    box = sandbox_process.fork_sandbox()
    if box is None:  # a thread started in between
        return True, "inside the grading process"
    try:
        box.client("iam").list_users()
    except Exception as exc:  # noqa: BLE001 - any failure here is the answer
        return False, (
            f"the sandbox process failed ({exc}); "
            f"set {sandbox_process.DISABLE_ENV}=1 to grade without it"
        )
    finally:
        box.close()
    return True, f"a process of its own; moto answered in {time.monotonic() - started:.1f} s"


def _labs(course_dir: Path | None) -> tuple[bool, str]:
    from grader.course import load_course
    from grader.errors import GraderError

    try:
        course = load_course(course_dir)
    except GraderError as exc:
        return False, str(exc)
    if not course.labs:
        return False, f"{course.root}: no labs found"
    return True, f"{len(course.labs)} in {course.root}: {', '.join(lab.id for lab in course.labs)}"


def _isolation() -> tuple[bool, str]:
    """The jail for learner code, as this machine allows it (tried, not assumed)."""
    from grader.grading import jail

    found = jail.isolation()
    # Weaker isolation still grades: not a problem for a learner on their own laptop.
    return True, found.describe()


def _checks_intact() -> tuple[bool, str]:
    from grader.course import integrity

    found = integrity.problems()
    if not found:
        return True, "grader/checks matches the shipped manifest"
    shown = "; ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")
    return False, f"{shown}: reinstall the grader (python -m pip install -e .)"


def probe(course_dir: Path | None) -> list[tuple[str, bool, str]]:
    """Every probe as (what, ok, what was found), in the order doctor shows them."""
    rows = [("python", *_python())]
    rows += [(name, *_package(name)) for name, _why in PACKAGES]
    sandbox = _sandbox()  # first: it forks, and forking wants no other threads yet
    rows += [
        ("notebook kernel", *_kernel()),
        ("offline guard", *_offline_guard()),
        ("sandbox", *sandbox),
        ("learner code isolation", *_isolation()),
        ("checks", *_checks_intact()),
        ("labs", *_labs(course_dir)),
    ]
    return rows
