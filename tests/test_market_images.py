"""Product photos: only real JPEG/PNG/WebP, re-encoded under random names; bad uploads are refused and store
nothing; photos of unpublished products are never public, and another firm cannot touch them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from saas.models import Product, ProductImage, utcnow
from tests.conftest import app_session
from tests.test_market import GOOD, _create


def _jpeg(size=(640, 480)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(buf, "JPEG")
    return buf.getvalue()


def _bomb() -> bytes:
    buf = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buf, "PNG")
    return buf.getvalue()


def _upload(client, product_id, data: bytes, name: str):
    fields = {"csrf_token": client.csrf_token(), "image": FileStorage(stream=io.BytesIO(data), filename=name)}
    stream, _length, boundary = stream_encode_multipart(fields, use_tempfile=False)
    return client.raw.post(
        f"/firm/products/{product_id}/images",
        data=stream.getvalue(),
        content_type=f"multipart/form-data; boundary={boundary}",
    )


@pytest.fixture()
def product_id(app, client, firm_a):
    client.login(firm_a.owner_email)
    _create(client)
    with app_session(app, firm_a.id) as s:
        return s.scalar(select(Product.id))


def _stored(app, firm_id):
    with app_session(app, firm_id) as s:
        rows = s.scalar(select(func.count()).select_from(ProductImage))
    folder = Path(app.config["PRODUCT_IMAGE_DIR"]) / str(firm_id)
    return rows, sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_real_photo_is_re_encoded_in_three_sizes(app, client, firm_a, product_id):
    response = _upload(client, product_id, _jpeg(), "../../etc/passwd.jpg")
    assert response.status_code == 302
    rows, files = _stored(app, firm_a.id)
    assert rows == 1 and len(files) == 3 and not any("passwd" in f for f in files)
    with app_session(app, firm_a.id) as s:
        image = s.scalar(select(ProductImage))
    thumb = client.get(f"/firm/products/{product_id}/images/{image.id}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert thumb.headers["X-Content-Type-Options"] == "nosniff"
    thumb.close()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.svg", "JPEG"),
        (b"\xff\xd8\xff\xe0" + b"not a jpeg at all" * 20, "fake.jpg", "无法读取"),
        ("big", "big.jpg", "10 MB"),
        ("bomb", "bomb.png", "像素"),
    ],
)
def test_bad_uploads_are_refused_with_a_message_and_nothing_is_stored(
    app, client, firm_a, product_id, data, name, message
):
    if data == "big":
        data = _jpeg() + b"\0" * (11 * 1024 * 1024)
    elif data == "bomb":
        data = _bomb()
    response = _upload(client, product_id, data, name)
    assert response.status_code in (302, 413)
    if response.status_code == 302:
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert message in page
    assert _stored(app, firm_a.id) == (0, [])


def test_photos_of_unpublished_products_are_private(app, client, make_client, firm_a, firm_b, product_id):
    _upload(client, product_id, _jpeg(), "a.jpg")
    with app_session(app, firm_a.id) as s:
        image_id = s.scalar(select(ProductImage.id))
    visitor = make_client()
    assert visitor.get(f"/market/images/{firm_a.id}/{image_id}/medium").status_code == 404  # the product is a draft
    other = make_client()
    other.login(firm_b.owner_email)
    assert other.get(f"/firm/products/{product_id}/images/{image_id}/thumb").status_code == 404
    assert other.post(f"/firm/products/{product_id}/images/{image_id}/delete").status_code == 404
    assert _stored(app, firm_a.id)[0] == 1
    assert GOOD["title_zh"] not in other.get("/firm/products/").get_data(as_text=True)


def test_photos_of_published_products_are_shown_publicly(app, client, make_client, create_user, firm_a, product_id):
    from tests.test_bureau import staff_client

    _upload(client, product_id, _jpeg(), "a.jpg")
    client.post(f"/firm/products/{product_id}/submit")
    staff_client(make_client, create_user).post(f"/bureau/moderation/{firm_a.id}/{product_id}", {"decision": "approve"})
    visitor = make_client()
    page = visitor.get(f"/market/products/{product_id}").get_data(as_text=True)
    src = page.split('id="product-images"', 1)[1].split('src="', 1)[1].split('"', 1)[0]
    response = visitor.get(src)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    response.close()


def test_photos_of_published_products_are_public_under_their_firm(app, client, make_client, firm_a, firm_b, product_id):
    _upload(client, product_id, _jpeg(), "a.jpg")
    with app_session(app, firm_a.id) as s:
        image_id = s.scalar(select(ProductImage.id))
        product = s.get(Product, (firm_a.id, product_id))
        product.status, product.published_at = "published", utcnow()
    visitor = make_client()
    page = visitor.get(f"/market/products/{product_id}").get_data(as_text=True)
    assert f"/market/images/{firm_a.id}/{image_id}/medium" in page
    response = visitor.get(f"/market/images/{firm_a.id}/{image_id}/medium")
    response.close()  # the file is streamed
    assert response.status_code == 200 and response.mimetype in ("image/jpeg", "image/webp", "image/png")
    assert visitor.get(f"/market/images/{firm_b.id}/{image_id}/medium").status_code == 404
