// 登记: the registration form, the receipt slip 回执 and, when intake answers possible_repeats, a visit instead.
import { api, newKey, occurredNow, Offline } from "./api.js";
import { $, counted, esc, options, problemText, ref, send, view, when } from "./common.js";
import { idNumberProblem } from "./idcard.js";
import * as outbox from "./outbox.js";

function placeOptions() {
  // the county's tree in depth-first order, each place indented under its parent
  const { places } = ref;
  const codes = new Set(places.map((p) => p.code));
  const children = new Map();
  for (const p of places) {
    const parent = codes.has(p.parent) ? p.parent : "";
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(p);
  }
  const out = [];
  const walk = (parent, depth) => {
    for (const p of children.get(parent) || []) {
      out.push([p.code, `${"　".repeat(depth)}${p.name}`]);
      walk(p.code, depth + 1);
    }
  };
  walk("", 0);
  return out;
}

let petitionerCount = 0;

function petitionerFieldset() {
  const n = ++petitionerCount;
  return `<fieldset class="petitioner" data-n="${n}"><legend>信访人</legend><div class="grid">
    <div><label for="name-${n}">姓名</label><input id="name-${n}" name="name" required maxlength="64"></div>
    <div><label for="id-${n}">居民身份证号码</label>
      <input id="id-${n}" name="id_number" inputmode="text" maxlength="18" autocomplete="off" spellcheck="false"
             aria-describedby="id-${n}-error">
      <p id="id-${n}-error" class="field-error" aria-live="polite"></p></div>
    <div><label for="phone-${n}">联系电话</label><input id="phone-${n}" name="phone" inputmode="tel" maxlength="20"
             pattern="[0-9+\\- ]{5,20}"></div>
    <div><label for="address-${n}">住址</label><input id="address-${n}" name="address" maxlength="200"></div>
  </div><button type="button" class="remove">删除此信访人</button></fieldset>`;
}

export async function registerPage() {
  const { me, categories } = ref;
  petitionerCount = 0;
  const channels = Object.entries(me.labels.channel);
  view().innerHTML = `<form id="register" class="card" novalidate>
    <h2>登记信访事项</h2>
    <div class="grid">
      <div><label for="channel">信访形式</label><select id="channel" name="channel" required>${options(channels)}</select></div>
      <div><label for="jurisdiction">事项发生地</label>
        <select id="jurisdiction" name="jurisdiction" required>${options(placeOptions(), me.unit.jurisdiction)}</select></div>
      <div><label for="category">内容分类</label><select id="category" name="category" required>
        <option value="">请选择</option>${options(categories.map((k) => [k.code, k.name]))}</select></div>
      <div><label for="head_count">人数</label><input id="head_count" name="head_count" type="number" min="1"
        max="${me.max_head_count}" value="1" required aria-describedby="head-hint">
        <p id="head-hint" class="hint">${me.collective_threshold}人及以上为集体访</p></div>
    </div>
    <label for="summary">主要诉求</label><textarea id="summary" name="summary" required maxlength="4000"></textarea>
    <div id="petitioners">${petitionerFieldset()}</div>
    <div class="actions"><button type="button" id="add-petitioner">添加信访人</button>
      <button type="submit" class="primary">登记</button></div>
    <p id="register-error" class="field-error" role="alert"></p>
  </form>`;
  const form = $("#register");
  $("#channel").focus();
  form.addEventListener("input", (e) => { if (e.target.name === "id_number") checkId(e.target); });
  form.addEventListener("click", (e) => {
    if (e.target.classList.contains("remove") && form.querySelectorAll(".petitioner").length > 1) {
      e.target.closest(".petitioner").remove();
      $(".petitioner input", form).focus();
    }
  });
  $("#add-petitioner").addEventListener("click", () => {
    $("#petitioners").insertAdjacentHTML("beforeend", petitionerFieldset());
    $("#petitioners .petitioner:last-child input").focus();
  });
  form.addEventListener("submit", (e) => { e.preventDefault(); submitRegistration(form); });
}

function checkId(input) {
  const problem = idNumberProblem(input.value);
  input.setAttribute("aria-invalid", problem ? "true" : "false");
  const said = $(`#${input.id}-error`);
  said.textContent = problem || (input.value ? "号码校验通过" : "");
  said.classList.toggle("field-ok", !problem);
  return problem;
}

function registration(form) {
  const value = (name) => form.elements[name].value.trim();
  const petitioners = [...form.querySelectorAll(".petitioner")].map((set) => {
    const person = { name: $("[name=name]", set).value.trim() };
    for (const field of ["id_number", "phone", "address"]) {
      const text = $(`[name=${field}]`, set).value.trim();
      if (text) person[field] = field === "id_number" ? text.toUpperCase() : text;
    }
    return person;
  });
  return { channel: value("channel"), jurisdiction: value("jurisdiction"), category: value("category"),
           summary: value("summary"), head_count: Number(value("head_count")), petitioners };
}

