-- Hostile clients against a real zone server while other players play. The last bot is the
-- attacker and plays one hostile client (`--arg attack=NAME`, see `attacks` below); the others
-- are witnesses. Each witness, every ~100 ms before, during and after the attack, takes one legal
-- step and pings (an Attack on entity 0, answered by the zone with an Error: a full round trip
-- through the player and zone actors). A witness fails if a ping goes unanswered, a legal step
-- is corrected, it is kicked or disconnected, or it stops receiving the others' updates. The
-- attacker fails if the server does not cut it off in time. Witness 1 prints the witnesses'
-- ping percentiles per phase (baseline / during / after) on a line starting with HARDENING.
--! bots=4 timeout=110
local attack_name = bot.args.attack or "garbage"
local witnesses = bot.count - 1
local baseline_ms = tonumber(bot.args.baseline_ms or "4000")
local after_ms = tonumber(bot.args.after_ms or "3000")
local flood_ms = tonumber(bot.args.flood_ms or "5000")
local intruder = "intruder"

local function le32(n)
  return string.char(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >> 24) & 0xff)
end

local function random_bytes(n)
  local t = {}
  for i = 1, n do t[i] = string.char(math.random(0, 255)) end
  return table.concat(t)
end

-- ---- the attacker -------------------------------------------------------------------------

-- Logs in as the intruder over a raw connection and waits until witness 1 sees it in the
-- world, so the attack comes from a player who is really there.
local function raw_login(read)
  local id = expect(raw_open{read = read}, "raw_open")
  raw_send(id, raw_frame(16, 1, login_payload(intruder, "t")))
  expect(wait_signal("saw_intruder", 10000), "the intruder's raw login never reached the world")
  return id
end

-- Waits for the server to end raw connection `id`; returns how long it took (ms).
local function expect_cut(id, within_ms, what)
  local t0 = now()
  local ev = expect_event("raw_closed", within_ms, {id = id}, "the server kept " .. what)
  local ms = now() - t0
  log(string.format("%s: cut after %d ms (%s)", what, ms, ev.reason))
  return ms
end

-- A fresh connection that sends `bytes` and must be cut within `within_ms`.
local function anonymous(bytes, within_ms, what)
  local id = expect(raw_open{}, "raw_open")
  raw_send(id, bytes)
  return expect_cut(id, within_ms, what)
end

local attacks = {}

function attacks.oversized()
  local id = raw_login(true)
  raw_send(id, le32(256 << 20) .. string.rep("A", 1000))  -- announces 256 MiB
  expect_cut(id, 5000, "a 256 MiB length prefix")
  anonymous(le32(64 * 1024 + 1) .. string.rep("A", 100), 5000, "a length one over the 64 KiB max")
  anonymous(le32(0xffffffff), 5000, "a 4 GiB length prefix")
end

function attacks.zero_length()
  local id = raw_login(true)
  raw_send(id, le32(0))
  expect_cut(id, 5000, "a zero-length frame")
  anonymous(raw_frame(1, 1) .. le32(0), 5000, "a zero-length frame after a valid ping")
end

function attacks.garbage()
  local id = raw_login(true)
  -- 70 KB of noise: whatever length the first four bytes announce (up to the 64 KiB max) is
  -- followed by enough noise to complete the frame, so only the verifier can end it.
  raw_send(id, random_bytes(70000))
  expect_cut(id, 5000, "70 KB of random bytes after login")
  for i = 1, 5 do anonymous(random_bytes(70000), 5000, "70 KB of random bytes #" .. i) end
end

function attacks.truncated()
  local id = raw_login(true)
  -- A header announcing 100 bytes, 10 of them, then silence: only the idle timeout (30 s by
  -- default) can end it; the server's heartbeat pings are read and never answered.
  raw_send(id, le32(100) .. string.rep("B", 10))
  local ms = expect_cut(id, 45000, "a truncated frame then silence")
  expect(ms >= 20000, "cut after %d ms: earlier than the idle timeout, so by something else", ms)
end

