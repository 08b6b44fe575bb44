"""Real processes for the end-to-end tests: redis-server, `veto serve`, nginx, and a JWKS server.
Each binds to a free loopback port and is stopped by the fixture that started it."""
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """Whether something accepts TCP connections on 127.0.0.1:`port`."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_for(predicate, timeout=30.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Redis:
    def __init__(self, port=None, args=()):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="veto-redis-")
        self.args = list(args)
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", self.dir, *self.args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: self.cli("ping") == "PONG", what=f"redis-server on {self.port}")

    def cli(self, *args):
        auth = []
        return subprocess.run(["redis-cli", "-p", str(self.port), *auth, *args], capture_output=True, text=True, timeout=10).stdout.strip()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self):
        self.process.kill()
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class VetoServer:
    def __init__(self, binary, args, cwd, env=None, port=None):
        """`port`: one picked beforehand (a configuration that names Veto's own URL); else a free one."""
        self.port = port or free_port()
        self.log = Path(tempfile.mkstemp(prefix="veto-serve-", suffix=".log")[1])
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.process = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{self.port}", *args], cwd=cwd, env=full_env,
                                        stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(self._healthy, what=f"veto serve on {self.port}")
        except AssertionError:
            self.stop()
            raise AssertionError(f"veto serve did not become healthy:\n{self.log.read_text()[-3000:]}")

    def _healthy(self):
        if self.process.poll() is not None:
            raise AssertionError(f"veto serve exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
        return request(self.port, "GET", "/healthz")[0] == 200

    def logs(self):
        return self.log.read_text()

    def stop(self, sig=signal.SIGTERM):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def request(port, method, path, token=None, body=None, headers=None, timeout=10):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    fields = dict(headers or {})
    if token is not None:
        fields["Authorization"] = f"Bearer {token}"
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        fields.setdefault("Content-Type", "application/json")
    connection.request(method, path, body=body, headers=fields)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def json_body(data):
    return json.loads(data) if data else None


class JWKSServer:
    """Serves a mutable JWKS document on loopback and counts requests."""

    def __init__(self):
        self.document = {"keys": []}
        self.status = 200
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests += 1
                body = json.dumps(outer.document).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/jwks.json"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class EchoUpstream:
    """A small API for gateways to sit in front of: it echoes the request's headers as JSON, so a
    test sees what the gateway passed on, and counts the requests that reached it."""

    def __init__(self):
        outer = self
        self.requests = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests += 1
                body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Nginx:
    """A real nginx (apt's nginx-light) in the foreground, serving `site` (an http-level config
    snippet) with every path under `workdir`; `nginx -t` must accept the configuration first."""

    def __init__(self, workdir, site):
        workdir = Path(workdir)
        binary = next((c for c in ("/usr/sbin/nginx", shutil.which("nginx")) if c and Path(c).exists()), None)
        assert binary, "nginx is not installed: Scripts/bootstrap installs nginx-light"
        (workdir / "site.conf").write_text(site)
        config = workdir / "nginx.conf"
        config.write_text(f"""
daemon off;
master_process off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    include {workdir}/site.conf;
}}
""")
        test = subprocess.run([binary, "-t", "-c", str(config)], capture_output=True, text=True)
        assert test.returncode == 0, test.stderr
        self.process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
