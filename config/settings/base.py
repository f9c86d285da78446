"""Settings shared by every environment; each value comes from the environment (django-environ)."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Fernet keys for credentials at rest: the first key encrypts, every key decrypts.
FERNET_KEYS = env.list("FERNET_KEYS")

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=0)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"].get("ENGINE", "").endswith((".postgresql", ".postgis")):
    # Server-side parameters, and psycopg prepares a statement the connection has run this many
    # times: PostgreSQL then stops planning it on every request, which was 0.5–0.7 ms of a provider
    # read's 1 ms of SQL (docs/benchmarks.md). "off" for PgBouncer older than 1.21 in transaction
    # mode, which cannot route prepared statements (docs/deployment.md).
    _prepare = env.str("DATABASE_PREPARE_THRESHOLD", default="5").strip().lower()
    if _prepare != "off":
        if not _prepare.isdigit():
            raise ImproperlyConfigured(
                f"DATABASE_PREPARE_THRESHOLD must be a whole number of executions or “off”, not “{_prepare}”."
            )
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=int(_prepare))
if DATABASES["default"].get("ENGINE", "").endswith(".sqlite3"):
    # Concurrent writers queue instead of failing with "database is locked" (a 503): every transaction
    # takes the write lock when it begins (BEGIN IMMEDIATE), so one that read first never has to
    # upgrade its lock, which SQLite refuses without waiting; a writer waits for the lock up to
    # DATABASE_SQLITE_TIMEOUT seconds. Concurrent writes then end as on PostgreSQL: one If-Match
    # winner and 412s, one create of an id and 409s.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE", timeout=env.float("DATABASE_SQLITE_TIMEOUT", default=20.0)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "providers.apps.RegistryAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "accounts",
    "providers",
]

MIDDLEWARE = [
    "providers.middleware.ContentSecurityPolicyMiddleware",
    "providers.middleware.RefuseMalformedRequestsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "providers.middleware.RejectNulBytesMiddleware",
    "providers.middleware.DatabaseUnavailableMiddleware",
    "providers.middleware.SearchPlansMiddleware",
    "providers.audit.AuditContextMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "providers.middleware.WorkspaceScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.RegistryModelBackend",
]

# Admin sign-in lockout (django-axes): after AXES_FAILURE_LIMIT failures for a user name from one
# address, that pair is locked out for AXES_COOLOFF_TIME hours.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_TIME", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "accounts.lockout.PasswordLockoutHandler"
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["password", "access_token", "client_secret"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# Seconds of clock difference tolerated in an ID token's exp, iat and nbf (providers.signin.oidc).
SIGNIN_CLOCK_SKEW = env.int("SIGNIN_CLOCK_SKEW", default=60)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["providers.api.fields.SafeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["providers.api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "providers.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.throttling.AnonymousThrottle",
        "accounts.throttling.UserThrottle",
    ],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Provider registry API",
    "DESCRIPTION": (
        "Register git and identity providers, keep their credentials encrypted, and link them "
        "to projects. Authenticate with `Authorization: Bearer <token>` (or `Token <token>`).\n\n"
        "**Trying requests here:** create an API token in the admin (*API tokens → Add*; it is shown once), "
        "press **Authorize**, paste it under `tokenAuth` and press *Authorize*; every *Try it out* request "
        "then carries it. Signed in to the admin in the same browser, requests also work with the session "
        "(`cookieAuth`). Every request body has examples, the reference documents' requests among them."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "providers.api.schema.strip_trailing_slashes",
        "providers.api.schema.document_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ProviderTypeEnum": "providers.catalog.PROVIDER_TYPE_CHOICES",
        "CredentialTypeEnum": "providers.catalog.CREDENTIAL_TYPE_CHOICES",
        "CapabilityEnum": "providers.catalog.CAPABILITY_CHOICES",
    },
}

# API throttling per client (anonymous: per address; signed in: per user), e.g. "300/min".
API_THROTTLE_ANON = env("API_THROTTLE_ANON", default="300/min")
API_THROTTLE_USER = env("API_THROTTLE_USER", default="3000/min")
# Invalid API tokens from one address: after this many in the window, the address is locked out.
API_TOKEN_FAILURE_LIMIT = env.int("API_TOKEN_FAILURE_LIMIT", default=20)
API_TOKEN_LOCKOUT_SECONDS = env.int("API_TOKEN_LOCKOUT_SECONDS", default=900)

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Seconds browsers and proxies may reuse the public login list without asking again (0: always
# revalidate with If-None-Match, which costs one small query and answers 304).
PUBLIC_IDPS_MAX_AGE = env.int("PUBLIC_IDPS_MAX_AGE", default=0)

# API tokens: how often last-used time is written back (seconds); 0 writes on every request.
API_TOKEN_LAST_USED_RESOLUTION = env.int("API_TOKEN_LAST_USED_RESOLUTION", default=60)

# Audit log: client addresses come from X-Forwarded-For only when the peer is one of these proxies.
AUDIT_TRUSTED_PROXIES = env.list("AUDIT_TRUSTED_PROXIES", default=[])

# Replaced credentials are kept (encrypted) this many days, during which they can be restored.
CREDENTIAL_ROLLBACK_DAYS = env.int("CREDENTIAL_ROLLBACK_DAYS", default=30)

# Server-side fetches of user-supplied URLs (OIDC discovery, SAML metadata, test connection):
# private, loopback and link-local targets are refused unless listed here (CIDR), redirects are
# not followed, and each fetch has a timeout and a size limit.
OUTBOUND_ALLOWED_NETWORKS = env.list("OUTBOUND_ALLOWED_NETWORKS", default=[])
OUTBOUND_TIMEOUT = env.float("OUTBOUND_TIMEOUT", default=5.0)
OUTBOUND_MAX_BYTES = env.int("OUTBOUND_MAX_BYTES", default=1_000_000)

# Domain verification of identity providers: TXT lookups go to these name servers ("host" or
# "host:port"); empty means the system resolver.
IDP_DNS_NAMESERVERS = env.list("IDP_DNS_NAMESERVERS", default=[])
IDP_DNS_TIMEOUT = env.float("IDP_DNS_TIMEOUT", default=3.0)
IDP_TXT_RECORD_PREFIX = env("IDP_TXT_RECORD_PREFIX", default="registry")

# Configuration files applied through the API may reference only these secrets (the command line,
# run on the server, may reference any): environment variables with this prefix and the
# workspace's name (`REGISTRY_SECRET_ACME_…`; empty: none), and files in the workspace's directory
# of this one (`…/acme/`; empty: no file references over the API).
CONFIG_API_SECRET_ENV_PREFIX = env("CONFIG_API_SECRET_ENV_PREFIX", default="REGISTRY_SECRET_")
CONFIG_API_SECRET_DIR = env("CONFIG_API_SECRET_DIR", default="")

# Error reports never show variable values (they may hold decrypted credentials).
DEFAULT_EXCEPTION_REPORTER_FILTER = "providers.reporting.SecretSafeExceptionReporterFilter"

# Every handler redacts secrets sent in query strings (`?token=`, providers/redaction.py): the root's
# console, and the development server's request lines (django.server, configured here again so its
# handler carries the filter). Django's loggers hand their records to the root's handler.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "providers.redaction.RedactSecretsFilter"}},
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_secrets"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
