"""A stop of all processing (policy C7), in the staff work queues: the member's rows stay listed,
so that nobody wonders where they went or works on them from memory, but they are marked
"processing stopped", and the work on them is refused and recorded in the staff access log. The
privacy roles, who answer the request, keep working on them.

The queues ask here with the path from their rows to the member (``member``): one subquery in
the list's own query marks the rows, one query finds the stopped rows of an action.
"""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from kirakira.common.roles import Role, roles_of
from kirakira.privacy.access_log.services import record_refusal

from .models import Scope
from .restriction import stopped_members, stopped_q

STOPPED = "processing_stopped"  # the annotation on the queue's rows
REFUSAL = "processing_stopped"  # the reason of the access log's refusal row
ANSWERING_ROLES = frozenset({Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF})


def with_stopped(queryset, path: str = "member"):
    """The rows, each with ``processing_stopped``: whether its member stopped all processing."""
    stopped = stopped_members(Scope.ALL).filter(member_id=OuterRef(path))
    return queryset.annotate(**{STOPPED: Exists(stopped)})


def answers_requests(user) -> bool:
    return bool(roles_of(user) & ANSWERING_ROLES)


def stopped_pks(queryset, path: str = "member") -> set:
    """The keys of the rows whose member stopped all processing (one query)."""
    return set(queryset.filter(stopped_q(Scope.ALL, path)).values_list("pk", flat=True))


def refuse(request, instance, member_id) -> None:
    """Record a refused piece of work on a stopped member's row."""
    record_refusal(
        request, why=REFUSAL, model=instance._meta.label, object_id=str(instance.pk), subjects=[member_id]
    )


def refusal_message(reference: str) -> str:
    return _(
        "%(reference)s: the member has stopped all processing of their personal information. Nothing is "
        "done with this record until the privacy staff lift or refuse the stop."
    ) % {"reference": reference}


def stopped_column(path: str = "member"):
    """The queue's "processing stopped" column (read from the ``with_stopped`` annotation)."""
    from kirakira.privacy.catalog.admin import shows  # the catalog's admin loads after this

    @admin.display(description=_("processing stopped"), boolean=True, ordering=STOPPED)
    @shows(path)
    def processing_stopped(obj):
        return bool(getattr(obj, STOPPED, False))

    return processing_stopped


def stopped_filter(path: str = "member"):
    """A list filter of the rows whose member stopped all processing, or did not."""
    from kirakira.privacy.catalog.admin import shows

    @shows(path)
    class StoppedFilter(admin.SimpleListFilter):
        title = _("processing stopped")
        parameter_name = "processing_stopped"

        def lookups(self, request, model_admin):
            return [("yes", _("Yes")), ("no", _("No"))]

        def queryset(self, request, queryset):
            if self.value() == "yes":
                return queryset.filter(stopped_q(Scope.ALL, path))
            if self.value() == "no":
                return queryset.exclude(stopped_q(Scope.ALL, path))
            return queryset

    return StoppedFilter
