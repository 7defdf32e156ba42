"""A local robot: an HTTP server on 127.0.0.1 (random port) that records what the webhooks receive."""

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Receiver:
    def __init__(self, server):
        self.server = server
        self.requests: list[dict] = []
        self.status = 200
        self.reply: dict = {"errcode": 0, "errmsg": "ok"}
        self.dingtalk_secret = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def signature_ok(self, query: dict) -> bool:
        """Checks a DingTalk signature the way DingTalk documents it."""
        timestamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
        if not timestamp or not sign:
            return False
        expected = base64.b64encode(hmac.new(self.dingtalk_secret.encode(), f"{timestamp}\n{self.dingtalk_secret}"
                                             .encode(), hashlib.sha256).digest()).decode()
        return hmac.compare_digest(sign, expected)  # parse_qs has already URL-decoded it


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            parts = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(parts.query)
            record = {"path": parts.path, "query": query, "headers": dict(self.headers),
                      "json": json.loads(raw.decode())}
            reply, status = receiver.reply, receiver.status
            if receiver.dingtalk_secret and parts.path.startswith("/robot/"):
                record["signed"] = receiver.signature_ok(query)
                if not record["signed"]:
                    reply = {"errcode": 310000, "errmsg": "sign not match"}
            receiver.requests.append(record)
            body = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    rec = Receiver(server)
    server.RequestHandlerClass = _handler(rec)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
