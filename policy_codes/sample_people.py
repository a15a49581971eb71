"""Realistic generated holders for the demo registry, tests and benchmarks.

The lists are common Russian surnames, given names and patronymics, plus a
tail of long ones, so that size measurements see what a real registry holds.
Nothing here is a real person: combinations are drawn at random.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from policy_codes.enp import Enp
from policy_codes.names import FullName

# Surnames in their masculine form; feminine_surname() derives the other.
SURNAMES = """
Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров
Морозов Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев
Орлов Андреев Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев
Романов Воробьёв Сергеев Кузьмин Фролов Александров Дмитриев Королёв Гусев Киселёв
Ильин Максимов Поляков Сорокин Виноградов Ковалёв Белов Медведев Антонов Тарасов
Жуков Баранов Филиппов Комаров Давыдов Беляев Герасимов Богданов Осипов Сидоров
Матвеев Титов Марков Миронов Крылов Куликов Карпов Власов Мельников Денисов
Гаврилов Тихонов Казаков Афанасьев Данилов Савельев Тимофеев Фомин Чернов Абрамов
Мартынов Ефимов Федотов Щербаков Назаров Калинин Исаев Чернышёв Быков Маслов
Родионов Коновалов Лазарев Воронин Климов Филатов Пономарёв Голубев Кудрявцев Прохоров
Наумов Потапов Журавлёв Овчинников Трофимов Леонов Соболев Ермаков Колесников Гончаров
Емельянов Никифоров Грачёв Котов Гришин Ефремов Архипов Громов Кириллов Малышев
Панов Моисеев Румянцев Акимов Кондратьев Бирюков Горбунов Анисимов Ерёмин Тихомиров
Галкин Лукьянов Михеев Скворцов Юдин Белоусов Нестеров Симонов Прокофьев Харитонов
Князев Цветков Левин Митрофанов Воронцов Ершов Шубин Шевченко Бондаренко Коваленко
Ткаченко Кравченко Мельник Литвиненко Гайдамак Рябчук Ковальчук Дорошенко Карпенко
Вишневский Ковальский Островский Загорский Рождественский Преображенский Вознесенский
Ахмедов Алиев Мамедов Гасанов Хасанов Юсупов Ибрагимов Абдуллаев Сафин Гарипов
Шарипов Валиев Хабибуллин Нуриев Каримов Галиев Мухаметшин Зарипов Фахрутдинов
Ким Цой Пак Тен Ли Эрдниев Бадмаев Цыденов Намсараев Доржиев
Римский-Корсаков Бонч-Бруевич Мамин-Сибиряк Голенищев-Кутузов Муравьёв-Апостол
Константинопольский Новодворский Великорецкий Благовещенский Крестовоздвиженский
"""

# (given name, patronymic for a son, patronymic for a daughter)
MALE_NAMES = """
Александр:Александрович:Александровна Дмитрий:Дмитриевич:Дмитриевна
Максим:Максимович:Максимовна Сергей:Сергеевич:Сергеевна Андрей:Андреевич:Андреевна
Алексей:Алексеевич:Алексеевна Артём:Артёмович:Артёмовна Илья:Ильич:Ильинична
Кирилл:Кириллович:Кирилловна Михаил:Михайлович:Михайловна Никита:Никитич:Никитична
Матвей:Матвеевич:Матвеевна Роман:Романович:Романовна Егор:Егорович:Егоровна
Арсений:Арсеньевич:Арсеньевна Иван:Иванович:Ивановна Денис:Денисович:Денисовна
Евгений:Евгеньевич:Евгеньевна Даниил:Даниилович:Данииловна Тимофей:Тимофеевич:Тимофеевна
Владислав:Владиславович:Владиславовна Игорь:Игоревич:Игоревна Владимир:Владимирович:Владимировна
Павел:Павлович:Павловна Руслан:Русланович:Руслановна Марк:Маркович:Марковна
Константин:Константинович:Константиновна Тимур:Тимурович:Тимуровна Олег:Олегович:Олеговна
Ярослав:Ярославович:Ярославовна Антон:Антонович:Антоновна Николай:Николаевич:Николаевна
Глеб:Глебович:Глебовна Данил:Данилович:Даниловна Савелий:Савельевич:Савельевна
Вадим:Вадимович:Вадимовна Степан:Степанович:Степановна Юрий:Юрьевич:Юрьевна
Богдан:Богданович:Богдановна Артур:Артурович:Артуровна Семён:Семёнович:Семёновна
Фёдор:Фёдорович:Фёдоровна Пётр:Петрович:Петровна Виктор:Викторович:Викторовна
Григорий:Григорьевич:Григорьевна Валентин:Валентинович:Валентиновна
Анатолий:Анатольевич:Анатольевна Василий:Васильевич:Васильевна Геннадий:Геннадьевич:Геннадьевна
Леонид:Леонидович:Леонидовна Эдуард:Эдуардович:Эдуардовна Станислав:Станиславович:Станиславовна
Вячеслав:Вячеславович:Вячеславовна Всеволод:Всеволодович:Всеволодовна
Святослав:Святославович:Святославовна Ринат:Ринатович:Ринатовна Рустам:Рустамович:Рустамовна
Ильдар:Ильдарович:Ильдаровна Шамиль:Шамилевич:Шамилевна Бахтияр:Бахтиярович:Бахтияровна
"""

FEMALE_NAMES = """
Анастасия Мария Анна Виктория Екатерина Наталья Марина Полина Софья Дарья
Алиса Ксения Александра Елена Ольга Татьяна Ирина Юлия Светлана Людмила
Валентина Галина Надежда Любовь Вера Евгения Кристина Вероника Алина Маргарита
Елизавета Варвара Ульяна Милана Арина Василиса Таисия Зоя Лариса Нина
Эльвира Гульнара Альбина Резеда Лейсан Диляра Эльмира Айгуль Фатима Зарина
Антонина Евдокия Прасковья Серафима Аделаида Феодосия Клементина Ярославна
"""

#: Given names with no patronymic, as some foreign holders have.
NO_PATRONYMIC_SHARE = 0.03


def feminine_surname(surname: str) -> str:
    """The feminine form of a masculine surname, by the ordinary endings."""
    parts = surname.split("-")
    return "-".join(_feminine_part(part) for part in parts)


def _feminine_part(part: str) -> str:
    for masculine, feminine in (("ский", "ская"), ("цкий", "цкая"), ("ой", "ая"), ("ый", "ая")):
        if part.endswith(masculine):
            return part[: -len(masculine)] + feminine
    if part.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return part + "а"
    return part


SURNAME_LIST = SURNAMES.split()
MALE_LIST = [tuple(entry.split(":")) for entry in MALE_NAMES.split()]
FEMALE_LIST = FEMALE_NAMES.split()


@dataclass(frozen=True)
class SamplePerson:
    """A generated insured person: enough to fill a registry row or a code."""

    enp: Enp
    name: FullName
    sex: str  # "M" or "F"
    birth_date: date


def random_full_name(rng: random.Random, sex: str) -> FullName:
    """A plausible full name: surname, given name and patronymic."""
    surname = rng.choice(SURNAME_LIST)
    _, son_of, daughter_of = rng.choice(MALE_LIST)
    if sex == "M":
        given = rng.choice(MALE_LIST)[0]
        patronymic = son_of
    else:
        surname = feminine_surname(surname)
        given = rng.choice(FEMALE_LIST)
        patronymic = daughter_of
    if rng.random() < NO_PATRONYMIC_SHARE:
        patronymic = ""
    return FullName(surname, given, patronymic)


def random_enp(rng: random.Random) -> Enp:
    """A random ЕНП with a correct check digit."""
    return Enp.with_check_digit(f"{rng.randrange(10**14, 10**15):015d}")


def sample_people(count: int, seed: int = 2026) -> Iterator[SamplePerson]:
    """`count` reproducible people, born between 1930 and 2025."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible sample data, not secrets
    first_day = date(1930, 1, 1)
    span_days = (date(2025, 12, 31) - first_day).days
    for _ in range(count):
        sex = rng.choice("MF")
        yield SamplePerson(
            enp=random_enp(rng),
            name=random_full_name(rng, sex),
            sex=sex,
            birth_date=first_day + timedelta(days=rng.randrange(span_days)),
        )
