// The reference point of tools/bench/throughput: Espressif's esptool-js writes IMAGE at
// 0x10000 of an espsim board, at BAUD after its stub is running, then checks the
// on-chip MD5. Prints the seconds from connecting to the verified write.
//
// usage: node esptooljs_flash.mjs PORT BAUD IMAGE
import crypto from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../npm/package.json"));
const { ESPLoader, Transport } = await import(require.resolve("esptool-js"));
const { TcpSerialPort } = await import("../../tests/conformance/tcp_serial_port.mjs");

const [port, baud, file] = process.argv.slice(2);
const image = new Uint8Array(fs.readFileSync(file));
const terminal = { clean() {}, writeLine() {}, write() {} };
const transport = new Transport(new TcpSerialPort(Number(port)), false);
const esp = new ESPLoader({ transport, baudrate: Number(baud), romBaudrate: 115200, terminal });
const t0 = process.hrtime.bigint();
await esp.main("no_reset");
await esp.writeFlash({
  fileArray: [{ data: image, address: 0x10000 }],
  flashSize: "keep",
  flashMode: "keep",
  flashFreq: "keep",
  eraseAll: false,
  compress: true,
});
const md5 = await esp.flashMd5sum(0x10000, image.length);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
await transport.disconnect();
if (md5 !== crypto.createHash("md5").update(image).digest("hex")) {
  console.error("esptool-js: MD5 mismatch after the write");
  process.exit(1);
}
console.log(seconds.toFixed(3));
process.exit(0);
