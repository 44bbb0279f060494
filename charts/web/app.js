// Dashboard for the fitbridge chart feed, protocol version 1. The protocol is described in
// docs/chart-feed.md of the fitbridge repository. Everything the page shows comes from the
// feed; it loads nothing else.
'use strict';

const PROTOCOL_VERSION = 1;
// Delays before reconnect attempts; the last one repeats until a connection succeeds.
const RECONNECT_DELAYS_MS = [1000, 2000, 4000, 8000, 15000, 30000];
// The x axis shows at least this many ticks, so a new session does not fill the width
// with its first few points.
const MIN_VISIBLE_TICKS = 30;
// Colours of the default zone ids; any other zone id gets OTHER_ZONE_COLOUR.
const ZONE_COLOURS = {
  cool: '#6ab8ff',
  active: '#51cf66',
  warm: '#ffd43b',
  hot: '#ff922b',
  fire: '#ff6b6b',
};
const OTHER_ZONE_COLOUR = '#adb5bd';
const BROADCAST_TYPES = new Set(['tick', 'session_started', 'session_ended']);

const elements = {
  connection: document.getElementById('connection'),
  session: document.getElementById('session'),
  error: document.getElementById('error'),
  roster: document.getElementById('roster'),
  equipment: document.getElementById('equipment'),
  charts: document.getElementById('charts'),
};

let feed = newFeedState();
let socket = null;
let reconnectAttempt = 0;
let renderPending = false;
// Chart canvases by participant id, reused across renders.
const chartViews = new Map();

// newFeedState returns the client's copy of the live window. All series of all
// participants and equipment have `length` entries. Entry i is the tick with index
// firstIndex + i, which started at startMs + i * intervalMs.
function newFeedState() {
  return {
    intervalMs: null,
    windowTicks: null,
    lastSeq: null,
    session: null,
    firstIndex: null,
    startMs: null,
    length: 0,
    participants: new Map(),
    roster: [],
    equipment: new Map(),
    equipmentOrder: [],
  };
}

