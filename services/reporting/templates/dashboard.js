// The dashboard's behaviour: the state (view, period, place, category) lives in the page's URL (never the token);
// every change reloads the view's figures with the token from sessionStorage. When a view has finished rendering,
// <body> says so for the browser test: data-state (the API query), data-view, data-rendered (charts drawn) and
// data-points; a drill-down sets data-drill (its query) and data-drill-rows.
"use strict";
const KEY = "xinfang.terminal_token";
const REFUSED = {401: "令牌无效或已吊销，请重新登录。The token was refused or has been revoked: sign in again.",
                 404: "该范围不在本终端的辖区或权限内。This place is outside the terminal's jurisdiction or role.",
                 503: "暂时无法核验令牌，请稍后重试。Tokens cannot be checked right now: try again shortly."};
const WHO = {
  overview: "本页可用：督办（supervisor）、审计（auditor）、管理（admin）令牌看本单位辖区并可下钻；办理（handler）、登记（registrar）令牌只看本单位。" +
            " Supervisor, auditor and admin tokens: their unit's jurisdiction and below; handler and registrar: their own unit.",
  assessment: "本页可用：督办、审计、管理令牌（本辖区以下的各单位、各区划）；考核不分类别。" +
              " Supervisor, auditor and admin tokens: the units and places below their jurisdiction; not by category.",
  hotspots: "本页可用：督办、审计、管理令牌看本辖区，办理、登记令牌看本单位所在区划；只列事项，不列人员。" +
            " Supervisor, auditor and admin tokens: their jurisdiction; handler and registrar: their unit's place. Matters only, never persons."};
const $ = id => document.getElementById(id);
const places = Object.fromEntries(CONFIG.places.map(p => [p.code, p]));
const categoryName = Object.fromEntries(CONFIG.categories.map(c => [c.code, c.name]));
const url = new URLSearchParams(location.search);
const state = initialState();
let scopeTop = null, generation = 0;

function initialState() {
  const s = {view: url.get("view") || "overview", kind: "year", code: String(CONFIG.year),
             jurisdiction: url.get("jurisdiction") || CONFIG.jurisdiction || null, category: url.get("category") || null};
  for (const kind of ["month", "quarter", "year"]) if (url.get(kind)) { s.kind = kind; s.code = url.get(kind); }
  if (!WHO[s.view]) s.view = "overview";
  return s;
}
function apiQuery(over) {  // the order the test rebuilds: period, jurisdiction, category
  const s = Object.assign({}, state, over || {}), q = new URLSearchParams();
  q.set(s.kind, s.code);
  if (s.jurisdiction) q.set("jurisdiction", s.jurisdiction);
  if (s.category) q.set("category", s.category);
  return q;
}
function yearBefore(kind, code) {
  const y = Number(code.slice(0, 4)) - 1;
  return kind === "year" ? String(y) : y + code.slice(4);
}

// ---- controls -------------------------------------------------------------------------------------------
function options(select, items, value) {
  select.replaceChildren(...items.map(([v, text]) => { const o = document.createElement("option");
    o.value = v; o.textContent = text; return o; }));
  if (value !== undefined) select.value = value;
}
function drawControls() {
  $("kind").value = state.kind;
  const year = Number(state.code.slice(0, 4)), years = [];
  for (let y = Math.max(CONFIG.this_year, year); y >= Math.min(CONFIG.this_year - 5, year); y--) years.push([String(y), y + "年"]);
  options($("year"), years, String(year));
  $("sub").classList.toggle("hidden", state.kind === "year");
  if (state.kind === "month") options($("sub"), [...Array(12).keys()].map(i => [String(i + 1).padStart(2, "0"), (i + 1) + "月"]),
                                      state.code.slice(5, 7));
  if (state.kind === "quarter") options($("sub"), [1, 2, 3, 4].map(i => ["Q" + i, "第" + "一二三四"[i - 1] + "季度 Q" + i]),
                                        state.code.slice(4));
  const here = state.jurisdiction || scopeTop || CONFIG.county.code, path = [];
  for (let p = places[here]; p; p = places[p.parent]) { path.unshift(p); if (p.code === (scopeTop || CONFIG.county.code)) break; }
  $("crumbs").replaceChildren(...path.map((p, i) => { const b = document.createElement("button"); b.type = "button";
    b.textContent = p.name + (i < path.length - 1 ? " ›" : ""); b.dataset.code = p.code;
    b.onclick = () => change({jurisdiction: p.code === scopeTop ? null : p.code}); return b; }));
  const below = CONFIG.places.filter(p => p.parent === here);
  options($("place"), [["", below.length ? "— 下一级 drill down —" : "（最下级 lowest）"], ...below.map(p => [p.code, p.name])], "");
  $("place").disabled = !below.length;
  options($("category"), [["", "全部类别 all categories"], ...CONFIG.categories.map(c => [c.code, c.name])], state.category || "");
  for (const b of document.querySelectorAll("nav button")) b.setAttribute("aria-selected", String(b.dataset.view === state.view));
  $("who").textContent = WHO[state.view];
}
function periodFromControls() {
  const kind = $("kind").value, year = $("year").value;
  if (kind === "year") return {kind, code: year};
  const sub = $("sub").value;
  if (kind === "month") return {kind, code: year + "-" + (/^\d\d$/.test(sub) ? sub : "01")};
  return {kind, code: year + (/^Q[1-4]$/.test(sub) ? sub : "Q1")};
}
$("kind").onchange = $("year").onchange = $("sub").onchange = () => change(periodFromControls());
$("place").onchange = () => { if ($("place").value) change({jurisdiction: $("place").value}); };
$("category").onchange = () => change({category: $("category").value || null});
$("rankby").onchange = () => load();
for (const b of document.querySelectorAll("nav button")) b.onclick = () => change({view: b.dataset.view});
function change(over) {
  Object.assign(state, over);
  const q = apiQuery(); if (state.view !== "overview") q.set("view", state.view);
  history.replaceState(null, "", location.pathname + "?" + q);
  load();
}

