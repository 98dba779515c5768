"""The simulator a person can use.

    python -m sim run SCENARIO [--json OUT] [--screenshots DIR] [--quiet]
        plays a therapy course into the real device app in time warp and lists every flag and reminder
        with the day it appeared (and cleared), then shows the device's screen.
    python -m sim serve [--stack shadow|btstack|nimble|rp2040] [--flash DIR] [--port N] [--scenario FILE] [--no-keyboard]
        runs the device's event loop with its GATT service on bumble's TCP link, waiting for `e2mon --sim`.
        --stack shadow (default): the firmware under CPython on sim/bluetooth.py, with its screen and buttons
        from the keyboard: a / b / c press, A / B / C hold, s prints the screen, d / w warp a day / a week
        ahead, q quits. --stack btstack|nimble: the unchanged firmware on the from-source MicroPython with
        its real BLE stack (sim/stack_device.py; `make firmware` builds it), headless; q quits.
        --stack rp2040: the Arduino Nano RP2040 Connect image (MicroPython's rp2 port, NimBLE over UART1) on an
        emulated RP2040, its HCI UART on bumble's link (sim/rp2040_radio.py; `make firmware-rp2-nano`, npm ci).
    python -m sim demo
        what `make demo` runs (sim/demo.py).
"""
import argparse
import json
import os
import sys

from sim import env

DEFAULT_FLASH = os.path.join(env.ROOT, "build", "sim", "flash")


def tcp_port(text):
    """argparse type: a TCP port, 0 (any free one) to 65535, said in words otherwise (not an OverflowError from
    bind)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a port number" % text) from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("port %d is outside 0 to 65535" % port)
    return port


def _parser():
    p = argparse.ArgumentParser(prog="python -m sim", description="e2mon device simulator")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="play a scenario into the device app and list flags and reminders by day")
    run.add_argument("scenario", help="a scenario file (sim/scenarios/*.json) or its name")
    run.add_argument("--json", dest="json_out", metavar="FILE", help="also write the timeline as JSON")
    run.add_argument("--screenshots", metavar="DIR", help="write the scenario's screenshots (PNG) here")
    run.add_argument("--flash", metavar="DIR", help="the device's flash directory (default: a fresh one)")
    run.add_argument("--quiet", action="store_true", help="print only the summary")
    serve = sub.add_parser("serve", help="run the device and wait for `e2mon --sim` on bumble's TCP link")
    serve.add_argument("--stack", choices=("shadow", "btstack", "nimble", "rp2040"), default="shadow",
                       help="the BLE stack under the firmware (default: the shadow)")
    serve.add_argument("--flash", metavar="DIR", default=DEFAULT_FLASH)
    serve.add_argument("--port", type=tcp_port, default=None, help="TCP port (default: host_tools.sim_link's)")
    serve.add_argument("--scenario", metavar="FILE", help="play this scenario first (fresh flash)")
    serve.add_argument("--no-keyboard", action="store_true", help="do not read buttons from stdin")
    sub.add_parser("demo", help="what `make demo` runs")
    return p


def cmd_run(args):
    from sim.scenario import ScenarioError, play, scenario_path
    from sim.serve import Busy, claim_flash

    path = scenario_path(args.scenario)
    flash_dir = args.flash or os.path.join(env.ROOT, "build", "sim", "run-flash")
    echo = (lambda line: None) if args.quiet else print
    try:
        lock = claim_flash(flash_dir)   # play() starts from a fresh flash: never another simulator's
    except Busy as exc:
        print("cannot start: %s" % exc, file=sys.stderr)
        return 2
    try:
        device, player = play(path, flash_dir, args.screenshots, echo)
    except ScenarioError as exc:
        print("scenario error: %s" % exc, file=sys.stderr)
        return 2
    finally:
        os.close(lock)
    summary = player.summary()
    device.shutdown()
    flags = [t for t in summary["timeline"] if t["type"] == "flag" and t["change"] == "appeared"]
    due = [t for t in summary["timeline"] if t["type"] == "reminder" and t["change"] in ("due", "overdue")]
    print("%s: %d days, %d entries stored, %d refused, %d flags raised, %d reminders came due, "
          "buzzer/LED signalled on %d days"
          % (summary["scenario"], summary["days"], summary["entries"], len(summary["refused"]), len(flags),
             len(due), len(summary["signal_days"])))
    print(device.screen_text())
    print("\n".join(device.screen_lines()))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(summary, f, indent=1)
        print("timeline written to %s" % args.json_out)
    return 1 if summary["refused"] else 0


def main(argv):
    args = _parser().parse_args(argv)
    if args.command == "run":
        return cmd_run(args)
    if args.command == "serve":
        from sim import serve
        return serve.main(args)
    from sim import demo
    return demo.main()
