-- After a crash and restart (run_faults.sh kill): every walker logs in again and reports where
-- the restarted server puts it, which the runner compares with the database it read before
-- the restart:  RELOGIN <name> <x> <y>
--! bots=20 timeout=60
local me = expect(login(), "login after the restart")
print(string.format("RELOGIN %s %.3f %.3f", bot.name, me.x, me.y))
logout()
