"""An open-loop load generator: requests start at random (Poisson) times at a set rate, whatever the answers do.

Why not wrk for this: wrk paces a fixed set of connections by pausing between an answer and the next
request. gunicorn's sync workers close the connection after every answer, so wrk reconnects at once
and spends the pause on an open, idle connection; a worker accepts it and sits blocked reading until
the request comes. Latency then grew with the pause itself (docs/benchmarks.md has the sweep). Here a
request opens its connection only when it is due and sends at once, as a clinic system does.

Latency counts from the moment a request was due, not from when it was sent, so a generator that
falls behind shows up in the figures instead of hiding the server's queue (no coordinated omission).
One thread and non-blocking sockets: a few tens of microseconds of Python per request.
"""

from __future__ import annotations

import errno
import math
import random
import selectors
import socket
import time
from dataclasses import dataclass, field

from _server import HOST, USER_AGENT, WrkResult

#: Requests still unanswered this long after the run are counted as errors.
GRACE_SECONDS = 10.0


@dataclass
class _Request:
    due: float
    payload: bytes
    sent: int = 0
    answer: bytearray = field(default_factory=bytearray)


def post_request(port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """A whole HTTP/1.1 POST request, ready to send."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {HOST}:{port}", f"User-Agent: {USER_AGENT}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


def run(port: int, requests: list[bytes], rate: float, seconds: float) -> WrkResult:
    """Send `requests` in turn (wrapping around) at `rate` per second on average for `seconds`."""
    with selectors.DefaultSelector() as selector:
        return _Generator(port, selector).run(requests, rate, seconds)


class _Generator:
    def __init__(self, port: int, selector: selectors.BaseSelector) -> None:
        self.port = port
        self.selector = selector

    def run(self, requests: list[bytes], rate: float, seconds: float) -> WrkResult:
        rng = random.Random(self.port)
        started = time.perf_counter()
        stop_sending = started + seconds
        give_up = stop_sending + GRACE_SECONDS
        next_due = started + rng.expovariate(rate)
        latencies: list[float] = []
        errors = sent = 0
        while True:
            now = time.perf_counter()
            while next_due <= now and next_due < stop_sending:
                errors += not self._open(_Request(next_due, requests[sent % len(requests)]))
                sent += 1
                next_due += rng.expovariate(rate)
            in_flight = len(self.selector.get_map())
            if (next_due >= stop_sending and not in_flight) or now > give_up:
                errors += in_flight
                break
            wait = max(0.0, next_due - now) if next_due < stop_sending else 0.05
            for key, mask in self.selector.select(wait):
                answered = self._progress(key, mask)
                if answered is True:
                    latencies.append((time.perf_counter() - key.data.due) * 1000)
                elif answered is False:
                    errors += 1
        for key in list(self.selector.get_map().values()):
            self._close(key.fileobj)  # type: ignore[arg-type]
        return _result(sorted(latencies), seconds, errors)

    def _open(self, request: _Request) -> bool:
        connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        connection.setblocking(False)
        if connection.connect_ex((HOST, self.port)) not in (0, errno.EINPROGRESS):
            connection.close()
            return False
        self.selector.register(connection, selectors.EVENT_WRITE, request)
        return True

    def _progress(self, key: selectors.SelectorKey, mask: int) -> bool | None:
        """Send or read what the socket allows: None while the exchange goes on, then whether it succeeded."""
        connection: socket.socket = key.fileobj  # type: ignore[assignment]
        request: _Request = key.data
        try:
            if mask & selectors.EVENT_WRITE:
                request.sent += connection.send(request.payload[request.sent :])
                if request.sent == len(request.payload):
                    self.selector.modify(connection, selectors.EVENT_READ, request)
                return None
            chunk = connection.recv(65536)
        except OSError:
            self._close(connection)
            return False
        if chunk:
            request.answer += chunk
            return None
        self._close(connection)  # the server closed: the answer is whole
        status = bytes(request.answer[9:12])
        return status.isdigit() and 200 <= int(status) < 400

    def _close(self, connection: socket.socket) -> None:
        self.selector.unregister(connection)
        connection.close()


def _result(latencies_ms: list[float], seconds: float, errors: int) -> WrkResult:
    """The run in the shape wrk's runs have, so both print in one table."""

    def percentile(share: float) -> float:
        return latencies_ms[min(len(latencies_ms) - 1, int(share * len(latencies_ms)))] if latencies_ms else math.nan

    return WrkResult(
        requests=len(latencies_ms),
        seconds=seconds,
        p50_ms=percentile(0.50),
        p95_ms=percentile(0.95),
        p99_ms=percentile(0.99),
        max_ms=latencies_ms[-1] if latencies_ms else math.nan,
        errors=errors,
    )
