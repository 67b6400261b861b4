// The SDK's wire: every game message survives encode -> envelope -> decode, payloads are
// 8-aligned in the envelope, bad bytes are refused, and the client logs in, answers pings and
// reconnects (over a fake socket, with fake timers).
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { decodeEnvelope, encodeEnvelope, EnvelopeError, PING, PONG } from '../src/envelope';
import { decodeMessage, encodeMessage, MessageType } from '../src/messages';
import { QuayClient, SocketLike, Timers } from '../src/client';
import { ChatChannel } from '../gen/quay/game/wire/chat-channel';
import { ChatMessageT } from '../gen/quay/game/wire/chat-message';
import { ChatSendT } from '../gen/quay/game/wire/chat-send';
import { EntityKind } from '../gen/quay/game/wire/entity-kind';
import { EntitySnapshotT } from '../gen/quay/game/wire/entity-snapshot';
import { EntityStateT } from '../gen/quay/game/wire/entity-state';
import { ErrorCode } from '../gen/quay/game/wire/error-code';
import { KickedT } from '../gen/quay/game/wire/kicked';
import { LoginRequestT } from '../gen/quay/game/wire/login-request';
import { LoginResultT } from '../gen/quay/game/wire/login-result';
import { MoveIntentT } from '../gen/quay/game/wire/move-intent';
import { Vec2T } from '../gen/quay/game/wire/vec2';
import { WorldUpdateT } from '../gen/quay/game/wire/world-update';

function roundTrip<K extends Parameters<typeof encodeMessage>[0]>(type: K, message: Parameters<typeof encodeMessage<K>>[1], seq = 7) {
  const wire = encodeEnvelope(type, seq, encodeMessage(type, message));
  const env = decodeEnvelope(wire);
  assert.equal(env.type, type);
  assert.equal(env.seq, seq);
  return { wire, env, message: decodeMessage(type, env.payload) };
}

test('a login request survives the envelope round trip', () => {
  const { message } = roundTrip(MessageType.LoginRequest, new LoginRequestT('web_player', 's3cret', 1));
  assert.equal(message.name, 'web_player');
  assert.equal(message.token, 's3cret');
  assert.equal(message.protocolVersion, 1);
});

test('chat and movement messages survive the envelope round trip', () => {
  const chat = roundTrip(MessageType.ChatSend, new ChatSendT(ChatChannel.Whisper, 'héllo ✓', 'bob')).message;
  assert.deepEqual([chat.channel, chat.text, chat.to], [ChatChannel.Whisper, 'héllo ✓', 'bob']);
  const move = roundTrip(MessageType.MoveIntent, new MoveIntentT(new Vec2T(12.5, -3.25))).message;
  assert.deepEqual([move.position?.x, move.position?.y], [12.5, -3.25]);
});

test('server messages with vectors, structs and 64-bit fields survive the round trip', () => {
  const result = roundTrip(MessageType.LoginResult, new LoginResultT(ErrorCode.Ok, 2n ** 40n + 3n, 'web_player', 1700000000123n, 20)).message;
  assert.equal(result.characterId, 2n ** 40n + 3n);
  assert.equal(result.serverTimeMs, 1700000000123n);
  assert.equal(result.tickRate, 20);
  const update = new WorldUpdateT(
    42,
    5n,
    [new EntitySnapshotT(9, EntityKind.Npc, 'wolf', new Vec2T(1, 2), 30, 40, 3)],
    [4, 5],
    [new EntityStateT(9, new Vec2T(1.5, 2.5), 29, 40, 3)],
  );
  const got = roundTrip(MessageType.WorldUpdate, update, 0).message;
  assert.equal(got.tick, 42);
  assert.equal(got.enters[0].name, 'wolf');
  assert.equal(got.enters[0].kind, EntityKind.Npc);
  assert.deepEqual(got.leaves, [4, 5]);
  assert.equal(got.updates[0].position?.y, 2.5);
  assert.equal(got.updates[0].hp, 29);
  const chat = roundTrip(MessageType.ChatMessage, new ChatMessageT(ChatChannel.Zone, 3, 'ann', 'hi all', null)).message;
  assert.deepEqual([chat.fromId, chat.fromName, chat.text], [3, 'ann', 'hi all']);
});

test('the payload lies 8-byte aligned from the start of the envelope', () => {
  for (let n = 0; n < 40; ++n) {
    const payload = new Uint8Array(n).map((_, i) => i + 1);
    const wire = encodeEnvelope(MessageType.ChatSend, n, payload);
    const env = decodeEnvelope(wire);
    assert.deepEqual(Array.from(env.payload), Array.from(payload));
    if (n > 0) assert.equal((env.payload.byteOffset - wire.byteOffset) % 8, 0, `payload of ${n} bytes`);
  }
});

test('bytes that are not an envelope are refused', () => {
  assert.throws(() => decodeEnvelope(new Uint8Array([1, 2, 3])), EnvelopeError);
  assert.throws(() => decodeEnvelope(new Uint8Array([0xff, 0xff, 0, 0, 0, 0, 0, 0])), EnvelopeError);
  const wire = encodeEnvelope(MessageType.ChatSend, 1, new Uint8Array(64));
  assert.throws(() => decodeEnvelope(wire.subarray(0, wire.length - 40)), EnvelopeError);
  assert.throws(() => encodeEnvelope(0, 1, new Uint8Array(0)), RangeError);
});

