-- GET one path, optionally as logged-in users: with a file of session cookies, each request
-- carries the next cookie in turn (so a file of many citizens means many distinct persons).
-- Arguments after "--": PATH [COOKIES_FILE].
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

function init(args)
   local prepared = {}
   local path = args[1]
   local headers = { ["User-Agent"] = "oms-bench/1" }
   if args[2] then
      for i, cookie in ipairs(common.read_lines(args[2])) do
         headers["Cookie"] = "session=" .. cookie
         prepared[i] = wrk.format("GET", path, headers)
      end
   else
      prepared[1] = wrk.format("GET", path, headers)
   end
   common.send_in_turn(prepared)
end
