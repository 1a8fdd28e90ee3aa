"""Staff roles and what each may do.

A role is a Django group; its permissions are granted by data migrations so that every
database carries the same matrix (the README shows it). A role gets only what its work needs:
the policy's least-privilege rule (C10). Later features add their permissions in their own
migrations.
"""

from kirakira.common.roles import Role, roles_of

__all__ = ["Role", "roles_of"]
