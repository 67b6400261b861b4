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
expect(wait_until(function() return me_state().hp > 0 end, 15000), "never respawned")
local waited = now() - t_dead
expect(waited >= 3000, "respawned too soon (%d ms)", waited)
local s = me_state()
expect(s.hp == s.max_hp, "respawned with full hp (%d/%d)", s.hp, s.max_hp)
-- Back at the spawn point: the view is the spawn's (the rabbit near it in, the ogre out).
expect(wait_until(function() return find_entity("Test Rabbit") and not find_entity("Test Ogre") end,
                  3000), "the view after respawning is not the spawn point's")
expect(spawn_x and spawn_y)
logout()
