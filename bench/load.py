"""A small closed-loop load generator: N client threads on 127.0.0.1, each sending one request
after another over its own connection, for a bounded number of requests and seconds."""

import http.client
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: Callable[[int], bytes] | None = None  # request number → body (unique ids for creates)
    expect: tuple[int, ...] = (200,)


@dataclass
class Result:
    requests: int
    seconds: float
    latencies_ms: list[float]
    server_ms: list[float]
    queries: list[int]
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def p50(self) -> float:
        return self.percentile(self.latencies_ms, 0.50)

    @property
    def p99(self) -> float:
        return self.percentile(self.latencies_ms, 0.99)

    @property
    def server_p50(self) -> float:
        return self.percentile(self.server_ms, 0.50)

    @property
    def queries_per_request(self) -> float:
        return statistics.fmean(self.queries) if self.queries else float("nan")

    def merge(self, other: "Result") -> "Result":
        return Result(
            self.requests + other.requests,
            self.seconds + other.seconds,
            self.latencies_ms + other.latencies_ms,
            self.server_ms + other.server_ms,
            self.queries + other.queries,
            self.errors + other.errors,
        )


class Counter:
    def __init__(self):
        self._value = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._value += 1
            return self._value


SEQUENCE = Counter()  # unique numbers across every run, for ids of created rows


def run(host: str, port: int, request: Request, *, concurrency: int, max_requests: int, max_seconds: float) -> Result:
    latencies: list[float] = []
    server: list[float] = []
    queries: list[int] = []
    errors = 0
    sent = Counter()
    lock = threading.Lock()
    deadline = time.perf_counter() + max_seconds

    def worker() -> None:
        nonlocal errors
        connection = http.client.HTTPConnection(host, port, timeout=30)
        while sent.next() <= max_requests and time.perf_counter() < deadline:
            body = request.body(SEQUENCE.next()) if request.body else None
            start = time.perf_counter()
            try:
                connection.request(request.method, request.path, body=body, headers=request.headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=30)
                with lock:
                    errors += 1
                continue
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                if response.status not in request.expect:
                    errors += 1
                latencies.append(elapsed)
                server.append(float(response.getheader("X-Server-Ms") or "nan"))
                queries.append(int(response.getheader("X-Queries") or -1))
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=30)
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Result(len(latencies), time.perf_counter() - started, latencies, server, queries, errors)
