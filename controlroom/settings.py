"""Settings: environment variables with embedded defaults.

With nothing set, the control room runs on SQLite (WAL), Channels' in-memory layer and a Celery
broker on the filesystem, so a newcomer needs no server. ``DATABASE_URL`` switches to PostgreSQL
(psycopg 3) and ``REDIS_URL`` to Redis for the broker, the channel layer and the cache.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp import constants as csp
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CONTROLROOM_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def read_secret_key() -> str:
    """The secret key comes from the environment, a file, or is generated once under var/."""
    if os.environ.get("DJANGO_SECRET_KEY"):
        return os.environ["DJANGO_SECRET_KEY"]
    key_file = Path(os.environ.get("DJANGO_SECRET_KEY_FILE", VAR_DIR / "secret_key"))
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = read_secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    "controlroom.apps.ControlRoomAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "leaflet",
    "controlroom.apps.ControlRoomConfig",
    "incidents",
    "devices",
    "video",
    "citizens",
    "observatory",
    "demo",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "controlroom.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "controlroom.middleware.RefuseNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it watches the authentication outcome of the whole stack.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "console.urls"
ASGI_APPLICATION = "controlroom.asgi.application"
WSGI_APPLICATION = "controlroom.wsgi.application"
AUTH_USER_MODEL = "controlroom.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# --- Database -------------------------------------------------------------------------------
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # A pool rather than persistent connections: under ASGI, sync code runs in many threads,
        # and hundreds of consoles joining at once must not each open a connection.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN", 2),
            "max_size": env_int("DATABASE_POOL_MAX", 20),
            "timeout": 30,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "controlroom.sqlite3",
            "OPTIONS": {
                # IMMEDIATE takes the write lock when a transaction starts, so concurrent writers
                # queue up instead of failing with "database is locked" half-way through.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, cache, Celery broker ----------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    # Redis pub/sub: one message per event and server process, fanned out to that process's
    # consoles in memory. (The list-based layer costs a Redis round trip per console and
    # message, and its per-channel capacity drops messages in a burst.) Pub/sub does not keep
    # messages for absent subscribers: the journal does, and consoles fill any gap from it.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # redis-py's pool refuses a 101st concurrent command by default.
                        "max_connections": env_int("REDIS_MAX_CONNECTIONS", 1000),
                    }
                ],
                "prefix": os.environ.get("CHANNELS_PREFIX", "controlroom"),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "controlroom",
        },
        # The latest (masked) frame of each watched camera, written by the video workers.
        "frames": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "controlroom-frames",
        },
        # The rate limiters' counts: shared in Redis, local to each process while it is down.
        "ratelimit": {
            "BACKEND": "controlroom.ratelimit_cache.FailOpenCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "controlroom-ratelimit",
        },
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": env_int("CHANNEL_CAPACITY", 5000), "expiry": 60},
        }
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        # Shared by the web server and the workers, which are separate processes.
        "frames": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "frames"),
            "OPTIONS": {"MAX_ENTRIES": 2000},
        },
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                      "LOCATION": "ratelimit"},
    }
# The public forms' limits (django-ratelimit) and the partner API's throttle count there.
RATELIMIT_USE_CACHE = "ratelimit"

# --- Celery ---------------------------------------------------------------------------------
# The test run has a broker folder (and Redis key prefix) of its own (controlroom/pytest_plugin.py),
# so tasks queued by tests are never run by ``make run``.
CELERY_DIR = Path(os.environ.get("CONTROLROOM_CELERY_DIR", VAR_DIR / "celery"))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # A test run queues under a key prefix of its own (controlroom/pytest_plugin.py).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "global_keyprefix": os.environ.get("CONTROLROOM_CELERY_KEY_PREFIX", ""),
    }
else:
    # kombu's filesystem transport, writing its files atomically (controlroom/broker.py): a real
    # broker shared by every process on this machine.
    for sub in ("queue", "processed", "results", "control"):
        (CELERY_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "controlroom.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DIR / "queue"),
        "data_folder_out": str(CELERY_DIR / "queue"),
        "processed_folder": str(CELERY_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(CELERY_DIR / "control"),
    }
    CELERY_RESULT_BACKEND = f"file://{CELERY_DIR / 'results'}"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_RESULT_EXPIRES = 3600
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "verify-journal": {"task": "controlroom.verify_journal", "schedule": 3600.0},
    "anchor-journal": {"task": "controlroom.anchor_journal", "schedule": 60.0},
    "escalate-alerts": {"task": "incidents.escalate_alerts", "schedule": 15.0},
    "remind-overdue-steps": {"task": "incidents.remind_overdue_steps", "schedule": 15.0},
    "replay-checkpoints": {"task": "incidents.replay_checkpoints", "schedule": 60.0},
    "advance-exercises": {"task": "incidents.advance_exercises", "schedule": 5.0},
    "observatory-facts": {"task": "observatory.refresh_facts", "schedule": 600.0},
    "observatory-forecast": {"task": "observatory.forecast", "schedule": 86400.0},
    "observatory-anomalies": {"task": "observatory.anomalies", "schedule": 3600.0},
    "move-demo-units": {
        "task": "demo.move_units",
        "schedule": float(os.environ.get("DEMO_UNITS_MOVE_SECONDS", "10")),
    },
    "erase-expired-contacts": {"task": "citizens.erase_expired_contacts", "schedule": 3600.0},
    "check-device-heartbeats": {"task": "devices.check_heartbeats", "schedule": 30.0},
    "reconcile-device-commands": {
        "task": "devices.reconcile_commands",
        "schedule": float(os.environ.get("DEVICE_RECONCILE_SECONDS", "5")),
    },
    "simulate-equipment": {
        "task": "devices.simulate_equipment",
        "schedule": float(os.environ.get("DEVICE_SIMULATOR_TICK_SECONDS", "10")),
    },
    "roll-up-telemetry": {"task": "devices.roll_up_telemetry", "schedule": 900.0},
    "supervise-cameras": {"task": "video.supervise_cameras", "schedule": 10.0},
    "expire-snapshots": {"task": "video.expire_snapshots", "schedule": 3600.0},
    "supervise-sound-sensors": {"task": "devices.supervise_sound_sensors", "schedule": 10.0},
}
# Video and sound analyses have their own queues, so their long windows never delay the other
# tasks; workers serve them with ``-Q video`` and ``-Q sound``.
CELERY_TASK_ROUTES = {"video.analyse_camera": {"queue": "video"},
                      "devices.analyse_sound_sensor": {"queue": "sound"}}

# --- Authentication, sessions, lockout ------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# A session lasts a shift: it expires after this much inactivity (every request renews it).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_TIMEOUT", 12 * 3600)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Out of debug, cookies travel over HTTPS only (browsers count http://localhost as secure, so
# `make run` keeps working); DJANGO_SECURE_COOKIES=0 for a plain-HTTP deployment on a LAN.
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HSTS, sent on HTTPS answers only: a year by default out of debug.
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
if env_bool("DJANGO_BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"


MAP_TILES_URL = os.environ.get("MAP_TILES_URL", "")
# Without tiles, the maps draw this GeoJSON of streets and named places (a static file path, or
# a URL on this site); empty: a plain background. The default is the demo city's plan.
MAP_BASEMAP_URL = os.environ.get("MAP_BASEMAP_URL", "demo/dijon-basemap.geojson")


def _tiles_origin(url: str) -> list[str]:
    """The origin of the map tiles' server, if they come from elsewhere ({s} subdomains too)."""
    parts = urlsplit(url.replace("{s}", "*")) if url else None
    return [f"{parts.scheme}://{parts.netloc}"] if parts and parts.scheme and parts.netloc else []


