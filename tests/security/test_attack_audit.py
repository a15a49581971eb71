"""Attacks on the audit log by someone who can read and write the database, but not the servers' files or
environment (a stolen database password, a DBA): issue 16.

They delete the newest entries, rewrite an entry and recompute every later hash, delete an entry in the
middle and re-link the rest, or put back an older copy of the whole table. Each must make
`flask --app webapp audit verify` exit non-zero with a Russian message naming what is wrong, never a
traceback. The attacker computes hashes with the formula anyone can read in the source; the key the
servers add (AUDIT_KEY) and the checkpoint file they keep are out of reach.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import threading
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert, select, text

from tests.helpers.registry import NOW, PASSPHRASE, SECRET_KEY, make_app, person_data, register
from tests.webapp.databases import audit_settings
from webapp.db.transactions import atomic
from webapp.extensions import db
from webapp.models import AuditEntry
from webapp.registry import lifecycle
from webapp.registry.errors import RegistryError

ROOT = Path(__file__).resolve().parents[2]
ENP = str(person_data().enp)
GENESIS = "0" * 64


def history(enp: str = ENP, changes: int = 3) -> None:
    """A person registered, then reissued and revoked: entries after the seed's."""
    register(person_data(enp[:15]))
    for turn in range(changes):
        lifecycle.reissue(enp, "smo:anna", f"потерян телефон {turn}", now=NOW)
    lifecycle.revoke(enp, "smo:anna", "украден", now=NOW)


def run(app: Flask, *arguments: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(arguments))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def verify(app: Flask, *arguments: str) -> tuple[int, str]:
    return run(app, "audit", "verify", *arguments)


def checkpoint_file(app: Flask) -> Path:
    return Path(app.config["AUDIT_CHECKPOINT"])


# The attacker's tools: plain SQL, and the published hash formula.


def entries() -> list[AuditEntry]:
    """The log as it is now, detached: what a test saw stays as it was while the rows change."""
    db.session.expire_all()
    log = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    db.session.expunge_all()
    return log


def published_hash(entry: AuditEntry, prev_hash: str) -> str:
    """SHA-256 over the entry's fields, as webapp/registry/audit.py computed it before this fix."""
    fields = {
        "prev": prev_hash,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "entity": entry.entity,
        "entity_key": entry.entity_key,
        "reason": entry.reason,
        "details": entry.details,
    }
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def rechain(start: int, stop: int | None = None) -> None:
    """Recompute the links and hashes of the entries from index `start` on (to `stop`), each after the one before."""
    log = entries()
    prev = log[start - 1].hash if start else GENESIS
    updates = []
    for entry in log[start:stop]:
        digest = published_hash(entry, prev)
        updates.append({"id": entry.id, "prev": prev, "hash": digest})
        prev = digest
    db.session.rollback()
    for update in updates:
        db.session.execute(text("UPDATE audit_log SET prev_hash = :prev, hash = :hash WHERE id = :id"), update)
    db.session.commit()


def sql(statement: str, **parameters: object) -> None:
    db.session.execute(text(statement), parameters)
    db.session.commit()


def table_copy() -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in db.session.execute(select(AuditEntry.__table__).order_by("id"))]


# A whole log verifies; each attack is detected.


def test_an_untouched_log_verifies_against_its_checkpoint(registry: Flask) -> None:
    history()
    last = entries()[-1]
    code, output = verify(registry)
    assert code == 0, output
    summary = f"Журнал цел: записей {len(entries())}, последняя сверена с контрольной точкой (запись {last.id})"
    assert output == summary + "\n"


def test_deleting_the_newest_entries_is_detected(registry: Flask) -> None:
    history()
    log = entries()
    sql("DELETE FROM audit_log WHERE id >= :id", id=log[-2].id)
    code, output = verify(registry)
    assert code == 1
    assert f"журнал короче контрольной точки: последняя запись {log[-3].id}, в контрольной точке {log[-1].id}" in output
    assert "Журнал повреждён" in output


def test_writing_on_after_a_truncation_does_not_hide_it(registry: Flask) -> None:
    """The app appends after the cut; on SQLite the new entries even take the deleted ones' ids."""
    history()
    log = entries()
    before = checkpoint_file(registry).read_bytes()
    sql("DELETE FROM audit_log WHERE id >= :id", id=log[-3].id)
    history(str(person_data("770000000000004").enp), changes=4)
    assert entries()[-1].id > log[-1].id, "the log has grown past the checkpoint again"
    assert checkpoint_file(registry).read_bytes() == before, "the checkpoint does not follow a cut log"
    code, output = verify(registry)
    assert code == 1
    # SQLite gave the deleted ids to the new entries; PostgreSQL's sequence went on past them.
    assert (
        f"запись {log[-1].id} не та, что в контрольной точке: журнал переписан" in output
        or f"записи {log[-1].id} из контрольной точки нет: записи удалены, а журнал продолжен после них" in output
    )


