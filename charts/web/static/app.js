// Dashboard of fitbridge: connects the feed to the charts, the leaderboard, the session
// panel and the equipment panel. Every URL is relative to the page (or to the <base> the
// server sets behind Home Assistant ingress), and the page loads nothing from elsewhere.

import { Feed } from './feed.js';
import { ChartBoard, zoneColour } from './charts.js';

// Equipment strips show this many of the newest ticks.
const STRIP_TICKS = 60;
const TOKEN_KEY = 'fitbridge.token';

const el = {
  connection: document.getElementById('connection'),
  state: document.getElementById('session-state'),
  timer: document.getElementById('session-timer'),
  total: document.getElementById('session-total'),
  problem: document.getElementById('problem'),
  leaderboard: document.getElementById('leaderboard'),
  equipment: document.getElementById('equipment'),
  charts: document.getElementById('charts'),
  zoom: document.getElementById('zoom'),
  zoomText: document.getElementById('zoom-text'),
  live: document.getElementById('live'),
};

// A token in the URL fragment (#token=...) is kept for this tab and removed from the
// address bar; the fragment never reaches the server or its logs.
function takeToken() {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const fromURL = fragment.get('token');
  if (fromURL) {
    sessionStorage.setItem(TOKEN_KEY, fromURL);
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

let renderPending = false;
let sessionShownAt = 0; // performance.now() when the session state last arrived
const feed = new Feed(document.baseURI, {
  onStatus: (text, state) => {
    el.connection.textContent = text;
    el.connection.dataset.state = state;
  },
  onProblem: (text) => {
    el.problem.textContent = `${new Date().toLocaleTimeString()}: ${text}`;
  },
  onChange: (topic) => {
    if (topic === 'session') {
      sessionShownAt = performance.now();
    }
    scheduleRender();
  },
}, takeToken());

const board = new ChartBoard(el.charts, {
  onZoom: (fromMs, toMs) => zoomTo(fromMs, toMs),
  onLive: () => backToLive(),
});

function scheduleRender() {
  if (renderPending) {
    return;
  }
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    render();
  });
}

function render() {
  renderSession();
  renderLeaderboard();
  renderEquipment();
  board.render(feed);
}

function renderSession() {
  const s = feed.session;
  if (!s) {
    el.state.textContent = 'no session yet';
    el.state.dataset.state = 'none';
    el.timer.textContent = '–';
    el.total.textContent = '–';
    return;
  }
  if (s.running) {
    el.state.textContent = 'running';
    el.state.dataset.state = 'running';
  } else {
    el.state.textContent = s.end_reason ? `ended (${s.end_reason.replace('_', ' ')})` : 'ended';
    el.state.dataset.state = 'ended';
  }
  el.total.textContent = String(s.total_coins);
  renderTimer();
}

// renderTimer shows the session time of the newest tick, advanced by the time since it
// arrived while the session runs, but never by more than one tick.
function renderTimer() {
  const s = feed.session;
  if (!s) {
    return;
  }
  let elapsed = s.elapsed_ms;
  if (s.running) {
    elapsed += Math.min(performance.now() - sessionShownAt, s.interval_ms || 0);
  }
  el.timer.textContent = formatDuration(elapsed);
}

function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function renderLeaderboard() {
  const s = feed.session;
  const people = s && Array.isArray(s.participants) ? [...s.participants] : [];
  people.sort((a, b) => b.coins - a.coins || a.name.localeCompare(b.name));
  const zones = (feed.hello && feed.hello.zones) || [];
  const rows = people.map((p, i) => {
    const row = document.createElement('tr');
    row.dataset.participant = p.id;
    const zone = p.zone ? zones.find((z) => z.id === p.zone) : null;
    const chip = document.createElement('span');
    chip.className = 'chip';
    if (p.zone) {
      chip.style.background = zoneColour(zones, p.zone);
    }
    const zoneCell = document.createElement('td');
    zoneCell.append(chip, document.createTextNode(zone ? zone.name : (p.zone || '–')));
    row.append(
      cell(String(i + 1), 'number rank'),
      cell(p.name, 'name'),
      zoneCell,
      cell(p.heart_rate === null ? '–' : String(Math.round(p.heart_rate)), 'number'),
      cell(String(p.coins), 'number coins'),
      cell(p.status || '–', 'status'),
    );
    return row;
  });
  replaceRows(el.leaderboard, rows, 6, 'nobody on the roster');
}

