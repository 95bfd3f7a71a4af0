#!/usr/bin/env python3
"""An example goplugin plugin in Python, standard library only: REST, or stdio with --stdio.

Commands: echo (payload as is), upper (UTF-8 text uppercased), reverse (bytes reversed), context (the
pipeline context of the call as JSON: {"pipeline": {...}} or {"pipeline": null}), remember (payload
"NAME=VALUE": answers it and sets the pipeline variable NAME for later steps).
Run: python3 plugin.py --port 8080. It exits on SIGTERM/SIGINT and, when stdin is a pipe, when the
host closes it. Logs go to stderr. When GOPLUGIN_TOKEN is set (the host sets it), every request must
carry "Authorization: Bearer <token>", or it is answered 401. With --stdio it answers one request read
from stdin (comm_type = "stdio").
"""
import argparse
import hmac
import json
import os
import signal
import stat
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

MAX_BODY_BYTES = 64 * 1024 * 1024
# The per-launch secret the host passes; empty (started by hand) means no check.
TOKEN = os.environ.get("GOPLUGIN_TOKEN", "")
TOKEN_REQUIRED = ('a valid bearer token is required: send "Authorization: Bearer <token>" with the token '
                  "the host passed to this plugin in GOPLUGIN_TOKEN")


def log(message):
    # When the host is gone its end of our stderr may be closed too; losing a log line then must not
    # stop the plugin from shutting down.
    try:
        sys.stderr.write(f"INFO {message}\n")
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        pass


def upper(payload):
    try:
        return payload.decode("utf-8").upper().encode("utf-8")
    except UnicodeDecodeError:
        raise CommandError(400, "the payload is not UTF-8 text")


def remember(payload):
    name, sep, value = payload.decode("utf-8", "replace").partition("=")
    if not sep:
        raise CommandError(400, 'expected "NAME=VALUE"')
    # A handler may answer (bytes, vars): vars go beside "response" in the answer's "data".
    return payload, {name: value}


# Every handler takes the payload and the call's pipeline context (None outside a pipeline).
HANDLERS = {
    "echo": lambda payload, context: payload,
    "upper": lambda payload, context: upper(payload),
    "reverse": lambda payload, context: payload[::-1],
    "context": lambda payload, context: json.dumps({"pipeline": context}).encode("utf-8"),
    "remember": lambda payload, context: remember(payload),
}


def context_from_headers(headers):
    """The pipeline context a REST call carries in x-goplugin-* headers, or None outside a pipeline."""
    step = headers.get("x-goplugin-step")
    if step is None:
        return None
    return {
        "name": unquote(headers.get("x-goplugin-pipeline", "")),  # percent-encoded beyond visible ASCII
        "step": unquote(step),
        "parallel": headers.get("x-goplugin-parallel") == "true",
        "index": int(headers.get("x-goplugin-parallel-index", "0")),
        "size": int(headers.get("x-goplugin-parallel-size", "1")),
    }


def success(answer):
    """The JSend success body of a handler's answer: bytes, or (bytes, vars)."""
    response, variables = answer if isinstance(answer, tuple) else (answer, None)
    data = {"response": response.hex()}
    if variables:
        data["vars"] = variables
    return {"status": "success", "data": data}


class CommandError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class BodyTooLarge(Exception):
    def __init__(self, remaining=None):
        super().__init__("body too large")
        self.remaining = remaining  # bytes still to drop, when known and not too many


