import click
from flask.cli import with_appcontext

from webapp.cli.group import RegistryCommand
from webapp.ops import demo as demo_data


@click.command("demo", cls=RegistryCommand)
@with_appcontext
def demo() -> None:
    """Загрузить демонстрационный реестр (если его ещё нет) и напечатать учётные записи."""
    if demo_data.already_loaded():
        click.echo("Демо-данные уже загружены.")
    else:
        demo_data.load()
        click.echo("Демо-данные загружены.")
    click.echo("Учётные записи (логин / пароль — кто):")
    for login in demo_data.LOGINS:
        click.echo(f"  {login.username} / {login.password} — {login.who}")