# Content Security Policy (django-csp): scripts only from our own static files, no inline script
# nor handler; styles may be inline (map markers and reports set their own); nothing framed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF, csp.UNSAFE_INLINE],
        "img-src": [csp.SELF, "data:", "blob:", *_tiles_origin(MAP_TILES_URL)],
        "media-src": [csp.SELF, "blob:"],
        "font-src": [csp.SELF, "data:"],
        "connect-src": [csp.SELF],
        "worker-src": [csp.SELF, "blob:"],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    },
}

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_VERBOSE = False

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "controlroom.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "anon": "60/min",
        "user": "6000/min",
        "partner": os.environ.get("PARTNER_API_RATE", "600/min"),
    },
    "DEFAULT_PAGINATION_CLASS": "controlroom.api.pagination.BoundedLimitOffsetPagination",
    # Bodies with a NUL character or nested too deep are refused with a 400 (api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "controlroom.api.parsers.JSONParser",
        "controlroom.api.parsers.FormParser",
        "controlroom.api.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Control room API",
    "DESCRIPTION": "API of the connected control room: journal, alerts, incidents, devices, video.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from our own static files: the control room works with no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "LevelEnum": "controlroom.located.Level",
        "IncidentStatusEnum": "incidents.models.Incident.Status",
        "AlertStatusEnum": "incidents.models.Alert.Status",
        "AlertSourceEnum": "incidents.models.Alert.Source",
        "DismissReasonEnum": "incidents.models.Alert.DismissReason",
        "UnitStatusEnum": "incidents.models.Unit.Status",
        "UnitKindEnum": "incidents.models.Unit.Kind",
        "DeviceKindEnum": "devices.capabilities.choices",
        "CapSeverityEnum": "devices.cap.SEVERITIES",
        "ProcedureRunStatusEnum": "incidents.models.ProcedureRun.Status",
        "StepStatusEnum": "incidents.models.StepRun.Status",
        "CrisisKindEnum": "incidents.models.Crisis.Kind",
    },
}

