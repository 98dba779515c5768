"""A simulated e2mon for the CLI tests, in its own process (the simulator shadows `time`,
`machine`... for the firmware, which must not leak into the test process).

    python tests/cli_sim_device.py FLASH_DIR KEY_HEX|- [SEED_RECORDS] [--serial] [--freed=N]

Boots sim.serve's device (the real firmware app, store and GATT service) on bumble's TCP
link on a free port. KEY_HEX is written as the device's provisioned key file (what
`e2mon provision` leaves on the board); `-` leaves the device unprovisioned. SEED_RECORDS
symptom records are appended to the log. With --serial the device also serves its USB
protocol (monitor.framing + monitor.endpoint, provisioning allowed) on a pseudo-terminal. With
--freed=N the records up to N are acknowledged (as if another host had pulled them) and freed.
Prints `port N` (and `serial PATH`), then serves until stdin closes.
"""
import asyncio
import os
import sys


def serve_serial(app, loop):
    """The USB side on a pty: the same Endpoint the board runs on its USB port."""
    import tty

    from monitor import framing
    from monitor.endpoint import Endpoint
    from monitor.session import load_key

    master, slave = os.openpty()
    tty.setraw(slave)
    key_path = app.data_dir + "/device.key"
    endpoint = Endpoint(app, load_key(key_path), os.urandom, allow_provision=True, key_path=key_path)
    endpoint.connected(247)
    reader = framing.FrameReader()

    def read():
        try:
            return os.read(master, 4096)
        except BlockingIOError:
            return b""

    def on_readable():
        framing.serve_serial(endpoint, reader, read, lambda data: os.write(master, data))

    os.set_blocking(master, False)
    loop.add_reader(master, on_readable)
    return os.ttyname(slave), (master, slave)


async def main(flash_dir, key_hex, seed, serial, freed=0):
    from sim import serve

    os.makedirs(flash_dir, exist_ok=True)
    if key_hex != "-":
        with open(os.path.join(flash_dir, "device.key"), "wb") as f:
            f.write(bytes.fromhex(key_hex))
    server = await serve.start_device(flash_dir, port=0)
    app = server.device.app
    if seed:
        from monitor import records
        for i in range(seed):
            app.store.append(9800 + i // 40, (i * 37) % 1440, records.KIND_SYMPTOM, i % 13, i % 4, 0)
    if freed:
        app.acknowledge_sync(freed)
        app.acknowledge_sync(freed + 1)   # both kept snapshots then cover the freed segments
    loop = asyncio.get_running_loop()
    print("port %d" % server.radio_server.port, flush=True)
    if serial:
        path, _fds = serve_serial(app, loop)
        print("serial %s" % path, flush=True)
    closed = asyncio.Event()
    loop.add_reader(sys.stdin.fileno(), lambda: closed.set() if not os.read(sys.stdin.fileno(), 1024) else None)
    try:
        await closed.wait()
    finally:
        await server.stop()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    freed = [int(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--freed=")]
    asyncio.run(main(args[0], args[1], int(args[2]) if len(args) > 2 else 0, "--serial" in sys.argv,
                     freed[0] if freed else 0))
