"""A real SMTP server (aiosmtpd) for the benchmark: it keeps nothing but when each message came.

Usage: python bench/smtp_sink.py PORT LOG. Every accepted message appends one line to LOG:
"<unix time> <Message-ID>". It runs in a process of its own so that it does not share the
interpreter lock of the process that sends.
"""

import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, log):
        self.log = log

    async def handle_DATA(self, server, session, envelope):
        message_id = ""
        for line in envelope.content.split(b"\r\n"):
            if not line:
                break  # end of the headers
            if line[:11].lower() == b"message-id:":
                message_id = line[11:].strip().decode()
                break
        self.log.write(f"{time.time():.6f} {message_id}\n")
        return "250 OK"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    with open(path, "a", buffering=1) as log:
        controller = Controller(Sink(log), hostname="127.0.0.1", port=port)
        controller.start()
        print("ready", flush=True)
        try:
            sys.stdin.read()  # until the benchmark closes our standard input
        finally:
            controller.stop()


if __name__ == "__main__":
    main()
