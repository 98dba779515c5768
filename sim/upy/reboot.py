# How the unix port's machine.reset() reboots the board: the process exits with this code and
# sim/stack_device.StackDevice starts it again on the same flash, its radio link kept.
EXIT_CODE = 75
