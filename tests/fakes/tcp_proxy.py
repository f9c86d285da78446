"""A TCP proxy on 127.0.0.1 in front of the database server, which a test can take down (every
open connection dropped, new ones closed at once) and bring back, or arm to drop everything the
moment a given statement passes through it: a database that stops in the middle of a request."""

import contextlib
import socket
import threading


class TcpProxy:
    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._up = True
        self._trigger: bytes | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def go_down(self) -> None:
        """The server stops: every connection is dropped and new ones are closed on arrival."""
        with self._lock:
            self._up = False
            self._trigger = None
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _drop(sock)

    def come_back(self) -> None:
        with self._lock:
            self._up = True

    def go_down_on(self, statement: bytes) -> None:
        """Go down as soon as a client sends bytes containing `statement` (before it reaches the server)."""
        with self._lock:
            self._trigger = statement

    def close(self) -> None:
        self._closed = True
        self.go_down()
        self.listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                up = self._up
            if not up:
                _drop(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _drop(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets.update((client, server))
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        try:
            while data := source.recv(65536):
                if from_client and self._trigger is not None and self._trigger in data:
                    self.go_down()
                    return
                target.sendall(data)
        except OSError:
            pass
        finally:
            _drop(source)
            _drop(target)


def _drop(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
