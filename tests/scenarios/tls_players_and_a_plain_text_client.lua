-- Over TLS (run_scenario.sh makes a throwaway certificate; the port is TLS-only): two players log
-- in, see each other and chat through TLS sessions, while a third bot speaks plain text to the
-- same port and is refused (run_scenario.sh also checks the server logged why).
--! bots=3 timeout=40 tls=1
if bot.index == 3 then
  expect(wait_signal("players_ready", 15000), "players ready")
  -- A plain-text Quay client: a frame header and bytes, no TLS record.
  send_raw("\8\0\0\0plaintxt")
  expect_event("raw_closed", 5000, nil, "the TLS port kept a plain-text client")
  signal("plain_done")
  return
end
local names = {"tls_alice", "tls_bob"}
local me = expect(login(names[bot.index]), "login over TLS")
local other = names[3 - bot.index]
expect_event("entity_enter", 10000, {name = other}, "never saw " .. other)
if bot.index == 1 then signal("players_ready") end
expect(wait_signal("plain_done", 20000), "the plain-text client finished")
-- The TLS players keep playing: chat flows and a legal move is accepted.
if bot.index == 1 then
  say("encrypted hello")
else
  local heard = expect_event("chat", 5000, {from = "tls_alice"}, "chat stopped")
  expect(heard.text == "encrypted hello")
end
sleep(1100)
local seq = move(me.x + 2, me.y)
expect(wait_for("correction", 800, {seq = seq}) == nil, "a legal move was refused")
expect(connected(), "still connected")
logout()
