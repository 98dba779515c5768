# The memory bench's launcher on the qemu image (frozen as _launch; bench/upy_launch.py on the unix
# port): mounts the flash named by sys.argv[1] (_qemu_boot), runs the driver (_driver:
# bench/upy_device_heap.py) with the rest of sys.argv, and ends qemu, printing the error first when the
# driver failed.
import sys
import machine
from _qemu_boot import mount

ROM_BYTES = 0   # no ROMFS image on this build: the firmware is frozen

try:
    mount(sys.argv.pop(1))
    import _driver  # noqa: F401  (runs the bench)
except SystemExit:
    pass
except BaseException as exc:   # noqa: B036  the host reports the error's last line
    sys.print_exception(exc)
machine.reset()   # on qemu: ends the emulator
