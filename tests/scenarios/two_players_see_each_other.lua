-- Two players log in at the same spawn point and each sees the other enter its view.
--! bots=2 timeout=30
local names = {"alice", "bob"}
local me = expect(login(names[bot.index]), "login")
expect(me.zone == 1, "starts in zone 1, got %s", tostring(me.zone))
local other = names[3 - bot.index]
local ev = expect_event("entity_enter", 10000, {name = other}, "never saw " .. other)
expect(ev.kind == "player", "%s is a player, got %s", other, tostring(ev.kind))
expect(math.abs(ev.x - me.x) < 20 and math.abs(ev.y - me.y) < 20, "%s is near", other)
-- Both stay until each has seen the other, so neither leaves before being seen.
signal("saw_" .. names[bot.index])
expect(wait_signal("saw_" .. other, 10000), "the other player saw me")
logout()
