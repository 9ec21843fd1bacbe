// The @peculiar/webcrypto-test suite, unmodified, against one implementation: the mocha spec
// scripts/conformance.mjs runs in a child process per implementation (not part of `npm test`,
// whose spec is test/**/*.test.ts; test/conformance/webcrypto-test.test.ts is the npm test one).
//
//   CONFORMANCE_TARGET  ours | node-webcrypto-p11 | node
//   CONFORMANCE_CONFIG  JSON constructor configuration of the token (ours, node-webcrypto-p11)
//
// The parent makes the throwaway token and passes its SOFTHSM2_CONF in the environment. Ours is
// the built package (dist/cjs), as users get it.
const path = require("node:path");
const { WebcryptoTest } = require("@peculiar/webcrypto-test");

const target = process.env.CONFORMANCE_TARGET;
const config = process.env.CONFORMANCE_CONFIG ? JSON.parse(process.env.CONFORMANCE_CONFIG) : undefined;

let crypto;
let close = async () => {};
if (target === "ours") {
  const { Crypto } = require(path.join(__dirname, "..", "..", "dist", "cjs", "index.js"));
  crypto = new Crypto(config);
  close = () => crypto.close();
} else if (target === "node-webcrypto-p11") {
  const { Crypto } = require("node-webcrypto-p11");
  crypto = new Crypto(config);
  close = async () => crypto.close?.();
} else if (target === "node") {
  crypto = globalThis.crypto;
} else {
  throw new Error(`CONFORMANCE_TARGET=${target} is not one of ours, node-webcrypto-p11, node`);
}

after(async () => {
  await close();
});

WebcryptoTest.check(crypto);
