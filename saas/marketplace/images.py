"""Product images: JPEG, PNG or WebP by content, size- and pixel-limited, re-encoded without metadata (pure, Pillow).

Policy (docs/marketplace.md, "Product images"):

- The type is read from the magic bytes, and Pillow must decode the file as that same format; the file name and the
  browser's Content-Type are never trusted. SVG, GIF, HEIC, PDF and everything else: ``bad_type``.
- The byte size is checked before anything else; the pixel count (width x height from the header) before decoding.
  Pillow's own decompression-bomb warning and error are caught, whatever the warning filters say.
- Animated PNG (APNG) and animated WebP are refused (``animated``). A JPEG with extra MPF pictures (phone depth maps)
  is a still photo: its first picture is used.
- EXIF orientation is applied, colours are converted to sRGB (ICC profile, CMYK, palette, 16-bit), then every
  rendition is re-encoded from pixels only: no EXIF, GPS, XMP, ICC, comments or trailing data survive.
- Output: JPEG (quality 85, progressive) when the image has no real transparency; PNG when it has. PNG rather than
  WebP keeps transparent images usable in XLSX exports and PDF reports; opaque images dominate and stay small.
- Renditions: the stored image (longest side at most ``max_side``, 2048 px by default), ``medium`` (1024 px) and
  ``thumbnail`` (320 px); images are never enlarged. Names are random (``secrets.token_hex(16)``).
"""

from __future__ import annotations

import hashlib
import io
import secrets
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 25_000_000  # decoded RGBA at this size is 100 MB; keep uploads on a 2-core box predictable
MAX_SIDE = 2048
MEDIUM_SIDE = 1024
THUMB_SIDE = 320
MIN_SIDE = 16  # smaller than an icon: not a product photo
MAX_ASPECT = 20  # a 1 x 20 000 strip passes a pixel limit but is not a product photo
JPEG_QUALITY = 85

# (name, magic test) in the order tried; WebP is RIFF....WEBP
_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
_OUTPUT = {"jpeg": ("image/jpeg", ".jpg"), "png": ("image/png", ".png")}

REJECTION_CODES = {
    "empty": "the file is empty",
    "too_large": "the file is larger than the byte limit",
    "bad_type": "not a JPEG, PNG or WebP file (by content)",
    "corrupt": "the file claims to be an image but does not decode (damaged, truncated or fake)",
    "too_many_pixels": "width x height above the pixel limit (or a decompression bomb)",
    "bad_dimensions": f"a side shorter than {MIN_SIDE} px or an aspect ratio beyond 1:{MAX_ASPECT}",
    "animated": "animated images are not accepted",
}


