# The flash of the qemu image (frozen as _qemu_boot): littlefs (vfs.VfsLfs2) on a file of the host's,
# reached through ARM semihosting (upy/cmodules/semihost), mounted at / as a board's boot mounts its
# data partition. The file outlives qemu: a reboot is a fresh qemu on the same file.
FLASH_BLOCKS = 512   # 2 MB of 4 KB blocks, like a board's data partition


def mount(path):
    import hostflash
    import os
    import vfs
    flash = hostflash.Flash(path, FLASH_BLOCKS)
    try:
        vfs.mount(vfs.VfsLfs2(flash), "/")
    except OSError:   # a blank flash: formatted on first boot, as a board's _boot.py does
        vfs.VfsLfs2.mkfs(flash)
        vfs.mount(vfs.VfsLfs2(flash), "/")
    try:
        os.mkdir("/tmp")   # the core tests' scratch directories (tests/core/store_fs.py)
    except OSError:
        pass
