// The operator's admin page (served by the operator listener at /admin): each zone's live
// figures with small charts (from /api/zones), and a live map of one zone, every player and NPC
// a dot, pushed by the zone over a WebSocket subscription (MapSubscribe / ZoneMap, admin.fbs).
import * as flatbuffers from 'flatbuffers';

import { decodeEnvelope, encodeEnvelope, PING, PONG } from '../src/envelope';
import { MapDotKind } from '../gen/quay/game/wire/map-dot-kind';
import { MapSubscribeT } from '../gen/quay/game/wire/map-subscribe';
import { MessageType } from '../gen/quay/game/wire/message-type';
import { ZoneMap, ZoneMapT } from '../gen/quay/game/wire/zone-map';

interface ZoneFigures {
  id: number;
  name: string;
  players: number;
  npcs: number;
  ticks: number;
  tick_seconds_sum: number;
  tick_p99_bound_s: number;
}
interface Figures {
  ready: boolean;
  players: number;
  sessions: number;
  uptime_s: number;
  zones: ZoneFigures[];
}

/** What the page shows, also read by the browser tests (window.quayAdmin). */
interface AdminState {
  zones: ZoneFigures[];
  mapZone: number;
  mapEntities: number;
  mapReported: number;
  mapUpdates: number;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const token = params.get('token') ?? '';
const admin: AdminState = { zones: [], mapZone: Number(params.get('zone') ?? 0), mapEntities: 0, mapReported: 0, mapUpdates: 0 };
(window as unknown as { quayAdmin: AdminState }).quayAdmin = admin;

// ---- zone figures and charts ---------------------------------------------------------------

const history = new Map<number, { players: number[]; tickMs: number[]; last?: ZoneFigures }>();
const HISTORY = 60;  // 60 points at 2 s: two minutes

function push(list: number[], v: number): void {
  list.push(v);
  if (list.length > HISTORY) list.shift();
}

function chart(values: number[], color: string): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.className = 'chart';
  c.width = 120;
  c.height = 28;
  const g = c.getContext('2d')!;
  const max = Math.max(1e-9, ...values);
  g.strokeStyle = color;
  g.beginPath();
  values.forEach((v, i) => {
    const x = (i / (HISTORY - 1)) * c.width;
    const y = c.height - 2 - (v / max) * (c.height - 4);
    if (i === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  });
  g.stroke();
  g.fillStyle = '#999';
  g.font = '9px sans-serif';
  g.fillText(max.toFixed(max < 10 ? 2 : 0), 2, 9);
  return c;
}

function render(f: Figures): void {
  $('ready').textContent = f.ready ? 'yes' : 'NO (starting or draining)';
  $('players').textContent = String(f.players);
  $('sessions').textContent = String(f.sessions);
  $('uptime').textContent = String(f.uptime_s);
  admin.zones = f.zones;
  // The map starts on ?zone=<id>, else on the zone with the most players and NPCs.
  if (socket === null && f.zones.length > 0) {
    const busiest = [...f.zones].sort((a, b) => b.players + b.npcs - (a.players + a.npcs))[0];
    subscribe(f.zones.some((z) => z.id === admin.mapZone) ? admin.mapZone : busiest.id);
  }
  const body = $('zones').querySelector('tbody')!;
  body.replaceChildren();
  for (const z of f.zones) {
    const h = history.get(z.id) ?? { players: [], tickMs: [] };
    const dt = h.last ? z.ticks - h.last.ticks : 0;
    const mean = dt > 0 && h.last ? ((z.tick_seconds_sum - h.last.tick_seconds_sum) / dt) * 1e3 : 0;
    push(h.players, z.players);
    push(h.tickMs, mean);
    h.last = z;
    history.set(z.id, h);
    const tr = document.createElement('tr');
    tr.className = 'zone' + (z.id === admin.mapZone ? ' chosen' : '');
    tr.dataset.zone = String(z.id);
    for (const text of [`${z.id} ${z.name}`, z.players, z.npcs, z.ticks, mean.toFixed(3), (z.tick_p99_bound_s * 1e3).toFixed(2)]) {
      const td = document.createElement('td');
      td.textContent = String(text);
      tr.appendChild(td);
    }
    for (const [values, color] of [[h.players, '#58a6ff'], [h.tickMs, '#ffd34d']] as const) {
      const td = document.createElement('td');
      td.appendChild(chart(values, color));
      tr.appendChild(td);
    }
    tr.addEventListener('click', () => subscribe(z.id));
    body.appendChild(tr);
  }
}

async function poll(): Promise<void> {
  try {
    const r = await fetch(`/api/zones?token=${encodeURIComponent(token)}`);
    if (!r.ok) throw new Error(`/api/zones: HTTP ${r.status}${r.status === 401 ? ' (add ?token=... to this page\'s address)' : ''}`);
    render((await r.json()) as Figures);
    $('error').textContent = '';
  } catch (e) {
    $('error').textContent = String(e);
  }
}

// ---- the live map ---------------------------------------------------------------------------

let socket: WebSocket | null = null;
let picture: ZoneMapT | null = null;
let seq = 0;

function subscribe(zone: number): void {
  admin.mapZone = zone;
  admin.mapUpdates = 0;
  picture = null;
  socket?.close(1000, 'another zone');
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const s = new WebSocket(`${proto}//${location.host}/map`);
  s.binaryType = 'arraybuffer';
  socket = s;
  $('map-state').textContent = 'connecting';
  s.onopen = () => {
    const b = new flatbuffers.Builder(64);
    b.finish(new MapSubscribeT(zone, token).pack(b));
    s.send(encodeEnvelope(MessageType.MapSubscribe, ++seq, b.asUint8Array()));
    $('map-state').textContent = 'subscribed';
  };
  s.onmessage = (ev) => {
    const env = decodeEnvelope(new Uint8Array(ev.data as ArrayBuffer));
    if (env.type === PING) {
      s.send(encodeEnvelope(PONG, env.seq, new Uint8Array(0)));
      return;
    }
    if (env.type !== MessageType.ZoneMap) return;
    picture = ZoneMap.getRootAsZoneMap(new flatbuffers.ByteBuffer(env.payload)).unpack();
    admin.mapEntities = picture.dots.length;
    admin.mapReported = picture.players + picture.npcs;
    admin.mapUpdates += 1;
    const players = picture.dots.filter((d) => d.kind === MapDotKind.Player).length;
    $('map-zone').textContent = `${picture.zoneId} ${picture.zoneName ?? ''}`;
    $('map-entities').textContent = String(picture.dots.length);
    $('map-players').textContent = String(players);
    $('map-npcs').textContent = String(picture.dots.length - players);
    $('map-reported').textContent = String(admin.mapReported);
    $('map-tick').textContent = String(picture.tick);
    drawMap();
  };
  s.onclose = (ev) => {
    if (socket === s) $('map-state').textContent = `closed (${ev.code}${ev.reason ? ' ' + ev.reason : ''})`;
  };
}

function drawMap(): void {
  const c = $<HTMLCanvasElement>('map');
  const g = c.getContext('2d')!;
  g.fillStyle = '#1d2b1f';
  g.fillRect(0, 0, c.width, c.height);
  if (!picture) return;
  const k = Math.min(c.width / Math.max(1, picture.width), c.height / Math.max(1, picture.height));
  for (const d of picture.dots) {
    g.fillStyle = !d.alive ? '#555' : d.kind === MapDotKind.Npc ? '#e0524d' : '#58a6ff';
    g.beginPath();
    g.arc(d.x * k, d.y * k, 3, 0, Math.PI * 2);
    g.fill();
  }
}

void poll();
setInterval(() => void poll(), 2000);
