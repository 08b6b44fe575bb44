"""Issue 12, finding 1: one flipped bit in the embedded journal silently dropped every later revocation.

Now a damaged journal stops `veto serve` with the file, the offset and what was found, and is left
byte for byte as it was; read-only `veto blocklist` commands never write; `veto blocklist repair`
moves the damage aside on request and names the records it gave up. Only a torn tail (a crash during
a write) is still cut off by itself."""
import struct
import subprocess
from pathlib import Path

import pytest

from conftest import AUD, ISS
from services import VetoServer, free_port, request


def records(data):
    """(start, payload start, end) of every record, in either journal format version."""
    header = 8 if data[:8] == b"VETOJNL1" else 12
    found, offset = [], 8
    while offset + header <= len(data):
        length = struct.unpack_from("<I", data, offset)[0]
        found.append((offset, offset + header, offset + header + length))
        offset += header + length
    return found


def snapshot(path):
    stat = path.stat()
    return path.read_bytes(), stat.st_size, stat.st_mtime_ns


@pytest.fixture
def logged_out(veto_bin, keyring, tmp_path):
    """Six tokens logged out (POST /v1/revoke) against an embedded store, then SIGTERM."""
    (tmp_path / keyring.files["ES256"]).write_bytes((keyring.dir / keyring.files["ES256"]).read_bytes())
    args = ["--issuer", ISS, "--audience", AUD, "--key", keyring.files["ES256"], "--data-dir", "data"]
    tokens = [keyring.token("ES256", jti=f"logout-{n}") for n in range(1, 7)]
    server = VetoServer(veto_bin, args, cwd=tmp_path)
    try:
        for token in tokens:
            assert request(server.port, "POST", "/v1/revoke", token)[0] == 200
    finally:
        assert server.stop() == 0, server.logs()
    journal = tmp_path / "data" / "blocklist.journal"
    assert len(records(journal.read_bytes())) == 6
    return args, tokens, journal


