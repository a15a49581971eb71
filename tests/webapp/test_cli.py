"""The CLI of the README: every command has --help, does its job, and fails cleanly."""

from __future__ import annotations

import base64
import errno
import json
import os
import subprocess
from pathlib import Path
from typing import TextIO

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from policy_codes import Verdict
from tests.helpers.registry import NOW, person_data, register
from webapp.extensions import db
from webapp.registry import bulk_import
from webapp.registry.verification import verify_scan

ENP = str(person_data().enp)

COMMANDS = [
    ["db", "upgrade"],
    ["regions", "create"],
    ["insurers", "create"],
    ["clinics", "create"],
    ["registry", "import"],
    ["registry", "export"],
    ["registry", "shared-snils"],
    ["registry", "end-representation"],
    ["registry", "restore-representation"],
    ["users", "create"],
    ["users", "password"],
    ["tokens", "create"],
    ["tokens", "revoke"],
    ["codes", "show"],
    ["codes", "revoke"],
    ["codes", "reissue"],
    ["persons", "correct"],
    ["keys", "list"],
    ["keys", "rotate"],
    ["keys", "compromised"],
    ["keys", "resume-reissue"],
    ["keys", "revocation-snapshot"],
    ["audit", "verify"],
    ["audit", "checkpoint"],
    ["holidays", "add"],
    ["holidays", "seed"],
    ["demo"],
    ["worker"],
]


def run(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args))
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help(app: Flask, command: list[str]) -> None:
    code, output = run(app, *command, "--help")
    assert code == 0
    assert "Usage" in output


def test_codes_show_revoke_reissue(registry: Flask) -> None:
    register()
    code, text = run(registry, "codes", "show", ENP)
    assert code == 0
    assert verify_scan(text.strip()).verdict is Verdict.VALID
    assert run(registry, "codes", "reissue", ENP)[1].startswith("Выпущен код №2")
    assert verify_scan(text.strip()).verdict is Verdict.SUPERSEDED
    assert run(registry, "codes", "revoke", ENP, "--reason", "украден")[0] == 0
    assert run(registry, "codes", "show", ENP) == (1, "Error: Действующего кода нет\n")


def test_keys_rotate_list_and_compromised(registry: Flask) -> None:
    old_text = register().text
    code, listing = run(registry, "keys", "list")
    assert code == 0
    old_kid = next(line.split()[0] for line in listing.splitlines() if " 77001 " in f" {line} ")
    assert run(registry, "keys", "rotate", "--insurer", "77001")[0] == 0
    assert verify_scan(old_text).verdict is Verdict.VALID  # a retired key still verifies
    code, output = run(registry, "keys", "compromised", old_kid)
    assert code == 0
    assert "перевыпущено кодов: 1" in output
    assert verify_scan(old_text).verdict is Verdict.KEY_COMPROMISED
    _, text = run(registry, "codes", "show", ENP)
    assert verify_scan(text.strip()).verdict is Verdict.VALID


def test_users_and_tokens(registry: Flask) -> None:
    register()
    assert (
        run(
            registry,
            "users",
            "create",
            "--username",
            "anna",
            "--role",
            "insurer",
            "--insurer",
            "77001",
            "--password",
            "long-enough-pass",
        )[0]
        == 0
    )
    assert (
        run(
            registry,
            "users",
            "create",
            "--username",
            "ivanova",
            "--role",
            "citizen",
            "--enp",
            ENP,
            "--password",
            "long-enough-pass",
        )[0]
        == 0
    )
    code, token = run(registry, "tokens", "create", "--clinic", "GP-001", "--name", "МИС")
    assert code == 0
    assert token.startswith("oms_")
    assert len(token.strip()) > 40


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["codes", "show", "1234567890123452"], "не найден"),
        (["codes", "revoke", "1234567890123452", "--reason", "x"], "не найден"),
        (["insurers", "create", "77", "Плохой код"], "5 цифр"),
        (["insurers", "create", "77001", "Дубль"], "уже есть"),
        (["clinics", "create", "GP-001", "Дубль"], "уже есть"),
        (["insurers", "create", "77009", "Я" * 201], "Название: не длиннее 200 знаков"),
        (["regions", "create", "51", "Я" * 201], "Название: не длиннее 200 знаков"),
        (["regions", "create", "51", " "], "Укажите название региона"),
        (["clinics", "create", "GP-002", "Поли\u200bклиника"], "Только видимые знаки"),
        (["tokens", "create", "--clinic", "GP-001", "--name", "М" * 101], "(для чего он): не длиннее 100 знаков"),
        (["users", "create", "--username", "x", "--role", "admin", "--password", "short"], "не короче"),
        (["users", "create", "--username", "x", "--role", "clinic", "--password", "long-enough-pass"], "клинику"),
        (["users", "password", "--username", "nobody"], "nobody не найден"),
        (["tokens", "create", "--clinic", "NOPE"], "не найдена"),
        (["tokens", "revoke", "99999999999999999999"], "99999999999999999999"),
        (["keys", "rotate", "--insurer", "99999"], "не найдена"),
        (["keys", "compromised", "deadbeef"], "не найден"),
        (["registry", "import", "/nonexistent.csv"], "does not exist"),
        (["holidays", "add", "31-12-2026"], "31-12-2026"),
        (["worker"], "JOB_QUEUE_URL"),
    ],
)
def test_refusals_are_clean(registry: Flask, args: list[str], message: str) -> None:
    code, output = run(registry, *args)
    assert code != 0
    assert message in output


