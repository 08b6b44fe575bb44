"""The gRPC ext_authz server (`veto serve --grpc-listen`) called directly with grpcio over h2c:
envoy.service.auth.v3.Authorization/Check and grpc.health.v1.Health. Messages are encoded by hand
(grpc_wire.py), so a wrong field number in Veto's generated code would fail here. Envoy itself runs
in Tests/Ecosystem/test_envoy.py."""
import json
import signal
import subprocess

import grpc
import pytest

from conftest import AUD, ISS
from grpc_wire import check_request, check_response, field, parse, first
from services import Redis, VetoServer, free_port, listening, request, wait_for
from topologies import Certificates

CHECK = "/envoy.service.auth.v3.Authorization/Check"
HEALTH = "/grpc.health.v1.Health/Check"
OK, NOT_FOUND, UNAUTHENTICATED, UNAVAILABLE = 0, 5, 16, 14


@pytest.fixture(scope="module")
def server(veto_bin, keyring, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("grpc")
    (workdir / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    redis = Redis()
    port = free_port()
    veto = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", "RS256:rsa.pem", "--redis", redis.url,
                                 "--grpc-listen", f"127.0.0.1:{port}", "--grpc-strip-authorization", "--log-level", "debug"],
                      cwd=workdir)
    wait_for(lambda: listening(port), what="Veto's gRPC port")  # it starts beside the HTTP server
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    call = channel.unary_unary(CHECK, request_serializer=None, response_deserializer=None)
    health = channel.unary_unary(HEALTH, request_serializer=None, response_deserializer=None)
    try:
        yield {"check": lambda message: check_response(call(message, timeout=5)), "health": health, "veto": veto, "redis": redis}
    finally:
        channel.close()
        veto.stop()
        redis.stop()


def headers_of(pairs):
    return {name.lower(): value for name, value in pairs}


def test_allow_from_the_headers_map_sets_identity_headers_metadata_and_strips_authorization(server, keyring):
    token = keyring.token("RS256", sub="user_482")
    answer = server["check"](check_request(headers=[("authorization", f"Bearer {token}")]))
    assert answer["code"] == OK and "ok" in answer and "denied" not in answer
    upstream = headers_of(answer["ok"]["headers"])
    assert upstream["x-auth-subject"] == "user_482" and upstream["x-auth-issuer"] == ISS
    assert len(upstream["x-auth-jti"]) == 16 and int(upstream["x-auth-expires"]) > 0
    assert answer["ok"]["headers_to_remove"] == ["authorization"], "--grpc-strip-authorization"
    metadata = answer["metadata"]
    assert metadata["sub"] == "user_482" and metadata["iss"] == ISS and metadata["jti"] == upstream["x-auth-jti"]
    assert metadata["exp"] == int(upstream["x-auth-expires"])


def test_header_names_are_case_insensitive_and_header_map_carries_raw_values(server, keyring):
    token = keyring.token("RS256", sub="user_9")
    for message in (check_request(headers=[("Authorization", f"Bearer {token}")]),
                    check_request(raw_headers=[("x-request-id", "1"), ("AUTHORIZATION", f"Bearer {token}")])):
        answer = server["check"](message)
        assert answer["code"] == OK, answer
        assert headers_of(answer["ok"]["headers"])["x-auth-subject"] == "user_9"


def test_two_authorization_headers_are_refused_as_over_http(server, keyring):
    token = keyring.token("RS256")
    answer = server["check"](check_request(raw_headers=[("authorization", f"Bearer {token}"), ("authorization", f"Bearer {token}")]))
    assert answer["code"] == UNAUTHENTICATED and answer["denied"]["status"] == 401


def test_a_claim_the_token_lacks_removes_the_header_instead_of_leaving_a_forged_one(server, keyring):
    answer = server["check"](check_request(headers=[("authorization", f"Bearer {keyring.token('RS256', sub=None)}")]))
    assert answer["code"] == OK
    assert "x-auth-subject" not in headers_of(answer["ok"]["headers"])
    assert "x-auth-subject" in answer["ok"]["headers_to_remove"]
    assert "sub" not in answer["metadata"]


