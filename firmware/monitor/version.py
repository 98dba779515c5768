# The firmware's version, as the screen, Device Information and the host show it. "dev" in git; a build
# stamps its `git describe` into VERSION (host_tools.firmware_version: the frozen .uf2 image and
# `e2mon deploy`); a release bundle (`e2mon release build`) replaces this file with its own version,
# sequence and floor. A tree deployed from plain source is "dev", sequence 0 (any signed release may replace it).
VERSION = "dev"
SEQUENCE = 0     # orders releases: an update with a lower one is a downgrade
FLOOR = 0        # the publisher's anti-rollback floor: once this version is confirmed, nothing below installs
