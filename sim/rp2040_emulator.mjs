// The Pico W firmware image on an emulated RP2040 (npm rp2040js, pinned in package-lock.json), with what
// the board has around the chip: QSPI flash that keeps what MicroPython writes (its littlefs), the USB
// serial port as a TCP port, an I2C bus whose 0x3C device acks (its bytes go to the host's SSD1306
// decoder, sim/oled.py) and button pins pulled up. Driven by sim/rp2040.py over stdin/stdout:
//
//   node sim/rp2040_emulator.mjs --bootrom B.bin --uf2 FIRMWARE.uf2 [--hold PIN] [--speed X] [--flash-mb N]
//       [--watch 17,23] [--hci-uart 1 --radio-reset 3]
//   --hci-uart U: UART U is an HCI H4 line to a radio module, served as a second TCP port ({"event":"hci"}):
//       bytes move at the UART's baud rate in simulated time both ways, the RX side only while the chip's
//       RX FIFO has room (its RTS), the TX side through a 32-byte FIFO whose interrupt fires when it drains
//       to the trigger level, as the PL011's does (rp2040js's own UART sends at once and raises its TX
//       interrupt on every register access, which livelocks a driver that enables it).
//   stdin, one JSON object a line:  {"cmd":"pin","pin":14,"value":0}  {"cmd":"press","pin":14,"ms":250,"gap":250,"after":0}
//       {"cmd":"reboot","hold":[14]}
//       {"cmd":"speed","value":1000}  {"cmd":"stats","id":N}  {"cmd":"quit"}
//   stdout, one JSON object a line: {"event":"usb","port":P}  {"event":"hci","port":P}  {"event":"i2c","addr":60,"data":"hex","ms":T,"cycles":C}
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
import { Cyw43, Bluetooth, Wlan } from './cyw43_model.mjs';
import { connect } from 'node:net';

const SimulationClock = new Simulator().clock.constructor;   // the package exports it only through Simulator

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const CYCLE_NANOS = 8;
const BUTTON_PINS = [14, 15, 16];        // boards.pico_w: A, B, C to GND, pulled up
// the buzzer / LED signal (boards.pico_w); WL_ON, the CYW43's power (or a radio module's reset line)
const WATCHED_PINS = (arg('watch', '17,23') || '').split(',').filter((s) => s).map(Number);
const OLED_ADDRESS = 0x3c;
const I2C_SDA = 4;                       // boards.pico_w: I2C0
const I2C_SCL = 5;
const FLASH_SIZE = Number(arg('flash-mb', '2')) * 1024 * 1024;   // 2: the Pico W's W25Q16
const ADC_BATTERY = 3;                   // VSYS/3 on ADC3

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
const withRadio = process.argv.includes('--cyw43') || !!process.env.E2MON_CYW43;
let radio = null;
let pios = [];
// --hci-port N: the radio's HCI (H4 over TCP) to a bumble controller; kept across reboots like the chip's
// antenna, while each boot's CYW43 model starts powered off.
const hciPort = arg('hci-port', null);
const HCI_HOLD_MS = 50;
const hci = hciPort ? h4Link(Number(hciPort)) : null;

function h4Link(port) {
  // A real controller answers within microseconds; over TCP the answer takes wall-clock milliseconds. While
  // a packet to the controller is unanswered (up to HCI_HOLD_MS of wall time) simulated time stands still.
  const link = {
    onPacket: null,
    holdUntil: 0,
    send: (h4) => { link.holdUntil = Date.now() + HCI_HOLD_MS; socket.write(Buffer.from(h4)); },
  };
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let pending = Buffer.alloc(0);
  socket.on('data', (data) => {
    pending = Buffer.concat([pending, data]);
    for (;;) {
      if (pending.length < 1) return;
      const type = pending[0];
      let size;
      if (type === 4 && pending.length >= 3) size = 3 + pending[2];
      else if (type === 2 && pending.length >= 5) size = 5 + pending.readUInt16LE(3);
      else if (type === 5 && pending.length >= 5) size = 5 + (pending.readUInt16LE(3) & 0x3fff);
      else if (type !== 2 && type !== 4 && type !== 5) throw new Error('H4 packet type ' + type);
      if (size === undefined || pending.length < size) return;
      const packet = new Uint8Array(pending.subarray(0, size));
      pending = pending.subarray(size);
      link.holdUntil = 0;
      if (link.onPacket) link.onPacket(packet);
    }
  });
  socket.on('error', (e) => process.stderr.write('hci link: ' + e.message + '\n'));
  return link;
}

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
let pendingReads = new Map();   // OUT endpoint -> size the firmware armed (CDC's, and e.g. a USB MSC's)

let hostBytes = [];   // host -> device, unbounded (rp2040js's own FIFO drops what exceeds 512 bytes)

