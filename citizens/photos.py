"""Citizens' photos: checked by their content, resized, and re-encoded without any metadata.

No Django import: the function takes bytes and gives bytes back, or a ``PhotoError`` whose
message can be shown to the citizen as it is.
"""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

try:  # HEIC/HEIF, as iPhones take them, when the optional decoder is installed.
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF = True
except ImportError:  # pragma: no cover - depends on the installation
    HEIF = False

MAX_BYTES = 10 * 1024 * 1024
MAX_SIDE = 2048
# A 40-megapixel image is already more than any phone produces; beyond, refuse (pixel bombs).
MAX_PIXELS = 40_000_000
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"} | ({"HEIF", "HEIC"} if HEIF else set())
JPEG_QUALITY = 85


def _(text: str) -> str:
    """Marks a message for translation (``makemessages`` finds it); ``PhotoError.translated``
    translates it when it is shown, so this module stays free of Django."""
    return text


class PhotoError(ValueError):
    """A refused photo: ``str()`` is the message in French; ``translated(gettext)`` in the
    language of the page."""

    def __init__(self, template: str, **params):
        self.template, self.params = template, params
        super().__init__(template % params if params else template)

    def translated(self, gettext) -> str:
        text = gettext(self.template)
        return text % self.params if self.params else text


@dataclass(frozen=True)
class CleanPhoto:
    content: bytes  # a JPEG without EXIF, XMP, ICC-embedded GPS or comments
    width: int
    height: int


def accepted_names() -> str:
    return "JPEG, PNG, WebP" + (", HEIC" if HEIF else "")


def clean_photo(data: bytes, *, max_bytes: int = MAX_BYTES, max_side: int = MAX_SIDE) -> CleanPhoto:
    """Check that ``data`` is a photo of an accepted format and return it cleaned.

    The file's name and declared type are never trusted: Pillow reads the content. The result is
    re-encoded from pixels only, so nothing of the original file's metadata survives.
    """
    if not data:
        raise PhotoError(_("Le fichier envoyé est vide."))
    if len(data) > max_bytes:
        raise PhotoError(_("La photo dépasse la taille maximale de %(mb)s Mo."),
                         mb=max_bytes // (1024 * 1024))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = (probe.format or "").upper()
                if kind not in ACCEPTED_FORMATS:
                    raise PhotoError(_("Ce type de fichier n'est pas accepté : envoyez une "
                                       "photo (%(formats)s)."), formats=accepted_names())
                if probe.width * probe.height > MAX_PIXELS:
                    raise PhotoError(_("La photo a trop de pixels : envoyez une image plus "
                                       "petite."))
                probe.verify()  # structure check; the image must be opened again afterwards
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image = ImageOps.exif_transpose(image)  # keep the orientation the EXIF asked for
                pixels = _rgb(image)
    except PhotoError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError(_("Ce fichier n'est pas une photo lisible : envoyez une photo "
                           "(%(formats)s)."), formats=accepted_names()) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise PhotoError(_("La photo est endommagée ou incomplète.")) from None

    pixels.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # Copy the pixels into a fresh image: no info dict, no EXIF, no ICC, no XMP is carried over.
    bare = Image.new("RGB", pixels.size)
    bare.paste(pixels)
    out = io.BytesIO()
    bare.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return CleanPhoto(content=out.getvalue(), width=bare.width, height=bare.height)


def _rgb(image: Image.Image) -> Image.Image:
    """RGB pixels; transparency is flattened onto white, as a photo viewer would show it."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")
