// The playable web client (served by the zone server at GET / on the game port): log in, walk
// with the keys or a click, see the players and NPCs around, chat, fight (click an NPC) and use
// a portal (P or the button). Canvas plus a little DOM, on the SDK's QuayClient.
import { QuayClient } from '../src/client';
import { MessageType } from '../src/messages';
import { AttackT } from '../gen/quay/game/wire/attack';
import { ChatChannel } from '../gen/quay/game/wire/chat-channel';
import { ChatSendT } from '../gen/quay/game/wire/chat-send';
import { EntityKind } from '../gen/quay/game/wire/entity-kind';
import { ErrorCode } from '../gen/quay/game/wire/error-code';
import { MoveIntentT } from '../gen/quay/game/wire/move-intent';
import { UsePortalT } from '../gen/quay/game/wire/use-portal';
import { Vec2T } from '../gen/quay/game/wire/vec2';

interface Entity {
  id: number;
  kind: EntityKind;
  name: string;
  x: number;
  y: number;
  hp: number;
  maxHp: number;
  level: number;
}

interface Portal {
  name: string;
  x: number;
  y: number;
  radius: number;
}

/** What the page knows, also read by the browser tests (window.quayGame). */
interface GameState {
  state: string;
  zone: string;
  selfId: number;
  entities: Map<number, Entity>;
  chat: Array<{ from: string; text: string; channel: string }>;
  lastError: string;
}

// flatc's object API types strings as string | Uint8Array.
const str = (v: string | Uint8Array | null | undefined) =>
  v == null ? '' : typeof v === 'string' ? v : new TextDecoder().decode(v);

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const game: GameState = { state: 'idle', zone: '', selfId: 0, entities: new Map(), chat: [], lastError: '' };
(window as unknown as { quayGame: GameState }).quayGame = game;

let client: QuayClient | null = null;
let zoneW = 100;
let zoneH = 100;
let speed = 7;
let portals: Portal[] = [];
let target: { x: number; y: number } | null = null;
let fightId = 0;  // the NPC being fought: walked to, attacked whenever in range and ready
let lastAttack = 0;
const ATTACK_RANGE = 2.8;  // metres; the server's rule is 3 (centre to centre)
const ATTACK_EVERY_MS = 1600;  // the server's cooldown is 1.5 s
const keys = new Set<string>();

function me(): Entity | undefined {
  return game.entities.get(game.selfId);
}

function status(text: string): void {
  game.state = text;
  $('status').textContent = text;
}

function addChat(from: string, text: string, channel: string): void {
  game.chat.push({ from, text, channel });
  const line = document.createElement('div');
  line.className = 'chat-line';
  line.textContent = `[${channel}] ${from}: ${text}`;
  const log = $('chat-log');
  log.appendChild(line);
  while (log.childElementCount > 100) log.firstElementChild?.remove();
  log.scrollTop = log.scrollHeight;
}

function upsert(e: Entity): void {
  game.entities.set(e.id, e);
}

