-- Kill an NPC: attack it in range until a hit kills it, then see it come back.
--! bots=1 timeout=60
local me = expect(login("hunter"), "login")
local rabbit = expect(wait_until(function() return find_entity("Test Rabbit") end, 10000),
                      "no rabbit in view")
expect(rabbit.kind == "npc", "the rabbit is an npc")
local killed = false
for _ = 1, 40 do
  local target = entity(rabbit.id)
  expect(target, "the rabbit left the view before it died")
  walk_to(target.x - 1, target.y, 5000)
  local seq = attack(rabbit.id)
  local ev = wait_for({"hit", "error"}, 2500, function(e)
    return (e.event == "hit" and e.attacker == me_state().id) or e.seq == seq
  end)
  if ev and ev.event == "hit" then
    expect(ev.target == rabbit.id, "hit the rabbit")
    expect(ev.damage > 0, "a hit does damage")
    if ev.killed then killed = true break end
  elseif ev then
    expect(ev.error == "on_cooldown" or ev.error == "out_of_range", "attack refused: %s", ev.error)
  end
  sleep(1600)  -- the attack cooldown
end
expect(killed, "the rabbit never died")
expect(wait_until(function() local r = entity(rabbit.id) return r == nil or r.hp == 0 end, 3000),
       "the dead rabbit still shows hp")
-- It comes back (after its respawn time, 3 s in zones/testland.toml) at full hp.
expect(wait_until(function() local r = entity(rabbit.id) return r and r.hp > 0 and r.hp == r.max_hp end,
                  15000), "the rabbit never respawned")
logout()
