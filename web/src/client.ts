// A Quay game client over WebSocket: connect, log in, typed send and receive, heartbeats, and
// reconnect with a bounded exponential backoff. Works in browsers (the global WebSocket) and in
// node (any WebSocket-like object from `socketFactory`).
import { decodeEnvelope, encodeEnvelope, PING, PONG } from './envelope';
import {
  AnyMessages,
  ClientMessages,
  ClientType,
  decodeMessage,
  encodeMessage,
  isKnownType,
  MessageType,
  ServerMessages,
  ServerType,
} from './messages';
import { ErrorCode } from '../gen/quay/game/wire/error-code';
import { LoginRequestT } from '../gen/quay/game/wire/login-request';
import { LogoutT } from '../gen/quay/game/wire/logout';

/** The part of the WebSocket API the client uses. */
export interface SocketLike {
  binaryType: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

/** Timers, injectable so tests drive reconnects without waiting. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ClientOptions {
  url: string;
  name: string;
  token: string;
  socketFactory?: SocketFactory;
  timers?: Timers;
  /** First reconnect delay; doubles per failed attempt up to maxDelayMs. 0 turns reconnect off. */
  reconnectDelayMs?: number;
  maxDelayMs?: number;
  /** Attempts in a row before giving up (the state becomes 'stopped'). */
  maxAttempts?: number;
}

export type ClientState = 'idle' | 'connecting' | 'logging-in' | 'playing' | 'waiting' | 'stopped';

export interface CloseInfo {
  code: number;
  reason: string;
  willReconnect: boolean;
}

type Handler<K extends ServerType> = (message: ServerMessages[K], seq: number) => void;

const PROTOCOL_VERSION = 1;

export class QuayClient {
  private readonly opts: Required<Omit<ClientOptions, 'socketFactory' | 'timers'>>;
  private readonly factory: SocketFactory;
  private readonly timers: Timers;
  private socket: SocketLike | null = null;
  private stateValue: ClientState = 'idle';
  private seq = 0;
  private loginSeq = 0;
  private attempts = 0;
  private retry: unknown = null;
  private stopping = false;  // close() was called, or the server said not to come back
  private readonly handlers = new Map<number, Array<(m: unknown, seq: number) => void>>();
  private stateListeners: Array<(s: ClientState) => void> = [];
  private closeListeners: Array<(c: CloseInfo) => void> = [];
  private protocolErrorListeners: Array<(e: Error) => void> = [];

  constructor(options: ClientOptions) {
    this.opts = {
      url: options.url,
      name: options.name,
      token: options.token,
      reconnectDelayMs: options.reconnectDelayMs ?? 500,
      maxDelayMs: options.maxDelayMs ?? 10_000,
      maxAttempts: options.maxAttempts ?? 20,
    };
    this.factory =
      options.socketFactory ??
      ((url) => new (globalThis as unknown as { WebSocket: new (u: string) => SocketLike }).WebSocket(url));
    this.timers = options.timers ?? {
      setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
    };
  }

  get state(): ClientState {
    return this.stateValue;
  }

  /** Calls `handler` for every message of `type` the server sends. */
  on<K extends ServerType>(type: K, handler: Handler<K>): this {
    const list = this.handlers.get(type) ?? [];
    list.push(handler as (m: unknown, seq: number) => void);
    this.handlers.set(type, list);
    return this;
  }

  onState(listener: (s: ClientState) => void): this {
    this.stateListeners.push(listener);
    return this;
  }

  onClose(listener: (c: CloseInfo) => void): this {
    this.closeListeners.push(listener);
    return this;
  }

  /** Bytes from the server that are not a valid envelope or message (the client closes). */
  onProtocolError(listener: (e: Error) => void): this {
    this.protocolErrorListeners.push(listener);
    return this;
  }

  /** Opens the connection; the client logs in as soon as it is open. */
  connect(): void {
    this.stopping = false;
    this.attempts = 0;
    this.open();
  }

  /** Sends one game message; returns its seq. Only while playing (after a successful login). */
  send<K extends ClientType>(type: K, message: ClientMessages[K]): number {
    if (this.stateValue !== 'playing' || this.socket === null)
      throw new Error(`cannot send ${MessageType[type]} while ${this.stateValue}`);
    return this.sendRaw(type, encodeMessage(type, message as AnyMessages[K]));
  }

