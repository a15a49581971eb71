"""Flask CLI commands (`flask --app webapp ...`), one group per subject.

Every command reports refusals as a one-line message and exits 1: no tracebacks.
"""

from __future__ import annotations

import os

import click
from flask import Flask

from webapp import console
from webapp.cli import interrupts
from webapp.cli.group import schema_group


def init_app(app: Flask) -> None:
    if os.environ.get("FLASK_RUN_FROM_CLI") == "true":  # the `flask` command (not a server, nor a test's runner)
        console.bind()  # as the app loads: before `flask` looks its command up and the commands' types are made
        interrupts.quiet()
    from webapp.cli import accounts, audit, backup, codes, demo, holidays, jobs, keys, organisations, persons, registry

    for group in (
        organisations.regions,
        organisations.insurers,
        organisations.clinics,
        registry.registry,
        accounts.users,
        accounts.tokens,
        codes.codes,
        persons.persons,
        keys.keys,
        audit.audit,
        holidays.holidays,
        backup.backup,
    ):
        app.cli.add_command(group)
    migrations = app.cli.commands.get("db")  # Flask-Migrate's, added by its init_app
    if isinstance(migrations, click.Group):
        app.cli.add_command(schema_group(migrations))
    app.cli.add_command(demo.demo)
    app.cli.add_command(jobs.worker)
