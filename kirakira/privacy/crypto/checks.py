"""A retired master key must leave every configuration: while it is configured, the old backups
it wrapped keys for can still be opened."""

from django.core import checks


@checks.register("kirakira_privacy")
def check_retired_master_keys(app_configs=None, **kwargs):
    from kirakira.privacy.retention import journal

    from .keyring import keyring

    retired = journal.retired_master_keys()
    return [
        checks.Warning(
            f"Master key {key_id!r} was retired on {retired[key_id][:10]} but is still in PRIVACY_MASTER_KEYS.",
            hint="Remove it from PRIVACY_MASTER_KEYS on every server and destroy it in the secret store "
            "(README: Backups and key retirement).",
            id="kirakira.privacy.W040",
        )
        for key_id in sorted(set(retired) & set(keyring().master_keys))
    ]
