"""MicroPython's built-in `micropython` module on CPython (host tools, simulator, tests), so the firmware
imports it unconditionally, as on a board. Installed with the project (pyproject.toml)."""


def const(x):
    return x


def native(f):
    return f


viper = native


def schedule(func, arg):
    func(arg)
    return True


def alloc_emergency_exception_buf(size):
    pass


def heap_lock():
    return 0


def heap_unlock():
    return 0


def mem_info(verbose=False):
    print("mem: CPython (no MicroPython heap)")