def test_a_rewritten_entry_with_every_later_hash_recomputed_is_detected(registry: Flask) -> None:
    history()
    log = entries()
    target = next(index for index, entry in enumerate(log) if entry.action == "reissue")
    sql("UPDATE audit_log SET reason = 'по просьбе' WHERE id = :id", id=log[target].id)
    rechain(target)
    code, output = verify(registry)
    assert code == 1
    assert f"запись {log[target].id}: подписана не ключом журнала" in output
    assert f"запись {log[-1].id} не та, что в контрольной точке: журнал переписан" in output


def test_rewriting_only_the_newest_entry_is_detected(registry: Flask) -> None:
    """The newest entry alone, with its hash recomputed: nothing later to break."""
    history()
    log = entries()
    sql("UPDATE audit_log SET reason = 'ошибка' WHERE id = :id", id=log[-1].id)
    rechain(len(log) - 1)
    code, output = verify(registry)
    assert code == 1
    assert f"запись {log[-1].id}: подписана не ключом журнала" in output


def test_a_middle_entry_deleted_and_the_rest_relinked_is_detected(registry: Flask) -> None:
    history()
    log = entries()
    middle = len(log) // 2
    sql("DELETE FROM audit_log WHERE id = :id", id=log[middle].id)
    rechain(middle)
    code, output = verify(registry)
    assert code == 1
    assert f"запись {log[middle + 1].id}: подписана не ключом журнала" in output


def test_a_middle_entry_deleted_is_detected(registry: Flask) -> None:
    history()
    log = entries()
    sql("DELETE FROM audit_log WHERE id = :id", id=log[3].id)
    code, output = verify(registry)
    assert code == 1
    assert f"запись {log[4].id}: цепочка разорвана" in output


def test_an_older_copy_of_the_table_is_detected(registry: Flask) -> None:
    history()
    older = table_copy()
    history(str(person_data("770000000000004").enp))
    sql("DELETE FROM audit_log")
    db.session.execute(insert(AuditEntry.__table__), older)
    db.session.commit()
    code, output = verify(registry)
    assert code == 1
    assert f"журнал короче контрольной точки: последняя запись {older[-1]['id']}" in output


def test_an_emptied_table_is_detected(registry: Flask) -> None:
    history()
    sql("DELETE FROM audit_log")
    code, output = verify(registry)
    assert code == 1
    assert "журнал короче контрольной точки: записей нет" in output


def test_every_entry_rehashed_without_the_key_is_detected(registry: Flask) -> None:
    """Every entry recomputed with the published formula, so the whole log passes for one from before the
    key: the chain links up, but the checkpoint's entry is not what it was."""
    history()
    newest = entries()[-1].id
    rechain(0)
    code, output = verify(registry)
    assert code == 1
    assert f"запись {newest} не та, что в контрольной точке: журнал переписан" in output


