#!/usr/bin/env python3
"""fwd-proxy.py LOG - a plain HTTP forward proxy for tests: takes requests
in absolute form (GET http://host:port/path), forwards them, and appends
"METHOD URL STATUS" to LOG. Prints its URL as the first line of stdout."""
import http.client
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = sys.argv[1]
HOP = {"connection", "proxy-connection", "keep-alive", "transfer-encoding",
       "te", "trailer", "upgrade", "proxy-authorization"}


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        u = urllib.parse.urlsplit(self.path)
        if u.scheme != "http" or not u.hostname:
            self.send_error(400, "absolute http URL expected")
            return
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        path = u.path + ("?" + u.query if u.query else "")
        c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
        try:
            c.request(self.command, path, body=body, headers=hdrs)
            r = c.getresponse()
            data = r.read()
        except OSError:
            self.send_error(502)
            return
        with open(LOG, "a") as f:
            f.write("%s %s %d\n" % (self.command, self.path, r.status))
        self.send_response_only(r.status, r.reason)
        for k, v in r.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = forward


s = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
print("http://127.0.0.1:%d" % s.server_address[1], flush=True)
s.serve_forever()
