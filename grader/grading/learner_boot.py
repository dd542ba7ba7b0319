"""The first code of a learner process: loads the learner's file and calls one function.

Not imported by the grader: :mod:`grader.grading.learner` passes this file's text to
``python -c`` inside the jail (:mod:`grader.grading.jail`), where the grader package is not
available. So it imports only the standard library, and it must stay small.

argv: MODULE_PATH FUNCTION RESULT_FD; stdin: a JSON list of argument lists.
What goes to the result descriptor (a pipe) is ``{"results": [{"value": ...} | {"error": ...}, ...]}``, or one
``{"error": ...}`` when the file cannot be loaded at all.
"""

import importlib.util
import ipaddress
import json
import os
import sys
import traceback
from pathlib import Path

module_path, function, result_fd = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.set_inheritable(result_fd, False)  # the learner's own child processes do not hold it


class NoGrader:
    """``import grader`` from learner code: refused, saying why (the jail has no grader)."""

    def find_spec(self, name, path=None, target=None):
        if name == "grader" or name.startswith("grader."):
            raise ModuleNotFoundError(
                f"No module named {name!r}: learner code runs without the grader, so "
                "`import grader` is not available; write this part yourself",
                name=name,
            )
        return None


def loopback(host):
    # The same rule as grader.grading.sandbox.is_loopback (a test keeps them in step).
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%", 1)[0].lower()
    if name in ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"):
        return True
    if name.endswith(".localhost"):
        return True
    try:
        addr = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(addr, "ipv4_mapped", None)
    return addr.is_loopback or bool(mapped and mapped.is_loopback)


def offline(event, args):
    """Where the jail has no network namespace of its own, refuse non-loopback hosts here."""
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        address = args[1] if len(args) > 1 else None
        host = address[0] if isinstance(address, tuple) and address else None
        if not isinstance(address, tuple):
            return
    elif event == "socket.getaddrinfo":
        host = args[0]
    else:
        return
    if not loopback(host):
        raise ConnectionRefusedError(
            f"the grader works offline and refused a connection to {host}; "
            "nothing here may reach AWS or any other host"
        )


def report(data):
    with os.fdopen(result_fd, "w", encoding="utf-8") as out:
        json.dump(data, out)


def where(tb):
    mine = Path(module_path).resolve()
    frames = [f for f in traceback.extract_tb(tb) if Path(f.filename).resolve() == mine]
    if not frames:
        return None
    return {"line": frames[-1].lineno, "code": (frames[-1].line or "").strip()}


def failure(exc, phase=None):
    data = {"error": type(exc).__name__, "message": str(exc), "where": where(exc.__traceback__)}
    if phase:
        data["phase"] = phase
    return data


def main():
    sys.meta_path.insert(0, NoGrader())
    sys.addaudithook(offline)
    calls = json.load(sys.stdin)
    sys.path.insert(0, str(Path(module_path).resolve().parent))
    try:
        spec = importlib.util.spec_from_file_location("learner_module", module_path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        code = (exc.text or "").strip()
        report(
            {
                "error": "SyntaxError",
                "message": exc.msg,
                "where": {"line": exc.lineno, "col": exc.offset, "code": code},
            }
        )
        return
    except BaseException as exc:
        report(failure(exc, "import"))
        return
    func = getattr(module, function, None)
    if not callable(func):
        report({"error": "MissingFunction", "message": f"no function named {function}"})
        return
    results = []
    for args in calls:
        try:
            value = func(*args)
        except SystemExit as exc:
            results.append(
                {
                    "error": "SystemExit",
                    "message": f"sys.exit({exc.code!r}) was called",
                    "where": where(exc.__traceback__),
                }
            )
            continue
        except BaseException as exc:
            results.append(failure(exc))
            continue
        try:
            text = json.dumps(value)
        except (TypeError, ValueError) as exc:
            message = f"{function} returned a value that is not plain JSON data ({exc})"
            results.append({"error": "NotJSON", "message": message})
            continue
        results.append({"value": json.loads(text)})
    report({"results": results})


main()
