// The Pico W firmware image on an emulated RP2040 (npm rp2040js, pinned in package-lock.json), with what
// the board has around the chip: QSPI flash that keeps what MicroPython writes (its littlefs), the USB
// serial port as a TCP port, an I2C bus whose 0x3C device acks (its bytes go to the host's SSD1306
// decoder, sim/oled.py) and button pins pulled up. Driven by sim/rp2040.py over stdin/stdout:
//
//   node sim/rp2040_emulator.mjs --bootrom B.bin --uf2 FIRMWARE.uf2 [--hold PIN] [--speed X]
//   stdin, one JSON object a line:  {"cmd":"pin","pin":14,"value":0}  {"cmd":"press","pin":14,"ms":250,"gap":250,"after":0}
//       {"cmd":"reboot","hold":[14]}
//       {"cmd":"speed","value":1000}  {"cmd":"stats","id":N}  {"cmd":"quit"}
//   stdout, one JSON object a line: {"event":"usb","port":P}  {"event":"i2c","addr":60,"data":"hex","ms":T,"cycles":C}
//       {"event":"pin","pin":17,"value":1,"ms":T,"cycles":C}  {"event":"boot","reason":"power|reboot|watchdog"}
//       {"event":"pressed","pin":14,"ms":T,"cycles":C}  {"event":"released","pin":14,"ms":T}  {"event":"usb-ready","ms":T}
//       {"event":"stats","id":N,"cycles":C,"ms":T}   (C: instructions' cycles since the last boot)
//
// Time is simulated: 8 ns a cycle (125 MHz) while the core runs; idle (WFI or WFE, rp2040js's core.waiting)
// jumps to the next timer alarm, but never further ahead of the wall clock than --speed times (1: a real
// board's pace). So C (cycles executed) over T is the core's awake fraction: the rest it spent waiting.
// (machine.lightsleep runs its few clock-switching instructions at 12 MHz; they are counted at 8 ns.)
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { RP2040, USBCDC, BasePeripheral, Simulator } from 'rp2040js';

const SimulationClock = new Simulator().clock.constructor;   // the package exports it only through Simulator

const CYCLE_NANOS = 8;
const BUTTON_PINS = [14, 15, 16];        // boards.pico_w: A, B, C to GND, pulled up
const WATCHED_PINS = [17, 23];           // the buzzer / LED signal (boards.pico_w); WL_ON, the CYW43's power
const OLED_ADDRESS = 0x3c;
const I2C_SDA = 4;                       // boards.pico_w: I2C0
const I2C_SCL = 5;
const FLASH_SIZE = 2 * 1024 * 1024;      // the Pico W's W25Q16
const ADC_BATTERY = 3;                   // VSYS/3 on ADC3

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// -- QSPI flash: the boot ROM's flash_range_erase/program talk to it through the SSI, byte for byte ------
class FlashChip {
  constructor(bytes) {
    this.bytes = bytes;
    this.reset();
    this.erases = 0;
    this.programs = 0;
  }
  reset() {
    this.command = -1;
    this.address = 0;
    this.count = 0;
  }
  exchange(tx) {
    if (this.command < 0) {
      this.command = tx;
      this.count = 0;
      this.address = 0;
      return 0;
    }
    const n = this.count++;
    switch (this.command) {
      case 0x02: // page program: 3 address bytes, then data ANDed in, wrapping inside the 256-byte page
        if (n < 3) {
          this.address = (this.address << 8) | tx;
          return 0;
        } else {
          const page = this.address & ~0xff;
          const at = page | ((this.address + n - 3) & 0xff);
          if (at < this.bytes.length) this.bytes[at] &= tx;
          if (n === 3) this.programs++;
          return 0;
        }
      case 0x20: // 4 KB sector erase
      case 0x52: // 32 KB block erase
      case 0xd8: // 64 KB block erase
        if (n < 3) {
          this.address = (this.address << 8) | tx;
          if (n === 2) {
            const size = this.command === 0x20 ? 4096 : this.command === 0x52 ? 32768 : 65536;
            const start = this.address & ~(size - 1);
            this.bytes.fill(0xff, start, Math.min(start + size, this.bytes.length));
            this.erases++;
          }
        }
        return 0;
      case 0x03: // read data
      case 0x0b: // fast read (one dummy byte)
        if (n < 3) {
          this.address = (this.address << 8) | tx;
          return 0;
        } else {
          const skip = this.command === 0x0b ? 4 : 3;
          if (n < skip) return 0;
          const at = this.address + n - skip;
          return at < this.bytes.length ? this.bytes[at] : 0xff;
        }
      case 0x9f: // JEDEC ID: Winbond W25Q16
        return [0xef, 0x40, 0x15][n] ?? 0;
      case 0x4b: // unique ID after 4 dummy bytes
        return n < 4 ? 0 : 0xe2 ^ n;
      default: // status reads (0x05, 0x35: never busy), write enable, XIP mode entry
        return 0;
    }
  }
}

