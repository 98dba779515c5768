# Runs on the MicroPython unix port: the device app, its UI on a real framebuf, the debouncer and the
# reminder check of the runner, with the store on the unix file system. Prints "OK <facts>" at the end.
import os
import sys

from _board_standin import Board
from device import buttons as btn
from monitor.app import App
from monitor.clock import Clock
from device.runner import Runner
from device.soft_rtc import SoftRTC
from monitor import records, schedule
from monitor.store import Store

DIR = sys.argv[1]
DAY = 9800

os.mkdir(DIR)
app = App(Store(DIR), Clock(SoftRTC()), DIR)
app.boot()
board = Board()
runner = Runner(board, app)
ui = runner.ui
app.set_clock(DAY - 30, 600, 0)
status, seq = app.submit_entry(records.KIND_DOSE, records.D_ANASTROZOLE, 1000, 0, DAY - 30, 600)
assert status == 0, status
app.set_clock(DAY, 600, 0)


def press(i, t):
    board.buttons[i].level = 0
    assert runner.buttons.poll(t) is None
    board.buttons[i].level = 1
    event = runner.buttons.poll(t + 50)
    assert event == (i, btn.PRESS), event
    ui.on_button(event[0], event[1])
    ui.render()


t = 1000
for i in (btn.BUTTON_B, btn.BUTTON_C, btn.BUTTON_B, btn.BUTTON_C, btn.BUTTON_B):   # low libido, moderate
    press(i, t)
    t += 200
last = list(app.store.records(1))[-1]
assert last[3:6] == (records.KIND_SYMPTOM, records.S_LIBIDO, 2), last
assert ui.lines()[0] == "Saved:"
lit = 0
for b in board.display.buf:
    while b:
        lit += b & 1
        b >>= 1
assert lit > 100, lit
fresh = runner.check_reminders()
assert fresh == [schedule.M_RECHECK], fresh
assert runner.check_reminders() == []
print("OK shows=%d lit=%d records=%d" % (board.display.shows, lit, app.store.next_seq - 1))