function attacks.reset_mid_frame()
  local id = raw_login(true)
  raw_send(id, le32(1000) .. string.rep("C", 500))
  -- The RST may reach the server before or after the half frame; either way the session must
  -- end and the intruder leave the world (witness 1 checks), and nothing else may notice.
  raw_reset(id)
  for i = 1, 20 do
    local a = expect(raw_open{}, "raw_open")
    raw_send(a, le32(4000) .. string.rep("D", 1000 + i))
    sleep(20)
    raw_reset(a)
  end
end

function attacks.invalid_flatbuffers()
  local id = raw_login(true)
  -- A MoveIntent envelope whose payload is no MoveIntent: Kicked{MalformedMessage}, closed.
  raw_send(id, raw_frame(48, 2, "\8\0\0\0\1\2\3\4\5\6\7\8garbage!"))
  expect_cut(id, 5000, "a MoveIntent that does not verify")
  -- A LoginRequest whose root offset points far outside the buffer.
  anonymous(raw_frame(16, 1, le32(0x7ffffff0) .. string.rep("\0", 28)), 5000,
            "a LoginRequest whose root offset points outside the buffer")
  -- A LoginRequest whose name string runs past the end of the buffer.
  local broken = login_payload("abcdefgh", "t")
  local len_at = broken:find("abcdefgh", 1, true) - 4  -- a string is its u32 length, then bytes
  broken = broken:sub(1, len_at - 1) .. le32(100000) .. broken:sub(len_at + 4)
  anonymous(raw_frame(16, 1, broken), 5000, "a LoginRequest whose name runs past the buffer")
  -- Well framed, but not an envelope at all.
  anonymous(le32(40) .. string.rep("\255", 40), 5000, "a payload that is no envelope")
  -- Envelopes of type 0 and of a type no one knows.
  anonymous(raw_frame(0, 1, ""), 5000, "an envelope of type 0")
  anonymous(raw_frame(999, 1, login_payload("x", "t")), 5000, "an envelope of unknown type 999")
  -- A server-to-client type sent by a client.
  anonymous(raw_frame(17, 1, login_payload("x", "t")), 5000, "a LoginResult sent by a client")
end

-- Clients that never read while the server has to answer them (each ping gets a pong): the
-- server must cut each at its send high-water mark (1 MiB) instead of buffering without bound.
-- The runner checks the server's peak RSS.
function attacks.slow_reader()
  local ids = {raw_login(false)}
  -- Three more, logged in too, so that no login timeout can end them before the high-water
  -- mark does (their pings keep them from being idle).
  for i = 2, 4 do
    ids[i] = expect(raw_open{read = false}, "raw_open")
    raw_send(ids[i], raw_frame(16, 1, login_payload("sloth" .. i, "t")))
  end
  local pings = {}
  for i = 1, 2000 do pings[i] = raw_frame(1, i) end
  local batch = table.concat(pings)  -- 2,000 pings, about 56 KB
  local open, sent = {}, {}
  for _, id in ipairs(ids) do open[id] = true; sent[id] = 0 end
  local cap = 64 << 20  -- a server that never cuts would have to buffer all of it
  local t0, left = now(), #ids
  while left > 0 do
    for _, id in ipairs(ids) do
      if open[id] then
        expect(sent[id] < cap, "a client that never reads was not cut after %d MB of pings",
               cap >> 20)
        -- Pace by what the socket takes, so `sent` counts bytes that left this process.
        if raw_pending(id) < 2 * #batch and raw_send(id, batch) then
          sent[id] = sent[id] + #batch
        end
      end
    end
    local ev = wait_for("raw_closed", 2)
    while ev do
      if open[ev.id] then
        open[ev.id] = nil
        left = left - 1
        log(string.format("never-reading client %d cut after %.1f MB of pings, %d ms (%s)", ev.id,
                          sent[ev.id] / 1e6, now() - t0, ev.reason))
      end
      ev = wait_for("raw_closed", 0)
    end
    expect(now() - t0 < 25000, "never-reading clients still open after 25 s")
  end
end

