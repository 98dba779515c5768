"""MicroPython's `micropython` module for the firmware under CPython."""


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
    print("mem: simulator (CPython)")
