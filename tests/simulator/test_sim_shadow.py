"""The simulator's shadow modules behave like the MicroPython ones the firmware was written for."""
import subprocess

import pytest

from sim import env, oled, vclock

env.install()

ROOT = env.ROOT
UPY = [ROOT + "/.venv/bin/micropython", "-X", "heapsize=64K"]


def test_ticks_wrap_at_30_bits_and_diff_stays_signed():
    clock = vclock.VirtualClock()
    before = clock.ticks_ms()
    assert before > (1 << 30) - vclock.TICKS_HEADROOM_MS - 100   # starts just before the wrap
    clock.warp(10)
    after = clock.ticks_ms()
    assert after < before                      # wrapped
    assert vclock.ticks_diff(after, before) >= 10000
    assert vclock.ticks_diff(before, after) <= -10000
    assert vclock.ticks_add((1 << 30) - 1, 1) == 0


def test_warp_moves_wall_clock_and_rtc_write_moves_only_wall():
    clock = vclock.VirtualClock(wall_seconds=vclock.EPOCH_2000)
    clock.warp(86400 * 180)
    assert clock.wall_seconds() - vclock.EPOCH_2000 >= 86400 * 180
    ticks = clock.ticks_ms()
    clock.set_wall(vclock.EPOCH_2000)
    assert clock.wall_seconds() - vclock.EPOCH_2000 < 5
    assert vclock.ticks_diff(clock.ticks_ms(), ticks) >= 0
    with pytest.raises(ValueError):
        clock.warp(-1)


def test_shadow_time_has_virtual_ticks_and_leaves_the_host_clock_alone():
    import time
    import time as shadow
    vclock.reset()
    before = time.ticks_ms()
    vclock.clock.warp(86400 * 31)
    expected = time.ticks_add(before, 86400 * 31 * 1000)     # wrapped many times, modulo 2**30
    assert 0 <= time.ticks_diff(time.ticks_ms(), expected) < 1000
    assert time.ticks_diff(time.ticks_add(5, -10), 5) == -10
    assert shadow.time() > vclock.PICO_RTC_EPOCH + 86400 * 365   # time() stays the host's for other libraries
    assert time.gmtime()[0] >= 2024 and time.gmtime().tm_year == time.gmtime()[0]
    assert callable(time.monotonic)            # CPython's own functions still reach bumble and asyncio


def test_shadow_rtc_sets_virtual_wall_clock():
    import machine
    vclock.reset()
    rtc = machine.RTC()
    assert rtc.datetime()[0] == 2021            # a Pico W after power loss
    rtc.datetime((2026, 3, 4, 2, 10, 30, 0, 0))
    assert rtc.datetime()[:3] == (2026, 3, 4) and rtc.datetime()[4:6] == (10, 30)


def test_i2c_without_device_raises_enodev():
    import machine
    machine.reset_state()
    bus = machine.I2C(0)
    assert bus.scan() == []
    with pytest.raises(OSError):
        bus.writeto(0x3C, b"\x80\xaf")


def _upy_text_buffer(text):
    code = ("import framebuf\nb=bytearray(128*8)\nfb=framebuf.FrameBuffer(b,128,64,framebuf.MONO_VLSB)\n"
            "fb.fill(0)\nfb.text(%r,0,0,1)\nfb.fill_rect(0,16,128,8,1)\nfb.text(%r,8,16,0)\nfb.hline(0,40,100,1)\n"
            "print(bytes(b).hex())\n") % (text, text)
    out = subprocess.run(UPY + ["-c", code], capture_output=True, text=True, check=True)
    return bytes.fromhex(out.stdout.strip())


def test_firmware_driver_on_shadow_bus_shows_what_micropython_framebuf_draws():
    """The SSD1306 driver draws through the shadow framebuf; the emulated chip's RAM equals the real
    MicroPython framebuf's pixels for the same drawing calls."""
    import machine
    machine.reset_state()
    chip = oled.SSD1306Device()
    machine.attach_i2c(0, 0x3C, chip)
    from device.ssd1306 import SSD1306_I2C
    display = SSD1306_I2C(128, 64, machine.I2C(0))
    assert chip.on and chip.frames == 1
    text = "E2 12.5 pg/mL!"
    display.fill(0)
    display.text(text, 0, 0, 1)
    display.fill_rect(0, 16, 128, 8, 1)
    display.text(text, 8, 16, 0)
    display.hline(0, 40, 100, 1)
    display.show()
    assert chip.frames == 2
    assert bytes(chip.ram) == _upy_text_buffer(text)
    art = chip.to_text()
    assert len(art.splitlines()) == 18 and "\u2800" in art
    display.poweroff()
    assert not chip.on and chip.pixel(0, 3) == 0


def test_screenshot_png(tmp_path):
    import machine
    from PIL import Image
    machine.reset_state()
    chip = oled.SSD1306Device()
    machine.attach_i2c(0, 0x3C, chip)
    from device.ssd1306 import SSD1306_I2C
    display = SSD1306_I2C(128, 64, machine.I2C(0))
    display.fill_rect(0, 0, 10, 10, 1)
    display.show()
    path = chip.save_png(str(tmp_path / "s.png"), scale=2)
    img = Image.open(path)
    assert img.size == (128 * 2 + 24, 64 * 2 + 24)
    assert img.getpixel((12, 12)) != img.getpixel((12 + 40, 12 + 40))
