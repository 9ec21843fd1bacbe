// How far the token itself scales with concurrent calls: raw pkcs11js ECDSA P-256 signatures on a
// throwaway SoftHSM token, first in a synchronous loop on one session, then with 2, 4 and 8
// asynchronous C_SignAsync calls in flight, each on a session of its own. This is the ceiling for
// "N operations in flight" in bench/run.mjs: if raw pkcs11js cannot go faster with more calls in
// flight, neither can we. Run: node bench/raw-async-scaling.mjs [seconds per row, default 2]
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { createThrowawayToken } from "../scripts/throwaway-token.mjs";

const require = createRequire(import.meta.url);
const pkcs11js = require("pkcs11js");
const seconds = Number(process.argv[2] ?? 2);

const token = createThrowawayToken({ label: "scaling", prefix: "pkcs11-webcrypto-scaling-" });
const pkcs11 = new pkcs11js.PKCS11();
pkcs11.load(token.library);
pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
try {
  const slot = pkcs11.C_GetSlotList(true).find((candidate) => pkcs11.C_GetTokenInfo(candidate).label.trim() === token.label);
  const open = () => pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  const first = open();
  pkcs11.C_Login(first, pkcs11js.CKU_USER, token.pin);
  const { privateKey } = pkcs11.C_GenerateKeyPair(
    first,
    { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
    [{ type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from("06082a8648ce3d030107", "hex") }, { type: pkcs11js.CKA_VERIFY, value: true }],
    [{ type: pkcs11js.CKA_SIGN, value: true }, { type: pkcs11js.CKA_SENSITIVE, value: true }],
  );
  const digest = createHash("sha256").update("data").digest();
  const mechanism = { mechanism: pkcs11js.CKM_ECDSA };

  let count = 0;
  let end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    pkcs11.C_SignInit(first, mechanism, privateKey);
    pkcs11.C_Sign(first, digest, Buffer.alloc(64));
    count++;
  }
  const syncRate = count / seconds;
  console.log(`synchronous loop, one session: ${Math.round(syncRate)} signatures/s`);
  for (const inFlight of [2, 4, 8]) {
    const sessions = Array.from({ length: inFlight }, open);
    let done = 0;
    end = Date.now() + seconds * 1000;
    await Promise.all(sessions.map(async (session) => {
      while (Date.now() < end) {
        pkcs11.C_SignInit(session, mechanism, privateKey);
        await pkcs11.C_SignAsync(session, digest, Buffer.alloc(64));
        done++;
      }
    }));
    const rate = done / seconds;
    console.log(`${inFlight} asynchronous calls in flight: ${Math.round(rate)} signatures/s (${(rate / syncRate).toFixed(2)}x the loop)`);
  }
} finally {
  pkcs11.C_Finalize();
  token.remove();
}
