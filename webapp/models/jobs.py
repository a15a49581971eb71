"""Long registry operations run as jobs: their state and progress, which every process reads from here."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db


class JobKind(StrEnum):
    MASS_REISSUE = "mass_reissue"  # subject: the compromised key's kid
    IMPORT = "import"  # subject: the file's name (its first 80 characters), or its digest when it has none
    REVOCATION_SNAPSHOT = "revocation_snapshot"  # subject: "" (the list is the registry's)


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class Job(db.Model):
    """One run of a long operation (webapp/registry/job_queue.py), started from a page or a command.

    `done` and `heartbeat_at` move with each batch, in the batch's own transaction where the batch writes:
    the page's and the command's progress bars read them, whichever process runs the job.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_kind_subject", "kind", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(20), default=JobState.QUEUED)
    #: Who started it (for the audit log), and the insurer whose staff did, if any: they see only their own.
    actor: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str | None] = mapped_column(String(20))
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    #: What the job works on when it is not in the registry already: an import's file, zlib-compressed. Deferred,
    #: as `refused`: a page polling the job's progress reads neither (a million lines are tens of megabytes).
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    #: An import's refused lines, every one (`result` lists the first of them): their CSV, zlib-compressed.
    refused: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    #: What it came to (an import's counts and refused lines), or why it stopped, in words for the operator.
    result: Mapped[dict | None] = mapped_column(JSON)
    failure: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
