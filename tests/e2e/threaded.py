"""Playwright in a thread of its own. Its sync API runs an event loop in the thread that uses it,
and Django then hands that thread's test code other database connection objects than the ones
the test database was set up on (connections are per asyncio context), so test data set up by
pytest-django goes missing. Here the browser lives in a worker thread and the test thread talks
to it through `Remote` proxies: every call runs in the worker, the test thread never has a loop."""

import queue
import threading
from collections.abc import Callable
from typing import Any


class BrowserThread:
    def __init__(self) -> None:
        self._calls: queue.Queue = queue.Queue()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="playwright", daemon=True)
        self._thread.start()
        self._ready.wait()

    def _serve(self) -> None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            self.playwright = playwright
            self._ready.set()
            while (item := self._calls.get()) is not None:
                function, box = item
                try:
                    box["value"] = function()
                except BaseException as error:  # handed to the caller, raised there
                    box["error"] = error
                box["done"].set()

    def call(self, function: Callable[[], Any]) -> Any:
        box: dict[str, Any] = {"done": threading.Event()}
        self._calls.put((function, box))
        box["done"].wait()
        if "error" in box:
            raise box["error"]
        return box["value"]

    def remote(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.remote(item) for item in value]
        if type(value).__module__.startswith("playwright."):
            return Remote(self, value)
        return value

    def stop(self) -> None:
        self._calls.put(None)
        self._thread.join(timeout=30)


class Remote:
    """A Playwright object that lives in the browser thread."""

    def __init__(self, thread: BrowserThread, target: Any) -> None:
        object.__setattr__(self, "_thread", thread)
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        thread, target = self._thread, self._target
        value = thread.call(lambda: getattr(target, name))
        if not callable(value) or type(value).__module__.startswith("playwright."):
            return thread.remote(value)

        def method(*args, **kwargs):
            args = tuple(_unwrap(arg) for arg in args)
            kwargs = {key: _unwrap(arg) for key, arg in kwargs.items()}
            return thread.remote(thread.call(lambda: value(*args, **kwargs)))

        return method


def _unwrap(value: Any) -> Any:
    return object.__getattribute__(value, "_target") if isinstance(value, Remote) else value