@pytest.mark.parametrize("column", ["at", "details"])
def test_a_garbled_entry_is_named_not_a_traceback(registry: Flask, database_url: str, column: str) -> None:
    """SQLite keeps whatever text it is given, even in a timestamp or JSON column."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL refuses a value of the wrong type")
    history()
    log = entries()
    sql(f"UPDATE audit_log SET {column} = 'не дата и не JSON' WHERE id = :id", id=log[2].id)
    code, output = verify(registry)
    assert code == 1
    assert f"запись {log[2].id}: не читается (испорчено поле {column})" in output
    assert f"запись {log[3].id}" not in output, "the entries after it are read and checked"


# The checkpoint: where it lives, what moves it, and the operator's own copy.


def test_the_checkpoint_file_is_created_0600(registry: Flask) -> None:
    path = checkpoint_file(registry)
    assert path.exists(), "the seed's entries wrote it"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lock = path.with_name(path.name + ".lock")
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600


def test_a_rolled_back_operation_leaves_the_checkpoint_where_it_was(registry: Flask) -> None:
    history()
    path = checkpoint_file(registry)
    before = path.read_bytes()

    @atomic
    def audited_then_refused() -> None:
        lifecycle.reissue(ENP, "smo:anna", "будет отменено", now=NOW)
        raise RegistryError("отказ после записи в журнал")

    with pytest.raises(RegistryError):
        audited_then_refused()
    assert path.read_bytes() == before
    sql("UPDATE audit_log SET reason = reason WHERE 1 = 0")  # a later commit that appends nothing
    assert path.read_bytes() == before
    assert verify(registry)[0] == 0


def test_a_checkpoint_that_cannot_be_written_does_not_fail_the_committed_change(
    registry: Flask, tmp_path: Path
) -> None:
    """The checkpoint moves after the commit: failing to write it is logged, and the change stands."""
    register()
    (tmp_path / "a-file").write_text("")
    registry.config["AUDIT_CHECKPOINT"] = str(tmp_path / "a-file" / "audit_checkpoint.json")
    code = lifecycle.reissue(ENP, "smo:anna", "потерян телефон", now=NOW)
    assert code.serial == 2
    assert entries()[-1].action == "reissue"
    verified, output = verify(registry)
    assert verified == 1
    assert "контрольной точки нет" in output


def test_the_operator_checkpoint_catches_what_the_local_one_no_longer_can(registry: Flask, tmp_path: Path) -> None:
    """The operator keeps a signed checkpoint elsewhere; the log is cut and the local checkpoint re-anchored
    (as a restore does), so only the operator's copy still knows how long the log was."""
    history()
    kept = tmp_path / "audit-checkpoint.json"
    code, output = run(registry, "audit", "checkpoint", str(kept))
    assert code == 0, output
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert run(registry, "audit", "checkpoint", str(kept))[0] == 1, "an existing file is not overwritten"
    assert verify(registry, "--checkpoint", str(kept))[0] == 0

    log = entries()
    sql("DELETE FROM audit_log WHERE id >= :id", id=log[-2].id)
    assert run(registry, "audit", "checkpoint", "--reset", str(tmp_path / "after-the-cut.json"))[0] == 0
    assert verify(registry)[0] == 0, "the local checkpoint was moved to the cut log on purpose"
    code, output = verify(registry, "--checkpoint", str(kept))
    assert code == 1
    assert f"журнал короче контрольной точки: последняя запись {log[-3].id}, в контрольной точке {log[-1].id}" in output


def test_a_forged_or_foreign_checkpoint_is_refused(registry: Flask, tmp_path: Path) -> None:
    history()
    kept = tmp_path / "kept.json"
    assert run(registry, "audit", "checkpoint", str(kept))[0] == 0
    forged = json.loads(kept.read_text())
    forged["entry"] = entries()[2].id
    forged["hash"] = entries()[2].hash
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    code, output = verify(registry, "--checkpoint", str(tmp_path / "forged.json"))
    assert code == 1
    assert "изменена или подписана не ключом журнала" in output

    (tmp_path / "garbage.json").write_text("{not json")
    code, output = verify(registry, "--checkpoint", str(tmp_path / "garbage.json"))
    assert code == 1
    assert "не читается" in output
    assert verify(registry, "--checkpoint", str(tmp_path / "absent.json"))[0] == 2


def test_another_audit_key_is_named(registry: Flask, database_url: str) -> None:
    history()
    other = make_app(database_url, AUDIT_KEY="another-key")
    with other.app_context():
        code, output = verify(other)
        db.session.remove()
    assert code == 1
    assert "ключом журнала AUDIT_KEY, но другим" in output


def test_a_missing_local_checkpoint_is_reported(registry: Flask, tmp_path: Path) -> None:
    history()
    checkpoint_file(registry).unlink()
    code, output = verify(registry)
    assert code == 1
    assert "контрольной точки нет" in output
    assert run(registry, "audit", "checkpoint", str(tmp_path / "copy.json"))[0] == 0
    assert verify(registry)[0] == 0, "`audit checkpoint` anchors the local checkpoint again"


def append_unkeyed(count: int, actor: str = "cli:old", first_id: int | None = None) -> None:
    """Entries hashed the way releases before the key hashed them, after the newest one."""
    prev = entries()[-1].hash if entries() else GENESIS
    for number in range(count):
        entry = AuditEntry(
            id=None if first_id is None else first_id + number,
            at=NOW, actor=actor, action="create_region", entity="region", entity_key=f"9{number}", reason="",
            details={},
        )  # fmt: skip
        entry.prev_hash, entry.hash = prev, published_hash(entry, prev)
        db.session.add(entry)
        prev = entry.hash
    db.session.commit()


def test_an_unkeyed_entry_slipped_in_after_the_old_ones_is_detected(registry: Flask, tmp_path: Path) -> None:
    """Right after the upgrade the log holds only old entries and a checkpoint: an attacker adds one more
    "old" entry before the first change after the upgrade chains onto it."""
    sql("DELETE FROM audit_log")
    checkpoint_file(registry).unlink()
    append_unkeyed(3)
    assert run(registry, "audit", "checkpoint", str(tmp_path / "first.json"))[0] == 0
    append_unkeyed(1, actor="cli:forger")
    forged = entries()[-1].id
    code, output = verify(registry)
    assert code == 1
    assert f"запись {forged}: подписана не ключом журнала" in output
    history()  # the app writes on, chaining onto the forged entry
    code, output = verify(registry)
    assert code == 1
    assert f"запись {forged}: подписана не ключом журнала" in output


