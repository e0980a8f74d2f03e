#!/usr/bin/python3
"""make-seeds.py — writes the hand-made seeds of the fuzz targets that take
binary input into tests/fuzz/corpus/NAME/ (the config seeds are YAML files
kept as they are). Each seed walks a valid path of its target, in the layout
that target's comment describes. Run from the repository root after a
change of layout: python3 tests/fuzz/make-seeds.py"""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data)


u8 = lambda v: struct.pack("<B", v)
u16 = lambda v: struct.pack("<H", v)
u32 = lambda v: struct.pack("<I", v)
u64 = lambda v: struct.pack("<Q", v)
f64 = lambda v: struct.pack("<d", v)


def proto():
    # first byte: HEADER, HELLO, WELCOME, INPUTS, IDS, BLOCKED, SHARE, STATS, RESULTS, DONE, DRAIN, DRAINED
    write("proto", "header", u8(0) + b"EF\x04\x04")
    write("proto", "hello", u8(1) + u8(1) + u32(4242) + u16(5) + b"node1" + u16(0) + u8(0))
    write("proto", "hello-job", u8(1) + u8(1) + u32(4242) + u16(5) + b"node1" + u16(6) + b"4242.0" + u8(0))
    key = b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
    write("proto", "hello-key", u8(1) + u8(2) + u32(4242) + u16(5) + b"node1" + u16(0) + u8(len(key)) + key)
    write("proto", "drain", u8(10) + u16(6) + b"4242.0")
    write("proto", "drained", u8(11) + u32(3))
    write("proto", "welcome", u8(2) + u32(1000) + u32(3) + u32(7))
    vec = u64(1) + u8(0) + u32(2) + f64(1.5) + f64(-2.0)
    pay = u64(2) + u8(1) + u32(3) + b"abc"
    write("proto", "inputs", u8(3) + u32(2) + vec + pay)
    write("proto", "ids", u8(4) + u32(2) + u64(5) + u64(6))
    write("proto", "blocked", u8(5) + u8(1) + u32(1) + u32(1) + u64(9))
    write("proto", "share", u8(6) + u8(5) + b"const" + u32(4) + b"\x00\x01\x02\x03")
    stats = u32(2) + u32(1) + b"".join(u64(i) for i in range(9)) + f64(12.5) + u32(1) + u16(5) + b"node1" + u32(2)
    write("proto", "stats", u8(7) + stats)
    ok = u64(1) + u8(0) + u8(2) + f64(0.5) + f64(1.0)
    payload = u64(2) + u8(3) + u32(2) + b"ok"
    failed = u64(3) + u8(1) + u16(4) + b"oops"
    write("proto", "results", u8(8) + u64(123456) + u32(3) + ok + payload + failed)
    big = b"".join(u64(10 + i) + u8(3 if i % 2 else 5) + u32(200) + bytes([i]) * 200 for i in range(4))
    write("proto", "results-pieces", u8(8) + u64(99) + u32(5) + big + failed)  # cut into pieces (a 5: unkept)
    error = u64(3) + u8(2) + u16(4) + b"gave"
    withdrawn = u64(4) + u8(4)
    write("proto", "done", u8(9) + u32(4) + ok + payload + error + withdrawn)


def eval_codec():
    # codec (0 text, 1 binary, 2 frames), objectives - 1, chunk count, u16 chunks, stream
    def seed(name, codec, objectives, chunks, stream):
        write("eval_codec", name,
              u8(codec) + u8(objectives - 1) + u8(len(chunks)) + b"".join(u16(c) for c in chunks) + stream)
    seed("text", 0, 2, [3, 7], b"1.5 2\nerror: it broke\r\n  0x1p-3 -4e2 \n")
    seed("text-long-line", 0, 1, [100, 65530], b"1" * 65540 + b"\n2\n")
    binary = (u8(0) + u8(1) + f64(3.25)) + (u8(1) + u16(5) + b"wrong") + (u8(0) + u8(2) + f64(1) + f64(2))
    seed("binary", 1, 1, [1, 2, 9], binary)
    frames = (u8(0) + u32(3) + b"abc") + (u8(2) + u32(0)) + (u8(3) + u32(0)) + (u8(1) + u32(4) + b"fail")
    seed("frames", 2, 1, [4, 1, 6], frames)


def card():
    # net count, nets (u16 hi, u16 lo, prefix, 3 spare), host length, host, card text
    def net(a, b, c, d, prefix):
        return u16(a << 8 | b) + u16(c << 8 | d) + u8(prefix) + b"\0\0\0"
    key = b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
    nets = net(10, 1, 2, 3, 24) + net(127, 0, 0, 1, 8)
    text = b"node1 " + key + b" tcp://10.1.2.3:40000,tcp://192.168.0.7:40000,tcp://127.0.0.1:40000"
    write("card", "other-host", u8(2) + nets + u8(5) + b"node2" + text)
    write("card", "same-host", u8(2) + nets + u8(5) + b"node1" + text)
    write("card", "no-nets", u8(0) + u8(3) + b"abc" + b"h " + key + b" tcp://10.9.9.9:1")


