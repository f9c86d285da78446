"""Request bodies of the git providers API (`/api/backend/providers`) that several test modules send."""


def git_provider_body(
    provider_id: str,
    *,
    token: str = "",
    label: str = "",
    type: str = "github",
    urls: dict | None = None,
    credentials: dict | None = None,
) -> dict:
    """A create body: a token credential unless `credentials` is given; `urls` left out unless given."""
    body = {
        "id": provider_id,
        "label": label or provider_id,
        "type": type,
        "credentials": credentials or {"type": "token", "content": {"accessToken": token}},
    }
    if urls is not None:
        body["urls"] = urls
    return body
