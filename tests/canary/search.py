"""The leak search all canary proofs share: new canary values, finding them on the surfaces
collected (response bodies and headers included), and an admin client for the admin pages."""

from uuid import uuid4

from django.test import Client


def new_canary(kind: str) -> str:
    return f"canary-{kind}-{uuid4().hex}"


def find_leaks(surfaces: list[tuple[str, str]], secrets: list[str]) -> list[str]:
    """Every (surface, secret) pair where the secret shows, with a little context."""
    leaks = []
    for label, text in surfaces:
        for secret in secrets:
            index = text.find(secret)
            if index >= 0:
                context = text[max(0, index - 60) : index + len(secret) + 20].replace("\n", " ")
                leaks.append(f"{label}: …{context}…")
    return leaks


def assert_no_leak(surfaces: list[tuple[str, str]], secrets: list[str]) -> None:
    assert surfaces, "nothing was collected"
    assert all(secrets), "empty canary"
    leaks = find_leaks(surfaces, secrets)
    assert not leaks, "canary secret leaked on these surfaces:\n" + "\n".join(leaks)


def response_text(response) -> str:
    """Body plus every header, so a secret in a Location or a custom header is caught too."""
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return f"{headers}\n\n{body.decode('utf-8', errors='replace')}"


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
