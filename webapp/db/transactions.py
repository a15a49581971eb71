"""One change, one transaction: retried when a concurrent writer got there first."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError

from webapp.extensions import db

P = ParamSpec("P")
T = TypeVar("T")

ATTEMPTS = 5
_ACTIVE = "atomic_operation_running"


def atomic(operation: Callable[P, T]) -> Callable[P, T]:
    """Run `operation` in a transaction: commit on success, roll back on any error.

    A unique-constraint clash or a lock/serialisation failure usually means a
    concurrent change won the race (two reissues, two audit appends): the
    operation is run again on fresh state, a few times, before giving up.

    A connection lost during COMMIT is not retried: the server may have
    committed, and running the change again would apply it twice.

    Called from inside another atomic operation, it joins that transaction:
    the outermost one commits, retries or rolls back the whole.
    """

    @functools.wraps(operation)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        info = db.session.info
        if info.get(_ACTIVE):
            return operation(*args, **kwargs)
        for attempt in range(1, ATTEMPTS + 1):
            info[_ACTIVE] = True
            committing = False
            try:
                result = operation(*args, **kwargs)
                committing = True
                db.session.commit()
                return result
            except (IntegrityError, OperationalError) as error:
                db.session.rollback()
                if attempt == ATTEMPTS or (committing and error.connection_invalidated):
                    raise
                time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 -- jitter, not a secret
            except BaseException:
                db.session.rollback()
                raise
            finally:
                info[_ACTIVE] = False
        raise AssertionError("unreachable")

    return run
