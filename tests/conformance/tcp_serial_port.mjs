// A SerialPort-shaped object over a TCP socket, which is what esptool-js's Transport
// reads and writes (the Web Serial API shape: open, readable, writable, setSignals).
// Used by the conformance suite and by tools/bench to drive espsim boards.
import net from "node:net";

export class TcpSerialPort {
  constructor(port) {
    this.port = port;
    this.readable = null;
    this.writable = null;
  }
  async open() {
    const sock = await new Promise((resolve, reject) => {
      const s = net.connect(this.port, "127.0.0.1", () => resolve(s));
      s.on("error", reject);
    });
    sock.setNoDelay(true);
    this.sock = sock;
    this.readable = new ReadableStream({
      start(controller) {
        sock.on("data", (d) => controller.enqueue(new Uint8Array(d)));
        sock.on("close", () => {
          try {
            controller.close();
          } catch {
            // already closed
          }
        });
      },
    });
    this.writable = new WritableStream({
      write: (chunk) => new Promise((resolve) => sock.write(Buffer.from(chunk), resolve)),
    });
  }
  async close() {
    this.sock.destroy();
    this.readable = null;
    this.writable = null;
  }
  getInfo() {
    return {};
  }
  async setSignals() {}
  async setBaudRate() {}
}

