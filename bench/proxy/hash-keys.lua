-- wrk script: every request carries one of 1000 distinct hash keys (x-user), and the Host header
-- the target routes by (VIPR_BENCH_HOST; default the URL's host).
local keys = {}
for i = 1, 1000 do keys[i] = "user-" .. i end
local host = os.getenv("VIPR_BENCH_HOST")
local n = 0
request = function()
  n = n + 1
  local headers = { ["x-user"] = keys[(n % 1000) + 1] }
  if host ~= nil and host ~= "" then headers["Host"] = host end
  return wrk.format("GET", "/info", headers)
end