// ---- sign-in --------------------------------------------------------------------------------------------
function say(text) { $("error").textContent = text; }
function signedOut(text) {
  sessionStorage.removeItem(KEY); scopeTop = null;
  $("signin").classList.remove("hidden"); $("signout").classList.add("hidden"); $("app").classList.add("hidden");
  for (const v of document.querySelectorAll("section")) v.classList.add("hidden");
  $("cards").replaceChildren(); say(text || "");
  document.body.dataset.signedIn = "0";
}
$("signin").addEventListener("submit", ev => {
  ev.preventDefault();  // the token never goes into a URL or a form post
  sessionStorage.setItem(KEY, $("token").value.trim()); $("token").value = ""; load();
});
$("signout").addEventListener("click", () => signedOut("已退出登录。Signed out."));
function ask(path, q) {
  return fetch(path + (q ? "?" + q : ""), {headers: {"Authorization": "Bearer " + sessionStorage.getItem(KEY)}, cache: "no-store"})
    .then(r => r.ok ? r.json() : r.json().catch(() => ({})).then(p => {
      const e = new Error(REFUSED[r.status] || (p.detail || ("HTTP " + r.status))); e.status = r.status; throw e; }));
}
function failed(e) {
  document.body.dataset.error = String(e.status || e);
  if (e.status === 401) signedOut(e.message); else say((e.status === 404 ? "" : "数据加载失败 Loading failed: ") + e.message);
}

// ---- loading a view -------------------------------------------------------------------------------------
function load() {
  if (!sessionStorage.getItem(KEY)) { signedOut(""); return; }
  $("signin").classList.add("hidden"); $("signout").classList.remove("hidden"); $("app").classList.remove("hidden");
  say(""); delete document.body.dataset.error; document.body.dataset.signedIn = "1";
  document.body.dataset.state = ""; document.body.dataset.rendered = "0";
  drawControls();
  for (const v of ["overview", "assessment", "hotspots"]) $(v).classList.toggle("hidden", v !== state.view);
  const mine = ++generation, q = apiQuery(), asked = state.jurisdiction;
  const done = doc => {  // the scope the token reads: its top place (when none was asked), or its own unit
    if (!asked && doc) scopeTop = doc.jurisdiction;
    if (doc && doc.unit) { $("placebox").classList.add("hidden"); $("unitbox").classList.remove("hidden");
                           $("unitname").textContent = doc.unit.name; }
    drawControls();
  };
  const view = {overview: overview, assessment: assessment, hotspots: hotspots}[state.view];
  view(new URLSearchParams(q), () => mine === generation, done).then(() => {
    if (mine !== generation) return;
    document.body.dataset.view = state.view; document.body.dataset.state = String(q);
  }).catch(e => { if (mine === generation) { clearView(); failed(e); } });
}
function clearView() {
  $("cards").replaceChildren(); $("ranking").replaceChildren(); $("rising").replaceChildren(); $("collective").replaceChildren();
  for (const id of CHARTS) echarts.dispose($(id));
}