def test_a_refused_login_names_every_reason(registry: Flask) -> None:
    code, output = run(registry, "users", "create", "--username", "Иван", "--role", "clinic", "--password", "short")
    assert code != 0
    assert "Логин — до 80 латинских букв" in output
    assert "Пароль должен быть не короче 10 знаков" in output
    assert "Укажите клинику" in output


def test_a_registry_file_in_windows_1251_is_refused_cleanly(registry: Flask, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        f"{','.join(bulk_import.COLUMNS)}\n7700000000000016,Иванова,Мария,,1990-04-12,F,,77001,citizen,,\n".encode(
            "cp1251"
        )
    )
    code, output = run(registry, "registry", "import", str(path))
    assert code != 0
    assert "Файл не в кодировке UTF-8 (строка 2): сохраните его как «CSV UTF-8»" in output
    assert "Traceback" not in output


def test_demo_loads_once_and_prints_logins(app: Flask) -> None:
    code, output = run(app, "demo")
    assert code == 0
    assert "admin / admin-demo-2026" in output
    code, output = run(app, "demo")
    assert code == 0
    assert "уже загружены" in output
    with app.app_context():
        _, text = run(app, "codes", "show", "7700000000000016")
        assert verify_scan(text.strip()).verdict is Verdict.VALID


