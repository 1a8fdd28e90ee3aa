"""Builders for tests of the consultations app: small real files of each kind, and
consultations opened through the real service functions."""

from django.core.files.uploadedfile import SimpleUploadedFile

from kirakira.common.testing import MemberFactory

from . import services

# The smallest valid files: a 1x1 PNG, a JPEG header, a PDF.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
    b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(
    name: str = "photo.png", content: bytes = PNG, content_type: str = "image/png"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def open_for_member(member=None, **overrides):
    data = {
        "category": "question",
        "subject": "納品の時期について",
        "body": "いつ頃仕上がりますか？",
        "language": "ja",
    }
    data.update(overrides)
    return services.consultation_open(member=member or MemberFactory(), **data)


def open_for_visitor(**overrides):
    data = {
        "visitor_name": "訪問 花子",
        "visitor_email": "hanako@example.net",
        "category": "question",
        "subject": "料金について",
        "body": "見積もりをお願いします。",
        "language": "ja",
        "ip": "203.0.113.7",
    }
    data.update(overrides)
    return services.consultation_open(**data)


def page(response) -> str:
    return response.content.decode()


def said(language: str, msgid: str, **params) -> str:
    """``msgid`` as a page in ``language`` shows it (HTML-escaped); for Japanese, fails when
    the catalogs do not translate it (the page would show English)."""
    import html

    from django.utils import translation
    from django.utils.translation import gettext

    from kirakira.accounts.tests.helpers import ja

    if language == "ja":
        return html.escape(ja(msgid, **params))
    with translation.override(language):
        text = gettext(msgid)
    return html.escape(text % params if params else text)
