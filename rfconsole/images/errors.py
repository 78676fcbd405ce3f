"""The images' error, apart so that the qemu-img runner (qemu_img.py) raises it too."""

from __future__ import annotations

from rfconsole.errors import RfconsoleError

QEMU_IMG_HINT = "qemu-img comes with the Debian package qemu-utils: run scripts/setup.sh (make setup)"


class ImageError(RfconsoleError):
    """A problem with an image: not found, wrong format, in use, or qemu-img refused."""