# --- Live push ------------------------------------------------------------------------------
LIVE_HEARTBEAT_SECONDS = float(os.environ.get("LIVE_HEARTBEAT_SECONDS", "2"))
# Sockets read their user's access again this often, besides when told it changed.
LIVE_ACCESS_RECHECK_SECONDS = float(os.environ.get("LIVE_ACCESS_RECHECK_SECONDS", "60"))
# Events arriving within this window go to each console as one frame.
LIVE_COALESCE_SECONDS = float(os.environ.get("LIVE_COALESCE_SECONDS", "0.005"))
# A console with more messages than this waiting is told to resynchronise from the journal.
LIVE_OUTBOX_LIMIT = env_int("LIVE_OUTBOX_LIMIT", 1000)

# --- The journal's seal (controlroom/journal_seal.py) -----------------------------------------
# The chain's HMAC key lives outside the database: JOURNAL_KEY, else a file created once.
JOURNAL_KEY = os.environ.get("JOURNAL_KEY", "")
JOURNAL_KEY_FILE = Path(os.environ.get("JOURNAL_KEY_FILE", VAR_DIR / "journal_key"))
# The last signed checkpoint of the journal's head, rewritten by the beat and verify_journal.
JOURNAL_ANCHOR_FILE = Path(os.environ.get("JOURNAL_ANCHOR_FILE", VAR_DIR / "journal_anchor"))
# A journal begun before the chain had a key: its events up to this one are plain SHA-256.
JOURNAL_UNKEYED_THROUGH = env_int("JOURNAL_UNKEYED_THROUGH", 0)

# --- Alerts and incidents -------------------------------------------------------------------------
# Unacknowledged alerts older than this go to the supervisors.
ALERT_ESCALATION_SECONDS = int(os.environ.get("ALERT_ESCALATION_SECONDS", "120"))
# One event, one alert: an alert from another sensor or camera, of the same category, within
# this many seconds and metres of an open one, is gathered on it as one more source
# (0 seconds: never gathered).
ALERT_GROUP_SECONDS = int(os.environ.get("ALERT_GROUP_SECONDS", "120"))
ALERT_GROUP_RADIUS_M = float(os.environ.get("ALERT_GROUP_RADIUS_M", "250"))

