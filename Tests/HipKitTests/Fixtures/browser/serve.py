#!/usr/bin/env python3
"""Serve one directory over HTTP on 127.0.0.1 (never any other address) for the duration of a test.

    python3 serve.py DIR PORTFILE

Binds a free port chosen by the kernel (no race between picking a port and using it), then writes
"PORT\\n" to PORTFILE (atomically: written beside it, then renamed) so the caller can poll for it.
Serves until SIGTERM or until its stdin reaches end of file; the test process holds the other end
of stdin, so the server goes away even when the test process dies without stopping it.
"""
import functools
import http.server
import os
import signal
import sys
import threading


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # a test's output is no place for an access log
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


def main(argv):
    if len(argv) != 3:
        print("usage: serve.py DIR PORTFILE", file=sys.stderr)
        return 2
    directory, port_file = argv[1], argv[2]
    if not os.path.isdir(directory):
        print(f"serve.py: not a directory: {directory}", file=sys.stderr)
        return 1
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=directory))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with open(port_file + ".tmp", "w") as f:
        f.write(f"{server.server_address[1]}\n")
    os.replace(port_file + ".tmp", port_file)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
