"""The dashboard page: ECharts from the npm package, served by this service (no CDN: county
networks are often cut off from the internet).  The page holds no figure: it asks for the terminal's
token (kept in sessionStorage for this browser tab's session only — never in a URL, a cookie or a log),
reads /v1/stats and /v1/stats/series with it and, when every chart has finished rendering, writes how
many charts it drew and how many data points they hold on <body data-rendered data-points> — what the
browser test reads.  A refused or revoked token signs the page out with a message saying why."""
from __future__ import annotations

import html
import json
from datetime import datetime

from xinfang.county import County

TEMPLATE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>信访统计看板 · __PLACE__ · __YEAR__年</title>
<style>
 body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:0;background:#f4f6f8;color:#222}
 header{background:#b71c1c;color:#fff;padding:12px 24px} h1{font-size:20px;margin:0}
 #cards{display:flex;flex-wrap:wrap;gap:12px;padding:16px 24px}
 .card{background:#fff;border-radius:6px;padding:10px 16px;min-width:150px;box-shadow:0 1px 2px #0002}
 .card b{display:block;font-size:24px} .card small{color:#666}
 #grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:12px;padding:0 24px 24px}
 .chart{background:#fff;height:320px;border-radius:6px;box-shadow:0 1px 2px #0002}
 #error{color:#b71c1c;padding:0 24px}
 #signin{background:#fff;margin:24px;padding:16px 24px;border-radius:6px;box-shadow:0 1px 2px #0002;max-width:560px}
 #signin input{width:100%;font-size:15px;padding:6px;margin:8px 0} header button{float:right}
 .hidden{display:none}
</style>
<script src="/static/echarts.min.js"></script>
</head>
<body data-rendered="0" data-points="0">
<header><button id="signout" class="hidden" type="button">退出登录 Sign out</button>
<h1>信访统计看板 — __PLACE__ __YEAR__年</h1></header>
<div id="error" role="alert"></div>
<form id="signin" class="hidden" method="post" autocomplete="off">
 <label for="token">终端令牌 Terminal token</label>
 <input id="token" name="token" type="password" required placeholder="xft_…" spellcheck="false">
 <button type="submit">登录 Sign in</button>
 <p><small>令牌只保存在本浏览器标签页的会话中，关闭即清除。The token stays in this tab's session only.</small></p>
</form>
<div id="cards"></div>
<div id="grid" class="hidden">
 <div class="chart" id="volume"></div><div class="chart" id="tiers"></div>
 <div class="chart" id="categories"></div><div class="chart" id="breaches"></div>
 <div class="chart" id="rates"></div><div class="chart" id="yoy"></div>
</div>
<script>
const CONFIG = __CONFIG__;
const q = new URLSearchParams({year: CONFIG.year, compare: "yoy"});
if (CONFIG.jurisdiction) q.set("jurisdiction", CONFIG.jurisdiction);
const charts = [];
let finished = 0, points = 0;
function chart(id, title, option) {
  const c = echarts.init(document.getElementById(id), null, {renderer: "svg"});
  option.title = {text: title, left: 10, top: 6, textStyle: {fontSize: 15}};
  option.animation = false;
  option.tooltip = option.tooltip || {trigger: "axis"};
  for (const s of option.series) points += s.data.filter(v => (v && v.value !== undefined ? v.value : v)).length;
  c.on("finished", function once() {
    c.off("finished", once);
    finished += 1;
    if (finished === charts.length) {
      document.body.dataset.rendered = String(finished);
      document.body.dataset.points = String(points);
    }
  });
  charts.push([c, option]);
}
function card(label, value, note) {
  const d = document.createElement("div"); d.className = "card";
  const b = document.createElement("b"); b.textContent = value;
  const s = document.createElement("small"); s.textContent = label + (note ? "（" + note + "）" : "");
  d.append(b, s); document.getElementById("cards").append(d);
}
const KEY = "xinfang.terminal_token";
const REFUSED = {401: "令牌无效或已吊销，请重新登录。The token was refused or has been revoked: sign in again.",
                 404: "该范围不在本终端的辖区或权限内。This place is outside the terminal's jurisdiction or role.",
                 503: "暂时无法核验令牌，请稍后重试。Tokens cannot be checked right now: try again shortly."};
const $ = id => document.getElementById(id);
function say(text) { $("error").textContent = text; }
function signedOut(text) {
  sessionStorage.removeItem(KEY);
  $("signin").classList.remove("hidden"); $("signout").classList.add("hidden"); $("grid").classList.add("hidden");
  $("cards").replaceChildren(); say(text || "");
  document.body.dataset.signedIn = "0";
}
$("signin").addEventListener("submit", ev => {
  ev.preventDefault();  // the token never goes into a URL or a form post
  sessionStorage.setItem(KEY, $("token").value.trim()); $("token").value = ""; load();
});
$("signout").addEventListener("click", () => signedOut("已退出登录。Signed out."));
function ask(path) {
  return fetch(path + "?" + q, {headers: {"Authorization": "Bearer " + sessionStorage.getItem(KEY)}, cache: "no-store"})
    .then(r => r.ok ? r.json() : r.json().catch(() => ({})).then(p => {
      const e = new Error(REFUSED[r.status] || (p.detail || ("HTTP " + r.status))); e.status = r.status; throw e; }));
}
function load() {
  if (!sessionStorage.getItem(KEY)) { signedOut(""); return; }
  $("signin").classList.add("hidden"); $("signout").classList.remove("hidden"); say("");
  document.body.dataset.signedIn = "1";
  Promise.all([ask("/v1/stats"), ask("/v1/stats/series")])
.then(([stats, series]) => {
  charts.length = 0; finished = 0; points = 0; $("cards").replaceChildren();
  const F = stats.figures;
  card("上访案件", F.cases.value + "件", F.cases.yoy && F.cases.yoy.text ? "同比" + F.cases.yoy.text : "");
  card("来访批次", F.batches.value + "批次", F.batches.yoy && F.batches.yoy.text ? "同比" + F.batches.yoy.text : "");
  card("来访人次", F.persons.value + "人次", F.persons.yoy && F.persons.yoy.text ? "同比" + F.persons.yoy.text : "");
  card("集体访", F.collective_batches.value + "批次", "");
  card("解决率", F.resolution_rate.text || "—", "");
  card("满意率", F.satisfaction_rate.text || "—", "");
  const months = series.months.map(m => Number(m.month.slice(5)) + "月");
  chart("volume", "来访量趋势（批次、人次）", {legend: {top: 30}, grid: {top: 70, bottom: 30, left: 50, right: 20},
    xAxis: {type: "category", data: months}, yAxis: {type: "value"},
    series: [{name: "本年批次", type: "bar", data: series.months.map(m => m.batches)},
             {name: "上年批次", type: "bar", data: series.last_year.map(m => m.batches)},
             {name: "本年人次", type: "line", data: series.months.map(m => m.persons)},
             {name: "上年人次", type: "line", data: series.last_year.map(m => m.persons)}]});
  chart("tiers", "按登记层级（批次）", {tooltip: {trigger: "item"}, legend: {bottom: 0},
    series: [{name: "批次", type: "pie", radius: ["35%", "65%"], top: 20,
              data: series.by_tier.map(t => ({name: t.name, value: t.batches}))}]});
  chart("categories", "按事项类别（件）", {grid: {top: 40, bottom: 30, left: 140, right: 20},
    xAxis: {type: "value"}, yAxis: {type: "category", data: series.by_category.map(c => c.name).reverse()},
    series: [{name: "件", type: "bar", data: series.by_category.map(c => c.cases).reverse()}]});
  chart("breaches", "超期与升级（件次）", {legend: {top: 30}, grid: {top: 70, bottom: 30, left: 50, right: 20},
    xAxis: {type: "category", data: months}, yAxis: {type: "value"},
    series: [{name: "超期", type: "bar", data: series.months.map(m => m.overdue)},
             {name: "升级", type: "bar", data: series.months.map(m => m.escalated)}]});
  const rateKeys = [["resolution_rate", "解决率"], ["timely_acceptance_rate", "及时受理率"],
                    ["on_time_completion_rate", "按期办结率"], ["satisfaction_rate", "满意率"],
                    ["participation_rate", "参评率"], ["first_time_resolution_rate", "一次办结率"]];
  chart("rates", "各项比率（%）", {legend: {top: 30}, grid: {top: 70, bottom: 30, left: 50, right: 20},
    xAxis: {type: "category", data: rateKeys.map(k => k[1])}, yAxis: {type: "value", max: 100},
    series: [{name: "本期", type: "bar", data: rateKeys.map(k => F[k[0]].value === null ? 0 : Number(F[k[0]].value))},
             {name: "上年同期", type: "bar",
              data: rateKeys.map(k => F[k[0]].yoy && F[k[0]].yoy.value !== null ? Number(F[k[0]].yoy.value) : 0)}]});
  const yoyKeys = [["cases", "案件"], ["batches", "批次"], ["persons", "人次"], ["collective_batches", "集体访批次"],
                   ["resolved", "已解决"]];
  chart("yoy", "同比", {legend: {top: 30}, grid: {top: 70, bottom: 30, left: 50, right: 20},
    xAxis: {type: "category", data: yoyKeys.map(k => k[1])}, yAxis: {type: "value"},
    series: [{name: "本期", type: "bar", data: yoyKeys.map(k => F[k[0]].value)},
             {name: "上年同期", type: "bar", data: yoyKeys.map(k => F[k[0]].yoy ? F[k[0]].yoy.value : 0)}]});
  $("grid").classList.remove("hidden");
  for (const [c, option] of charts) { c.resize(); c.setOption(option); }
}).catch(e => {
  document.body.dataset.error = String(e.status || e);
  if (e.status === 401) signedOut(e.message); else say("数据加载失败 " + e.message);
});
}
load();
</script>
</body></html>
"""


def page(county: County, year: str | None, jurisdiction: str | None) -> str:
    """The dashboard HTML for a year (default: this year, local time) and a jurisdiction."""
    year = year or str(datetime.now(county.zone).year)
    try:
        place = county.jurisdiction(jurisdiction).name if jurisdiction else county.name
    except KeyError:
        place, jurisdiction = county.name, None
    config = json.dumps({"year": year, "jurisdiction": jurisdiction}, ensure_ascii=False).replace("<", "\\u003c")
    return (TEMPLATE.replace("__PLACE__", html.escape(place)).replace("__YEAR__", html.escape(year))
            .replace("__CONFIG__", config))
