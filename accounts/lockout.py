"""The admin's password lockout (django-axes), for password sign-ins only."""

from axes.handlers.database import AxesDatabaseHandler

FEDERATED = "federated_sign_in"


class PasswordLockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler, except that a sign-in through an identity provider (the
    request marked `FEDERATED`) neither writes axes' access log nor resets the password failures
    of that user name: it proved nothing about the password, and the audit log records it."""

    def user_logged_in(self, sender, request, user, **kwargs):
        if getattr(request, FEDERATED, False):
            return
        super().user_logged_in(sender, request, user, **kwargs)