class QspiIo extends BasePeripheral {
  // IO_QSPI: only the chip select's OUTOVER matters (the boot ROM forces it low around each command).
  constructor(rp2040, name, flash) {
    super(rp2040, name);
    this.flash = flash;
    this.ctrl = new Uint32Array(6);
  }
  readUint32(offset) {
    const pin = offset >> 3;
    return offset & 4 && pin < 6 ? this.ctrl[pin] : 0;
  }
  writeUint32(offset, value) {
    const pin = offset >> 3;
    if (!(offset & 4) || pin >= 6) return;
    this.ctrl[pin] = value;
    if (pin === 1 && ((value >> 8) & 3) !== 2) this.flash.reset(); // chip select released: command ends
  }
}

function wireFlashSsi(ssi, flash) {
  // The SSI's data register talks to the flash chip, a byte back for each byte sent, through an RX FIFO
  // whose level (RXFLR) and not-empty flag (SR) the boot ROM's and the SDK's flash loops poll; the TX
  // side drains at once. Everything else stays rp2040js's own.
  const read = ssi.readUint32.bind(ssi);
  const write = ssi.writeUint32.bind(ssi);
  const rx = [];
  ssi.readUint32 = (offset) => {
    switch (offset) {
      case 0x60: return rx.length ? rx.shift() : 0;                  // DR0
      case 0x20: return 0;                                           // TXFLR
      case 0x24: return rx.length;                                   // RXFLR
      case 0x28: return 0x06 | (rx.length ? 0x08 : 0);               // SR: TFNF | TFE | RFNE
      default: return read(offset);
    }
  };
  ssi.writeUint32 = (offset, value) => {
    if (offset === 0x60) rx.push(flash.exchange(value & 0xff));
    else {
      if (offset === 0x08 && !(value & 1)) rx.length = 0;            // SSIENR off flushes the FIFOs
      write(offset, value);
    }
  };
}

// -- the board ---------------------------------------------------------------------------------------------
const bootrom = new Uint32Array(new Uint8Array(readFileSync(arg('bootrom'))).buffer);
const flashBytes = new Uint8Array(FLASH_SIZE).fill(0xff);
loadUf2(readFileSync(arg('uf2')), flashBytes);
let speed = Number(arg('speed', '1'));
const held = new Set((arg('hold', '') || '').split(',').filter((s) => s).map(Number));
let outputLevels = {};

function loadUf2(data, into) {
  for (let off = 0; off + 512 <= data.length; off += 512) {
    const view = new DataView(data.buffer, data.byteOffset + off, 512);
    if (view.getUint32(0, true) !== 0x0a324655 || view.getUint32(4, true) !== 0x9e5d5157) continue;
    const address = view.getUint32(12, true);
    const size = view.getUint32(16, true);
    const at = address - 0x10000000;
    if (at >= 0 && at + size <= into.length) into.set(data.subarray(off + 32, off + 32 + size), at);
  }
}

let chip = null;
let flash = null;
let clock = null;
let cdc = null;
let client = null;
let pendingOut = [];
let pendingRead = null;

let hostBytes = [];   // host -> device, unbounded (rp2040js's own FIFO drops what exceeds 512 bytes)

function serveRead() {
  if (!pendingRead || !hostBytes.length || pendingRead.endpoint !== cdc.outEndpoint) return;
  const n = Math.min(pendingRead.size, hostBytes.length);
  const buffer = Uint8Array.from(hostBytes.slice(0, n));
  hostBytes = hostBytes.slice(n);
  const { endpoint } = pendingRead;
  pendingRead = null;
  chip.usbCtrl.endpointReadDone(endpoint, buffer);
}
let bootCycles = 0;
let bootNanos = 0;
let wallStart = 0;
let simStart = 0;

