-- Zone transfer: walk into the portal, use it, arrive in the other zone at its spawn point with
-- level and experience unchanged; the old zone's players see the traveller leave.
--! bots=2 timeout=60
if bot.index == 2 then
  expect(login("stayer"), "login")
  local t = expect_event("entity_enter", 10000, {name = "traveller"}, "never saw the traveller")
  signal("stayer_ready")
  expect_event("entity_leave", 20000, {id = t.id}, "the traveller never left the zone")
  logout()
  return
end
local me = expect(login("traveller"), "login")
expect(wait_signal("stayer_ready", 10000), "stayer ready")
local zone0, level0, xp0 = me.zone, me.level, me.xp
local portal = expect(me.portals[1], "the zone lists a portal")
local ok, why = use_portal(2000)
expect(not ok and why == "not_on_portal", "using a portal from afar is refused, got %s",
       tostring(why))
expect(walk_to(portal.x, portal.y, 15000), "walked to the portal")
local there = expect(use_portal(5000), "the portal did not take me")
expect(there.zone ~= zone0, "still in zone %d", there.zone)
expect(there.level == level0 and there.xp == xp0, "level and experience changed in transfer")
expect(next(entities()) == nil or find_entity("stayer") == nil, "the old zone's players are forgotten")
-- And back: the other zone has a portal too.
local back_portal = expect(there.portals[1], "the other zone lists a portal")
expect(walk_to(back_portal.x, back_portal.y, 15000), "walked to the return portal")
local home = expect(use_portal(5000), "the return portal did not take me")
expect(home.zone == zone0, "came back to zone %d, got %d", zone0, home.zone)
logout()
