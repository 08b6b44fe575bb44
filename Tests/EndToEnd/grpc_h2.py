"""A raw HTTP/2 client for the gRPC refusal tests: frames written and read by hand (HPACK from the
`hpack` package that `h2` brings), so a test can do what a well-behaved client library refuses to:
ignore SETTINGS_MAX_CONCURRENT_STREAMS, reset streams in a loop, trickle a message, flood
CONTINUATION frames, or never finish a request."""
import socket
import struct
import time

import hpack

DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
NO_ERROR, PROTOCOL_ERROR, CANCEL, ENHANCE_YOUR_CALM = 0x0, 0x1, 0x8, 0xB
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
CHECK = "/envoy.service.auth.v3.Authorization/Check"
HEALTH = "/grpc.health.v1.Health/Check"


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def grpc_message(payload, compressed=False):
    return bytes([1 if compressed else 0]) + struct.pack(">I", len(payload)) + payload


class Stream:
    def __init__(self):
        self.headers, self.data, self.reset, self.ended = [], b"", None, False

    def header(self, name):
        return next((value for key, value in self.headers if key == name), None)


class RawH2:
    def __init__(self, port, preface=True, timeout=5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.encoder, self.decoder = hpack.Encoder(), hpack.Decoder()
        self.buffer, self.streams, self.goaway, self.closed = b"", {}, None, False
        self.block = None  # (stream, flags, fragments) while a header block continues
        if preface:
            self.send_raw(PREFACE + frame(SETTINGS, 0, 0))

    def send_raw(self, data):
        try:
            self.sock.sendall(data)
        except (ConnectionResetError, BrokenPipeError):
            self.closed = True

    def request_headers(self, path=CHECK, content_type="application/grpc", extra=()):
        fields = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "veto"),
                  ("content-type", content_type), ("te", "trailers"), *extra]
        return self.encoder.encode(fields)

    def headers(self, stream, end_stream=False, **fields):
        self.send_raw(frame(HEADERS, END_HEADERS | (END_STREAM if end_stream else 0), stream, self.request_headers(**fields)))

    def data(self, stream, payload, end_stream=True):
        self.send_raw(frame(DATA, END_STREAM if end_stream else 0, stream, payload))

    def call(self, stream, payload, path=CHECK, **fields):
        """One unary call; returns its Stream once answered."""
        self.headers(stream, path=path, **fields)
        self.data(stream, payload)
        return self.wait(lambda: stream in self.streams and (self.streams[stream].ended or self.streams[stream].reset is not None))[stream]

    def read_frame(self):
        while len(self.buffer) < 9 or len(self.buffer) < 9 + int.from_bytes(self.buffer[:3], "big"):
            chunk = self.sock.recv(65536)
            if not chunk:
                self.closed = True
                return None
            self.buffer += chunk
        length = int.from_bytes(self.buffer[:3], "big")
        kind, flags = self.buffer[3], self.buffer[4]
        stream = int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF
        payload, self.buffer = self.buffer[9:9 + length], self.buffer[9 + length:]
        return kind, flags, stream, payload

    def handle(self, kind, flags, stream, payload):
        if kind == SETTINGS and not flags & ACK:
            self.send_raw(frame(SETTINGS, ACK, 0))
        elif kind == PING and not flags & ACK:
            self.send_raw(frame(PING, ACK, 0, payload))
        elif kind == GOAWAY:
            self.goaway = (int.from_bytes(payload[:4], "big") & 0x7FFFFFFF, int.from_bytes(payload[4:8], "big"))
        elif kind in (HEADERS, CONTINUATION):
            fragments = (self.block[2] if self.block else b"") + payload
            block_flags = self.block[1] if self.block else flags
            self.block = None if flags & END_HEADERS else (stream, block_flags, fragments)
            if flags & END_HEADERS:
                entry = self.streams.setdefault(stream, Stream())
                entry.headers += [(str(k), str(v)) for k, v in self.decoder.decode(fragments)]
                entry.ended = entry.ended or bool(block_flags & END_STREAM)
        elif kind == DATA:
            entry = self.streams.setdefault(stream, Stream())
            entry.data += payload
            entry.ended = entry.ended or bool(flags & END_STREAM)
            if payload:
                self.send_raw(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", len(payload))))
        elif kind == RST_STREAM:
            self.streams.setdefault(stream, Stream()).reset = int.from_bytes(payload, "big")

    def wait(self, predicate, timeout=5):
        """Reads frames until `predicate()` holds (then returns the streams) or the server closes."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; streams {sorted(self.streams)}, goaway {self.goaway}, closed {self.closed}")
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                read = self.read_frame()
            except TimeoutError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                self.closed = True
                read = None
            if read is None:
                if not predicate():
                    raise AssertionError(f"the server closed the connection; goaway {self.goaway}")
                break
            self.handle(*read)
        return self.streams

    def wait_closed(self, timeout=5):
        """Reads until the server closes the connection; True if it did."""
        try:
            self.wait(lambda: self.closed, timeout)
        except AssertionError:
            pass
        return self.closed

    def close(self):
        self.sock.close()