// ---- overview: cards and charts -------------------------------------------------------------------------
const CHARTS = ["volume", "tiers", "categories", "breaches", "rates", "yoy"];
const CARDS = [["cases", "件"], ["batches", "批次"], ["persons", "人次"], ["collective_batches", "批次"],
               ["repeat_batches", "批次"], ["skip_level_batches", "批次"], ["resolution_rate"], ["timely_acceptance_rate"],
               ["on_time_completion_rate"], ["satisfaction_rate"]];
function overview(q, current, done) {
  q.set("compare", "yoy,mom");
  return Promise.all([ask("/v1/stats", q), ask("/v1/stats/series", q)]).then(([stats, series]) => {
    if (!current()) return;
    done({jurisdiction: stats.scope.jurisdiction.code, unit: stats.scope.unit});
    $("title").textContent = (stats.scope.unit ? stats.scope.unit.name : stats.scope.jurisdiction.name) + " " +
      stats.period.label + (stats.scope.category ? " · " + stats.scope.category.name : "");
    cards(stats.figures);
    return charts(stats.figures, series, current);
  });
}
function cards(F) {
  $("cards").replaceChildren(...CARDS.map(([key, unit]) => {
    const f = F[key], d = document.createElement("button"); d.type = "button"; d.className = "card";
    d.dataset.figure = key; d.dataset.value = f.value === null ? "" : String(f.value);
    const b = document.createElement("b"); b.textContent = unit ? f.value + unit : (f.text || "—");
    const notes = ["yoy", "mom"].filter(n => f[n] && f[n].text).map(n => (n === "yoy" ? "同比" : "环比") + f[n].text);
    const s = document.createElement("small"); s.textContent = f.label + (notes.length ? "（" + notes.join("，") + "）" : "");
    d.append(b, s); d.title = f.label_en + ": list the matters"; d.onclick = () => drill(key); return d;
  }));
}
function charts(F, series, current) {
  const made = [];
  let points = 0;
  function chart(id, title, option, click) {
    echarts.dispose($(id));
    const c = echarts.init($(id), null, {renderer: "svg"});
    option.title = {text: title, left: 10, top: 6, textStyle: {fontSize: 15}};
    option.animation = false;
    option.tooltip = option.tooltip || {trigger: "axis"};
    for (const s of option.series) points += s.data.filter(v => (v && v.value !== undefined ? v.value : v)).length;
    if (click) c.on("click", p => { const to = click(p); if (to) drill(to.figure, to.over); });
    made.push(new Promise(resolve => c.on("finished", function once() { c.off("finished", once); resolve(); })));
    c.setOption(option);
  }
  const lastYear = {kind: state.kind, code: yearBefore(state.kind, state.code)};
  const month = (list, i) => ({kind: "month", code: list[i].month});
  const months = series.months.map(m => Number(m.month.slice(5)) + "月");
  const grid = {top: 70, bottom: 30, left: 50, right: 20};
  chart("volume", "来访量趋势（批次、人次）", {legend: {top: 30}, grid, xAxis: {type: "category", data: months}, yAxis: {type: "value"},
    series: [{name: "本年批次", type: "bar", data: series.months.map(m => m.batches)},
             {name: "上年批次", type: "bar", data: series.last_year.map(m => m.batches)},
             {name: "本年人次", type: "line", data: series.months.map(m => m.persons)},
             {name: "上年人次", type: "line", data: series.last_year.map(m => m.persons)}]},
    p => ({figure: p.seriesIndex < 2 ? "batches" : "persons",
           over: month(p.seriesIndex % 2 ? series.last_year : series.months, p.dataIndex)}));
  chart("tiers", "按登记层级（批次）", {tooltip: {trigger: "item"}, legend: {bottom: 0},
    series: [{name: "批次", type: "pie", radius: ["35%", "65%"], top: 20,
              data: series.by_tier.map(t => ({name: t.name, value: t.batches}))}]},
    p => ({figure: "batches", over: {tier: series.by_tier[p.dataIndex].tier}}));
  chart("categories", "按事项类别（件）", {grid: {top: 40, bottom: 30, left: 140, right: 20},
    xAxis: {type: "value"}, yAxis: {type: "category", data: series.by_category.map(c => c.name).reverse()},
    series: [{name: "件", type: "bar", data: series.by_category.map(c => c.cases).reverse()}]},
    p => ({figure: "cases", over: {category: series.by_category[series.by_category.length - 1 - p.dataIndex].category}}));
  chart("breaches", "超期与升级（件次）", {legend: {top: 30}, grid, xAxis: {type: "category", data: months}, yAxis: {type: "value"},
    series: [{name: "超期", type: "bar", data: series.months.map(m => m.overdue)},
             {name: "升级", type: "bar", data: series.months.map(m => m.escalated)}]},
    p => ({figure: p.seriesIndex ? "escalations" : "overdue_notices", over: month(series.months, p.dataIndex)}));
  const rateKeys = ["resolution_rate", "timely_acceptance_rate", "on_time_completion_rate", "satisfaction_rate",
                    "participation_rate", "first_time_resolution_rate"];
  chart("rates", "各项比率（%）", {legend: {top: 30}, grid, xAxis: {type: "category", data: rateKeys.map(k => F[k].label)},
    yAxis: {type: "value", max: 100},
    series: [{name: "本期", type: "bar", data: rateKeys.map(k => F[k].value === null ? 0 : Number(F[k].value))},
             {name: "上年同期", type: "bar", data: rateKeys.map(k => F[k].yoy && F[k].yoy.value !== null ? Number(F[k].yoy.value) : 0)}]},
    p => ({figure: rateKeys[p.dataIndex], over: p.seriesIndex ? lastYear : {}}));
  const yoyKeys = ["cases", "batches", "persons", "collective_batches", "resolved"];
  chart("yoy", "同比", {legend: {top: 30}, grid, xAxis: {type: "category", data: yoyKeys.map(k => F[k].label)}, yAxis: {type: "value"},
    series: [{name: "本期", type: "bar", data: yoyKeys.map(k => F[k].value)},
             {name: "上年同期", type: "bar", data: yoyKeys.map(k => F[k].yoy ? F[k].yoy.value : 0)}]},
    p => ({figure: yoyKeys[p.dataIndex], over: p.seriesIndex ? lastYear : {}}));
  return Promise.all(made).then(() => {
    if (!current()) return;
    document.body.dataset.rendered = String(made.length); document.body.dataset.points = String(points);
  });
}

