"""A hostile peer of a running ctxrun's registry, for security.bats.

  peer.py flood TOKEN N OUT      open N connections and hold them; write to
                                 OUT how many the ctxrun kept open, then wait
                                 to be killed
  peer.py fork-cancel TOKEN DIR  connect, then fork: the parent writes its
                                 PID to DIR/pid and exits; the child, left
                                 holding the connection, waits for DIR/send,
                                 asks for a cancel and writes the answer to
                                 DIR/answer (ack, refused: WHY, or closed)
  peer.py churn TOKEN N OUT      N processes connect and close at once, over
                                 and over; each writes OUT.I after its first,
                                 then OUT is written; killing this process
                                 ends them all

The message is the registry's struct msg (lib/registry.h).
"""
import os
import select
import socket
import struct
import sys
import time

MSG_VERSION = 0x63747832
MSG_CANCEL, MSG_ACK, MSG_REFUSED = 2, 3, 4
MSG = struct.Struct("=IIiiiiq256s")


def connect(token):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(b"\0ctxrun-" + token.encode())
    return s


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.rename(path + ".tmp", path)


def wait_file(path):
    while not os.path.exists(path):
        time.sleep(0.01)


def flood(token, n, out):
    held = []
    for _ in range(n):
        try:
            held.append(connect(token))
        except OSError:
            break
    # What the ctxrun refused, it closes: readable (a refusal, then EOF).
    time.sleep(1)
    poller = select.poll()
    for s in held:
        poller.register(s, select.POLLIN)
    kept = len(held) - len(poller.poll(0))
    write(out, str(kept))
    while True:
        time.sleep(60)


def fork_cancel(token, d):
    s = connect(token)
    if os.fork() != 0:
        write(os.path.join(d, "pid"), str(os.getpid()))
        os._exit(0)
    wait_file(os.path.join(d, "send"))
    text = b"from a reused PID"
    try:
        s.send(MSG.pack(MSG_VERSION, MSG_CANCEL, 9, 0, 0, 0, 0, text))
    except OSError:
        pass
    try:
        data = s.recv(MSG.size)
    except OSError:
        data = b""
    if len(data) != MSG.size:
        answer = "closed"
    else:
        _, kind, _, _, _, _, _, why = MSG.unpack(data)
        answer = {MSG_ACK: "ack", MSG_REFUSED: "refused: "}.get(kind, "kind %d" % kind)
        if kind == MSG_REFUSED:
            answer += why.split(b"\0")[0].decode()
    write(os.path.join(d, "answer"), answer)


def churn(token, n, out):
    parent = os.getpid()
    for i in range(n):
        if os.fork() == 0:
            first = True
            while os.getppid() == parent:
                try:
                    connect(token).close()
                except OSError:
                    pass
                if first:
                    write("%s.%d" % (out, i), "")
                    first = False
            os._exit(0)
    for i in range(n):
        wait_file("%s.%d" % (out, i))
    write(out, str(n))
    os.wait()


if sys.argv[1] == "flood":
    flood(sys.argv[2], int(sys.argv[3]), sys.argv[4])
elif sys.argv[1] == "fork-cancel":
    fork_cancel(sys.argv[2], sys.argv[3])
elif sys.argv[1] == "churn":
    churn(sys.argv[2], int(sys.argv[3]), sys.argv[4])
