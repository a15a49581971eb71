"""Pictures read back the way the reception's camera reads them: a real decoder (zxing-cpp) told to look for the two
symbologies the clinic page asks its BarcodeDetector for (`static/js/clinic-camera.js`).

Told to look for every symbology, the decoder now and then also finds a false one in a QR's modules (a four-letter
Codabar, for some signatures), and a test expecting one code then fails by chance."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image

#: What the clinic's camera looks for: the signed code and the ЕНП's barcode.
RECEPTION_FORMATS = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128)


def read_codes(picture: bytes | Image.Image) -> list[zxingcpp.Result]:
    """Every code the reception's camera would find in a picture (PNG bytes or an image)."""
    image = picture if isinstance(picture, Image.Image) else Image.open(io.BytesIO(picture))
    return zxingcpp.read_barcodes(image, formats=RECEPTION_FORMATS)


def read_qr(png: bytes) -> str:
    """The text of the one QR code in a picture."""
    (found,) = read_codes(png)
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    return found.text
