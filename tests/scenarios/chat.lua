-- Chat: say reaches players within 30 m, zone reaches the whole zone, whisper only its
-- recipient (and echoes to the sender).
--! bots=3 timeout=60
local names = {"alice", "bob", "carol"}
local name = names[bot.index]
local me = expect(login(name), "login")

if name == "carol" then
  -- Carol goes out of earshot (more than 30 m) before anyone speaks.
  expect(walk_to(me.x + 40, me.y + 5, 15000), "walked away")
end
signal("ready_" .. name)
for _, other in ipairs(names) do
  if other ~= name then expect(wait_signal("ready_" .. other, 20000), other .. " is ready") end
end

if name == "alice" then
  say("hello nearby")
  local echo = expect_event("chat", 3000, {channel = "say", from = "alice"}, "no echo of say")
  expect(echo.text == "hello nearby", "say echo text %s", echo.text)
  sleep(300)
  zone_say("hello zone")
  sleep(300)
  whisper("carol", "psst carol")
  local w = expect_event("chat", 3000, {channel = "whisper", text = "psst carol"}, "no whisper echo")
  expect(w.to == "carol", "the echo names the recipient, got %s", tostring(w.to))
  local err = whisper("nobody_here", "hello?")
  local e = expect_event("error", 3000, {seq = err}, "no error for an unknown recipient")
  expect(e.error == "unknown_recipient", "error %s", e.error)
  signal("alice_done")
else
  local z = expect_event("chat", 5000, {channel = "zone", from = "alice"}, "missed zone chat")
  expect(z.text == "hello zone", "zone text %s", z.text)
  expect(wait_signal("alice_done", 10000), "alice finished")
  sleep(300)  -- anything in flight has arrived
  local said = wait_for("chat", 0, {channel = "say", from = "alice"})
  local whispered = wait_for("chat", 0, {channel = "whisper"})
  if name == "bob" then
    expect(said and said.text == "hello nearby", "bob, 5 m away, hears say")
    expect(whispered == nil, "bob overheard a whisper")
  else
    expect(said == nil, "carol, 40 m away, heard say")
    expect(whispered and whispered.text == "psst carol", "carol got the whisper")
  end
end
logout()
