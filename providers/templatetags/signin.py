"""The admin login page's identity-provider buttons (`{% signin_buttons as signin %}`): the default
workspace's, as on the product's own login page."""

from django import template

from accounts.models import DEFAULT_WORKSPACE_ID, Workspace
from accounts.scoping import within
from providers.identity import selectors

register = template.Library()


@register.simple_tag
def signin_buttons() -> dict:
    with within(DEFAULT_WORKSPACE_ID):
        return {
            "buttons": selectors.login_buttons(),
            "discovery": selectors.has_verified_domains(),
            "workspace": Workspace(pk=DEFAULT_WORKSPACE_ID, name="default"),
        }
