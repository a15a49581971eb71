"""A citizen asks their insurer for a new code; the insurer's staff close the request.

One open request per person at a time; a representative's stops being open when their representation ends
(webapp/registry/open_requests.py). The request goes to the insurer that holds the person's record
when it is made, and the insurer's list shows the requests of the people it holds now. Closing as
`done` records the outcome only: staff reissue the code with `lifecycle.reissue` first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from webapp.db.transactions import atomic, locked
from webapp.extensions import db
from webapp.models import IssuedCode, Person, ReissueRequest, RequestStatus
from webapp.registry import audit, clock, lifecycle, people, reasons
from webapp.registry import open_requests as queue
from webapp.registry.errors import N_, NotFound, RegistryError

#: The reasons a citizen picks from, as the insurer reads them; "other" takes their own words instead.
REASONS = reasons.CITIZEN_REISSUE
REASON_MAX = reasons.REASON_MAX


class RequestAlreadyOpen(RegistryError):
    """The person already has a request the insurer has not closed yet."""


def reason_text(kind: str, details: str = "") -> str:
    """The reason as the insurer will read it: the chosen reason in Russian, or the citizen's own words."""
    return reasons.recorded(REASONS, kind, details)


def latest_request(person: Person) -> ReissueRequest | None:
    """The person's newest request, answered or waiting (not one a former representative left)."""
    mine = (ReissueRequest.person_id == person.id, queue.shown(ReissueRequest))
    return db.session.scalar(select(ReissueRequest).where(*mine).order_by(ReissueRequest.id.desc()).limit(1))


def open_request_of(person_id: int) -> ReissueRequest | None:
    return queue.open_of(ReissueRequest, person_id)


@atomic
def request_reissue(
    person: Person, reason: str, actor: str, now: datetime | None = None, filed_by: Person | None = None
) -> ReissueRequest:
    """Open a request with the person's insurer, filed by them or by `filed_by`, their representative. The
    person's row is locked, so two at once make one."""
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise RegistryError(N_("Причина: от 1 до %(count)d знаков"), count=REASON_MAX)
    moment = clock.now(now)
    locked = people.person_by_enp(person.enp, lock=True)
    if open_request_of(locked.id) is not None:
        raise RequestAlreadyOpen(N_("Заявка на перевыпуск уже подана и ждёт ответа страховой компании"))
    if people.open_policy(locked) is None:
        raise RegistryError(N_("Полиса пока нет: перевыпускать нечего"))
    queue.lapse(ReissueRequest, locked.id, moment)
    request = ReissueRequest(
        person=locked,
        insurer=locked.insurer,
        reason=reason,
        status=RequestStatus.OPEN,
        created_at=moment,
        filed_by_id=(filed_by or locked).id,
    )
    db.session.add(request)
    db.session.flush()
    details = {"request": request.id, "insurer": locked.insurer.code}
    audit.record(actor, "request_reissue", "person", locked.enp, reason, details, at=moment)
    return request


def open_requests(insurer_id: int) -> list[ReissueRequest]:
    """Open requests of the people this insurer holds now, oldest first (a transfer takes them along)."""
    return queue.listed(ReissueRequest, insurer_id)


def open_request(request_id: int, scope: str | None = None) -> ReissueRequest:
    """An open request of someone the caller's insurer holds (`scope`; None: the registry operator), to show
    before it is answered; NotFound for another insurer's, and RegistryError once it is closed (a colleague
    answered it, or the page is an old tab's) or its filer no longer represents the person."""
    request = db.session.get(ReissueRequest, request_id)
    if request is None or not _within(request, scope):
        raise NotFound(N_("Заявка не найдена"))
    if request.status != RequestStatus.OPEN:
        raise RegistryError(N_("Заявка уже закрыта"))
    queue.require_standing(request)
    return request


def _within(request: ReissueRequest, scope: str | None) -> bool:
    return scope is None or request.person.insurer.code == scope


@atomic
def close_request(
    request_id: int,
    status: str,
    actor: str,
    scope: str | None = None,
    now: datetime | None = None,
    decline_reason: str = "",
) -> ReissueRequest:
    """Mark a request done (the code was reissued) or declined, with the reason the citizen will read.

    `scope` is the acting staff member's insurer code (None for the registry operator): a request of
    someone another insurer holds answers NotFound, as their people do.
    """
    if status not in (RequestStatus.DONE, RequestStatus.DECLINED):
        raise RegistryError(N_("Заявку закрывают как выполненную или отклонённую"))
    request = db.session.scalar(locked(ReissueRequest, ReissueRequest.id == request_id))
    if request is None or not _within(request, scope):
        raise NotFound(N_("Заявка не найдена"))
    if request.status != RequestStatus.OPEN:
        raise RegistryError(N_("Заявка уже закрыта"))
    queue.require_standing(request)  # before the reason: no page asks for one to decline what cannot be answered
    words = reasons.decline_words(decline_reason) if status == RequestStatus.DECLINED else ""
    moment = clock.now(now)
    request.status = RequestStatus(status)
    request.closed_at = moment
    request.decline_reason = words
    db.session.flush()
    details = {"request": request.id, "status": str(request.status)}
    audit.record(actor, "close_reissue_request", "person", request.person.enp, words, details, at=moment)
    return request


@atomic
def fulfil(request_id: int, actor: str, scope: str | None = None, now: datetime | None = None) -> ReissueRequest:
    """Reissue the person's code and close their request as done, in one transaction."""
    request = close_request(request_id, RequestStatus.DONE, actor, scope, now)
    lifecycle.reissue(request.person.enp, actor, reasons.ASKED_FOR % {"reason": request.reason}, scope=scope, now=now)
    return request


@atomic
def reissue_answering_requests(
    enp: str, actor: str, reason: str, scope: str | None = None, now: datetime | None = None
) -> IssuedCode:
    """Staff reissue from the person's page: a request the person had open is thereby done."""
    code = lifecycle.reissue(enp, actor, reason, scope=scope, now=now)
    waiting = open_request_of(code.person_id)
    if waiting is not None:
        close_request(waiting.id, RequestStatus.DONE, actor, scope, now)
    return code
