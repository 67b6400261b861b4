-- Reconnect and resume end to end (docs/protocol.md, "Reconnect and resume"), with the server's
-- grace period cut to 3 s (the server= line below). ann drops her connection abruptly (RST);
-- bob, beside her, still sees her standing where she was; she resumes with her resume token
-- on a new connection, in the same place, and walks on. eve then replays ann's first (used)
-- token: refused, resume_token_used. ann drops again and nobody resumes: after the grace period
-- bob sees her leave, and eve's resume with her latest token is refused, resume_unavailable.
--! bots=3 timeout=60 server=--resume-grace=3
local function near(a, b) return math.abs(a - b) < 0.3 end

if bot.index == 1 then
  local me = expect(login("ann", "secret"), "ann logs in")
  local first = expect(resume_token(), "LoginResult carries a resume token")
  expect(wait_signal("bob_in", 10000), "bob is in")
  expect(walk_to(me.x + 2, me.y, 10000), "ann walks")
  sleep(300)
  local at = me_state()
  signal("ann_at", string.format("%.2f,%.2f", at.x, at.y))
  expect(drop(5000), "the connection is cut")
  expect(wait_signal("bob_saw_ann_parked", 10000), "bob checked ann while she was away")
  local back = expect(resume("ann"), "ann resumes")
  expect(near(back.x, at.x) and near(back.y, at.y), "back at (%.2f, %.2f), was (%.2f, %.2f)",
         back.x, back.y, at.x, at.y)
  expect(resume_token() ~= first, "a new resume token after the resume")
  sleep(1100)
  expect(walk_to(back.x + 1.5, back.y, 10000), "ann walks on after the resume")
  signal("ann_moved_on")
  signal("ann_first_token", first)
  expect(wait_signal("eve_replayed", 15000), "eve replayed the used token")
  expect(connected(), "the replay took nothing from ann")
  signal("ann_latest_token", resume_token())
  expect(drop(5000), "the connection is cut again")
  signal("ann_dropped_for_good")
elseif bot.index == 2 then
  local me = expect(login("bob", "secret"), "bob logs in")
  signal("bob_in")
  local ann = expect_event("entity_enter", 10000, {name = "ann"}, "bob never saw ann")
  local pos = expect(wait_signal("ann_at", 15000), "ann's position")
  local ax, ay = pos:match("([%d.]+),([%d.]+)")
  ax, ay = tonumber(ax), tonumber(ay)
  -- While ann is away (well inside the 3 s grace period): still in view, where she stood.
  sleep(1000)
  local e = find_entity("ann")
  expect(e ~= nil, "ann stays in bob's view after her connection dropped")
  expect(near(e.x, ax) and near(e.y, ay), "ann stands still at (%.2f, %.2f), bob sees (%.2f, %.2f)",
         ax, ay, e.x, e.y)
  signal("bob_saw_ann_parked")
  expect(wait_signal("ann_moved_on", 20000), "ann moved on")
  sleep(300)
  e = find_entity("ann")
  expect(e ~= nil and e.x > ax + 1, "bob sees ann walk on after her resume")
  expect(wait_signal("ann_dropped_for_good", 20000), "ann dropped again")
  -- Kept for the grace period (3 s), then saved and removed: bob sees her leave.
  expect_event("entity_leave", 8000, {name = "ann"}, "ann was never removed after the grace period")
  signal("ann_removed")
  expect(connected(), "bob played on throughout")
  logout()
else
  local first = expect(wait_signal("ann_first_token", 30000), "ann's first token")
  local ok, why = resume("ann", first)
  expect(ok == nil and why == "resume_token_used", "a replayed resume token: %s", tostring(why))
  signal("eve_replayed")
  local latest = expect(wait_signal("ann_latest_token", 15000), "ann's latest token")
  expect(wait_signal("ann_removed", 20000), "ann was removed")
  ok, why = resume("ann", latest)
  expect(ok == nil and why == "resume_unavailable", "a resume after the grace period: %s",
         tostring(why))
end
