"""System checks that hold the written policy to the running code (``manage.py check``).

Warnings, one per promise not kept yet, with the promise's number in a stable ID
(``kirakira.policy.W018`` is P18), say what is missing; they disappear as capabilities land.
Errors catch what would make the policy page wrong: a staff role the policy's grouping does not
place, an operator statement code that does not exist, a promise naming an unknown capability.
"""

from django.conf import settings
from django.core import checks

from kirakira.common.roles import ROLE_DECLARATIONS, PolicyGroup

from . import operator
from .capabilities import CAPABILITIES
from .promises import PROMISES


def _error(number: int, msg: str, hint: str) -> checks.Error:
    return checks.Error(msg, hint=hint, obj="privacy policy", id=f"kirakira.privacy.E{number:03d}")


@checks.register("privacy")
def check_roles_are_placed(app_configs=None, **kwargs):
    return [
        _error(
            20,
            f"The staff role {entry.code!r} is not placed in any of the privacy policy's groups of staff "
            f"with access to personal information (a, b or c).",
            "Give its RoleDeclaration a policy_group in kirakira/common/roles.py.",
        )
        for entry in ROLE_DECLARATIONS
        if not isinstance(entry.policy_group, PolicyGroup)
    ]


@checks.register("privacy")
def check_operator_statements(app_configs=None, **kwargs):
    unknown = [code for code in settings.PRIVACY_OPERATOR_STATEMENTS if code not in operator.STATEMENTS]
    return [
        _error(
            21,
            f"PRIVACY_OPERATOR_STATEMENTS names {code!r}, which is not a statement the policy page knows.",
            f"Use the codes in kirakira/privacy/policy/operator.py: {', '.join(operator.STATEMENTS)}.",
        )
        for code in unknown
    ]


@checks.register("privacy")
def check_promises(app_configs=None, **kwargs):
    messages = []
    for promise in PROMISES:
        unknown = [code for code in promise.needs if code not in CAPABILITIES]
        if unknown:
            messages.append(
                _error(
                    22,
                    f"{promise.id} needs capabilities that do not exist: {', '.join(unknown)}.",
                    "Name capabilities from kirakira/privacy/policy/capabilities.py.",
                )
            )
            continue
        if promise.legal or promise.kept():
            continue
        hint = "Missing: " + "; ".join(promise.missing()) + "."
        if promise.partly:
            hint += f" What runs today: {promise.partly}."
        messages.append(
            checks.Warning(
                f"{promise.id} ({promise.clause}) is not kept by the software yet: {promise.text}.",
                hint=hint,
                obj="privacy policy",
                id=f"kirakira.policy.W{promise.number:03d}",
            )
        )
    return messages
