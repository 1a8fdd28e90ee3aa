"""Stops of processing (policy C7), asked where the data is used: the senders of notices, the
usage log's readers, the staff work queues. A stop is in force from the moment the request is
received until staff refuse it (citing a ground) or the member lifts it."""

from django.db.models import Q

from .models import RightsRequest, Scope

# Each purpose a stop may name, and the scopes that stop it.
_STOPPED_BY = {
    Scope.NOTICES: (Scope.NOTICES, Scope.ALL),
    Scope.USAGE_LOG: (Scope.USAGE_LOG, Scope.ALL),
    Scope.ALL: (Scope.ALL,),
}


def scopes_in_force(member_id) -> set[str]:
    if member_id is None:
        return set()
    return set(
        RightsRequest.objects.in_force_restrictions()
        .filter(member_id=member_id)
        .values_list("scope", flat=True)
    )


def is_stopped(member_id, scope: str) -> bool:
    """Whether the member has stopped processing for ``scope`` ("notices", "usage_log", "all")."""
    return bool(scopes_in_force(member_id) & set(_STOPPED_BY[Scope(scope)]))


def stopped_members(scope: str):
    """A subquery of the members who stopped ``scope``, for excluding them from a list."""
    return (
        RightsRequest.objects.in_force_restrictions()
        .filter(scope__in=_STOPPED_BY[Scope(scope)])
        .values("member_id")
    )


def stopped_q(scope: str, path: str = "member") -> Q:
    """``Q`` matching rows whose member (``path``) stopped ``scope``."""
    return Q(**{f"{path}__in": stopped_members(scope)})
