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
from fpdf import FPDF

from policy_codes import Enp
from policy_codes.render import code128_svg
from webapp.models import IssuedCode, Person
from webapp.registry import clock, rules
from webapp.registry.codes import static_qr_svg
from webapp.web.labels import POLICY_KINDS, POLICY_STATUSES, moscow_day, moscow_time

FONTS = Path(__file__).resolve().parents[2] / "static" / "fonts"
#: The bundled font, under the family name the barcode's digits ask for (policy_codes/render.py DIGITS_FONT).
FONT = "DejaVu Sans"
PAGE_WIDTH, PAGE_HEIGHT = 210, 297  # mm, A4
MARGIN = 20
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
LABEL_WIDTH = 55
LINE = 6.5
QR_SIDE = 85  # mm at most: a version 10 code gets modules of about 1.3 mm, easy for any phone or desk scanner
BARCODE_BOX = (60, 45)  # mm: narrow bars of about 0.3 mm, the digits under them
MUTED = (85, 85, 85)


def _day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def _rows(person: Person, code: IssuedCode, today: date) -> list[tuple[str, str, bool]]:
    """(label, value, bold): the name and the number stand out, as on the card; the status as of `today`."""
    policy = code.policy
    status = rules.status_on(policy.status, policy.valid_to, today)
    until = f" по {_day(policy.valid_to)}" if policy.valid_to else ", бессрочно"
    return [
        ("Фамилия, имя, отчество", person.name.display(), True),
        ("Дата рождения", _day(person.birth_date), False),
        ("ЕНП (номер полиса)", Enp(person.enp).grouped(), True),
        ("Страховая компания", f"{policy.insurer.name} (код {policy.insurer.code})", False),
        ("Вид документа", str(POLICY_KINDS.get(policy.kind, policy.kind)), False),
        ("Статус", str(POLICY_STATUSES.get(status, status)), False),
        ("Срок действия", f"с {_day(policy.valid_from)}{until}", False),
        ("Код", f"№ {code.serial} от {moscow_day(code.issued_at)}", False),
    ]


def _svg(pdf: FPDF, svg: bytes, x: float, y: float, width: float, height: float) -> None:
    """Place a vector picture, as large as fits the box with its proportions kept."""
    with warnings.catch_warnings():
        # python-barcode's SVG has a size but no viewBox; fpdf2 takes its proportions from the size.
        warnings.filterwarnings("ignore", message='<svg> has no "viewBox"')
        pdf.image(io.BytesIO(svg), x=x, y=y, w=width, h=height, keep_aspect_ratio=True)


def _centred_caption(pdf: FPDF, top: float, text: str) -> None:
    pdf.set_xy(MARGIN, top)
    pdf.set_font(FONT, "", 10)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(TEXT_WIDTH, 5, text, align="C")


def _details(pdf: FPDF, rows: list[tuple[str, str, bool]]) -> float:
    """The title and the table from the top of the page; returns where they end."""
    pdf.set_font(FONT, "B", 20)
    pdf.cell(TEXT_WIDTH, 10, "Выписка о полисе ОМС", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    pdf.set_text_color(*MUTED)
    pdf.cell(TEXT_WIDTH, 6, "Цифровой полис обязательного медицинского страхования", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for label, value, bold in rows:
        top = pdf.get_y()
        pdf.set_font(FONT, "", 10)
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(LABEL_WIDTH, LINE, label, align="L", new_x="RIGHT", new_y="TOP")
        pdf.set_font(FONT, "B" if bold else "", 12)
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(TEXT_WIDTH - LABEL_WIDTH, LINE, value, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), top + LINE) + 1)
    return pdf.get_y()


def render(person: Person, code: IssuedCode, now: datetime) -> bytes:
    """The extract as PDF bytes. `code` is the person's current code; `now` is printed on the page.

    The table runs down from the top and the barcode and footer sit at the bottom; the QR takes the
    space between, up to QR_SIDE, so the longest names and insurer names still make one page.
    """
    with force_locale("ru"):  # the extract is a Russian document, whatever the page's language (МСК, not MSK)
        rows = _rows(person, code, clock.today_in_moscow(now))
        made_at = moscow_time(now)
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title("Выписка о полисе ОМС")
    pdf.set_lang("ru")
    pdf.set_creation_date(now)
    pdf.add_page()
    table_end = _details(pdf, rows)

    # Pictures first: python-barcode's SVG paints a white background that would hide text under it.
    footer_top = PAGE_HEIGHT - MARGIN - 9
    barcode_caption_top = footer_top - 9
    barcode_top = barcode_caption_top - BARCODE_BOX[1]
    _svg(pdf, code128_svg(Enp(person.enp)), (PAGE_WIDTH - BARCODE_BOX[0]) / 2, barcode_top, *BARCODE_BOX)
    qr_top = table_end + 4
    side = min(QR_SIDE, barcode_top - 16 - qr_top)  # 16 mm: the QR's caption and a gap
    _svg(pdf, static_qr_svg(code.text, fluid=True), (PAGE_WIDTH - side) / 2, qr_top, side, side)

    caption = "Подписанный QR-код полиса: регистратура сканирует его и проверяет полис по реестру."
    _centred_caption(pdf, qr_top + side + 1, caption)
    _centred_caption(pdf, barcode_caption_top, "Штрихкод номера полиса (ЕНП)")
    pdf.set_xy(MARGIN, footer_top)
    pdf.set_font(FONT, "", 9)
    footer = (
        f"Сформировано {made_at}. "
        "Если код перевыпущен или отозван, эта выписка больше не подтверждает полис: скачайте новую."
    )
    pdf.multi_cell(TEXT_WIDTH, 4.5, footer, align="L")
    return bytes(pdf.output())