-- A logged-in player floods the server with requests (each refused by the zone with an Error),
-- as fast as it can, pacing only so its own send queue does not pass its limit. A server with a
-- per-session message-rate limit kicks it; it logs in again and floods again, for flood_ms, so
-- the attack lasts long enough to measure the witnesses during it.
function attacks.message_flood()
  ignore("error", "pong", "world_update", "entity_enter", "entity_leave", "chat", "correction")
  local sent, sessions, cut, t0 = 0, 0, 0, now()
  local outcome = "still connected"
  signal("attack_start")
  while now() - t0 < flood_ms do
    if not connected() then
      drain("kicked")
      expect(login("flooder", "t", 5000), "flooder login #%d", sessions + 1)
      sessions = sessions + 1
    end
    -- A session floods until it is cut off, or it sent 2,000 requests (20 times the limit's
    -- burst, see the check at the end), even when flood_ms ends meanwhile.
    local this_session = 0
    while connected() and this_session < 2000 do
      for _ = 1, 100 do
        if not attack(0) then break end
        sent = sent + 1
        this_session = this_session + 1
      end
      sleep(2)
    end
    if not connected() or wait_for("kicked", 0) then
      local kicked = wait_for("kicked", 0)
      outcome = kicked and ("kicked: " .. kicked.reason) or "disconnected"
      cut = cut + 1
      wait_for("disconnected", 2000)
    end
  end
  log(string.format("flooder sent %d requests in %d ms (%.0f/s) over %d sessions, %d cut off; last: %s",
                    sent, now() - t0, sent * 1000 / (now() - t0), sessions, cut, outcome))
  -- With a per-session message-rate limit on the server, every flooding session is cut off
  -- (`--arg flood_must_be_cut=1`); without one, only the witnesses' checks apply.
  if bot.args.flood_must_be_cut == "1" then
    expect(cut >= sessions and cut > 0, "%d of %d flooding sessions were not cut off",
           sessions - cut, sessions)
  end
  if connected() then disconnect(2000) end
end

-- More connections than the listener allows (--max-players 16: 80 connections): those over
-- the limit are closed at once; the rest are held until the login timeout or until released.
-- Afterwards a new player logs in normally.
function attacks.conn_flood()
  local n = tonumber(bot.args.flood_connections or "150")
  local limit = tonumber(bot.args.connection_limit or "80")
  signal("attack_start")
  local t0 = now()
  local ids = {}
  for i = 1, n do ids[i] = expect(raw_open{}, "raw_open") end
  local fast, open = 0, {}
  for _, id in ipairs(ids) do open[id] = true end
  -- Those refused are closed within moments; wait until 3 s pass with no close.
  while true do
    local ev = wait_for("raw_closed", 3000)
    if ev == nil then break end
    open[ev.id] = nil
    if now() - t0 < 5000 then fast = fast + 1 end
  end
  local held = 0
  for _ in pairs(open) do held = held + 1 end
  log(string.format("%d connections: %d refused at once, %d held (limit %d, %d witnesses)", n,
                    fast, held, limit, witnesses))
  expect(fast >= n - limit, "only %d of %d connections over the limit were refused", fast,
         n - limit)
  expect(held >= limit - witnesses - 2, "only %d connections held: the limit is lower than %d",
         held, limit)
  -- Hold them a while longer (the witnesses keep measuring), then let go.
  sleep(math.max(0, flood_ms - (now() - t0)))
  for id in pairs(open) do raw_close(id) end
  signal("attack_end")
  -- A newcomer is served once the flood is gone.
  expect(wait_until(function()
    local me = login("latecomer", "t", 3000)
    if me then return me end
    disconnect(1000)
  end, 15000), "a new player could not log in after the connection flood")
  logout()
end

-- ---- the witnesses ------------------------------------------------------------------------

