# The flash a board with a set-size flash area has in use: the simulator's (its board's FLASH_BYTES, a
# directory on the host disk, whose free space statvfs would report instead). Loaded by monitor.update only
# for a board that sets FLASH_BYTES; a real board's file system reports its own free space.


def used_bytes(fs, path, block):
    """Bytes the files under path take, each in whole blocks (as littlefs stores them)."""
    try:
        names = fs.listdir(path)
    except OSError:
        try:
            return (fs.size(path) + block - 1) // block * block
        except OSError:
            return 0
    total = 0
    for name in names:
        total += used_bytes(fs, path + "/" + name, block)
    return total
