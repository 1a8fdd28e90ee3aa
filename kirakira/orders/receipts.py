"""Receipts (領収書) of paid orders, as PDF, on the order page and ``GET /api/v1/orders/{id}/receipt``.

Who gets one: only an order paid in full and not cancelled (paid, in progress, completed). An
order awaiting its transfer has received nothing to acknowledge; a cancelled order's money is
refunded (or was never paid), so a receipt would acknowledge a payment the studio does not keep.
The amount received is the order's price: an overpayment is not the price of the service but a
debt the studio refunds (``lifecycle.excess_due``), so it is never on the receipt. A receipt
issued before a later cancellation stays recorded; no new one is issued after it. (A qualified
return invoice, 適格返還請求書, for a refund after a receipt is not produced here.)

What it says: the studio's name and address; the receipt number, the issue date, the addressee
(the member's name + 様), the amount received (tax included), "for <service>", the day the
transfer that completed the price was received, the order's reference and the consumption tax
in it. When ``INVOICE_REGISTRATION_NUMBER`` is set the receipt is a qualified invoice (適格請求書,
インボイス制度): it adds the registration number and states the total and the tax per rate, the
tax computed once per receipt and rate, rounded down (floor(total × rate / (100 + rate)):
5,500 yen → 500, 3,333 yen → 303). Without the number it is an ordinary receipt: the amount with
its 内消費税, no registration line and no claim to be a qualified invoice.

Reissues: every issue is recorded (``models.Receipt``). The first download is the original;
each later one repeats the original's number, date of the transaction, amounts and registration
number, is printed 再発行 (Reissue, 재발행) and names the original's number and issue date. The
addressee is the member's name at each issue, so a corrected name reaches the next copy.

Personal data: the PDF holds the member's name; it is drawn for the request and never stored,
its file name is the order's reference (no personal data), and it is sent ``Cache-Control:
private, no-store``. The record keeps the printed name encrypted under the member's key.

Fonts: reportlab embeds TrueType, not the CFF (OpenType) Noto CJK fonts, so Japanese is drawn
with IPAex Gothic and Korean with Nanum Gothic (Debian's fonts-ipaexfont-gothic, fonts-nanum;
``RECEIPT_FONT_JA`` / ``RECEIPT_FONT_KO``). Each character is drawn with the first font of the
language's pair that has it (a Korean name on a Japanese receipt, Japanese kanji in a Korean
address). A font file that is missing falls back to reportlab's built-in CID font for that
language (HeiseiKakuGo-W5, HYGothic-Medium), so a receipt is drawn on any machine.
"""

import hashlib
import io
import logging
import os
import re
from dataclasses import dataclass

from django.conf import settings
from django.core import checks
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import HttpResponse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kirakira.common import clock
from kirakira.common.contact import in_language, phone_for_language

from .models import Order, OrderEvent, OrderStatus, Payment, Receipt

logger = logging.getLogger(__name__)

RECEIPTABLE = (OrderStatus.PAID, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)
REGISTRATION_NUMBER = re.compile(r"T[0-9]{13}")
LANGUAGES = ("ja", "en", "ko")
HINT_FILE = "config/settings.py (or the environment)"


# --- Rules ------------------------------------------------------------------------------------


def tax_included(total_yen: int, rate_percent: int) -> int:
    """The consumption tax inside a tax-inclusive total, rounded down once per receipt and rate."""
    return total_yen * rate_percent // (100 + rate_percent)


def refusal(order: Order) -> str | None:
    """Why this order gets no receipt, in the active language; ``None`` when it gets one."""
    if order.status == OrderStatus.CANCELLED:
        return _("This order was cancelled, so no receipt is issued for it.")
    if order.status not in RECEIPTABLE:
        return _("A receipt can be downloaded once your transfer for this order has arrived in full.")
    return None


def is_receiptable(order: Order) -> bool:
    return order.status in RECEIPTABLE


def _transaction_date(order: Order):
    """The day the transfer that brought the payments up to the price was received (payments
    that were reversed, and their reversals, left out)."""
    payments = (
        Payment.objects.filter(order=order, reverses__isnull=True, reversed_by__isnull=True)
        .order_by("received_on", "recorded_at")
        .values_list("amount_yen", "received_on")
    )
    total = 0
    for amount, received_on in payments:
        total += amount
        if total >= order.price_yen:
            return received_on
    # Paid without recorded transfers (never through the lifecycle): the day it became paid.
    paid = OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.PAID).order_by("-occurred_at").first()
    return timezone.localdate(paid.occurred_at if paid else clock.now())


