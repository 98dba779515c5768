"""Where the simulated board keeps its flash file system (a host directory); set before the board boots."""
DATA_DIR = "build/sim/flash"
