import click

from webapp.cli.group import actor, group
from webapp.models import MAX_ID, Role
from webapp.registry import accounts as service

users = group("users", "Учётные записи.")
tokens = group("tokens", "API-токены клиник.")


@users.command("create")
@click.option("--username", required=True)
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="Не короче 10 знаков.")
@click.option("--insurer", "insurer_code", help="Код СМО (для роли insurer).")
@click.option("--clinic", "clinic_code", help="Код клиники (для роли clinic).")
@click.option("--enp", help="ЕНП гражданина (для роли citizen).")
def create_user(
    username: str, role: str, password: str, insurer_code: str | None, clinic_code: str | None, enp: str | None
) -> None:
    """Создать пользователя."""
    user = service.create_user(
        username, password, Role(role), actor(), insurer_code=insurer_code, clinic_code=clinic_code, enp=enp
    )
    click.echo(f"Пользователь {user.username} ({user.role}) создан")


@users.command("password")
@click.option("--username", required=True)
def new_password(username: str) -> None:
    """Новый пароль сотрудника, забывшего свой (например, единственного оператора реестра): спрашивается дважды,
    не в командной строке, где его видно в списке процессов. Все сеансы этого логина завершаются. Гражданам
    новый пароль выдаёт их СМО, по коду."""
    user = service.user_by_login(username)
    service.require_staff(user)
    password = click.prompt("Новый пароль, не короче 10 знаков", hide_input=True, confirmation_prompt=True)
    user, _ = service.reset_password(user.id, actor(), password)
    click.echo(f"Пароль {user.username} изменён; все его сеансы завершены")


@tokens.command("create")
@click.option("--clinic", "clinic_code", required=True, help="Код клиники.")
@click.option("--name", default="", help="Для чего токен (например, МИС).")
def create_token(clinic_code: str, name: str) -> None:
    """Выпустить токен: он печатается один раз и больше нигде не хранится."""
    _, token = service.create_token(clinic_code, name, actor())
    click.echo(token)


@tokens.command("revoke")
@click.argument("token_id", type=click.IntRange(1, MAX_ID))
def revoke_token(token_id: int) -> None:
    """Отозвать токен по номеру."""
    service.revoke_token(token_id, actor())
    click.echo(f"Токен {token_id} отозван")
