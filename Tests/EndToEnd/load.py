"""A small, bounded load generator for the fault tests: a few threads on loopback, each with its own
keep-alive connection, stopped by the caller or by its own time limit. Every answer is recorded with
its send time, so a test can ask what happened in any window."""
import http.client
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Answer:
    sent: float        # monotonic time the request was sent
    latency: float     # seconds until the whole answer was read (or the error)
    kind: str          # what the token is: "valid", "revoked", ...
    status: int        # HTTP status, or 0 for a transport error
    error: str = ""    # the reason code, or the transport error
    written: float = 0.0  # monotonic time the request was fully written (0: never)


class Load:
    """`threads` clients cycling through `tokens` ((kind, token) pairs) against GET /v1/check."""

    def __init__(self, port, tokens, threads=4, limit_seconds=60.0, timeout=10.0, path="/v1/check"):
        self.port, self.tokens, self.timeout, self.path = port, list(tokens), timeout, path
        self.answers: list[Answer] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.deadline = time.monotonic() + limit_seconds
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=self.timeout + 5)

    def _run(self, number):
        connection = None
        index = number
        while not self.stopping.is_set() and time.monotonic() < self.deadline:
            kind, token = self.tokens[index % len(self.tokens)]
            written = 0.0
            index += len(self.threads)
            sent = time.monotonic()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                connection.request("GET", self.path, headers={"Authorization": f"Bearer {token}"})
                written = time.monotonic()   # the request is in the kernel's send buffer
                response = connection.getresponse()
                body = response.read()
                code = response.getheader("X-Veto-Error") or ""
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
                answer = Answer(sent, time.monotonic() - sent, kind, response.status, code, written)
            except (OSError, http.client.HTTPException) as error:
                answer = Answer(sent, time.monotonic() - sent, kind, 0, type(error).__name__, written)
                if connection is not None:
                    connection.close()
                connection = None
                time.sleep(0.01)
            with self.lock:
                self.answers.append(answer)
        if connection is not None:
            connection.close()

    # -- questions about what was recorded --------------------------------------------------------

    def snapshot(self):
        with self.lock:
            return list(self.answers)

    def between(self, start, end):
        return [a for a in self.snapshot() if start <= a.sent < end]

    def count(self):
        with self.lock:
            return len(self.answers)

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.snapshot()):
                return time.monotonic()
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def record(name, **measurements):
    """Appends one measurement to .build/hardening-measurements.jsonl (read by the report)."""
    path = Path(os.environ.get("VETO_MEASUREMENTS", Path(__file__).resolve().parents[2] / ".build" / "hardening-measurements.jsonl"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(json.dumps(dict(test=name, at=time.time(), **measurements)) + "\n")
