import re

from django.views.debug import SafeExceptionReporterFilter

# The user information of a URL: `scheme://user:password@` or `scheme://token@`, up to the last "@"
# before the path.
URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#\s]*)@")
URL_NAMES = re.compile(r"(_URL|_DSN|_URI)$", re.IGNORECASE)


class SecretSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Error reports (the DEBUG page, admin e-mails, error trackers reading them) show each frame's
    variable names but never their values: frames of the services and the connection test hold
    decrypted credentials, and no list of sensitive variable names can be trusted to stay complete.
    Settings and request variables (the environment, on the development server) keep their values but
    not the credentials inside URLs: any `scheme://user:password@host` loses its password, and in a
    value named `*_URL`, `*_DSN` or `*_URI` (DATABASE_URL, CACHE_URL, SENTRY_DSN) the whole user part
    goes, since a token alone (`https://token@host`) is a secret too. Applies whatever DEBUG says."""

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]

    def cleanse_setting(self, key, value):
        value = super().cleanse_setting(key, value)
        if isinstance(value, str) and "://" in value:
            whole = isinstance(key, str) and URL_NAMES.search(key) is not None
            value = URL_USERINFO.sub(lambda match: self._mask_userinfo(match, whole), value)
        return value

    def _mask_userinfo(self, match: re.Match, whole: bool) -> str:
        user, colon, _ = match["userinfo"].partition(":")
        if whole:
            return f"{match['scheme']}{self.cleansed_substitute}@"
        return f"{match['scheme']}{user}:{self.cleansed_substitute}@" if colon else match.group(0)
