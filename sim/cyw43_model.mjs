// A model of the Pico W's CYW43439 on its gSPI bus, for the unmodified Pico W image on rp2040js.
//
// The Pico SDK drives the chip through a PIO program (cyw43_bus_pio_spi.pio: data out on GP24 with the
// clock as side-set on GP29, then the same pin read back) fed by two DMA channels, with GP25 as chip
// select and GP23 as WL_REG_ON. This model sits on those pins: it samples a bit on each rising clock
// edge while the host drives the data pin, and presents the next reply bit on each rising edge once the
// host has turned the pin around. Between transactions the data pin is the chip's host-wake interrupt.
//
// Behind the bus: function 0 (the gSPI registers: test pattern, bus control, interrupt and status
// registers), function 1 (the backplane: a 32 KB window onto a sparse 32-bit address space holding the
// SOC RAM, the cores' wrapper registers and the SDIO core's registers) and function 2 (WLAN frames, see
// Wlan below). What a real chip computes (its ARM firmware) is modelled only as far as the host driver
// observes it: the clocks come up, the firmware reports ready, ioctls get answers.
//
// The layout of each exchange follows the host driver's source (../shared/vendor: cyw43-driver's
// cyw43_ll.c and cyw43_spi.h, pico-sdk's cyw43_bus_pio_spi.c and cybt_shared_bus).

const PIN_REG_ON = 23;
const PIN_DATA = 24;
const PIN_CS = 25;
const PIN_CLOCK = 29;

const TEST_PATTERN = 0xfeedbead;
// function 0 registers
const SPI_BUS_CONTROL = 0x00;
const SPI_INTERRUPT_REGISTER = 0x04;
const SPI_INTERRUPT_ENABLE_REGISTER = 0x06;
const SPI_STATUS_REGISTER = 0x08;
const SPI_READ_TEST_REGISTER = 0x14;
const WORD_LENGTH_32 = 0x01;
const INTERRUPT_POLARITY_HIGH = 0x20;
const F2_PACKET_AVAILABLE = 0x0020;
const F1_INTR = 0x2000;
const STATUS_F2_RX_READY = 0x20;
const STATUS_F2_PKT_AVAILABLE = 0x100;
const STATUS_F2_PKT_LEN_SHIFT = 9;
// function 1 registers
const SDIO_BACKPLANE_ADDRESS_LOW = 0x1000a;
const SDIO_CHIP_CLOCK_CSR = 0x1000e;
const SDIO_SLEEP_CSR = 0x1001f;
const SBSDIO_SLPCSR_KEEP_SDIO_ON = 0x01;
const SBSDIO_SLPCSR_DEVICE_ON = 0x02;
const SBSDIO_ALP_AVAIL = 0x40;
const SBSDIO_HT_AVAIL = 0x80;
const SBSDIO_SB_ACCESS_2_4B_FLAG = 0x8000;
const BACKPLANE_ADDR_MASK = 0x7fff;
const BACKPLANE_PAD_BYTES = 16;
const CORE_WRAPPERS = [0x18103000, 0x18104000];   // WLAN ARM CM3, SOC RAM (base + WRAPPER_REGISTER_OFFSET)
const AI_RESETCTRL_OFFSET = 0x800;
const AIRC_RESET = 1;          // CYW43_BACKPLANE_READ_PAD_LEN_BYTES: the F1 response delay

const bswap32 = (v) => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
const rev16 = (v) => (((v & 0x00ff00ff) << 8) | ((v >>> 8) & 0x00ff00ff)) >>> 0;

