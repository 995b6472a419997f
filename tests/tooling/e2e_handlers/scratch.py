"""A handler that works in request.tmpdir, and may leave a file in /tmp, keep an order id in
module state or overrun its time."""

import os
import tempfile
import time

from lambdascope import handler, init_tmpdir, request

SEEN_ORDERS = []


@handler
def lambda_handler(event, context):
    work = request.tmpdir
    (work / "part.bin").write_bytes(b"x" * event.get("size", 10))
    cache = init_tmpdir("cache") / "hits"
    cache.write_text(str(int(cache.read_text()) + 1 if cache.exists() else 1))
    if event.get("leave"):
        with open(os.path.join(tempfile.gettempdir(), event["leave"]), "w") as out:
            out.write("left behind")
    if event.get("remember"):
        SEEN_ORDERS.append(event["remember"])  # module state: the next request would see it
    if event.get("sleep"):
        time.sleep(event["sleep"])  # overruns the invocation's time: Lambda stops the runtime
    return {
        "tmpdir": str(work),
        "tempdir": tempfile.gettempdir(),
        "pid": os.getpid(),
        "hits": int(cache.read_text()),
    }
