-- One wrk workload, configured by the Lua file the runner writes (wrk -s this.lua -- config.lua).
-- It counts every response whose status is not the one expected, so a fast run with errors is
-- reported as invalid rather than as fast.

local config = {}
local paths = {}
local queue = {}
bad = 0
local done_count = 0

function init(args)
  dofile(args[1])
  config = CONFIG
  paths = CONFIG.paths
  math.randomseed(os.time())
end

local function headers(extra)
  local h = { ["Authorization"] = "Bearer " .. config.token }
  if extra then
    h["Content-Type"] = "application/json"
  end
  return h
end

function request()
  if config.mode == "create_delete" then
    if #queue > 0 then
      local id = table.remove(queue)
      return wrk.format("DELETE", config.collection .. "/" .. id, headers(false))
    end
    return wrk.format("POST", config.collection, headers(true), config.body)
  end
  local path = paths[math.random(#paths)]
  if config.method == "PATCH" then
    return wrk.format("PATCH", path, headers(true), config.body)
  end
  return wrk.format("GET", path, headers(false))
end

function response(status, hdrs, body)
  done_count = done_count + 1
  if config.mode == "create_delete" then
    if status == 201 then
      local id = body:match('"id":"([^"]+)"')
      if id then table.insert(queue, id) end
    elseif status ~= 204 then
      bad = bad + 1
    end
  elseif status ~= config.expect then
    bad = bad + 1
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local total_bad = 0
  for _, t in ipairs(threads) do
    total_bad = total_bad + (t:get("bad") or 0)
  end
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"bad_status":%d,' ..
    '"socket_errors":%d,"non_2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), total_bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
