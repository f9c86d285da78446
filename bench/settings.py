"""The benchmark server: production settings (DEBUG off, same middleware and API), plus the
floor and naive endpoints it is compared with, and a middleware that reports each request's
query count and server time in response headers. Never used outside `make bench`."""

from config.settings.production import *  # noqa: F403
from config.settings.production import MIDDLEWARE

ROOT_URLCONF = "bench.urls"
MIDDLEWARE = ["bench.middleware.MeasureMiddleware", *MIDDLEWARE, "bench.middleware.FloorWorkspaceMiddleware"]
# Plain HTTP on 127.0.0.1: no TLS proxy in front of the benchmark server.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# The load comes from one address; rate limits would measure the throttle, not the endpoint.
API_THROTTLE_ANON = "100000000/min"
API_THROTTLE_USER = "100000000/min"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}
