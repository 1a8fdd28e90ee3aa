from functools import partial

from django.db import models
from django.utils.translation import gettext_lazy as _

from kirakira.common.text import clean_text
from kirakira.common.validation import collect


class Choice(models.TextChoices):
    ACCEPT = "accept", _("Preference cookies accepted")
    REFUSE = "refuse", _("Preference cookies refused")


class ConsentRecord(models.Model):
    """Proof of one cookie choice (policy C8): which random consent ID chose what, under which
    policy version and cookie table, and when. No IP address, no user agent, no member: the
    consent ID in the visitor's own cookie is the only link to them."""

    consent_id = models.CharField(_("consent ID"), max_length=32, db_index=True)
    choice = models.CharField(_("choice"), max_length=10, choices=Choice.choices)
    policy_version = models.ForeignKey(
        "privacy.PolicyVersion",
        verbose_name=_("policy version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cookies_digest = models.CharField(_("cookie table fingerprint"), max_length=64)
    created_at = models.DateTimeField(_("chosen at"))

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ("-created_at",)

    def __str__(self):
        return f"{self.consent_id} {self.choice} {self.created_at:%Y-%m-%d %H:%M}"


class Audience(models.TextChoices):
    EVERYONE = "everyone", _("Everyone")
    MEMBERS = "members", _("Logged-in members")
    VISITORS = "visitors", _("Visitors who are not logged in")


class Notice(models.Model):
    """A notice staff publish as a dismissible popup, between two moments, to an audience."""

    title_ja = models.CharField(_("title (Japanese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    title_ko = models.CharField(_("title (Korean)"), max_length=200, blank=True)
    body_ja = models.TextField(_("body (Japanese)"), max_length=4000)
    body_en = models.TextField(_("body (English)"), max_length=4000, blank=True)
    body_ko = models.TextField(_("body (Korean)"), max_length=4000, blank=True)
    starts_at = models.DateTimeField(_("shown from"))
    ends_at = models.DateTimeField(_("shown until"))
    audience = models.CharField(
        _("audience"), max_length=10, choices=Audience.choices, default=Audience.EVERYONE
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ("-starts_at",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="notice_ends_after_start"
            )
        ]

    def __str__(self):
        return self.title_ja

    def localized(self, field: str, language: str) -> str:
        """The text in ``language``, or the Japanese one when that translation is empty."""
        return getattr(self, f"{field}_{language}", "") or getattr(self, f"{field}_ja")

    def clean(self):
        from django.core.exceptions import ValidationError

        errors: dict[str, list] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = [_("The end must be after the start.")]
        # Every visitor reads these: they are held to the rules of all free text
        # (common/text.py), titles on one line, bodies with their line breaks as "\n".
        for field, multiline in (("title", False), ("body", True)):
            for language in ("ja", "en", "ko"):
                name = f"{field}_{language}"
                value = collect(errors, name, partial(clean_text, multiline=multiline), getattr(self, name) or "")
                if value is not None:
                    setattr(self, name, value)
        if errors:
            raise ValidationError(errors)