def test_a_database_without_schema_gets_a_clear_message(tmp_path) -> None:
    from tests.helpers.registry import make_app

    empty = make_app(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    code, output = run(empty, "codes", "show", ENP)
    assert code == 1
    assert "db upgrade" in output
    assert NOW  # the fixed clock is shared with the other tests


def test_a_command_under_another_passphrase_stores_no_key_and_says_so_in_russian(registry: Flask) -> None:
    """A command run without the servers' SIGNING_KEY_PASSPHRASE (one generated into its own instance folder)
    stored a key no server could open, and a rotation retired the key they signed with."""
    from tests.helpers.registry import make_app
    from webapp.registry.keys import keystore

    register()
    before = [(record.kid, record.status) for record in keystore.all_keys()]
    other = make_app(str(db.engine.url.render_as_string(hide_password=False)), SIGNING_KEY_PASSPHRASE="x" * 40)
    with other.app_context():
        for args in (["keys", "rotate", "--insurer", "77001"], ["insurers", "create", "77009", "Новая СМО"]):
            code, output = run(other, *args)
            assert code == 1
            assert "SIGNING_KEY_PASSPHRASE не открывает ключи, уже хранимые в базе" in output
        code, output = run(other, "codes", "reissue", ENP)
        assert code == 1
        assert "не открывается парольной фразой SIGNING_KEY_PASSPHRASE" in output
        db.session.remove()
    db.session.expire_all()
    assert [(record.kid, record.status) for record in keystore.all_keys()] == before
    assert run(registry, "codes", "reissue", ENP)[0] == 0


def flask_command(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    from tests.faults.server import ROOT, app_environment

    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "flask"), "--app", "webapp", *args],
        env={**app_environment("sqlite:///unused"), **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_db_upgrade_against_a_database_that_does_not_answer_says_so() -> None:
    from tests.faults.server import free_port

    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/oms"
    done = flask_command({"DATABASE_URL": url}, "db", "upgrade")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert (
        "Ошибка: База данных недоступна или занята: проверьте DATABASE_URL и что сервер базы данных запущен"
        in done.stderr
    )


@pytest.mark.parametrize("url", ["garbage", "mysql://root:hunter2-secret@db/oms", "postgres ql://x"])
def test_a_database_url_of_another_kind_is_refused_without_quoting_it(url: str) -> None:
    done = flask_command({"DATABASE_URL": url}, "keys", "list")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "Ошибка: DATABASE_URL — не адрес базы SQLite или PostgreSQL" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout


def test_a_database_that_does_not_answer_is_not_sent_to_db_upgrade(tmp_path: Path) -> None:
    """Every refusal by the database read «не создана: выполните db upgrade», a busy or stopped one's too; only
    missing tables send the operator there."""
    from tests.faults.server import free_port

    down = flask_command({"DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/oms"}, "keys", "list")
    assert down.returncode == 1
    assert "Ошибка: База данных недоступна или занята: проверьте DATABASE_URL" in down.stderr
    assert "db upgrade" not in down.stderr

    older = {"DATABASE_URL": f"sqlite:///{tmp_path / 'older.sqlite'}"}
    assert flask_command(older, "db", "upgrade", "0001").returncode == 0
    behind = flask_command(older, "codes", "show", ENP)
    assert behind.returncode == 1
    assert "Ошибка: База данных не создана или не обновлена: выполните `flask --app webapp db upgrade`" in behind.stderr


def test_an_export_cut_short_leaves_the_previous_file_whole(
    registry: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export that failed half-way (a full disk, Ctrl-C, a lost database) left a truncated CSV in place of the
    previous export, with nothing in it to say so."""
    register()
    target = tmp_path / "registry.csv"
    assert run(registry, "registry", "export", str(target))[0] == 0
    previous = target.read_bytes()

    def half_then_full_disk(out: TextIO) -> int:
        out.write("enp,surname\n")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(bulk_import, "export_csv", half_then_full_disk)
    code, output = run(registry, "registry", "export", str(target))
    assert code == 1
    assert f"Файл {target} не записан: No space left on device" in output
    assert target.read_bytes() == previous
    assert list(tmp_path.iterdir()) == [target]


def test_two_imports_of_one_file_at_once_end_cleanly(
    registry: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two imports of one file at once: the second to write a person ended in an IntegrityError's traceback,
    which on PostgreSQL quotes the clashing row (a person's number, name and birth date). The race is played
    here by the other import registering the file's people between this one's look-up and its write."""
    register()
    path = tmp_path / "registry.csv"
    path.write_text(
        f"{','.join(bulk_import.COLUMNS)}\n{ENP},Иванова,Мария,Петровна,1990-04-12,F,,77001,citizen,,\n",
        encoding="utf-8",
    )
    # Both look-ups miss it, the one that would refuse the line alone included (test_snils_unique.py plays that).
    monkeypatch.setattr(bulk_import, "_registered", lambda lines: (frozenset(), frozenset()))
    code, output = run(registry, "registry", "import", str(path))
    assert code == 1
    assert "Error: Команда остановлена: те же записи одновременно изменил другой процесс" in output
    assert ENP not in output
    monkeypatch.undo()
    code, output = run(registry, "registry", "import", str(path))
    assert (code, output.splitlines()[-1]) == (
        0,
        "Создано: 0, обновлено: 0, без изменений: 1, связей с представителями: 0, ошибок: 0",
    )


def _memory_capped() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["registry", "import", "/dev/zero"], "Ошибка: /dev/zero — устройство, а не файл"),
        (["audit", "verify", "--checkpoint", "/dev/zero"], "контрольная точка /dev/zero не читается"),
    ],
    ids=["registry import", "audit verify"],
)
def test_a_device_given_as_a_file_is_not_read_until_memory_runs_out(
    args: list[str], message: str, tmp_path: Path
) -> None:
    from tests.faults.server import ROOT, app_environment

    database = f"sqlite:///{tmp_path / 'oms.sqlite'}"
    environment = app_environment(database)
    assert flask_command({"DATABASE_URL": database}, "db", "upgrade").returncode == 0
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "flask"), "--app", "webapp", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=_memory_capped,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert message in done.stderr


