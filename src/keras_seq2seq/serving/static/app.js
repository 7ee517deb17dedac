// The page's only script: load the models, send the text, show translations, n-best lists and
// attention maps. Plain DOM code, no framework and no build step.
"use strict";

const $ = (id) => document.getElementById(id);
let models = {};
const KEY_STORAGE = "seq2seq-api-key";

// A server started with SEQ2SEQ_API_KEY answers 401 on its /v1/ routes without the key. The page
// then asks for it once and keeps it in this tab's session storage (gone when the tab closes),
// sending it as a Bearer token with every later call.
async function api(path, options = {}) {
  for (let asked = 0; ; asked++) {
    const key = sessionStorage.getItem(KEY_STORAGE);
    const headers = { ...(options.headers || {}) };
    if (key) headers.authorization = `Bearer ${key}`;
    const response = await fetch(path, { ...options, headers });
    if (response.status !== 401 || asked >= 3) return response;
    const entered = window.prompt(key ? "The server refused that API key. API key:"
                                      : "This server needs an API key (SEQ2SEQ_API_KEY):");
    if (!entered || !entered.trim()) return response;
    sessionStorage.setItem(KEY_STORAGE, entered.trim());
  }
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, attributes);
  node.append(...children);
  return node;
}

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

async function loadModels() {
  const health = await (await fetch("/v1/health")).json();
  $("docs-link").hidden = !health.docs;  // the API docs are served only with `seq2seq serve --docs`
  const response = await api("/v1/models");
  const body = await response.json();
  if (!response.ok) { setStatus(`Error ${response.status}: ${body.error}`, true); return; }
  for (const model of body.models) {
    models[model.name] = model;
    $("model").append(element("option", { value: model.name, textContent: model.name }));
  }
  $("model").value = body.default;
  $("beam").max = body.limits.max_beam_size;
  $("nbest").max = body.limits.max_beam_size;
  showModel();
}

function showModel() {
  const model = models[$("model").value];
  if (!model) return;
  const languages = model.languages.source ? `${model.languages.source} → ${model.languages.target || "?"}, ` : "";
  const task = model.task ? `task ${model.task}, ` : "";
  const arch = model.architecture;
  const bleu = model.dev_bleu == null ? "" : `, dev BLEU ${model.dev_bleu.toFixed(1)}`;
  $("model-info").textContent = `${task}${languages}${arch.cell} ${arch.layers}×${arch.units}, ` +
    `attention ${arch.attention}, vocabularies ${model.source_vocab_size}/${model.target_vocab_size}${bleu}`;
  $("attention-option").hidden = !model.has_attention;
  if ($("attention-option").hidden) $("attention").checked = false;
  showChat(model);  // chat.js: a dialogue model talks instead of translating
}

function heatmap(map) {
  // Rows: target tokens; columns: source tokens; darker = more attention.
  const head = element("tr", {}, element("th"));
  for (const token of map.source_tokens) head.append(element("th", { textContent: token }));
  const rows = map.weights.map((weights, i) => {
    const row = element("tr", {}, element("th", { textContent: map.target_tokens[i] }));
    for (const w of weights) {
      row.append(element("td", { title: w.toFixed(3), style: `background: rgba(36, 80, 170, ${w})` }));
    }
    return row;
  });
  return element("table", { className: "heatmap" }, element("thead", {}, head), element("tbody", {}, ...rows));
}

function render(sentences, body) {
  const results = $("results");
  results.replaceChildren();
  sentences.forEach((sentence, i) => {
    const card = element("div", { className: "result" },
      element("p", { className: "source", textContent: sentence }),
      element("p", { className: "translation", textContent: body.translations[i] }));
    if (body.n_best) {
      const rows = body.n_best[i].map((hypothesis, rank) => element("tr", {},
        element("td", { textContent: `${rank + 1}.` }),
        element("td", { className: "hypothesis", textContent: hypothesis.text }),
        element("td", { className: "score", textContent: hypothesis.score.toFixed(3) })));
      card.append(element("table", { className: "nbest" }, element("tbody", {}, ...rows)));
    }
    if (body.attention) card.append(heatmap(body.attention[i]));
    results.append(card);
  });
}

async function translate(event) {
  event.preventDefault();
  const sentences = $("source").value.split("\n").map((s) => s.trim()).filter((s) => s);
  if (!sentences.length) { setStatus("Type a sentence first.", true); return; }
  const attention = $("attention").checked;
  const beam = Number($("beam").value);
  // An attention map comes with the best output only, so it replaces the n-best list.
  const nBest = attention ? 1 : Math.min(Number($("nbest").value), beam);
  const request = { text: sentences, model: $("model").value, beam_size: beam, n_best: nBest, attention };
  $("translate").disabled = true;
  setStatus("Translating…");
  const started = performance.now();
  try {
    const response = await api("/v1/translate", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request) });
    const body = await response.json();
    if (!response.ok) { setStatus(`Error ${response.status}: ${body.error}`, true); return; }
    render(sentences, body);
    setStatus(`${sentences.length} sentence${sentences.length > 1 ? "s" : ""} in ` +
              `${Math.round(performance.now() - started)} ms with ${body.model}`);
  } catch (error) {
    setStatus(`Could not reach the server: ${error}`, true);
  } finally {
    $("translate").disabled = false;
  }
}

$("form").addEventListener("submit", translate);
$("model").addEventListener("change", showModel);
loadModels().catch((error) => setStatus(`Could not load the models: ${error}`, true));
