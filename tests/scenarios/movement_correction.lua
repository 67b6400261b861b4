-- The server is authoritative: a move too fast is clamped, a teleport refused, a move off the
-- map clamped to the edge; each comes back as a correction the client must snap to.
--! bots=1 timeout=30
local me = expect(login("sprinter"), "login")
local x0, y0 = me.x, me.y
sleep(1200)  -- a full movement budget (one second's worth)

-- 25 m at once is more than the 7.7 m a second's budget allows, but below a teleport.
local seq = move(x0 + 25, y0)
local c = expect_event("correction", 3000, {seq = seq}, "no correction for a move too fast")
expect(c.verdict == "speed_clamped", "verdict %s", c.verdict)
expect(c.x > x0 and c.x < x0 + 12, "clamped to the budget, at x=%.1f", c.x)
expect(math.abs(me_state().x - c.x) < 0.01, "the client snapped to the correction")

-- 100 m in one report is a teleport: refused, position unchanged.
local before = me_state().x
seq = move(before + 100, y0)
c = expect_event("correction", 3000, {seq = seq}, "no correction for a teleport")
expect(c.verdict == "teleport", "verdict %s", c.verdict)
expect(math.abs(c.x - before) < 0.01, "a teleport leaves the position unchanged (%.1f)", c.x)

-- Off the map (negative coordinates within a short step of the edge is not possible from the
-- spawn, so walk to the edge first, then step over it).
expect(walk_to(1, y0, 15000), "walked to the west edge")
sleep(1200)
seq = move(-3, y0)
c = expect_event("correction", 3000, {seq = seq}, "no correction for a move off the map")
expect(c.verdict == "out_of_bounds", "verdict %s", c.verdict)
expect(c.x >= 0 and c.x < 1.5, "clamped to the edge, at x=%.2f", c.x)

-- A legal step gets no correction.
sleep(1200)
seq = move(me_state().x + 3, y0)
expect(wait_for("correction", 1000, {seq = seq}) == nil, "a legal move was corrected")
logout()
