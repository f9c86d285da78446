"""The sign-in benchmark's product server (`python -m bench.signin`): the benchmark settings
(production settings, `X-Queries`/`X-Server-Ms`), plus the time each request spends waiting for
the identity provider (`X-Outbound-Ms`, bench/middleware.py), and outbound fetches allowed to the
test OpenID provider on 127.0.0.1."""

from bench.settings import *  # noqa: F403
from bench.settings import MIDDLEWARE

ROOT_URLCONF = "bench.urls_signin"
MIDDLEWARE = [MIDDLEWARE[0], "bench.middleware.OutboundTimeMiddleware", *MIDDLEWARE[1:]]
# The test provider listens on loopback, which the product's fetches refuse unless allowed.
OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
