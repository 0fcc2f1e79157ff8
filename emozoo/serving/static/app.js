// The emozoo page: a photo, a voice clip (recorded or chosen) and a text go to
// POST /v1/predict; the answer is drawn as bars, face boxes and contributions.
// Plain JavaScript, nothing loaded from elsewhere. Audio is decoded by the browser and
// sent as 16 kHz mono 16-bit WAV, whatever the microphone or the file gave
// (MediaRecorder makes WebM or OGG Opus, which the server does not read).
"use strict";

const WAV_RATE = 16000;
const TOKEN_KEY = "emozoo-token";

const state = {
  image: null,        // the File of the photo
  picture: null,      // the decoded HTMLImageElement, for the canvas
  audio: null,        // the WAV Blob sent
  audioName: null,
  recorder: null,
  limits: null,
  labels: null,
  modalities: null,
};

const $ = (id) => document.getElementById(id);

function setStatus(message, isError = false) {
  const status = $("status");
  status.textContent = message;
  status.classList.toggle("error", isError);
}

function authHeaders() {
  const token = $("token-input").value.trim();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// ---- the model ------------------------------------------------------------------
async function loadModel() {
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) $("token-input").value = saved;
  let response;
  try {
    response = await fetch("/v1/models", { headers: authHeaders() });
  } catch (error) {
    $("model-line").textContent = "The server cannot be reached.";
    return;
  }
  if (response.status === 401) {
    $("token-row").hidden = false;
    $("model-line").textContent = "This server needs a bearer token (enter it below).";
    return;
  }
  if (!response.ok) return;
  const info = await response.json();
  const served = info.served;
  state.limits = info.limits;
  state.labels = served.labels;
  state.modalities = served.modalities;
  $("model-line").textContent =
    `Model ${served.name}: ${served.modalities.join(" + ")} → ${served.labels.join(", ")}.`;
  const sections = { face: "photo-section", audio: "audio-section", text: "text-section" };
  for (const [modality, id] of Object.entries(sections)) {
    if (!served.modalities.includes(modality)) $(id).hidden = true;
  }
}

// ---- the photo ------------------------------------------------------------------
function choosePhoto(file) {
  if (!file) return;
  if (state.limits && file.size > state.limits.max_upload_bytes) {
    setStatus(`The photo is ${(file.size / 1e6).toFixed(1)} MB; the limit is ` +
              `${(state.limits.max_upload_bytes / 1e6).toFixed(0)} MB.`, true);
    return;
  }
  const url = URL.createObjectURL(file);
  const picture = new Image();
  picture.onload = () => {
    state.image = file;
    state.picture = picture;
    $("photo-view").hidden = false;
    $("drop-zone").hidden = true;
    drawPhoto([]);
    setStatus("");
  };
  picture.onerror = () => {
    URL.revokeObjectURL(url);
    setStatus("This file is not an image the browser can show.", true);
  };
  picture.src = url;
}

function drawPhoto(faces) {
  const picture = state.picture;
  if (!picture) return;
  const canvas = $("photo-canvas");
  canvas.width = picture.naturalWidth;
  canvas.height = picture.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(picture, 0, 0);
  const line = Math.max(2, Math.round(canvas.width / 200));
  context.lineWidth = line;
  context.font = `${Math.max(14, line * 7)}px system-ui, sans-serif`;
  faces.forEach((face, i) => {
    const [x, y, w, h] = face.box;
    context.strokeStyle = i === 0 ? "#2e9d62" : "#2f6fdb";
    context.strokeRect(x, y, w, h);
    const label = `${face.top} ${Math.round(100 * face.confidence)}%`;
    const height = Math.max(14, line * 7) + 6;
    const width = context.measureText(label).width + 8;
    const top = y - height >= 0 ? y - height : y + h;
    context.fillStyle = context.strokeStyle;
    context.fillRect(x - line / 2, top, width, height);
    context.fillStyle = "#fff";
    context.fillText(label, x + 4 - line / 2, top + height - 6);
  });
}

function clearPhoto() {
  state.image = null;
  state.picture = null;
  $("image-input").value = "";
  $("photo-view").hidden = true;
  $("drop-zone").hidden = false;
}

