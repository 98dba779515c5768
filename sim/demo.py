"""`make demo`: six months of TRT + anastrozole played into the simulated device in time warp, then the
clinician's `e2mon --sim` pulls the log over bumble's BLE link, shows flags and reminders and draws the
report; the device's screen is saved as a picture. Everything goes to build/demo/; it ends by itself.

The pull and the signed update go through real BTstack: the unchanged firmware on the from-source MicroPython
with the Pico W's stack (sim/stack_device.py; `make firmware` builds it), which reboots into the update.
Without that build the demo says so and uses the shadow stack. The screen picture comes from the simulator's
board booted from the same flash afterwards (the updated version, confirmed, on its Status screen).
"""
import asyncio
import calendar
import os
import shutil
import sys
import time as real_time

from sim import env

SCENARIO = "trt_oversuppressed"
# The clinic's other patients: each its own simulated device (address) and course, pulled after the first.
# label, device address, scenario
PATIENT_LABEL = "patient 1 (TRT)"
OTHER_PATIENTS = (("patient 2 (fertility)", "C0:E2:00:00:00:02", "fertility_16wk"),
                  ("patient 3 (bone)", "C0:E2:00:00:00:03", "dexa_long_term"))
OUT = os.path.join(env.ROOT, "build", "demo")
BIN = os.path.dirname(sys.executable)
STEP_TIMEOUT = 180


def say(text=""):
    print(text, flush=True)


def e2mon_commands():
    from host_tools import cli
    cli._register()
    return set(cli.cli.commands)


async def run_e2mon(args, env_vars):
    """Runs the real `e2mon` CLI in its own process (it reaches the device over bumble's TCP link)."""
    say("$ e2mon " + " ".join(args))
    proc = await asyncio.create_subprocess_exec(os.path.join(BIN, "e2mon"), *args, env=env_vars,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), STEP_TIMEOUT)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        say("  (timed out after %d s)" % STEP_TIMEOUT)
        return None
    text = out.decode(errors="replace").rstrip()
    for line in text.splitlines():
        say("  " + line)
    if proc.returncode:
        say("  (exit status %d)" % proc.returncode)
    return proc.returncode


UPDATE_VERSION = "1.1.0"


async def update_side(env_vars):
    """The publisher signs a release of this firmware; the clinician sends it over BLE; the device restarts
    into it and confirms it (the demo's last step). Returns e2mon's exit status."""
    say()
    say("== 4. A signed update over BLE: the device switches to version %s and confirms it" % UPDATE_VERSION)
    bundle = os.path.join(OUT, "e2mon-%s.e2up" % UPDATE_VERSION)
    code = await run_e2mon(["release", "build", "--board", "sim", "--version", UPDATE_VERSION, "--sequence", "1",
                            "--key", os.path.join(OUT, "publisher"), "--out", bundle], env_vars)
    if code:
        return code
    return await run_e2mon(["--sim", "update", bundle], env_vars)


async def report_side(env_vars, commands):
    say()
    say("== 3. The report")
    if "report" in commands:
        await run_e2mon(["report", "--out", os.path.join(OUT, "report.png")], env_vars)
    else:
        say("e2mon has no `report` command in this tree yet: skipped")


def show_status_screen(device):
    device.press_sequence("B! C C C B")    # home, then Status
    say("its Status screen:")
    say("\n".join(device.screen_lines()))


async def host_side(server, env_vars, commands):
    results = {}
    if "time-sync" in commands:
        results["time-sync"] = await run_e2mon(["--sim", "time-sync"], env_vars)
    for name, args in (("pull", ["--sim", "pull"]), ("alerts", ["--sim", "alerts"])):
        if name in commands:
            results[name] = await run_e2mon(args, env_vars)
        else:
            say("e2mon has no `%s` command in this tree yet: skipped" % name)
    return results


async def real_stack_host(flash_dir, wall_seconds, env_vars, commands, stack="btstack"):
    """The host steps against the firmware on MicroPython with its real stack; returns the results."""
    from sim import stack_device, vclock
    server, device = await stack_device.serve(stack, flash_dir, port=0, rtc_start=wall_seconds - vclock.EPOCH_2000,
                                              echo=None)
    env_vars["E2MON_SIM_TRANSPORT"] = "127.0.0.1:%d" % server.port
    say("device: the unchanged firmware on MicroPython with %s (its real bluetooth module), rebooted from its "
        "flash, advertising on bumble's TCP link" % stack)
    try:
        results = await host_side(server, env_vars, commands)
        await report_side(env_vars, commands)
        if "update" in commands:
            results["update"] = await update_side(env_vars)
            import update_boot
            from monitor import protocol_host
            confirmed, trial, _tries, outcome, note = update_boot.read_state(os.path.join(flash_dir, "ota"))
            say("the device restarted itself into it (machine.reset(): %d boots of its MicroPython process); the "
                "A/B selector on its flash: slot %r, version %s, %s%s" % (
                    device.boots, confirmed, note, protocol_host.UPDATE_OUTCOME_TEXT.get(outcome, "?"),
                    "; slot %r on trial" % trial if trial else ""))
        return results
    finally:
        await device.stop()
        await server.close()