class ImageRejected(ValueError):
    """An upload that is not an acceptable product image; ``code`` is one of ``REJECTION_CODES``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Rendition:
    data: bytes
    width: int
    height: int
    content_type: str  # image/jpeg or image/png
    extension: str  # .jpg or .png


@dataclass(frozen=True)
class CheckedImage:
    """A re-encoded product image; store the renditions under ``files()`` names and serve with ``content_type``."""

    name: str  # random, 32 hex characters
    source_format: str  # jpeg, png or webp: what was uploaded
    source_sha256: str  # of the uploaded bytes, to spot the same file uploaded twice
    has_alpha: bool
    image: Rendition  # longest side at most max_side
    medium: Rendition
    thumbnail: Rendition

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    @property
    def data(self) -> bytes:
        return self.image.data

    @property
    def content_type(self) -> str:
        return self.image.content_type

    @property
    def extension(self) -> str:
        return self.image.extension

    def files(self) -> dict[str, Rendition]:
        """Storage file name -> rendition: ``<name>.jpg``, ``<name>_m.jpg``, ``<name>_t.jpg``."""
        ext = self.extension
        return {
            f"{self.name}{ext}": self.image,
            f"{self.name}_m{ext}": self.medium,
            f"{self.name}_t{ext}": self.thumbnail,
        }


def sniff(data: bytes) -> str | None:
    """``jpeg``, ``png`` or ``webp`` from the magic bytes, else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def check_product_image(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_side: int = MAX_SIDE,
    medium_side: int = MEDIUM_SIDE,
    thumb_side: int = THUMB_SIDE,
) -> CheckedImage:
    """Check an uploaded product image by content and return its re-encoded renditions.

    :raises ImageRejected: with a code from ``REJECTION_CODES``.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ImageRejected("bad_type")
    data = bytes(data)
    if not data:
        raise ImageRejected("empty")
    if len(data) > max_bytes:
        raise ImageRejected("too_large")
    kind = sniff(data)
    if kind is None:
        raise ImageRejected("bad_type")
    with warnings.catch_warnings():
        # Pillow warns between 1x and 2x its own pixel limit and raises above; both are bombs. The test suite turns
        # warnings into errors, and production may ignore them: decide here, not in the warning filters.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            picture, alpha = _decode(data, kind, max_pixels, max_side)
            image = _fit(picture, max_side, picture.size)
            medium = _fit(image, medium_side, picture.size)  # each from the next larger one, sized from the original
            thumbnail = _fit(medium, thumb_side, picture.size)
            renditions = [_encode(item, alpha) for item in (image, medium, thumbnail)]
        except ImageRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRejected("too_many_pixels") from exc
        except Exception as exc:  # any decoder failure on untrusted bytes means "not a valid image"
            raise ImageRejected("corrupt") from exc
    return CheckedImage(
        name=secrets.token_hex(16),
        source_format=kind,
        source_sha256=hashlib.sha256(data).hexdigest(),
        has_alpha=alpha,
        image=renditions[0],
        medium=renditions[1],
        thumbnail=renditions[2],
    )


def _check_size(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageRejected("too_many_pixels")
    if min(width, height) < MIN_SIDE or max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageRejected("bad_dimensions")


def _decode(data: bytes, kind: str, max_pixels: int, max_side: int) -> tuple[Image.Image, bool]:
    """Open as the sniffed format only, check the header, decode fully; return sRGB pixels without metadata."""
    formats = [_FORMATS[kind]]
    with Image.open(io.BytesIO(data), formats=formats) as probe:
        _check_size(*probe.size, max_pixels)
        if kind != "jpeg" and getattr(probe, "is_animated", False):
            raise ImageRejected("animated")
        probe.verify()  # PNG: chunk CRCs and structure up to IEND
    with Image.open(io.BytesIO(data), formats=formats) as img:
        if kind == "jpeg":
            img.draft(None, (max_side, max_side))  # decode at 1/2, 1/4 or 1/8 scale when that is still large enough
        img.load()
        oriented = _orient(img)
        picture, alpha = _to_srgb(oriented)
    picture.info = {}  # no ICC profile, comment, transparency key, dpi or EXIF goes back into the encoders
    return picture, alpha


def _orient(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a broken EXIF block is ignored (it is dropped anyway)."""
    try:
        return ImageOps.exif_transpose(img) or img
    except Exception:  # malformed EXIF must not reject an otherwise valid photo
        return img.copy()


_SRGB = ImageCms.createProfile("sRGB")


def _to_srgb(img: Image.Image) -> tuple[Image.Image, bool]:
    """Return an RGB, L or RGBA image in sRGB and whether it has real (not fully opaque) transparency."""
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        img = img.convert("I").point(lambda v: v * (1 / 256)).convert("L")  # 16-bit grey -> 8-bit
    elif img.mode == "F":
        img = img.convert("L")
    elif img.mode == "1":
        img = img.convert("L")
    alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    target = "RGBA" if alpha else ("L" if img.mode == "L" else "RGB")
    icc = img.info.get("icc_profile")
    converted = None
    if icc and img.mode in ("RGB", "RGBA", "CMYK", "L") and target != "L":
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            base = img if img.mode != "RGBA" else img.convert("RGB")
            converted = ImageCms.profileToProfile(base, source, _SRGB, outputMode="RGB")
            if converted is not None and target == "RGBA":
                converted.putalpha(img.getchannel("A"))
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None
    img = converted if converted is not None else (img if img.mode == target else img.convert(target))
    if alpha and img.getchannel("A").getextrema()[0] == 255:  # an alpha channel with nothing transparent
        img, alpha = img.convert("RGB"), False
    return img, alpha


def _fit(img: Image.Image, side: int, original: tuple[int, int]) -> Image.Image:
    """Scale down so the longest side is at most ``side`` (never up), keeping the original's aspect ratio."""
    if max(img.size) <= side:
        return img
    width, height = original
    scale = side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    resized.info = {}
    return resized


def _encode(img: Image.Image, alpha: bool) -> Rendition:
    buffer = io.BytesIO()
    if alpha:
        img.save(buffer, "PNG", compress_level=6)
        kind = "png"
    else:
        img.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        kind = "jpeg"
    content_type, extension = _OUTPUT[kind]
    return Rendition(buffer.getvalue(), img.width, img.height, content_type, extension)