# --- Citizens' reports ----------------------------------------------------------------------
# Contact data given with a report is erased this long after the report is closed.
CITIZEN_CONTACT_RETENTION_DAYS = int(os.environ.get("CITIZEN_CONTACT_RETENTION_DAYS", "90"))
# Per client IP address (django-ratelimit syntax); Open311 posts are limited per API key too.
# Accepted reports count towards CITIZEN_REPORT_RATE; every attempt, refused or not, towards
# CITIZEN_REPORT_ATTEMPT_RATE (a wider limit against scripted posting).
CITIZEN_REPORT_RATE = os.environ.get("CITIZEN_REPORT_RATE", "5/10m")
CITIZEN_REPORT_ATTEMPT_RATE = os.environ.get("CITIZEN_REPORT_ATTEMPT_RATE", "30/10m")
CITIZEN_TRACKING_RATE = os.environ.get("CITIZEN_TRACKING_RATE", "30/m")
OPEN311_POST_RATE = os.environ.get("OPEN311_POST_RATE", "60/m")
OPEN311_READ_RATE = os.environ.get("OPEN311_READ_RATE", "120/m")
# A whole report (text and up to five 10 MB photos) is refused above this size, unread.
CITIZEN_MAX_REQUEST_BYTES = 52 * 1024 * 1024
# The control room's public contact: given in Open311's discovery and in every CAP message.
PUBLIC_CONTACT = os.environ.get(
    "PUBLIC_CONTACT",
    "Police municipale — poste de pilotage, contact@poste-de-pilotage.ville.example "
    "(urgences : 17 ou 112)")
# The city's streets and squares (name and a point each), to place a report by name without a
# geocoding service; the demo ships Dijon's. Only those inside the city's boundary are offered.
CITY_STREETS_FILE = os.environ.get("CITY_STREETS_FILE",
                                   str(BASE_DIR / "demo" / "data" / "dijon-voies.json"))
# Photos kept, cleaned, between two tries of a refused report form (an hour at most).
CITIZEN_PENDING_ROOT = VAR_DIR / "citizen-pending"
# Open311: the jurisdiction this endpoint serves (clients may omit it) and who to contact.
OPEN311_JURISDICTION = os.environ.get("OPEN311_JURISDICTION", "")
OPEN311_CONTACT = os.environ.get("OPEN311_CONTACT", "") or PUBLIC_CONTACT
OPEN311_AGENCY = os.environ.get("OPEN311_AGENCY", "Police municipale")

# --- Street devices -------------------------------------------------------------------------
# MQTT broker of the equipment gateways (mqtt://user:password@host:1883); empty: none.
MQTT_URL = os.environ.get("MQTT_URL", "")
MQTT_TOPIC_PREFIX = os.environ.get("MQTT_TOPIC_PREFIX", "controlroom")
DEVICE_ACK_TIMEOUT_SECONDS = float(os.environ.get("DEVICE_ACK_TIMEOUT_SECONDS", "5"))
DEVICE_COMMAND_MAX_ATTEMPTS = int(os.environ.get("DEVICE_COMMAND_MAX_ATTEMPTS", "3"))
DEVICE_RETRY_BACKOFF_SECONDS = float(os.environ.get("DEVICE_RETRY_BACKOFF_SECONDS", "2"))
# Slack for a worker to take a queued command and for an attempt beyond its answer's timeout;
# past it, the reconciler (beat, every DEVICE_RECONCILE_SECONDS) sends the command again.
DEVICE_COMMAND_GRACE_SECONDS = float(os.environ.get("DEVICE_COMMAND_GRACE_SECONDS", "10"))
# The in-process simulator: answer delay range (s) and share of commands left unanswered.
DEVICE_SIMULATOR_DELAY = (0.05, 0.4)
DEVICE_SIMULATOR_FAILURE_RATE = float(os.environ.get("DEVICE_SIMULATOR_FAILURE_RATE", "0.02"))
# How often the built-in simulator makes its devices report (s); raw readings kept (h).
DEVICE_SIMULATOR_TICK_SECONDS = float(os.environ.get("DEVICE_SIMULATOR_TICK_SECONDS", "10"))
TELEMETRY_RAW_RETENTION_HOURS = int(os.environ.get("TELEMETRY_RAW_RETENTION_HOURS", "48"))
# After the worker starts, equipment not heard since gets no offline verdict for this long (s):
# the time for devices, sound sensors and cameras to report again after a restart.
EQUIPMENT_OFFLINE_GRACE_SECONDS = float(os.environ.get("EQUIPMENT_OFFLINE_GRACE_SECONDS", "120"))

