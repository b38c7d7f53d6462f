-- Reads Patient/{id}, the ids taken in turn from the file named by $BENCH_IDS.
local ids = {}
local f = io.open(os.getenv("BENCH_IDS"), "r")
for line in f:lines() do if #line > 0 then ids[#ids + 1] = line end end
f:close()
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/fhir/Patient/" .. ids[(i % #ids) + 1])
end
