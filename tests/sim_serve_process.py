"""`python -m sim serve` as a real subprocess (tests): the simulated device on the shadow, BTstack or NimBLE,
on any free TCP port, provisioned as USB provisioning would (host keys under env's E2MON_CONFIG).

    with Served("btstack", flash, env) as served:     # returns once it advertises
        served.port, served.process, served.device_pids()
"""
import os
import re
import signal
import subprocess
import sys

from paths import ROOT

PYTHON = sys.executable


class Served:
    def __init__(self, stack, flash, env, timeout=60):
        self.log = open(flash.rstrip("/") + ".serve.log", "w+")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "sim", "serve", "--stack", stack, "--flash", flash, "--port", "0", "--no-keyboard"],
            stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL, text=True, cwd=ROOT,
            env=dict(os.environ, **env))
        self.port = None
        self.output = []
        while self.port is None:
            line = self.process.stdout.readline()
            if not line:
                self.log.seek(0)
                raise AssertionError("sim serve did not start:\n%s%s" % ("".join(self.output), self.log.read()[-3000:]))
            self.output.append(line)
            found = re.search(r"TCP link \(port (\d+)\)", line)
            if found:
                self.port = int(found.group(1))

    def device_pids(self):
        """The serve process's children (the MicroPython device process on a real stack)."""
        pids = []
        for task in os.listdir("/proc/%d/task" % self.process.pid):
            with open("/proc/%d/task/%s/children" % (self.process.pid, task)) as f:
                pids += [int(p) for p in f.read().split()]
        return pids

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()
        self.log.close()
