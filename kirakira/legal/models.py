from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kirakira.common import clock


class TermsVersion(models.Model):
    """A published version of the terms of service: frozen text, announced before it applies.

    Rows are never changed after publication; a mistake is fixed by publishing a correction. The
    first version is published by the site itself the first time someone agrees to the terms
    (``published_by`` empty), so that every agreement names the text agreed to.
    """

    number = models.PositiveIntegerField(_("version"), unique=True)
    effective_on = models.DateField(_("effective date"))
    is_correction = models.BooleanField(
        _("correction of wording"),
        default=False,
        help_text=_("Only a correction of wording may take effect sooner than 7 days after publication."),
    )
    reason_ja = models.TextField(_("reason (Japanese)"))
    reason_en = models.TextField(_("reason (English)"), blank=True)
    reason_ko = models.TextField(_("reason (Korean)"), blank=True)
    summary_ja = models.TextField(_("summary of changes (Japanese)"))
    summary_en = models.TextField(_("summary of changes (English)"), blank=True)
    summary_ko = models.TextField(_("summary of changes (Korean)"), blank=True)
    snapshot_ja = models.TextField(_("terms (Japanese)"), editable=False)
    snapshot_en = models.TextField(_("terms (English)"), editable=False)
    snapshot_ko = models.TextField(_("terms (Korean)"), editable=False)
    published_at = models.DateTimeField(_("published at"), editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        editable=False,
        verbose_name=_("published by"),
    )

    class Meta:
        verbose_name = _("terms of service version")
        verbose_name_plural = _("terms of service versions")
        ordering = ["-number"]
        permissions = [("publish_termsversion", _("Can publish a version of the terms of service"))]

    def __str__(self):
        return f"v{self.number} ({self.effective_on:%Y-%m-%d})"

    def localized(self, field: str, language: str) -> str:
        value = getattr(self, f"{field}_{language}", "") if language in ("ja", "en", "ko") else ""
        return value or getattr(self, f"{field}_ja")


class TermsAgreement(models.Model):
    """A member's agreement to one version of the terms: when, and how (page or API)."""

    class Channel(models.TextChoices):
        REGISTRATION = "registration", _("when registering")
        PAGE = "page", _("on the site")
        API = "api", _("through the API")

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="terms_agreements",
        verbose_name=_("member"),
    )
    version = models.ForeignKey(
        TermsVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("version")
    )
    agreed_at = models.DateTimeField(_("agreed at"), default=clock.now, editable=False)
    channel = models.CharField(_("how"), max_length=12, choices=Channel.choices)

    class Meta:
        verbose_name = _("agreement to the terms")
        verbose_name_plural = _("agreements to the terms")
        ordering = ["-agreed_at"]
        constraints = [
            models.UniqueConstraint(fields=["member", "version"], name="legal_terms_agreement_unique")
        ]

    def __str__(self):
        return f"{self.version} agreed at {self.agreed_at:%Y-%m-%d %H:%M}"
