"""The device's power budget in one place: how long it idles, how often the radio speaks, why.

A patient's device spends its day with the screen off and no host connected. Then the event loop sleeps
in slices of IDLE_SLEEP_MS through the board's sleep_ms (machine.lightsleep on the Pico W: PLLs off, the
timer wakes it), IDLE_BURST_SLICES at a time, and looks at the buttons between slices, so a press wakes the screen within
WAKE_BUDGET_MS even on a chip whose pin interrupts cannot end a lightsleep. bench/bench_energy.py measures
the awake fraction this gives on the emulated RP2040 and models the battery from it.
"""
from micropython import const

IDLE_SLEEP_MS = const(80)        # one lightsleep slice: a press waits at most this long, plus one poll
WAKE_BUDGET_MS = const(100)      # a press lights the screen within this (tests/rp2040/test_pico_w_energy.py)
# Slices slept back to back before the event loop runs its other tasks (a second): each return to the loop
# costs several times a slice's own wake-up, and nothing else needs the core more often while idle (the
# watchdog is fed every 4 s, reminders are checked every minute, a USB host's first frame waits this long).
IDLE_BURST_SLICES = const(12)
HOST_ACTIVE_MS = const(5000)     # no idling this long after a USB frame: a wired host is served at full pace

# Advertising: 250 ms for now. For battery it should be 1022.5 ms (the longest interval Apple's Accessory
# Design Guidelines list for accessories that must stay discoverable): a quarter of the radio's cost. Both
# 1022.5 and 546.25 ms were tried and break what the rig checks: a host reconnecting right after a
# provisioning (tests/sync/test_sync_ble.py) times out, and a host reaches an impostor replaying the
# advertisement before the device and gives up (tests/simulator/test_cli_sim.py). The way there: 250 ms
# for 30 s after boot and after each disconnection, then 1022.5 ms (Apple's own pattern), in
# device.ble_service, and a host that tries the next candidate after an impostor.
ADV_INTERVAL_US = const(250000)
# Connection parameters stay the central's: a connection exists only while a host syncs or a clinician
# pulls, short sessions (device.ble_service.SESSION_IDLE_MS ends an idle one) where the fastest interval
# moves the most records per radio wake-up. MicroPython's bluetooth API gives a peripheral no call to
# ask for others, so the device never slows a link its clinician opened.
