"""`grader edge simulate` and `grader edge match`, run as a learner runs them, on files
written for each test."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_grader

# AWS's managed CachingOptimized policy, by ID (using-managed-cache-policies).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"

DISTRIBUTION = {
    "CallerReference": "lab1",
    "Comment": "",
    "Enabled": True,
    "Origins": {
        "Quantity": 1,
        "Items": [
            {
                "Id": "app",
                "DomainName": "app.example.com",
                "CustomOriginConfig": {
                    "HTTPPort": 80,
                    "HTTPSPort": 443,
                    "OriginProtocolPolicy": "https-only",
                },
            }
        ],
    },
    "DefaultCacheBehavior": {
        "TargetOriginId": "app",
        "ViewerProtocolPolicy": "redirect-to-https",
        "CachePolicyId": CACHING_OPTIMIZED,
        "Compress": True,
    },
    "CacheBehaviors": {
        "Quantity": 1,
        "Items": [
            {
                "PathPattern": "/account*",
                "TargetOriginId": "app",
                "ViewerProtocolPolicy": "https-only",
                "CachePolicyId": "short",
            }
        ],
    },
}
POLICIES = {
    "CachePolicies": [
        {
            "Id": "short",
            "CachePolicyConfig": {
                "Name": "short",
                "MinTTL": 0,
                "DefaultTTL": 60,
                "MaxTTL": 600,
                "ParametersInCacheKeyAndForwardedToOrigin": {
                    "EnableAcceptEncodingGzip": False,
                    "HeadersConfig": {"HeaderBehavior": "none"},
                    "CookiesConfig": {"CookieBehavior": "none"},
                    "QueryStringsConfig": {"QueryStringBehavior": "none"},
                },
            },
        }
    ]
}
ORIGIN = {
    "/account*": {"headers": {"Cache-Control": "max-age=300"}, "size": 2000, "personal": True},
    "*": {"headers": {"Cache-Control": "max-age=60", "Content-Type": "text/css"}, "size": 5000},
}


def line(second, path, viewer, protocol="https"):
    return {
        "date": "2026-12-03",
        "time": f"00:00:{second:02d}",
        "x-edge-location": "NRT57-P1",
        "c-ip": "192.0.2.1",
        "cs-uri-stem": path,
        "cs-protocol": protocol,
        "cs(Cookie)": f"session={viewer}",
        "viewer": viewer,
        "headers": [{"name": "Accept-Encoding", "value": "gzip"}],
    }


LOG = [
    line(0, "/a.css", "alice"),
    line(1, "/a.css", "bob"),
    line(2, "/account", "alice"),
    line(3, "/account", "bob"),
    line(4, "/a.css", "carol", protocol="http"),
]


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, data in (("dist", DISTRIBUTION), ("policies", POLICIES), ("origin", ORIGIN)):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(data, indent=2))
    paths["log"] = tmp_path / "log.jsonl"
    paths["log"].write_text("".join(json.dumps(entry) + "\n" for entry in LOG))
    return paths


def simulate(files, *extra, origin=True):
    args = ["--distribution", str(files["dist"]), "--policies", str(files["policies"])]
    args += ["--log", str(files["log"])]
    if origin:
        args += ["--origin", str(files["origin"])]
    return run_grader("edge", "simulate", *args, *extra)


def test_does_simulate_summarise_hits_redirects_and_leaks(files):
    done = simulate(files)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "5 requests: 2 hits, 2 misses" in out and "hit ratio 50.0%" in out
    assert "1 HTTP redirected (301)" in out
    assert "/account*" in out and "Default (*)" in out and "gzip 2" in out
    assert "LEAKS: 1 cached answer served" in out
    assert "made for 'alice', served to 'bob' by /account*" in out
    assert f"{files['log']}:4" in out


def test_does_json_give_the_whole_report_as_data(files):
    done = simulate(files, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["total"]["requests"] == 5 and data["total"]["redirected"] == 1
    account, default = data["behaviors"]
    assert account["pathPattern"] == "/account*" and account["leaks"] == 1
    assert default["compressed"] == {"gzip": 2} and default["bytesFromOrigin"] == 5000
    (leak,) = data["leaks"]
    assert (leak["madeFor"], leak["servedTo"], leak["path"]) == ("alice", "bob", "/account")


def test_does_simulate_without_origin_use_and_name_the_default_model(files):
    done = simulate(files, origin=False)
    assert done.returncode == 0, done.stderr
    assert "origin: the default model" in done.stdout and "leaks: none" in done.stdout
    assert "max-age=86400" in run_grader("edge", "simulate", "--help").stdout


def test_does_match_name_the_behavior_and_say_why(files):
    done = run_grader(
        "edge", "match", "--distribution", str(files["dist"]), "/account/settings", "/img/a.png"
    )
    assert done.returncode == 0, done.stderr
    first, _, second, _ = done.stdout.splitlines()
    assert first == "/account/settings -> /account*"
    assert second == "/img/a.png -> Default (*)"
    assert "first pattern in order that matches" in done.stdout


def test_is_a_bad_distribution_exit_2_with_the_json_path(files):
    broken = json.loads(json.dumps(DISTRIBUTION))
    broken["CacheBehaviors"]["Items"][0]["TargetOriginId"] = "nowhere"
    files["dist"].write_text(json.dumps(broken))
    for done in (
        simulate(files),
        run_grader("edge", "match", "--distribution", str(files["dist"]), "/"),
    ):
        assert done.returncode == 2
        assert f"{files['dist']} at CacheBehaviors.Items[0].TargetOriginId" in done.stderr
        assert "Traceback" not in done.stderr


def test_is_a_policy_that_exists_nowhere_exit_2_at_the_behavior(files):
    files["policies"].write_text(json.dumps({"CachePolicies": []}))
    done = simulate(files)
    assert done.returncode == 2
    assert f"{files['dist']} at CacheBehaviors.Items[0].CachePolicyId" in done.stderr
    assert "'short'" in done.stderr


def test_is_a_bad_log_line_exit_2_naming_file_and_line(files):
    lines = files["log"].read_text().splitlines()
    lines.insert(2, json.dumps({**LOG[0], "time": "noon"}))
    files["log"].write_text("\n".join(lines) + "\n")
    done = simulate(files)
    assert done.returncode == 2
    assert f"{files['log']}:3 at time" in done.stderr and "Traceback" not in done.stderr
    skipped = simulate(files, "--skip-bad")
    assert skipped.returncode == 0 and f"{files['log']}:3" in skipped.stderr


def test_is_a_bad_origin_model_exit_2_with_its_json_path(files):
    files["origin"].write_text(json.dumps({"/a": {"size": "big"}}))
    done = simulate(files)
    assert done.returncode == 2 and f'{files["origin"]} at ["/a"].size' in done.stderr


def test_does_simulate_read_a_standard_w3c_log(files):
    from grader.aws.edge.logs import STANDARD_FIELDS

    def w3c(time, path, protocol):
        values = {"date": "2026-12-03", "time": time, "x-edge-location": "NRT57-P1"}
        values.update({"c-ip": "192.0.2.1", "cs-method": "GET", "cs-uri-stem": path})
        values.update({"cs-protocol": protocol, "cs(User-Agent)": "Mozilla/5.0%20(X11)"})
        return "\t".join(values.get(name, "-") for name in STANDARD_FIELDS)

    header = ["#Version: 1.0", "#Fields: " + " ".join(STANDARD_FIELDS)]
    rows = [w3c("00:00:01", "/a.css", "https"), w3c("00:00:00", "/a.css", "https")]
    files["log"].write_text("\n".join([*header, *rows, w3c("00:00:02", "/b", "http")]) + "\n")
    done = simulate(files, "--json")
    assert done.returncode == 0, done.stderr
    total = json.loads(done.stdout)["total"]
    assert (total["requests"], total["hits"], total["misses"], total["redirected"]) == (3, 1, 1, 1)
