import os

# The firmware image on the emulated RP2040 (tests/rp2040) runs from `make check-rp2`, which builds the
# image and installs rp2040js first; a plain `pytest` leaves it out instead of skipping it.
if not os.environ.get("E2MON_RP2"):
    collect_ignore = ["rp2040"]
