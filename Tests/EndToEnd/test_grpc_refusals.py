"""The gRPC server refusing what it must not answer, and standing up to hostile clients: unknown
methods, messages that are not messages, compression, oversized messages, too many streams, reset
and CONTINUATION floods, oversized header blocks, trickled requests, idle connections and too many
connections. Friendly clients are grpcio; hostile ones write HTTP/2 frames by hand (grpc_h2.py).
After each, the HTTP data plane still answers and the process is alive."""
import struct

import grpc
import pytest

from conftest import AUD, ISS
from grpc_h2 import (CANCEL, CHECK, CONTINUATION, ENHANCE_YOUR_CALM, HEADERS, HEALTH, PROTOCOL_ERROR, RST_STREAM, RawH2, frame,
                     grpc_message)
from grpc_wire import check_request, check_response
from services import Redis, VetoServer, free_port, listening, request, wait_for

OK, INVALID_ARGUMENT, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNIMPLEMENTED = "0", "3", "4", "8", "12"
MAX_CONNECTIONS = 12


@pytest.fixture(scope="module")
def server(veto_bin, keyring, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("grpc-refusals")
    (workdir / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    redis = Redis()
    port = free_port()
    (workdir / "veto.yaml").write_text(
        f"issuers:\n  - issuer: {ISS}\n    audiences: [{AUD}]\n    keys: [RS256:rsa.pem]\nredis:\n  url: {redis.url}\n"
        f"grpc:\n  listen: 127.0.0.1:{port}\n"
        f"limits:\n  idle_timeout: 2\n  request_timeout: 1\n  max_connections: {MAX_CONNECTIONS}\n")
    veto = VetoServer(veto_bin, ["--config", "veto.yaml"], cwd=workdir)
    wait_for(lambda: listening(port), what="Veto's gRPC port")
    try:
        yield {"port": port, "veto": veto}
    finally:
        veto.stop()
        redis.stop()


@pytest.fixture(autouse=True)
def still_serving(server, keyring):
    """Whatever a test did, both planes answer afterwards and the process is alive."""
    yield
    assert server["veto"].process.poll() is None, server["veto"].logs()[-3000:]
    assert request(server["veto"].port, "GET", "/v1/check", keyring.token("RS256"))[0] == 200
    # A connection slot a test just gave up is released when Veto has seen the close: retry a moment.
    wait_for(lambda: health_served(server["port"]), what="a gRPC health check answered")


def health_served(port):
    client = RawH2(port)
    try:
        return client.call(1, grpc_message(b""), path=HEALTH).header("grpc-status") == OK
    except AssertionError:  # closed at once: over limits.max_connections still
        return False
    finally:
        client.close()


def call(port, method, message, **options):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        return channel.unary_unary(method, request_serializer=None, response_deserializer=None)(message, timeout=10, **options)


def refused(port, method, message, **options):
    with pytest.raises(grpc.RpcError) as error:
        call(port, method, message, **options)
    return error.value


def test_an_unknown_method_is_unimplemented(server):
    error = refused(server["port"], "/envoy.service.auth.v3.Authorization/Nope", b"")
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED and "Nope" in error.details()


def test_a_message_that_is_not_a_check_request_is_invalid_argument(server):
    for message in (b"\x0a\xff", b"\x0f", b"\x0a\x02\x22\x01"):
        assert refused(server["port"], CHECK, message).code() == grpc.StatusCode.INVALID_ARGUMENT
    assert check_response(call(server["port"], CHECK, check_request()))["code"] == 16, "and a good one is still answered"


def test_an_oversized_message_is_resource_exhausted(server):
    error = refused(server["port"], CHECK, b"\x00" * (4 * 1024 * 1024 + 1))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "4194304" in error.details()


def test_refused_messages_do_not_use_up_the_connection_window(server):
    """Bytes the client sent after a refusal are dropped by NIO but count against the connection's
    window: Veto must grant them back, or the connection stalls after a few refusals."""
    with grpc.insecure_channel(f"127.0.0.1:{server['port']}") as channel:
        check = channel.unary_unary(CHECK, request_serializer=None, response_deserializer=None)
        for _ in range(6):
            with pytest.raises(grpc.RpcError) as error:
                check(b"\x00" * (4 * 1024 * 1024 + 1), timeout=10)
            assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert check_response(check(check_request(), timeout=10))["code"] == 16


def test_compressed_messages_are_refused(server):
    error = refused(server["port"], CHECK, check_request(), compression=grpc.Compression.Gzip)
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED and "compression" in error.details()
    client = RawH2(server["port"])
    try:
        answer = client.call(1, grpc_message(check_request(), compressed=True))
        assert answer.header("grpc-status") == UNIMPLEMENTED and "compress" in answer.header("grpc-message")
    finally:
        client.close()


def test_bad_framing_is_invalid_argument_and_the_connection_stays(server):
    client = RawH2(server["port"])
    try:
        good = grpc_message(check_request())
        for stream, payload in ((1, good[:3]), (3, good[:-1]), (5, good + grpc_message(b"")), (7, bytes([2]) + good[1:])):
            assert client.call(stream, payload).header("grpc-status") == INVALID_ARGUMENT, stream
        client.headers(9, end_stream=True)
        assert client.wait(lambda: 9 in client.streams and client.streams[9].ended)[9].header("grpc-status") == INVALID_ARGUMENT
        assert client.call(11, good).header("grpc-status") == OK
    finally:
        client.close()


def test_a_request_that_is_not_grpc_is_415(server):
    client = RawH2(server["port"])
    try:
        assert client.call(1, b"{}", content_type="application/json").header(":status") == "415"
    finally:
        client.close()


def test_streams_beyond_the_limit_close_that_connection(server):
    client = RawH2(server["port"])
    try:
        for stream in range(1, 2 * 101, 2):  # before reading Veto's SETTINGS: no client-side limit applies
            client.headers(stream, path=HEALTH)
        # NIO treats a stream over SETTINGS_MAX_CONCURRENT_STREAMS as a connection error.
        assert client.wait_closed() and client.goaway is not None and client.goaway[1] == PROTOCOL_ERROR
    finally:
        client.close()


def test_a_client_within_the_limit_gets_every_call_answered(server):
    with grpc.insecure_channel(f"127.0.0.1:{server['port']}") as channel:
        health = channel.unary_unary(HEALTH, request_serializer=None, response_deserializer=None)
        calls = [health.future(b"", timeout=20) for _ in range(250)]  # grpcio queues what is over 100
        assert all(call.result() == b"\x08\x01" for call in calls)


def test_a_reset_flood_closes_that_connection_only(server):
    client = RawH2(server["port"])
    try:
        for stream in range(1, 2 * 400, 2):
            client.headers(stream)
            client.send_raw(frame(RST_STREAM, 0, stream, struct.pack(">I", CANCEL)))
        assert client.wait_closed(), "the connection survived 400 resets"
        assert client.goaway is not None and client.goaway[1] == ENHANCE_YOUR_CALM
    finally:
        client.close()


def test_a_continuation_flood_closes_that_connection(server):
    client = RawH2(server["port"])
    try:
        block = client.request_headers(extra=[("x-pad", "a" * 40)])
        client.send_raw(frame(HEADERS, 0, 1, block[:8]))
        for _ in range(20):
            client.send_raw(frame(CONTINUATION, 0, 1, b""))
        assert client.wait_closed(), "the connection survived 20 empty CONTINUATION frames"
        assert client.goaway is not None
    finally:
        client.close()


def test_an_oversized_header_block_is_not_answered(server):
    client = RawH2(server["port"])
    try:
        client.headers(1, extra=[("x-big", "b" * 40_000)])  # SETTINGS_MAX_HEADER_LIST_SIZE is 16 KiB
        client.data(1, grpc_message(check_request()))
        assert client.wait_closed(), "the connection survived a 40 KB header block"
        assert 1 not in client.streams or client.streams[1].header("grpc-status") is None
    finally:
        client.close()


def test_a_trickled_request_times_out(server):
    client = RawH2(server["port"])
    try:
        client.headers(1)
        client.data(1, grpc_message(check_request())[:4], end_stream=False)
        answer = client.wait(lambda: 1 in client.streams and client.streams[1].reset is not None, timeout=5)[1]
        assert answer.header("grpc-status") == DEADLINE_EXCEEDED
    finally:
        client.close()


def test_idle_and_silent_connections_are_closed(server):
    idle, silent = RawH2(server["port"]), RawH2(server["port"], preface=False)
    try:
        assert idle.call(1, grpc_message(b""), path=HEALTH).header("grpc-status") == OK
        assert idle.wait_closed(timeout=6) and idle.goaway == (1, 0), "GOAWAY naming the last stream, then close"
        assert silent.wait_closed(timeout=6), "a connection that never speaks HTTP/2 is closed too"
    finally:
        idle.close()
        silent.close()


def test_connections_beyond_the_limit_are_closed_at_once(server):
    held = [RawH2(server["port"]) for _ in range(MAX_CONNECTIONS)]
    try:
        for client in held:
            assert client.call(1, grpc_message(b""), path=HEALTH).header("grpc-status") == OK
        extra = RawH2(server["port"])
        assert extra.wait_closed(timeout=2) and not extra.streams, "one connection too many"
        extra.close()
        metrics = request(server["veto"].port, "GET", "/metrics")[2].decode()
        refused_total = next(line for line in metrics.splitlines() if line.startswith("veto_connections_refused_total"))
        assert float(refused_total.split()[-1]) >= 1
    finally:
        for client in held:
            client.close()
    wait_for(lambda: health_served(server["port"]), what="a slot again")
