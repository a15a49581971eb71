"""A one-page A4 extract of a person's policy, with the signed QR and the Code128 of the ЕНП, to print.

The extract is always in Russian: it is read by reception staff and insurers, whatever language the
holder's screen is set to. Both codes are drawn as vectors from `policy_codes.render`'s SVGs, so they
stay sharp at any printer resolution. The font is bundled (static/fonts) and embedded as a subset.
"""

from __future__ import annotations

import io
import warnings
from datetime import date, datetime
from pathlib import Path

from flask_babel import force_locale
from flask_babel import lazy_gettext as _  # lazy: read in the language of the page that shows it
from fpdf import FPDF

from policy_codes import Enp
from policy_codes.codec import MOSCOW
from policy_codes.render import code128_svg, qr_svg
from webapp.models import IssuedCode, Person

FONTS = Path(__file__).resolve().parents[1] / "static" / "fonts"
FONT = "DejaVu"
PAGE_WIDTH = 210  # mm, A4
MARGIN = 20
QR_SIDE = 85  # mm: a version 10 code gets modules of about 1.3 mm, easy for any phone or desk scanner
BARCODE_WIDTH = 60  # mm: narrow bars of about 0.3 mm
MUTED = (85, 85, 85)

#: Shared with the policy card, so the page and the paper name things the same way.
POLICY_KINDS = {"policy": _("Полис ОМС единого образца"), "temporary_certificate": _("Временное свидетельство")}
POLICY_STATUSES = {"active": _("действует"), "suspended": _("приостановлен"), "terminated": _("прекращён")}


def _day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def _rows(person: Person, code: IssuedCode) -> list[tuple[str, str, bool]]:
    """(label, value, bold): the name and the number stand out, as on the card."""
    policy = code.policy
    until = f" по {_day(policy.valid_to)}" if policy.valid_to else ", бессрочно"
    return [
        ("Фамилия, имя, отчество", person.name.display(), True),
        ("Дата рождения", _day(person.birth_date), False),
        ("ЕНП (номер полиса)", person.enp, True),
        ("Страховая компания", f"{policy.insurer.name} (код {policy.insurer.code})", False),
        ("Вид документа", str(POLICY_KINDS.get(policy.kind, policy.kind)), False),
        ("Статус", str(POLICY_STATUSES.get(policy.status, policy.status)), False),
        ("Срок действия", f"с {_day(policy.valid_from)}{until}", False),
        ("Код", f"№ {code.serial} от {_day(code.issued_at.astimezone(MOSCOW).date())}", False),
    ]


def _svg(pdf: FPDF, svg: bytes, x: float, y: float, width: float) -> float:
    """Place a vector picture; returns its height in mm."""
    with warnings.catch_warnings():
        # python-barcode's SVG has a size but no viewBox; fpdf2 uses the size, which is what we want.
        warnings.filterwarnings("ignore", message='<svg> has no "viewBox"')
        placed = pdf.image(io.BytesIO(svg), x=x, y=y, w=width)
    return float(placed.rendered_height)


def render(person: Person, code: IssuedCode, now: datetime) -> bytes:
    """The extract as PDF bytes. `code` is the person's current code; `now` is printed on the page."""
    with force_locale("ru"):
        rows = _rows(person, code)
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)  # one page, always: the layout below fits the longest names
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title("Выписка о полисе ОМС")
    pdf.set_lang("ru")
    pdf.set_creation_date(now)
    pdf.add_page()
    text_width = PAGE_WIDTH - 2 * MARGIN

    pdf.set_font(FONT, "B", 20)
    pdf.cell(text_width, 10, "Выписка о полисе ОМС", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    pdf.set_text_color(*MUTED)
    pdf.cell(text_width, 6, "Цифровой полис обязательного медицинского страхования", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    label_width = 55
    for label, value, bold in rows:
        top = pdf.get_y()
        pdf.set_font(FONT, "", 10)
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(label_width, 6.5, label, new_x="RIGHT", new_y="TOP")
        pdf.set_font(FONT, "B" if bold else "", 12)
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(text_width - label_width, 6.5, value, new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), top + 6.5) + 1)

    top = pdf.get_y() + 4
    qr_height = _svg(pdf, qr_svg(code.text, fluid=True), (PAGE_WIDTH - QR_SIDE) / 2, top, QR_SIDE)
    pdf.set_xy(MARGIN, top + qr_height)
    pdf.set_font(FONT, "", 10)
    pdf.set_text_color(*MUTED)
    caption = "Подписанный QR-код полиса: регистратура сканирует его и проверяет полис по реестру."
    pdf.multi_cell(text_width, 5, caption, align="C", new_x="LMARGIN", new_y="NEXT")

    top = pdf.get_y() + 6
    barcode_height = _svg(pdf, code128_svg(Enp(person.enp)), (PAGE_WIDTH - BARCODE_WIDTH) / 2, top, BARCODE_WIDTH)
    pdf.set_xy(MARGIN, top + barcode_height)
    pdf.multi_cell(text_width, 5, "Штрихкод номера полиса (ЕНП)", align="C", new_x="LMARGIN", new_y="NEXT")

    pdf.set_xy(MARGIN, 297 - MARGIN - 10)
    pdf.set_font(FONT, "", 9)
    moment = now.astimezone(MOSCOW)
    footer = (
        f"Сформировано {_day(moment.date())} в {moment:%H:%M} по московскому времени. "
        "Если код перевыпущен или отозван, эта выписка больше не подтверждает полис: скачайте новую."
    )
    pdf.multi_cell(text_width, 4.5, footer)
    return bytes(pdf.output())
