"""django-allauth's OpenID Connect sign-in on the same stack as the product's (bench/settings_signin.py:
production settings and middleware, PostgreSQL, database sessions), configured for its shortest flow:
the provider from settings (no SocialApp row to edit), a GET starts the login, a first login signs
up without a form, no email verification, no PKCE, the ID token's claims without a userinfo request.
`BENCH_OIDC_ISSUER` is the test provider's issuer (it picks its port at start). Only for
`python -m bench.signin`; django-allauth is in bench/requirements.txt, never in requirements.txt."""

import os

from bench.settings_signin import *  # noqa: F403
from bench.settings_signin import AUTHENTICATION_BACKENDS, INSTALLED_APPS, MIDDLEWARE

ROOT_URLCONF = "bench.urls_allauth"
INSTALLED_APPS = [
    *INSTALLED_APPS,
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
]
MIDDLEWARE = [*MIDDLEWARE, "allauth.account.middleware.AccountMiddleware"]
AUTHENTICATION_BACKENDS = [*AUTHENTICATION_BACKENDS, "allauth.account.auth_backends.AuthenticationBackend"]

SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": False,
        "APPS": [
            {
                "provider_id": "bench",
                "name": "Bench OIDC",
                "client_id": "rp-basic",
                "secret": "rp-basic-secret",
                "settings": {
                    "server_url": os.environ.get("BENCH_OIDC_ISSUER", "http://127.0.0.1:9"),
                    "token_auth_method": "client_secret_basic",
                    "fetch_userinfo": False,
                },
            }
        ],
    }
}
SOCIALACCOUNT_LOGIN_ON_GET = True
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_REQUIRED = False
SOCIALACCOUNT_STORE_TOKENS = False
ACCOUNT_EMAIL_VERIFICATION = "none"
# As the product's throttles are off in the benchmark: the load comes from one address.
ACCOUNT_RATE_LIMITS = False
LOGIN_REDIRECT_URL = "/bench/whoami"
