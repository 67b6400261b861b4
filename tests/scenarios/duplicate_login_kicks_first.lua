-- A second login of the same character takes over: the first session is kicked with
-- replaced_by_new_login and closed; the new one plays on.
--! bots=2 timeout=30
if bot.index == 1 then
  expect(login("twin"), "first login")
  signal("first_in")
  local k = expect_event("kicked", 10000, nil, "the first session was not kicked")
  expect(k.reason == "replaced_by_new_login", "kick reason %s", k.reason)
  expect_event("disconnected", 5000, nil, "the kicked session stayed open")
  signal("first_out")
else
  expect(wait_signal("first_in", 10000), "the first login happened")
  local me = expect(login("twin"), "second login")
  expect(wait_signal("first_out", 10000), "the first session ended")
  -- Still playing: a move is accepted and the session stays up.
  sleep(1100)
  local seq = move(me.x + 2, me.y)
  expect(wait_for("correction", 800, {seq = seq}) == nil, "the new session's move was refused")
  expect(connected(), "the new session is still up")
  logout()
end
