"""Which data subjects' rows a staff request loaded, seen from the models themselves.

Why from the models: a list, a change page, a history page, an autocomplete answer, a filter's
choices, a delete confirmation, a download, the officer's desk — every way the back office has,
or will have, of showing someone's data starts by loading their rows. Watching ``post_init`` on
every model the catalog gives a data subject covers them all, including pages added later,
without a call in each view to forget. Explicit records (``services``) add what loading cannot
tell: the reason of a reveal, the fields of a change.

The subject of a row is read from the attribute the catalog names (``member`` → ``member_id``,
``data_subject_id``, ``pk``) with no query; when that attribute was deferred or the subject sits
behind another row (``MemberToken.token`` → the token's user), the row's key is kept and the
subjects are read at the end of the request, one query per model.
"""

from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models.signals import post_init

from kirakira.privacy.catalog import catalog


@dataclass(frozen=True)
class SubjectPath:
    """How a model's rows name their data subject."""

    lookup: str  # a lookup from the model to the subject's ID ("member", "token__user", "pk")
    attname: str | None  # the attribute holding it on the row itself, when there is one


def subject_path(model) -> SubjectPath | None:
    declaration = catalog.for_model(model)
    if declaration is None or not declaration.subject:
        return None
    path = declaration.subject
    if path == "pk":
        return SubjectPath("pk", model._meta.pk.attname)
    user_model = get_user_model()
    lookup, current = [], model
    for _ in range(4):  # the catalog's subjects are at most a couple of relations away
        field_ = current._meta.get_field(path)
        lookup.append(field_.name)
        if not field_.is_relation:
            break
        related = field_.related_model
        if related is user_model:
            break
        next_path = subject_path(related)
        if next_path is None:
            return None
        if next_path.lookup == "pk":
            break
        current, path = related, next_path.lookup.split("__")[0]
    attname = field_.attname if len(lookup) == 1 else None
    return SubjectPath("__".join(lookup), attname)


@dataclass
class Collection:
    """What one staff request loaded: subject IDs, and rows whose subject is still to be read."""

    actor: object
    request: object = None
    subjects: dict[str, set] = field(default_factory=lambda: defaultdict(set))  # model label -> IDs
    pending: dict[type, set] = field(default_factory=lambda: defaultdict(set))  # model -> row keys
    paused: int = 0
    # Fields a form changed, by (model, key), told by the back office before it saves.
    changed_fields: dict = field(default_factory=dict)
    recorded: set = field(default_factory=set)  # subjects an explicit row of this request named

    @property
    def actor_id(self):
        return self.actor.pk

    def add(self, instance) -> None:
        model = type(instance)
        path = _paths.get(model)
        if path is None or instance.pk is None:
            return
        if path.attname is not None and path.attname not in instance.get_deferred_fields():
            subject = instance.__dict__.get(path.attname)
            if subject is not None and subject != self.actor_id and subject not in self.recorded:
                self.subjects[model._meta.label].add(subject)
        else:
            self.pending[model].add(instance.pk)

    def resolve(self) -> dict[str, set]:
        """Every subject loaded, by model label; the actor's own data is not an access."""
        self.paused += 1
        try:
            for model, keys in self.pending.items():
                lookup = _paths[model].lookup
                for subject in model._base_manager.filter(pk__in=keys).values_list(lookup, flat=True):
                    if subject is not None and subject != self.actor_id and subject not in self.recorded:
                        self.subjects[model._meta.label].add(subject)
            self.pending.clear()
        finally:
            self.paused -= 1
        return {label: ids for label, ids in self.subjects.items() if ids}

    def forget(self, subject_ids) -> None:
        """Subjects named by an explicit record of this request (a reveal, a change): the page
        around it is part of that access, not another."""
        self.recorded.update(subject_ids)
        for ids in self.subjects.values():
            ids.difference_update(subject_ids)


_current: ContextVar[Collection | None] = ContextVar("kirakira_access_collection", default=None)
_paths: dict[type, SubjectPath] = {}


def current() -> Collection | None:
    return _current.get()


def start(actor, request=None) -> object:
    return _current.set(Collection(actor=actor, request=request))


def stop(token) -> None:
    _current.reset(token)


def _loaded(sender, instance, **kwargs):
    collection = _current.get()
    if collection is not None and not collection.paused:
        collection.add(instance)


def watched_models() -> list[type]:
    """Every model whose rows name a data subject (the access log itself excepted: reading it is
    the privacy roles' review, and writing it must not record itself)."""
    from ..models import StaffAccessRecord, StaffAccessSubject

    watched = []
    for declaration in catalog.declarations():
        try:
            model = declaration.model
        except LookupError:  # declared for an app this configuration leaves out
            continue
        if model in (StaffAccessRecord, StaffAccessSubject):
            continue
        path = subject_path(model)
        if path is None:
            continue
        _paths[model] = path
        watched.append(model)
    return watched


def connect(models_: list[type]) -> None:
    for model in models_:
        post_init.connect(_loaded, sender=model, dispatch_uid=f"kirakira_access_{model._meta.label}")
