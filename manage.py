#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.management import execute_from_command_line
    from django_scopes import scopes_disabled

    # Commands act on every workspace unless they narrow themselves (accounts.scoping.within);
    # the requests `runserver` serves are guarded and scoped by the middleware all the same.
    with scopes_disabled():
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