// The backplane's address space: sparse, byte-addressed, stored as 4 KB pages.
export class Backplane {
  constructor() {
    this.pages = new Map();
    this.readHooks = [];     // [start, end, fn(address) -> byte | undefined]
    this.writeHooks = [];    // [start, end, fn(address, byte)]
  }
  page(address) {
    const key = address >>> 12;
    let p = this.pages.get(key);
    if (!p) {
      p = new Uint8Array(4096);
      this.pages.set(key, p);
    }
    return p;
  }
  read8(address) {
    for (const [start, end, fn] of this.readHooks) {
      if (address >= start && address < end) {
        const v = fn(address);
        if (v !== undefined) return v & 0xff;
      }
    }
    return this.page(address)[address & 0xfff];
  }
  write8(address, value) {
    this.page(address)[address & 0xfff] = value;
    for (const [start, end, fn] of this.writeHooks) {
      if (address >= start && address < end) fn(address, value);
    }
  }
  read32(address) {
    return (this.read8(address) | (this.read8(address + 1) << 8) | (this.read8(address + 2) << 16) |
            (this.read8(address + 3) << 24)) >>> 0;
  }
  write32(address, value) {
    for (let i = 0; i < 4; i++) this.write8(address + i, (value >>> (8 * i)) & 0xff);
  }
}

export class Cyw43 {
  constructor(chip, { trace = null } = {}) {
    this.chip = chip;
    this.trace = trace;
    this.backplane = new Backplane();
    this.wlan = null;            // function 2's frames, when modelled
    this.bluetooth = null;       // the shared-bus Bluetooth, when attached
    this.powered = false;
    this.reset();
    this.stats = { transactions: 0, bits: 0, f1Writes: 0, f1Reads: 0, f2Writes: 0, f2Reads: 0 };
    chip.gpio[PIN_CS].addListener(() => this.onChipSelect());
    chip.gpio[PIN_CLOCK].addListener(() => this.onClock());
    chip.gpio[PIN_REG_ON].addListener(() => this.onRegOn());
  }

  reset() {
    this.f0 = new Uint8Array(0x20);
    this.swapped16 = true;       // until the host writes WORD_LENGTH_32 into the bus control register
    this.window = 0;
    this.f1regs = new Map();
    this.selected = false;
    this.lastClock = false;
    this.interrupts = 0;
    this.setF0u32(SPI_READ_TEST_REGISTER, TEST_PATTERN);
    // Power-on: RAM lost, the WLAN ARM and SOC RAM cores held in reset until the host releases them.
    this.backplane.pages.clear();
    for (const wrapper of CORE_WRAPPERS) this.backplane.write8(wrapper + AI_RESETCTRL_OFFSET, AIRC_RESET);
  }

  log(...args) {
    if (this.trace) this.trace(args.join(' '));
  }

  onRegOn() {
    const on = this.chip.gpio[PIN_REG_ON].outputValue;
    if (on && !this.powered) {
      this.reset();
      if (this.wlan) this.wlan.powerOn();
      this.log('power on');
    }
    this.powered = on;
  }

  // -- the wire ------------------------------------------------------------------------------------------
  onChipSelect() {
    const selected = !this.chip.gpio[PIN_CS].outputValue;
    if (selected === this.selected) return;
    this.selected = selected;
    if (selected) {
      this.bits = 0;
      this.word = 0;
      this.words = [];
      this.command = null;
      this.reply = null;
      this.replyBit = 0;
    } else {
      this.endTransaction();
      this.updateHostWake();
    }
  }

  onClock() {
    const level = this.chip.gpio[PIN_CLOCK].outputValue;
    const rising = level && !this.lastClock;
    this.lastClock = level;
    if (!rising || !this.selected || !this.powered) return;
    const data = this.chip.gpio[PIN_DATA];
    if (data.outputEnable) {
      this.word = ((this.word << 1) | (data.outputValue ? 1 : 0)) >>> 0;
      if (++this.bits === 32) {
        this.bits = 0;
        this.onWord(this.word);
        this.word = 0;
      }
    } else {
      if (!this.reply) this.prepareReply();
      const i = this.replyBit++;
      const w = this.reply[i >>> 5] ?? 0;
      data.setInputValue(!!((w >>> (31 - (i & 31))) & 1));
    }
    this.stats.bits++;
  }

  // A word as the host's memory held it (the DMA swaps bytes, the PIO shifts MSB first).
  onWord(wire) {
    const memory = bswap32(wire);
    if (this.command === null) {
      const cmd = this.swapped16 ? rev16(memory) : memory;
      this.command = {
        write: cmd >>> 31, fn: (cmd >>> 28) & 3, address: (cmd >>> 11) & 0x1ffff, size: cmd & 0x7ff || 0x800,
      };
    } else {
      this.words.push(this.swapped16 ? rev16(memory) : memory);
    }
  }