local function percentiles(t)
  if #t == 0 then return "n=0" end
  table.sort(t)
  local function at(p) return t[math.max(1, math.ceil(#t * p))] end
  return string.format("n=%d p50=%.2f p99=%.2f max=%.2f ms", #t, at(0.5), at(0.99), t[#t])
end

local phases = {"baseline", "during", "after"}

local function encode(samples)
  local parts = {}
  for _, ph in ipairs(phases) do
    local xs = {}
    for i, v in ipairs(samples[ph]) do xs[i] = string.format("%.3f", v) end
    parts[#parts + 1] = ph .. ":" .. table.concat(xs, ",")
  end
  return table.concat(parts, "|")
end

local function merge(samples, text)
  for ph, list in text:gmatch("(%a+):([^|]*)") do
    for v in list:gmatch("[^,]+") do table.insert(samples[ph], tonumber(v)) end
  end
end

local function witness()
  local name = "witness" .. bot.index
  local me = expect(login(name), "witness login")
  for i = 1, witnesses do
    if i ~= bot.index then
      expect_event("entity_enter", 10000, {name = "witness" .. i}, "never saw witness" .. i)
    end
  end
  -- The movement budget starts empty at login and refills at the speed limit (up to one
  -- second's worth): the first step waits until a full second's budget is there.
  sleep(1100)
  signal("ready", name)
  local samples = {baseline = {}, during = {}, after = {}}
  local phase, started, after_end = "baseline", now(), nil
  local intruder_id, updates_after, flip = nil, 0, false
  while true do
    if phase == "baseline" and wait_for("signal", 0, {key = "attack_start"}) then
      phase = "during"
    end
    if phase == "during" and wait_for("signal", 0, {key = "attack_end"}) then
      phase, after_end = "after", now() + after_ms
      drain("world_update")
    end
    if phase == "after" and now() >= after_end then break end
    expect(now() - started < 90000, "stuck in phase %s: the attacker never finished", phase)
    if bot.index == 1 and intruder_id == nil then
      local ev = wait_for("entity_enter", 0, {name = intruder})
      if ev then
        intruder_id = ev.id
        signal("saw_intruder", tostring(ev.id))
      end
    end
    flip = not flip
    local seq = move(me.x + (flip and 0.2 or 0), me.y)  -- 2 m/s at most: always legal
    local rtt, why = ping(5000)
    expect(rtt, "%s: a ping went unanswered %s the attack (%s)", name, phase, tostring(why))
    table.insert(samples[phase], rtt)
    local corr = wait_for("correction", 0, {seq = seq})
    expect(corr == nil, "%s: a legal step was corrected (%s, %s)", name, phase,
           corr and corr.verdict)
    expect(wait_for("kicked", 0) == nil and connected(), "%s: cut off (%s)", name, phase)
    local updates = drain("world_update")
    if phase == "after" then updates_after = updates_after + updates end
    sleep(100)
  end
  expect(updates_after > 0, "%s: no world updates from the others after the attack", name)
  if intruder_id then
    expect(wait_until(function() return entity(intruder_id) == nil end, 10000),
           "the intruder was cut off but still stands in the world")
  end
  -- Figures: every witness's samples go to witness 1, which prints the merged percentiles.
  if bot.index ~= 1 then
    signal("samples" .. bot.index, encode(samples))
  else
    for i = 2, witnesses do
      merge(samples, expect(wait_signal("samples" .. i, 10000), "samples of witness %d", i))
    end
    local out = {}
    for _, ph in ipairs(phases) do out[#out + 1] = ph .. " " .. percentiles(samples[ph]) end
    print(string.format("HARDENING attack=%s witnesses=%d ping_rtt: %s", attack_name, witnesses,
                        table.concat(out, " | ")))
  end
  logout()
end

if bot.index <= witnesses then
  witness()
  return
end

local run = attacks[attack_name]
expect(run, "unknown attack '%s'", attack_name)
for _ = 1, witnesses do expect(wait_for("signal", 15000, {key = "ready"}), "witnesses ready") end
sleep(baseline_ms)  -- the witnesses measure the quiet server meanwhile
if attack_name ~= "message_flood" and attack_name ~= "conn_flood" then signal("attack_start") end
-- A failed attack still ends the witnesses' wait at once; its error is then raised again.
local ok, err = pcall(run)
if attack_name ~= "conn_flood" or not ok then signal("attack_end") end
if not ok then error(err, 0) end
