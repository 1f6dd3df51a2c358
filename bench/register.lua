-- wrk script: one registration per request, each with its own Idempotency-Key.
-- Token from the environment variable XINFANG_TERMINAL_TOKEN (wrk's Lua can read it with os.getenv).
local counter = 0
local thread_id = 0
local token = os.getenv("XINFANG_TERMINAL_TOKEN")
local body = '{"channel":"visit","jurisdiction":"361402001001","category":"labour","summary":"拖欠工资",' ..
             '"head_count":3,"petitioners":[{"name":"张三","id_number":"36140219800101123X","phone":"13800000000"}]}'

function setup(thread)
  thread:set("thread_id", thread_id)
  thread_id = thread_id + 1
end

local nonce = ""

function init(args)
  -- each thread is its own Lua state: a table's address differs between them
  nonce = string.gsub(tostring({}), "table: ", "")
end

function request()
  counter = counter + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. token
  headers["Idempotency-Key"] = string.format("wrk-%s-%s-%d", tostring(os.time()), nonce, counter)
  return wrk.format("POST", "/v1/petitions", headers, body)
end

function response(status, headers, body)
  if status ~= 201 then
    errors = (errors or 0) + 1
  end
end