  prepareReply() {
    const c = this.command;
    const bytes = c ? this.readFunction(c.fn, c.address, c.size) : new Uint8Array(4);
    const pad = c && c.fn === 1 ? BACKPLANE_PAD_BYTES : 0;
    const total = pad + ((bytes.length + 3) & ~3);
    const words = new Uint32Array(total / 4 + 1);
    for (let i = 0; i < bytes.length; i++) words[(pad + i) >> 2] |= bytes[i] << (8 * ((pad + i) & 3));
    for (let i = 0; i < words.length; i++) {
      const memory = this.swapped16 ? rev16(words[i]) : words[i] >>> 0;
      words[i] = bswap32(memory);
    }
    this.reply = words;
    if (c) this.log('read', 'F' + c.fn, hex(c.address), c.size, hexBytes(bytes));
  }

  endTransaction() {
    const c = this.command;
    if (!c) return;
    this.stats.transactions++;
    if (c.write) {
      const bytes = new Uint8Array(this.words.length * 4);
      this.words.forEach((w, i) => { for (let b = 0; b < 4; b++) bytes[4 * i + b] = (w >>> (8 * b)) & 0xff; });
      const data = bytes.subarray(0, Math.min(c.size, bytes.length));
      this.log('write', 'F' + c.fn, hex(c.address), c.size, hexBytes(data));
      this.writeFunction(c.fn, c.address, data);
    }
  }

  updateHostWake() {
    // Between transactions the data line is the interrupt, active high once the host configured it so.
    const polarityHigh = this.f0[SPI_BUS_CONTROL] & INTERRUPT_POLARITY_HIGH;
    const pending = this.pendingInterrupts() !== 0;
    this.chip.gpio[PIN_DATA].setInputValue(polarityHigh ? pending : !pending);
  }

  pendingInterrupts() {
    const enabled = this.f0[SPI_INTERRUPT_ENABLE_REGISTER] | (this.f0[SPI_INTERRUPT_ENABLE_REGISTER + 1] << 8);
    return this.interruptBits() & enabled;
  }

  interruptBits() {
    let bits = this.interrupts;
    if (this.wlan && this.wlan.pending()) bits |= F2_PACKET_AVAILABLE;
    if (this.bluetooth && this.bluetooth.fcPending) bits |= F1_INTR;
    return bits;
  }

  raise(bits) {
    this.interrupts |= bits;
    if (!this.selected) this.updateHostWake();
  }

  // -- the functions -------------------------------------------------------------------------------------
  f0u32(at) {
    return (this.f0[at] | (this.f0[at + 1] << 8) | (this.f0[at + 2] << 16) | (this.f0[at + 3] << 24)) >>> 0;
  }
  setF0u32(at, v) {
    for (let i = 0; i < 4; i++) this.f0[at + i] = (v >>> (8 * i)) & 0xff;
  }

  readFunction(fn, address, size) {
    const out = new Uint8Array(size);
    if (fn === 0) {
      if (address === SPI_INTERRUPT_REGISTER) {
        const bits = this.interruptBits();
        this.f0[SPI_INTERRUPT_REGISTER] = bits & 0xff;
        this.f0[SPI_INTERRUPT_REGISTER + 1] = bits >>> 8;
      } else if (address === SPI_STATUS_REGISTER) {
        this.setF0u32(SPI_STATUS_REGISTER, this.status());
      }
      for (let i = 0; i < size; i++) out[i] = this.f0[(address + i) & 0x1f];
    } else if (fn === 1) {
      this.stats.f1Reads++;
      for (let i = 0; i < size; i++) out[i] = this.readF1(address + i);
    } else if (fn === 2) {
      this.stats.f2Reads++;
      if (this.wlan) out.set(this.wlan.read(size).subarray(0, size));
    }
    return out;
  }

