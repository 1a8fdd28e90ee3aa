from django.db import models
from django.utils.translation import gettext_lazy as _


class EmailDelivery(models.Model):
    """The delivery ledger: one row per logical email sent, so that a task run twice (a worker
    killed mid-task, a task taken up again after a lost connection) sends it once.

    A row is keyed by the email's kind and the IDs of what it is about (an order, an event, a
    message, a request and its recipient), never by an address or a name: it holds no personal
    data. It is inserted in the same transaction as the send (``email_send_once`` in
    ``kirakira/common/tasks.py``), so a send that fails leaves no row and a retry sends.
    """

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(_("kind"), max_length=64)
    key = models.CharField(_("key"), max_length=200)
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        verbose_name = _("email delivery")
        verbose_name_plural = _("email deliveries")
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="common_email_delivery_once")]
        indexes = [models.Index(fields=["sent_at"], name="common_email_delivery_sent_idx")]

    def __str__(self):
        return f"{self.kind} {self.key}"


class WorkerHeartbeat(models.Model):
    """When each task worker last went round its loop: what ``/readyz`` reads to know that a
    worker is alive (``kirakira/common/health.py``). A row, not the cache: the web and worker
    processes share the database always, a cache only when ``CACHE_URL`` names a shared one.

    Keyed by the worker's random ID (django_tasks_db's, never a host name); rows of workers
    gone for a day are deleted by the live workers as they beat."""

    worker_id = models.CharField(_("worker"), max_length=64, unique=True)
    seen_at = models.DateTimeField(_("seen at"), db_index=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")
        default_permissions = ()

    def __str__(self):
        return self.worker_id
