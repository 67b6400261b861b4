-- What a client learns from the server (issue 22): ServerInfo after login (version, zones with
-- their names, tick rate, limits), the protocol version in LoginResult, names unique regardless
-- of case, and a Logout acknowledged before the close.
--! bots=1 timeout=30
local before, why = server_info(2000)
expect(before == nil, "ServerInfo before login is refused")
local me = expect(login("Infoseeker", "secret"), "login")
local info = expect(server_info(), "server_info")
expect(info.protocol_version == 1, "protocol version %s", tostring(info.protocol_version))
expect(info.server_version:find("quay%-zone%-server") ~= nil, "server version %s",
       tostring(info.server_version))
expect(#info.zones == 2, "%d zones", #info.zones)
local names = {}
for _, z in ipairs(info.zones) do names[z.id] = z.name end
expect(names[me.zone] ~= nil and names[me.zone] ~= "", "the start zone %d has a name", me.zone)
expect(info.tick_rate == 10, "tick rate %s", tostring(info.tick_rate))
expect(info.max_players > 0 and info.message_burst > 0 and info.chat_max_bytes == 256,
       "limits: %d players, burst %s, chat %d bytes", info.max_players, tostring(info.message_burst),
       info.chat_max_bytes)
local closed, acked = logout()
expect(closed and acked, "logout acknowledged (LoggedOut) and closed")
-- Case-blind names: the same character, shown as created.
local again = expect(login("INFOSEEKER", "secret"), "login in other case")
expect(again.name == "Infoseeker", "shown as %s", tostring(again.name))
logout()