  writeFunction(fn, address, data) {
    if (fn === 0) {
      if (address === SPI_INTERRUPT_REGISTER) {        // write 1 to clear
        this.interrupts &= ~(data[0] | ((data[1] || 0) << 8));
        return;
      }
      for (let i = 0; i < data.length; i++) this.f0[(address + i) & 0x1f] = data[i];
      if (address === SPI_BUS_CONTROL && data[0] & WORD_LENGTH_32) this.swapped16 = false;
    } else if (fn === 1) {
      this.stats.f1Writes++;
      for (let i = 0; i < data.length; i++) this.writeF1(address + i, data[i]);
    } else if (fn === 2) {
      this.stats.f2Writes++;
      if (this.wlan) this.wlan.write(data);
    }
  }

  status() {
    let s = STATUS_F2_RX_READY;
    const n = this.wlan ? this.wlan.pending() : 0;
    if (n) s |= STATUS_F2_PKT_AVAILABLE | (n << STATUS_F2_PKT_LEN_SHIFT);
    return s >>> 0;
  }

  readF1(address) {
    if (address >= 0x10000) {
      if (address === SDIO_CHIP_CLOCK_CSR) return (this.f1regs.get(address) ?? 0) | SBSDIO_ALP_AVAIL | SBSDIO_HT_AVAIL;
      if (address === SDIO_SLEEP_CSR) {       // KEEP_SDIO_ON brings DEVICE_ON with it
        const v = this.f1regs.get(address) ?? 0;
        return v & SBSDIO_SLPCSR_KEEP_SDIO_ON ? v | SBSDIO_SLPCSR_DEVICE_ON : v;
      }
      return this.f1regs.get(address) ?? 0;
    }
    return this.backplane.read8(this.window | (address & BACKPLANE_ADDR_MASK));
  }

  writeF1(address, value) {
    if (address >= 0x10000) {
      this.f1regs.set(address, value);
      if (address >= SDIO_BACKPLANE_ADDRESS_LOW && address <= SDIO_BACKPLANE_ADDRESS_LOW + 2) {
        const shift = 8 * (address - SDIO_BACKPLANE_ADDRESS_LOW + 1);
        this.window = ((this.window & ~(0xff << shift)) | (value << shift)) >>> 0 & ~BACKPLANE_ADDR_MASK;
      }
      return;
    }
    this.backplane.write8(this.window | (address & BACKPLANE_ADDR_MASK), value);
  }
}

function hex(v) {
  return '0x' + (v >>> 0).toString(16);
}

function hexBytes(bytes) {
  const n = Math.min(bytes.length, 24);
  return Buffer.from(bytes.subarray(0, n)).toString('hex') + (bytes.length > n ? `..(${bytes.length})` : '');
}

// -- WLAN control (function 2): SDPCM frames carrying CDC ioctls -------------------------------------------------
// Every ioctl gets an answer with its id and no error, so the driver's start-up (the CLM download, the
// country, the event mask, reading the MAC) completes; there is no WLAN beyond that. Each answer grants
// credit for the next frames. A GET of `cur_etheraddr` returns MAC; any other GET returns zeros.
const SDPCM_HEADER_LEN = 12;
const IOCTL_HEADER_LEN = 16;
const CDCF_IOC_SET = 0x02;
export const MODEL_MAC = [0x28, 0xcd, 0xc1, 0x00, 0xe2, 0x01];   // Raspberry Pi's OUI, a made-up device part

