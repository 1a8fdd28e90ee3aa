import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
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
