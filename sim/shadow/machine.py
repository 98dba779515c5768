"""MicroPython's `machine` for the firmware under CPython: pins, I2C, ADC, RTC, WDT and sleep on the
simulator's virtual clock. Peripherals are shared module state so the simulator can press buttons
(`set_level`), read the buzzer pin, attach devices to an I2C bus and watch the watchdog.
"""
import calendar

from sim import vclock

_levels = {}        # pin id -> level an external circuit drives (buttons: 0 while pressed)
_outputs = {}       # pin id -> level the firmware drives
_output_log = []    # (elapsed_ms, pin id, level): the buzzer's history
_buses = {}         # I2C id -> {address: device with write(bytes)}
_adc_values = {}    # ADC channel -> read_u16 value
stats = {"lightsleep_calls": 0, "lightsleep_ms": 0, "wdt_feeds": 0, "wdt_expired": 0, "resets": 0}


def set_level(pin_id, level):
    """Drives an input pin from outside (a button pulls to GND: level 0)."""
    _levels[pin_id] = level


def output_level(pin_id):
    return _outputs.get(pin_id, 0)


def output_log():
    return list(_output_log)


def attach_i2c(bus_id, address, device):
    _buses.setdefault(bus_id, {})[address] = device


def set_adc(channel, value):
    _adc_values[channel] = value


def reset_state():
    for table in (_levels, _outputs, _buses, _adc_values):
        table.clear()
    del _output_log[:]
    for key in stats:
        stats[key] = 0


def _pin_id(pin):
    return pin.id if isinstance(pin, Pin) else pin


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 4
    IRQ_RISING = 8

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        self.mode = mode
        self.pull = pull
        if value is not None:
            self.value(value)

    def init(self, mode=-1, pull=-1, value=None):
        self.__init__(self.id, mode, pull, value)

    def value(self, v=None):
        if v is None:
            if self.mode == Pin.OUT:
                return _outputs.get(self.id, 0)
            default = 1 if self.pull == Pin.PULL_UP else 0
            return _levels.get(self.id, default)
        level = 1 if v else 0
        if _outputs.get(self.id) != level:
            _output_log.append((vclock.clock.elapsed_ms(), self.id, level))
        _outputs[self.id] = level
        return None

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    __call__ = value

    def irq(self, handler=None, trigger=0):
        return None

    def __repr__(self):
        return "Pin(%r)" % (self.id,)


class I2C:
    def __init__(self, id=0, scl=None, sda=None, freq=400000):
        self.id = id
        self.freq = freq

    def _device(self, addr):
        device = _buses.get(self.id, {}).get(addr)
        if device is None:
            raise OSError(19, "ENODEV: nothing at I2C address 0x%02x" % addr)
        return device

    def scan(self):
        return sorted(_buses.get(self.id, {}))

    def writeto(self, addr, buf, stop=True):
        self._device(addr).write(bytes(buf))
        return len(buf)

    def writevto(self, addr, vector, stop=True):
        data = b"".join(bytes(b) for b in vector)
        self._device(addr).write(data)
        return len(data)

    def readfrom_into(self, addr, buf, stop=True):
        data = self._device(addr).read(len(buf))
        buf[:len(data)] = data


SoftI2C = I2C


class ADC:
    ATTN_0DB = 0
    ATTN_11DB = 3

    def __init__(self, pin):
        self.channel = _pin_id(pin)

    def atten(self, value):
        pass

    def read_u16(self):
        return _adc_values.get(self.channel, 0)


class RTC:
    """The board's RTC on the virtual wall clock: datetime() reads it, datetime(tuple) sets it."""

    def datetime(self, value=None):
        if value is None:
            t = vclock.real_gmtime(vclock.clock.wall_seconds())
            return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_wday, t.tm_hour, t.tm_min, t.tm_sec, 0)
        y, m, d, _wd, hh, mm, ss = value[:7]
        vclock.clock.set_wall(calendar.timegm((y, m, d, hh, mm, ss, 0, 0, 0)))
        return None


class WDT:
    """Counts an expiry whenever a feed comes later than the timeout (a board would have reset).

    Measured in real time: a time warp fast-forwards the calendar, not the CPU, so it must not starve it.
    """
    active = None

    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        self.last = vclock.real_ms()
        WDT.active = self

    def feed(self):
        now = vclock.real_ms()
        if now - self.last > self.timeout:
            stats["wdt_expired"] += 1
        self.last = now
        stats["wdt_feeds"] += 1

    def overdue(self):
        return vclock.real_ms() - self.last > self.timeout


def lightsleep(ms=None):
    stats["lightsleep_calls"] += 1
    stats["lightsleep_ms"] += ms or 0


deepsleep = lightsleep


def idle():
    pass


def reset():
    stats["resets"] += 1
    raise SystemExit("machine.reset()")


soft_reset = reset


def unique_id():
    return b"e2mon-sim"


def freq(hz=None):
    return 240000000 if hz is None else None


def disable_irq():
    return 0


def enable_irq(state=0):
    pass