def from_hex(text):
    """Decodes hex of even length, or returns None (bytes.fromhex would also accept spaces)."""
    if len(text) % 2 != 0 or any(c not in "0123456789abcdefABCDEF" for c in text):
        return None
    return bytes.fromhex(text)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "goplugin-python"

    def log_request(self, code="-", size="-"):  # no line per request; errors still go to stderr
        pass

    def send_json(self, status, body, close=False, headers=()):
        data = json.dumps(body, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, message, close=False, headers=()):
        self.send_json(status, {"status": "error", "message": message}, close, headers)

    def read_body(self):
        """Reads the body (Content-Length or chunked); raises BodyTooLarge past MAX_BODY_BYTES."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = bytearray()
            while True:
                size = int(self.rfile.readline(1024).split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(65536) not in (b"\r\n", b"\n", b""):  # trailers
                        pass
                    return bytes(body)
                if len(body) + size > MAX_BODY_BYTES:
                    raise BodyTooLarge()
                body += self.rfile.read(size)
                self.rfile.readline(1024)  # the CRLF after each chunk
        length = int(self.headers.get("Content-Length", "0"))
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > MAX_BODY_BYTES:
            raise BodyTooLarge(length if length <= 4 * MAX_BODY_BYTES else None)
        return self.rfile.read(length)

    def path_only(self):
        return self.path.split("?", 1)[0]

    def authorized(self):
        """True when no token is required or the request carries it; otherwise answers 401 and closes."""
        if not TOKEN:
            return True
        scheme, _, presented = self.headers.get("Authorization", "").strip().partition(" ")
        # compare_digest takes constant time for inputs of equal length.
        if scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), TOKEN.encode()):
            return True
        # Drop a body of known, bounded length so the client can read the 401 and keep its connection;
        # otherwise close the connection without reading it.
        close = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        try:
            remaining = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            remaining, close = 0, True
        if remaining < 0 or remaining > MAX_BODY_BYTES:
            remaining, close = 0, True
        while remaining > 0 and not close:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
        self.error(401, TOKEN_REQUIRED, close=close, headers=[("WWW-Authenticate", "Bearer")])
        return False

    def do_GET(self):
        if not self.authorized():
            return
        if self.path_only() == "/ping":
            self.send_json(200, {"status": "success", "data": {"response": "pong"}})
        elif self.path_only() == "/exec":
            self.error(405, "GET /exec is not allowed; use POST")
        else:
            self.error(404, f"no route GET {self.path_only()}; this plugin serves GET /ping and POST /exec")

    def do_POST(self):
        if not self.authorized():
            return
        if self.path_only() == "/ping":
            return self.error(405, "POST /ping is not allowed; use GET")
        if self.path_only() != "/exec":
            return self.error(404, f"no route POST {self.path_only()}; this plugin serves GET /ping and POST /exec")
        try:
            raw = self.read_body()
        except BodyTooLarge as e:
            # Drop the rest of a body of known length (up to a bound) so the client can read the 413
            # instead of failing to write; otherwise close the connection.
            self.error(413, f"the request body is larger than {MAX_BODY_BYTES} bytes", close=e.remaining is None)
            if e.remaining is not None:
                while e.remaining > 0:
                    e.remaining -= len(self.rfile.read(min(e.remaining, 1 << 20)) or b"\0" * e.remaining)
            return
        except ValueError:
            return self.error(400, "the request body has a bad Content-Length or chunk size", close=True)
        try:
            body = json.loads(raw)
        except ValueError:
            return self.error(400, "the request body is not valid JSON")
        if not isinstance(body, dict):
            return self.error(400, "the request body is not a JSON object")
        command, payload_hex = body.get("command"), body.get("payload")
        if not isinstance(command, str):
            return self.error(400, '"command" is missing or not a string')
        if not isinstance(payload_hex, str):
            return self.error(400, '"payload" is missing or not a (hex) string')
        handler = HANDLERS.get(command)
        if handler is None:
            known = ", ".join(HANDLERS)
            return self.error(404, f'command "{command}" failed: unknown command; this plugin knows: {known}')
        payload = from_hex(payload_hex)
        if payload is None:
            return self.error(400, f'command "{command}" failed: the payload is not valid hex')
        try:
            answer = handler(payload, context_from_headers(self.headers))
        except CommandError as e:
            return self.error(e.status, f'command "{command}" failed: {e.message}')
        except Exception as e:  # a bug in a handler answers 500; the server lives on
            return self.error(500, f'command "{command}" failed: {e}')
        self.send_json(202, success(answer))

    def do_PUT(self):
        if not self.authorized():
            return
        self.error(405, f"{self.command} is not allowed")

    do_DELETE = do_PATCH = do_PUT


def stdin_is_pipe():
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def serve_stdio():
    """One stdio call: the request is one JSON object on stdin, the answer one JSend object on stdout."""
    def answer(body, code):
        sys.stdout.write(json.dumps(body, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        return code

    try:
        request = json.loads(sys.stdin.buffer.read(MAX_BODY_BYTES + 1))
    except ValueError:
        return answer({"status": "error", "message": "the request on stdin is not valid JSON"}, 1)
    if not isinstance(request, dict):
        return answer({"status": "error", "message": "the request on stdin is not a JSON object"}, 1)
    if request.get("type") == "ping":
        return answer({"status": "success", "data": {"response": "pong"}}, 0)
    command, payload = request.get("command"), from_hex(str(request.get("payload", "")))
    handler = HANDLERS.get(command)
    if handler is None or payload is None:
        return answer({"status": "error", "message": f'command "{command}" failed: unknown command or bad payload'}, 1)
    try:
        # "pipeline" is absent outside a pipeline: {"name", "step", "parallel", "index", "size"} inside one.
        return answer(success(handler(payload, request.get("pipeline"))), 0)
    except CommandError as e:
        return answer({"status": "error", "message": f'command "{command}" failed: {e.message}'}, 1)
    except Exception as e:  # a bug in a handler is still an answer
        return answer({"status": "error", "message": f'command "{command}" failed: {e}'}, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("GOPLUGIN_PORT") or 0))
    parser.add_argument("--stdio", action="store_true", help="answer one request on stdin (comm_type = stdio)")
    args, _ = parser.parse_known_args()
    if args.stdio:
        sys.exit(serve_stdio())

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    stop = threading.Event()

    def shut_down(reason):
        if not stop.is_set():
            stop.set()
            log(f"{reason}, shutting down")
            # shutdown() waits for serve_forever to return, so never call it on the serving thread.
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, lambda *_: shut_down("SIGTERM"))
    signal.signal(signal.SIGINT, lambda *_: shut_down("SIGINT"))

    if stdin_is_pipe():
        def watch_stdin():
            # os.read, not sys.stdin.buffer: a daemon thread blocked inside the buffered reader holds its
            # lock, and the interpreter aborts at exit when it cannot take that lock.
            try:
                while os.read(0, 65536):
                    pass
            except OSError:
                pass
            shut_down("stdin closed: the host is gone")

        threading.Thread(target=watch_stdin, daemon=True).start()

    log(f"listening on 127.0.0.1:{server.server_address[1]} (rest)")
    try:
        server.serve_forever(poll_interval=0.05)
    finally:
        server.server_close()
    log(f"stopped listening on 127.0.0.1:{server.server_address[1]} (rest)")


if __name__ == "__main__":
    main()
