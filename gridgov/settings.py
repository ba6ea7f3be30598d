"""gridgov settings: one module, configured by environment variables only.

The defaults run the embedded setup (SQLite under ``var/``, no services). Production differs
only by environment: ``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY``, ``ALLOWED_HOSTS``,
``DEBUG``, ``TIME_ZONE``, ``LANGUAGE_CODE``, ``GRIDGOV_VAR_DIR`` and the ``GRIDGOV_*`` knobs.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

VAR_DIR = Path(env.str("GRIDGOV_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Return ``SECRET_KEY`` from the environment, else from ``var/secret_key`` (made once)."""
    if value := env.str("SECRET_KEY", default=""):
        return value
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "huey.contrib.djhuey",
    "django_htmx",
    "gridgov.core",
    "gridgov.areas",
    "gridgov.people",
    "gridgov.catalog",
    "gridgov.tasks",
    "gridgov.notifications",
    "gridgov.campaigns",
    "gridgov.iot",
    "gridgov.open311",
    "gridgov.imports",
    "gridgov.simulation",
    "gridgov.api",
    "gridgov.analytics",
    "gridgov.demo",
    "gridgov.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "gridgov.core.middleware.ClientLanguageMiddleware",
    "gridgov.core.middleware.RejectNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # django-axes must be last: it reads the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gridgov.urls"
WSGI_APPLICATION = "gridgov.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "gridgov" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'gridgov.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and the CLI read while one of them writes;
    # IMMEDIATE takes the write lock at BEGIN, so concurrent writers wait instead of
    # failing half-way with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication ---------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Login throttling: lock a username+IP pair after 5 failures for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "gridgov" / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns at start-up when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

# --- Security defaults ------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Logging ----------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "audit_file": {
            "class": "logging.handlers.WatchedFileHandler",
            "filename": env.str("GRIDGOV_AUDIT_LOG", default=str(VAR_DIR / "audit.log")),
            "formatter": "plain",
            "encoding": "utf-8",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    "loggers": {
        # The audit trail (grants, reveals of unmasked personal data, refusals): a file of
        # its own, beside the PersonalDataAccess rows; echoed to the console when DEBUG.
        "gridgov.audit": {
            "handlers": ["audit_file", "console"] if DEBUG else ["audit_file"],
            "level": "INFO",
            "propagate": False,
        },
    },
}

# --- gridgov ----------------------------------------------------------------------------
# Working hours for the ``work_hour`` time-limit unit (HH:MM, local time).
GRIDGOV_WORKING_HOURS = env.list("GRIDGOV_WORKING_HOURS", default=["08:30-12:00", "13:30-17:30"])
# Local time of the daily routine generation job.
GRIDGOV_GENERATION_TIME = env.str("GRIDGOV_GENERATION_TIME", default="00:30")
# Escalation ladder of overdue tasks: level → working days past the deadline (level 1 at once).
GRIDGOV_ESCALATION_WORKING_DAYS = {2: 1, 3: 3}

# --- Notifications ------------------------------------------------------------------------
# Channels every notification goes to (inbox, log, webhook); see docs/notifications.md.
GRIDGOV_NOTIFICATION_CHANNELS = env.list("GRIDGOV_NOTIFICATION_CHANNELS", default=["inbox", "log"])
# WeCom / DingTalk group-robot URLs (DingTalk signing secret as a "#secret=…" fragment).
GRIDGOV_WEBHOOK_URLS = env.list("GRIDGOV_WEBHOOK_URLS", default=[])
GRIDGOV_WEBHOOK_KINDS = env.list("GRIDGOV_WEBHOOK_KINDS", default=[])  # empty = every kind
GRIDGOV_WEBHOOK_TIMEOUT = env.float("GRIDGOV_WEBHOOK_TIMEOUT", default=5.0)  # seconds
GRIDGOV_OUTBOX_MAX_ATTEMPTS = env.int("GRIDGOV_OUTBOX_MAX_ATTEMPTS", default=8)
# Ask the worker to deliver as soon as the notifying transaction commits.
GRIDGOV_OUTBOX_NUDGE = env.bool("GRIDGOV_OUTBOX_NUDGE", default=True)

# --- Background work (Huey) -------------------------------------------------------------
# The worker (`gridgov worker`) runs the periodic jobs of gridgov/tasks/jobs.py. Embedded
# default: a SQLite queue in its own file beside the database; with REDIS_URL (e.g.
# redis://127.0.0.1:6379/0) Redis, for any number of workers on any number of machines.
# HUEY_IMMEDIATE=true runs every job at once in the calling process (tests, debugging).
REDIS_URL = env.str("REDIS_URL", default="")
HUEY = {
    "name": env.str("HUEY_NAME", default="gridgov"),
    "huey_class": "huey.RedisHuey" if REDIS_URL else "huey.SqliteHuey",
    "immediate": env.bool("HUEY_IMMEDIATE", default=False),
    "utc": True,
    "connection": (
        {"url": REDIS_URL} if REDIS_URL else {"filename": str(VAR_DIR / "huey.sqlite3")}
    ),
    "consumer": {
        # Threads: the jobs wait on the database, not the CPU. Two, so that the minute
        # jobs keep running while the daily generation works.
        "workers": env.int("HUEY_WORKERS", default=2),
        "worker_type": "thread",
        "periodic": True,
        "check_worker_health": True,
    },
}

