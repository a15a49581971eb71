"""When a representation (a parent's, a guardian's) ends: at the child's majority, moved when their birth date is
corrected.

A link in force on a day is one whose `valid_to` is none or not before it (`Representation.lasting_on`).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import update

from webapp.extensions import db
from webapp.models import Person, Representation
from webapp.registry.rules import majority_eve


def follow_birth_date(person: Person, born_before: date) -> None:
    """Move the last day of `person`'s links that end at their majority to the majority of their corrected birth
    date, in the caller's transaction: a link then past its last day (the corrected date makes them an adult) is
    ended. A guardian's link with no end keeps none, and one the insurer ended (on another day) keeps its day."""
    moved = update(Representation).where(
        Representation.represented_id == person.id, Representation.valid_to == majority_eve(born_before)
    )
    db.session.execute(moved.values(valid_to=majority_eve(person.birth_date)))
