-- POST real codes of real persons, rotating through many of them, each with one of many clinic tokens.
-- Arguments after "--": PATH CODES_FILE [TOKENS_FILE]. Each thread starts at its own place in the list.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

function init(args)
   local prepared = {}
   local path, codes = args[1], common.read_lines(args[2])
   local tokens = args[3] and common.read_lines(args[3])
   for i, code in ipairs(codes) do
      local headers = { ["Content-Type"] = "application/json", ["User-Agent"] = "oms-bench/1" }
      if tokens then headers["Authorization"] = "Bearer " .. tokens[(i - 1) % #tokens + 1] end
      -- Base45 text holds no quote or backslash: it goes into JSON as it is.
      prepared[i] = wrk.format("POST", path, headers, '{"code": "' .. code .. '"}')
   end
   common.send_in_turn(prepared)
end
