"""Real pictures, read back by a real decoder (zxing-cpp)."""

import io
import re

import zxingcpp
from PIL import Image

from policy_codes import Enp, decode
from policy_codes.render import code128_png, code128_svg, make_qr, qr_png, qr_svg
from signing import KeyRing
from tests.helpers.claims import NOW
from tests.helpers.scanning import read_codes


def test_qr_png_round_trip_to_equal_claims(code_text: str, claims, keyring: KeyRing) -> None:
    (result,) = read_codes(qr_png(code_text))
    assert result.format == zxingcpp.BarcodeFormat.QRCode
    assert result.text == code_text
    assert decode(result.text, keyring.trust_list(), NOW).claims == claims


def test_qr_is_a_full_qr_at_level_q_with_a_quiet_zone(code_text: str) -> None:
    qr = make_qr(code_text)
    assert not qr.is_micro
    assert qr.error == "Q"
    (result,) = read_codes(qr_png(code_text, scale=4))
    assert result.symbology_identifier.startswith("]Q")
    assert str(result.ec_level) == "Q"
    image = Image.open(io.BytesIO(qr_png(code_text, scale=4))).convert("L")
    quiet = 4 * 4  # four modules at scale 4
    border = [image.getpixel((x, y)) for x in range(image.width) for y in range(quiet)]
    assert min(border) == 255, "the top quiet zone is all white"


def test_qr_svg_is_svg_of_the_same_size(code_text: str) -> None:
    svg = qr_svg(code_text, scale=1).decode()
    size = make_qr(code_text).symbol_size(scale=1, border=4)
    assert svg.startswith("<svg")
    assert re.search(rf'width="{size[0]}"', svg)


def test_code128_png_round_trip() -> None:
    enp = Enp("1234567890123452")
    (result,) = read_codes(code128_png(enp))
    assert result.format == zxingcpp.BarcodeFormat.Code128
    assert Enp(result.text) == enp


def test_code128_svg_carries_only_the_digits() -> None:
    svg = code128_svg(Enp("1234567890123452")).decode()
    assert "<svg" in svg
    assert "1234 5678 9012 3452" in svg, "the digits under the bars, in fours"


def test_a_fluid_qr_svg_scales_by_its_viewbox(code_text: str) -> None:
    svg = qr_svg(code_text, fluid=True).decode()
    assert "viewBox" in svg
    assert 'width="' not in svg.split(">", 1)[0]
