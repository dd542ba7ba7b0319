"""The first code of a learner process: loads the learner's file and calls one function.

Not imported by the grader: :mod:`grader.grading.learner` passes this file's text to
``python -c`` inside the jail (:mod:`grader.grading.jail`), where the grader package is not
available. So it imports only the standard library, and it must stay small.

argv: MODULE_PATH FUNCTION RESULT_FD [--serve] [--reach PORT=SOCKET]...

Batch mode (no ``--serve``): stdin is a JSON list of argument lists; what goes to the result
descriptor (a pipe) is ``{"results": [{"value": ...} | {"error": ...}, ...]}``, or one
``{"error": ...}`` when the file cannot be loaded at all.

Serve mode (``--serve``, a warm function): stdin holds one JSON argument list per line (or
``null``: "did the file load?", answered ``{"value": null}`` or the load error); for
each, one line ``{"value": ...}`` or ``{"error": ...}`` goes to the result descriptor,
after what the call printed has been flushed. A file that cannot be loaded answers every
call with the same error.

``--reach PORT=SOCKET``: before the learner's file is loaded, listen on 127.0.0.1:PORT in
the jail and join each connection to the Unix socket SOCKET, a relay to the machine's own
127.0.0.1:PORT (grader.grading.reach).
"""

import contextlib
import fcntl
import importlib.util
import ipaddress
import json
import os
import socket
import struct
import sys
import threading
import traceback
from pathlib import Path

module_path, function, result_fd = sys.argv[1], sys.argv[2], int(sys.argv[3])
options = sys.argv[4:]
serving = "--serve" in options
routes = [options[i + 1] for i, o in enumerate(options[:-1]) if o == "--reach"]
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


def loopback_up():
    """At the namespaces level the new network namespace's ``lo`` is down; as its mapped
    root we may bring it up (bubblewrap has done so already)."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            asked = struct.pack("16sH14x", b"lo", 0)
            flags = struct.unpack("16sH14x", fcntl.ioctl(sock, siocgifflags, asked))[1]
            if not flags & iff_up:
                fcntl.ioctl(sock, siocsifflags, struct.pack("16sH14x", b"lo", flags | iff_up))
    except OSError:
        pass  # then binding fails below, and the learner's connection is refused


def pump(source, target):
    try:
        while data := source.recv(65536):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def relay(inner, path):
    with inner, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as outer:
        try:
            outer.connect(path)
        except OSError:
            return
        back = threading.Thread(target=pump, args=(outer, inner), daemon=True)
        back.start()
        pump(inner, outer)
        back.join()


def listen(route):
    """127.0.0.1:PORT in the jail, joined to the relay's Unix socket for that port."""
    port, path = route.split("=", 1)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", int(port)))
    server.listen(64)

    def accept():
        while True:
            try:
                inner, _ = server.accept()
            except OSError:
                server.close()  # out of descriptors, say: refuse from now on, do not hang
                return
            threading.Thread(target=relay, args=(inner, path), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()


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


def load():
    """The learner's function, or the error every call of it gets."""
    sys.meta_path.insert(0, NoGrader())
    sys.addaudithook(offline)
    if routes:
        loopback_up()
    for route in routes:
        try:
            listen(route)
        except (OSError, ValueError) as exc:
            port = route.split("=", 1)[0]
            message = f"the jail could not open 127.0.0.1:{port} for your code ({exc})"
            return None, {"error": "OSError", "message": message}
    sys.path.insert(0, str(Path(module_path).resolve().parent))
    try:
        spec = importlib.util.spec_from_file_location("learner_module", module_path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        code = (exc.text or "").strip()
        where_ = {"line": exc.lineno, "col": exc.offset, "code": code}
        return None, {"error": "SyntaxError", "message": exc.msg, "where": where_}
    except BaseException as exc:
        return None, failure(exc, "import")
    func = getattr(module, function, None)
    if not callable(func):
        return None, {"error": "MissingFunction", "message": f"no function named {function}"}
    return func, None


def call(func, args):
    try:
        value = func(*args)
    except SystemExit as exc:
        message = f"sys.exit({exc.code!r}) was called"
        return {"error": "SystemExit", "message": message, "where": where(exc.__traceback__)}
    except BaseException as exc:
        return failure(exc)
    try:
        text = json.dumps(value)
    except (TypeError, ValueError) as exc:
        message = f"{function} returned a value that is not plain JSON data ({exc})"
        return {"error": "NotJSON", "message": message}
    return {"value": json.loads(text)}


def batch():
    calls = json.load(sys.stdin)
    func, error = load()
    report(error or {"results": [call(func, args) for args in calls]})


def serve():
    # The requests come on a descriptor of our own: stdin becomes /dev/null, so neither the
    # learner's code nor its child processes read (or hold) them.
    requests = os.fdopen(os.dup(0), "rb")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    answers = os.fdopen(result_fd, "w", encoding="utf-8")
    func, error = load()
    for line in requests:
        request = json.loads(line)
        # null asks only whether the file loaded (LearnerWorker.start); calls are lists.
        answer = error or ({"value": None} if request is None else call(func, request))
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            with contextlib.suppress(Exception):
                stream.flush()  # what the call printed reaches the pipe before its answer
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


serve() if serving else batch()
