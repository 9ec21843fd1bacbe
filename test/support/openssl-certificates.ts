/**
 * Certificates made by OpenSSL's command line, for storage tests: made by a tool that is not ours,
 * so what we read and store is what the rest of the world writes.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Authority {
  certificate: string;
  keyPath: string;
  certificatePath: string;
}

export class OpenSslWorkspace {
  readonly directory = mkdtempSync(join(tmpdir(), "pkcs11-webcrypto-certs-"));
  #count = 0;

  path(name: string): string {
    return join(this.directory, name);
  }

  #next(stem: string): string {
    return this.path(`${stem}-${++this.#count}`);
  }

  openssl(...args: string[]): string {
    return execFileSync("openssl", args, { cwd: this.directory, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  }

  /** Runs openssl and returns its exit status with everything it printed (some verdicts go to stderr). */
  opensslOutput(...args: string[]): { status: number | null; output: string } {
    const result = spawnSync("openssl", args, { cwd: this.directory, encoding: "utf8" });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  /** A self-signed CA with a P-256 key. */
  rootAuthority(subject: string): Authority {
    const base = this.#next("root");
    this.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${base}.key`,
      "-out", `${base}.pem`, "-subj", subject, "-days", "30", "-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=keyCertSign,cRLSign");
    return { certificate: readFileSync(`${base}.pem`, "utf8"), keyPath: `${base}.key`, certificatePath: `${base}.pem` };
  }

  /**
   * A certificate for `publicKeyPem` (SPKI PEM; a new P-256 key when omitted) issued by `issuer`;
   * a CA certificate when `ca` is set. Returns it with its key's path (when the key is OpenSSL's).
   */
  issue(subject: string, issuer: Authority, options: { publicKeyPem?: string; ca?: boolean } = {}): Authority {
    const base = this.#next("cert");
    let keyPath = "";
    let publicPath = `${base}.pub`;
    if (options.publicKeyPem) {
      writeFileSync(publicPath, options.publicKeyPem);
    } else {
      keyPath = `${base}.key`;
      this.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyPath);
      this.openssl("pkey", "-in", keyPath, "-pubout", "-out", publicPath);
    }
    const extensions = `${base}.ext`;
    writeFileSync(extensions, options.ca ? "basicConstraints=critical,CA:true\nkeyUsage=keyCertSign,cRLSign\n" : "basicConstraints=CA:false\nkeyUsage=digitalSignature\n");
    this.openssl("x509", "-new", "-subj", subject, "-force_pubkey", publicPath, "-CA", issuer.certificatePath, "-CAkey", issuer.keyPath,
      "-days", "10", "-extfile", extensions, "-out", `${base}.pem`);
    return { certificate: readFileSync(`${base}.pem`, "utf8"), keyPath, certificatePath: `${base}.pem` };
  }

  /** A PKCS#10 request with a new P-256 key. */
  request(subject: string): string {
    const base = this.#next("request");
    this.openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${base}.key`, "-out", `${base}.pem`, "-subj", subject);
    return readFileSync(`${base}.pem`, "utf8");
  }

  /** PEM to DER bytes. */
  der(pem: string): Buffer<ArrayBuffer> {
    return Buffer.from(pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");
  }

  remove(): void {
    rmSync(this.directory, { recursive: true, force: true });
  }
}
