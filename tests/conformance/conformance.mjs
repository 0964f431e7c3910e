// Espressif's own client, esptool-js (npm, pinned in tools/npm), against one espsim
// board over TCP: connect, chip name, MAC, stub upload, a 256 KiB compressed write,
// MD5 verify, read back, erase-region, and a compressed write cut short (the stub must
// refuse to end it, and must refuse an end with no write at all); with PACKAGE and
// CRYSTAL, also the package name and crystal esptool-js reads from the board's eFuses
// and registers (PACKAGE "-": not checked). Every result is asserted; the exit status
// is the number of failed checks.
//
// usage: node conformance.mjs PORT CHIP_NAME MAC [PACKAGE CRYSTAL_MHZ]
import crypto from "node:crypto";
import zlib from "node:zlib";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../../tools/npm/package.json"));
const { ESPLoader, Transport } = await import(require.resolve("esptool-js"));
const { TcpSerialPort } = await import("./tcp_serial_port.mjs");

const [portArg, wantChip, wantMac, wantPackage, wantCrystal] = process.argv.slice(2);
let failures = 0;
function check(what, ok, detail = "") {
  console.log(`${ok ? "ok" : "FAIL"}: ${wantChip} ${what}${detail ? ": " + detail : ""}`);
  if (!ok) failures++;
}

const terminal = { clean() {}, writeLine() {}, write() {} };
const transport = new Transport(new TcpSerialPort(Number(portArg)), false);
const esp = new ESPLoader({ transport, baudrate: 115200, romBaudrate: 115200, terminal });
const md5 = (bytes) => crypto.createHash("md5").update(bytes).digest("hex");

try {
  await esp.main("no_reset");
  check("chip name", esp.chip.CHIP_NAME === wantChip, esp.chip.CHIP_NAME);
  const mac = await esp.chip.readMac(esp);
  check("MAC", mac === wantMac, mac);
  if (wantPackage && wantPackage !== "-") {
    const desc = await esp.chip.getChipDescription(esp);
    check("package", desc.startsWith(wantPackage + " (revision"), desc);
  }
  if (wantCrystal) {
    const mhz = await esp.chip.getCrystalFreq(esp);
    check("crystal", mhz === Number(wantCrystal), `${mhz} MHz`);
  }
  check("stub running", esp.IS_STUB === true);

  const image = new Uint8Array(256 * 1024);
  crypto.randomFillSync(image.subarray(0, 160 * 1024));
  image.fill(0x5a, 160 * 1024); // a compressible tail, like an application image
  await esp.writeFlash({
    fileArray: [{ data: image, address: 0x10000 }],
    flashSize: "keep",
    flashMode: "keep",
    flashFreq: "keep",
    eraseAll: false,
    compress: true,
  });
  const onChip = await esp.flashMd5sum(0x10000, image.length);
  check("MD5 after a compressed write", onChip === md5(image), onChip);

  const back = await esp.readFlash(0x10000, image.length);
  check("read back", Buffer.compare(Buffer.from(back), Buffer.from(image)) === 0,
        `${back.length} bytes`);

  const region = new Uint8Array(8);
  new DataView(region.buffer).setUint32(0, 0x20000, true);
  new DataView(region.buffer).setUint32(4, 0x4000, true);
  await esp.checkCommand("erase region", esp.ESP_ERASE_REGION, region, 0, 0, 3000);
  const erased = await esp.flashMd5sum(0x20000, 0x4000);
  check("erase-region", erased === md5(new Uint8Array(0x4000).fill(0xff)), erased);
  const kept = await esp.flashMd5sum(0x10000, 0x10000);
  check("erase-region left its neighbours", kept === md5(image.subarray(0, 0x10000)), kept);

  // A compressed write cut short after its first block: ending it is refused with the
  // stub's 0xC8 (not enough data), and a second end with 0xC6 (not in flash mode).
  const cut = new Uint8Array(64 * 1024);
  crypto.randomFillSync(cut);
  const z = new Uint8Array(zlib.deflateSync(cut));
  await esp.flashDeflBegin(cut.length, z.length, 0x40000);
  await esp.flashDeflBlock(z.subarray(0, esp.FLASH_WRITE_SIZE), 0, 3000);
  const endError = async () => {
    try {
      await esp.flashDeflFinish(false);
      return "accepted";
    } catch (e) {
      return String(e && e.message ? e.message : e);
    }
  };
  let said = await endError();
  check("a cut-short write is refused at its end", /status 200,0$/.test(said), said);
  said = await endError();
  check("an end with no write is refused", /status 198,0$/.test(said), said);
  const still = await esp.flashMd5sum(0x10000, 0x10000);
  check("the stub still answers after the refusals", still === kept, still);
} catch (e) {
  check("session", false, String(e && e.message ? e.message : e));
} finally {
  try {
    await transport.disconnect();
  } catch {
    // the board may have gone
  }
}
process.exit(failures);
