# Frozen into the unix-port binaries: asyncio, as every board's firmware has it. The port's own variant
# manifest also wants micropython-lib packages (mip-cmdline, ssl) that the vendor tarball does not carry.
include("$(MPY_DIR)/extmod/asyncio")