# Population alerts (CAP 1.2): who sends them, how identifiers start, where the site is seen.
CAP_SENDER = os.environ.get("CAP_SENDER", "poste-de-pilotage.ville.example")
CAP_SENDER_NAME = os.environ.get("CAP_SENDER_NAME", "Police municipale — poste de pilotage")
CAP_IDENTIFIER_PREFIX = os.environ.get("CAP_IDENTIFIER_PREFIX", "PPC")
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
# The <contact> of every CAP message (the public contact unless set).
CAP_CONTACT = os.environ.get("CAP_CONTACT", "") or PUBLIC_CONTACT
# XML-DSig signature of every CAP message, when both are set: PEM files of the private key
# (RSA or EC; encrypted with CAP_SIGNING_KEY_PASSWORD if given) and of its certificate.
CAP_SIGNING_KEY_FILE = os.environ.get("CAP_SIGNING_KEY_FILE", "")
CAP_SIGNING_CERT_FILE = os.environ.get("CAP_SIGNING_CERT_FILE", "")
CAP_SIGNING_KEY_PASSWORD = os.environ.get("CAP_SIGNING_KEY_PASSWORD", "")

# --- Video analytics ------------------------------------------------------------------------
# Each camera is analysed in windows of this many seconds, each a Celery task that schedules the
# next: a lost worker loses one window at most, and the beat starts the camera again.
VIDEO_WINDOW_SECONDS = float(os.environ.get("VIDEO_WINDOW_SECONDS", "60"))
VIDEO_HEARTBEAT_SECONDS = float(os.environ.get("VIDEO_HEARTBEAT_SECONDS", "30"))
# Delays before trying a failing camera again, the last one repeating.
VIDEO_RETRY_BACKOFF_SECONDS = tuple(
    float(v) for v in env_list("VIDEO_RETRY_BACKOFF_SECONDS", "10,30,60,120,300"))
VIDEO_ANALYSIS_SIZE = (640, 360)
# The person detector: OpenCV's HOG by default (it needs no file), or, recommended, YOLOX-Nano
# (COCO, Apache-2.0; see the README for where to obtain it):
# VIDEO_DETECTOR_MODEL=/models/yolox_nano.onnx. VIDEO_DETECTOR_KIND=onnx takes another model of
# your own with a YOLOv8-style output, e.g. VIDEO_DETECTOR_LABELS=person,arme.
_detector_model = os.environ.get("VIDEO_DETECTOR_MODEL", "")
_detector_kind = os.environ.get(
    "VIDEO_DETECTOR_KIND",
    "" if not _detector_model else "yolox" if "yolox" in _detector_model.lower() else "onnx")
