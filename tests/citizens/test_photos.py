"""Photos are checked by content, resized, and lose every byte of metadata."""

import io

import pytest
from PIL import Image

from citizens.photos import HEIF, MAX_SIDE, PhotoError, clean_photo
from tests.citizens.conftest import photo


def reopen(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def test_gps_and_camera_exif_are_stripped():
    original = photo(gps=True)
    assert reopen(original).getexif().get_ifd(0x8825)  # the test photo does carry GPS data
    assert b"SecretPhone" in original

    cleaned = clean_photo(original)

    image = reopen(cleaned.content)
    assert image.format == "JPEG"
    assert not image.getexif()
    assert "exif" not in image.info and "icc_profile" not in image.info
    assert b"SecretPhone" not in cleaned.content and b"Exif" not in cleaned.content


def test_the_exif_orientation_is_applied_before_it_is_dropped():
    cleaned = clean_photo(photo(size=(800, 600), orientation=6))  # 6: rotate 90° clockwise

    assert (cleaned.width, cleaned.height) == (600, 800)
    assert not reopen(cleaned.content).getexif()


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_accepted_and_stored_as_jpeg(fmt):
    cleaned = clean_photo(photo(fmt=fmt))

    assert reopen(cleaned.content).format == "JPEG"
    assert (cleaned.width, cleaned.height) == (800, 600)


def test_transparent_png_is_flattened_on_white():
    image = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")

    cleaned = clean_photo(out.getvalue())

    assert reopen(cleaned.content).getpixel((5, 5)) >= (250, 250, 250)


@pytest.mark.skipif(not HEIF, reason="pillow-heif is not installed")
def test_heic_is_accepted():
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (10, 120, 200)).save(out, format="HEIF")

    cleaned = clean_photo(out.getvalue())

    assert reopen(cleaned.content).format == "JPEG"


def test_large_photos_are_resized():
    cleaned = clean_photo(photo(size=(4000, 3000)))

    assert max(cleaned.width, cleaned.height) == MAX_SIDE


@pytest.mark.parametrize("data, message", [
    (b"", "vide"),
    (b"%PDF-1.4 not a picture at all", "pas une photo"),
    (b"<?php system($_GET['c']); ?>", "pas une photo"),
    (photo(fmt="GIF"), "pas accepté"),
    (photo(fmt="BMP"), "pas accepté"),
    (photo()[:400], "endommagée"),
])
def test_anything_else_is_refused_with_a_french_message(data, message):
    with pytest.raises(PhotoError, match=message):
        clean_photo(data)


def test_files_over_the_size_limit_are_refused_unread():
    with pytest.raises(PhotoError, match="taille maximale de 1 Mo"):
        clean_photo(b"\xff\xd8" + b"0" * (1024 * 1024), max_bytes=1024 * 1024)


def test_pixel_bombs_are_refused():
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, format="PNG")  # tiny file, 81 megapixels

    with pytest.raises(PhotoError, match="trop de pixels"):
        clean_photo(out.getvalue())
