/**
 * The errors WebCrypto throws, made the way Node's own implementation makes them: DOMExceptions
 * with the spec's names for operation failures, and plain TypeErrors for arguments of the wrong
 * type. The PKCS#11 error (return value and function), when there is one, is the `cause`.
 */
export type WebCryptoErrorName =
  | "NotSupportedError"
  | "InvalidAccessError"
  | "DataError"
  | "OperationError"
  | "SyntaxError"
  | "QuotaExceededError"
  | "TypeMismatchError"
  | "InvalidStateError";

export function webCryptoError(name: WebCryptoErrorName, message: string, cause?: unknown): DOMException {
  // Node's DOMException takes { name, cause } (the DOM typings only know the name form).
  const options = cause === undefined ? name : ({ name, cause } as unknown as string);
  return new DOMException(message, options);
}

export const notSupported = (message: string, cause?: unknown) => webCryptoError("NotSupportedError", message, cause);
export const invalidAccess = (message: string, cause?: unknown) => webCryptoError("InvalidAccessError", message, cause);
export const dataError = (message: string, cause?: unknown) => webCryptoError("DataError", message, cause);
export const operationError = (message: string, cause?: unknown) => webCryptoError("OperationError", message, cause);
export const syntaxError = (message: string, cause?: unknown) => webCryptoError("SyntaxError", message, cause);

/** Wraps a failure below WebCrypto (usually a TokenError) as an OperationError that keeps it as cause. */
export function asOperationError(doing: string, error: unknown): DOMException | TypeError {
  if (error instanceof DOMException || error instanceof TypeError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return operationError(`${doing} failed: ${detail}`, error);
}
