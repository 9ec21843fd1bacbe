import { keepAlive } from "./keep-alive.js";
import { pkcs11js, type Handle, type Mechanism, type Template } from "./pkcs11.js";
import { ckrName, ckrOf, clearOpenSslErrors, TokenError } from "./token-error.js";
import type { Token } from "./token.js";

/**
 * The PKCS#11 calls that WebCrypto operations are made of, each on a leased session. Anything
 * that may take long (private-key operations, large data) uses pkcs11js's asynchronous variant,
 * which runs on a libuv worker thread; every buffer such a call touches is held by keepAlive.
 *
 * Empty input is a zero-length view into a live buffer (nonNullEmpty): pkcs11js passes an empty
 * Buffer as a NULL pointer, which tokens answer with CKR_ARGUMENTS_BAD. (Init then Final alone
 * would avoid the pointer, but single-part-only mechanisms such as RSA OAEP and EdDSA refuse it.)
 */

/**
 * An output buffer of at least one byte: pkcs11js passes an empty buffer as NULL, which PKCS#11
 * reads as a length query that leaves the operation active on the session.
 */
const outputBuffer = (length: number) => Buffer.allocUnsafeSlow(Math.max(1, length));

/**
 * Small operations on a token that answers in microseconds run inline: a call to a worker thread
 * and back costs tens of microseconds, several times the work itself, and blocks nothing for
 * longer than the call would. Large data, RSA (private-key operations take milliseconds) and any
 * token that is not measured quick (a remote one, say) stay on worker threads.
 */
const INLINE_LIMIT = 16 * 1024;
const slowMechanisms = new Set<number>([
  pkcs11js.CKM_RSA_PKCS, pkcs11js.CKM_RSA_PKCS_PSS, pkcs11js.CKM_RSA_PKCS_OAEP, pkcs11js.CKM_RSA_X_509,
  pkcs11js.CKM_SHA1_RSA_PKCS, pkcs11js.CKM_SHA256_RSA_PKCS, pkcs11js.CKM_SHA384_RSA_PKCS, pkcs11js.CKM_SHA512_RSA_PKCS,
  pkcs11js.CKM_SHA1_RSA_PKCS_PSS, pkcs11js.CKM_SHA256_RSA_PKCS_PSS, pkcs11js.CKM_SHA384_RSA_PKCS_PSS, pkcs11js.CKM_SHA512_RSA_PKCS_PSS,
]);

function inline(token: Token, mechanism: Mechanism, data: Buffer): boolean {
  return token.quickCalls && data.length <= INLINE_LIMIT && !slowMechanisms.has(mechanism.mechanism);
}

/** Return values from C_Verify that mean "this signature is not valid". */
const invalidSignature = new Set<number>([pkcs11js.CKR_SIGNATURE_INVALID, pkcs11js.CKR_SIGNATURE_LEN_RANGE]);

/**
 * An asynchronous pkcs11js call with its buffers held (see keepAlive). pkcs11js's asynchronous
 * errors do not say which function failed, so the name is added here.
 */
async function callAsync<T>(method: string, held: readonly unknown[], call: () => Promise<T>): Promise<T> {
  try {
    return await keepAlive(held, call);
  } catch (error) {
    throw named(error, method);
  }
}

/** The same for an inline call (pkcs11js does not always name the function there either). */
function callInline<T>(method: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw named(error, method);
  }
}

function named(error: unknown, method: string): unknown {
  if (error instanceof pkcs11js.Pkcs11Error && !error.method) {
    return new TokenError(`${method} returned ${ckrName(error.code)}`, { code: ckrName(error.code), ckr: error.code, method, cause: error });
  }
  return error;
}

/**
 * Init of an operation with a key that may be always-authenticate (CKA_ALWAYS_AUTHENTICATE): for
 * such a key the PIN is asked (the kept string, or the pin function called anew) before Init, and
 * the per-use login (C_Login with CKU_CONTEXT_SPECIFIC) follows Init at once in the same session,
 * as PKCS#11 requires; the token then allows exactly one operation. Other keys take the
 * synchronous path, so that inline operations stay free of promise turns.
 */
function initWithKey<T>(token: Token, session: Handle, key: Handle, init: () => void, rest: () => T | Promise<T>): T | Promise<T> {
  token.assertCurrent(key);
  if (!token.alwaysAuthenticates(key)) {
    init();
    return rest();
  }
  return token.contextPin().then((pin) => {
    init();
    token.contextLogin(session, pin);
    return rest();
  });
}

export function signOnToken(token: Token, mechanism: Mechanism, key: Handle, data: Buffer, maxLength: number): Promise<Buffer> {
  return token.withOperationSession((session) => {
    const pkcs11 = token.module.pkcs11;
    return initWithKey(token, session, key, () => pkcs11.C_SignInit(session, mechanism, key), () => {
      const out = outputBuffer(maxLength);
      const input = nonNullEmpty(data);
      if (inline(token, mechanism, data)) return callInline("C_Sign", () => pkcs11.C_Sign(session, input, out));
      return callAsync("C_Sign", [input, out, mechanism], () => pkcs11.C_SignAsync(session, input, out));
    });
  });
}