export class Wlan {
  constructor() {
    this.powerOn();
    this.ioctls = 0;
  }
  powerOn() {
    this.replies = [];
    this.sequence = 0;
  }
  pending() {
    return this.replies.length ? this.replies[0].length : 0;
  }
  read(size) {
    const reply = this.replies.shift() || new Uint8Array(size);
    const out = new Uint8Array(Math.max(size, reply.length));
    out.set(reply);
    return out;
  }
  write(frame) {
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    if (frame.length < SDPCM_HEADER_LEN) return;
    const size = view.getUint16(0, true);
    const hostSequence = frame[4];
    const channel = frame[5] & 0x0f;
    const headerLength = frame[7];
    if (channel !== 0 || size < headerLength + IOCTL_HEADER_LEN) return;   // data frames: no WLAN here
    const at = headerLength;
    const cmd = view.getUint32(at, true);
    const lengths = view.getUint32(at + 4, true);
    const flags = view.getUint32(at + 8, true);
    const payload = frame.subarray(at + IOCTL_HEADER_LEN, size);
    const outLength = lengths & 0xffff;
    const answer = new Uint8Array(flags & CDCF_IOC_SET ? 0 : outLength);
    if (!(flags & CDCF_IOC_SET)) {
      const name = new TextDecoder().decode(payload.subarray(0, Math.max(0, payload.indexOf(0))));
      if (name === 'cur_etheraddr') answer.set(MODEL_MAC);
    }
    this.ioctls++;
    const total = SDPCM_HEADER_LEN + IOCTL_HEADER_LEN + answer.length;
    const reply = new Uint8Array((total + 3) & ~3);
    const out = new DataView(reply.buffer);
    out.setUint16(0, total, true);
    out.setUint16(2, ~total & 0xffff, true);
    reply[4] = this.sequence++ & 0xff;
    reply[5] = 0;                                   // control channel
    reply[7] = SDPCM_HEADER_LEN;
    reply[9] = (hostSequence + 8) & 0xff;           // bus data credit: room for the next frames
    out.setUint32(12, cmd, true);
    out.setUint32(16, lengths, true);
    out.setUint32(20, flags & ~1, true);            // the id kept, no error flag
    out.setUint32(24, 0, true);                     // status
    reply.set(answer, SDPCM_HEADER_LEN + IOCTL_HEADER_LEN);
    this.replies.push(reply);
  }
}

// -- Bluetooth over the shared bus (pico-sdk cybt_shared_bus) ------------------------------------------------
// The host downloads the BT firmware into 0x19000000.., waits for FW_RDY in BT_CTRL_REG, reads the base of
// two 4 KB rings in WLAN RAM from WLAN_RAM_BASE_REG, and exchanges HCI packets through them: each packet a
// 3-byte length and an H4 packet type, padded to 4 bytes. The host toggles DATA_VALID in HOST_CTRL_REG
// after writing; the chip sets I_HMB_FC_CHANGE in the SDIO core's interrupt status (F1 interrupt) after
// writing. HCI goes to and comes from `hci`, a bumble controller as H4 bytes.
const BTFW_MEM_OFFSET = 0x19000000;
const BT_CTRL_REG_ADDR = 0x18000c7c;
const WLAN_RAM_BASE_REG_ADDR = 0x18000d68;
const HOST_CTRL_REG_ADDR = 0x18000d6c;
const SDIO_INT_STATUS = 0x18002020;
const I_HMB_FC_CHANGE = 1 << 5;
const BTSDIO_REG_DATA_VALID = 1 << 1;
const BTSDIO_REG_FW_RDY = 1 << 24;
const BTSDIO_REG_BT_AWAKE = 1 << 8;
const BT_RING_BASE = 0x00070000;          // in WLAN RAM, above the WLAN firmware, below the NVRAM
const RING_SIZE = 0x1000;
const H2B_IN = BT_RING_BASE + 0x2000;
const H2B_OUT = BT_RING_BASE + 0x2004;
const B2H_IN = BT_RING_BASE + 0x2008;
const B2H_OUT = BT_RING_BASE + 0x200c;

