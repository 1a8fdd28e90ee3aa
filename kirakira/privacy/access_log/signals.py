"""Connects the access log to the models: loading a row (``collector``) and writing or deleting
one (below) during a staff request. Writes are recorded at once, by the save's own signal,
inside the save's transaction: a change whose record fails is rolled back with it."""

from django.db.models.signals import post_delete, post_save

from . import collector
from .services import Action, record_instance


def _by_staff():
    collection = collector.current()
    if collection is None or collection.paused:
        return None
    return collection


def _saved(sender, instance, created, update_fields=None, **kwargs):
    collection = _by_staff()
    if collection is None:
        return
    fields = collection.changed_fields.pop((sender, instance.pk), None)
    if fields is None:
        fields = sorted(update_fields) if update_fields else []
    record_instance(
        actor=collection.actor,
        action=Action.ADD if created else Action.CHANGE,
        instance=instance,
        request=collection.request,
        fields=fields,
    )


def _deleted(sender, instance, **kwargs):
    collection = _by_staff()
    if collection is None:
        return
    record_instance(
        actor=collection.actor, action=Action.DELETE, instance=instance, request=collection.request
    )


def connect() -> None:
    watched = collector.watched_models()
    collector.connect(watched)
    for model in watched:
        uid = f"kirakira_access_{model._meta.label}"
        post_save.connect(_saved, sender=model, dispatch_uid=uid)
        post_delete.connect(_deleted, sender=model, dispatch_uid=uid)