# --- Settings of the later apps (iot, open311, imports, simulation, maps): append below. ---

# --- Digital family (iot): see docs/iot.md ------------------------------------------------
# The MQTT broker devices publish to (mqtt://host:port; mqtts:// for TLS).
MQTT_URL = env.str("MQTT_URL", default="mqtt://127.0.0.1:1883")
# Topic root: devices publish to <prefix>/devices/{serial}/telemetry and …/event.
GRIDGOV_IOT_TOPIC_PREFIX = env.str("GRIDGOV_IOT_TOPIC_PREFIX", default="gridgov/v1")
# The consumer's fixed MQTT client id (its persistent session lives on the broker under it).
GRIDGOV_IOT_CLIENT_ID = env.str("GRIDGOV_IOT_CLIENT_ID", default="gridgov-ingest")
# Raw readings and processed message ids are kept this long; hourly aggregates for good.
GRIDGOV_IOT_RAW_RETENTION_DAYS = env.int("GRIDGOV_IOT_RAW_RETENTION_DAYS", default=90)
# A device timestamp more than this far ahead of the server clock is refused.
GRIDGOV_IOT_MAX_FUTURE_SECONDS = env.int("GRIDGOV_IOT_MAX_FUTURE_SECONDS", default=300)
# An alarm clears by itself once its condition has stayed away this long (no flapping).
GRIDGOV_IOT_CLEAR_AFTER_MINUTES = env.int("GRIDGOV_IOT_CLEAR_AFTER_MINUTES", default=10)
# A non-critical alarm nobody acknowledged becomes an urgent task after this long.
GRIDGOV_IOT_UNACKNOWLEDGED_MINUTES = env.int("GRIDGOV_IOT_UNACKNOWLEDGED_MINUTES", default=30)

# --- Residents' reports: Open311 GeoReport v2 and /resident/ (docs/open311.md) ------------
# A resident's report of the same task type within this distance (metres) of an open report
# made within this window (hours) is linked to it as a duplicate, not dispatched again.
GRIDGOV_OPEN311_DUPLICATE_RADIUS_M = env.float("GRIDGOV_OPEN311_DUPLICATE_RADIUS_M", default=50.0)
GRIDGOV_OPEN311_DUPLICATE_WINDOW_HOURS = env.int(
    "GRIDGOV_OPEN311_DUPLICATE_WINDOW_HOURS", default=72
)
# GET requests without dates: the last N days; at most this many requests per answer.
GRIDGOV_OPEN311_REQUESTS_WINDOW_DAYS = env.int("GRIDGOV_OPEN311_REQUESTS_WINDOW_DAYS", default=90)
GRIDGOV_OPEN311_REQUESTS_LIMIT = env.int("GRIDGOV_OPEN311_REQUESTS_LIMIT", default=1000)
# Throttling (Django cache): requests per window per api key and per client IP address.
GRIDGOV_OPEN311_THROTTLE_WINDOW_SECONDS = env.int(
    "GRIDGOV_OPEN311_THROTTLE_WINDOW_SECONDS", default=60
)
GRIDGOV_OPEN311_THROTTLE_PER_KEY = env.int("GRIDGOV_OPEN311_THROTTLE_PER_KEY", default=120)
GRIDGOV_OPEN311_THROTTLE_PER_IP = env.int("GRIDGOV_OPEN311_THROTTLE_PER_IP", default=60)
# The discovery document's contact line and the jurisdiction id clients may send.
GRIDGOV_OPEN311_CONTACT = env.str("GRIDGOV_OPEN311_CONTACT", default="")
GRIDGOV_OPEN311_JURISDICTION = env.str("GRIDGOV_OPEN311_JURISDICTION", default="")
# The resident page's SMS verification codes: the sender (dotted path; the log backend
# writes the code to the log) and how long a code is valid (minutes).
GRIDGOV_OPEN311_SMS_BACKEND = env.str(
    "GRIDGOV_OPEN311_SMS_BACKEND", default="gridgov.open311.sms.LogSmsBackend"
)
GRIDGOV_OPEN311_SMS_CODE_MINUTES = env.int("GRIDGOV_OPEN311_SMS_CODE_MINUTES", default=10)

# Map tiles of the command centre's map (/dashboard/map/), e.g.
# "https://tile.example.org/{z}/{x}/{y}.png" on a network that has a tile server. Empty
# (the default): the area polygons on a plain background, nothing fetched (closed network).
GRIDGOV_MAP_TILE_URL = env.str("GRIDGOV_MAP_TILE_URL", default="")

# --- Worker reports (docs/web.md "Worker reports") -------------------------------------------
# True (the default): a grid worker's patrol report (worker_report) is registered and
# dispatched at once by the system, routed by the engine (the reporter is staff); False: it
# waits `reported` for a dispatcher to register it.
GRIDGOV_WORKER_REPORT_AUTO_REGISTER = env.bool("GRIDGOV_WORKER_REPORT_AUTO_REGISTER", default=True)
# Paths whose language is the client's Accept-Language (machine interfaces outside
# i18n_patterns; see gridgov.core.middleware.ClientLanguageMiddleware).
GRIDGOV_CLIENT_LANGUAGE_PATHS = ["/api/", "/open311/"]
