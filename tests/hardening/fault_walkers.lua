-- Walkers for the fault tests (run_faults.sh). Each bot logs in and walks in a straight line
-- along +x at 2 m/s — a 0.2 m step every 100 ms, each to a position it never held before — and
-- keeps a trail of every position it sent and every position the server acknowledged (the
-- server's own statement of where it stands: acked_position()), with times, until the server
-- goes away (SIGTERM: Kicked{ServerShuttingDown} then the close; kill -9: the connection
-- drops). Then it prints one line, which the runner compares with the database:
--   FAULT name=<n> cut=<ms> acked=<x>,<y>@<ms> trail=<S|A>:<ms>:<x>,<y>;...
-- Before the first step it prints "WALKING <name>", which the runner waits for.
--! bots=20 timeout=150
local max_walk_ms = tonumber(bot.args.max_walk_ms or "90000")
local keep = tonumber(bot.args.trail or "400")  -- entries kept (40 s of steps and acks)

local me = expect(login(), "login")
ignore("entity_enter", "entity_leave", "world_update", "chat", "error", "pong")
-- The movement budget starts empty and fills at the speed limit (up to one second's worth).
sleep(1100)
print("WALKING " .. bot.name)

local trail = {}
local function remember(kind, t, x, y)
  trail[#trail + 1] = string.format("%s:%d:%.3f,%.3f", kind, t, x, y)
  if #trail > keep then table.remove(trail, 1) end
end

-- The protocol forgets its state when the connection closes, so the last acknowledgement is
-- kept here.
local ack = nil
local function note_ack()
  local ax, ay, at = acked_position()
  if at and (ack == nil or at ~= ack.at) then
    ack = {x = ax, y = ay, at = at}
    remember("A", at, ax, ay)
  end
end

local x, y = me.x, me.y
local started = now()
local cut = nil
local kicked = nil
while true do
  note_ack()
  x = x + 0.2
  local seq = move(x, y)
  if seq then remember("S", now(), x, y) end
  -- The step's pause doubles as the wait for the end: a close ends it at once.
  local ev = wait_for({"disconnected", "kicked", "correction"}, 100)
  if ev and ev.event == "correction" then
    fail(string.format("a legal step was corrected (%s)", ev.verdict))
  end
  if ev and ev.event == "kicked" then
    note_ack()  -- before the close makes the protocol forget
    kicked = ev.reason
    ev = wait_for("disconnected", 10000)
    expect(ev, "kicked but never disconnected")
  end
  if ev or not connected() then
    cut = now()
    break
  end
  expect(now() - started < max_walk_ms, "the server never went away")
end
expect(ack, "the server never acknowledged a position")
print(string.format("FAULT name=%s cut=%d kicked=%s acked=%.3f,%.3f@%d trail=%s", bot.name, cut,
                    kicked or "no", ack.x, ack.y, ack.at, table.concat(trail, ";")))