def test_deny_is_401_with_the_challenge_error_code_and_json_body(server, keyring):
    token = keyring.token("RS256", aud="https://api-staging.example.com")
    answer = server["check"](check_request(headers=[("authorization", f"Bearer {token}")]))
    assert answer["code"] == UNAUTHENTICATED and answer["message"] == "audience_mismatch"
    denied = answer["denied"]
    assert denied["status"] == 401
    headers = headers_of(denied["headers"])
    assert 'error="invalid_token"' in headers["www-authenticate"] and headers["x-veto-error"] == "audience_mismatch"
    assert json.loads(denied["body"]) == json.loads(request(server["veto"].port, "GET", "/v1/check", token)[2]), \
        "the same JSON body as /v1/check"
    assert answer["metadata"] is None and "ok" not in answer


def test_no_token_is_401_with_the_bare_challenge(server):
    for message in (check_request(), check_request(raw_headers=[]), check_request(headers=[("authorization", "Basic dXNlcjpwdw==")])):
        answer = server["check"](message)
        assert answer["code"] == UNAUTHENTICATED and answer["denied"]["status"] == 401
        assert headers_of(answer["denied"]["headers"])["x-veto-error"] == "missing_token"
    assert headers_of(server["check"](check_request())["denied"]["headers"])["www-authenticate"] == 'Bearer realm="veto"'


def test_revoked_token_is_refused(server, keyring):
    token = keyring.token("RS256")
    message = check_request(headers=[("authorization", f"Bearer {token}")])
    assert server["check"](message)["code"] == OK
    assert request(server["veto"].port, "POST", "/v1/revoke", token)[0] == 200
    answer = server["check"](message)
    assert answer["code"] == UNAUTHENTICATED and headers_of(answer["denied"]["headers"])["x-veto-error"] == "token_revoked"


def test_health_serves_the_server_and_the_authorization_service(server):
    for name in ("", "envoy.service.auth.v3.Authorization"):
        reply = parse(server["health"](field(1, name) if name else b"", timeout=5))
        assert first(reply, 1) == 1, f"SERVING for {name!r}"
    with pytest.raises(grpc.RpcError) as error:
        server["health"](field(1, "no.such.Service"), timeout=5)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_checks_are_counted_as_grpc_check_and_tokens_never_logged(server, keyring):
    token = keyring.token("RS256")
    server["check"](check_request(headers=[("authorization", f"Bearer {token}")]))
    server["check"](check_request(headers=[("authorization", f"Bearer {token}x")]))
    metrics = request(server["veto"].port, "GET", "/metrics")[2].decode()
    for outcome in ("allowed", "denied"):
        line = next(line for line in metrics.splitlines() if line.startswith(f'veto_requests_total{{route="grpc_check",outcome="{outcome}"}}'))
        assert float(line.split()[-1]) >= 1
    assert 'veto_request_duration_seconds_count{route="grpc_check"}' in metrics
    logs = server["veto"].logs()
    assert token.split(".")[2] not in logs and token not in logs


def test_store_down_is_unavailable_503_never_ok(server, keyring):
    token = keyring.token("RS256")
    message = check_request(headers=[("authorization", f"Bearer {token}")])
    assert server["check"](message)["code"] == OK
    server["redis"].kill()
    try:
        answer = server["check"](message)
        assert answer["code"] == UNAVAILABLE and "ok" not in answer
        assert answer["denied"]["status"] == 503
        assert headers_of(answer["denied"]["headers"])["x-veto-error"] == "store_unavailable"
        assert json.loads(answer["denied"]["body"])["error"] == "store_unavailable"
    finally:
        server["redis"].start()
    wait_for(lambda: server["check"](message)["code"] == OK, what="Veto back on Redis")


