import uuid

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