function feedURL() {
  // Relative to the page, so a reverse proxy path prefix is kept.
  const url = new URL('ws', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = '';
  url.hash = '';
  return url.href;
}

function connect() {
  elements.connection.textContent = 'connecting…';
  socket = new WebSocket(feedURL());
  socket.onmessage = (event) => handleMessage(event.data);
  socket.onclose = (event) => {
    socket = null;
    const delay = RECONNECT_DELAYS_MS[Math.min(reconnectAttempt, RECONNECT_DELAYS_MS.length - 1)];
    reconnectAttempt++;
    const reason = event.reason ? `, ${event.reason}` : '';
    elements.connection.textContent =
      `disconnected (code ${event.code}${reason}); reconnecting in ${delay / 1000} s`;
    setTimeout(connect, delay);
  };
}

// resync drops the connection so that the next one starts from a fresh snapshot.
function resync(reason) {
  showError(`${reason}; reconnecting to resynchronize`);
  if (socket) {
    socket.close(1000, 'resync');
  }
}

function showError(text) {
  elements.error.textContent = `${new Date().toLocaleTimeString()}: ${text}`;
}

function handleMessage(text) {
  let msg;
  try {
    msg = JSON.parse(text);
  } catch (err) {
    resync(`invalid JSON from the feed: ${err.message}`);
    return;
  }
  if (msg.v !== PROTOCOL_VERSION) {
    showError(`unsupported protocol version ${msg.v}; this page supports ${PROTOCOL_VERSION}`);
    return;
  }
  if (msg.type !== 'session_ended' && !Number.isFinite(msg.interval_ms)) {
    showError(`the ${msg.type} message has no interval_ms; the message was ignored`);
    return;
  }
  if (BROADCAST_TYPES.has(msg.type)) {
    if (feed.lastSeq === null || msg.seq !== feed.lastSeq + 1) {
      resync(`sequence gap: expected seq ${feed.lastSeq + 1}, received ${msg.seq}`);
      return;
    }
    feed.lastSeq = msg.seq;
  }

  switch (msg.type) {
    case 'hello':
      applyHello(msg);
      break;
    case 'snapshot':
      applySnapshot(msg);
      break;
    case 'session_started':
      applySessionStarted(msg);
      break;
    case 'tick':
      applyTick(msg);
      break;
    case 'session_ended':
      applySessionEnded(msg);
      break;
    default:
      // Unknown types are ignored so that a newer server can add message types.
      return;
  }
  scheduleRender();
}

function applyHello(msg) {
  const windowTicks = msg.limits && msg.limits.live_window_ticks;
  if (!Number.isInteger(windowTicks) || windowTicks <= 0) {
    resync('the hello message has no valid limits.live_window_ticks');
    return;
  }
  feed = newFeedState();
  feed.windowTicks = windowTicks;
  feed.intervalMs = msg.interval_ms;
  feed.lastSeq = msg.seq;
  reconnectAttempt = 0;
  elements.error.textContent = '';
  elements.connection.textContent =
    `connected to fitbridge ${msg.server_version || '(unknown version)'}`;
}

function applySnapshot(msg) {
  if (feed.windowTicks === null) {
    resync('snapshot received before hello');
    return;
  }
  feed.lastSeq = msg.seq;
  feed.intervalMs = msg.interval_ms;
  feed.session = msg.session;
  feed.participants = new Map();
  feed.equipment = new Map();
  feed.roster = msg.participants.map((p) => p.id);
  feed.equipmentOrder = msg.equipment.map((e) => e.id);

  const lengths = new Set();
  for (const p of msg.participants) {
    feed.participants.set(p.id, {
      name: p.name,
      status: p.status,
      heartRate: p.heart_rate,
      zone: p.zone,
      coins: p.coins,
    });
    lengths.add(p.heart_rate.length).add(p.zone.length).add(p.coins.length);
  }
  for (const e of msg.equipment) {
    feed.equipment.set(e.id, { name: e.name, active: e.active, events: e.events });
    lengths.add(e.active.length).add(e.events.length);
  }
  if (lengths.size > 1) {
    resync('snapshot series have different lengths');
    return;
  }
  feed.length = lengths.size === 1 ? [...lengths][0] : 0;
  feed.firstIndex = msg.first_index;
  feed.startMs = msg.start_ms;
  if (feed.length > 0 && !Number.isFinite(feed.startMs)) {
    resync('snapshot has points but no start_ms');
    return;
  }
  trimToWindow();
}

function applySessionStarted(msg) {
  feed.intervalMs = msg.interval_ms;
  feed.session = msg.session;
  clearSeries();
  feed.participants = new Map();
  feed.equipment = new Map();
  feed.roster = msg.participants.map((p) => p.id);
  feed.equipmentOrder = msg.equipment.map((e) => e.id);
  for (const p of msg.participants) {
    feed.participants.set(p.id, newParticipant(p.name, p.status));
  }
  for (const e of msg.equipment) {
    feed.equipment.set(e.id, { name: e.name, active: [], events: [] });
  }
}

function applyTick(msg) {
  if (msg.interval_ms !== feed.intervalMs) {
    // Points of two intervals cannot share one axis, so the series start over.
    feed.intervalMs = msg.interval_ms;
    clearSeries();
  }
  if (feed.length === 0) {
    feed.firstIndex = msg.index;
    feed.startMs = msg.start_ms;
  }
  const expected = feed.firstIndex + feed.length;
  if (msg.index < expected) {
    showError(`tick ${msg.index} arrived after tick ${expected - 1}; it was ignored`);
    return;
  }
  const skipped = msg.index - expected;
  if (skipped >= feed.windowTicks) {
    clearSeries();
    feed.firstIndex = msg.index;
    feed.startMs = msg.start_ms;
  } else {
    for (let i = 0; i < skipped; i++) {
      appendMissing();
    }
  }

  const seen = new Set();
  feed.roster = [];
  for (const p of msg.participants) {
    let track = feed.participants.get(p.id);
    if (!track) {
      track = newParticipant(p.name, p.status);
      fillMissing(track, feed.length);
      feed.participants.set(p.id, track);
    }
    track.name = p.name;
    track.status = p.status;
    track.heartRate.push(p.heart_rate);
    track.zone.push(p.zone);
    track.coins.push(p.coins);
    seen.add(p.id);
    feed.roster.push(p.id);
  }
  for (const [id, track] of feed.participants) {
    if (!seen.has(id)) {
      track.heartRate.push(null);
      track.zone.push(null);
      track.coins.push(null);
    }
  }

  const seenEquipment = new Set();
  feed.equipmentOrder = [];
  for (const e of msg.equipment) {
    let track = feed.equipment.get(e.id);
    if (!track) {
      track = {
        name: null,
        active: new Array(feed.length).fill(null),
        events: new Array(feed.length).fill(null),
      };
      feed.equipment.set(e.id, track);
    }
    track.active.push(e.active);
    track.events.push(e.events);
    seenEquipment.add(e.id);
    feed.equipmentOrder.push(e.id);
  }
  for (const [id, track] of feed.equipment) {
    if (!seenEquipment.has(id)) {
      track.active.push(null);
      track.events.push(null);
    }
  }
  feed.length++;
  trimToWindow();
  dropEmptyTracks();
}

function applySessionEnded(msg) {
  feed.session = msg.session;
  // Like the server, delete the participants and equipment that are off the final roster.
  for (const id of [...feed.participants.keys()]) {
    if (!feed.roster.includes(id)) {
      feed.participants.delete(id);
    }
  }
  for (const id of [...feed.equipment.keys()]) {
    if (!feed.equipmentOrder.includes(id)) {
      feed.equipment.delete(id);
    }
  }
}

function newParticipant(name, status) {
  return { name, status, heartRate: [], zone: [], coins: [] };
}

function fillMissing(track, count) {
  for (let i = 0; i < count; i++) {
    track.heartRate.push(null);
    track.zone.push(null);
    track.coins.push(null);
  }
}

function appendMissing() {
  for (const track of feed.participants.values()) {
    fillMissing(track, 1);
  }
  for (const track of feed.equipment.values()) {
    track.active.push(null);
    track.events.push(null);
  }
  feed.length++;
}

function clearSeries() {
  for (const track of feed.participants.values()) {
    track.heartRate = [];
    track.zone = [];
    track.coins = [];
  }
  for (const track of feed.equipment.values()) {
    track.active = [];
    track.events = [];
  }
  feed.length = 0;
  feed.firstIndex = null;
  feed.startMs = null;
}

// trimToWindow drops the oldest points beyond the live window, so memory stays bounded
// however long the page stays open.
function trimToWindow() {
  const excess = feed.length - feed.windowTicks;
  if (excess <= 0) {
    return;
  }
  for (const track of feed.participants.values()) {
    track.heartRate.splice(0, excess);
    track.zone.splice(0, excess);
    track.coins.splice(0, excess);
  }
  for (const track of feed.equipment.values()) {
    track.active.splice(0, excess);
    track.events.splice(0, excess);
  }
  feed.length -= excess;
  feed.firstIndex += excess;
  feed.startMs += excess * feed.intervalMs;
}

// dropEmptyTracks deletes the participants and equipment that are off the roster and have
// no point left in the window.
function dropEmptyTracks() {
  for (const [id, track] of feed.participants) {
    if (!feed.roster.includes(id) && track.coins.every((v) => v === null)) {
      feed.participants.delete(id);
    }
  }
  for (const [id, track] of feed.equipment) {
    if (!feed.equipmentOrder.includes(id) && track.active.every((v) => v === null)) {
      feed.equipment.delete(id);
    }
  }
}

function scheduleRender() {
  if (renderPending) {
    return;
  }
  renderPending = true;
  window.requestAnimationFrame(() => {
    renderPending = false;
    render();
  });
}

function render() {
  renderSession();
  renderRoster();
  renderEquipment();
  renderCharts();
}

function renderSession() {
  const s = feed.session;
  if (!s) {
    elements.session.textContent = 'no session';
    return;
  }
  const started = s.started_at ? `, started ${new Date(s.started_at).toLocaleTimeString()}` : '';
  elements.session.textContent = `session ${s.id}${started}${s.running ? '' : ' (ended)'}`;
}

function renderRoster() {
  const rows = feed.roster.map((id) => {
    const p = feed.participants.get(id);
    const last = feed.length - 1;
    const heartRate = last >= 0 ? p.heartRate[last] : null;
    const zone = last >= 0 ? p.zone[last] : null;
    const coins = last >= 0 ? p.coins[last] : null;
    return tableRow([
      [p.name, ''],
      [p.status || '–', ''],
      [heartRate === null ? '–' : `${Math.round(heartRate)} bpm`, 'number'],
      [zone === null ? '–' : zone, ''],
      [coins === null ? '–' : String(coins), 'number'],
    ]);
  });
  replaceRows(elements.roster, rows, 5, 'nobody on the roster');
}

function renderEquipment() {
  const rows = feed.equipmentOrder.map((id) => {
    const e = feed.equipment.get(id);
    const last = e.active.length - 1;
    const active = last >= 0 ? e.active[last] : null;
    const events = last >= 0 ? e.events[last] : null;
    let stateText = '–';
    if (active !== null) {
      stateText = active ? 'active' : 'idle';
    }
    return tableRow([
      [e.name || id, ''],
      [stateText, ''],
      [events === null ? '–' : String(events), 'number'],
    ]);
  });
  replaceRows(elements.equipment, rows, 3, 'no equipment');
}

function tableRow(cells) {
  const row = document.createElement('tr');
  for (const [text, className] of cells) {
    const cell = document.createElement('td');
    cell.textContent = text;
    if (className) {
      cell.className = className;
    }
    row.appendChild(cell);
  }
  return row;
}

function replaceRows(body, rows, columns, emptyText) {
  if (rows.length === 0) {
    const cell = document.createElement('td');
    cell.colSpan = columns;
    cell.className = 'empty';
    cell.textContent = emptyText;
    const row = document.createElement('tr');
    row.appendChild(cell);
    rows = [row];
  }
  body.replaceChildren(...rows);
}

function renderCharts() {
  for (const [id, view] of chartViews) {
    if (!feed.roster.includes(id)) {
      view.section.remove();
      chartViews.delete(id);
    }
  }
  for (const id of feed.roster) {
    let view = chartViews.get(id);
    if (!view) {
      const section = document.createElement('section');
      const title = document.createElement('h3');
      const canvas = document.createElement('canvas');
      section.append(title, canvas);
      view = { section, title, canvas };
      chartViews.set(id, view);
    }
    // Appending in roster order also reorders existing sections.
    elements.charts.appendChild(view.section);
    const p = feed.participants.get(id);
    view.title.textContent = p.name;
    drawHeartRate(view.canvas, p);
  }
}

// drawHeartRate draws one participant's heart rate with a background band per tick in
// the colour of that tick's zone. A null heart rate breaks the line, so a dropout shows as
// a gap and is never bridged.
function drawHeartRate(canvas, p) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);

  const plot = { left: 36, right: width - 4, top: 6, bottom: height - 18 };
  const visibleTicks = Math.max(feed.length, Math.min(MIN_VISIBLE_TICKS, feed.windowTicks));
  const slotWidth = (plot.right - plot.left) / Math.max(visibleTicks, 1);

  const values = p.heartRate.filter((v) => v !== null);
  const low = Math.min(60, ...values) - 5;
  const high = Math.max(180, ...values) + 5;
  const x = (i) => plot.left + i * slotWidth;
  const y = (bpm) => plot.bottom - ((bpm - low) / (high - low)) * (plot.bottom - plot.top);

  ctx.globalAlpha = 0.3;
  for (let i = 0; i < feed.length; i++) {
    const zone = p.zone[i];
    if (zone !== null) {
      ctx.fillStyle = ZONE_COLOURS[zone] || OTHER_ZONE_COLOUR;
      ctx.fillRect(x(i), plot.top, slotWidth, plot.bottom - plot.top);
    }
  }
  ctx.globalAlpha = 1;

  const textColour = getComputedStyle(document.body).color;
  ctx.strokeStyle = textColour;
  ctx.fillStyle = textColour;
  ctx.lineWidth = 2;
  ctx.beginPath();
  let penDown = false;
  for (let i = 0; i < feed.length; i++) {
    const bpm = p.heartRate[i];
    if (bpm === null) {
      penDown = false;
      continue;
    }
    const px = x(i) + slotWidth / 2;
    const py = y(bpm);
    const nextMissing = i + 1 >= feed.length || p.heartRate[i + 1] === null;
    if (!penDown && nextMissing) {
      // An isolated point has no line segment, so it gets a dot.
      ctx.fillRect(px - 1.5, py - 1.5, 3, 3);
    }
    if (penDown) {
      ctx.lineTo(px, py);
    } else {
      ctx.moveTo(px, py);
    }
    penDown = true;
  }
  ctx.stroke();

  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  ctx.fillText(String(Math.round(high)), 2, plot.top + 4);
  ctx.fillText(String(Math.round(low)), 2, plot.bottom - 4);
  if (feed.length > 0) {
    ctx.textBaseline = 'alphabetic';
    ctx.fillText(formatTime(feed.startMs), plot.left, height - 4);
    const endMs = feed.startMs + feed.length * feed.intervalMs;
    const endText = formatTime(endMs);
    const endX = Math.max(plot.left, x(feed.length) - ctx.measureText(endText).width);
    ctx.fillText(endText, endX, height - 4);
  }
}

function formatTime(ms) {
  return new Date(ms).toLocaleTimeString();
}

connect();
scheduleRender();
