"""probe.py — what another user of the node tries against a farm
(tests/adversary/run-all.sh runs it as that user). It speaks the farm's
protocol (docs/protocol.md) with pyzmq from Debian, holding whatever keys
the test hands it, and prints one line that says what the broker did.

  probe.py submit RECORD ROLE [ROUTING_ID_HEX]
      HELLO as a driver with ROLE's keys from RECORD (a farm record or join
      credential: status, control, worker or nested), then one SUBMIT:
      prints "refused: TEXT" (a DONE error came back), "answered" (a DONE
      result came back) or "silent" (nothing within $PROBE_WAIT s, default 3).
  probe.py drain RECORD ROLE SELECTOR
      a DRAIN: prints "drained N" or "silent".
  probe.py hello RECORD ROLE HOST_HEX
      HELLO as a worker whose host is the bytes HOST_HEX, then heartbeats
      for 3 s: prints "welcomed" or "refused".
  probe.py listen PATH SECONDS
      listens on a Unix socket at PATH (mode 0777), as a broker would, for
      SECONDS or until the members it accepted have closed: prints
      "accepted A, read B bytes" (what they sent it).
  probe.py flood HOST PORT CONNECTIONS FRAME_BYTES SEND_BYTES SECONDS
      opens CONNECTIONS plain TCP connections at once; each sends a ZMTP
      3.0 greeting for CURVE and a command frame announcing FRAME_BYTES,
      then up to SEND_BYTES of it, never finishing, and waits up to SECONDS
      for the broker to close it: prints "closed C of N, sent B bytes".
"""
import os
import select
import socket
import struct
import sys
import time

HEADER = b"EF" + bytes([int(os.environ.get("PROBE_PROTOCOL", "7"))])  # the farm's (evo-farm --version)
HELLO, WELCOME, HEARTBEAT, SUBMIT, DONE, BYE, RESET, DRAIN, DRAINED = 1, 2, 3, 6, 7, 10, 11, 15, 16
WAIT = float(os.environ.get("PROBE_WAIT", "3"))  # seconds for an answer
PREFIX = {"status": "", "control": "control_", "worker": "", "nested": "nested_"}


def keys(record, role):
    """(endpoint, server key, public, secret) of ROLE in a record."""
    lines = dict(line.rstrip("\n").split(" ", 1) for line in open(record) if " " in line)
    prefix = PREFIX[role]
    endpoint = lines["endpoints"].split(",")[0]
    return endpoint, lines["server"], lines[prefix + "public"], lines[prefix + "secret"]


def dealer(record, role, routing_id=None):
    import zmq
    endpoint, server, public, secret = keys(record, role)
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.curve_serverkey, s.curve_publickey, s.curve_secretkey = server.encode(), public.encode(), secret.encode()
    if routing_id:
        s.setsockopt(zmq.ROUTING_ID, bytes.fromhex(routing_id))
    s.connect(endpoint)
    return s


def send(s, kind, body=None):
    s.send_multipart([HEADER + bytes([kind])] + ([body] if body is not None else []))


def hello_body(kind, host=b"probe"):
    """HELLO (docs/protocol.md): no job, and no key (that is for Unix
    streams; protocol 6, whose HELLO ends at the job, has none)."""
    end = struct.pack("<HB", 0, 0) if HEADER[2] >= 7 else struct.pack("<H", 0)
    return struct.pack("<BBIH", kind, 0, os.getpid(), len(host)) + host + end


def replies(s, seconds):
    """Every message the broker sends within SECONDS: (type, body)."""
    import zmq
    until = time.time() + seconds
    while time.time() < until:
        if s.poll(int(max(0, until - time.time()) * 1000), zmq.POLLIN):
            frames = s.recv_multipart()
            yield frames[0][3], frames[1] if len(frames) > 1 else b""


