"""Insurers, clinics and regions, as the registry operator manages them."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select

from signing import KeyStatus
from webapp.db import partitions
from webapp.db.transactions import atomic
from webapp.extensions import db
from webapp.models import ApiToken, Clinic, Insurer, Person, Region, SigningKeyRecord, User
from webapp.registry import audit, typed_names
from webapp.registry.errors import N_, NotFound, RegistryError
from webapp.registry.keys import keystore

#: ASCII digits only: `\d` would take any script's digits (٧٧٠٠١, ７７００１) as a different code.
_INSURER_CODE = re.compile(r"[0-9]{5}")
_REGION_CODE = re.compile(r"[0-9]{2}")
_CLINIC_CODE = re.compile(r"[0-9A-Za-z-]{1,20}")


def region_by_code(code: str | None) -> Region | None:
    if code is None:
        return None
    region = db.session.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise NotFound(N_("Регион %(code)s не найден"), field="region", code=code)
    return region


@atomic
def create_region(code: str, name: str, actor: str) -> Region:
    if not _REGION_CODE.fullmatch(code):
        raise RegistryError(N_("Код региона — 2 цифры"), field="code")
    if db.session.scalar(select(Region.id).where(Region.code == code)):
        raise RegistryError(N_("Регион %(code)s уже есть"), field="code", code=code)
    region = Region(code=code, name=typed_names.kept(name, Region.__table__.c.name, N_("Укажите название региона")))
    db.session.add(region)
    partitions.add_region(code)
    audit.record(actor, "create_region", "region", code)
    return region


@atomic
def create_insurer(
    code: str, name: str, actor: str, region_code: str | None = None, now: datetime | None = None
) -> Insurer:
    """A new insurer with its first signing key."""
    if not _INSURER_CODE.fullmatch(code):
        raise RegistryError(N_("Код СМО — 5 цифр (реестровый номер)"), field="code")
    name = typed_names.kept(name, Insurer.__table__.c.name, N_("Укажите название СМО"))
    if db.session.scalar(select(Insurer.id).where(Insurer.code == code)):
        raise RegistryError(N_("СМО с кодом %(code)s уже есть"), field="code", code=code)
    insurer = Insurer(code=code, name=name, region=region_by_code(region_code))
    db.session.add(insurer)
    key = keystore.create_key(code, insurer, now)
    audit.record(actor, "create_insurer", "insurer", code, details={"kid": key.kid})
    return insurer


@atomic
def create_clinic(code: str, name: str, actor: str, region_code: str | None = None) -> Clinic:
    if not _CLINIC_CODE.fullmatch(code):
        raise RegistryError(N_("Код клиники: до 20 латинских букв, цифр и дефисов"), field="code")
    name = typed_names.kept(name, Clinic.__table__.c.name, N_("Укажите название клиники"))
    if db.session.scalar(select(Clinic.id).where(Clinic.code == code)):
        raise RegistryError(N_("Клиника с кодом %(code)s уже есть"), field="code", code=code)
    clinic = Clinic(code=code, name=name, region=region_by_code(region_code))
    db.session.add(clinic)
    audit.record(actor, "create_clinic", "clinic", code)
    return clinic


def regions() -> list[Region]:
    return list(db.session.scalars(select(Region).order_by(Region.code)))


def insurers() -> list[Insurer]:
    return list(db.session.scalars(select(Insurer).order_by(Insurer.code)))


def clinics() -> list[Clinic]:
    return list(db.session.scalars(select(Clinic).order_by(Clinic.code)))


def insured_by_insurer() -> dict[int, int]:
    """Insurer id → how many people its record holds."""
    return dict(db.session.execute(select(Person.insurer_id, func.count()).group_by(Person.insurer_id)).all())


def counts() -> dict[str, int]:
    """The operator's overview: insurers, clinics, logins, live API tokens and active signing keys."""
    return {
        "insurers": db.session.scalar(select(func.count(Insurer.id))) or 0,
        "clinics": db.session.scalar(select(func.count(Clinic.id))) or 0,
        "users": db.session.scalar(select(func.count(User.id))) or 0,
        "tokens": db.session.scalar(select(func.count(ApiToken.id)).where(ApiToken.revoked_at.is_(None))) or 0,
        "active_keys": db.session.scalar(
            select(func.count(SigningKeyRecord.id)).where(SigningKeyRecord.status == KeyStatus.ACTIVE)
        )
        or 0,
    }