def receipt_issue(*, order_id, member, channel: str) -> Receipt:
    """Issue the member's receipt of an order: the original the first time, a reissue after.
    Refused (``ValidationError``) for anyone else's order (code ``not_found``) and for an order
    not paid in full or cancelled (code ``not_eligible``). The order row is locked, so two
    downloads at once get sequence numbers one after the other."""
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("member")
            .filter(pk=order_id, member_id=member.pk)
            .first()
        )
        if order is None:
            raise ValidationError(_("This order does not exist."), code="not_found")
        reason = refusal(order)
        if reason is not None:
            raise ValidationError(reason, code="not_eligible")
        original = Receipt.objects.filter(order=order, sequence=1).first()
        if original is None:
            rate = settings.CONSUMPTION_TAX_RATE_PERCENT
            terms = {
                "sequence": 1,
                "number": f"R-{order.reference}",
                "transaction_date": _transaction_date(order),
                "amount_yen": order.price_yen,
                "tax_rate_percent": rate,
                "tax_yen": tax_included(order.price_yen, rate),
                "registration_number": settings.INVOICE_REGISTRATION_NUMBER,
            }
        else:
            last = Receipt.objects.filter(order=order).aggregate(last=Max("sequence"))["last"]
            terms = {
                "sequence": last + 1,
                "number": original.number,
                "transaction_date": original.transaction_date,
                "amount_yen": original.amount_yen,
                "tax_rate_percent": original.tax_rate_percent,
                "tax_yen": original.tax_yen,
                "registration_number": original.registration_number,
            }
        receipt = Receipt.objects.create(
            order=order, member_id=order.member_id, channel=channel, addressee=order.member.name, **terms
        )
        receipt.original = original or receipt
    logger.info("Receipt %s issued for order %s through %s", receipt.sequence, order.pk, channel)
    return receipt


# --- Fonts ------------------------------------------------------------------------------------

_CID_FALLBACK = {"ja": "HeiseiKakuGo-W5", "ko": "HYGothic-Medium"}


@dataclass(frozen=True)
class _Font:
    name: str
    glyphs: frozenset | None  # the code points it draws; None: take it for all (a CID font)

    def covers(self, char: str) -> bool:
        return self.glyphs is None or ord(char) in self.glyphs


_fonts: dict[tuple[str, str], _Font] = {}


