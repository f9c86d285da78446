"""A tiny authoritative DNS server on 127.0.0.1 for tests, so lookups never leave the machine.

It answers TXT queries from `records`; a name in `timeouts` is never answered (the client times
out), a name in `failures` gets SERVFAIL, any other unknown name NXDOMAIN. Names are matched
case-insensitively, with or without a trailing dot. `records` and the sets may be changed while
the server runs."""

import socket
import threading
from types import TracebackType

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset

TXTValue = str | tuple[str | bytes, ...]


def _normalise(name: str) -> str:
    return name.lower().rstrip(".")


def _strings(value: TXTValue) -> list[bytes]:
    """A str becomes one record split into 255-byte strings, as DNS tools store long values; a
    tuple gives the record's strings explicitly (bytes for values that are not UTF-8)."""
    if isinstance(value, tuple):
        return [part if isinstance(part, bytes) else part.encode() for part in value]
    data = value.encode()
    return [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]


class FakeDnsServer:
    def __init__(self, records: dict[str, list[TXTValue]] | None = None) -> None:
        self.records: dict[str, list[TXTValue]] = dict(records or {})
        self.timeouts: set[str] = set()
        self.failures: set[str] = set()
        self.queries: list[str] = []
        self.errors: list[Exception] = []
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def address(self) -> str:
        if self._sock is None:
            raise RuntimeError("The server is not running.")
        host, port = self._sock.getsockname()
        return f"{host}:{port}"

    def start(self) -> "FakeDnsServer":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.05)  # lets the loop notice stop() promptly
        self._sock = sock
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, name="fake-dns", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._sock is not None:
            self._sock.close()
        self._sock = self._thread = None

    def __enter__(self) -> "FakeDnsServer":
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _serve(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._stopping.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                reply = self._answer(data)
                if reply is not None:
                    sock.sendto(reply, peer)
            except Exception as exc:  # keep serving; the test sees a timeout and can inspect errors
                self.errors.append(exc)

    def _answer(self, data: bytes) -> bytes | None:
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        name = _normalise(question.name.to_text())
        self.queries.append(name)
        if name in {_normalise(n) for n in self.timeouts}:
            return None
        if name in {_normalise(n) for n in self.failures}:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        records = {_normalise(key): values for key, values in self.records.items()}
        if name not in records:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.TXT and records[name]:
            rdatas = [
                dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, _strings(value))
                for value in records[name]
            ]
            response.answer.append(dns.rrset.from_rdata_list(question.name, 60, rdatas))
        return response.to_wire()
