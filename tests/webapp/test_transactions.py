"""One change, one transaction, also when one atomic service calls another."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from tests.webapp.pages import PASSWORD
from webapp.db.transactions import atomic
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
