from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class UsageRecord(models.Model):
    """One request of a logged-in member (policy C1: connection IP, time and record of use).

    Only the route's name is kept, never the path, query string or body, so nothing a member
    typed ends up here. The table is append-only and grows with traffic: rows are narrow, the
    key is a 64-bit sequence, and ``occurred_at`` is indexed for the six-month purge.
    """

    id = models.BigAutoField(primary_key=True)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="usage_records",
        verbose_name=_("member"),
    )
    occurred_at = models.DateTimeField(_("time of use"))
    ip_address = models.GenericIPAddressField(_("connection IP address"), unpack_ipv4=True)
    method = models.CharField(_("HTTP method"), max_length=10)
    route = models.CharField(_("route"), max_length=100)
    status_code = models.PositiveSmallIntegerField(_("status code"))

    class Meta:
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")
        indexes = [
            models.Index(fields=["occurred_at"], name="usage_occurred_at_idx"),
            models.Index(fields=["member", "occurred_at"], name="usage_member_time_idx"),
        ]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.method} {self.route} {self.status_code}"
