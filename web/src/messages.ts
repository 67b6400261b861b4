// Typed game messages (schemas/*.fbs, generated with flatc --ts --gen-object-api): which type
// id carries which table, in each direction, and their encoding to and from payload bytes.
import * as flatbuffers from 'flatbuffers';

import { Attack, AttackT } from '../gen/quay/game/wire/attack';
import { ChatMessage, ChatMessageT } from '../gen/quay/game/wire/chat-message';
import { ChatSend, ChatSendT } from '../gen/quay/game/wire/chat-send';
import { CombatEvents, CombatEventsT } from '../gen/quay/game/wire/combat-events';
import { EnterZone, EnterZoneT } from '../gen/quay/game/wire/enter-zone';
import { Error as ErrorMessage, ErrorT } from '../gen/quay/game/wire/error';
import { Kicked, KickedT } from '../gen/quay/game/wire/kicked';
import { LoginRequest, LoginRequestT } from '../gen/quay/game/wire/login-request';
import { LoginResult, LoginResultT } from '../gen/quay/game/wire/login-result';
import { Logout, LogoutT } from '../gen/quay/game/wire/logout';
import { MessageType } from '../gen/quay/game/wire/message-type';
import { MoveCorrection, MoveCorrectionT } from '../gen/quay/game/wire/move-correction';
import { MoveIntent, MoveIntentT } from '../gen/quay/game/wire/move-intent';
import { Progress, ProgressT } from '../gen/quay/game/wire/progress';
import { UsePortal, UsePortalT } from '../gen/quay/game/wire/use-portal';
import { WorldUpdate, WorldUpdateT } from '../gen/quay/game/wire/world-update';

export { MessageType };

/** What a client sends, by type id. */
export interface ClientMessages {
  [MessageType.LoginRequest]: LoginRequestT;
  [MessageType.Logout]: LogoutT;
  [MessageType.UsePortal]: UsePortalT;
  [MessageType.MoveIntent]: MoveIntentT;
  [MessageType.Attack]: AttackT;
  [MessageType.ChatSend]: ChatSendT;
}

/** What the server sends, by type id. */
export interface ServerMessages {
  [MessageType.LoginResult]: LoginResultT;
  [MessageType.Kicked]: KickedT;
  [MessageType.Error]: ErrorT;
  [MessageType.EnterZone]: EnterZoneT;
  [MessageType.MoveCorrection]: MoveCorrectionT;
  [MessageType.WorldUpdate]: WorldUpdateT;
  [MessageType.CombatEvents]: CombatEventsT;
  [MessageType.Progress]: ProgressT;
  [MessageType.ChatMessage]: ChatMessageT;
}

export type AnyMessages = ClientMessages & ServerMessages;
export type ClientType = keyof ClientMessages;
export type ServerType = keyof ServerMessages;

type Decoder = (bb: flatbuffers.ByteBuffer) => AnyMessages[keyof AnyMessages];

const decoders: Record<keyof AnyMessages, Decoder> = {
  [MessageType.LoginRequest]: (bb) => LoginRequest.getRootAsLoginRequest(bb).unpack(),
  [MessageType.LoginResult]: (bb) => LoginResult.getRootAsLoginResult(bb).unpack(),
  [MessageType.Logout]: (bb) => Logout.getRootAsLogout(bb).unpack(),
  [MessageType.Kicked]: (bb) => Kicked.getRootAsKicked(bb).unpack(),
  [MessageType.Error]: (bb) => ErrorMessage.getRootAsError(bb).unpack(),
  [MessageType.EnterZone]: (bb) => EnterZone.getRootAsEnterZone(bb).unpack(),
  [MessageType.UsePortal]: (bb) => UsePortal.getRootAsUsePortal(bb).unpack(),
  [MessageType.MoveIntent]: (bb) => MoveIntent.getRootAsMoveIntent(bb).unpack(),
  [MessageType.MoveCorrection]: (bb) => MoveCorrection.getRootAsMoveCorrection(bb).unpack(),
  [MessageType.WorldUpdate]: (bb) => WorldUpdate.getRootAsWorldUpdate(bb).unpack(),
  [MessageType.Attack]: (bb) => Attack.getRootAsAttack(bb).unpack(),
  [MessageType.CombatEvents]: (bb) => CombatEvents.getRootAsCombatEvents(bb).unpack(),
  [MessageType.Progress]: (bb) => Progress.getRootAsProgress(bb).unpack(),
  [MessageType.ChatSend]: (bb) => ChatSend.getRootAsChatSend(bb).unpack(),
  [MessageType.ChatMessage]: (bb) => ChatMessage.getRootAsChatMessage(bb).unpack(),
};

/** True when `type` is a game message this SDK knows. */
export function isKnownType(type: number): type is keyof AnyMessages {
  return Object.prototype.hasOwnProperty.call(decoders, type);
}

/** Encodes one message (an object-API value: LoginRequestT, ChatSendT, ...) to payload bytes. */
export function encodeMessage<K extends keyof AnyMessages>(_type: K, message: AnyMessages[K]): Uint8Array {
  const b = new flatbuffers.Builder(128);
  b.finish(message.pack(b));
  return b.asUint8Array();
}

/** Decodes the payload of a message of `type` into its object-API value. */
export function decodeMessage<K extends keyof AnyMessages>(type: K, payload: Uint8Array): AnyMessages[K] {
  if (payload.length < 4) throw new RangeError(`a ${MessageType[type]} payload of ${payload.length} bytes`);
  // unpack() copies every field out, so nothing keeps a view into the received bytes.
  return decoders[type](new flatbuffers.ByteBuffer(payload)) as AnyMessages[K];
}