export function verifyOnToken(token: Token, mechanism: Mechanism, key: Handle, data: Buffer, signature: Buffer): Promise<boolean> {
  // No signature is valid when empty (and pkcs11js would pass the token a NULL pointer).
  if (signature.length === 0) return Promise.resolve(false);
  return token.withOperationSession(async (session) => {
    const pkcs11 = token.module.pkcs11;
    token.assertCurrent(key);
    pkcs11.C_VerifyInit(session, mechanism, key);
    try {
      const input = nonNullEmpty(data);
      if (inline(token, mechanism, data)) return callInline("C_Verify", () => pkcs11.C_Verify(session, input, signature));
      return await callAsync("C_Verify", [input, signature, mechanism], () => pkcs11.C_VerifyAsync(session, input, signature));
    } catch (error) {
      // An invalid signature is an answer, not a failure: Web Crypto's verify says false. (The
      // token's OpenSSL errors must not stay behind for Node's crypto: see clearOpenSslErrors.)
      if (invalidSignature.has(ckrOf(error) ?? 0)) {
        clearOpenSslErrors();
        return false;
      }
      throw error;
    }
  });
}

export function encryptOnToken(token: Token, mechanism: Mechanism, key: Handle, data: Buffer, maxLength: number): Promise<Buffer> {
  return token.withOperationSession((session) => {
    const pkcs11 = token.module.pkcs11;
    token.assertCurrent(key);
    pkcs11.C_EncryptInit(session, mechanism, key);
    const out = outputBuffer(maxLength);
    const input = nonNullEmpty(data);
    if (inline(token, mechanism, data)) return callInline("C_Encrypt", () => pkcs11.C_Encrypt(session, input, out));
    return callAsync("C_Encrypt", [input, out, mechanism], () => pkcs11.C_EncryptAsync(session, input, out));
  });
}

export function decryptOnToken(token: Token, mechanism: Mechanism, key: Handle, data: Buffer, maxLength: number): Promise<Buffer> {
  return token.withOperationSession((session) => {
    const pkcs11 = token.module.pkcs11;
    return initWithKey(token, session, key, () => pkcs11.C_DecryptInit(session, mechanism, key), () => {
      const out = outputBuffer(maxLength);
      const input = nonNullEmpty(data);
      if (inline(token, mechanism, data)) return callInline("C_Decrypt", () => pkcs11.C_Decrypt(session, input, out));
      return callAsync("C_Decrypt", [input, out, mechanism], () => pkcs11.C_DecryptAsync(session, input, out));
    });
  });
}

export function digestOnToken(token: Token, mechanism: Mechanism, data: Buffer, length: number): Promise<Buffer> {
  return token.withOperationSession((session) => {
    const pkcs11 = token.module.pkcs11;
    pkcs11.C_DigestInit(session, mechanism);
    const out = outputBuffer(length);
    const input = nonNullEmpty(data);
    if (inline(token, mechanism, data)) return callInline("C_Digest", () => pkcs11.C_Digest(session, input, out));
    if (token.quickCalls && token.inFlight <= 1) return digestInParts(token, session, data, out);
    return callAsync("C_Digest", [input, out], () => pkcs11.C_DigestAsync(session, input, out));
  }, { login: false });
}

/**
 * A large digest on a quick token: C_DigestUpdate inline, a slice at a time, letting the event
 * loop run between slices. pkcs11js's asynchronous C_Digest copies its whole input on the main
 * thread before handing it to a worker (a fresh allocation: about half a millisecond per MiB
 * here, more than the hashing), so this is both faster and kinder to the event loop: it is never
 * held for longer than one slice (about 0.25 ms). Only when this is the token's one operation in
 * flight: with others waiting, the worker threads' second core is worth more than the copy.
 */
const DIGEST_SLICE = 256 * 1024;

async function digestInParts(token: Token, session: Handle, data: Buffer, out: Buffer): Promise<Buffer> {
  const pkcs11 = token.module.pkcs11;
  for (let offset = 0; offset < data.length; offset += DIGEST_SLICE) {
    callInline("C_DigestUpdate", () => pkcs11.C_DigestUpdate(session, data.subarray(offset, offset + DIGEST_SLICE)));
    if (offset + DIGEST_SLICE < data.length) await new Promise((resolve) => setImmediate(resolve));
  }
  return callInline("C_DigestFinal", () => pkcs11.C_DigestFinal(session, out));
}

/** C_CreateObject, for imported keys. Quick, so synchronous. */
export function createObjectOnToken(token: Token, template: Template): Promise<Handle> {
  return token.withObjectSession((session) => token.adopt(token.module.pkcs11.C_CreateObject(session, template)));
}

