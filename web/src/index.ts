// Quay's TypeScript client SDK: see web/README.md.
export { decodeEnvelope, encodeEnvelope, EnvelopeError, PING, PONG } from './envelope';
export type { DecodedEnvelope } from './envelope';
export { decodeMessage, encodeMessage, isKnownType, MessageType } from './messages';
export type { AnyMessages, ClientMessages, ClientType, ServerMessages, ServerType } from './messages';
export { QuayClient } from './client';
export type { ClientOptions, ClientState, CloseInfo, SocketFactory, SocketLike, Timers } from './client';
