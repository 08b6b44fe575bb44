"""Regressions for what checking the OpenAPI contract found (schemathesis, and Caddy for the
identity headers), over real HTTP against the built binary."""
import base64
import json
import os

import pytest

from conftest import AUD, ISS
from services import VetoServer, request


@pytest.fixture(scope="module")
def server(veto_bin, keyring, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("fixes")
    (workdir / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    admin = "admin-" + os.urandom(16).hex()
    (workdir / "admin.token").write_text(admin)
    veto = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", "RS256:rsa.pem", "--admin-token-file", "admin.token"],
                      cwd=workdir)
    veto.admin = admin
    yield veto
    veto.stop()


@pytest.mark.parametrize("method, path, allowed", [
    ("TRACE", "/healthz", "GET, HEAD"),
    ("POST", "/metrics", "GET, HEAD"),
    ("PUT", "/v1/revoke", "POST"),
    ("GET", "/v1/revoke", "POST"),
    ("DELETE", "/oauth2/introspect", "POST"),
    ("PATCH", "/v1/admin/revocations", "GET, HEAD, POST, DELETE"),
])
def test_a_known_path_answers_other_methods_with_405_and_allow(server, method, path, allowed):
    # Found by schemathesis (unsupported_method): these were bare 404s without Allow (RFC 9110 §15.5.6).
    status, headers, body = request(server.port, method, path)
    assert status == 405
    assert headers["allow"] == allowed
    assert json.loads(body)["error"] == "method_not_allowed"


def test_head_is_answered_wherever_get_is(server):
    for path in ("/healthz", "/openapi.json", "/"):
        status, headers, body = request(server.port, "HEAD", path)
        assert status == 200 and body == b"", path


def test_an_unknown_path_is_a_json_404(server):
    status, headers, body = request(server.port, "GET", "/v2/nothing")
    assert status == 404 and headers["content-type"] == "application/json"
    assert json.loads(body)["error"] == "not_found"


def introspect(server, body):
    basic = "Bearer " + server.admin
    return request(server.port, "POST", "/oauth2/introspect", body=body,
                   headers={"Authorization": basic, "Content-Type": "application/x-www-form-urlencoded"})


def test_oauth_endpoints_ignore_unrecognized_parameters(server, keyring):
    # Found by schemathesis (positive_data_acceptance): a repeated or badly encoded *unrecognized*
    # parameter was a 400; RFC 6749 §3.1 says to ignore unrecognized parameters.
    token = keyring.token("RS256")
    status, _, body = introspect(server, f"token={token}&extra=1&extra=2&odd=%ZZ&%ZZ=x")
    assert status == 200 and json.loads(body)["active"] is True
    status, _, body = introspect(server, f"token={token}&token={token}")
    assert status == 400 and "appears twice" in json.loads(body)["message"]
    status, _, body = introspect(server, "token=%ZZ")
    assert status == 400


def test_identity_headers_are_always_sent_so_gateways_overwrite_forged_ones(server, keyring):
    # Found with Caddy: a header missing from Veto's 200 left the client's value (or a placeholder).
    status, headers, _ = request(server.port, "GET", "/v1/check", keyring.token("RS256", sub=None))
    assert status == 200
    assert headers["x-auth-subject"] == "" and headers["x-auth-issuer"] == ISS and headers["x-auth-jti"]
