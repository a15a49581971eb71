"""A TCP proxy on loopback between the app and PostgreSQL, that can lose a connection on purpose."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType

from tests.webapp.databases import PG_HOST


class Proxy:
    """Forwards bytes both ways. Armed, it passes the next COMMIT to the server and then drops the
    connection before the server's answer reaches the app: the commit happened, the app cannot know."""

    def __init__(self, upstream: tuple[str, int] = (PG_HOST, 5432), port: int = 0) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = int(self.listener.getsockname()[1])
        self.cut_after_commit = threading.Event()
        self.cuts = 0
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """The database gone from the app's view: open connections cut, new ones refused."""
        # shutdown wakes the threads blocked on them; close alone does not
        for connection in [self.listener, *self._open]:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def url(self, database_url: str) -> str:
        return database_url.replace(f"@{self.upstream[0]}:{self.upstream[1]}/", f"@127.0.0.1:{self.port}/")

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection(self.upstream)
            self._open += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, from_app: bool) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
                if from_app and b"COMMIT" in data and self.cut_after_commit.is_set():
                    self.cut_after_commit.clear()
                    self.cuts += 1
                    source.shutdown(socket.SHUT_RDWR)  # the app's end: it never hears the answer
                    time.sleep(0.3)  # while the server commits
                    return
        except OSError:
            pass
        finally:
            for end in (source, target):
                end.close()
