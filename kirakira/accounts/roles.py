"""Staff roles and what each may do.

A role is a Django group; its permissions are granted by data migrations so that every
database carries the same matrix (the README shows it). A role gets only what its work needs:
the policy's least-privilege rule (C10). Later features add their permissions in their own
migrations.
"""

from kirakira.common.roles import Role

__all__ = ["Role", "roles_of"]


def roles_of(user) -> set[str]:
    if not user.is_authenticated or not user.is_staff:
        return set()
    cached = getattr(user, "_kirakira_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        user._kirakira_roles = cached
    return cached