function connect(name: string, secret: string): void {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  client = new QuayClient({ url: `${proto}//${location.host}/`, name, token: secret });
  client.onState((s) => {
    status(s);
    $('login').style.display = s === 'playing' || s === 'logging-in' ? 'none' : '';
  });
  client.onClose((c) => {
    if (!c.willReconnect) status(`disconnected (${c.code}${c.reason ? ' ' + c.reason : ''})`);
  });
  client.on(MessageType.LoginResult, (r) => {
    if (r.error !== ErrorCode.Ok) status(`login refused: ${ErrorCode[r.error]}`);
  });
  client.on(MessageType.Kicked, (k) => status(`kicked: ${ErrorCode[k.reason]}`));
  client.on(MessageType.Error, (e) => {
    game.lastError = ErrorCode[e.code] ?? String(e.code);
    $('error').textContent = game.lastError;
  });
  client.on(MessageType.EnterZone, (z) => {
    game.entities.clear();
    game.zone = str(z.zoneName);
    game.selfId = z.selfId;
    zoneW = z.width;
    zoneH = z.height;
    speed = z.maxSpeed > 0 ? z.maxSpeed : speed;
    portals = z.portals.map((p) => ({
      name: str(p.name),
      x: p.position?.x ?? 0,
      y: p.position?.y ?? 0,
      radius: p.radius,
    }));
    upsert({
      id: z.selfId, kind: EntityKind.Player, name, x: z.position?.x ?? 0, y: z.position?.y ?? 0,
      hp: z.hp, maxHp: z.maxHp, level: z.level,
    });
    target = null;
    fightId = 0;
    $('zone').textContent = `${game.zone} (${zoneW}x${zoneH} m)`;
  });
  client.on(MessageType.WorldUpdate, (u) => {
    for (const e of u.enters) {
      upsert({
        id: e.id, kind: e.kind, name: str(e.name), x: e.position?.x ?? 0, y: e.position?.y ?? 0,
        hp: e.hp, maxHp: e.maxHp, level: e.level,
      });
    }
    for (const id of u.leaves) if (id !== game.selfId) game.entities.delete(id);
    for (const s of u.updates) {
      const e = game.entities.get(s.id);
      if (!e) continue;
      if (s.id !== game.selfId) {
        e.x = s.position?.x ?? e.x;
        e.y = s.position?.y ?? e.y;
      }
      e.hp = s.hp;
      e.maxHp = s.maxHp;
      e.level = s.level;
    }
  });
  client.on(MessageType.MoveCorrection, (c) => {
    const m = me();
    if (m && c.position) {
      m.x = c.position.x;
      m.y = c.position.y;
    }
  });
  client.on(MessageType.CombatEvents, (c) => {
    for (const h of c.hits) {
      const a = game.entities.get(h.attacker)?.name ?? `#${h.attacker}`;
      const t = game.entities.get(h.target)?.name ?? `#${h.target}`;
      addChat('combat', `${a} hits ${t} for ${h.damage}${h.killed ? ' (killed)' : ''}`, 'combat');
    }
    const m = me();
    if (m && c.respawned.includes(game.selfId) && c.respawnPosition) {
      m.x = c.respawnPosition.x;
      m.y = c.respawnPosition.y;
      target = null;
    }
  });
  client.on(MessageType.Progress, (p) => addChat('progress', `level ${p.level}, xp ${p.xp}`, 'system'));
  client.on(MessageType.ChatMessage, (m) =>
    addChat(str(m.fromName) || '?', str(m.text), ChatChannel[m.channel] ?? String(m.channel)),
  );
  client.connect();
}

function sendChat(line: string): void {
  if (!client || client.state !== 'playing' || line.trim() === '') return;
  let channel = ChatChannel.Say;
  let to: string | null = null;
  let text = line;
  if (line.startsWith('/z ')) {
    channel = ChatChannel.Zone;
    text = line.slice(3);
  } else if (line.startsWith('/w ')) {
    const [, name, ...rest] = line.split(' ');
    channel = ChatChannel.Whisper;
    to = name ?? '';
    text = rest.join(' ');
  }
  client.send(MessageType.ChatSend, new ChatSendT(channel, text, to));
}

function usePortal(): void {
  if (client?.state === 'playing') client.send(MessageType.UsePortal, new UsePortalT());
}

// ---- drawing and input ----------------------------------------------------------------------

const canvas = $<HTMLCanvasElement>('view');
const ctx = canvas.getContext('2d')!;
const scale = () => Math.min(canvas.width / zoneW, canvas.height / zoneH);
(window as unknown as { quayGameScale: () => number }).quayGameScale = scale;

