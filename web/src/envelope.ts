// The Quay envelope (docs/protocol.md, "Envelope") as the WebSocket transport carries it: one
// binary WebSocket message = one quay.wire.Envelope, with no 4-byte length header (the
// WebSocket frame has its own length).
import * as flatbuffers from 'flatbuffers';

import { Envelope } from '../gen/quay/wire/envelope';

/** Protocol type ids below the game's (docs/protocol.md, "Type ids"). */
export const PING = 1;
export const PONG = 2;

export interface DecodedEnvelope {
  type: number;
  seq: number;
  /** The nested message: a view into the received bytes, not a copy. */
  payload: Uint8Array;
}

/** Thrown when received bytes are not a well-formed envelope. */
export class EnvelopeError extends Error {}

/**
 * Encodes an envelope around an already encoded message. The payload vector starts 8-byte
 * aligned relative to the envelope (the server rejects a misaligned payload).
 */
export function encodeEnvelope(type: number, seq: number, payload: Uint8Array): Uint8Array {
  if (!Number.isInteger(type) || type < 1 || type > 0xffff) throw new RangeError(`bad type id ${type}`);
  const b = new flatbuffers.Builder(payload.length + 32);
  b.startVector(1, payload.length, 8);
  for (let i = payload.length - 1; i >= 0; --i) b.addInt8(payload[i]);
  const vec = b.endVector();
  b.finish(Envelope.createEnvelope(b, type, seq >>> 0, vec));
  return b.asUint8Array();
}

/**
 * Decodes an envelope, checking what the TypeScript runtime does not (it has no verifier):
 * the root and the payload vector lie inside the bytes, and the type is not 0.
 */
export function decodeEnvelope(bytes: Uint8Array): DecodedEnvelope {
  if (bytes.length < 8) throw new EnvelopeError(`an envelope of ${bytes.length} bytes is too short`);
  const bb = new flatbuffers.ByteBuffer(bytes);
  const root = bb.readUint32(0);
  if (root + 4 > bytes.length) throw new EnvelopeError('the root offset points outside the envelope');
  const vtable = root - bb.readInt32(root);
  if (vtable < 0 || vtable + 4 > bytes.length || vtable + bb.readUint16(vtable) > bytes.length)
    throw new EnvelopeError('the vtable lies outside the envelope');
  const env = Envelope.getRootAsEnvelope(bb);
  const type = env.type();
  if (type === 0) throw new EnvelopeError('type 0 is never valid');
  let payload: Uint8Array = new Uint8Array(0);
  const fieldOffset = bb.__offset(root, 8);
  if (fieldOffset !== 0) {
    const vecAt = root + fieldOffset;
    if (vecAt + 4 > bytes.length) throw new EnvelopeError('the payload offset points outside the envelope');
    const start = vecAt + bb.readUint32(vecAt) + 4;
    if (start > bytes.length || start + bb.readUint32(start - 4) > bytes.length)
      throw new EnvelopeError('the payload runs past the end of the envelope');
    payload = env.payloadArray() ?? payload;
  }
  return { type, seq: env.seq(), payload };
}