// ---- the matters behind a figure ------------------------------------------------------------------------
function drill(figure, over) {
  const q = apiQuery(over); q.set("figure", figure); q.set("limit", "500");
  if (over && over.tier) q.set("tier", over.tier);  // the tier chart's batches: those registered at that tier
  return drillAt("/v1/stats/drilldown?" + q);
}
function drillAt(link) {
  const [path, query] = link.split("?"), q = new URLSearchParams(query);
  if (!q.has("limit")) q.set("limit", "500");
  document.body.dataset.drill = "";
  return ask(path, q).then(doc => {
    const parts = doc.columns.filter(c => ["contribution", "numerator", "denominator"].includes(c.key));
    $("drilltitle").textContent = doc.label + "（" + doc.label_en + "）— " + doc.scope.jurisdiction.name +
      (doc.scope.unit ? " · " + doc.scope.unit.name : "") + (doc.scope.category ? " · " + doc.scope.category.name : "") +
      (doc.tier ? " · " + CONFIG.tiers[doc.tier] + "登记" : "") +
      " · " + doc.period.label;
    $("drillsums").textContent = "共 " + doc.total + " 件事项 matters" + (doc.total > doc.matters.length ? "，显示前 " +
      doc.matters.length + " 件 (first " + doc.matters.length + " shown)" : "") + "；" +
      parts.map(c => c.label + " " + doc.sums[c.key]).join("，") + (doc.kind === "rate" ? "；" + doc.label + " " + (doc.sums.value ?? "—") + "%" : "");
    const head = [["受理编号", "receipt no."], ["登记时间", "registered"], ["类别", "category"], ["区划", "place"],
                  ["渠道", "channel"], ["批次", "batches"], ["人次", "persons"], ...parts.map(c => [c.label, c.label_en])];
    const tr = cells => { const r = document.createElement("tr"); r.append(...cells); return r; };
    const cell = (text, tag, cls) => { const c = document.createElement(tag || "td"); c.textContent = text ?? "";
      if (cls) c.className = cls; return c; };
    $("drilltable").replaceChildren(tr(head.map(([zh, en]) => cell(zh + " " + en, "th"))), ...doc.matters.map(m => {
      const r = tr([cell(m.receipt_no, "td", "name"), cell((m.registered_at || "").slice(0, 16).replace("T", " "), "td", "name"),
        cell(categoryName[m.category] || m.category, "td", "name"), cell((places[m.jurisdiction] || {}).name || m.jurisdiction, "td", "name"),
        cell(CONFIG.channels[m.channel] || m.channel, "td", "name"), cell(m.batches), cell(m.persons), ...parts.map(c => cell(m[c.key]))]);
      r.dataset.receipt = m.receipt_no; return r; }));
    $("drill").classList.remove("hidden"); $("drill").scrollIntoView();
    document.body.dataset.drillRows = String(doc.matters.length); document.body.dataset.drill = String(q);
  }).catch(failed);
}
$("drillclose").onclick = () => { $("drill").classList.add("hidden"); document.body.dataset.drill = ""; };