function draw(): void {
  const k = scale();
  ctx.fillStyle = '#1d2b1f';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = '#3c5a40';
  ctx.strokeRect(0, 0, zoneW * k, zoneH * k);
  for (const p of portals) {
    ctx.strokeStyle = '#9f7cff';
    ctx.beginPath();
    ctx.arc(p.x * k, p.y * k, Math.max(4, p.radius * k), 0, Math.PI * 2);
    ctx.stroke();
    ctx.fillStyle = '#cbb8ff';
    ctx.fillText(p.name, p.x * k + 6, p.y * k - 6);
  }
  for (const e of game.entities.values()) {
    const self = e.id === game.selfId;
    ctx.fillStyle = e.hp <= 0 ? '#555' : self ? '#ffd34d' : e.kind === EntityKind.Npc ? '#e0524d' : '#58a6ff';
    ctx.beginPath();
    ctx.arc(e.x * k, e.y * k, self ? 6 : 5, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = '#ddd';
    ctx.fillText(`${e.name} ${e.hp}/${e.maxHp}`, e.x * k + 7, e.y * k + 4);
  }
  $('entity-count').textContent = String(game.entities.size);
  const m = me();
  $('self').textContent = m ? `${m.name} lvl ${m.level} hp ${m.hp}/${m.maxHp} at ${m.x.toFixed(1)},${m.y.toFixed(1)}` : '';
}

// Movement: 10 steps a second, each at most speed/10 metres (the server checks the speed).
function step(): void {
  const m = me();
  if (!client || client.state !== 'playing' || !m || m.hp <= 0) return;
  let dx = 0;
  let dy = 0;
  if (keys.has('ArrowLeft') || keys.has('a')) dx -= 1;
  if (keys.has('ArrowRight') || keys.has('d')) dx += 1;
  if (keys.has('ArrowUp') || keys.has('w')) dy -= 1;
  if (keys.has('ArrowDown') || keys.has('s')) dy += 1;
  if (dx !== 0 || dy !== 0) {
    target = null;
    fightId = 0;
  } else if (fightId !== 0) {
    const npc = game.entities.get(fightId);
    if (!npc || npc.hp <= 0) {
      fightId = 0;
    } else {
      const dist = Math.hypot(npc.x - m.x, npc.y - m.y);
      if (dist <= ATTACK_RANGE && Date.now() - lastAttack >= ATTACK_EVERY_MS) {
        lastAttack = Date.now();
        client.send(MessageType.Attack, new AttackT(npc.id));
      }
      // Close in to just inside the range, not onto the NPC.
      target = dist > ATTACK_RANGE - 0.8 ? { x: npc.x - ((npc.x - m.x) / dist) * 2, y: npc.y - ((npc.y - m.y) / dist) * 2 } : null;
    }
  }
  if (dx !== 0 || dy !== 0) {
    // keys win
  } else if (target) {
    dx = target.x - m.x;
    dy = target.y - m.y;
  }
  const len = Math.hypot(dx, dy);
  if (len < 0.05) {
    target = null;
    return;
  }
  const d = Math.min(len, speed * 0.1 * 0.9);
  m.x = Math.min(zoneW, Math.max(0, m.x + (dx / len) * d));
  m.y = Math.min(zoneH, Math.max(0, m.y + (dy / len) * d));
  client.send(MessageType.MoveIntent, new MoveIntentT(new Vec2T(m.x, m.y)));
}

canvas.addEventListener('click', (ev) => {
  const r = canvas.getBoundingClientRect();
  const k = scale();
  const x = (ev.clientX - r.left) / k;
  const y = (ev.clientY - r.top) / k;
  // A click on an NPC fights it (walk into range, attack when ready); anywhere else walks there.
  for (const e of game.entities.values()) {
    if (e.kind === EntityKind.Npc && e.hp > 0 && Math.hypot(e.x - x, e.y - y) < 8 / k + 1) {
      fightId = e.id;
      return;
    }
  }
  fightId = 0;
  target = { x, y };
});

window.addEventListener('keydown', (ev) => {
  if (document.activeElement instanceof HTMLInputElement) return;
  if (ev.key === 'p') usePortal();
  keys.add(ev.key);
});
window.addEventListener('keyup', (ev) => keys.delete(ev.key));

$<HTMLFormElement>('login').addEventListener('submit', (ev) => {
  ev.preventDefault();
  connect($<HTMLInputElement>('name').value.trim(), $<HTMLInputElement>('secret').value);
});
$<HTMLFormElement>('chat').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $<HTMLInputElement>('chat-text');
  sendChat(input.value);
  input.value = '';
});
$('portal').addEventListener('click', usePortal);

setInterval(step, 100);
const frame = () => {
  draw();
  requestAnimationFrame(frame);
};
requestAnimationFrame(frame);
