/**
 * Decode errors. Every decoder in src/wire returns or throws only these: a truncated or odd packet is
 * "incomplete" or "malformed", never a RangeError from an out-of-bounds read.
 */
export type DecodeErrorKind =
  | 'truncated' // fewer bytes than a length field or fixed header says
  | 'malformed' // a value that cannot be right (bad magic, impossible length, pointer loop)
  | 'unsupported' // a valid format or version we do not decode
  | 'limit'; // a hard cap was hit (records per message, labels per name, …)

/**
 * Decoders throw these for attacker-controlled input that is cut or odd, which is routine on real traffic,
 * so construction must be cheap: no stack frames are captured (`stack` holds only the message line).
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    readonly kind: DecodeErrorKind,
    /** Which decoder raised it, e.g. "pcap", "dns", "ipfix". */
    readonly decoder: string,
    message: string,
    /** Byte offset inside the buffer the decoder was given, when known. */
    readonly offset?: number,
  ) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${decoder}: ${message}${offset === undefined ? '' : ` at byte ${offset}`}`);
    Error.stackTraceLimit = limit;
  }
}

export function isDecodeError(e: unknown): e is DecodeError {
  return e instanceof DecodeError;
}