def _font(script: str) -> _Font:
    """The TrueType font set for ``script`` ("ja" or "ko"), registered with reportlab once; the
    built-in CID font when the file is missing or unreadable."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    path = getattr(settings, f"RECEIPT_FONT_{script.upper()}", "")
    key = (script, path)
    if key in _fonts:
        return _fonts[key]
    font = None
    if path and os.path.isfile(path):
        name = f"Kirakira-{script}-{hashlib.sha256(path.encode()).hexdigest()[:8]}"
        try:
            ttf = TTFont(name, path)
            pdfmetrics.registerFont(ttf)
            font = _Font(name, frozenset(ttf.face.charToGlyph))
        except (TTFError, OSError, ValueError) as exc:
            logger.warning("The receipt font %s cannot be used (%s): using a built-in font", path, exc)
    elif path:
        logger.warning("The receipt font %s is missing: using a built-in font", path)
    if font is None:
        name = _CID_FALLBACK[script]
        pdfmetrics.registerFont(UnicodeCIDFont(name))
        font = _Font(name, None)
    _fonts[key] = font
    return font


def _font_chain(language: str) -> tuple[_Font, ...]:
    return (_font("ko"), _font("ja")) if language == "ko" else (_font("ja"), _font("ko"))


# --- Drawing ----------------------------------------------------------------------------------


class _Page:
    """Text on a canvas, each character in the first font of the chain that has it."""

    def __init__(self, canvas, chain):
        self.canvas, self.chain = canvas, chain

    def _runs(self, text: str):
        runs: list[list] = []
        for char in text:
            font = next((f for f in self.chain if f.covers(char)), self.chain[0])
            if runs and runs[-1][0] is font:
                runs[-1][1] += char
            else:
                runs.append([font, char])
        return runs

    def width(self, text: str, size: float) -> float:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        return sum(stringWidth(chunk, font.name, size) for font, chunk in self._runs(text))

    def text(self, x: float, y: float, text: str, size: float, *, align: str = "left") -> None:
        if align == "right":
            x -= self.width(text, size)
        elif align == "center":
            x -= self.width(text, size) / 2
        written = self.canvas.beginText(x, y)
        for font, chunk in self._runs(text):
            written.setFont(font.name, size)
            written.textOut(chunk)
        self.canvas.drawText(written)

    def wrap(self, text: str, size: float, width: float) -> list[str]:
        """Lines of at most ``width``: broken at spaces where there are some, else anywhere
        (Japanese and long names have none)."""
        lines, line = [], ""
        for char in text:
            if self.width(line + char, size) <= width:
                line += char
                continue
            cut = line.rfind(" ")
            if cut > 0 and char != " ":
                lines.append(line[:cut])
                line = line[cut + 1 :] + char
            else:
                lines.append(line.rstrip())
                line = char.lstrip()
        if line or not lines:
            lines.append(line)
        return lines


def _yen(amount: int) -> str:
    return _("¥%(amount)s") % {"amount": f"{amount:,}"}


def _date(value) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def render_pdf(receipt: Receipt, language: str) -> bytes:
    """The receipt drawn in ``language`` (ja, en or ko; anything else is drawn in Japanese)."""
    from reportlab.lib.colors import Color
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    language = language if language in LANGUAGES else settings.LANGUAGE_CODE
    buffer = io.BytesIO()
    with translation.override(language):
        canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
        qualified = bool(receipt.registration_number)
        order = receipt.order
        original = getattr(receipt, "original", None) or Receipt.objects.get(order=order, sequence=1)
        title = pgettext("receipt", "Receipt")
        canvas.setTitle(f"{title} {receipt.number}")
        canvas.setAuthor(settings.STUDIO_NAME)
        page = _Page(canvas, _font_chain(language))
        width, height = A4
        left, right = 56, width - 56
        y = height - 80

        page.text(width / 2, y, title, 24, align="center")
        if qualified:
            y -= 20
            page.text(width / 2, y, pgettext("receipt", "(qualified invoice)"), 11, align="center")
        if receipt.is_reissue:
            mark = pgettext("receipt", "Reissue")
            mark_width = page.width(mark, 14) + 16
            canvas.setStrokeColor(Color(0.75, 0.1, 0.1))
            canvas.setFillColor(Color(0.75, 0.1, 0.1))
            canvas.rect(right - mark_width, height - 88, mark_width, 26)
            page.text(right - 8, height - 80, mark, 14, align="right")
            canvas.setFillColor(Color(0, 0, 0))
            canvas.setStrokeColor(Color(0, 0, 0))

        y -= 36
        page.text(
            right, y, pgettext("receipt", "No. %(number)s") % {"number": receipt.number}, 10, align="right"
        )
        y -= 14
        issued = _date(timezone.localdate(receipt.issued_at))
        page.text(right, y, pgettext("receipt", "Issued on %(date)s") % {"date": issued}, 10, align="right")

        y -= 30
        addressee = pgettext("receipt", "To: %(name)s") % {"name": receipt.addressee}
        for line in page.wrap(addressee, 15, right - left - 150):
            page.text(left, y, line, 15)
            y -= 20
        canvas.line(left, y + 14, left + 300, y + 14)

        y -= 24
        canvas.setFillColor(Color(0.95, 0.95, 0.95))
        canvas.rect(left, y - 14, right - left, 44, stroke=1, fill=1)
        canvas.setFillColor(Color(0, 0, 0))
        page.text(left + 12, y, pgettext("receipt", "Amount received"), 12)
        amount = f"{_yen(receipt.amount_yen)} {pgettext('receipt', '(tax included)')}"
        page.text(right - 12, y, amount, 18, align="right")

        y -= 40
        service = order.service.name
        for line in page.wrap(
            pgettext("receipt", "For %(service)s") % {"service": service}, 11, right - left
        ):
            page.text(left, y, line, 11)
            y -= 16
        page.text(left, y, pgettext("receipt", "We acknowledge receipt of the amount above."), 11)

        y -= 34
        page.text(left, y, pgettext("receipt", "Details"), 12)
        y -= 6
        canvas.line(left, y, right, y)
        rows = [
            (pgettext("receipt", "Date of the transaction"), _date(receipt.transaction_date)),
            (pgettext("receipt", "Order"), order.reference),
            (pgettext("receipt", "Item"), service),
            (pgettext("receipt", "Payment method"), pgettext("receipt", "Bank transfer")),
        ]
        if qualified:
            rows += [
                (
                    pgettext("receipt", "Total subject to %(rate)d%% tax")
                    % {"rate": receipt.tax_rate_percent},
                    f"{_yen(receipt.amount_yen)} {pgettext('receipt', '(tax included)')}",
                ),
                (
                    pgettext("receipt", "Consumption tax (%(rate)d%%)") % {"rate": receipt.tax_rate_percent},
                    _yen(receipt.tax_yen),
                ),
            ]
        else:
            rows.append(
                (
                    pgettext("receipt", "Including consumption tax (%(rate)d%%)")
                    % {"rate": receipt.tax_rate_percent},
                    _yen(receipt.tax_yen),
                )
            )
        label_width = 170
        for label, value in rows:
            y -= 18
            page.text(left + 4, y, label, 10)
            for index, line in enumerate(page.wrap(value, 10, right - left - label_width - 8)):
                if index:
                    y -= 14
                page.text(left + label_width, y, line, 10)
        y -= 8
        canvas.line(left, y, right, y)

        if receipt.is_reissue:
            y -= 24
            note = pgettext(
                "receipt",
                "This is a reissue (issue %(sequence)d) of receipt No. %(number)s, first issued on %(date)s.",
            ) % {
                "sequence": receipt.sequence,
                "number": original.number,
                "date": _date(timezone.localdate(original.issued_at)),
            }
            for line in page.wrap(note, 10, right - left):
                page.text(left, y, line, 10)
                y -= 14

        y = 190
        page.text(left, y, pgettext("receipt", "Issuer"), 10)
        y -= 18
        page.text(left, y, settings.STUDIO_NAME, 13)
        for line in page.wrap(in_language("STUDIO_ADDRESS"), 10, right - left):
            y -= 15
            page.text(left, y, line, 10)
        y -= 15
        page.text(left, y, phone_for_language(settings.STUDIO_PHONE), 10)
        if qualified:
            y -= 15
            page.text(
                left,
                y,
                pgettext("receipt", "Registration number: %(number)s")
                % {"number": receipt.registration_number},
                10,
            )
        canvas.showPage()
        canvas.save()
    return buffer.getvalue()


def filename(receipt: Receipt) -> str:
    """The download's name: the order's reference (never the member's name)."""
    suffix = f"-{receipt.sequence}" if receipt.is_reissue else ""
    return f"receipt-{receipt.order.reference}{suffix}.pdf"


def pdf_response(receipt: Receipt) -> HttpResponse:
    """The receipt as a download in the active language, never cached."""
    response = HttpResponse(
        render_pdf(receipt, (translation.get_language() or settings.LANGUAGE_CODE)[:2]),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename(receipt)}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- Configuration ----------------------------------------------------------------------------


@checks.register()
def check_receipt_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The registration number is "T" and 13 digits, and the tax rate a percentage."""
    problems = []
    number = settings.INVOICE_REGISTRATION_NUMBER
    if number and not REGISTRATION_NUMBER.fullmatch(number):
        problems.append(
            checks.Error(
                "INVOICE_REGISTRATION_NUMBER is not a qualified-invoice registration number: it must be "
                "'T' followed by 13 digits (half-width, no spaces or hyphens).",
                hint=f"Correct it, or leave it empty for ordinary receipts, in {HINT_FILE}.",
                id="kirakira.orders.E001",
            )
        )
    rate = settings.CONSUMPTION_TAX_RATE_PERCENT
    if not isinstance(rate, int) or isinstance(rate, bool) or not 0 < rate < 100:
        problems.append(
            checks.Error(
                "CONSUMPTION_TAX_RATE_PERCENT must be a whole percentage between 1 and 99.",
                hint=f"Set it (10 is the standard rate) in {HINT_FILE}.",
                id="kirakira.orders.E002",
            )
        )
    return problems