function serveRead() {
  const size = pendingReads.get(cdc.outEndpoint);
  if (size === undefined || !hostBytes.length) return;
  const n = Math.min(size, hostBytes.length);
  const buffer = Uint8Array.from(hostBytes.slice(0, n));
  hostBytes = hostBytes.slice(n);
  const endpoint = cdc.outEndpoint;
  pendingReads.delete(endpoint);
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
      const gpio = chip.gpio[pin];
      // a reset line is pulled up on the module: only a driven 0 holds it in reset
      const value = (pin === RADIO_RESET ? !gpio.outputEnable || gpio.outputValue : gpio.outputValue) ? 1 : 0;
      if (outputLevels[pin] !== value) {
        outputLevels[pin] = value;
        emit({ event: 'pin', pin, value, ms: simMs(), cycles: bootCycles });
        if (pin === RADIO_RESET) radioResetLine(value);
      }
    });
  }
  hciUart = null;
  hciInbound = [];
  radioInReset = false;
  if (HCI_UART !== null) wireHciUart(chip.uart[Number(HCI_UART)]);
  wireI2c(chip.i2c[0]);
  if (withRadio) {
    // rp2040js runs the PIO from timers of its own, apart from the core's simulated time; the gSPI
    // transfers are timed by the core's loops, so the PIO steps here, a step per core cycle.
    pios = chip.pio;
    for (const pio of pios) pio.run = () => {};
    const trace = process.env.CYW43_TRACE ? (line) => process.stderr.write(`[cyw43 ${simMs().toFixed(1)}] ${line}\n`) : null;
    radio = new Cyw43(chip, { trace });
    radio.wlan = new Wlan();
    if (hci) new Bluetooth(radio, hci);
  }
  wireSoftI2cTarget(chip.gpio[I2C_SDA], chip.gpio[I2C_SCL], OLED_ADDRESS);
  cdc = new USBCDC(chip.usbCtrl);
  cdc.onDeviceConnected = () => emit({ event: 'usb-ready', ms: simMs() });
  // rp2040js answers every OUT transfer the firmware arms at once, with zero bytes when the host sent
  // nothing: TinyUSB re-arms at once and the core never sleeps. A real host answers only with data.
  pendingReads = new Map();
  hostBytes = [];
  chip.usbCtrl.onEndpointRead = (endpoint, size) => {
    pendingReads.set(endpoint, size);
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

// -- an HCI UART to a radio module (--hci-uart) ---------------------------------------------------------------
const HCI_UART = arg('hci-uart', null);
const RADIO_RESET = Number(arg('radio-reset', '-1'));   // the module's reset pin (watched: --watch lists it)
const UART_FIFO = 32;
const UARTFR_BUSY = 1 << 3;
const UARTFR_RXFE = 1 << 4;
const UARTFR_TXFF = 1 << 5;
const UARTFR_RXFF = 1 << 6;
const UARTFR_TXFE = 1 << 7;
const UART_TXINTR = 1 << 5;
const UART_RXINTR = 1 << 4;
const TX_TRIGGER = [4, 8, 16, 24, 28];     // UARTIFLS.TXIFLSEL: 1/8 .. 7/8 of the FIFO
let hciClient = null;
let hciInbound = [];          // radio -> chip, waiting for the line (unbounded: the radio's own buffer)
let hciUart = null;           // {uart, txFifo, rxAlarm, txAlarm} of the current boot
let radioInReset = false;     // the chip holds the module's reset line low: it neither sends nor listens

function byteNanos(uart) {
  const baud = uart.baudDivider ? uart.baudRate : 115200;
  return Math.round(10e9 / baud);   // start, 8 data, stop
}

function wireHciUart(uart) {
  const state = { uart, txFifo: [], txAlarm: null, rxAlarm: null, ifls: 0x12 };
  const read = uart.readUint32.bind(uart);
  const write = uart.writeUint32.bind(uart);
  const raise = () => chip.setInterrupt(uart.irq, !!(uart.interruptStatus & uart.interruptMask));
  uart.checkInterrupts = raise;     // no TX interrupt on every access: set only as the TX FIFO drains
  const txTrigger = () => TX_TRIGGER[state.ifls & 7] ?? 16;
  // rp2040js's clock leaves an alarm's `scheduled` set once it fired: each callback clears its own
  state.txAlarm = clock.createAlarm(() => {
    state.txAlarm.scheduled = false;
    const byte = state.txFifo.shift();
    if (!radioInReset && hciClient) hciClient.write(Buffer.from([byte]));
    if (state.txFifo.length === txTrigger()) {     // drained down to the trigger level: the interrupt
      uart.interruptStatus |= UART_TXINTR;
      raise();
    }
    if (state.txFifo.length) state.txAlarm.schedule(byteNanos(uart));
  });
  state.rxAlarm = clock.createAlarm(() => {
    state.rxAlarm.scheduled = false;
    // one byte lands in the RX FIFO; the radio holds the next while the FIFO is full (RTS deasserted)
    if (!hciInbound.length || radioInReset) return;
    if (!uart.rxFIFO.full) {
      uart.rxFIFO.push(hciInbound.shift());
      uart.interruptStatus |= UART_RXINTR;
      raise();
    }
    if (hciInbound.length) state.rxAlarm.schedule(byteNanos(uart));
  });
  uart.readUint32 = (offset) => {
    if (offset === 0x18) {   // UARTFR
      const tx = state.txFifo.length;
      return (uart.rxFIFO.full ? UARTFR_RXFF : 0) | (uart.rxFIFO.empty ? UARTFR_RXFE : 0) |
        (tx >= UART_FIFO ? UARTFR_TXFF : 0) | (tx === 0 ? UARTFR_TXFE : UARTFR_BUSY);
    }
    if (offset === 0x34) return state.ifls;
    const value = read(offset);
    if (offset === 0x00 && hciInbound.length && !state.rxAlarm.scheduled) state.rxAlarm.schedule(byteNanos(uart));
    return value;
  };
  uart.writeUint32 = (offset, value) => {
    if (offset === 0x00) {   // UARTDR: into the TX FIFO (a full FIFO drops the byte, as the PL011 does)
      if (state.txFifo.length < UART_FIFO) state.txFifo.push(value & 0xff);
      if (state.txFifo.length > txTrigger()) uart.interruptStatus &= ~UART_TXINTR;
      if (!state.txAlarm.scheduled) state.txAlarm.schedule(byteNanos(uart));
      raise();
      return;
    }
    if (offset === 0x34) {   // UARTIFLS
      state.ifls = value & 0x3f;
      return;
    }
    write(offset, value);
  };
  hciUart = state;
  kickHciRx();
}

function kickHciRx() {
  if (hciUart && hciInbound.length && !hciUart.rxAlarm.scheduled && !radioInReset) {
    hciUart.rxAlarm.schedule(byteNanos(hciUart.uart));
  }
}

function radioResetLine(level) {
  // the module's reset (watched pin, driven by the firmware): low drops what either side had in flight
  radioInReset = !level;
  if (radioInReset) hciInbound = [];
  else kickHciRx();
}

const hciServer = HCI_UART === null ? null : createServer((socket) => {
  if (hciClient) hciClient.destroy();
  hciClient = socket;
  socket.setNoDelay(true);
  socket.on('data', (data) => {
    if (radioInReset) return;
    for (const b of data) hciInbound.push(b);
    kickHciRx();
  });
  socket.on('close', () => { if (hciClient === socket) hciClient = null; });
  socket.on('error', () => {});
});

// -- running -----------------------------------------------------------------------------------------------
let rebootRequest = null;
let quitting = false;
let computing = false;   // the core ran instructions since it last waited

function run() {
  if (quitting) return;
  if (rebootRequest) {
    flashBytes.set(chip.flash.subarray(0, FLASH_SIZE));
    const reason = rebootRequest;
    rebootRequest = null;
    boot(reason);
  }
  const core = chip.core;
  let wallLimit = (Date.now() - wallStart) * 1e6 * speed + 50e6;   // sim may lead the wall by 50 ms
  let ahead = false;
  for (let i = 0; i < 200000; i++) {
    if (hci && hci.holdUntil) {
      if (Date.now() < hci.holdUntil) { ahead = true; break; }
      hci.holdUntil = 0;
    }
    if (core.waiting) {
      if (computing && HCI_UART !== null && clock.nanos - simStart < wallLimit - 100e6) {
        // Idle after computing, behind the wall clock: with a radio on the line, idle time must not race
        // ahead to catch up, or a controller's answer (prompt on the wall clock) would arrive seconds late
        // in the chip's time. Idle time runs at the wall's pace from here.
        wallStart = Date.now();
        simStart = clock.nanos;
        wallLimit = 50e6;
      }
      computing = false;
      const wait = clock.nanosToNextAlarm;
      if (clock.nanos - simStart + wait > wallLimit) {   // idle ahead of the wall clock: let it catch up
        ahead = true;
        break;
      }
      clock.tick(wait);
    } else {
      computing = true;
      const cycles = core.executeInstruction();
      bootCycles += cycles;
      for (const pio of pios) if (!pio.stopped) for (let c = 0; c < cycles; c++) pio.step();
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

function start() {
  emit({ event: 'usb', port: server.address().port });
  boot('power');
  run();
}

server.listen(0, '127.0.0.1', () => {
  if (hciServer) {
    hciServer.listen(0, '127.0.0.1', () => {
      emit({ event: 'hci', port: hciServer.address().port });
      start();
    });
  } else start();
});
