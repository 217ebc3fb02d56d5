"""A real HTTP server on 127.0.0.1 whose misbehaviour a test plans: errors, drops, slowness, no ranges."""

from __future__ import annotations

import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator


@dataclass
class Plan:
    """How the test server answers; ``seen`` records the headers of every request."""

    payload: bytes
    truncate_first: int = 0
    errors_first: int = 0
    always_status: int | None = None
    ignore_range: bool = False
    seconds_per_chunk: float = 0.0  # > 0: send the body in 64 KiB chunks at this pace (a slow network)
    seen: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base class
        """Keep pytest output clean."""

    def do_GET(self) -> None:
        plan: Plan = self.server.plan  # type: ignore[attr-defined]
        with plan.lock:
            index = len(plan.seen)
            plan.seen.append(dict(self.headers))
        if plan.always_status is not None or index < plan.errors_first:
            self._empty(plan.always_status or 500)
            return
        size = len(plan.payload)
        start = 0
        requested = self.headers.get("Range")
        if requested and not plan.ignore_range:
            start = int(re.fullmatch(r"bytes=(\d+)-", requested).group(1))
            if start >= size:
                self._empty(416, {"Content-Range": f"bytes */{size}"})
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        else:
            self.send_response(200)
        body = plan.payload[start:]
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if index < plan.truncate_first:
            # Announce the full length but close half way, like a dropped connection.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if plan.seconds_per_chunk <= 0:
            self.wfile.write(body)
            return
        for offset in range(0, len(body), 1 << 16):
            self.wfile.write(body[offset:offset + (1 << 16)])
            self.wfile.flush()
            time.sleep(plan.seconds_per_chunk)

    def _empty(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()


@dataclass
class Server:
    plan: Plan
    url: str


@contextmanager
def serve(payload: bytes, **plan_settings) -> Iterator[Server]:
    """Serve ``payload`` as the upstream zip's name until the block ends."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.plan = Plan(payload=payload, **plan_settings)  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Server(httpd.plan, f"http://127.0.0.1:{httpd.server_address[1]}/Audio_Speech_Actors_01-24.zip")  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
