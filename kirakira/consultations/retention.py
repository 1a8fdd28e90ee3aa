"""How consultations are deleted when their rule runs out (``privacy.py`` declares when)."""

from kirakira.privacy.crypto import datakeys

from .models import Consultation


def consultations_delete(ids: list) -> dict:
    """Delete consultations with their messages and attachments. A visitor's data key is
    destroyed with their last consultation (a member's goes when the member's records do).
    Returns {model label: count}."""
    visitors = set(
        Consultation._base_manager.filter(pk__in=ids, member__isnull=True).values_list("data_subject_id", flat=True)
    )
    _total, per_model = Consultation._base_manager.filter(pk__in=ids).delete()
    remaining = set(
        Consultation._base_manager.filter(data_subject_id__in=visitors).values_list("data_subject_id", flat=True)
    )
    destroyed = sum(1 for subject_id in visitors - remaining if datakeys.shred(subject_id))
    if destroyed:
        per_model["privacy.DataKey"] = destroyed
    return per_model