function invalidFields(form) {
  let first = null;
  for (const input of form.querySelectorAll("input, select, textarea")) {
    const bad = !input.checkValidity() || (input.name === "id_number" && checkId(input));
    input.setAttribute("aria-invalid", bad ? "true" : "false");
    first = first || (bad ? input : null);
  }
  return first;
}

async function submitRegistration(form) {
  const error = $("#register-error");
  const wrong = invalidFields(form);
  if (wrong) {
    error.textContent = `请检查「${form.querySelector(`label[for="${wrong.id}"]`).textContent}」`;
    return wrong.focus();
  }
  error.textContent = "";
  // its occurred time and key go with the first try and every retry alike: the same body, never a second matter
  const body = { ...registration(form), occurred_at: occurredNow() };
  const key = newKey();
  const button = $("button[type=submit]", form);
  button.disabled = true;
  try {
    const answer = await api("/v1/petitions", { method: "POST", body, key });
    showSlip(body, answer);
  } catch (err) {
    if (err instanceof Offline) {
      await outbox.queue({ key, terminal_id: ref.me.terminal_id, path: "/v1/petitions", what: "登记", body,
                           slip: slipFacts(body) });
      await counted();
      showSlip(body, null);
    } else {
      button.disabled = false;
      error.textContent = problemText(err);
      markFields(form, err);
    }
  }
}


function markFields(form, err) {
  for (const f of (err.body && err.body.errors) || []) {
    const [name, index, sub] = String(f.field).split(".");
    const input = name === "petitioners" ? form.querySelectorAll(".petitioner")[Number(index)]?.querySelector(`[name=${sub}]`)
      : form.elements[name];
    if (input) input.setAttribute("aria-invalid", "true");
  }
}

function slipFacts(body) {
  const place = ref.places.find((p) => p.code === body.jurisdiction);
  const category = ref.categories.find((k) => k.code === body.category);
  return { channel: ref.me.labels.channel[body.channel], place: place ? place.name : body.jurisdiction,
           category: category ? category.name : body.category, head_count: body.head_count,
           names: body.petitioners.map((p) => p.name).join("、"), unit: ref.me.unit.name,
           at: new Date().toISOString() };
}

export function slipHtml(facts, answer) {
  const receipt = answer ? esc(answer.receipt_no) : "待同步";
  return `<section id="slip" class="card" tabindex="-1" aria-labelledby="slip-title">
    <h2 id="slip-title">信访事项登记回执</h2>
    <p>回执编号</p><p class="receipt" id="receipt-no">${receipt}</p>
    ${answer ? "" : `<p class="refusal">网络已断开：本次登记已保存在本机，网络恢复后自动提交，回执编号届时生成（见「待同步」）。</p>`}
    <dl class="facts">
      <dt>信访人</dt><dd>${esc(facts.names)}</dd><dt>信访形式</dt><dd>${esc(facts.channel)}</dd>
      <dt>事项发生地</dt><dd>${esc(facts.place)}</dd><dt>内容分类</dt><dd>${esc(facts.category)}</dd>
      <dt>人数</dt><dd>${esc(facts.head_count)}</dd><dt>登记单位</dt><dd>${esc(facts.unit)}</dd>
      <dt>登记时间</dt><dd>${esc(when(facts.at))}</dd>
    </dl>
    <p class="hint">凭回执编号可查询办理进度。请妥善保管本回执。</p>
    <div class="actions"><button type="button" id="print" class="primary">打印回执</button>
      <button type="button" id="again">继续登记</button></div>
  </section>`;
}

function showSlip(body, answer) {
  view().innerHTML = slipHtml(slipFacts(body), answer) + repeatsHtml(answer, body);
  wireSlip();
}

export function wireSlip() {
  $("#print").addEventListener("click", () => window.print());
  $("#again").addEventListener("click", () => registerPage());
  $("#slip").focus();
}

// possible_repeats: the matters the registration may repeat (when intake answers them): record a visit there instead
function repeatsHtml(answer, body) {
  const repeats = (answer && answer.possible_repeats) || [];
  if (!repeats.length) return "";
  lastBody = body;
  return `<section id="repeats" class="card"><h2>可能是重复信访</h2>
    <p class="hint">以下事项可能与本次登记相同。如确属同一事项，可改为在原事项上登记本次来访。</p>
    <ul>${repeats.map((r) => `<li>${esc(r.receipt_no)} ${esc(r.status_label || "")}
      <button type="button" class="visit-instead" data-id="${esc(r.petition_id)}">改为在此事项上登记来访</button></li>`).join("")}</ul>
    <p id="repeat-result" role="status"></p></section>`;
}

let lastBody = null;
document.addEventListener("click", async (e) => {
  if (!e.target.classList.contains("visit-instead")) return;
  const { channel, head_count, petitioners, summary } = lastBody;
  const path = `/v1/petitions/${e.target.dataset.id}/visits`;
  const body = { channel, head_count, petitioners, summary };
  await send(path, body, "来访", (answer) => { $("#repeat-result").textContent = `已在事项 ${answer.receipt_no} 上登记来访`; },
             (err) => { $("#repeat-result").textContent = problemText(err); });
});
