// A failed operation on an in-process software token must not take Node's own crypto down.
//
// SoftHSM shares Node's libcrypto, and a failed operation (a bad ECDSA signature, an AES-KW
// unwrap that fails its integrity check) leaves OpenSSL errors on the calling thread's queue;
// Node's WebCrypto then aborted the process (an assertion in CipherJob::ToResult) on its next
// job that succeeded. Found by fuzzing unwrapKey next to Node's (test/fuzz/unwrap-key.test.ts).
// Each scenario runs in a child process, so that a regression fails this test instead of
// aborting the whole run. SoftHSM on every TEST_TOKEN: the problem is an in-process token's.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { softHsmConfig } from "../support/tokens.js";

const INDEX = join(__dirname, "..", "..", "src", "index.ts");

/** Script for the child: make the token fail one way, then use Node's WebCrypto. */
function script(failure: string): string {
  return `
const { Crypto } = require(${JSON.stringify(INDEX)});
const s = globalThis.crypto.subtle;
(async () => {
  const crypto = new Crypto(${JSON.stringify(softHsmConfig("main"))});
  const ours = crypto.subtle;
  const nodeAes = await s.generateKey({ name: "AES-GCM", length: 128 }, true, ["encrypt"]);
  const nodeEc = await s.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
  for (let round = 0; round < 3; round++) {
    let answer;
    switch (${JSON.stringify(failure)}) {
      case "ECDSA verify of a bad signature": {
        const pair = await ours.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
        answer = await ours.verify({ name: "ECDSA", hash: "SHA-256" }, pair.publicKey, new Uint8Array(64).fill(0xff), new Uint8Array(3));
        break;
      }
      case "AES-KW unwrap of a bad wrapping": {
        const kek = await ours.generateKey({ name: "AES-KW", length: 256 }, false, ["unwrapKey"]);
        answer = await ours.unwrapKey("raw", new Uint8Array(40).fill(7), kek, "AES-KW", "AES-GCM", true, ["encrypt"]).catch((e) => e.name);
        break;
      }
      case "AES-GCM decrypt of a bad tag": {
        const key = await ours.generateKey({ name: "AES-GCM", length: 128 }, false, ["decrypt"]);
        answer = await ours.decrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, key, new Uint8Array(40)).catch((e) => e.name);
        break;
      }
    }
    if (answer !== false && answer !== "OperationError") throw new Error("the failure did not happen: " + answer);
    await s.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, nodeAes, new Uint8Array(10));
    await s.sign({ name: "ECDSA", hash: "SHA-256" }, nodeEc.privateKey, new Uint8Array(10));
    await s.digest("SHA-256", new Uint8Array(10));
  }
  await crypto.close();
  console.log("Node's crypto still works");
})().catch((error) => { console.error(error); process.exit(2); });
`;
}

describe("faults: OpenSSL errors a failed token call leaves behind", () => {
  for (const failure of ["ECDSA verify of a bad signature", "AES-KW unwrap of a bad wrapping", "AES-GCM decrypt of a bad tag"]) {
    it(`after ${failure} on the token, Node's WebCrypto still works (no abort)`, function () {
      this.timeout(60_000);
      const child = spawnSync(process.execPath, ["--import", "tsx", "-e", script(failure)], { encoding: "utf8", env: process.env, timeout: 50_000 });
      const output = `${child.stdout}${child.stderr}`;
      assert.equal(child.signal, null, `the child was killed by ${child.signal}:\n${output.slice(0, 1500)}`);
      assert.equal(child.status, 0, `the child exited with ${child.status}:\n${output.slice(0, 1500)}`);
      assert.match(child.stdout, /Node's crypto still works/);
    });
  }
});
