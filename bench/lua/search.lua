-- Runs the query in $BENCH_QUERY with {pid} replaced by patient ids taken in turn from $BENCH_IDS.
local ids = {}
local f = io.open(os.getenv("BENCH_IDS"), "r")
for line in f:lines() do if #line > 0 then ids[#ids + 1] = line end end
f:close()
local q = os.getenv("BENCH_QUERY")
local i = 0
request = function()
  i = i + 1
  local path = string.gsub(q, "{pid}", ids[(i % #ids) + 1])
  return wrk.format("GET", "/fhir" .. path)
end
