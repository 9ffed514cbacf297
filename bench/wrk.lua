-- One wrk script for every bench path. run.py writes a spec file per run and passes it as the argument:
--   method POST | path /api/v1/patients/{id} | header Name: value | body <text> (rotated per request)
--   id <patient uuid> [etag]   (one line per patient; {id} in the path is replaced)
-- With etags the run is an update: it must be started with one connection per thread (-t N -c N), so a
-- thread's Lua state is one client that owns one patient and sends If-Match with the ETag of its own last
-- response. Otherwise each thread walks the id list from its own offset.
-- With "clock <epoch seconds>" and "tag <text>" each request is a new write: {taken_at} in the body becomes
-- a moment of its own (clock + (sent * 100 + thread index) microseconds: distinct across the run's clients,
-- and within the minute run.py gives each run up to 600,000 requests a client) and {key} in a header a key
-- of its own (tag-index-sent), e.g. for Idempotency-Key.
-- Every non-2xx response is counted; done() prints one "BENCH {...}" line for run.py to parse.

local spec = { method = "GET", path = "/", headers = {}, bodies = {}, ids = {}, etags = {}, clock = nil, tag = "" }
local sent = 0
local etag = nil
errors = 0 -- global: done() reads it from each thread with thread:get

local threads = {}
local count = 0

function setup(thread)
   count = count + 1
   thread:set("index", count)
   table.insert(threads, thread)
end

function init(args)
   for line in io.lines(args[1]) do
      local key, value = line:match("^(%S+) (.*)$")
      if key == "method" then
         spec.method = value
      elseif key == "path" then
         spec.path = value
      elseif key == "header" then
         local name, text = value:match("^([^:]+): (.*)$")
         spec.headers[name] = text
      elseif key == "clock" then
         spec.clock = tonumber(value)
      elseif key == "tag" then
         spec.tag = value
      elseif key == "body" then
         table.insert(spec.bodies, value)
      elseif key == "id" then
         local id, tag = value:match("^(%S+)%s*(%S*)$")
         table.insert(spec.ids, id)
         table.insert(spec.etags, tag)
      end
   end
   if spec.etags[index] and spec.etags[index] ~= "" then
      etag = spec.etags[index]
   end
end

function request()
   sent = sent + 1
   local headers = {}
   for name, text in pairs(spec.headers) do
      headers[name] = text
   end
   local path = spec.path
   if #spec.ids > 0 then
      -- An update client keeps its own patient; readers step through the list.
      local i = etag and index or (index + sent) % #spec.ids + 1
      path = path:gsub("{id}", spec.ids[i])
   end
   if etag then
      headers["If-Match"] = etag
   end
   local body = nil
   if #spec.bodies > 0 then
      body = spec.bodies[sent % #spec.bodies + 1]
   end
   if spec.clock then
      local us = sent * 100 + index
      local moment = os.date("!%Y-%m-%dT%H:%M:%S", spec.clock + math.floor(us / 1000000))
      moment = moment .. string.format(".%06dZ", us % 1000000)
      local key = string.format("%s-%d-%d", spec.tag, index, sent)
      if body then
         body = body:gsub("{taken_at}", moment)
      end
      for name, text in pairs(headers) do
         headers[name] = text:gsub("{key}", key)
      end
   end
   return wrk.format(spec.method, path, headers, body)
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      errors = errors + 1
   end
   if etag then
      etag = headers["ETag"] or headers["etag"] or etag
   end
end

function done(summary, latency, requests)
   local bad = 0
   for _, thread in ipairs(threads) do
      bad = bad + thread:get("errors")
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH {"requests": %d, "duration_us": %d, "p50_us": %.0f, "p99_us": %.0f, "non2xx": %d, "socket_errors": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), bad,
      e.connect + e.read + e.write + e.timeout))
end
