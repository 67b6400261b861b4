-- A broken client is disconnected while the others keep playing: garbage bytes on a raw
-- connection, then a logged-in session that sends a payload that does not verify.
--! bots=3 timeout=40
if bot.index == 3 then
  expect(wait_signal("players_ready", 10000), "players ready")
  -- 1) Bytes that are no frame: an HTTP request reads as a huge length.
  send_raw("GET / HTTP/1.1\r\nHost: quay\r\n\r\n")
  expect_event("raw_closed", 5000, nil, "the server kept a connection that sent garbage")
  -- 2) A real session that sends a well-framed envelope with a payload that is no LoginRequest.
  expect(connect(), "connect")
  send_envelope(16, 1, "\1\2\3\4\5\6\7\8not a flatbuffer")
  local ev = expect_event({"kicked", "disconnected"}, 5000, nil, "the malformed session stayed open")
  if ev.event == "kicked" then
    expect(ev.reason == "malformed_message", "kick reason %s", ev.reason)
    expect_event("disconnected", 5000, nil, "kicked but not closed")
  end
  signal("broken_done")
  return
end
local names = {"steady", "ready"}
local me = expect(login(names[bot.index]), "login")
local other = names[3 - bot.index]
expect_event("entity_enter", 10000, {name = other}, "never saw " .. other)
if bot.index == 1 then signal("players_ready") end
expect(wait_signal("broken_done", 20000), "the broken client finished")
-- The others keep playing: chat still flows and moves are still accepted.
if bot.index == 1 then
  say("still here")
else
  local heard = expect_event("chat", 5000, {from = "steady"}, "chat stopped after the broken client")
  expect(heard.text == "still here")
end
sleep(1100)
local seq = move(me.x + 2, me.y)
expect(wait_for("correction", 800, {seq = seq}) == nil, "a legal move was refused")
expect(connected(), "still connected")
logout()
