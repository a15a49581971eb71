"""Pictures of a code: the signed QR and the Code128 of the ЕНП, as SVG or PNG.

The QR is always a full QR (never Micro QR) at error level Q with the
standard four-module quiet zone, so a cracked phone screen still scans.
The Code128 carries the 16 digits; the digits printed under its bars are
grouped in fours, as people read them aloud.
"""

from __future__ import annotations

import io
from xml.dom import minidom

import segno
from barcode import Code128
from barcode.writer import ImageWriter, SVGWriter

from policy_codes.enp import Enp

QR_ERROR_LEVEL = "Q"
QR_QUIET_ZONE = 4  # modules, as ISO/IEC 18004 asks
#: The digits under the bars: the project's sans (static/fonts, which the PDF extract embeds under this name),
#: else the reader's sans. python-barcode names no font, and browsers draw such text in a serif.
DIGITS_FONT = "DejaVu Sans, sans-serif"
#: Points: the four groups in that sans fit the width of the bars and their quiet zone.
DIGITS_SIZE = 8


def make_qr(text: str) -> segno.QRCode:
    return segno.make_qr(text, error=QR_ERROR_LEVEL, boost_error=False)


def qr_svg(text: str, scale: int = 8, fluid: bool = False) -> bytes:
    """`fluid`: a viewBox and no fixed size, so a page can scale it to the screen."""
    out = io.BytesIO()
    make_qr(text).save(out, kind="svg", scale=scale, border=QR_QUIET_ZONE, xmldecl=False, svgns=True, omitsize=fluid)
    return out.getvalue()


def qr_png(text: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    make_qr(text).save(out, kind="png", scale=scale, border=QR_QUIET_ZONE)
    return out.getvalue()


def _code128(enp: Enp, writer: SVGWriter | ImageWriter) -> bytes:
    out = io.BytesIO()
    options = {"module_height": 18.0, "quiet_zone": 6.5, "font_size": DIGITS_SIZE}
    Code128(str(enp), writer=writer).write(out, options=options, text=enp.grouped())
    return out.getvalue()


def code128_svg(enp: Enp) -> bytes:
    """Only the 16 digits: a registry look-up, not a signed credential."""
    document = minidom.parseString(_code128(enp, SVGWriter()))  # noqa: S318 -- python-barcode's output, not input
    for text in document.getElementsByTagName("text"):
        text.setAttribute("font-family", DIGITS_FONT)
    return document.toxml(encoding="UTF-8")


def code128_png(enp: Enp) -> bytes:
    return _code128(enp, ImageWriter())
