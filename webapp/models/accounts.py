from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.organisations import Clinic, Insurer
from webapp.models.people import Person


class Role(StrEnum):
    CITIZEN = "citizen"
    CLINIC = "clinic"
    INSURER = "insurer"
    ADMIN = "admin"


class User(db.Model):
    """A login. Staff belong to an insurer or a clinic; a citizen is a person.

    It answers what Flask-Login asks of a user (webapp/web/auth.py) without the model importing it.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    insurer_id: Mapped[int | None] = mapped_column(ForeignKey("insurers.id"))
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]

    insurer: Mapped[Insurer | None] = relationship()
    clinic: Mapped[Clinic | None] = relationship()
    person: Mapped[Person | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login: a disabled account cannot log in
        return self.active

    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)


#: `Ivanova` and `ivanova` are one login (webapp/registry/accounts.py), whoever writes first.
Index("uq_users_username_lower", func.lower(User.username), unique=True)


class LoginSession(db.Model):
    """One browser's login (webapp/registry/login_sessions.py). Its cookie carries a random id; only the id's
    SHA-256 is stored, so a copy of the database opens no session."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The login; the session ends PERMANENT_SESSION_LIFETIME after it.
    started_at: Mapped[datetime] = mapped_column(index=True)
    #: The last request, give or take a minute: it is written at most once a minute.
    seen_at: Mapped[datetime]


class ApiToken(db.Model):
    """A clinic system's bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    clinic: Mapped[Clinic] = relationship()