function renderEquipment() {
  const state = feed.equipment;
  const rows = state.order.filter((id) => state.tracks.has(id)).map((id) => {
    const e = state.tracks.get(id);
    const last = e.active.length - 1;
    const active = last >= 0 ? e.active[last] : null;
    const events = last >= 0 ? e.events[last] : null;
    const strip = document.createElement('div');
    strip.className = 'strip';
    for (const value of e.active.slice(-STRIP_TICKS)) {
      const mark = document.createElement('span');
      mark.className = value === null ? 'missing' : (value ? 'on' : 'off');
      strip.appendChild(mark);
    }
    const stripCell = document.createElement('td');
    stripCell.appendChild(strip);
    const row = document.createElement('tr');
    row.dataset.equipment = id;
    row.append(
      cell(e.name || id, 'name'),
      cell(active === null ? '–' : (active ? 'active' : 'idle'), active ? 'state on' : 'state'),
      cell(events === null ? '–' : String(events), 'number'),
      stripCell,
    );
    return row;
  });
  replaceRows(el.equipment, rows, 4, 'no equipment');
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) {
    td.className = className;
  }
  return td;
}

function replaceRows(body, rows, columns, emptyText) {
  if (rows.length === 0) {
    const td = cell(emptyText, 'empty');
    td.colSpan = columns;
    const row = document.createElement('tr');
    row.appendChild(td);
    rows = [row];
  }
  body.replaceChildren(...rows);
}

// zoomRequest numbers zoom requests, so that a reply arriving after the user went back to
// live, or after a newer zoom, is dropped instead of zooming the charts again.
let zoomRequest = 0;

async function zoomTo(fromMs, toMs) {
  const request = ++zoomRequest;
  el.zoom.hidden = false;
  el.zoomText.textContent = `zoomed: ${new Date(fromMs).toLocaleTimeString()} – ` +
    `${new Date(toMs).toLocaleTimeString()} (loading)`;
  const width = Math.max(50, Math.floor(board.plotWidth()));
  try {
    const reply = await feed.requestRange({
      topic: 'fitness',
      sessionId: feed.fitness.sessionId,
      fromMs,
      toMs,
      maxPoints: width,
    });
    if (request !== zoomRequest) {
      return;
    }
    board.showRange(reply, fromMs, toMs);
    const seconds = Math.round(reply.interval_ms / 1000);
    el.zoomText.textContent = `zoomed: ${new Date(fromMs).toLocaleTimeString()} – ` +
      `${new Date(toMs).toLocaleTimeString()}, ${seconds} s per point`;
  } catch (err) {
    if (request !== zoomRequest) {
      return;
    }
    el.problem.textContent = `zoom failed: ${err.message}`;
    backToLive();
  }
}

function backToLive() {
  zoomRequest++;
  el.zoom.hidden = true;
  board.live(feed);
}

el.live.addEventListener('click', () => backToLive());
setInterval(renderTimer, 1000);

// A read-only view of the page's state for tests and debugging.
window.fitbridgeDashboard = {
  state() {
    const s = feed.session;
    return {
      connection: el.connection.dataset.state || '',
      epoch: feed.epoch,
      lastSeq: { ...feed.lastSeq },
      counters: { ...feed.counters, closes: [...feed.counters.closes] },
      session: s ? { id: s.id, running: s.running, totalCoins: s.total_coins } : null,
      leaderboard: [...el.leaderboard.querySelectorAll('tr[data-participant]')].map((row) => ({
        id: row.dataset.participant,
        coins: Number(row.querySelector('.coins').textContent),
      })),
      equipment: [...el.equipment.querySelectorAll('tr[data-equipment]')].map((row) => row.dataset.equipment),
      charts: board.describe(),
      zoomed: board.zoomed,
      liveRequests: board.liveRequests,
      zoomInterval: board.zoom ? board.zoom.reply.interval_ms : null,
      fitnessLength: feed.fitness.length,
      fitnessFirstIndex: feed.fitness.firstIndex,
    };
  },
};

feed.start();
scheduleRender();
