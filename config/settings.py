"""Kirakira settings: one module, every deployment difference read from the environment.

Development (the default) needs no environment at all: SQLite under ``var/``, a secret key
generated into ``var/`` on first run, mail printed to the console. Production is switched on
with ``KIRAKIRA_PRODUCTION=1`` and then refuses to start without its secrets.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("KIRAKIRA_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

PRODUCTION = env.bool("KIRAKIRA_PRODUCTION", default=False)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)


def _development_secret_key() -> str:
    """A per-checkout key kept in var/, so sessions survive restarts without any setup."""
    from django.core.management.utils import get_random_secret_key

    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


def _strong_key(key: str) -> bool:
    """Django's own test for a weak key (security.W009 and W025), which production refuses
    outright rather than only warning about."""
    return (
        len(key) >= SECRET_KEY_MIN_LENGTH
        and len(set(key)) >= SECRET_KEY_MIN_UNIQUE_CHARACTERS
        and not key.startswith(SECRET_KEY_INSECURE_PREFIX)
    )


_STRONG_KEY_RULE = (
    f"at least {SECRET_KEY_MIN_LENGTH} characters, at least {SECRET_KEY_MIN_UNIQUE_CHARACTERS} "
    f"different ones, not starting with '{SECRET_KEY_INSECURE_PREFIX}'"
)

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off when KIRAKIRA_PRODUCTION is on.")
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not _strong_key(SECRET_KEY):
        raise ImproperlyConfigured(
            f"SECRET_KEY must be set to a strong key ({_STRONG_KEY_RULE}) when KIRAKIRA_PRODUCTION is on."
        )
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _development_secret_key()
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
if PRODUCTION:
    for _position, _key in enumerate(SECRET_KEY_FALLBACKS, start=1):
        if not _strong_key(_key):  # the key itself is never printed
            raise ImproperlyConfigured(
                f"SECRET_KEY_FALLBACKS: key {_position} is weak; each key needs {_STRONG_KEY_RULE}."
            )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Absolute base of links in emails, which are built outside any request.
# The port `make run` and gunicorn listen on; the links in emails follow it unless SITE_URL is set.
PORT = env.int("PORT", default=8000)
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{PORT}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    # The second factor of staff (TOTP and single-use backup codes; kirakira/accounts/gate).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "kirakira.common",
    "kirakira.accounts",
    # After django_otp's apps: its admin.py takes their back-office pages away again.
    "kirakira.accounts.gate",
    "kirakira.usage",
    "kirakira.privacy",
    "kirakira.orders",
    "kirakira.consultations",
    "kirakira.consent",
    "kirakira.api",
    "kirakira.schedule",
    "kirakira.legal",
    "kirakira.disclosures",
    "kirakira.breaches",
]

MIDDLEWARE = [
    # First: every answer, error pages included, carries X-Request-ID, and every log line its ID.
    "kirakira.common.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "kirakira.common.csp.CSPMiddleware",
    # Outside everything that can draw an error page: under /api/ every error becomes JSON.
    "kirakira.api.middleware.ApiErrorMiddleware",
    # An ETag on every GET answer and a 304 for a matching If-None-Match. Outside every
    # middleware that changes a response (the session's Vary and cookies, the usage log...), so
    # the tag is that of the final body; inside the API's, which turns its 412 into JSON.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kirakira.consent.middleware.ConsentMiddleware",
    "kirakira.common.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    # Who changed a staff member's roles or flags, from where (the permission-change log).
    "kirakira.privacy.audit.permissions.PermissionChangeMiddleware",
    "kirakira.accounts.session_tracking.SessionTrackingMiddleware",
    "kirakira.accounts.middleware.MemberLanguageMiddleware",
    # Staff: 15 minutes idle ends the session; the back office needs the second factor, the
    # current security pledge and training first (kirakira/accounts/gate). After the language
    # is settled, so that the gate's pages come in the staff member's language.
    "kirakira.accounts.gate.middleware.StaffGateMiddleware",
    # Members: a new version of the terms of service is agreed to before ordering again.
    "kirakira.legal.middleware.TermsAgreementMiddleware",
    "kirakira.usage.middleware.UsageLogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # Innermost: what a staff request loads is the view's doing, recorded before the answer leaves.
    "kirakira.privacy.access_log.middleware.StaffAccessLogMiddleware",
]

if PRODUCTION:
    # Static files are served by the app itself in production (compressed, cache-busted names).
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

# Before everything, even the HTTPS redirect and the host check: /healthz and /readyz answer a probe
# over plain HTTP from the machine itself, and set or log nothing (kirakira/common/health.py).
MIDDLEWARE.insert(0, "kirakira.common.health.HealthMiddleware")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Only the back office's admin/base_site.html, which must come before the admin's own.
        "DIRS": [BASE_DIR / "kirakira" / "common" / "admin_templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kirakira.common.context_processors.site",
                "kirakira.consent.context_processors.consent",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'kirakira.sqlite3'}")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the task workers read while one writes; IMMEDIATE makes a
    # write transaction take its lock up front instead of failing half-way on a busy database.
    _db["OPTIONS"] = {
        "init_command": ("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"),
        "transaction_mode": "IMMEDIATE",
    }
    # A file, not memory, so that a task worker started by a test sees the same database.
    _db["TEST"] = {"NAME": str(VAR_DIR / "test-kirakira.sqlite3")}
else:
    # Opening a PostgreSQL connection per request costs about ten times a simple page.
    _db["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=600)
    # Django checks a kept connection with a SELECT 1 before a request's first query, so that a
    # connection the server dropped (a restart, a failover) is replaced instead of failing that
    # request: one round trip per request, measured in bench/RESULTS.md.
    _db["CONN_HEALTH_CHECKS"] = env.bool("DB_CONN_HEALTH_CHECKS", default=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and authentication ------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: a login ID under attack from many addresses is slowed down before anything else
    # (see kirakira/accounts/throttles.py).
    "kirakira.accounts.throttles.LoginIdSlowdownBackend",
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, taking a session's user from the session's own query.
    "kirakira.accounts.backends.SessionUserBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("login_id", "name", "email")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:mypage"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60)
EMAIL_CONFIRMATION_TIMEOUT = env.int("EMAIL_CONFIRMATION_TIMEOUT", default=3 * 24 * 60 * 60)

# Lockout: 5 failures for one login ID from one IP within 15 minutes locks that pair for 15.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Both the login form and the token endpoint pass the login ID to authenticate() as "username".
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "kirakira.accounts.lockout.lockout_username"
# The client address, and for IPv6 its /64 network: one client owns a whole /64.
AXES_CLIENT_IP_CALLABLE = "kirakira.common.client_ip.client_rate_limit_key"
AXES_LOCKOUT_CALLABLE = "kirakira.accounts.lockout.lockout_response"
AXES_VERBOSE = False
# Successful logins are already in the usage log; a second, unbounded log of IPs and user
# agents would be personal data kept for no declared purpose.
AXES_DISABLE_ACCESS_LOG = True
# No back-office pages of lockout records: they show addresses and login IDs that the catalog
# gives no staff role, and only a superuser (who gets no personal data) could open them.
# Lockouts are lifted on the server with ``axes_reset``.
AXES_ENABLE_ADMIN = False
# An attempt the login ID slowdown turned away is not a failure of that address.
AXES_WHITELIST_CALLABLE = "kirakira.accounts.throttles.turned_away"
# A wrong second-factor code counts as a failed login too; for staff only a full login (password
# and second factor) clears the count (kirakira/accounts/gate/lockout.py).
AXES_HANDLER = "kirakira.accounts.gate.lockout.StaffLockoutHandler"
# Never copied into a failure record (axes keeps the rest of a failed attempt's form).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]

# --- Staff: second factor, idle sessions (kirakira/accounts/gate) ---------------------------
# A staff session ends after this many seconds without a request; members keep the normal
# session length.
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=15 * 60)
# The name authenticator apps show beside a staff member's login ID.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Kirakira back office")

# One login ID tried from many addresses (which the per-address lockout above does not see):
# after LOGIN_ID_SLOWDOWN_AFTER failures within LOGIN_ID_SLOWDOWN_WINDOW seconds, addresses
# the account has not used in the last LOGIN_ID_FAMILIAR_DAYS days get one attempt per
# LOGIN_ID_SLOWDOWN_SECONDS between them; the account's familiar addresses are never slowed.
LOGIN_ID_SLOWDOWN_AFTER = env.int("LOGIN_ID_SLOWDOWN_AFTER", default=10)
LOGIN_ID_SLOWDOWN_WINDOW = env.int("LOGIN_ID_SLOWDOWN_WINDOW", default=15 * 60)
LOGIN_ID_SLOWDOWN_SECONDS = env.int("LOGIN_ID_SLOWDOWN_SECONDS", default=30)
LOGIN_ID_FAMILIAR_DAYS = env.int("LOGIN_ID_FAMILIAR_DAYS", default=30)
# Password reset requests per hour, per client address and per email address asked about.
PASSWORD_RESET_LIMIT_PER_IP = env.int("PASSWORD_RESET_LIMIT_PER_IP", default=10)
PASSWORD_RESET_LIMIT_PER_EMAIL = env.int("PASSWORD_RESET_LIMIT_PER_EMAIL", default=3)
# Confirmation links sent again on request (POST /api/v1/me/confirmation), per hour and per
# address the link goes to.
CONFIRMATION_RESEND_LIMIT_PER_HOUR = env.int("CONFIRMATION_RESEND_LIMIT_PER_HOUR", default=3)

# The client address is REMOTE_ADDR unless the request came through one of these proxies.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])


# --- Privacy core: field encryption keys ---------------------------------------------------
def _development_privacy_keys() -> dict:
    """Master and blind-index keys generated once into var/ (never used in production)."""
    import base64
    import json
    import os

    path = VAR_DIR / "privacy_keys.json"
    if not path.exists():
        path.write_text(
            json.dumps(
                {
                    "PRIVACY_MASTER_KEYS": f"dev-1:{base64.b64encode(os.urandom(32)).decode()}",
                    "PRIVACY_ACTIVE_MASTER_KEY": "dev-1",
                    "PRIVACY_BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
                },
                indent=2,
            )
        )
        path.chmod(0o600)
    keys = json.loads(path.read_text())
    if "BACKUP_KEY" not in keys:  # a key file from before backups existed
        keys["BACKUP_KEY"] = base64.b64encode(os.urandom(32)).decode()
        path.write_text(json.dumps(keys, indent=2))
    return keys


_privacy_keys = {} if PRODUCTION else _development_privacy_keys()
PRIVACY_MASTER_KEYS = env.str("PRIVACY_MASTER_KEYS", default=_privacy_keys.get("PRIVACY_MASTER_KEYS", ""))
PRIVACY_ACTIVE_MASTER_KEY = env.str(
    "PRIVACY_ACTIVE_MASTER_KEY", default=_privacy_keys.get("PRIVACY_ACTIVE_MASTER_KEY", "")
)
PRIVACY_BLIND_INDEX_KEY = env.str(
    "PRIVACY_BLIND_INDEX_KEY", default=_privacy_keys.get("PRIVACY_BLIND_INDEX_KEY", "")
)
# Blind-index keys with IDs ("id:base64,..."), beside or instead of the single key above (which
# is the key "legacy"), and the one that computes new index values (rotate_blind_index_key).
PRIVACY_BLIND_INDEX_KEYS = env.str(
    "PRIVACY_BLIND_INDEX_KEYS", default=_privacy_keys.get("PRIVACY_BLIND_INDEX_KEYS", "")
)
PRIVACY_ACTIVE_BLIND_INDEX_KEY = env.str(
    "PRIVACY_ACTIVE_BLIND_INDEX_KEY", default=_privacy_keys.get("PRIVACY_ACTIVE_BLIND_INDEX_KEY", "")
)
if PRODUCTION and not (
    PRIVACY_MASTER_KEYS and PRIVACY_ACTIVE_MASTER_KEY and (PRIVACY_BLIND_INDEX_KEY or PRIVACY_BLIND_INDEX_KEYS)
):
    raise ImproperlyConfigured(
        "PRIVACY_MASTER_KEYS, PRIVACY_ACTIVE_MASTER_KEY and PRIVACY_BLIND_INDEX_KEY (or PRIVACY_BLIND_INDEX_KEYS) "
        "are required in production."
    )
# How long a process may keep an unwrapped data key; shredding takes effect everywhere within it.
PRIVACY_KEY_CACHE_SECONDS = env.int("PRIVACY_KEY_CACHE_SECONDS", default=30)
# The disposal journal (destroyed data keys, withdrawals, deletions by request, retired master
# keys; IDs and times only), kept outside the database and apart from its backups: ``restore``
# replays what it logged after the backup was taken (kirakira/privacy/retention/journal.py).
DISPOSAL_JOURNAL = Path(env.str("DISPOSAL_JOURNAL", default=str(VAR_DIR / "disposal-journal.jsonl")))

# --- Backups (manage.py backup / restore; kirakira/privacy/backup) ----------------------------
# Encrypts the backup archives: base64 of 32 random bytes, kept apart from the backups and from
# the master keys (a backup holds neither).
BACKUP_KEY = env.str("BACKUP_KEY", default=_privacy_keys.get("BACKUP_KEY", ""))
# How long backups are kept. A master key is retired (retire_master_key) no earlier than this
# long after the rotation that moved every data key off it: by then no kept backup needs it.
BACKUP_RETENTION_DAYS = env.int("BACKUP_RETENTION_DAYS", default=35)

# --- Retention (policy C4) --------------------------------------------------------------------
# Rows the retention sweep deletes per transaction.
RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=1000)
# Rows per transaction where a log is deleted by time range (no per-row work: larger batches).
RETENTION_LOG_BATCH_SIZE = env.int("RETENTION_LOG_BATCH_SIZE", default=50_000)
# Failed and successful login attempts are kept this long for investigating attacks on accounts.
LOGIN_ATTEMPT_RETENTION_DAYS = env.int("LOGIN_ATTEMPT_RETENTION_DAYS", default=90)

# --- Members' rights (policy C7; kirakira/privacy/rights) -------------------------------------
# The one-time code mailed before a rights request: minutes it is good for, tries it allows, and
# how many may be mailed to one member in an hour.
IDENTITY_CODE_MINUTES = env.int("IDENTITY_CODE_MINUTES", default=10)
IDENTITY_CODE_TRIES = env.int("IDENTITY_CODE_TRIES", default=5)
IDENTITY_CODES_PER_HOUR = env.int("IDENTITY_CODES_PER_HOUR", default=5)
# Where finished exports wait (encrypted under the member's key) until their link expires.
EXPORT_DIR = Path(env.str("EXPORT_DIR", default=str(VAR_DIR / "exports")))

# --- Usage log (policy C1) ------------------------------------------------------------------
USAGE_LOG_ENABLED = env.bool("USAGE_LOG_ENABLED", default=True)

# --- Monthly staff access review (policy C10; kirakira/privacy/access_log/review.py) --------
# Staff accesses outside these hours or days (local time, TIME_ZONE) are listed for review.
# Hours as "HH:MM-HH:MM" (end excluded); days as "mon-fri" or "mon,tue,sat" or "mon-fri,sat".
ACCESS_REVIEW_WORKING_HOURS = env.str("ACCESS_REVIEW_WORKING_HOURS", default="09:00-19:00")
ACCESS_REVIEW_WORKING_DAYS = env.str("ACCESS_REVIEW_WORKING_DAYS", default="mon-fri")

# --- Languages ------------------------------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Input formats for dates as people type them in each language (2026/11/30 included).
FORMAT_MODULE_PATH = ["kirakira.common.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Tokyo")

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Email ----------------------------------------------------------------------------------
if env.str("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
elif PRODUCTION:
    raise ImproperlyConfigured("EMAIL_URL (smtp://user:password@host:port) is required in production.")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Kirakira <no-reply@kirakira.example>")
EMAIL_TIMEOUT = 10

# --- Background tasks -----------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# Finished task rows (successful or failed) are deleted this many days after they finish, by
# `manage.py prune_task_results` (kirakira/common/tasks.py).
TASK_RESULT_RETENTION_DAYS = env.int("TASK_RESULT_RETENTION_DAYS", default=7)
# A task RUNNING for longer than this many seconds was left by a worker that died: a worker
# puts it back to READY and it runs again (kirakira/common/worker.py). Longer than any task takes.
TASK_RUNNING_TIMEOUT = env.int("TASK_RUNNING_TIMEOUT", default=600)

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["kirakira.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["kirakira.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "kirakira.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "kirakira.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_RATES": {"register": env.str("REGISTER_THROTTLE_RATE", default="20/hour")},
}
# The largest request body the API takes (413 above it). The largest legitimate ones (a
# consultation of 10,000 characters, an order with ten links of 2,000) stay under 100 KB even
# with every character escaped as \uXXXX. Django refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE
# (2.5 MB) on its own, so a larger value here has no effect.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
# knox's own token model, named so that a model pointing at it can be migrated.
KNOX_TOKEN_MODEL = "knox.AuthToken"  # noqa: S105 - a model label
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": timedelta(days=30),
    # Live tokens per member; logging in at the limit ends the member's oldest token
    # (kirakira.accounts.services.member_token_create), so a new login always succeeds.
    "TOKEN_LIMIT_PER_USER": env.int("API_TOKEN_LIMIT_PER_MEMBER", default=20),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kirakira API",
    "DESCRIPTION": "The member API of Kirakira. Send `Authorization: Bearer <token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # drf-spectacular's own enum hook, then what holds for every operation (kirakira/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kirakira.api.schema.postprocess_contract",
    ],
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "kirakira.orders.models.OrderStatus",
        "RefundStatusEnum": "kirakira.orders.models.RefundStatus",
        "RefundKindEnum": "kirakira.orders.models.RefundKind",
        "AccountTypeEnum": "kirakira.orders.models.AccountType",
        "ConsultationStatusEnum": "kirakira.consultations.models.Status",
    },
}

# --- Cache (rate limits of the consultation form) ---------------------------------------------
# One process's memory by default; with several server processes set a shared cache, e.g.
# CACHE_URL=redis://127.0.0.1:6379/1, or each process counts on its own.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://kirakira")}
# Pages the same for every visitor (home, privacy policy) are kept this long in the cache above
# (kirakira/common/page_cache.py); 0 turns that off.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=120)

# --- Production processes (config/gunicorn.py, deploy/) ---------------------------------------
# gunicorn's worker processes and threads per process. Rate limits and lockouts live in the
# cache, so more than one process (several web workers, or the web server and a task worker,
# which production always runs) needs a cache they share: production refuses the per-process
# default. WEB_PROCESSES=1 says this is the only process of the deployment (no worker either).
WEB_WORKERS = env.int("WEB_WORKERS", default=2)
WEB_THREADS = env.int("WEB_THREADS", default=4)
WEB_PROCESSES = env.int("WEB_PROCESSES", default=0)
if PRODUCTION and WEB_PROCESSES != 1 and CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    raise ImproperlyConfigured(
        "CACHE_URL must name a cache shared by all processes (e.g. redis://127.0.0.1:6379/1) when "
        "KIRAKIRA_PRODUCTION is on: the web workers and the task worker each count rate limits and "
        "lockouts on their own otherwise. Set WEB_PROCESSES=1 only if a single process serves everything."
    )

# --- Uploads ---------------------------------------------------------------------------------
# Small uploads in memory, larger ones in temporary files capped at the largest allowed file;
# more files than any form takes are refused outright (a 400).
UPLOAD_FILE_MAX_BYTES = 10 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "kirakira.common.uploads.CappedTemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_NUMBER_FILES = 20

# New cookie consent records (first choices) one client address may make per hour.
CONSENT_NEW_RECORDS_PER_IP = env.int("CONSENT_NEW_RECORDS_PER_IP", default=60)

# --- Consultations --------------------------------------------------------------------------
# A ClamAV daemon's socket ("/run/clamav/clamd.ctl" or "tcp://127.0.0.1:3310"); empty: no scanner,
# which the policy page and the back office then say.
CLAMAV_SOCKET = env.str("CLAMAV_SOCKET", default="")
CLAMAV_TIMEOUT = env.float("CLAMAV_TIMEOUT", default=30.0)
# Visitors (not logged in) may open this many consultations per hour, per address and per email.
CONSULTATION_VISITOR_LIMIT_PER_IP = env.int("CONSULTATION_VISITOR_LIMIT_PER_IP", default=5)
CONSULTATION_VISITOR_LIMIT_PER_EMAIL = env.int("CONSULTATION_VISITOR_LIMIT_PER_EMAIL", default=3)
# Members may open this many consultations per hour (pages and API together).
CONSULTATION_MEMBER_LIMIT_PER_HOUR = env.int("CONSULTATION_MEMBER_LIMIT_PER_HOUR", default=10)
# How long a visitor's confirmation link, and a link to their thread, stay valid.
CONSULTATION_CONFIRMATION_TIMEOUT = env.int("CONSULTATION_CONFIRMATION_TIMEOUT", default=24 * 60 * 60)
# An answered consultation left without a reply this many days is closed (its retention starts).
CONSULTATION_IDLE_CLOSE_DAYS = env.int("CONSULTATION_IDLE_CLOSE_DAYS", default=30)
CONSULTATION_THREAD_LINK_TIMEOUT = env.int("CONSULTATION_THREAD_LINK_TIMEOUT", default=30 * 24 * 60 * 60)

# --- The studio (shown on the privacy policy page) -----------------------------------------
STUDIO_NAME = env.str("STUDIO_NAME", default="pretostudio")
STUDIO_ADDRESS = env.str("STUDIO_ADDRESS", default="東京都渋谷区神南1-2-3 キラキラビル5F")
# The address and the officer's department as English and Korean pages show them (empty: the
# Japanese is shown).
STUDIO_ADDRESS_EN = env.str("STUDIO_ADDRESS_EN", default="Kirakira Bldg. 5F, 1-2-3 Jinnan, Shibuya-ku, Tokyo")
STUDIO_ADDRESS_KO = env.str("STUDIO_ADDRESS_KO", default="도쿄도 시부야구 진난 1-2-3 키라키라 빌딩 5층")
STUDIO_REPRESENTATIVE = env.str("STUDIO_REPRESENTATIVE", default="山本 光")
# Names as English and Korean pages show them (empty: the Japanese is shown).
STUDIO_REPRESENTATIVE_EN = env.str("STUDIO_REPRESENTATIVE_EN", default="Hikaru Yamamoto")
STUDIO_REPRESENTATIVE_KO = env.str("STUDIO_REPRESENTATIVE_KO", default="야마모토 히카루")
# The seller's contact on the commerce disclosure (特定商取引法に基づく表記, /legal/commerce/). A
# phone number is written as dialled in Japan; English and Korean pages show it as +81.
STUDIO_PHONE = env.str("STUDIO_PHONE", default="03-0000-0001")
STUDIO_EMAIL = env.str("STUDIO_EMAIL", default="support@kirakira.example")
# Business days after a transfer is confirmed within which work on an order starts, and whether
# the customer pays the bank's transfer fee: both stated on the commerce disclosure.
SERVICE_START_BUSINESS_DAYS = env.int("SERVICE_START_BUSINESS_DAYS", default=3)
# The transfer for an order is due by the end of this many days after the day it was placed
# (Japan time); a reminder is mailed PAYMENT_REMINDER_DAYS before, and an order still unpaid after
# the deadline is cancelled by the schedule (kirakira/orders/deadlines.py).
ORDER_PAYMENT_DAYS = env.int("ORDER_PAYMENT_DAYS", default=7)
PAYMENT_REMINDER_DAYS = env.int("PAYMENT_REMINDER_DAYS", default=2)
TRANSFER_FEE_PAID_BY_CUSTOMER = env.bool("TRANSFER_FEE_PAID_BY_CUSTOMER", default=True)
# Receipts (kirakira/orders/receipts.py). The studio's qualified-invoice registration number
# (適格請求書発行事業者登録番号, "T" + 13 digits; checked by `manage.py check`): when set, receipts
# are qualified invoices; empty, ordinary receipts. Prices are tax-inclusive whole yen at this
# consumption tax rate (percent). The TrueType fonts drawn into the PDF (Debian's
# fonts-ipaexfont-gothic and fonts-nanum); a missing file falls back to reportlab's built-in fonts.
INVOICE_REGISTRATION_NUMBER = env.str("INVOICE_REGISTRATION_NUMBER", default="")
CONSUMPTION_TAX_RATE_PERCENT = env.int("CONSUMPTION_TAX_RATE_PERCENT", default=10)
RECEIPT_FONT_JA = env.str("RECEIPT_FONT_JA", default="/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")
RECEIPT_FONT_KO = env.str("RECEIPT_FONT_KO", default="/usr/share/fonts/truetype/nanum/NanumGothic.ttf")
PRIVACY_OFFICER_NAME = env.str("PRIVACY_OFFICER_NAME", default="木村 誠")
PRIVACY_OFFICER_NAME_EN = env.str("PRIVACY_OFFICER_NAME_EN", default="Makoto Kimura")
PRIVACY_OFFICER_NAME_KO = env.str("PRIVACY_OFFICER_NAME_KO", default="기무라 마코토")
PRIVACY_OFFICER_DEPARTMENT = env.str("PRIVACY_OFFICER_DEPARTMENT", default="個人情報保護室")
PRIVACY_OFFICER_DEPARTMENT_EN = env.str(
    "PRIVACY_OFFICER_DEPARTMENT_EN", default="Personal Information Protection Office"
)
PRIVACY_OFFICER_DEPARTMENT_KO = env.str("PRIVACY_OFFICER_DEPARTMENT_KO", default="개인정보보호실")
PRIVACY_OFFICER_EMAIL = env.str("PRIVACY_OFFICER_EMAIL", default="privacy@kirakira.example")
PRIVACY_OFFICER_PHONE = env.str("PRIVACY_OFFICER_PHONE", default="03-0000-0000")
# Where members send their bank transfers (shown on order confirmations).
# The account members transfer to. The bank and branch also as English and Korean pages show
# them (empty: the Japanese); the account type is ordinary, current or savings (普通, 当座 and 貯蓄
# are read as those), shown in the page's language; the holder exactly as the bank has it.
STUDIO_BANK_ACCOUNT = {
    "bank_name": env.str("STUDIO_BANK_NAME", default="きらきら銀行"),
    "bank_name_en": env.str("STUDIO_BANK_NAME_EN", default="Kirakira Bank"),
    "bank_name_ko": env.str("STUDIO_BANK_NAME_KO", default="키라키라 은행"),
    "branch": env.str("STUDIO_BANK_BRANCH", default="渋谷支店 (123)"),
    "branch_en": env.str("STUDIO_BANK_BRANCH_EN", default="Shibuya Branch (123)"),
    "branch_ko": env.str("STUDIO_BANK_BRANCH_KO", default="시부야 지점 (123)"),
    "account_type": env.str("STUDIO_BANK_ACCOUNT_TYPE", default="ordinary"),
    "account_number": env.str("STUDIO_BANK_ACCOUNT_NUMBER", default="1234567"),
    "account_holder": env.str("STUDIO_BANK_ACCOUNT_HOLDER", default="ド）プレトスタジオ"),
}
# The operator's own statements, which no software can verify (training, a security pledge,
# antivirus on the studio's computers...): the policy page states only the codes named here
# (kirakira.privacy.policy.operator). The default states nothing.
PRIVACY_OPERATOR_STATEMENTS = env.list("PRIVACY_OPERATOR_STATEMENTS", default=[])

# --- Security -------------------------------------------------------------------------------
# Sessions in the database, in a table that knows each session's member, so that members can
# see and end their sessions (kirakira/accounts/session_tracking.py).
SESSION_ENGINE = "kirakira.accounts.session_tracking"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# A year, as the preference cookies last (Django's default is 52 weeks, which the cookie table
# would show as "364 days" beside "1 year").
CSRF_COOKIE_AGE = 365 * 24 * 60 * 60
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp) on every response: scripts and styles only from our own
# static files, no inline code anywhere (member pages, back office and API docs alike). Images
# may be data: URLs, which the admin's and the API docs' stylesheets use for icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# "json": one object a line for a log collector (kirakira/common/json_logs.py); "text" for a console.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "text")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured('LOG_FORMAT must be "json" or "text".')
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secret_links": {"()": "kirakira.common.log_redaction.RedactSecretLinks"},
        "request_id": {"()": "kirakira.common.request_id.RequestIdFilter"},
    },
    "formatters": {
        "json": {"()": "kirakira.common.json_logs.JsonFormatter"},
        "text": {"()": "kirakira.common.json_logs.TextFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_secret_links", "request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Request logs carry full paths: no personal data is ever in a path, and the secrets of
    # emailed links are redacted by the filter above. The access log stays at warnings.
    "loggers": {"django.server": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# Optional error reporting, personal data scrubbed before sending (kirakira/common/error_reporting.py).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from kirakira.common.error_reporting import init as _sentry_init

    _sentry_init(SENTRY_DSN, environment="production" if PRODUCTION else "development")

CSRF_FAILURE_VIEW = "kirakira.common.errors.csrf_failure"