def submit(record, role, routing_id=None):
    s = dealer(record, role, routing_id)
    send(s, HELLO, hello_body(2))
    send(s, SUBMIT, struct.pack("<IQBI", 1, 7, 1, 3) + b"abc")
    got = []
    for kind, body in replies(s, WAIT):
        got.append(kind)
        if kind == DONE:
            status = body[12]
            if status == 2:
                text_size = struct.unpack_from("<H", body, 13)[0]
                return "refused: " + body[15:15 + text_size].decode(errors="replace")
            return "answered"
    return "silent" if not got or got == [WELCOME] else "silent after %s" % got


def drain(record, role, selector):
    s = dealer(record, role)
    send(s, HELLO, hello_body(2))
    send(s, DRAIN, struct.pack("<H", len(selector)) + selector.encode())
    for kind, body in replies(s, WAIT):
        if kind == DRAINED:
            return "drained %d" % struct.unpack("<I", body)[0]
    return "silent"


def hello(record, role, host_hex):
    s = dealer(record, role)
    send(s, HELLO, hello_body(1, bytes.fromhex(host_hex)))
    welcomed = False
    until = time.time() + 3
    while time.time() < until:
        for kind, _ in replies(s, 0.2):
            welcomed = welcomed or kind == WELCOME
            if kind in (BYE, RESET):
                return "refused"
        send(s, HEARTBEAT)
    return "welcomed" if welcomed else "refused"


def flood(host, port, connections, frame_bytes, send_bytes, seconds):
    greeting = b"\xff" + b"\0" * 8 + b"\x7f" + b"\x03\x00" + b"CURVE".ljust(20, b"\0") + b"\0" + b"\0" * 31
    frame = b"\x06" + struct.pack(">Q", frame_bytes)
    socks = []
    for _ in range(connections):
        c = socket.create_connection((host, int(port)))
        c.setblocking(False)
        socks.append([c, greeting + frame, 0, False])
    chunk = b"\0" * (1 << 20)
    sent = 0
    until = time.time() + seconds
    while time.time() < until and not all(closed for _, _, _, closed in socks):
        live = [e for e in socks if not e[3]]
        readable, writable, _ = select.select([e[0] for e in live], [e[0] for e in live if e[2] < send_bytes], [],
                                              0.2)
        for e in live:
            c = e[0]
            if c in readable:
                try:
                    if c.recv(65536) == b"":
                        e[3] = True
                except OSError:
                    e[3] = True
            if c in writable and not e[3]:
                data = e[1] if e[1] else chunk[:min(len(chunk), send_bytes - e[2])]
                try:
                    n = c.send(data)
                except OSError:
                    e[3] = True
                    continue
                if e[1]:
                    e[1] = e[1][n:]
                else:
                    e[2] += n
                    sent += n
    closed = sum(1 for e in socks if e[3])
    return "closed %d of %d, sent %d bytes" % (closed, connections, sent)


def listen(path, seconds):
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    os.chmod(path, 0o777)
    server.listen(16)
    accepted, read, conns = 0, 0, []
    until = time.time() + float(seconds)
    while time.time() < until:
        ready, _, _ = select.select([server] + conns, [], [], 0.1)
        for c in ready:
            if c is server:
                conns.append(server.accept()[0])
                accepted += 1
                continue
            try:
                data = c.recv(65536)
            except OSError:
                data = b""
            read += len(data)
            if not data:
                conns.remove(c)
        if accepted and not conns:  # the member has gone
            break
    return "accepted %d, read %d bytes" % (accepted, read)


def main(argv):
    what = argv[1]
    if what == "submit":
        print(submit(*argv[2:5]))
    elif what == "drain":
        print(drain(*argv[2:5]))
    elif what == "hello":
        print(hello(*argv[2:5]))
    elif what == "listen":
        print(listen(argv[2], argv[3]))
    elif what == "flood":
        print(flood(argv[2], argv[3], *map(int, argv[4:8])))
    else:
        sys.exit("probe.py: unknown probe %s" % what)
    sys.stdout.flush()
    os._exit(0)  # no lingering ZeroMQ context


if __name__ == "__main__":
    main(sys.argv)
