// The README's first command runs examples/demo.mjs: this runs it as that command does (node on the
// built package) and checks that each verifier's verdict it prints is the good one. The demo makes
// its own SoftHSM token, so it runs once, in the SoftHSM run.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { tokenKind } from "../support/tokens.js";

if (tokenKind() === "softhsm") {
  describe("the demo (npm run demo)", () => {
    it("stores a CA and a signer on a throwaway token, signs CMS and PDF, and OpenSSL and pdfsig accept both", function () {
      this.timeout(120_000);
      const result = spawnSync(process.execPath, ["examples/demo.mjs"], { encoding: "utf8", timeout: 110_000 });
      const output = `${result.stdout}${result.stderr}`;
      assert.equal(result.status, 0, output);
      for (const line of [
        /Asked the token for the CA's private key anyway: refused \(InvalidAccessError\)/,
        /on the token: certificate "Demo signer": CN=Demo signer, issued by CN=Demo CA/,
        /Found the certificate's private key by its CKA_ID: private-[0-9a-f]{40}/,
        /openssl cms -verify \(trusting only the demo CA\): CMS Verification successful/,
        /The same signature over a changed document: rejected, as it must be/,
        /pdfsig \(trusting only the demo CA\): Signature is Valid\. Certificate is Trusted\./,
        /Done: every check passed/,
      ]) {
        assert.match(output, line);
      }
    });
  });
}
