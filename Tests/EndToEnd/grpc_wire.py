"""Protocol Buffers on the wire, by hand, for the gRPC tests: Envoy's ext_authz CheckRequest and
CheckResponse and gRPC health messages, encoded and decoded from their field numbers alone, so the
tests do not share Veto's generated code (a wrong field number there would show here)."""
import struct


def varint(value):
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number, value):
    """A length-delimited field (bytes or str), or a varint field (int)."""
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def check_request(headers=None, raw_headers=None):
    """CheckRequest.attributes(1).request(4).http(2) with `headers` (map, field 3) and/or
    `raw_headers` (header_map, field 13: HeaderValue key 1, raw_value 3), both lists of pairs."""
    http = field(2, "GET") + field(4, "/orders/7")
    for name, value in headers or []:
        http += field(3, field(1, name) + field(2, value))
    if raw_headers is not None:
        http += field(13, b"".join(field(1, field(1, name) + field(3, value.encode())) for name, value in raw_headers))
    return field(1, field(4, field(2, http)))


def parse(data):
    """{field number: [values]}: ints for varints, floats for 64-bit fields, bytes otherwise."""
    fields, i = {}, 0

    def read_varint():
        nonlocal i
        shift = result = 0
        while True:
            byte = data[i]
            i += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return result

    while i < len(data):
        key = read_varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            value = read_varint()
        elif wire == 1:
            value = struct.unpack("<d", data[i:i + 8])[0]
            i += 8
        elif wire == 2:
            length = read_varint()
            value = data[i:i + length]
            i += length
        elif wire == 5:
            value = data[i:i + 4]
            i += 4
        else:
            raise ValueError(f"wire type {wire}")
        fields.setdefault(number, []).append(value)
    return fields


def first(fields, number, default=None):
    return fields.get(number, [default])[0]


def header_options(data_list):
    """repeated HeaderValueOption (header 1: key 1, value 2) as [(key, value)]."""
    pairs = []
    for option in data_list:
        header = parse(first(parse(option), 1, b""))
        pairs.append((first(header, 1, b"").decode(), first(header, 2, b"").decode()))
    return pairs


def struct_fields(data):
    """google.protobuf.Struct as a dict: strings (Value 3) and numbers (Value 2)."""
    result = {}
    for entry in parse(data).get(1, []):
        entry = parse(entry)
        value = parse(first(entry, 2, b""))
        result[first(entry, 1, b"").decode()] = first(value, 3).decode() if 3 in value else first(value, 2)
    return result


def check_response(data):
    """CheckResponse as a dict: code, message, and denied {status, headers, body} or ok {headers,
    headers_to_remove}, and metadata."""
    fields = parse(data)
    status = parse(first(fields, 1, b""))
    result = {"code": first(status, 1, 0), "message": first(status, 2, b"").decode(), "metadata": None}
    if 2 in fields:
        denied = parse(fields[2][0])
        result["denied"] = {"status": first(parse(first(denied, 1, b"")), 1, 0), "headers": header_options(denied.get(2, [])),
                            "body": first(denied, 3, b"").decode()}
    if 3 in fields:
        ok = parse(fields[3][0])
        result["ok"] = {"headers": header_options(ok.get(2, [])), "headers_to_remove": [h.decode() for h in ok.get(5, [])]}
    if 4 in fields:
        result["metadata"] = struct_fields(fields[4][0])
    return result