async def device_and_host(flash_dir, wall_seconds, env_vars, commands):
    from sim import stack_device
    from sim.serve import start_device
    results = None
    if stack_device.built("btstack"):
        results = await real_stack_host(flash_dir, wall_seconds, env_vars, commands)
        wall_seconds = calendar.timegm(real_time.localtime())    # what time-sync set on the device
    else:
        say("no MicroPython with BTstack at %s (make firmware): the pull uses the shadow stack"
            % stack_device.binary("btstack"))
    server = await start_device(flash_dir, port=0, wall_seconds=wall_seconds)
    env_vars["E2MON_SIM_TRANSPORT"] = "127.0.0.1:%d" % server.port
    try:
        if results is None:
            say("device rebooted from its flash (state restored from the snapshot), advertising on bumble's TCP link")
            results = await host_side(server, env_vars, commands)
            await report_side(env_vars, commands)
            if "update" in commands:
                results["update"] = await update_side(env_vars)
                await asyncio.sleep(0.3)
                say("the device's screen after the update:")
                say("\n".join(server.device.screen_lines()))
                show_status_screen(server.device)
        elif "update" in commands:
            say()
            say("the simulator's board booted from the same flash (the version BTstack's device confirmed):")
            show_status_screen(server.device)
        server.device.press("B", hold=True)     # back to the home screen for the picture
        await asyncio.sleep(0.2)
        shot = server.device.screenshot(os.path.join(OUT, "device.png"))
        screen = server.device.screen_text()
        lines = server.device.screen_lines()
        wdt = server.device.machine.stats["wdt_expired"]
    finally:
        await server.stop()
    return results, shot, screen, lines, wdt


async def other_patients(env_vars, today):
    """Two more patients: each course played on its own simulated device (shadow stack), which the clinician
    provisions and pulls by its address. Returns {step: e2mon's exit status}."""
    from sim.scenario import play, scenario_path
    from sim.serve import provision, start_device
    results = {}
    for label, address, scenario in OTHER_PATIENTS:
        say()
        say("== %s: %s on its own device %s" % (label, scenario, address))
        flash_dir = os.path.join(OUT, "flash-" + address.replace(":", "")[-2:])
        device, player = play(scenario_path(scenario), flash_dir, None, echo=lambda _text: None, end_day=today)
        wall = device.clock.wall_seconds()
        device.shutdown()
        say("%d entries stored on the device" % player.summary()["entries"])
        provision(flash_dir, address)
        server = await start_device(flash_dir, port=0, wall_seconds=wall, device_address=address)
        env_vars["E2MON_SIM_TRANSPORT"] = "127.0.0.1:%d" % server.port
        try:
            results["pull " + address] = await run_e2mon(["--sim", "pull", "--device", address], env_vars)
        finally:
            await server.stop()
        results["label " + address] = await run_e2mon(["devices", "label", address, label], env_vars)
    return results


def clinic_page_lines(db):
    """How to open the clinic page on the demo's database."""
    db = os.path.relpath(db, env.ROOT)
    return ["The clinic page on this database (every patient by need of attention; log in first):",
            "  .venv/bin/e2mon --db %s clinic user add YOUR-NAME" % db,
            "  .venv/bin/e2mon --db %s clinic serve" % db,
            "  then open http://127.0.0.1:8022/ in a browser on this computer"]


def main():
    started = real_time.monotonic()
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    flash_dir = os.path.join(OUT, "flash")
    env_vars = dict(os.environ)
    env_vars.update({"E2MON_CONFIG": os.path.join(OUT, "config"), "E2MON_NO_KEYRING": "1",
                     "E2MON_DB": os.path.join(OUT, "e2mon.sqlite")})
    os.environ.update({k: env_vars[k] for k in ("E2MON_CONFIG", "E2MON_NO_KEYRING", "E2MON_DB")})

    from monitor import dates
    from sim.scenario import play, scenario_path
    say("== 1. The device plays the last six months of therapy in time warp (%s)" % SCENARIO)
    today = dates.days_from_civil(*real_time.gmtime()[:3])
    device, player = play(scenario_path(SCENARIO), flash_dir, os.path.join(OUT, "screens"), echo=say,
                              end_day=today)
    summary = player.summary()
    wall = device.clock.wall_seconds()
    device.shutdown()
    say("%d entries stored on the device, %d refused; buzzer/LED signalled on %d days"
        % (summary["entries"], len(summary["refused"]), len(summary["signal_days"])))

    from host_tools import sim_link
    from sim.serve import provision
    provision(flash_dir, sim_link.DEVICE_ADDRESS)
    from host_tools import release
    # The publisher's key, and its public half deployed with the firmware (what deploy --publisher-key does).
    shutil.copyfile(release.keygen(os.path.join(OUT, "publisher"), height=5), os.path.join(flash_dir, "publisher.pub"))
    commands = e2mon_commands()
    say()
    say("== 2. The clinician's `e2mon --sim` talks to the device over BLE (bumble, TCP link)")
    results, shot, screen, lines, wdt = asyncio.run(device_and_host(flash_dir, wall, env_vars, commands))
    if "devices" in commands:
        results["label"] = asyncio.run(run_e2mon(["devices", "label", sim_link.DEVICE_ADDRESS, PATIENT_LABEL],
                                                 env_vars))
    if "clinic" in commands:
        results.update(asyncio.run(other_patients(env_vars, today)))
        say()
        say("== The clinic's worklist: every patient, from the records pulled")
        asyncio.run(run_e2mon(["alerts", "--all"], env_vars))

    report = os.path.join(OUT, "report.png")
    say()
    say("The device's screen now:")
    say(screen)
    say("\n".join(lines))
    say()
    say("Written:")
    for path in [report, shot] + summary["screenshots"]:
        if os.path.exists(path):
            say("  " + os.path.relpath(path, env.ROOT))
    say("  " + os.path.relpath(os.path.join(OUT, "e2mon.sqlite"), env.ROOT) + " (the clinician's database)")
    say("watchdog expiries: %d; demo took %.1f s" % (wdt, real_time.monotonic() - started))
    if "clinic" in commands:
        say()
        for line in clinic_page_lines(os.path.join(OUT, "e2mon.sqlite")):
            say(line)
    failed = [name for name, code in results.items() if code]
    if failed:
        say("FAILED: e2mon %s" % ", ".join(failed))
        return 1
    return 0