def test_a_command_under_another_audit_key_writes_nothing(registry: Flask, database_url: str) -> None:
    """A command run without the servers' AUDIT_KEY (one generated into its own instance folder) wrote its audit
    entries under that key: `audit verify` then read them as changed for good, as the log has no key rotation."""
    from tests.helpers.registry import make_app
    from webapp.models import AuditEntry, IssuedCode

    register()
    db.session.commit()
    entries, codes = (db.session.scalar(select(func.count(table.id))) for table in (AuditEntry, IssuedCode))
    other = make_app(database_url, AUDIT_KEY="another-audit-key-Zq8wE1tLx3Bv7Nh2Ry5M")
    with other.app_context():
        code, output = run(other, "codes", "reissue", ENP)
        db.session.remove()
    assert code == 1
    assert "AUDIT_KEY не тот, которым подписан журнал аудита: изменение не записано" in output
    db.session.expire_all()
    assert [db.session.scalar(select(func.count(table.id))) for table in (AuditEntry, IssuedCode)] == [entries, codes]
    assert run(registry, "codes", "reissue", ENP)[0] == 0
    assert run(registry, "audit", "verify")[0] == 0


def test_a_database_behind_the_migrations_is_refused_before_a_command_starts(older_app: Flask, tmp_path: Path) -> None:
    """A command on a database behind the migrations ran until it met a missing column: `keys list` answered from
    the old tables, an import wrote until it met one."""
    behind = "Error: База данных не создана или не обновлена: выполните `flask --app webapp db upgrade`\n"
    path = tmp_path / "registry.csv"
    path.write_text(f"{','.join(bulk_import.COLUMNS)}\n{ENP},Иванова,Мария,Петровна,1990-04-12,F,,77001,citizen,,\n")
    for args in (["keys", "list"], ["registry", "import", str(path)], ["regions", "create", "77", "г. Москва"]):
        assert run(older_app, *args) == (1, behind)
    with older_app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM regions")).scalar() == 0
    # What comes before the upgrade needs no current schema: help, a usage error, the audit log's check, a backup.
    assert run(older_app, "keys", "list", "--help")[0] == 0
    assert run(older_app, "registry", "import")[0] == 2
    assert run(older_app, "audit", "verify")[0] == 0
    assert run(older_app, "backup", "create", str(tmp_path / "before-upgrade.bak"))[0] == 0
    assert run(older_app, "db", "upgrade")[0] == 0
    assert run(older_app, "regions", "create", "77", "г. Москва")[0] == 0


@pytest.mark.parametrize("args", [["registry", "export", "-"], ["keys", "registry-jwks"]], ids=" ".join)
def test_a_reader_that_stops_ends_the_command_quietly_with_sigpipes_status(args: list[str], tmp_path: Path) -> None:
    """`flask … registry export - | head -1`: the command exited 1, as for a failure, with nothing said; a C tool
    is ended by SIGPIPE, which the shell reports as 141. The reader here closes the pipe before the first line."""
    from tests.faults.server import ROOT, app_environment

    database = f"sqlite:///{tmp_path / 'oms.sqlite'}"
    assert flask_command({"DATABASE_URL": database}, "db", "upgrade").returncode == 0
    assert flask_command({"DATABASE_URL": database}, "demo").returncode == 0
    with subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "flask"), "--app", "webapp", *args],
        env=app_environment(database),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as command:
        assert command.stdout is not None
        assert command.stderr is not None
        command.stdout.close()
        said = command.stderr.read()
    assert command.returncode == 141
    assert said == ""


def test_compromising_the_registry_key_makes_a_new_one_and_says_to_hand_it_out(registry: Flask) -> None:
    """`keys compromised` on the registry's key (it signs the published lists) started a reissue of no codes and
    said «перевыпущено кодов: 0»: no new key until the next list was asked for, and no word of the clinics'
    pins, which must change."""
    from webapp.models import Job
    from webapp.registry.keys import keystore, publication

    old = publication.registry_key().kid.hex()
    db.session.commit()
    code, output = run(registry, "keys", "compromised", old)
    assert code == 0
    new = next(record.kid for record in keystore.all_keys() if record.owner == "registry" and record.kid != old)
    assert output.startswith(
        f"Ключ оператора реестра {old} скомпрометирован. Списки теперь подписывает новый ключ {new}"
    )
    assert "flask --app webapp keys registry-jwks > registry.jwks" in output
    assert db.session.scalar(select(func.count(Job.id))) == 0
    code, pin = run(registry, "keys", "registry-jwks")
    statuses = {base64.urlsafe_b64decode(key["kid"] + "==").hex(): key["status"] for key in json.loads(pin)["keys"]}
    assert statuses == {old: "compromised", new: "active"}
