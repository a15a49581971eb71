"""The registry's tables. Import models from here."""

from webapp.models.accounts import ApiToken, LoginSession, Role, User
from webapp.models.audit import AuditEntry
from webapp.models.calendar import Holiday
from webapp.models.data_changes import DataChangeRequest, FormerName, PersonDataChange
from webapp.models.jobs import Job, JobKind, JobState
from webapp.models.keys import KeyChanges, SigningKeyRecord
from webapp.models.organisations import Clinic, Insurer, Region
from webapp.models.people import Category, EnpDirectory, Person, Representation, SnilsDirectory
from webapp.models.policies import (
    ClinicCheck,
    CodeStatus,
    InsurerChange,
    IssuedCode,
    Policy,
    PolicyKind,
    PolicyStatus,
    RevocationEvent,
    RevocationSnapshot,
    StatusCause,
)
from webapp.models.requests import ActivationCode, ReissueRequest, RequestStatus

#: The largest id an INTEGER primary key holds on PostgreSQL (SQLite's go further): ids from outside
#: (a URL, a command's argument) past it name no row.
MAX_ID = 2**31 - 1

__all__ = [
    "MAX_ID",
    "ActivationCode",
    "ApiToken",
    "AuditEntry",
    "Category",
    "Clinic",
    "ClinicCheck",
    "CodeStatus",
    "DataChangeRequest",
    "EnpDirectory",
    "FormerName",
    "Holiday",
    "Insurer",
    "InsurerChange",
    "IssuedCode",
    "Job",
    "JobKind",
    "JobState",
    "KeyChanges",
    "LoginSession",
    "Person",
    "PersonDataChange",
    "Policy",
    "PolicyKind",
    "PolicyStatus",
    "Region",
    "ReissueRequest",
    "Representation",
    "RequestStatus",
    "RevocationEvent",
    "RevocationSnapshot",
    "Role",
    "SigningKeyRecord",
    "SnilsDirectory",
    "StatusCause",
    "User",
]
