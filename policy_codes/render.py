"""Pictures of a code: the signed QR and the Code128 of the ЕНП, as SVG or PNG.

The QR is always a full QR (never Micro QR) at error level Q with the
standard four-module quiet zone, so a cracked phone screen still scans.
"""

from __future__ import annotations

import io

import segno
from barcode import Code128
from barcode.writer import ImageWriter, SVGWriter

from policy_codes.enp import Enp

QR_ERROR_LEVEL = "Q"
QR_QUIET_ZONE = 4  # modules, as ISO/IEC 18004 asks


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
    Code128(str(enp), writer=writer).write(out, options={"module_height": 18.0, "quiet_zone": 6.5})
    return out.getvalue()


def code128_svg(enp: Enp) -> bytes:
    """Only the 16 digits: a registry look-up, not a signed credential."""
    return _code128(enp, SVGWriter())


def code128_png(enp: Enp) -> bytes:
    return _code128(enp, ImageWriter())