// ---- the voice ------------------------------------------------------------------
function wavBlob(samples, rate) {
  // 16-bit PCM, mono, little endian: a 44-byte RIFF header and the samples.
  const buffer = new ArrayBuffer(44 + 2 * samples.length);
  const view = new DataView(buffer);
  const text = (offset, value) => {
    for (let i = 0; i < value.length; i++) view.setUint8(offset + i, value.charCodeAt(i));
  };
  text(0, "RIFF");
  view.setUint32(4, 36 + 2 * samples.length, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);          // PCM
  view.setUint16(22, 1, true);          // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, 2 * rate, true);   // bytes per second
  view.setUint16(32, 2, true);          // bytes per frame
  view.setUint16(34, 16, true);         // bits per sample
  text(36, "data");
  view.setUint32(40, 2 * samples.length, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + 2 * i, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Blob([buffer], { type: "audio/wav" });
}

async function toWav(blob) {
  // decodeAudioData on a 16 kHz context decodes and resamples in one step.
  const context = new OfflineAudioContext(1, 1, WAV_RATE);
  const decoded = await context.decodeAudioData(await blob.arrayBuffer());
  const mono = new Float32Array(decoded.length);
  for (let c = 0; c < decoded.numberOfChannels; c++) {
    const channel = decoded.getChannelData(c);
    for (let i = 0; i < mono.length; i++) mono[i] += channel[i] / decoded.numberOfChannels;
  }
  return { wav: wavBlob(mono, decoded.sampleRate), seconds: decoded.duration };
}

async function useAudio(blob, name) {
  let converted;
  try {
    converted = await toWav(blob);
  } catch (error) {
    setStatus(`The browser cannot decode this clip (${error.message || error}).`, true);
    return;
  }
  const limit = state.limits ? state.limits.max_audio_seconds : Infinity;
  if (converted.seconds > limit) {
    setStatus(`The clip lasts ${converted.seconds.toFixed(1)} s; the limit is ${limit} s.`, true);
    return;
  }
  state.audio = converted.wav;
  state.audioName = name;
  const player = $("audio-player");
  if (player.src) URL.revokeObjectURL(player.src);
  player.src = URL.createObjectURL(converted.wav);
  $("audio-info").textContent = `${name}, ${converted.seconds.toFixed(1)} s`;
  $("audio-view").hidden = false;
  setStatus("");
}

async function toggleRecording() {
  const button = $("record-button");
  if (state.recorder) {
    state.recorder.stop();
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    setStatus(`No microphone (${error.message || error.name}).`, true);
    return;
  }
  const chunks = [];
  const recorder = new MediaRecorder(stream);
  recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
  recorder.onstop = async () => {
    stream.getTracks().forEach((track) => track.stop());
    state.recorder = null;
    button.textContent = "Record";
    button.classList.remove("recording");
    $("record-status").textContent = "or";
    await useAudio(new Blob(chunks, { type: recorder.mimeType }), "recording.wav");
  };
  state.recorder = recorder;
  recorder.start();
  button.textContent = "Stop";
  button.classList.add("recording");
  $("record-status").textContent = "recording…";
}

function clearAudio() {
  state.audio = null;
  $("audio-input").value = "";
  $("audio-view").hidden = true;
}

// ---- the answer -----------------------------------------------------------------
function barRow(container, name, value, fraction, classes = "") {
  const label = document.createElement("span");
  label.textContent = name;
  const bar = document.createElement("div");
  bar.className = `bar ${classes}`;
  const fill = document.createElement("span");
  bar.appendChild(fill);
  const number = document.createElement("span");
  number.className = "value";
  number.textContent = value;
  container.append(label, bar, number);
  return fill;
}

function showResult(result) {
  $("result").hidden = false;
  $("top-label").textContent = result.top ?? "no prediction";
  $("top-confidence").textContent =
    result.confidence == null ? "" : `${Math.round(100 * result.confidence)}%`;
  $("modalities-line").textContent = result.modalities_used.length
    ? `from ${result.modalities_used.join(" + ")}` : "nothing usable was given";

  const bars = $("probability-bars");
  bars.replaceChildren();
  for (const [label, p] of Object.entries(result.probabilities)) {
    const fill = barRow(bars, label, p.toFixed(2), p, label === result.top ? "top" : "");
    fill.style.width = `${(100 * p).toFixed(1)}%`;
  }

  const contributions = Object.entries(result.contributions || {});
  const signed = $("contribution-bars");
  signed.replaceChildren();
  $("contributions-title").hidden = $("contributions-note").hidden = !contributions.length;
  const scale = Math.max(0.05, ...contributions.map(([, v]) => Math.abs(v)));
  for (const [modality, v] of contributions) {
    const fill = barRow(signed, modality, (v >= 0 ? "+" : "") + v.toFixed(2), v);
    const half = (50 * Math.abs(v)) / scale;
    fill.className = v >= 0 ? "pos" : "neg";
    fill.style.left = v >= 0 ? "50%" : `${50 - half}%`;
    fill.style.width = `${half}%`;
  }

  const byModality = $("by-modality");
  byModality.replaceChildren();
  const alone = Object.entries(result.by_modality || {});
  if (alone.length) {
    const title = document.createElement("h3");
    title.textContent = "Each modality alone";
    const table = document.createElement("table");
    for (const [modality, probabilities] of alone) {
      const [label, p] = Object.entries(probabilities).sort((a, b) => b[1] - a[1])[0];
      const row = table.insertRow();
      row.insertCell().textContent = modality;
      row.insertCell().textContent = `${label} ${Math.round(100 * p)}%`;
    }
    byModality.append(title, table);
  }

  const notes = $("notes");
  notes.replaceChildren();
  const lines = [
    ...Object.entries(result.not_used || {}).map(([m, why]) => `${m} not used: ${why}`),
    ...(result.warnings || []),
  ];
  if (result.faces && result.faces.length > 1) {
    lines.push(`${result.faces.length} faces; the result is the largest face's (green box)`);
  }
  for (const line of lines) {
    const item = document.createElement("li");
    item.textContent = line;
    notes.appendChild(item);
  }
  $("json-output").textContent = JSON.stringify(result, null, 2);
  drawPhoto(result.faces || []);
}

async function predict(event) {
  event.preventDefault();
  const text = $("text-input").value;
  if (!state.image && !state.audio && !text.trim()) {
    setStatus("Give a photo, a voice clip or a text first.", true);
    return;
  }
  const form = new FormData();
  if (state.image) form.append("image", state.image, state.image.name || "photo");
  if (state.audio) form.append("audio", state.audio, state.audioName || "clip.wav");
  if (text.trim()) form.append("text", text);
  const button = $("predict-button");
  button.disabled = true;
  setStatus("Predicting…");
  try {
    const token = $("token-input").value.trim();
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    const response = await fetch("/v1/predict", {
      method: "POST", body: form, headers: authHeaders(),
    });
    const body = await response.json().catch(() => ({ detail: response.statusText }));
    if (!response.ok) {
      if (response.status === 401) $("token-row").hidden = false;
      setStatus(`${response.status}: ${body.detail}`, true);
      return;
    }
    setStatus("");
    showResult(body);
    if (!state.labels) loadModel();
  } catch (error) {
    setStatus(`The request failed (${error.message || error}).`, true);
  } finally {
    button.disabled = false;
  }
}

// ---- wiring ---------------------------------------------------------------------
function wire() {
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    choosePhoto(event.dataTransfer.files[0]);
  });
  $("image-input").addEventListener("change", (event) => choosePhoto(event.target.files[0]));
  $("clear-photo").addEventListener("click", clearPhoto);
  $("audio-input").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) useAudio(file, file.name);
  });
  $("clear-audio").addEventListener("click", clearAudio);
  $("record-button").addEventListener("click", toggleRecording);
  if (!window.MediaRecorder || !navigator.mediaDevices) $("record-button").disabled = true;
  $("predict-form").addEventListener("submit", predict);
  $("token-input").addEventListener("change", loadModel);
  loadModel();
}

document.addEventListener("DOMContentLoaded", wire);
