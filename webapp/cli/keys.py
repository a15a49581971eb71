import json

import click

from webapp.cli.group import actor, group
from webapp.cli.jobs import ProgressBar, outcome
from webapp.registry import mass_reissue, signing_pool
from webapp.registry.keys import at_rest, keystore, publication, revocation_snapshots, rotation

keys = group("keys", "Ключи подписи.")


@keys.command("list")
def list_keys() -> None:
    """Все ключи: id, владелец, срок, статус и число действующих кодов."""
    counts = keystore.current_codes_by_kid()
    click.echo(f"{'kid':10} {'владелец':10} {'с':10} {'по':10} {'статус':12} кодов")
    for record in keystore.all_keys():
        click.echo(
            f"{record.kid:10} {record.owner:10} {record.not_before:%Y-%m-%d} {record.not_after:%Y-%m-%d} "
            f"{record.status:12} {counts.get(record.kid, 0)}"
        )


@keys.command("registry-jwks")
def registry_jwks() -> None:
    """Открытые ключи оператора реестра (JWKS): их закрепляют офлайн-проверщики."""
    click.echo(json.dumps(publication.registry_jwks(), ensure_ascii=False, indent=2))


@keys.command("rotate")
@click.option("--insurer", "insurer_code", required=True, help="Код СМО.")
def rotate(insurer_code: str) -> None:
    """Новый ключ СМО; прежний выводится из подписи, но проверяет выданные им коды."""
    record = rotation.rotate(insurer_code, actor())
    click.echo(f"Новый ключ {record.kid} для СМО {insurer_code}")


@keys.command("reencrypt")
@click.option(
    "--change-passphrase",
    is_flag=True,
    help="Ключи сейчас под другой парольной фразой: спросить её и перешифровать под SIGNING_KEY_PASSPHRASE.",
)
def reencrypt(change_passphrase: bool) -> None:
    """Перешифровать все закрытые ключи под SIGNING_KEY_PASSPHRASE с нынешней стоимостью подбора (scrypt)."""
    old = click.prompt("Прежняя SIGNING_KEY_PASSPHRASE", hide_input=True) if change_passphrase else None
    click.echo(f"Перешифровано ключей: {at_rest.reencrypt_all(actor(), old)}")


@keys.command("compromised")
@click.argument("kid")
def compromised(kid: str) -> None:
    """Пометить ключ скомпрометированным и перевыпустить все подписанные им коды (заданием).

    Ключ оператора реестра (владелец registry) подписывает не коды, а публикуемые списки: вместо него сразу
    создаётся новый, и команда говорит, как раздать его клиникам.
    """
    if keystore.signs_lists(keystore.record_for(kid)):
        record, successor = rotation.distrust(kid, actor())
        click.echo(
            f"Ключ оператора реестра {record.kid} скомпрометирован. Списки теперь подписывает новый ключ "
            f"{successor.kid}"
            if successor
            else f"Ключ оператора реестра {record.kid} скомпрометирован"
        )
        click.echo(
            "Раздайте клиникам новый ключ для закрепления (в нём старый помечен скомпрометированным): "
            "flask --app webapp keys registry-jwks > registry.jwks. Пока клиника не закрепит его, она не отличит "
            "списки, подписанные украденным ключом, от настоящих"
        )
        return
    with ProgressBar("Перевыпуск") as bar:
        job = bar.follow(mass_reissue.compromise(kid, actor(), signing_pool.processes(), bar))
    click.echo(f"Ключ {kid} скомпрометирован, перевыпущено кодов: {outcome(job).result['codes']}")


@keys.command("resume-reissue")
@click.argument("kid")
def resume_reissue(kid: str) -> None:
    """Довести прерванный перевыпуск по скомпрометированному ключу."""
    with ProgressBar("Перевыпуск") as bar:
        job = mass_reissue.resume(kid, actor(), signing_pool.processes(), bar)
        if job is None:
            raise click.ClickException("Перевыпуск по этому ключу уже идёт")
        job = bar.follow(job)
    click.echo(f"Перевыпущено кодов: {outcome(job).result['codes']}")


@keys.command("revocation-snapshot")
def revocation_snapshot() -> None:
    """Собрать полный список отозванных кодов заранее (заданием): запускать по расписанию, например раз в час.

    Полный список (GET /api/v1/revocations) тогда читает одну запись и события после неё, а не все события.
    """
    with ProgressBar("Список отозванных") as bar:
        job = bar.follow(revocation_snapshots.start(actor()))
    click.echo(f"Список отозванных собран до события №{outcome(job).result['cursor']}")
