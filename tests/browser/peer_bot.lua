-- The browser test's peer (tests/browser/web_client.test.js): a Lua bot in the web client's
-- zone. It logs in as "luabot", stays near the spawn point, waits for the web player's zone
-- chat line and answers it, then stays a little so the page sees the answer from a live peer.
--! bots=1 timeout=40
local me = expect(login("luabot"), "login")
log("luabot at %.1f,%.1f", me.x, me.y)
local line = expect_event("chat", 30000, {from = "webby"}, "no chat line from the web client")
expect(line.text == "hello luabot", "web client's text %s", line.text)
zone_say("hello webby")
sleep(3000)
logout()
