"""Wavelength settings. Everything that differs between machines comes from the environment.

Local defaults just work: no variables at all gives a private PostgreSQL under var/, a generated secret key
kept beside it, DEBUG off and the site on 127.0.0.1. README.md lists every variable.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

# Ranking works on small matrices, where one BLAS thread per request is fastest; the default of one thread
# per core makes concurrent requests fight over the cores. Must be set before NumPy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import dj_database_url

from discovery.embedded_postgres import database_settings as embedded_database_settings

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATA_DIR = Path(os.environ.get("WAVELENGTH_DATA") or BASE_DIR / "var").expanduser().resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _local_secret_key() -> str:
    # Generated once per data directory and never committed: var/ is in .gitignore.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or _local_secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "django_q",
    "discovery",
    "discovery.accounts",
    "discovery.jobs",
    "tracks",
    "embedding",
    "taste.sliders",
    "taste.stations",
    "discovery.library",
    "discovery.atlas",
    "discovery.compare",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After static files (the 503 page needs its stylesheet), before anything that reads the database.
    "discovery.outage.DatabaseOutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a signed-in user unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-htmx's, except that a boosted page load is not a fragment request (discovery/lib/htmx.py).
    "discovery.lib.htmx.FragmentHtmxMiddleware",
]

ROOT_URLCONF = "discovery.urls"
WSGI_APPLICATION = "discovery.wsgi.application"
ASGI_APPLICATION = "discovery.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "discovery.accounts.context_processors.signup",
            ],
        },
    },
]

# PostgreSQL only. DATABASE_URL names a server of your own; without it the project runs its own.
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
    EMBEDDED_DATABASE_DIR = None
else:
    DATABASES = {"default": embedded_database_settings(DATA_DIR)}
    EMBEDDED_DATABASE_DIR = DATA_DIR  # a dead embedded server is started again by the next request (outage.py)
# A server that does not answer must not hold a request (or the health check) for minutes.
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
# The web server's threads share a pool of connections in each process (gunicorn.conf.py turns it on): at
# most WEB_THREADS connections a process, and a request waits up to DATABASE_POOL_TIMEOUT seconds for one
# rather than failing. The worker (qcluster) forks after using the database and psycopg's pool does not
# survive a fork, so the worker and management commands connect plainly, one connection per thread.
if env_bool("DATABASE_POOL", False):
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django requires it with a pool
    # After a server restart the pooled connections are dead: the pool checks each before handing it out.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": 1,
        "max_size": int(os.environ.get("WEB_THREADS") or 8),
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT") or 10),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sign-up. The first account on a site without any always becomes its administrator; after that
# WAVELENGTH_SIGNUP decides: "invite" (staff make single-use invite links), "open" (anyone who can reach the
# site) or "closed" (staff add accounts in the admin). WAVELENGTH_CONTACT says whom visitors should ask.
WAVELENGTH_SIGNUP = os.environ.get("WAVELENGTH_SIGNUP", "invite").strip().lower() or "invite"
WAVELENGTH_CONTACT = os.environ.get("WAVELENGTH_CONTACT", "").strip()

# Mail, for password resets. Without EMAIL_HOST the site sends none: the reset page says to ask an
# administrator, who makes a reset link on the site's Accounts page.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 10  # seconds: a mail server that does not answer must not hang the page
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "webmaster@localhost")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or DATA_DIR / "media")
# Folders of the operator's music that the site may play audio from, besides MEDIA_ROOT and the folders given
# to `manage.py ingest_folder` (recorded as they are read): absolute paths, separated by colons or commas.
# A track whose stored path lies anywhere else is never served (tracks/roots.py).
MUSIC_DIRS = [
    Path(item.strip()).expanduser()
    for item in os.environ.get("MUSIC_DIRS", "").replace(",", ":").split(":")
    if item.strip()
]
if any(not path.is_absolute() for path in MUSIC_DIRS):
    raise ValueError(f"MUSIC_DIRS must list absolute paths, separated by colons or commas; got {MUSIC_DIRS}.")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names once collectstatic has run, the plain name (served from the source folders) before it.
    "staticfiles": {"BACKEND": "discovery.staticfiles.ManifestOrSourceStorage"},
}
WHITENOISE_USE_FINDERS = True

# Background jobs: django-q2 on the database by default, Redis when REDIS_URL is set (many workers).
REDIS_URL = os.environ.get("REDIS_URL", "")
Q_CLUSTER = {
    "name": "wavelength",
    "workers": int(os.environ.get("Q_WORKERS", "1")),
    # An embedding batch on a CPU can take minutes; a task running longer than this is killed ...
    "timeout": int(os.environ.get("Q_TIMEOUT", "1800")),
    # ... and offered again only after `retry` seconds, which must exceed the timeout or it runs twice. A job
    # whose worker died (killed, out of memory) is offered again within seconds instead (discovery/jobs).
    "retry": int(os.environ.get("Q_TIMEOUT", "1800")) + 300,
    "max_attempts": 3,
    "ack_failures": True,
    "save_limit": 500,
    "catch_up": False,
    "label": "Jobs",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    # The ORM broker plus leases: a job whose worker died is offered again within seconds (discovery/jobs).
    Q_CLUSTER["broker_class"] = "discovery.jobs.broker.LeasedORM"

# Production behind HTTPS (see docker-compose.yml): secure cookies, HSTS and the proxy's scheme header.
if env_bool("WAVELENGTH_HTTPS", False):
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # asked over plain HTTP from inside the container
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# HSTS preloading is a promise to browser vendors that only the site's owner can make: opt-in above.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Ingest and embedding.
ITUNES_BASE_URL = os.environ.get("ITUNES_BASE_URL", "https://itunes.apple.com")
# Apple asks for about 20 calls a minute; previews count too, since they come from Apple's servers.
ITUNES_REQUESTS_PER_MINUTE = float(os.environ.get("ITUNES_REQUESTS_PER_MINUTE", "20"))
EMBED_BATCH_SIZE = int(os.environ.get("EMBED_BATCH_SIZE", "32"))
EMBED_DEVICE = os.environ.get("EMBED_DEVICE", "auto")
# Same recording: cosine of the two vectors at least this (per model; chosen on measurements, see
# docs/benchmarks.md) and durations within max(seconds, fraction of the longer). A model without a measured
# threshold (musicfm) links re-releases by title and artist only. wavelength-1: copies ≥ 0.899, distinct
# pieces ≤ 0.567 on the dev corpus, so 0.80 sits in a gap wide enough to hold for a retrained model.
DEDUP_MIN_COSINE = {"musicnn": 0.97, "spectral": 0.95, "wavelength-1": 0.80}
DEDUP_DURATION_TOLERANCE = (2.0, 0.02)
# Memory for building a model's HNSW index (a million 200-d vectors need about 1.2 GB to build in memory).
VECTOR_INDEX_BUILD_MEMORY_MB = int(os.environ.get("VECTOR_INDEX_BUILD_MEMORY_MB", "1536"))
# Exported playlists carry signed audio links that play without a session (tracks/audio_links.py); they
# stop working this long after the export. Days, fractions allowed.
PLAYLIST_LINK_LIFETIME = timedelta(days=float(os.environ.get("PLAYLIST_LINK_DAYS") or 7))
# Recommendations: at most this many tracks of one artist on a page.
MAX_TRACKS_PER_ARTIST = int(os.environ.get("MAX_TRACKS_PER_ARTIST", "2"))
# The radio never offers a track again while it is among the last this many tracks played on that station.
RADIO_NO_REPEAT_PLAYS = max(0, int(os.environ.get("RADIO_NO_REPEAT_PLAYS") or 100))

# Adding music from the site (discovery/library, staff only). Uploads: at most MAX_UPLOAD_MB a file, checked
# by the upload form (DATA_UPLOAD_MAX_MEMORY_SIZE does not cover files). Files over 2.5 MB stream to a
# temporary file instead of memory; it lives under the data folder rather than /tmp, which may be a RAM disk.
MAX_UPLOAD_MB = int(os.environ.get("MAX_UPLOAD_MB") or 200)
FILE_UPLOAD_MAX_MEMORY_SIZE = int(2.5 * 1024 * 1024)
FILE_UPLOAD_TEMP_DIR = DATA_DIR / "tmp"
FILE_UPLOAD_TEMP_DIR.mkdir(exist_ok=True)
# MUSIC_DIRS are read again every this many minutes (a django-q2 Schedule, discovery/library/schedules.py),
# so that music added to them appears by itself; 0 turns the rescans off.
MUSIC_RESCAN_MINUTES = max(0, int(os.environ.get("MUSIC_RESCAN_MINUTES") or 60))
