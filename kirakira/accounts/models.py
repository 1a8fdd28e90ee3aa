import uuid

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from kirakira.common import clock
from kirakira.privacy.crypto.fields import BlindIndexField, EncryptedEmailField, EncryptedQuerySet

from .normalization import normalize_email, normalize_login_id, validate_login_id


class UserManager(BaseUserManager.from_queryset(EncryptedQuerySet)):
    use_in_migrations = True

    def get_by_natural_key(self, login_id):
        return self.get(login_id=normalize_login_id(login_id))

    def with_email(self, email: str):
        """Accounts whose email is ``email`` (after normalisation), found by the blind index."""
        return self.filter(email_index=self.model.email_index_of(email))

    def _create(self, login_id, name, email, password, **extra):
        user = self.model(
            login_id=normalize_login_id(login_id),
            name=name.strip(),
            email=normalize_email(email),
            **extra,
        )
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, login_id, name, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(login_id, name, email, password, **extra)

    def create_superuser(self, login_id, name, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True, email_confirmed_at=clock.now())
        return self._create(login_id, name, email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A member of the studio's site, or a member of staff (``is_staff``) in one or more roles.

    The primary key is a UUID so that a row's identity is known before it is inserted (field
    encryption binds each ciphertext to it) and so that IDs in URLs reveal nothing.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    login_id = models.CharField(_("login ID"), max_length=30, unique=True, validators=[validate_login_id])
    name = models.CharField(_("name"), max_length=100)
    # Encrypted under the member's own key; looked up and kept unique through the blind index.
    email = EncryptedEmailField(_("email address"), owner="id", max_length=254)
    email_index = BlindIndexField(source="email", normalizer=normalize_email, unique=True)
    email_confirmed_at = models.DateTimeField(_("email confirmed at"), null=True, blank=True)
    pending_email = EncryptedEmailField(
        _("new email address awaiting confirmation"), owner="id", max_length=254, blank=True, default=""
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    is_staff = models.BooleanField(_("staff"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=clock.now)
    # Set by the member's withdrawal (kirakira/privacy/retention/withdrawal.py): the row stays,
    # emptied of everything personal, while records that rules keep still point to it.
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "login_id"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name", "email"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("login_id"), name="accounts_user_login_id_ci_unique"),
        ]

    def __str__(self):
        return self.login_id

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def can_order(self) -> bool:
        return self.is_active and self.email_confirmed

    # --- permissions: the roles' and nothing else ------------------------------------------------
    # Django's PermissionsMixin answers True to every permission question for an active
    # superuser, and its ModelBackend adds the user's direct permissions. Here superuser status
    # (only ever given by ``createsuperuser`` on the server) counts for nothing and direct
    # permissions are refused when granted (``kirakira.privacy.audit.permissions``) and ignored
    # here: what anyone may do is exactly what their roles' groups hold, as what they may see
    # is what their roles see (``kirakira.common.roles.roles_of``). Object-level questions get
    # no for an answer, as from ModelBackend.
    def role_permissions(self) -> frozenset[str]:
        """The permissions ("app_label.codename") of the user's groups; none when inactive."""
        if not self.is_active or self._state.adding:
            return frozenset()
        cached = self.__dict__.get("_kirakira_perm_cache")
        if cached is None:
            from django.contrib.auth.models import Permission

            pairs = Permission.objects.filter(group__user=self).values_list("content_type__app_label", "codename")
            cached = self.__dict__["_kirakira_perm_cache"] = frozenset(f"{app}.{code}" for app, code in pairs)
        return cached

    def get_user_permissions(self, obj=None):
        return set()

    def get_group_permissions(self, obj=None):
        return set(self.role_permissions()) if obj is None else set()

    def get_all_permissions(self, obj=None):
        return self.get_group_permissions(obj)

    def has_perm(self, perm, obj=None):
        return obj is None and perm in self.role_permissions()

    def has_perms(self, perm_list, obj=None):
        if isinstance(perm_list, str) or not hasattr(perm_list, "__iter__"):
            raise ValueError("perm_list must be an iterable of permissions.")
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, app_label):
        return any(perm.partition(".")[0] == app_label for perm in self.role_permissions())

    async def aget_user_permissions(self, obj=None):
        return set()

    async def aget_group_permissions(self, obj=None):
        return await sync_to_async(self.get_group_permissions)(obj)

    async def aget_all_permissions(self, obj=None):
        return await sync_to_async(self.get_all_permissions)(obj)

    async def ahas_perm(self, perm, obj=None):
        return await sync_to_async(self.has_perm)(perm, obj)

    async def ahas_perms(self, perm_list, obj=None):
        return await sync_to_async(self.has_perms)(perm_list, obj)

    async def ahas_module_perms(self, app_label):
        return await sync_to_async(self.has_module_perms)(app_label)

    def save(self, *args, **kwargs):
        # A new password (set_password(), not the hash upgrade a login may do) and a deactivation
        # end every other login of the account, whichever path made the change: the member's
        # pages, the back office, a management command or the shell.
        update_fields = kwargs.get("update_fields")

        def saves(name: str) -> bool:
            return update_fields is None or name in update_fields

        ends_logins = not self._state.adding and (
            (self._password is not None and saves("password")) or (not self.is_active and saves("is_active"))
        )
        if not ends_logins:
            return super().save(*args, **kwargs)
        from .services import member_logins_end
        from .session_tracking import current_session_key

        with transaction.atomic():
            super().save(*args, **kwargs)
            member_logins_end(user=self, keep_session_key=current_session_key(self))


class RoleRequestQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=RoleRequest.Status.PENDING)


class RoleRequest(models.Model):
    """A change of a staff account's roles that waits for the privacy officer: a grant of a role
    that sees personal data its requester's own roles do not, or the removal of a privacy role
    (separation of duties, ``kirakira.accounts.staff``). Approving applies it, recorded in the
    permission-change log with the approver as actor and the requester named; refusing changes
    nothing but the request. Decided once; written only by ``staff``'s services."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for the privacy officer")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), default=clock.now, db_index=True)
    # Role codes (kirakira.common.roles), sorted.
    roles_added = models.JSONField(_("roles to add"), default=list, blank=True)
    roles_removed = models.JSONField(_("roles to remove"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    objects = RoleRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("role request")
        verbose_name_plural = _("role requests")
        ordering = ["-requested_at"]
        default_permissions = ()  # written by the services only; who sees them is the admin's
        permissions = [("decide_rolerequest", _("Can approve or refuse role requests"))]
        indexes = [models.Index(fields=["status", "requested_at"], name="accounts_rolereq_status_idx")]

    def __str__(self):
        # Titles and breadcrumbs show this: the request's own ID, never who it is about.
        return _("role request %(id)s") % {"id": str(self.pk)[:8]}


class BrowserSession(AbstractBaseSession):
    """A browser's session: Django's database session (its documented way to extend that engine)
    with the member it is logged in as, so that the member can see and end it.

    Ending a session deletes its row; the next request with that cookie then finds no session
    and is anonymous. The extra columns are copied from the session's data on every save (see
    ``session_tracking.SessionStore``), so a new key after a login or a password change keeps
    the same ``public_id``, creation time and client.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Names the session on the member's pages; the session key itself is a secret and is never shown.
    # Not unique: while a key is being replaced, the old and the new row share it for a moment.
    public_id = models.UUIDField(null=True, blank=True, db_index=True, editable=False)
    created_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # A short description such as "Firefox (Windows)", never the raw User-Agent header.
    client = models.CharField(max_length=60, blank=True, default="")

    class Meta:
        verbose_name = _("browser session")
        verbose_name_plural = _("browser sessions")

    def __str__(self):
        return str(self.public_id or "-")  # never the session key, which logs in whoever holds it

    @classmethod
    def get_session_store_class(cls):
        from .session_tracking import SessionStore

        return SessionStore


class MemberToken(models.Model):
    """What a member sees of one of their API tokens, beside knox's ``AuthToken`` (which keeps
    neither the client nor the last use). Goes with its token, whoever deletes it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token = models.OneToOneField(
        settings.KNOX_TOKEN_MODEL, on_delete=models.CASCADE, related_name="member_token"
    )
    client = models.CharField(max_length=60, blank=True, default="")
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return str(self.id)


class KnownLoginAddress(models.Model):
    """A client address an account logged in from successfully, and when it last did, so that
    the login ID slowdown never holds back its owner there (``throttles.py``). Staff are in no
    usage log, so without this every address would be new to them.

    Only a keyed hash of the address (its /64 network for IPv6) mixed with the account's ID is
    kept: it can tell whether a given address is one of this account's, and nothing else — not
    the address, nor whether two accounts share one. Rows unseen for ``LOGIN_ID_FAMILIAR_DAYS``
    no longer count and are deleted by ``prune_logins``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    address_hash = models.CharField(max_length=64)
    last_seen_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("known login address")
        verbose_name_plural = _("known login addresses")
        constraints = [
            models.UniqueConstraint(fields=["user", "address_hash"], name="accounts_known_login_address_unique"),
        ]

    def __str__(self):
        return str(self.pk)  # not the hash, which means nothing to a reader
