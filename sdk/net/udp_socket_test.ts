import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  defaultUdpImplementation,
  openUdpSocket,
  type UdpImplementation,
  type UdpPeer,
} from "./udp_socket.ts";

/** Collects what a socket receives; `next()` waits for the next datagram. */
function inbox() {
  const got: { message: Buffer; from: UdpPeer }[] = [];
  let wake: (() => void) | undefined;
  return {
    got,
    onMessage(message: Buffer, from: UdpPeer) {
      got.push({ message, from });
      wake?.();
    },
    async until(n: number) {
      const deadline = Date.now() + 5000;
      while (got.length < n) {
        if (Date.now() > deadline) throw new Error(`only ${got.length} of ${n} datagrams came`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
    },
  };
}

Deno.test("the project's runtime flags give UDP sockets over Deno's own API", () => {
  // deno.json's "unstable": ["net"]; plugin processes run with the same config.
  assert.equal(defaultUdpImplementation(), "deno");
});

for (const implementation of ["deno", "node"] as UdpImplementation[]) {
  Deno.test(`UDP over ${implementation}: datagrams both ways, with the sender's port`, async () => {
    const a = inbox();
    const b = inbox();
    const sa = openUdpSocket({
      family: 4,
      hostname: "127.0.0.1",
      implementation,
      receiveBytes: 4096,
      onMessage: a.onMessage,
    });
    const sb = openUdpSocket({
      family: 4,
      hostname: "127.0.0.1",
      implementation,
      receiveBytes: 4096,
      onMessage: b.onMessage,
    });
    try {
      await Promise.all([sa.bound, sb.bound]);
      assert.equal(sa.implementation, implementation);
      assert.ok(sa.port > 0 && sb.port > 0 && sa.port !== sb.port);
      await sa.send(new TextEncoder().encode("ping"), "127.0.0.1", sb.port);
      await b.until(1);
      assert.equal(b.got[0].message.toString(), "ping");
      assert.deepEqual(b.got[0].from, { address: "127.0.0.1", port: sa.port });
      await sb.send(new TextEncoder().encode("pong"), b.got[0].from.address, b.got[0].from.port);
      await a.until(1);
      assert.equal(a.got[0].message.toString(), "pong");
      // Each message is the callee's to keep: a later datagram does not overwrite an earlier one.
      await sa.send(new TextEncoder().encode("second"), "127.0.0.1", sb.port);
      await b.until(2);
      assert.equal(b.got[0].message.toString(), "ping");
      assert.equal(b.got[1].message.toString(), "second");
    } finally {
      sa.close();
      sb.close();
    }
  });

  Deno.test(`UDP over ${implementation}: a closed socket refuses to send`, async () => {
    const s = openUdpSocket({
      family: 4,
      hostname: "127.0.0.1",
      implementation,
      receiveBytes: 4096,
      onMessage: () => {},
    });
    await s.bound;
    s.close();
    s.close(); // twice is fine
    await assert.rejects(s.send(new Uint8Array(4), "127.0.0.1", 9));
  });
}

Deno.test("UDP over deno: a datagram far larger than receiveBytes comes whole", async () => {
  const b = inbox();
  const receiver = openUdpSocket({
    family: 4,
    hostname: "127.0.0.1",
    implementation: "deno",
    receiveBytes: 512,
    onMessage: b.onMessage,
  });
  const sender = openUdpSocket({
    family: 4,
    hostname: "127.0.0.1",
    implementation: "deno",
    receiveBytes: 512,
    onMessage: () => {},
  });
  try {
    const big = new Uint8Array(20000).map((_, i) => i % 251);
    await sender.send(big, "127.0.0.1", receiver.port);
    await b.until(1);
    assert.equal(b.got[0].message.length, big.length);
    assert.deepEqual(new Uint8Array(b.got[0].message), big);
  } finally {
    receiver.close();
    sender.close();
  }
});

Deno.test("UDP: binding an address in use fails with the system's reason", async () => {
  const first = openUdpSocket({
    family: 4,
    hostname: "127.0.0.1",
    receiveBytes: 512,
    onMessage: () => {},
  });
  await first.bound;
  try {
    for (const implementation of ["deno", "node"] as UdpImplementation[]) {
      await assert.rejects(
        async () => {
          const s = openUdpSocket({
            family: 4,
            hostname: "127.0.0.1",
            port: first.port,
            implementation,
            receiveBytes: 512,
            onMessage: () => {},
          });
          try {
            await s.bound;
          } finally {
            s.close();
          }
        },
        /in use|EADDRINUSE/i,
        implementation,
      );
    }
  } finally {
    first.close();
  }
});