def test_old_entries_renumbered_to_make_room_for_a_slipped_in_one_are_detected(registry: Flask, tmp_path: Path) -> None:
    """Ids are not hashed: the old entries are moved down one, so the slipped-in entry takes the id the
    checkpoint names, inside the range where unkeyed entries are allowed."""
    sql("DELETE FROM audit_log")
    checkpoint_file(registry).unlink()
    append_unkeyed(3)
    assert run(registry, "audit", "checkpoint", str(tmp_path / "first.json"))[0] == 0
    named = entries()[-1].id
    for entry in entries():
        sql("UPDATE audit_log SET id = :new WHERE id = :old", new=entry.id - 1, old=entry.id)
    append_unkeyed(1, actor="cli:forger", first_id=named)
    history()  # the app writes on, chaining onto the forged entry
    code, output = verify(registry)
    assert code == 1
    assert f"запись {named} не та, что в контрольной точке: журнал переписан" in output


def test_entries_from_before_the_key_are_covered_once_a_keyed_entry_follows(registry: Flask, tmp_path: Path) -> None:
    """Entries written before this change have plain SHA-256 hashes: they verify as they are, and once a
    keyed entry follows them its key covers the last of them, so rewriting them is detected."""
    sql("DELETE FROM audit_log")
    checkpoint_file(registry).unlink()
    append_unkeyed(3)
    assert run(registry, "audit", "checkpoint", str(tmp_path / "first.json"))[0] == 0
    history()
    assert verify(registry)[0] == 0

    log = entries()
    sql("UPDATE audit_log SET entity_key = '99' WHERE id = :id", id=log[0].id)
    rechain(0, 3)  # the old entries, rehashed as they were hashed
    code, output = verify(registry)
    assert code == 1
    assert f"запись {log[3].id}: цепочка разорвана" in output, "the first keyed entry covers the last old one"

    rechain(0)  # and every entry after them, so the whole log passes for an old one
    code, output = verify(registry)
    assert code == 1
    assert f"запись {log[-1].id} не та, что в контрольной точке: журнал переписан" in output


def test_concurrent_appenders_keep_one_chain_and_the_checkpoint_at_its_head(registry: Flask) -> None:
    """Threads racing for the chain's head: the unique prev_hash serialises them, and the checkpoint,
    written after each commit, ends on the newest entry and never moves back."""
    enps = [str(person_data(f"77000000000{index:04d}").enp) for index in range(10, 14)]
    for enp in enps:
        register(person_data(enp[:15]))
    db.session.remove()
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(enps))

    def reissue_many(enp: str) -> None:
        with registry.app_context():
            try:
                barrier.wait()
                for turn in range(5):
                    lifecycle.reissue(enp, "smo:anna", f"гонка {turn}")
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=reissue_many, args=(enp,)) for enp in enps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    log = entries()
    assert json.loads(checkpoint_file(registry).read_text())["entry"] == log[-1].id
    assert verify(registry)[0] == 0


def test_processes_writing_at_once_leave_a_whole_checkpoint(registry: Flask, database_url: str) -> None:
    """`flask codes reissue` in four processes at once, as production's commands and workers write."""
    enps = [str(person_data(f"77000000000{index:04d}").enp) for index in range(20, 24)]
    for enp in enps:
        register(person_data(enp[:15]))
    db.session.remove()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "SIGNING_KEY_PASSPHRASE": PASSPHRASE,
        **audit_settings(database_url),
    }
    command = [sys.executable, "-m", "flask", "--app", "webapp", "codes", "reissue"]
    commands = [
        subprocess.Popen([*command, enp], cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for enp in enps
    ]
    for process in commands:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
    assert json.loads(checkpoint_file(registry).read_text())["entry"] == entries()[-1].id
    assert verify(registry)[0] == 0


def test_the_real_command_reports_a_cut_log(registry: Flask, database_url: str) -> None:
    """`flask --app webapp audit verify` in its own process, configured from the environment as in production."""
    history()
    sql("DELETE FROM audit_log WHERE id = :id", id=entries()[-1].id)
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "SIGNING_KEY_PASSPHRASE": PASSPHRASE,
        **audit_settings(database_url),
    }
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", "audit", "verify"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "журнал короче контрольной точки" in done.stderr
    assert "Traceback" not in done.stderr