  /** Logs out (when playing) and closes; no reconnect follows. */
  close(): void {
    this.stopping = true;
    if (this.retry !== null) {
      this.timers.clearTimeout(this.retry);
      this.retry = null;
    }
    if (this.socket !== null) {
      if (this.stateValue === 'playing') this.sendRaw(MessageType.Logout, encodeMessage(MessageType.Logout, new LogoutT()));
      this.socket.close(1000, 'logout');
    } else {
      this.setState('stopped');
    }
  }

  private open(): void {
    this.setState('connecting');
    const s = this.factory(this.opts.url);
    s.binaryType = 'arraybuffer';
    this.socket = s;
    s.onopen = () => {
      if (this.socket !== s) return;
      this.setState('logging-in');
      const login = new LoginRequestT(this.opts.name, this.opts.token, PROTOCOL_VERSION);
      this.loginSeq = this.sendRaw(MessageType.LoginRequest, encodeMessage(MessageType.LoginRequest, login));
    };
    s.onmessage = (ev) => {
      if (this.socket === s) this.receive(ev.data);
    };
    s.onclose = (ev) => {
      if (this.socket === s) this.closed(ev.code, ev.reason);
    };
    s.onerror = () => {
      // A close event always follows an error event; the reconnect decision is made there.
    };
  }

  private sendRaw(type: number, payload: Uint8Array): number {
    this.seq = (this.seq + 1) >>> 0 || 1;
    this.socket!.send(encodeEnvelope(type, this.seq, payload));
    return this.seq;
  }

  private receive(data: unknown): void {
    let bytes: Uint8Array;
    if (data instanceof ArrayBuffer) {
      bytes = new Uint8Array(data);
    } else if (data instanceof Uint8Array) {
      bytes = data;
    } else {
      return this.protocolError(new Error('a text message (Quay sends binary envelopes only)'));
    }
    try {
      const env = decodeEnvelope(bytes);
      if (env.type === PING) {
        this.socket!.send(encodeEnvelope(PONG, env.seq, new Uint8Array(0)));
        return;
      }
      if (env.type === PONG) return;
      if (!isKnownType(env.type)) return this.protocolError(new Error(`unknown message type ${env.type}`));
      const message = decodeMessage(env.type, env.payload);
      this.dispatchBuiltIn(env.type, message, env.seq);
      for (const h of this.handlers.get(env.type) ?? []) h(message, env.seq);
    } catch (e) {
      this.protocolError(e instanceof Error ? e : new Error(String(e)));
    }
  }

  // The client's own reactions: the login's outcome, and being told not to come back.
  private dispatchBuiltIn(type: number, message: unknown, seq: number): void {
    if (type === MessageType.LoginResult && seq === this.loginSeq) {
      const r = message as ServerMessages[MessageType.LoginResult];
      if (r.error === ErrorCode.Ok) {
        this.attempts = 0;
        this.setState('playing');
      } else if (r.error !== ErrorCode.ServerShuttingDown && r.error !== ErrorCode.ServerFull) {
        this.stopping = true;  // credentials or name: trying again changes nothing
      }
    } else if (type === MessageType.Kicked) {
      const k = message as ServerMessages[MessageType.Kicked];
      if (k.reason === ErrorCode.ReplacedByNewLogin) this.stopping = true;
    }
  }

  private protocolError(e: Error): void {
    for (const l of this.protocolErrorListeners) l(e);
    this.socket?.close(1002, 'protocol error');
  }

  private closed(code: number, reason: string): void {
    this.socket = null;
    const willReconnect =
      !this.stopping && this.opts.reconnectDelayMs > 0 && this.attempts < this.opts.maxAttempts;
    for (const l of this.closeListeners) l({ code, reason, willReconnect });
    if (!willReconnect) {
      this.setState('stopped');
      return;
    }
    const delay = Math.min(this.opts.maxDelayMs, this.opts.reconnectDelayMs * 2 ** this.attempts);
    this.attempts += 1;
    this.setState('waiting');
    this.retry = this.timers.setTimeout(() => {
      this.retry = null;
      if (!this.stopping) this.open();
    }, delay);
  }

  private setState(s: ClientState): void {
    if (s === this.stateValue) return;
    this.stateValue = s;
    for (const l of this.stateListeners) l(s);
  }
}