def serve_once(veto_bin, args, cwd):
    """`veto serve` that is expected to refuse to start: its exit status and output."""
    try:
        p = subprocess.run([veto_bin, "serve", "--listen", f"127.0.0.1:{free_port()}", *args], cwd=cwd,
                           capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        raise AssertionError("veto serve started on a damaged journal (still running after 30 s)")
    return p.returncode, p.stdout + p.stderr


def check(port, token):
    return request(port, "GET", "/v1/check", token)[0]


def flip(journal, offset, mask):
    data = bytearray(journal.read_bytes())
    data[offset] ^= mask
    journal.write_bytes(bytes(data))
    return snapshot(journal)


def test_finding_01_flipped_length_bit_refuses_start_and_leaves_the_file(veto_bin, logged_out, tmp_path):
    args, _, journal = logged_out
    second = records(journal.read_bytes())[1][0]
    before = flip(journal, second + 1, 0x10)  # the second record's length now runs past the end of the file
    status, output = serve_once(veto_bin, args, tmp_path)
    assert status != 0, output
    assert "blocklist.journal" in output and f"damaged at byte {second}" in output, output
    assert "veto blocklist repair" in output, output
    assert snapshot(journal) == before, "the damaged journal must be left byte for byte as it was"


def test_finding_01_flipped_payload_bit_in_the_last_record_refuses_start(veto_bin, logged_out, tmp_path):
    args, _, journal = logged_out
    last = records(journal.read_bytes())[-1]
    before = flip(journal, last[1] + 30, 0x02)
    status, output = serve_once(veto_bin, args, tmp_path)
    assert status != 0, output
    assert f"damaged at byte {last[0]}" in output and "payload fails its checksum" in output, output
    assert snapshot(journal) == before


def test_finding_01_sampled_bit_flips_refuse_or_keep_every_revocation(veto_bin, logged_out, tmp_path):
    """Every bit of the second record's length field, and a stride of bits over the whole file: veto
    serve either refuses to start, leaving the file as it was, or refuses every logged-out token."""
    args, tokens, journal = logged_out
    original = journal.read_bytes()
    length_field = records(original)[1][0]
    bits = sorted(set(range(length_field * 8, length_field * 8 + 32)) | set(range(5, len(original) * 8, 211)))
    losses = []
    for bit in bits:
        damaged = bytearray(original)
        damaged[bit // 8] ^= 1 << (bit % 8)
        journal.write_bytes(bytes(damaged))
        try:
            server = VetoServer(veto_bin, args, cwd=tmp_path)
        except AssertionError as refused:
            assert "blocklist.journal is damaged" in str(refused), str(refused)
            assert journal.read_bytes() == bytes(damaged), f"bit {bit}: refused, but the file was changed"
            continue
        try:
            statuses = [check(server.port, t) for t in tokens]
        finally:
            server.stop()
        if statuses != [401] * 6:
            losses.append(f"bit {bit % 8} of byte {bit // 8}: started, checks {statuses}")
    assert not losses, f"silent loss after {len(losses)} of {len(bits)} flips: {losses[:5]}"


def test_finding_01_read_only_commands_never_write(veto, logged_out, tmp_path):
    _, _, journal = logged_out
    second = records(journal.read_bytes())[1][0]
    before = flip(journal, second + 1, 0x10)
    listing = sorted(p.name for p in journal.parent.iterdir())
    for command in (["count"], ["ls"], ["show", "logout-3", "--iss", ISS]):
        p = veto("blocklist", *command, "--data-dir", "data")
        assert p.returncode == 3, (command, p.stdout, p.stderr)
        assert f"damaged at byte {second}" in p.stderr, p.stderr
        assert snapshot(journal) == before, f"`veto blocklist {command[0]}` changed the journal"
        assert sorted(p.name for p in journal.parent.iterdir()) == listing
    # A missing data dir is an error, not a new directory.
    p = veto("blocklist", "count", "--data-dir", "nowhere")
    assert p.returncode == 3 and "there is no data dir" in p.stderr, p.stderr
    assert not (tmp_path / "nowhere").exists()


def test_finding_01_repair_moves_the_damage_aside_and_the_server_starts(veto_bin, veto, logged_out, tmp_path):
    args, tokens, journal = logged_out
    layout = records(journal.read_bytes())
    second, third = layout[1][0], layout[2][0]
    damaged, _, _ = flip(journal, second + 1, 0x10)

    dry = veto("blocklist", "repair", "--data-dir", "data", "--dry-run")
    assert dry.returncode == 1, dry.stdout + dry.stderr
    assert journal.read_bytes() == damaged and not list(journal.parent.glob("*.damaged-*"))

    repair = veto("blocklist", "repair", "--data-dir", "data")
    assert repair.returncode == 1, repair.stdout + repair.stderr
    assert f"bytes {second}..<{third}" in repair.stdout, repair.stdout
    assert 'jti "logout-2"' in repair.stdout, repair.stdout
    [side] = journal.parent.glob("blocklist.journal.damaged-*")
    assert side.name.endswith(f"-at-{second}") and side.read_bytes() == damaged[second:third]

    server = VetoServer(veto_bin, args, cwd=tmp_path)
    try:
        assert [check(server.port, t) for t in tokens] == [401, 200, 401, 401, 401, 401]
        # The operator revokes what repair reported as given up.
        assert request(server.port, "POST", "/v1/revoke", tokens[1])[0] == 200
        assert check(server.port, tokens[1]) == 401
        # Repair refuses while the server holds the data dir.
        busy = veto("blocklist", "repair", "--data-dir", "data")
        assert busy.returncode == 3 and "in use by another process" in busy.stderr, busy.stderr
    finally:
        assert server.stop() == 0, server.logs()
    clean = veto("blocklist", "repair", "--data-dir", "data")
    assert clean.returncode == 0 and "Nothing to repair" in clean.stdout, clean.stdout + clean.stderr


def test_finding_01_torn_tail_is_still_dropped_with_a_warning(veto_bin, logged_out, tmp_path):
    args, tokens, journal = logged_out
    data = journal.read_bytes()
    journal.write_bytes(data[:-5])  # a crash in the middle of appending the last record
    server = VetoServer(veto_bin, args, cwd=tmp_path)
    try:
        assert [check(server.port, t) for t in tokens] == [401] * 5 + [200]
        assert "torn last record" in server.logs(), server.logs()
    finally:
        server.stop()
    assert journal.read_bytes() == data[:records(data)[-1][0]]