def site():
    # venv path, then NUL-separated plugstack arguments
    write("site", "all-keys", b"\0".join([
        b"/opt/venvs/evo", b"modules_init=/etc/profile.d/modules.sh", b"venv_roots=/opt/venvs:/home/",
        b"threads=no", b"mpi=pmix", b"modules_timeout=30", b"evo_farm=/usr/bin/evo-farm"]))
    write("site", "outside", b"/tmp/venv\0venv_roots=/opt/venvs/")
    write("site", "unknown-key", b"/x\0colour=blue")


def env_diff():
    # u16 length of env -0 before, before, after
    before = b"PATH=/usr/bin\0HOME=/root\0SHLVL=1\0GONE=x\0"
    after = b"PATH=/opt/gcc/bin:/usr/bin\0HOME=/root\0SHLVL=2\0LOADEDMODULES=gcc/12\0BASH_FUNC_module%%=() {}\0"
    write("env_diff", "module-load", u16(len(before)) + before + after)
    write("env_diff", "garbage", u16(6) + b"A=1\0=x" + b"A=1\0B")


def zap():
    # frame count - 1, then per frame: 0x80 expected value, 0x40 another key, else a length and bytes
    write("zap", "admitted", u8(6) + bytes([0x80] * 7))
    write("zap", "other-key", u8(6) + bytes([0x80] * 6) + u8(0x40))
    write("zap", "plain", u8(6) + bytes([0x80] * 5) + u8(5) + b"PLAIN" + u8(0x80))
    write("zap", "short", u8(1) + u8(0x80) + u8(2) + b"id")


def files():
    # first byte % 3: 0 checkpoint (shape = byte / 3), 1 farm.access (mode 0600 / 0644), 2 progress.json
    state = (b"cmaes 1 1 2\nsigma 0x1p-1\ngeneration 0\nevaluations 0\neigen_at 0\n"
             b"mean 1 0x1p+0\npc 1 0x0p+0\nps 1 0x0p+0\nC 1 0x1p+0\nB 1 0x1p+0\nD 1 0x1p+0\n"
             b"fitness 2 0x0p+0 0x0p+0\norder 2 0 1\nbest_hist 0\nmedian_hist 0\n")
    write("files", "checkpoint", u8(0) + state)
    state3 = state.replace(b"generation 0", b"generation 3").replace(
        b"best_hist 0\nmedian_hist 0", b"best_hist 3 0x1p+1 0x1p+0 0x1p-1\nmedian_hist 3 0x1p+2 0x1p+1 0x1p+0")
    write("files", "checkpoint-history", u8(0) + state3)
    access = (b"endpoints tcp://10.0.0.1:4000,ipc:///tmp/evo/broker\nserver rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\n"
              b"public Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID\nsecret D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs\n")
    write("files", "farm-access", u8(1) + access)
    write("files", "farm-access-leaked", u8(4) + access)
    write("files", "progress", u8(2) + b'{"generation": 12, "generations": 250, "evaluations": 2400, '
                                       b'"best": 0.125, "running": true, "nonfinite_evaluations": 3}\n')
    write("files", "progress-null", u8(2) + b'{"generation": 0, "generations": 0, "evaluations": 0, '
                                            b'"best": null, "running": false, "nonfinite_evaluations": 0}\n')


def broker():
    # setup, batch, then operations: op % 8 with the peer in op >> 3 (mod 4):
    # 0 HELLO (next byte & 1: worker), 1 SUBMIT (next byte: count, dim),
    # 2 RESULTS (variant, statuses, elapsed), 3 BYE, 4 close, 5 connect,
    # 6 HEARTBEAT, 7 time passes (next byte: half heartbeats)
    def op(code, peer, *args):
        return bytes([code | peer << 3]) + bytes(args)
    driver_worker = op(0, 0, 0) + op(0, 1, 1) + op(1, 0, 5) + op(2, 1, 0, 0, 3) + op(2, 1, 0, 0, 3)
    write("broker", "submit-answer", u8(0) + u8(1) + driver_worker)
    retries = (op(0, 0, 0) + op(0, 1, 1) + op(0, 2, 1) + op(1, 0, 0x13) + op(2, 1, 0, 0x55, 1) +
               op(2, 2, 1, 0x01, 1) + op(2, 1, 2, 0x22, 1) + op(2, 2, 3, 0, 9, 9, 9))
    write("broker", "failures-and-late", u8(0x08 | 0x02) + u8(2) + retries)
    expiry = (op(0, 0, 0) + op(0, 1, 1) + op(1, 0, 7) + op(7, 0, 15) + op(7, 0, 15) + op(0, 2, 1) +
              op(2, 1, 0, 0, 0) + op(2, 2, 0, 0, 0) + op(6, 2))
    write("broker", "expiry", u8(1) + u8(0) + expiry)
    leave = (op(0, 0, 0) + op(0, 1, 1) + op(1, 0, 9) + op(3, 1) + op(0, 3, 0) + op(1, 3, 2) + op(4, 0) +
             op(5, 0) + op(0, 0, 1) + op(2, 0, 0, 0, 0) + op(0, 2, 1))
    write("broker", "bye-close-reconnect", u8(0x04) + u8(3) + leave)


for make in (proto, eval_codec, card, site, env_diff, zap, files, broker):
    make()