// A socket the test plays the server on.
class FakeSocket implements SocketLike {
  binaryType = 'blob';
  sent: Uint8Array[] = [];
  closedWith: number | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: Uint8Array) { this.sent.push(data); }
  close(code = 1000) { this.closedWith = code; this.onclose?.({ code, reason: '' }); }
  serverSends<K extends Parameters<typeof encodeMessage>[0]>(type: K, m: Parameters<typeof encodeMessage<K>>[1], seq: number) {
    const wire = encodeEnvelope(type, seq, encodeMessage(type, m));
    this.onmessage?.({ data: wire.buffer.slice(wire.byteOffset, wire.byteOffset + wire.length) });
  }
  drop() { this.onclose?.({ code: 1006, reason: '' }); }
}

class FakeTimers implements Timers {
  pending: Array<{ fn: () => void; ms: number }> = [];
  setTimeout(fn: () => void, ms: number) { const t = { fn, ms }; this.pending.push(t); return t; }
  clearTimeout(h: unknown) { this.pending = this.pending.filter((t) => t !== h); }
  runNext(): number { const t = this.pending.shift(); assert.ok(t, 'a timer is pending'); t.fn(); return t.ms; }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const timers = new FakeTimers();
  const client = new QuayClient({
    url: 'ws://127.0.0.1:7000/play', name: 'web_player', token: 't',
    socketFactory: (url) => { const s = new FakeSocket(url); sockets.push(s); return s; },
    timers, reconnectDelayMs: 100, maxDelayMs: 350, maxAttempts: 5,
  });
  return { client, sockets, timers };
}

function loginOn(s: FakeSocket) {
  s.onopen?.({});
  const login = decodeEnvelope(s.sent[s.sent.length - 1]);
  assert.equal(login.type, MessageType.LoginRequest);
  assert.equal(decodeMessage(MessageType.LoginRequest, login.payload).name, 'web_player');
  s.serverSends(MessageType.LoginResult, new LoginResultT(ErrorCode.Ok, 1n, 'web_player', 0n, 20), login.seq);
}

test('the client logs in on open, sends typed messages and hands up typed replies', () => {
  const { client, sockets } = setup();
  const chats: string[] = [];
  client.on(MessageType.ChatMessage, (m) => chats.push(String(m.text)));
  client.connect();
  assert.equal(sockets[0].binaryType, 'arraybuffer');
  assert.throws(() => client.send(MessageType.ChatSend, new ChatSendT(ChatChannel.Say, 'too early', null)));
  loginOn(sockets[0]);
  assert.equal(client.state, 'playing');
  const seq = client.send(MessageType.ChatSend, new ChatSendT(ChatChannel.Say, 'hello', null));
  const sent = decodeEnvelope(sockets[0].sent[sockets[0].sent.length - 1]);
  assert.equal(sent.seq, seq);
  assert.equal(decodeMessage(MessageType.ChatSend, sent.payload).text, 'hello');
  sockets[0].serverSends(MessageType.ChatMessage, new ChatMessageT(ChatChannel.Say, 2, 'bot', 'hi there', null), 0);
  assert.deepEqual(chats, ['hi there']);
});

test('the client answers a ping with a pong carrying its seq', () => {
  const { client, sockets } = setup();
  client.connect();
  loginOn(sockets[0]);
  const ping = encodeEnvelope(PING, 77, new Uint8Array(0));
  sockets[0].onmessage?.({ data: ping.buffer.slice(ping.byteOffset, ping.byteOffset + ping.length) });
  const pong = decodeEnvelope(sockets[0].sent[sockets[0].sent.length - 1]);
  assert.deepEqual([pong.type, pong.seq], [PONG, 77]);
});

test('a dropped connection is reconnected with a doubling delay and logs in again', () => {
  const { client, sockets, timers } = setup();
  client.connect();
  loginOn(sockets[0]);
  sockets[0].drop();
  assert.equal(client.state, 'waiting');
  assert.equal(timers.runNext(), 100);
  sockets[1].drop();  // the server is still down
  assert.equal(timers.runNext(), 200);
  sockets[2].drop();
  assert.equal(timers.runNext(), 350);  // capped at maxDelayMs
  loginOn(sockets[3]);
  assert.equal(client.state, 'playing');
  sockets[3].drop();
  assert.equal(timers.runNext(), 100, 'a successful login resets the backoff');
});

test('the client stops for good after close, a refused login or being replaced', () => {
  let { client, sockets, timers } = setup();
  client.connect();
  loginOn(sockets[0]);
  client.close();
  assert.equal(client.state, 'stopped');
  assert.equal(decodeEnvelope(sockets[0].sent[sockets[0].sent.length - 1]).type, MessageType.Logout);
  assert.equal(timers.pending.length, 0);

  ({ client, sockets, timers } = setup());
  client.connect();
  sockets[0].onopen?.({});
  sockets[0].serverSends(MessageType.LoginResult, new LoginResultT(ErrorCode.InvalidCredentials, 0n, null, 0n, 0), 1);
  sockets[0].drop();
  assert.equal(client.state, 'stopped');
  assert.equal(timers.pending.length, 0);

  ({ client, sockets, timers } = setup());
  client.connect();
  loginOn(sockets[0]);
  sockets[0].serverSends(MessageType.Kicked, new KickedT(ErrorCode.ReplacedByNewLogin, 'elsewhere'), 0);
  sockets[0].drop();
  assert.equal(client.state, 'stopped');
});

test('bytes from the server that are not an envelope close the connection as a protocol error', () => {
  const { client, sockets } = setup();
  const errors: string[] = [];
  client.onProtocolError((e) => errors.push(e.message));
  client.connect();
  loginOn(sockets[0]);
  sockets[0].onmessage?.({ data: new Uint8Array([9, 9, 9]).buffer });
  assert.equal(sockets[0].closedWith, 1002);
  assert.equal(errors.length, 1);
});