export class Bluetooth {
  constructor(cyw43, hci) {
    this.cyw43 = cyw43;
    this.hci = hci;                 // {send(Uint8Array h4), onPacket: set by us}
    this.fwBytes = 0;
    this.hostCtrl = 0;
    this.pendingToHost = [];
    this.packetsToHost = 0;
    this.packetsFromHost = 0;
    const bp = cyw43.backplane;
    bp.writeHooks.push([BTFW_MEM_OFFSET, BTFW_MEM_OFFSET + 0x1000000, () => { this.fwBytes++; }]);
    bp.readHooks.push([BT_CTRL_REG_ADDR, BT_CTRL_REG_ADDR + 4, (a) => {
      const v = this.fwBytes ? BTSDIO_REG_FW_RDY | BTSDIO_REG_BT_AWAKE : 0;
      return v >>> (8 * (a - BT_CTRL_REG_ADDR));
    }]);
    bp.readHooks.push([WLAN_RAM_BASE_REG_ADDR, WLAN_RAM_BASE_REG_ADDR + 4,
      (a) => BT_RING_BASE >>> (8 * (a - WLAN_RAM_BASE_REG_ADDR))]);
    bp.writeHooks.push([HOST_CTRL_REG_ADDR, HOST_CTRL_REG_ADDR + 4, (a) => {
      if (a !== HOST_CTRL_REG_ADDR + 3) return;      // the word is complete once its last byte lands
      const v = bp.read32(HOST_CTRL_REG_ADDR);
      if ((v ^ this.hostCtrl) & BTSDIO_REG_DATA_VALID) this.onHostToggle();
      this.hostCtrl = v;
    }]);
    bp.writeHooks.push([SDIO_INT_STATUS, SDIO_INT_STATUS + 4, (a, value) => {
      // write 1 to clear (cyw43_ll_bt_has_work writes back the bits it saw)
      if (a === SDIO_INT_STATUS) this.fcPending = this.fcPending && !(value & I_HMB_FC_CHANGE);
    }]);
    bp.writeHooks.push([B2H_OUT, B2H_OUT + 4, (a) => { if (a === B2H_OUT + 3) this.drain(); }]);
    bp.readHooks.push([SDIO_INT_STATUS, SDIO_INT_STATUS + 4,
      (a) => (a === SDIO_INT_STATUS && this.fcPending ? I_HMB_FC_CHANGE : 0)]);
    this.fcPending = false;
    hci.onPacket = (h4) => this.toHost(h4);
    cyw43.bluetooth = this;
  }

  onHostToggle() {
    // Everything between the ring's out and in indices is whole packets.
    const bp = this.cyw43.backplane;
    let out = bp.read32(H2B_OUT);
    const end = bp.read32(H2B_IN);
    const take = (n) => {
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = bp.read8(BT_RING_BASE + ((out + i) & (RING_SIZE - 1)));
      out = (out + n) & (RING_SIZE - 1);
      return bytes;
    };
    while (out !== end) {
      const header = take(4);
      const length = header[0] | (header[1] << 8) | (header[2] << 16);
      const body = take((length + 3) & ~3).subarray(0, length);
      const h4 = new Uint8Array(length + 1);
      h4[0] = header[3];
      h4.set(body, 1);
      this.packetsFromHost++;
      this.cyw43.log('bt host->ctrl', hexBytes(h4));
      this.hci.send(h4);
    }
    bp.write32(H2B_OUT, out);
    this.drain();
  }

  toHost(h4) {
    this.pendingToHost.push(h4);
    this.drain();
  }

  drain() {
    // Into the B2H ring while it has room; the rest waits for the host to read.
    const bp = this.cyw43.backplane;
    let wrote = false;
    while (this.pendingToHost.length) {
      const h4 = this.pendingToHost[0];
      const length = h4.length - 1;
      const need = 4 + ((length + 3) & ~3);
      const inIdx = bp.read32(B2H_IN);
      const outIdx = bp.read32(B2H_OUT);
      const used = (inIdx - outIdx) & (RING_SIZE - 1);
      if (RING_SIZE - 1 - used < need) break;
      const bytes = new Uint8Array(need);
      bytes[0] = length & 0xff;
      bytes[1] = (length >> 8) & 0xff;
      bytes[2] = length >> 16;
      bytes[3] = h4[0];
      bytes.set(h4.subarray(1), 4);
      for (let i = 0; i < need; i++) bp.page(BT_RING_BASE + RING_SIZE + ((inIdx + i) & (RING_SIZE - 1)))[
        (BT_RING_BASE + RING_SIZE + ((inIdx + i) & (RING_SIZE - 1))) & 0xfff] = bytes[i];
      bp.write32(B2H_IN, (inIdx + need) & (RING_SIZE - 1));
      this.pendingToHost.shift();
      this.packetsToHost++;
      this.cyw43.log('bt ctrl->host', hexBytes(h4));
      wrote = true;
    }
    if (wrote) {
      this.fcPending = true;
      this.cyw43.raise(0);
    }
  }
}

export { SBSDIO_SB_ACCESS_2_4B_FLAG, F1_INTR };