function boot(reason) {
  clock = new SimulationClock();
  chip = new RP2040(clock);
  chip.logger = { debug() {}, info() {}, warn() {}, error(c, m) { process.stderr.write(`[${c}] ${m}\n`); } };
  chip.loadBootrom(bootrom);   // also erases the chip's own flash array: ours is copied in below
  chip.flash.set(flashBytes);
  flash = new FlashChip(chip.flash);
  wireFlashSsi(chip.peripherals[0x18000], flash);
  chip.peripherals[0x40018] = new QspiIo(chip, 'IO_QSPI_BASE', flash);
  chip.core.PC = 0x10000000;
  chip.watchdog = chip.peripherals[0x40058];
  if (chip.watchdog && 'onWatchdogTrigger' in chip.watchdog) {
    // rp2040js 1.4.1 re-arms the expired countdown at 0 ns, so the clock would fire it forever: stop its
    // alarm first (the chip is reset anyway), then reboot.
    chip.watchdog.onWatchdogTrigger = () => {
      if (chip.watchdog.alarm) chip.watchdog.alarm.enable = false;
      rebootRequest = 'watchdog';
    };
  }
  chip.adc.channelValues[ADC_BATTERY] = Math.round((3950 / 3 / 3300) * 4095);
  for (const pin of BUTTON_PINS) chip.gpio[pin].setInputValue(!held.has(pin));
  outputLevels = {};
  for (const pin of WATCHED_PINS) {
    chip.gpio[pin].addListener(() => {
      const value = chip.gpio[pin].outputValue ? 1 : 0;
      if (outputLevels[pin] !== value) {
        outputLevels[pin] = value;
        emit({ event: 'pin', pin, value, ms: simMs(), cycles: bootCycles });
      }
    });
  }
  wireI2c(chip.i2c[0]);
  wireSoftI2cTarget(chip.gpio[I2C_SDA], chip.gpio[I2C_SCL], OLED_ADDRESS);
  cdc = new USBCDC(chip.usbCtrl);
  cdc.onDeviceConnected = () => emit({ event: 'usb-ready', ms: simMs() });
  // rp2040js answers every OUT transfer the firmware arms at once, with zero bytes when the host sent
  // nothing: TinyUSB re-arms at once and the core never sleeps. A real host answers only with data.
  pendingRead = null;
  hostBytes = [];
  chip.usbCtrl.onEndpointRead = (endpoint, size) => {
    pendingRead = { endpoint, size };
    serveRead();
  };
  cdc.onSerialData = (buffer) => {
    if (client) client.write(Buffer.from(buffer));
    else pendingOut.push(Buffer.from(buffer));
  };
  bootCycles = 0;
  wallStart = Date.now();
  simStart = 0;
  emit({ event: 'boot', reason });
}

function simMs() {
  return clock.nanos / 1e6;
}

function wireI2c(i2c) {
  let address = -1;
  let bytes = [];
  i2c.onStart = () => i2c.completeStart();
  i2c.onConnect = (addr) => {
    address = addr;
    bytes = [];
    i2c.completeConnect(addr === OLED_ADDRESS);
  };
  i2c.onWriteByte = (value) => {
    bytes.push(value);
    i2c.completeWrite(true);
  };
  i2c.onReadByte = () => i2c.completeRead(0);
  i2c.onStop = () => {
    if (address === OLED_ADDRESS && bytes.length) {
      emit({ event: 'i2c', addr: address, data: Buffer.from(bytes).toString('hex'), ms: simMs(), cycles: bootCycles });
    }
    bytes = [];
    i2c.completeStop();
  };
}

