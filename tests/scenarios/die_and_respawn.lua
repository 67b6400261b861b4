-- Die and respawn: walk into the ogre's reach, get killed, come back at the spawn point with
-- full hp after the respawn delay.
--! bots=1 timeout=60
local me = expect(login("victim"), "login")
local spawn_x, spawn_y = me.x, me.y
-- The ogre stands at (20, 70) in zones/testland.toml: walk up to it.
walk_to(20, 66, 15000)
expect(find_entity("Test Ogre"), "the ogre is not where zones/testland.toml puts it")
local died = expect(wait_until(function() return me_state().hp <= 0 end, 20000),
                    "the ogre never killed me (hp %d)", me_state().hp)
expect(died)
local t_dead = now()
-- The dead cannot move.
local seq = move(me_state().x + 1, me_state().y)
local c = expect_event("correction", 3000, {seq = seq}, "a dead player moved")
expect(c.verdict == "not_alive", "verdict %s", c.verdict)
-- The server says so in CombatEvents.respawned (our own id) with where we came back.
local r = expect_event("respawned", 15000, {id = me.id}, "never respawned")
local waited = now() - t_dead
expect(waited >= 3000, "respawned too soon (%d ms)", waited)
local near = function(ax, ay, bx, by) return math.abs(ax - bx) < 0.01 and math.abs(ay - by) < 0.01 end
-- Zone "start" is the default spawn (20, 20) in zones/testland.toml, where we logged in.
expect(near(spawn_x, spawn_y, 20, 20), "logged in at (%.2f, %.2f), not at the spawn point",
       spawn_x, spawn_y)
expect(r.x and r.y, "the respawn event carries no position")
expect(near(r.x, r.y, spawn_x, spawn_y), "respawned at (%.2f, %.2f), not at the spawn point",
       r.x, r.y)
local s = me_state()
expect(s.hp == s.max_hp, "respawned with full hp (%d/%d)", s.hp, s.max_hp)
expect(near(s.x, s.y, spawn_x, spawn_y), "own position after respawning is (%.2f, %.2f)", s.x, s.y)
-- Back at the spawn point: the view is the spawn's (the rabbit near it in, the ogre out).
expect(wait_until(function() return find_entity("Test Rabbit") and not find_entity("Test Ogre") end,
                  3000), "the view after respawning is not the spawn point's")
-- The server agrees: a one-metre step from the respawn point is accepted, where a step from
-- the place of death (about 46 m away) would be refused as a teleport. ping() is a round trip
-- through the zone after the move, so a correction would have arrived before it returns.
-- A respawn empties the movement budget; 400 ms refill it to about 3 m (7.7 m/s).
sleep(400)
local step = move(s.x + 1, s.y)
ping()
local c2 = wait_for("correction", 0, {seq = step})
expect(c2 == nil, "the step from the respawn point was corrected (%s)", c2 and c2.verdict)
logout()
