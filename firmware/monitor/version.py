# The firmware's version, shown in Device Information's firmware revision, on the status screen and by
# `e2mon devices`. "dev" in git; every build writes its `git describe` here (host_tools.firmware_version:
# the frozen .uf2 image and `e2mon deploy`).
VERSION = "dev"
