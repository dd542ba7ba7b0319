"""`grader docs` and the `read:` links: can a learner read the page a failure points at,
with or without a server running?"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from grader.course import site
from tests.conftest import copy_course, run_grader

READ = re.compile(r"read: (\S+)")


@pytest.fixture(scope="module")
def served_course(tmp_path_factory) -> tuple[Path, str]:
    """A course copy after `grader docs --no-open --port 0` built its site and served it:
    (the course, the first page fetched over loopback)."""
    course = copy_course(tmp_path_factory.mktemp("docs") / "course")
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader.cli", "docs", "--no-open", "--port", "0"],
        cwd=course,
        env={**os.environ, "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = None
        deadline = time.monotonic() + 180
        for line in proc.stderr:
            found = re.search(r"Serving the course at (http://127\.0\.0\.1:\d+/)", line)
            if found:
                url = found.group(1)
                break
            assert time.monotonic() < deadline
        assert url, proc.stderr.read()
        with urllib.request.urlopen(url + "least-privilege/lab3.html", timeout=10) as page:
            body = page.read().decode()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        assert proc.returncode == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return course, body


def test_without_a_built_site_the_link_is_the_served_address_and_the_report_says_how(lab3_copy):
    done = run_grader("check", "lab3", "--path", str(lab3_copy))
    assert "read: http://127.0.0.1:8000/least-privilege/lab3.html#task-" in done.stdout
    assert "`grader docs`" in done.stdout


def test_grader_docs_builds_the_site_and_serves_it_on_loopback(served_course):
    course, body = served_course
    assert (course / "site" / "index.html").is_file()
    assert "Lab 3" in body or "lab3" in body


def test_with_a_built_site_the_read_link_opens_from_disk(served_course, tmp_path):
    course, _ = served_course
    lab = tmp_path / "lab3"
    shutil.copytree(course / "labs" / "lab3", lab)
    done = run_grader("check", "lab3", "--path", str(lab), cwd=course)
    links = READ.findall(done.stdout)
    assert links and all(link.startswith("file://") for link in links), done.stdout
    page = Path(urllib.request.url2pathname(links[0].removeprefix("file://").split("#")[0]))
    assert page.is_file() and page.name == "lab3.html"
    anchor = links[0].split("#", 1)[1]
    assert f'id="{anchor}"' in page.read_text(encoding="utf-8")
    assert "`grader docs`" not in done.stdout


def test_the_site_is_stale_when_a_page_is_newer(served_course):
    course, _ = served_course
    assert not site.is_stale(course)
    page = course / "docs" / "index.md"
    index = course / "site" / "index.html"
    os.utime(page, (index.stat().st_mtime + 10, index.stat().st_mtime + 10))
    assert site.is_stale(course)


def test_a_link_is_a_file_url_only_for_a_page_that_was_built(tmp_path):
    (tmp_path / "site" / "least-privilege").mkdir(parents=True)
    (tmp_path / "site" / "least-privilege" / "lab3.html").write_text("<html></html>")
    built = site.docs_link(tmp_path, "least-privilege/lab3.md#task-2")
    assert built == (tmp_path / "site/least-privilege/lab3.html").resolve().as_uri() + "#task-2"
    assert site.docs_link(tmp_path, "least-privilege/lab4.md") == (
        "http://127.0.0.1:8000/least-privilege/lab4.html"
    )