def test_the_configuration_file_sets_grpc_listen_and_strip_authorization(veto_bin, keyring, tmp_path):
    (tmp_path / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    port = free_port()
    (tmp_path / "veto.yaml").write_text(
        f"issuers:\n  - issuer: {ISS}\n    audiences: [{AUD}]\n    keys: [RS256:rsa.pem]\n"
        f"grpc:\n  listen: 127.0.0.1:{port}\n  strip_authorization: false\n")
    veto = VetoServer(veto_bin, ["--config", "veto.yaml"], cwd=tmp_path)
    wait_for(lambda: listening(port), what="Veto's gRPC port")
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        call = channel.unary_unary(CHECK, request_serializer=None, response_deserializer=None)
        answer = check_response(call(check_request(headers=[("authorization", f"Bearer {keyring.token('RS256')}")]), timeout=5))
        assert answer["code"] == OK and answer["ok"]["headers_to_remove"] == []
    finally:
        channel.close()
        veto.stop()


@pytest.mark.parametrize("grpc_section, args, field", [
    ("grpc:\n  listn: 127.0.0.1:9191\n", [], "listn"),
    ("grpc:\n  listen: nowhere\n", [], "grpc.listen"),
    ("", ["--grpc-listen", "nowhere"], "--grpc-listen"),
])
def test_bad_grpc_configuration_names_the_field(veto_bin, keyring, tmp_path, grpc_section, args, field):
    (tmp_path / "veto.yaml").write_text(f"issuers:\n  - issuer: {ISS}\n    keys: [RS256:{keyring.dir / keyring.files['RS256']}]\n" + grpc_section)
    p = subprocess.run([veto_bin, "serve", "--config", "veto.yaml", *args], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, p.stderr
    assert field in p.stderr, p.stderr


def test_tls_with_a_certificate_and_key(veto_bin, keyring, tmp_path):
    certificates = Certificates(tmp_path / "pki")
    ca = certificates.ca("grpc-test-ca")
    certificate, key = certificates.issue("grpc-test-ca", "veto-grpc", "DNS:localhost,IP:127.0.0.1")
    (tmp_path / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    port = free_port()
    veto = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", "RS256:rsa.pem", "--grpc-listen", f"127.0.0.1:{port}",
                                 "--grpc-tls-cert", str(certificate), "--grpc-tls-key", str(key)], cwd=tmp_path)
    wait_for(lambda: listening(port), what="Veto's gRPC port")
    secure = grpc.secure_channel(f"localhost:{port}", grpc.ssl_channel_credentials(root_certificates=ca.read_bytes()))
    plain = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        call = secure.unary_unary(CHECK, request_serializer=None, response_deserializer=None)
        answer = check_response(call(check_request(headers=[("authorization", f"Bearer {keyring.token('RS256')}")]), timeout=5))
        assert answer["code"] == OK
        assert "(TLS)" in veto.logs()
        with pytest.raises(grpc.RpcError) as error:
            plain.unary_unary(CHECK, request_serializer=None, response_deserializer=None)(check_request(), timeout=2)
        assert error.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED), "no h2c beside TLS"
    finally:
        secure.close()
        plain.close()
        veto.stop()


def test_tls_settings_go_together_and_files_must_be_readable(veto_bin, keyring, tmp_path):
    (tmp_path / "x.pem").write_text("not read before the settings are checked\n")
    for args, field in ((["--grpc-tls-cert", "x.pem"], "go together"), (["--grpc-tls-cert", "x.pem", "--grpc-tls-key", "x.key"], "cannot read x.key")):
        p = subprocess.run([veto_bin, "serve", "--issuer", ISS, "--key", f"ES256:{keyring.dir / 'es256.pem'}", "--grpc-listen", "127.0.0.1:0",
                            *args], cwd=tmp_path, capture_output=True, text=True, timeout=30)
        assert p.returncode == 2 and field in p.stderr, p.stderr


def test_a_watch_says_not_serving_and_ends_when_the_server_drains(veto_bin, keyring, tmp_path):
    (tmp_path / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    port = free_port()
    veto = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", "RS256:rsa.pem", "--grpc-listen", f"127.0.0.1:{port}"],
                      cwd=tmp_path)
    wait_for(lambda: listening(port), what="Veto's gRPC port")
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        watch = channel.unary_stream("/grpc.health.v1.Health/Watch", request_serializer=None, response_deserializer=None)(b"", timeout=20)
        statuses = [first(parse(next(watch)), 1)]
        veto.process.send_signal(signal.SIGTERM)
        statuses += [first(parse(message), 1) for message in watch]
        assert statuses == [1, 2] and watch.code() == grpc.StatusCode.OK, "SERVING, then NOT_SERVING, then the call ends"
        assert veto.process.wait(timeout=20) == 0
    finally:
        channel.close()
        veto.stop()
