"""Insurer staff reissuing codes from several threads, each request with its own reason.

The reason lands in the audit entry, so the log tells which answered requests were applied, and how often.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import requests

from tests.faults.server import Session


@dataclass(frozen=True)
class Sent:
    reason: str
    status: int | None  # None: the connection broke, the outcome is unknown
    sent_at: float
    answered_at: float


class Load:
    def __init__(self, session: Session, enps: list[str], drivers: int = 4) -> None:
        self.log: list[Sent] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._drive, args=(session.clone(), enps, number)) for number in range(drivers)
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def _drive(self, session: Session, enps: list[str], number: int) -> None:
        sent = 0
        while not self._stop.is_set():
            enp = enps[(number + sent) % len(enps)]
            reason = f"нагрузка {number}-{sent}"
            started = time.monotonic()
            form = {"reason": "other", "details": reason}  # a reason of its own, found again in the audit log
            try:
                status: int | None = session.post(f"/insurer/person/{enp}/reissue", form).status_code
            except requests.RequestException:
                status = None
            self.log.append(Sent(reason, status, started, time.monotonic()))
            sent += 1

    def wait_for(self, answers: int, timeout: float = 60) -> None:
        """Until `answers` more requests have been answered."""
        target = len(self.log) + answers
        deadline = time.monotonic() + timeout
        while len(self.log) < target:
            assert time.monotonic() < deadline, "the load did not get going"
            time.sleep(0.05)
