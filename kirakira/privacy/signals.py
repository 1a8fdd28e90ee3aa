from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .policy.services import policy_acknowledge


@receiver(user_logged_in, dispatch_uid="kirakira.privacy.acknowledge_policy")
def acknowledge_policy_on_login(sender, request, user, **kwargs):
    policy_acknowledge(member=user)
