"""Product images: only real JPEG/PNG/WebP, limits enforced, bombs and fakes refused, output re-encoded and clean."""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from saas.marketplace.images import (
    MAX_SIDE,
    REJECTION_CODES,
    CheckedImage,
    ImageRejected,
    check_product_image,
    sniff,
)

SECRET = "SECRET-CAMERA-4711"


def encode(img: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo(size=(400, 300)) -> Image.Image:
    """A two-colour test picture: left half red, right half blue."""
    img = Image.new("RGB", size, (220, 20, 20))
    img.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    return img


def exif_with(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = SECRET  # Make
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (30.0, 45.0, 0.0)}  # GPS IFD (latitude of Jiaxing)
    return exif.tobytes()


def rejected(data: bytes, **limits) -> str:
    with pytest.raises(ImageRejected) as info:
        check_product_image(data, **limits)
    assert info.value.code in REJECTION_CODES
    return info.value.code


def png_1bit(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG, written row by row: tiny on disk, huge once decoded."""
    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def reopen(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


# --- accepted --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "source"), [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp")])
def test_jpeg_png_and_webp_are_accepted_and_re_encoded(fmt, source):
    data = encode(photo(), fmt)
    checked = check_product_image(data)
    assert isinstance(checked, CheckedImage)
    assert checked.source_format == source and not checked.has_alpha
    assert (checked.width, checked.height) == (400, 300)
    assert checked.content_type == "image/jpeg" and checked.extension == ".jpg"
    assert checked.data != data
    out = reopen(checked.data)
    assert out.format == "JPEG" and out.mode == "RGB" and out.size == (400, 300)
    assert out.getpixel((50, 150))[0] > 180 and out.getpixel((350, 150))[2] > 180
    assert re.fullmatch(r"[0-9a-f]{32}", checked.name)
    assert set(checked.files()) == {f"{checked.name}.jpg", f"{checked.name}_m.jpg", f"{checked.name}_t.jpg"}
    assert len(checked.source_sha256) == 64


def test_storage_names_are_random():
    data = encode(photo((64, 64)), "PNG")
    assert len({check_product_image(data).name for _ in range(5)}) == 5


def test_renditions_are_sized_and_never_enlarged():
    checked = check_product_image(encode(photo((3000, 2000)), "JPEG"))
    sizes = [(r.width, r.height) for r in (checked.image, checked.medium, checked.thumbnail)]
    assert sizes == [(MAX_SIDE, 1365), (1024, 683), (320, 213)]
    for rendition in (checked.image, checked.medium, checked.thumbnail):
        assert reopen(rendition.data).size == (rendition.width, rendition.height)
    portrait = check_product_image(encode(photo((600, 1200)), "PNG"), max_side=800, medium_side=500, thumb_side=100)
    assert [(r.width, r.height) for r in (portrait.image, portrait.medium, portrait.thumbnail)] == [
        (400, 800),
        (250, 500),
        (50, 100),
    ]
    small = check_product_image(encode(photo((200, 100)), "WEBP"))
    assert {(r.width, r.height) for r in (small.image, small.medium, small.thumbnail)} == {(200, 100)}


def test_exif_and_gps_are_stripped_and_orientation_applied():
    data = encode(photo((40, 20)), "JPEG", exif=exif_with(orientation=6), comment=b"COMMENT-" + SECRET.encode())
    assert SECRET.encode() in data
    checked = check_product_image(data)
    assert (checked.width, checked.height) == (20, 40)  # orientation 6: rotated 90 degrees clockwise for display
    for rendition in (checked.image, checked.medium, checked.thumbnail):
        assert SECRET.encode() not in rendition.data and b"Exif" not in rendition.data
        out = reopen(rendition.data)
        assert not out.getexif() and "comment" not in out.info and "icc_profile" not in out.info
    out = reopen(checked.data)
    assert out.getpixel((10, 5))[0] > 180  # the red left half is now on top
    assert out.getpixel((10, 35))[2] > 180


def test_png_text_exif_and_icc_chunks_are_stripped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", SECRET)
    rgba = photo((64, 64)).convert("RGBA")
    rgba.putpixel((0, 0), (0, 0, 0, 0))
    data = encode(rgba, "PNG", pnginfo=info, exif=exif_with(), icc_profile=b"\x00" * 128)
    checked = check_product_image(data)
    assert checked.has_alpha and checked.content_type == "image/png"
    for rendition in (checked.image, checked.medium, checked.thumbnail):
        assert SECRET.encode() not in rendition.data
        for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"iCCP"):
            assert chunk not in rendition.data
    assert reopen(checked.data).getpixel((0, 0))[3] == 0


def test_trailing_payloads_do_not_survive():
    payload = b"<?php system($_GET['c']); ?>"
    checked = check_product_image(encode(photo((64, 64)), "JPEG") + payload)
    assert payload not in checked.data


@pytest.mark.parametrize(
    ("make", "fmt", "content_type", "mode"),
    [
        (lambda: Image.new("RGBA", (40, 40), (10, 20, 30, 128)), "PNG", "image/png", "RGBA"),
        (lambda: Image.new("RGBA", (40, 40), (10, 20, 30, 255)), "PNG", "image/jpeg", "RGB"),  # opaque alpha
        (lambda: Image.new("RGBA", (40, 40), (10, 20, 30, 100)), "WEBP", "image/png", "RGBA"),
        (lambda: Image.new("LA", (40, 40), (90, 10)), "PNG", "image/png", "RGBA"),
        (lambda: Image.new("CMYK", (40, 40), (0, 200, 200, 0)), "JPEG", "image/jpeg", "RGB"),
        (lambda: Image.new("L", (40, 40), 128), "JPEG", "image/jpeg", "L"),
        (lambda: Image.new("1", (40, 40), 1), "PNG", "image/jpeg", "L"),
        (lambda: Image.new("I;16", (40, 40), 40000), "PNG", "image/jpeg", "L"),
        (lambda: photo((40, 40)).convert("P"), "PNG", "image/jpeg", "RGB"),
    ],
    ids=["rgba", "opaque-rgba", "webp-alpha", "la", "cmyk", "grey", "1-bit", "16-bit", "palette"],
)
def test_colour_modes_are_normalised(make, fmt, content_type, mode):
    checked = check_product_image(encode(make(), fmt))
    assert checked.content_type == content_type
    assert reopen(checked.data).mode == mode


def test_palette_transparency_is_kept():
    img = photo((40, 40)).convert("P")
    data = encode(img, "PNG", transparency=img.getpixel((0, 0)))
    checked = check_product_image(data)
    assert checked.has_alpha and reopen(checked.data).getpixel((0, 0))[3] == 0


def test_cmyk_red_stays_red():
    checked = check_product_image(encode(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG"))
    red, green, blue = reopen(checked.data).getpixel((20, 20))
    assert red > 200 and green < 60 and blue < 60


# --- refused ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9" height="9"/></svg>',
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>',
        b"%PDF-1.4\n%%EOF\n",
        b"<html><script>alert(1)</script></html>",
        b"GIF89a" + b"\x00" * 40,
        b"BM" + b"\x00" * 60,
        b"\x00\x00\x00\x18ftypheic" + b"\x00" * 40,
        b"RIFF\x00\x00\x00\x00WAVEfmt ",
    ],
    ids=["svg", "svg-xml", "pdf", "html", "gif-header", "bmp-header", "heic", "riff-wav"],
)
def test_other_types_are_refused_by_content(data):
    assert sniff(data) is None
    assert rejected(data) == "bad_type"


@pytest.mark.parametrize(("fmt", "source"), [("GIF", "gif"), ("BMP", "bmp"), ("TIFF", "tiff")])
def test_real_images_of_other_formats_are_refused(fmt, source):
    assert rejected(encode(photo((40, 40)), fmt)) == "bad_type", source


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + b"<?php echo 'not an image'; ?>" * 10,
        b"\xff\xd8\xff\xe0" + b"garbage" * 50,
        b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 40,
        b"\x89PNG\r\n\x1a\n" + b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    ],
    ids=["png-magic-php", "jpeg-magic-garbage", "webp-magic-garbage", "png-magic-svg"],
)
def test_fake_magic_numbers_are_refused(data):
    assert sniff(data) is not None
    assert rejected(data) == "corrupt"


def test_a_file_of_one_type_with_the_magic_of_another_is_refused():
    gif_body = encode(photo((40, 40)), "GIF")
    assert rejected(b"\x89PNG\r\n\x1a\n" + gif_body) == "corrupt"


def test_oversized_files_are_refused_before_decoding():
    data = encode(photo(), "PNG")
    assert rejected(data, max_bytes=len(data) - 1) == "too_large"
    assert check_product_image(data, max_bytes=len(data)).width == 400
    assert rejected(b"\x89PNG\r\n\x1a\n" + b"\x00" * 2_000_000, max_bytes=1_000_000) == "too_large"
    assert rejected(b"") == "empty"


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    return {
        "over our limit": png_1bit(6_000, 6_000),  # 36 MP: above MAX_PIXELS, below Pillow's limit
        "pillow warning": png_1bit(12_000, 12_000),  # 144 MP: Pillow warns (an error under filterwarnings=error)
        "pillow error": png_1bit(20_000, 20_000),  # 400 MP: Pillow raises DecompressionBombError
    }


@pytest.mark.parametrize("name", ["over our limit", "pillow warning", "pillow error"])
def test_decompression_bombs_are_refused(bombs, name):
    assert len(bombs[name]) < 60_000  # tiny files
    assert rejected(bombs[name]) == "too_many_pixels"


def test_bombs_are_refused_whatever_the_warning_filters(bombs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert rejected(bombs["pillow warning"]) == "too_many_pixels"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rejected(bombs["pillow warning"]) == "too_many_pixels"
    assert Image.MAX_IMAGE_PIXELS == 89_478_485  # Pillow's global limit is left alone


def test_the_pixel_limit_is_a_parameter():
    data = encode(photo((400, 300)), "PNG")
    assert rejected(data, max_pixels=400 * 300 - 1) == "too_many_pixels"
    assert check_product_image(data, max_pixels=400 * 300).width == 400


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_files_are_refused(fmt):
    data = encode(photo((600, 400)), fmt, **({"quality": 95} if fmt != "PNG" else {}))
    assert rejected(data[: len(data) // 2]) == "corrupt"


def test_a_png_with_a_bad_checksum_is_refused():
    data = bytearray(encode(photo((64, 64)), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF
    assert rejected(bytes(data)) == "corrupt"


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_animated_images_are_refused(fmt):
    frames = [Image.new("RGB", (40, 40), (60 * i, 0, 0)) for i in range(3)]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
    assert rejected(data) == "animated"


@pytest.mark.parametrize("size", [(8, 8), (20, 1000), (1000, 20)])
def test_icons_and_strips_are_refused(size):
    assert rejected(encode(Image.new("RGB", size), "PNG")) == "bad_dimensions"


def test_non_bytes_are_refused():
    assert rejected("not bytes") == "bad_type"  # type: ignore[arg-type]


MAGICS = [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x01\x00\x00WEBPVP8L", b""]


@settings(max_examples=100, deadline=None)
@given(magic=st.sampled_from(MAGICS), body=st.binary(max_size=400))
def test_arbitrary_bytes_are_either_an_image_or_a_rejection(magic, body):
    try:
        checked = check_product_image(magic + body, max_pixels=4_000_000)
    except ImageRejected as exc:
        assert exc.code in REJECTION_CODES
    else:
        assert checked.width >= 16


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_mutated_images_never_crash(data):
    source = bytearray(encode(photo((48, 32)), data.draw(st.sampled_from(["JPEG", "PNG", "WEBP"]))))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        position = data.draw(st.integers(min_value=0, max_value=len(source) - 1))
        source[position] = data.draw(st.integers(min_value=0, max_value=255))
    try:
        check_product_image(bytes(source), max_pixels=4_000_000)
    except ImageRejected as exc:
        assert exc.code in REJECTION_CODES