# A model runs in ONNX Runtime (three times faster on one core) or, with
# VIDEO_DETECTOR_RUNTIME=opencv, in OpenCV's DNN module.
_detector_runtime = os.environ.get("VIDEO_DETECTOR_RUNTIME", "onnxruntime")
VIDEO_DETECTOR = (
    {"kind": "yolox", "path": _detector_model, "runtime": _detector_runtime}
    if _detector_kind == "yolox" and _detector_model
    else {"kind": "onnx", "path": _detector_model, "runtime": _detector_runtime,
          "labels": env_list("VIDEO_DETECTOR_LABELS", "person")} if _detector_model
    else {"kind": "hog"}
)
# How often the detector runs on frames where something moves (1 in N; the tracker carries the
# people in between): a bounded cost per camera. By default 1 in 3 with HOG, 1 in 5 with a model
# (measured on the campus clip: HOG finds fewer people when run less often, YOLOX as many).
VIDEO_DETECT_EVERY = env_int("VIDEO_DETECT_EVERY", 3 if VIDEO_DETECTOR["kind"] == "hog" else 5)
# Seconds a person found alone is trusted (followed on the moving pixels, not searched again)
# before the detector confirms them; anything new that moves, and anyone beside someone else,
# is searched at once; 0 searches everyone at every detection. On the campus clip it halves the
# detector's time, finds as many people and raises no alert, but counts fewer crossings (HOG:
# 84 of 95 instead of 88): a camera that counts line crossings never trusts (counting first).
VIDEO_DETECT_REVISIT = float(os.environ.get("VIDEO_DETECT_REVISIT", "3"))
VIDEO_SNAPSHOT_RETENTION_DAYS = env_int("VIDEO_SNAPSHOT_RETENTION_DAYS", 30)
VIDEO_BLUR_PERSONS = env_bool("VIDEO_BLUR_PERSONS", True)
VIDEO_STATISTICS_MINUTES = env_int("VIDEO_STATISTICS_MINUTES", 5)
VIDEO_LIVE_FPS = float(os.environ.get("VIDEO_LIVE_FPS", "3"))
VIDEO_LIVE_WIDTH = env_int("VIDEO_LIVE_WIDTH", 640)
VIDEO_UNBLUR_REASON_MIN_LENGTH = 10

# --- Sound analytics ------------------------------------------------------------------------
# Each sensor is analysed in windows of this many seconds, like the cameras. No audio is ever
# kept: only levels and sound events leave the analysis.
SOUND_WINDOW_SECONDS = float(os.environ.get("SOUND_WINDOW_SECONDS", "60"))
SOUND_RETRY_BACKOFF_SECONDS = tuple(
    float(v) for v in env_list("SOUND_RETRY_BACKOFF_SECONDS", "10,30,60,120,300"))
# Levels go to telemetry (laeq_db, lafmax_db) once per period of this many seconds.
SOUND_LEVEL_SECONDS = env_int("SOUND_LEVEL_SECONDS", 10)
# An MQTT sensor that sends no frame for this long has its window closed as failed.
SOUND_MQTT_IDLE_SECONDS = float(os.environ.get("SOUND_MQTT_IDLE_SECONDS", "15"))
# Sensor clocks are synchronised to about this much (GPS, PTP): multilateration's timing error.
SOUND_CLOCK_JITTER_SECONDS = float(os.environ.get("SOUND_CLOCK_JITTER_SECONDS", "0.001"))
# A user-supplied ONNX audio model (input [1, samples], output one score per label), e.g.
# SOUND_CLASSIFIER_MODEL=/models/sons.onnx SOUND_CLASSIFIER_LABELS=detonation,scream,chien.
SOUND_CLASSIFIER = (
    {"path": os.environ["SOUND_CLASSIFIER_MODEL"],
     "labels": env_list("SOUND_CLASSIFIER_LABELS", ""),
     "window_seconds": float(os.environ.get("SOUND_CLASSIFIER_WINDOW_SECONDS", "1")),
     "threshold": float(os.environ.get("SOUND_CLASSIFIER_THRESHOLD", "0.5"))}
    if os.environ.get("SOUND_CLASSIFIER_MODEL") else None
)

# --- Maps -----------------------------------------------------------------------------------
LEAFLET_CONFIG = {
    "TILES": MAP_TILES_URL,
    "DEFAULT_CENTER": (47.3220, 5.0415),
    "DEFAULT_ZOOM": 13,
    "RESET_VIEW": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"daphne": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# --- Observatory ------------------------------------------------------------------------------------
# An hour's count per sector and category is abnormal when so high a count had less than this
# probability under the forecast (Poisson tail).
OBSERVATORY_ANOMALY_LEVEL = float(os.environ.get("OBSERVATORY_ANOMALY_LEVEL", "0.001"))
# Days of synthetic history the demo loads.
OBSERVATORY_DEMO_DAYS = int(os.environ.get("OBSERVATORY_DEMO_DAYS", "365"))
