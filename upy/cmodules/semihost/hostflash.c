// hostflash: a block device for vfs.VfsLfs2 on qemu, kept in a file on the host through ARM semihosting,
// so the device's flash outlives the qemu process (a reboot is a fresh qemu on the same file) and takes
// no heap. Never erased bytes read as 0xff, as on NOR flash.
//   bdev = hostflash.Flash("flash.bin", block_count, block_size=4096)
#include <string.h>

#include "py/runtime.h"
#include "py/mperrno.h"
#include "extmod/vfs.h"
#include "semihosting.h"

enum { MODE_READ_WRITE = 3, MODE_CREATE_READ_WRITE = 7 };   // "r+b", "w+b"

typedef struct _hostflash_obj_t {
    mp_obj_base_t base;
    int32_t handle;
    uint32_t block_count;
    uint32_t block_size;
} hostflash_obj_t;

static void seek(hostflash_obj_t *self, uint32_t block, uint32_t offset, size_t len) {
    if (block >= self->block_count || offset + len > (self->block_count - block) * self->block_size) {
        mp_raise_OSError(MP_EINVAL);
    }
    uint32_t args[2] = { (uint32_t)self->handle, block * self->block_size + offset };
    if (semihosting(SYS_SEEK, args) != 0) {
        mp_raise_OSError(MP_EIO);
    }
}

static mp_obj_t hostflash_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *all_args) {
    mp_arg_check_num(n_args, n_kw, 2, 3, false);
    size_t path_len;
    const char *path = mp_obj_str_get_data(all_args[0], &path_len);
    hostflash_obj_t *self = mp_obj_malloc(hostflash_obj_t, type);
    self->block_count = mp_obj_get_int(all_args[1]);
    self->block_size = n_args > 2 ? mp_obj_get_int(all_args[2]) : 4096;
    uint32_t args[3] = { (uint32_t)path, MODE_READ_WRITE, path_len };
    self->handle = semihosting(SYS_OPEN, args);
    if (self->handle == -1) {   // no flash yet: a new, blank one
        args[1] = MODE_CREATE_READ_WRITE;
        self->handle = semihosting(SYS_OPEN, args);
    }
    if (self->handle == -1) {
        mp_raise_OSError(MP_EIO);
    }
    return MP_OBJ_FROM_PTR(self);
}

// readblocks/writeblocks(block, buf, offset=0): one semihosting read or write at that place; returns
// the count of bytes it left undone.
static uint32_t transfer(size_t n_args, const mp_obj_t *args, uint32_t op, int access, mp_buffer_info_t *buf) {
    hostflash_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    mp_get_buffer_raise(args[2], buf, access);
    uint32_t offset = n_args > 3 ? mp_obj_get_int(args[3]) : 0;
    seek(self, mp_obj_get_int(args[1]), offset, buf->len);
    uint32_t call[3] = { (uint32_t)self->handle, (uint32_t)buf->buf, buf->len };
    uint32_t undone = semihosting(op, call);
    if (undone > buf->len) {
        mp_raise_OSError(MP_EIO);
    }
    return undone;
}

static mp_obj_t hostflash_readblocks(size_t n_args, const mp_obj_t *args) {
    mp_buffer_info_t buf;
    uint32_t unread = transfer(n_args, args, SYS_READ, MP_BUFFER_WRITE, &buf);   // past the file's end: never written
    memset((uint8_t *)buf.buf + buf.len - unread, 0xff, unread);
    return MP_OBJ_NEW_SMALL_INT(0);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(hostflash_readblocks_obj, 3, 4, hostflash_readblocks);

static mp_obj_t hostflash_writeblocks(size_t n_args, const mp_obj_t *args) {
    mp_buffer_info_t buf;
    if (transfer(n_args, args, SYS_WRITE, MP_BUFFER_READ, &buf) != 0) {
        mp_raise_OSError(MP_EIO);
    }
    return MP_OBJ_NEW_SMALL_INT(0);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(hostflash_writeblocks_obj, 3, 4, hostflash_writeblocks);

static mp_obj_t hostflash_ioctl(mp_obj_t self_in, mp_obj_t op_in, mp_obj_t arg_in) {
    hostflash_obj_t *self = MP_OBJ_TO_PTR(self_in);
    switch (mp_obj_get_int(op_in)) {
        case MP_BLOCKDEV_IOCTL_BLOCK_COUNT:
            return MP_OBJ_NEW_SMALL_INT(self->block_count);
        case MP_BLOCKDEV_IOCTL_BLOCK_SIZE:
            return MP_OBJ_NEW_SMALL_INT(self->block_size);
        default:   // init, deinit, sync, erase: a file needs none of them
            return MP_OBJ_NEW_SMALL_INT(0);
    }
}
static MP_DEFINE_CONST_FUN_OBJ_3(hostflash_ioctl_obj, hostflash_ioctl);

static const mp_rom_map_elem_t hostflash_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_readblocks), MP_ROM_PTR(&hostflash_readblocks_obj) },
    { MP_ROM_QSTR(MP_QSTR_writeblocks), MP_ROM_PTR(&hostflash_writeblocks_obj) },
    { MP_ROM_QSTR(MP_QSTR_ioctl), MP_ROM_PTR(&hostflash_ioctl_obj) },
};
static MP_DEFINE_CONST_DICT(hostflash_locals_dict, hostflash_locals_dict_table);

static MP_DEFINE_CONST_OBJ_TYPE(
    hostflash_type,
    MP_QSTR_Flash,
    MP_TYPE_FLAG_NONE,
    make_new, hostflash_make_new,
    locals_dict, &hostflash_locals_dict
    );

static const mp_rom_map_elem_t hostflash_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_hostflash) },
    { MP_ROM_QSTR(MP_QSTR_Flash), MP_ROM_PTR(&hostflash_type) },
};
static MP_DEFINE_CONST_DICT(hostflash_module_globals, hostflash_module_globals_table);

const mp_obj_module_t hostflash_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&hostflash_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_hostflash, hostflash_module);