// ---- assessment -----------------------------------------------------------------------------------------
function assessment(q, current, done) {
  q.delete("category");  // the assessment is not by category
  return ask("/v1/assessment", q).then(doc => {
    if (!current()) return;
    done({jurisdiction: doc.jurisdiction.code});
    $("title").textContent = doc.jurisdiction.name + " " + doc.period.label + " 考核排名";
    const label = Object.fromEntries(doc.indicators.map(i => [i.key, i.label]));
    $("rules").textContent = "权重 weights: " + doc.indicators.map(i => i.label + " " + i.weight).join("，") +
      "；一票否决 veto: " + doc.vetoes.map(v => label[v.indicator] + " < " + v.below + "%").join("，") + "；对比 " + doc.previous.label;
    const by = $("rankby").value, rows = doc[by];
    const th = text => { const c = document.createElement("th"); c.textContent = text; return c; };
    const head = document.createElement("tr");
    head.append(th("名次 rank"), th("名称 name"), th("得分 score"), th("较上期 change"), th("否决 veto"),
                ...doc.indicators.map(i => th(i.label + " " + i.label_en)));
    $("ranking").replaceChildren(head, ...rows.map(r => {
      const tr = document.createElement("tr"); tr.dataset.key = r.unit || r.jurisdiction; tr.dataset.rank = String(r.rank);
      const td = (text, cls) => { const c = document.createElement("td"); c.textContent = text; if (cls) c.className = cls; return c; };
      const change = r.rank_change === null ? "—" : r.rank_change > 0 ? "↑" + r.rank_change : r.rank_change < 0 ? "↓" + (-r.rank_change) : "0";
      tr.append(td(String(r.rank)), td(r.name, "name"), td(r.score), td(change, r.rank_change > 0 ? "up" : r.rank_change < 0 ? "down" : ""),
                td(r.vetoed.map(k => label[k] || k).join("，"), "vetoed"));
      for (const i of doc.indicators) {
        const cell = r.indicators[i.key], c = document.createElement("td"); c.dataset.indicator = i.key;
        const text = cell.value === null ? "—" : String(cell.value) + (i.kind === "rate" ? "%" : "");
        if (!cell.drilldown.length) c.textContent = text;
        cell.drilldown.forEach((link, n) => {
          const a = document.createElement("a"); a.href = "#"; a.dataset.link = link;
          a.textContent = n ? " ｜" + CONFIG.figures[new URLSearchParams(link.split("?")[1]).get("figure")] : text;
          a.onclick = ev => { ev.preventDefault(); drillAt(link); }; c.append(a); });
        tr.append(c);
      }
      return tr;
    }));
  });
}

// ---- hotspots -------------------------------------------------------------------------------------------
function hotspots(q, current, done) {
  q.delete("category");  // the warnings cover every category; the picked one filters the rising list here
  return ask("/v1/hotspots", q).then(doc => {
    if (!current()) return;
    done({jurisdiction: doc.jurisdiction});
    $("title").textContent = ((places[doc.jurisdiction] || {}).name || doc.jurisdiction) + " 热点预警 " + doc.period.code;
    const item = (h, text) => {
      const d = document.createElement("details"); d.className = "hot"; d.dataset.kind = h.kind || "rising";
      d.dataset.jurisdiction = h.jurisdiction; if (h.category) d.dataset.category = h.category;
      const s = document.createElement("summary"); s.textContent = text; d.append(s);
      const list = document.createElement("ol");
      list.append(...h.matters.map(m => { const li = document.createElement("li"); li.textContent = m.receipt_no;
        li.dataset.receipt = m.receipt_no; return li; }));
      d.append(list); return d;
    };
    const rising = doc.rising.filter(h => !state.category || h.category === state.category);
    $("rising").replaceChildren(...(rising.length ? rising.map(h => item(h, h.jurisdiction_name + " · " + h.category_name +
      "：本期 " + h.count + " 件，上期 " + h.previous + " 件，上年同期 " + h.last_year + " 件（" + h.matters.length + " 件事项 matters）"))
      : [document.createTextNode("无 none")]));
    $("collective").replaceChildren(...(doc.collective.length ? doc.collective.map(h => item(h, h.jurisdiction_name + "：" +
      h.visits + " 批集体访 collective visits，" + h.first_at.slice(0, 10) + " 至 " + h.last_at.slice(0, 10) +
      "（" + h.matters.length + " 件事项 matters）")) : [document.createTextNode("无 none")]));
  });
}
load();
