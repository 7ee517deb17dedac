// The page's conversation mode, for dialogue models (those /v1/models describes with "dialogue"):
// the turns stay on screen, and every message sends the whole conversation to /v1/reply, which
// keeps the last turns the model was trained with. Uses $, element, models and setStatus from app.js.
"use strict";

const conversation = [];  // every turn so far, oldest first: the user's and the model's, alternating
let chatModel = null;     // the dialogue model chosen, as /v1/models describes it

function showChat(model) {
  const chatting = Boolean(model && model.dialogue);
  document.body.classList.toggle("chatting", chatting);
  $("chat").hidden = !chatting;
  chatModel = chatting ? model : null;
  if (chatting) {
    const exported = model.runtime !== "keras";  // an ONNX export: greedy and beam search only
    $("chat-sample").disabled = exported;
    if (exported) $("chat-sample").checked = false;
    const perplexity = model.dev_loss == null ? "" : `; dev perplexity ${Math.exp(model.dev_loss).toFixed(1)}`;
    $("chat-info").textContent = `The model reads the last ${model.dialogue.context_turns} turns${perplexity}.`;
    $("message").focus();
  }
}

function addTurn(text, speaker) {
  $("turns").append(element("li", { className: speaker, textContent: text }));
  $("turns").lastChild.scrollIntoView({ block: "nearest" });
}

function newConversation() {
  conversation.length = 0;
  $("turns").replaceChildren();
  setStatus("");
  $("message").focus();
}

async function say(event) {
  event.preventDefault();
  const text = $("message").value.trim();
  if (!text) { setStatus("Type a message first.", true); return; }
  conversation.push(text);
  addTurn(text, "user");
  $("message").value = "";
  const request = { turns: conversation, model: $("model").value };
  if (chatModel && chatModel.runtime === "keras") request.no_repeat_ngram = 3;  // an ONNX export cannot block
  if ($("chat-sample").checked && !$("chat-sample").disabled) {  // livelier: a draw from the likeliest tokens, repeatable by its seed
    Object.assign(request, { sample: true, temperature: 0.8, top_p: 0.9, seed: conversation.length });
  } else {
    Object.assign(request, { beam_size: Number($("beam").value), length_penalty: 1.0 });
  }
  $("send").disabled = true;
  setStatus("Thinking…");
  const started = performance.now();
  try {
    const response = await api("/v1/reply", {  // app.js: sends the API key, asks for it once
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request) });
    const body = await response.json();
    if (!response.ok) {
      conversation.pop();  // not answered: the message can be sent again
      setStatus(`Error ${response.status}: ${body.error}`, true);
      return;
    }
    conversation.push(body.reply);
    addTurn(body.reply, "model");
    setStatus(`Replied in ${Math.round(performance.now() - started)} ms by ${body.model}`);
  } catch (error) {
    conversation.pop();
    setStatus(`Could not reach the server: ${error}`, true);
  } finally {
    $("send").disabled = false;
  }
}

$("chat-form").addEventListener("submit", say);
$("new-chat").addEventListener("click", newConversation);
