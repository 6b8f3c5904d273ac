-- Replays a pool of prebuilt, distinct WeChat pushes (one per line: path<TAB>body) in order, from the
-- index given as the second argument (0 when absent), wrapping round at the end.
local pool = {}
local i = 0

function init(args)
  i = tonumber(args[2] or "0")
  for line in io.lines(args[1]) do
    local tab = line:find("\t", 1, true)
    pool[#pool + 1] = wrk.format("POST", line:sub(1, tab - 1), { ["Content-Type"] = "text/xml" }, line:sub(tab + 1))
  end
end

function request()
  i = i + 1
  return pool[((i - 1) % #pool) + 1]
end

function done(summary, latency, requests)
  io.write(string.format("WRK_RESULT %d %d %.1f %.1f %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
