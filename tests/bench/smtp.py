#!/usr/bin/env python3
"""smtp.py - the SMTP ends of the flood benchmark (standard library only).

  smtp.py serve PORT MAX_SECONDS   a Postfix-like listener on [::]:PORT (both
                                   families) that answers SMTP and throws
                                   the mail away; exits after MAX_SECONDS
  smtp.py client HOST PORT SECONDS MAX
                                   complete at most MAX SMTP sessions within
                                   SECONDS, one after another; prints
                                   "ok=N failed=M"

The listener keeps a real accept queue (backlog 100, as Postfix's smtpd), so
a flood with no filter in front takes the kernel's SYN-cookie path. asyncio
rather than the smtpd module: smtpd is gone from Python 3.12.
"""
import asyncio
import smtplib
import socket
import sys
import time


async def session(reader, writer):
    writer.write(b"220 relay.example ESMTP bench\r\n")
    in_data = False
    try:
        while True:
            line = await asyncio.wait_for(reader.readline(), 10)
            if not line:
                break
            if in_data:
                if line in (b".\r\n", b".\n"):
                    in_data = False
                    writer.write(b"250 2.0.0 queued\r\n")
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-relay.example\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                in_data = True
                writer.write(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 2.0.0 bye\r\n")
                break
            else:  # HELO, MAIL, RCPT, RSET, NOOP
                writer.write(b"250 2.0.0 ok\r\n")
            await writer.drain()
    except (asyncio.TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(port, max_seconds):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
    sock.listen(100)
    server = await asyncio.start_server(session, sock=sock)
    async with server:
        await asyncio.sleep(max_seconds)


def client(host, port, seconds, limit):
    ok = failed = 0
    end = time.monotonic() + seconds
    while ok + failed < limit and time.monotonic() < end:
        try:
            with smtplib.SMTP(host, port, timeout=2) as s:
                s.ehlo("client.example")
                s.sendmail("user@client.example", ["rcpt@relay.example"],
                           "Subject: bench\r\n\r\nduring the flood\r\n")
            ok += 1
        except (OSError, smtplib.SMTPException):
            failed += 1
    print(f"ok={ok} failed={failed}")


def main(argv):
    if len(argv) == 4 and argv[1] == "serve":
        asyncio.run(serve(int(argv[2]), float(argv[3])))
    elif len(argv) == 6 and argv[1] == "client":
        client(argv[2], int(argv[3]), float(argv[4]), int(argv[5]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
