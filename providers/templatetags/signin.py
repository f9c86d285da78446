"""The admin login page's identity-provider buttons (`{% signin_buttons as signin %}`): the default
workspace's, as on the product's own login page."""

from django import template

from accounts.models import DEFAULT_WORKSPACE_ID, Workspace
from accounts.scoping import within
from providers.identity import selectors
from providers.signin import csp

register = template.Library()


@register.simple_tag(takes_context=True)
def signin_buttons(context) -> dict:
    with within(DEFAULT_WORKSPACE_ID):
        discovery = selectors.has_verified_domains()
        if discovery and context.get("request") is not None:
            # The email box posts to the login page, which sends the browser on to the provider.
            csp.allow_form_targets(context["request"], csp.endpoint_urls(selectors.discovery_form_targets()))
        return {
            "buttons": selectors.login_buttons(),
            "discovery": discovery,
            "workspace": Workspace(pk=DEFAULT_WORKSPACE_ID, name="default"),
        }
