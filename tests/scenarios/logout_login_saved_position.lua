-- Persistence: walk somewhere, log out, log back in: the character is where it left.
--! bots=1 timeout=40
local me = expect(login("saver", "secret"), "login")
local tx, ty = me.x + 12, me.y + 9
expect(walk_to(tx, ty, 10000), "walked")
sleep(300)
expect(logout(), "logout closes the session")
expect(not connected(), "disconnected after logout")
local again = expect(login("saver", "secret"), "login again")
expect(math.abs(again.x - tx) < 1 and math.abs(again.y - ty) < 1,
       "back at (%.1f, %.1f), expected (%.1f, %.1f)", again.x, again.y, tx, ty)
expect(again.level == me.level, "same level")
logout()
-- The wrong token is refused (development mode creates accounts, but keeps their tokens).
local nope, why = login("saver", "wrong")
expect(nope == nil and why == "invalid_credentials", "wrong token: %s", tostring(why))
