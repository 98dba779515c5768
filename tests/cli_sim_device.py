"""A simulated e2mon for the CLI tests, in its own process (the simulator shadows `time`,
`machine`... for the firmware, which must not leak into the test process).

    python tests/cli_sim_device.py FLASH_DIR KEY_HEX [SEED_RECORDS]

Boots sim.serve's device (the real firmware app, store and GATT service) on bumble's TCP
link on a free port, gives it KEY_HEX as its provisioned key (what `e2mon provision`
does over USB), optionally appends SEED_RECORDS symptom records, then prints
`port N` and serves until stdin closes.
"""
import asyncio
import sys


async def main(flash_dir, key_hex, seed):
    from sim import serve

    server = await serve.start_device(flash_dir, port=0)
    server.runner.ble.endpoint.set_key(bytes.fromhex(key_hex))
    app = server.device.app
    if seed:
        from monitor import records
        for i in range(seed):
            app.store.append(9800 + i // 40, (i * 37) % 1440, records.KIND_SYMPTOM, i % 13, i % 4, 0)
    print("port %d" % server.radio_server.port, flush=True)
    loop = asyncio.get_running_loop()
    closed = asyncio.Event()
    loop.add_reader(sys.stdin.fileno(), lambda: closed.set() if not sys.stdin.buffer.read1(1024) else None)
    try:
        await closed.wait()
    finally:
        await server.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0))