function wireSoftI2cTarget(sda, scl, address) {
  // The same bus at the pin level, pulled up: MicroPython's rp2 I2C.scan() bit-bangs its zero-length
  // probes on the pins (the I2C block cannot send them), so the display must ack its address there too.
  let ackLow = false;
  let phase = 'idle';
  let bits = 0;
  let byte = 0;
  const line = (pin) => !(pin.outputEnable && !pin.outputValue);   // open drain: only a 0 is driven
  let lastScl = line(scl);
  let lastSda = line(sda);
  const update = () => {
    const sclLevel = line(scl);
    let sdaLevel = line(sda) && !ackLow;
    if (sclLevel && lastScl && sdaLevel !== lastSda) {          // SDA moving while SCL high: START / STOP
      phase = sdaLevel ? 'idle' : 'address';
      bits = 0;
      byte = 0;
      ackLow = false;
    } else if (sclLevel && !lastScl && phase === 'address' && bits < 8) {   // rising SCL: a bit
      byte = (byte << 1) | (sdaLevel ? 1 : 0);
      bits++;
    } else if (!sclLevel && lastScl) {                          // falling SCL: the ACK slot starts or ends
      if (phase === 'address' && bits === 8) {
        ackLow = byte >> 1 === address;
        phase = 'ack';
      } else if (phase === 'ack') {
        ackLow = false;
        phase = 'idle';
      }
    }
    sdaLevel = line(sda) && !ackLow;
    scl.setInputValue(sclLevel);
    sda.setInputValue(sdaLevel);
    lastScl = sclLevel;
    lastSda = sdaLevel;
  };
  sda.addListener(update);
  scl.addListener(update);
  update();
}

// -- running -----------------------------------------------------------------------------------------------
let rebootRequest = null;
let quitting = false;

function run() {
  if (quitting) return;
  if (rebootRequest) {
    flashBytes.set(chip.flash.subarray(0, FLASH_SIZE));
    const reason = rebootRequest;
    rebootRequest = null;
    boot(reason);
  }
  const core = chip.core;
  const wallLimit = (Date.now() - wallStart) * 1e6 * speed + 50e6;   // sim may lead the wall by 50 ms
  let ahead = false;
  for (let i = 0; i < 200000; i++) {
    if (core.waiting) {
      const wait = clock.nanosToNextAlarm;
      if (clock.nanos - simStart + wait > wallLimit) {   // idle ahead of the wall clock: let it catch up
        ahead = true;
        break;
      }
      clock.tick(wait);
    } else {
      const cycles = core.executeInstruction();
      bootCycles += cycles;
      clock.tick(cycles * CYCLE_NANOS);
    }
    if (rebootRequest) break;
  }
  if (ahead) setTimeout(run, 2);
  else setImmediate(run);
}

const server = createServer((socket) => {
  if (client) client.destroy();
  client = socket;
  socket.setNoDelay(true);
  for (const b of pendingOut) socket.write(b);
  pendingOut = [];
  socket.on('data', (data) => {
    for (const b of data) hostBytes.push(b);
    serveRead();
  });
  socket.on('close', () => { if (client === socket) client = null; });
  socket.on('error', () => {});
});

createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  const msg = JSON.parse(line);
  switch (msg.cmd) {
    case 'pin':
      if (msg.value) held.delete(msg.pin);
      else held.add(msg.pin);
      chip.gpio[msg.pin].setInputValue(!!msg.value);
      break;
    case 'press': {   // msg.after ms from now (simulated) held down for msg.ms, released, 'released' msg.gap ms later
      const pin = msg.pin;
      const done = clock.createAlarm(() => emit({ event: 'released', pin, ms: simMs() }));
      const release = clock.createAlarm(() => {
        held.delete(pin);
        chip.gpio[pin].setInputValue(true);
        done.schedule((msg.gap || 0) * 1e6);
      });
      const down = () => {
        held.add(pin);
        chip.gpio[pin].setInputValue(false);
        emit({ event: 'pressed', pin, ms: simMs(), cycles: bootCycles });
        release.schedule(msg.ms * 1e6);
      };
      if (msg.after) clock.createAlarm(down).schedule(msg.after * 1e6);
      else down();
      break;
    }
    case 'reboot':   // a power cycle: RAM and peripherals lost, the flash kept
      held.clear();
      for (const pin of msg.hold || []) held.add(pin);
      rebootRequest = 'reboot';
      break;
    case 'speed':
      speed = msg.value;
      wallStart = Date.now();
      simStart = clock.nanos;
      break;
    case 'stats':
      emit({ event: 'stats', id: msg.id, cycles: bootCycles, ms: simMs(), pc: chip.core.PC, lr: chip.core.LR, waiting: chip.core.waiting,
             stack: Array.from({ length: 24 }, (_, i) => chip.readUint32(chip.core.SP + 4 * i)),
             flash: { erases: flash.erases, programs: flash.programs } });
      break;
    case 'quit':
      quitting = true;
      server.close();
      if (client) client.destroy();
      process.exit(0);
  }
});
process.stdin.on('end', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  emit({ event: 'usb', port: server.address().port });
  boot('power');
  run();
});
