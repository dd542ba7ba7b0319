"""The jail's one way out: given loopback ports of this machine, and nothing else.

A jail with a network namespace of its own cannot reach the machine's ``127.0.0.1``, which
is the point of it. Yet some learner code must talk to one server of the grader's (lab 6's
authorizer calls the authorization server's introspection endpoint). A :class:`Relay`
listens on one Unix socket per allowed port, in a private folder that the jail mounts; each
connection accepted there is joined to ``127.0.0.1:PORT`` on this machine, bytes copied both
ways, half-closes passed on. Inside the jail, the bootstrap listens on ``127.0.0.1:PORT`` and
joins each connection to the socket, so the learner's URL is the same on both sides and TLS
runs end to end: the relay sees only ciphertext. Whatever a learner sends to the socket, the
relay connects to its own port and to nowhere else.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

CHUNK = 65536
# A relay's folder is PREFIX + the pid of the process that made it + a random part.
PREFIX = "grader-reach-"
# A connection to the machine's own loopback is made at once or not at all.
CONNECT_SECONDS = 5.0


class Relay:
    """Unix sockets, one per port, each relaying to ``127.0.0.1:PORT`` on this machine.

    ``sockets`` maps each port to its socket's path (short: under /tmp). ``close()`` ends
    every connection and thread and removes the folder; it is idempotent.
    """

    def __init__(self, ports: Iterable[int]) -> None:
        self.ports = sorted({_port(p) for p in ports})
        base = "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()  # ~107 bytes
        _sweep(Path(base))
        prefix = f"{PREFIX}{os.getpid()}-"
        self.folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base))  # mode 0700
        self.sockets: dict[int, Path] = {}
        self._listeners: list[socket.socket] = []
        self._open: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._closed = False
        try:
            for port in self.ports:
                path = self.folder / f"{port}.sock"
                listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self._listeners.append(listener)
                listener.bind(str(path))
                listener.listen(64)
                self.sockets[port] = path
                self._start(self._accept, listener, port)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def threads(self) -> int:
        """How many of the relay's threads are alive (none once closed)."""
        with self._lock:
            return sum(t.is_alive() for t in self._threads)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            sockets = [*self._listeners, *self._open]
            threads = list(self._threads)
        for sock in sockets:  # wakes the threads blocked in accept() or recv()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(2.0)
        for sock in sockets:
            sock.close()
        with self._lock:
            self._open.clear()
            self._threads = {t for t in self._threads if t.is_alive()}
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- the threads ----------------------------------------------------------------

    def _start(self, target: Callable[..., None], *args: object) -> threading.Thread | None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="grader-reach")
        with self._lock:
            if self._closed:
                return None
            self._threads = {t for t in self._threads if t.is_alive()}
            self._threads.add(thread)
        thread.start()
        return thread

    def _track(self, sock: socket.socket) -> bool:
        """Remember an open socket so close() can end it; False once closed."""
        with self._lock:
            if self._closed:
                sock.close()
                return False
            self._open.add(sock)
            return True

    def _forget(self, *socks: socket.socket) -> None:
        with self._lock:
            for sock in socks:
                self._open.discard(sock)
        for sock in socks:
            sock.close()

    def _accept(self, listener: socket.socket, port: int) -> None:
        while True:
            try:
                inner, _ = listener.accept()
            except OSError:
                return  # closed
            if self._track(inner):
                self._start(self._join, inner, port)

    def _join(self, inner: socket.socket, port: int) -> None:
        """One connection from the jail: to this machine's 127.0.0.1:PORT, and only there."""
        try:
            outer = socket.create_connection(("127.0.0.1", port), timeout=CONNECT_SECONDS)
        except OSError:
            self._forget(inner)  # the jail sees the connection closed, as if refused
            return
        outer.settimeout(None)
        if not self._track(outer):
            self._forget(inner)
            return
        back = self._start(_copy, outer, inner)
        if back is not None:
            _copy(inner, outer)
            back.join()
        self._forget(inner, outer)


def _copy(source: socket.socket, target: socket.socket) -> None:
    """Copy until ``source`` ends, then end ``target``'s sending side (a half-close). On an
    error both sockets are shut, so the other direction ends too."""
    try:
        while data := source.recv(CHUNK):
            target.sendall(data)
    except OSError:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        return
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


def _sweep(base: Path) -> None:
    """Remove the folders of relays whose process has died without closing them (killed,
    or ended with os._exit): only this user's, and only where that process is gone."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(base):
            pid = entry.name[len(PREFIX) :].partition("-")[0]
            if not entry.name.startswith(PREFIX) or not pid.isdigit():
                continue
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_uid != os.getuid():
                    continue
                try:
                    os.kill(int(pid), 0)
                    continue  # alive
                except ProcessLookupError:
                    shutil.rmtree(entry.path, ignore_errors=True)


def _port(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ValueError(f"a port is a number from 1 to 65535, not {value!r}")
    return value
