"""The configuration of issue 16's receivers (contract §2): a bad one stops `veto serve` with exit 2
and names the field; a transmitter that is down at start-up does not stop the service, and the stream
is created once it is up."""
import subprocess
import textwrap

import pytest

from replica_kit import running
from services import free_port, request, wait_for
from signals_kit import PUSH_METHOD, OpenIDProvider, start_veto
from ssf_kit import Transmitter

ISSUER = """
issuers:
  - issuer: https://op.test
    audiences: [api]
    keys: [RS256:op.pem]
"""
RECEIVER = ISSUER + """
ssf:
  receivers:
    - issuer: https://tx.test
      audience: https://veto.test/ssf
      jwks_url: http://127.0.0.1:9/jwks
"""

# case -> (configuration, the field the error names: under ssf.receivers[0]. unless it says otherwise)
BAD = {
    "push_authorization_file/missing-file": (RECEIVER + "      push_authorization_file: nowhere.auth\n", "push_authorization_file"),
    "push_authorization_file/absent": (RECEIVER + "      delivery: push\n", "push_authorization_file"),
    "manage_token_file/missing-file": (RECEIVER + "      push_authorization_file: push.auth\n      manage_token_file: nowhere\n",
                                       "manage_token_file"),
    "read_token_file/missing-file": (RECEIVER + "      delivery: poll\n      poll_url: http://127.0.0.1:9/poll\n"
                                     "      read_token_file: nowhere\n", "read_token_file"),
    "poll_url/absent": (RECEIVER + "      delivery: poll\n      read_token_file: push.auth\n", "poll_url"),
    "delivery/unknown": (RECEIVER + "      push_authorization_file: push.auth\n      delivery: carrier-pigeon\n", "delivery"),
    "stream/unknown": (RECEIVER + "      push_authorization_file: push.auth\n      stream: delete\n", "stream"),
    "unknown-key": (RECEIVER + "      push_authorization_file: push.auth\n      colour: blue\n", "colour"),
    "issuer/absent": (ISSUER + "ssf:\n  receivers:\n    - audience: https://veto.test/ssf\n      push_authorization_file: push.auth\n",
                      "issuer"),
    "audience/absent": (ISSUER + "ssf:\n  receivers:\n    - issuer: https://tx.test\n      push_authorization_file: push.auth\n",
                        "audience"),
    "backchannel_logout/no-audiences": (ISSUER + "    backchannel_logout: {}\n", "issuers[0].backchannel_logout.audiences"),
    "backchannel_logout/unknown-key": (ISSUER + "    backchannel_logout:\n      audiences: [client-a]\n      colour: blue\n",
                                       "issuers[0].backchannel_logout.colour"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_configuration_exits_2_naming_the_field(veto_bin, keyring, tmp_path, case):
    text, field = BAD[case]
    field = field if field.startswith("issuers[") else f"ssf.receivers[0].{field}"
    (tmp_path / "op.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    (tmp_path / "push.auth").write_text("Bearer push-secret\n")
    (tmp_path / "veto.yaml").write_text(textwrap.dedent(text))
    try:
        result = subprocess.run([veto_bin, "serve", "--config", "veto.yaml", "--data-dir", "data", "--listen",
                                 f"127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=20, cwd=tmp_path)
    except subprocess.TimeoutExpired:
        pytest.fail(f"veto serve accepted the configuration ({case}) and ran")
    assert result.returncode == 2, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert field in result.stderr, result.stderr


def test_a_transmitter_down_at_start_up_does_not_stop_the_service(veto_bin, tmp_path):
    """`stream: create` against a transmitter that is not listening yet: Veto starts and is ready, and
    creates the stream in the background once the transmitter answers (on the same port)."""
    with running() as keep:
        op = keep(OpenIDProvider())
        tx = keep(Transmitter())
        tx.stop()
        (tmp_path / "push.auth").write_text("Bearer push-secret-0123456789\n")
        (tmp_path / "manage.token").write_text(tx.manage_token + "\n")
        server = keep(start_veto(veto_bin, tmp_path, f"""
issuers:
  - issuer: {op.issuer}
    audiences: [api]
    jwks_url: {op.jwks_url}
ssf:
  receivers:
    - issuer: {tx.issuer}
      audience: {tx.audience}
      configuration_url: {tx.configuration_url}
      push_authorization_file: push.auth
      manage_token_file: manage.token
      stream: create
      push_endpoint_url: https://veto.example.com/ssf/events
""", "embedded"))
        assert request(server.port, "GET", "/readyz")[0] == 200
        tx.start()
        wait_for(lambda: tx.streams, timeout=40, what="the stream to be created once the transmitter is up")
        [stream] = tx.streams.values()
        assert stream["delivery"]["method"] == PUSH_METHOD
        assert stream["delivery"]["endpoint_url"] == "https://veto.example.com/ssf/events"
        assert request(server.port, "GET", "/readyz")[0] == 200
