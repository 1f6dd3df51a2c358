-- wrk script: one registration per request, each with its own Idempotency-Key.
-- Token from the environment variable XINFANG_TERMINAL_TOKEN (wrk's Lua can read it with os.getenv).
-- With XINFANG_PEOPLE set (bench/lookup_bench.py), each registration is of a person of their own (a valid identity
-- number, a phone), except every tenth, which is the previous person again (a repeat that repeat detection finds);
-- XINFANG_RUN (a number) keeps the people of one wrk run apart from another's.
local counter = 0
local thread_id = 0
local token = os.getenv("XINFANG_TERMINAL_TOKEN")
local people = os.getenv("XINFANG_PEOPLE") ~= nil
local run = tonumber(os.getenv("XINFANG_RUN") or "0")
local weights = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
local checks = "10X98765432"
local body = '{"channel":"visit","jurisdiction":"361402001001","category":"labour","summary":"拖欠工资",' ..
             '"head_count":3,"petitioners":[{"name":"张三","id_number":"36140219800101123X","phone":"13800000000"}]}'

function setup(thread)
  thread:set("me", thread_id)  -- a global of the thread's Lua state
  thread:set("thread_id", thread_id)
  thread_id = thread_id + 1
end

local nonce = ""

function init(args)
  -- each thread is its own Lua state: a table's address differs between them
  nonce = string.gsub(tostring({}), "table: ", "")
end

local function id_number(n)
  -- birth dates 1940-01-01 .. 1999-12-28 (28 days a month), sequence 000..999: distinct for n below 20 million
  local day, seq = n % 20160, math.floor(n / 20160) % 1000
  local year, month, date = 1940 + math.floor(day / 336), math.floor(day % 336 / 28) + 1, day % 28 + 1
  local first = string.format("361402%04d%02d%02d%03d", year, month, date, seq)
  local sum = 0
  for i = 1, 17 do sum = sum + tonumber(first:sub(i, i)) * weights[i] end
  local at = sum % 11 + 1
  return first .. checks:sub(at, at)
end

local function person_body()
  local n = counter - (counter % 10 == 0 and 1 or 0)  -- every tenth: the previous person
  local person = (run * 2 + me) * 1000000 + n  -- wrk -t2: threads 0 and 1
  return string.format('{"channel":"visit","jurisdiction":"361402001001","category":"labour","summary":"拖欠工资",' ..
    '"head_count":1,"petitioners":[{"name":"张三","id_number":"%s","phone":"15%09d"}]}', id_number(person),
    person % 1000000000)
end

function request()
  counter = counter + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. token
  headers["Idempotency-Key"] = string.format("wrk-%s-%s-%d", tostring(os.time()), nonce, counter)
  return wrk.format("POST", "/v1/petitions", headers, people and person_body() or body)
end

function response(status, headers, body)
  if status ~= 201 then
    errors = (errors or 0) + 1
  end
end
