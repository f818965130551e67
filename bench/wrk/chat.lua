-- wrk script for bench/chat.py: POST /v1/chat with a rotating mix of customer messages,
-- and a JSON summary line (requests, errors, latency percentiles in microseconds) at the end.
local messages = {
  "おすすめの異世界マンガは？", "ワンピースの最新刊は在庫ありますか？", "Is Frieren vol. 12 in stock?",
  "泣ける漫画が読みたい", "Any good horror manga?", "葬送のフリーレンってどんな話？",
  "送料はいくらですか？", "Who wrote Berserk?", "尾田栄一郎の作品は？", "こんにちは",
  "鬼滅の刃みたいな漫画ありますか", "How much is shipping?", "チェンソーマンの値段は？",
  "something like Naruto", "支払い方法は？", "ﾊｲｷｭｰの在庫ある？",
}
local counter = 0
local non2xx = 0

request = function()
  counter = counter + 1
  local body = '{"message":"' .. messages[(counter % #messages) + 1] .. '"}'
  return wrk.format("POST", "/v1/chat", {["Content-Type"] = "application/json"}, body)
end

response = function(status, headers, body)
  if status ~= 200 then non2xx = non2xx + 1 end
end

done = function(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests":%d,"errors":%d,"non2xx":%d,"duration_us":%d,"p50":%d,"p95":%d,"p99":%d,"max":%d}\n',
    summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
