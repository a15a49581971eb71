"""One change, one transaction, also when one atomic service calls another."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from tests.webapp.pages import PASSWORD
from webapp.db.transactions import RunAgain, atomic
from webapp.extensions import db
from webapp.models import Role, User
from webapp.registry import accounts


class Boom(Exception):
    pass


@atomic
def create_user_then_fail() -> None:
    accounts.create_user("half-made", PASSWORD, Role.ADMIN, "test")
    raise Boom


def test_an_inner_atomic_operation_commits_only_with_the_outer_one(registry: Flask) -> None:
    with pytest.raises(Boom):
        create_user_then_fail()
    db.session.remove()
    assert db.session.scalar(select(User).where(User.username == "half-made")) is None


def test_an_atomic_operation_on_its_own_still_commits(registry: Flask) -> None:
    accounts.create_user("whole", PASSWORD, Role.ADMIN, "test")
    db.session.remove()
    assert db.session.scalar(select(User).where(User.username == "whole")) is not None


def test_an_operation_that_asks_to_run_again_runs_again_on_fresh_state(registry: Flask) -> None:
    """`RunAgain` (a key made after the operation's moment, found after a wait) is retried as a lost race is: what
    the first attempt wrote is rolled back, and the second attempt's is committed."""
    attempts: list[str] = []

    @atomic
    def create_user_twice() -> None:
        attempts.append("attempt")
        accounts.create_user(f"attempt-{len(attempts)}", PASSWORD, Role.ADMIN, "test")
        if len(attempts) == 1:
            raise RunAgain

    create_user_twice()
    db.session.remove()
    assert len(attempts) == 2
    made = db.session.scalars(select(User.username).where(User.username.startswith("attempt-"))).all()
    assert made == ["attempt-2"]
