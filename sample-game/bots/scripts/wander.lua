-- Wander and chat: the load script. Each bot logs in, then walks to random points of the zone
-- in steps at 10 Hz (the server's tick), says something to the players around it now and then,
-- and times a round trip (ping) about once a second. It runs until the load run ends.
--   bot.args.radius   how far from its start a bot wanders (metres; default: the whole zone)
--   bot.args.chat_s   mean seconds between two chat lines of one bot (default 15; 0 = never)
--! bots=100
-- Only its own state matters here: keeping every update as an event would cost memory, and a
-- model of everyone in view would cost the bots a hash-map write per entity per update.
ignore("world_update", "entity_enter", "entity_leave", "hit", "respawned", "progress", "chat",
       "correction", "error", "pong")
track_entities(false)
local me = expect(login(), "login")
local w, h = me.width, me.height
local radius = tonumber(bot.args.radius or "0")
if radius <= 0 then radius = math.max(w, h) end
local chat_ms = tonumber(bot.args.chat_s or "15") * 1000
local ox, oy = me.x, me.y

local function clamp(v, lo, hi) return math.max(lo, math.min(hi, v)) end

-- Entering the zone empties the server's movement budget (docs/protocol.md, "Entity sync"):
-- let one tick refill it before the first step, or that step comes back speed_clamped.
sleep(100)
local next_chat = chat_ms > 0 and now() + math.random(0, 2 * chat_ms) or math.huge
local next_ping = now() + math.random(0, 1000)
local lines = {"hello", "anyone up for the wolves?", "nice weather", "lag?", "brb"}
while true do
  local tx = clamp(ox + (math.random() * 2 - 1) * radius, 1, w - 1)
  local ty = clamp(oy + (math.random() * 2 - 1) * radius, 1, h - 1)
  for _ = 1, 100 do
    -- me_get, not me_state: no table per step for thousands of bots' collectors to sweep.
    local x, y, hp, max_speed = me_get("x", "y", "hp", "max_speed")
    if hp <= 0 then break end              -- dead: wait for the respawn below
    local dx, dy = tx - x, ty - y
    local d = math.sqrt(dx * dx + dy * dy)
    if d < 0.5 then break end
    local step = math.min(d, max_speed * 0.085)
    move(x + dx / d * step, y + dy / d * step)
    local t = now()
    if t >= next_ping then
      _ping()                              -- the pong is timed in C++, no need to wait
      next_ping = t + 1000
    end
    if t >= next_chat then
      say(lines[math.random(#lines)])
      next_chat = t + math.random(chat_ms // 2, chat_ms * 3 // 2)
    end
    sleep(100)
  end
  if me_get("hp") <= 0 then sleep(1000) end
end