/**
 * C_GenerateKey. Synchronous by default: secret-key generation takes microseconds, and pkcs11js's
 * asynchronous key generation leaks its mechanism and template on every call (its issue #120).
 */
export function generateKeyOnToken(token: Token, mechanism: Mechanism, template: Template): Promise<Handle> {
  return token.withObjectSession((session) => token.adopt(token.module.pkcs11.C_GenerateKey(session, mechanism, template)));
}

/**
 * C_GenerateKeyPair, synchronous for fast key types (EC) and on a worker thread for slow ones
 * (RSA takes from tens of milliseconds to seconds), where the small per-call leak of pkcs11js's
 * asynchronous variant is the lesser cost than a frozen event loop.
 */
export function generateKeyPairOnToken(
  token: Token,
  mechanism: Mechanism,
  publicTemplate: Template,
  privateTemplate: Template,
  slow: boolean,
): Promise<{ publicKey: Handle; privateKey: Handle }> {
  const adopted = (pair: { publicKey: Handle; privateKey: Handle }) => ({ publicKey: token.adopt(pair.publicKey), privateKey: token.adopt(pair.privateKey) });
  return token.withObjectSession(async (session) => {
    const pkcs11 = token.module.pkcs11;
    if (!slow) return adopted(pkcs11.C_GenerateKeyPair(session, mechanism, publicTemplate, privateTemplate));
    return adopted(
      await callAsync("C_GenerateKeyPair", [mechanism, publicTemplate, privateTemplate], () =>
        pkcs11.C_GenerateKeyPairAsync(session, mechanism, publicTemplate, privateTemplate),
      ),
    );
  });
}

/** Reads attribute values of an object (synchronous: attribute reads are quick). */
export function readAttributes(token: Token, handle: Handle, types: number[]): Buffer[] {
  token.assertCurrent(handle);
  const result = token.module.pkcs11.C_GetAttributeValue(token.syncSession, handle, types.map((type) => ({ type })));
  return result.map((attribute) => attribute.value);
}

export function destroyObject(token: Token, handle: Handle): void {
  // A handle from before a reconnection may now name someone else's object: never destroy that.
  if (token.isStale(handle)) return;
  token.module.pkcs11.C_DestroyObject(token.syncSession, handle);
}

/** Handles of the objects matching a template (C_FindObjects*, on a leased session). */
export function findObjects(token: Token, template: Template): Promise<Handle[]> {
  return token.withOperationSession((session) => {
    const pkcs11 = token.module.pkcs11;
    pkcs11.C_FindObjectsInit(session, template);
    try {
      const found: Handle[] = [];
      for (;;) {
        const batch = pkcs11.C_FindObjects(session, 256);
        found.push(...batch.map((handle) => token.adopt(handle)));
        if (batch.length < 256) return found;
      }
    } finally {
      pkcs11.C_FindObjectsFinal(session);
    }
  });
}

/**
 * C_DeriveKey: a new key object from a base key, made on the token. Synchronous, like EC key
 * generation: an ECDH derivation takes well under a millisecond, and pkcs11js's asynchronous
 * object-creating calls leak their mechanism and template (its issue #120).
 */
export function deriveKeyOnToken(token: Token, mechanism: Mechanism, baseKey: Handle, template: Template): Promise<Handle> {
  return token.withObjectSession((session) => {
    token.assertCurrent(baseKey);
    return token.adopt(token.module.pkcs11.C_DeriveKey(session, mechanism, baseKey, template));
  });
}

/**
 * Derives a throwaway readable secret (the template must make it CKA_EXTRACTABLE, not
 * CKA_SENSITIVE), reads its CKA_VALUE and destroys it, all in one session call: for deriveBits,
 * whose result is bytes for the caller anyway.
 */
export function deriveSecretOnToken(token: Token, mechanism: Mechanism, baseKey: Handle, template: Template): Promise<Buffer> {
  return token.withObjectSession((session) => {
    const pkcs11 = token.module.pkcs11;
    token.assertCurrent(baseKey);
    const scratch = pkcs11.C_DeriveKey(session, mechanism, baseKey, template);
    try {
      return pkcs11.C_GetAttributeValue(session, scratch, [{ type: pkcs11js.CKA_VALUE }])[0].value;
    } finally {
      pkcs11.C_DestroyObject(session, scratch);
    }
  });
}

/**
 * Empty input as a zero-length view into a live buffer, which pkcs11js passes as a real pointer
 * with length 0, where an empty Buffer would be a NULL pointer (CKR_ARGUMENTS_BAD). Init then
 * Final alone would pass no pointer at all, but single-part-only mechanisms (CKM_EDDSA and
 * CKM_RSA_PKCS_OAEP on SoftHSM) refuse it.
 */
function nonNullEmpty(data: Buffer): Buffer {
  return data.length > 0 ? data : Buffer.allocUnsafeSlow(1).subarray(0, 0);
}
