-- Area of interest at its edges: a player walking out of the observer's cells leaves its view;
-- walking back, it enters again. Cells are 10 m, radius 1: views reach 10-20 m.
--! bots=2 timeout=60
if bot.index == 1 then
  local me = expect(login("watcher"), "login")
  local seen = expect_event("entity_enter", 10000, {name = "walker"}, "walker never entered")
  signal("watching")
  local gone = expect_event("entity_leave", 20000, {id = seen.id}, "walker never left the view")
  expect(find_entity("walker") == nil, "a player that left is forgotten")
  signal("saw_leave")
  local back = expect_event("entity_enter", 20000, {name = "walker"}, "walker never came back")
  expect(back.x < me.x + 20, "walker is back within the view, at x=%.1f", back.x)
  signal("saw_return")
else
  local me = expect(login("walker"), "login")
  expect(wait_signal("watching", 10000), "the watcher is in place")
  -- 45 m east is at least two cells away from the watcher's cell whatever the spawn's offset.
  expect(walk_to(me.x + 45, me.y, 15000), "walked away")
  expect(wait_signal("saw_leave", 10000), "the watcher saw me leave")
  expect(walk_to(me.x, me.y, 15000), "walked back")
  expect(wait_signal("saw_return", 10000), "the watcher saw me come back")
end
logout()
