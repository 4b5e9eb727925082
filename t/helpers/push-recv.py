#!/usr/bin/env python3
"""push-recv.py LOG - a push endpoint for tests: answers requests to
/MODE/TOKEN and appends one line per request to LOG:
    METHOD PATH LENGTH HEX(BODY) HEADER-NAMES(lowercase, comma-separated)
MODE: ok (201), redirect (302 to /ok/TOKEN), gone (410), slow (the
first request 201 at once, every later one after 8 s), fail (the first
201, every later one 500), ntfy (an ntfy-style topic: a POST to
/ntfy/TOPIC is published to every GET /ntfy/TOPIC/json stream as one line
{"event":"message","topic":..,"message":BODY}). Prints its base URL as
the first line of stdout."""
import json
import queue
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = sys.argv[1]
seen = {}
subs = {}
lock = threading.Lock()


class Recv(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def stream(self, topic):
        q = queue.Queue()
        with lock:
            subs.setdefault(topic, []).append(q)
        self.send_response_only(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(b'{"event":"open","topic":"%s"}\n' % topic.encode())
            self.wfile.flush()
            while True:
                try:
                    line = q.get(timeout=20)
                except queue.Empty:
                    line = '{"event":"keepalive"}'
                self.wfile.write(line.encode() + b"\n")
                self.wfile.flush()
        except OSError:
            pass
        finally:
            with lock:
                subs[topic].remove(q)

    def handle_any(self):
        parts = self.path.split("/")
        if self.command == "GET" and len(parts) == 4 and parts[1] == "ntfy" \
                and parts[3] == "json":
            self.stream(parts[2])
            return
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        names = ",".join(sorted(k.lower() for k in self.headers.keys()))
        mode = parts[1] if len(parts) > 2 else "ok"
        with lock:
            k = seen.get(self.path, 0)
            seen[self.path] = k + 1
            with open(LOG, "a") as f:
                f.write("%s %s %d %s %s\n" % (self.command, self.path, len(body),
                                              body.hex() or "-", names))
        status, extra = 201, []
        if mode == "ntfy" and self.command == "POST":
            line = json.dumps({"event": "message", "topic": parts[-1],
                               "message": body.decode("utf-8", "replace")},
                              separators=(",", ":"))
            with lock:
                for q in subs.get(parts[-1], []):
                    q.put(line)
        if mode == "redirect":
            status, extra = 302, [("Location", "/ok/" + parts[-1])]
        elif mode == "gone":
            status = 410
        elif mode == "fail" and k > 0:
            status = 500
        elif mode == "slow" and k > 0:
            time.sleep(8)
        try:
            self.send_response_only(status)
            for h, v in extra:
                self.send_header(h, v)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass

    do_GET = do_POST = do_PUT = handle_any


s = ThreadingHTTPServer(("127.0.0.1", 0), Recv)
s.daemon_threads = True
print("http://127.0.0.1:%d" % s.server_address[1], flush=True)
s.serve_forever()
