-- Moderato load benchmark: the wrk script for every workload of
-- bench/load.rs, which passes the arguments after `--`:
--
--   get                        send the URL given to wrk as it is
--   login  BODY_FILE           POST the JSON in BODY_FILE (the same each time)
--   submit guest|account TEXT_FILE MARKER ARTICLES PATH_PREFIX
--          POST a new comment to PATH_PREFIX<NNNN>/comments (NNNN below
--          ARTICLES, four digits), its body a line of TEXT_FILE (already
--          JSON-escaped) followed by the unique tag `(MARKER-<thread>-<n>)`;
--          guests also send an author (one of 5,000), accounts rely on the
--          Authorization header given to wrk.
--
-- Every thread counts the statuses it receives in response(), and for
-- submit the tag of each comment acknowledged with 201. done() adds the
-- threads up and prints `@@ <what> <value>` lines that load.rs reads.

local threads = {}

-- Read back from each thread by done() through thread:get().
statuses = {}
acks = {}

local mode
local kind
local marker
local articles
local prefix
local texts = {}
local counter = 0
local static_request

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

local function read_file(path)
   local f = assert(io.open(path, "rb"))
   local content = f:read("*a")
   f:close()
   return content
end

function init(args)
   mode = args[1] or "get"
   if mode == "login" then
      wrk.method = "POST"
      wrk.body = read_file(args[2])
      wrk.headers["Content-Type"] = "application/json"
   elseif mode == "submit" then
      kind = args[2]
      for line in io.lines(args[3]) do
         if #line > 0 then
            texts[#texts + 1] = line
         end
      end
      assert(#texts > 0, "no texts in " .. args[3])
      marker = args[4]
      articles = tonumber(args[5])
      prefix = args[6]
      wrk.method = "POST"
      wrk.headers["Content-Type"] = "application/json"
   elseif mode ~= "get" then
      error("unknown mode " .. mode)
   end
   if mode ~= "submit" then
      static_request = wrk.format()
   end
end

function request()
   if static_request then
      return static_request
   end
   counter = counter + 1
   -- Different threads walk the texts and articles in different orders.
   local n = id * 1000003 + counter * 7919
   local text = texts[n % #texts + 1]
   local tag = marker .. "-" .. id .. "-" .. counter
   local body = '{"body":"' .. text .. " (" .. tag .. ')"'
   if kind == "guest" then
      local g = n % 5000
      body = body .. ',"author":{"name":"Load guest ' .. g
         .. '","email":"load-guest-' .. g .. '@example.com"}'
   end
   body = body .. "}"
   local path = prefix .. string.format("%04d", n % articles) .. "/comments"
   return wrk.format(nil, path, nil, body)
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status == 201 and marker then
      acks[#acks + 1] = string.match(body, marker .. "%-%d+%-%d+") or "?"
   end
end

function done(summary, latency, requests)
   local totals = {}
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses")) do
         totals[status] = (totals[status] or 0) + n
      end
      for _, tag in ipairs(thread:get("acks")) do
         io.write("@@ ack ", tag, "\n")
      end
   end
   for status, n in pairs(totals) do
      io.write(string.format("@@ status %d %d\n", status, n))
   end
   io.write(string.format("@@ requests %d\n", summary.requests))
   io.write(string.format("@@ duration_us %d\n", summary.duration))
   local e = summary.errors
   io.write(string.format("@@ errors %d %d %d %d %d\n",
      e.connect, e.read, e.write, e.status, e.timeout))
   for _, p in ipairs({ 50, 90, 99 }) do
      io.write(string.format("@@ latency_p%d_us %d\n", p, latency:percentile(p)))
   end
   io.write(string.format("@@ latency_mean_us %.1f\n", latency.mean))
   io.write(string.format("@@ latency_max_us %d\n", latency.max))
end
