// Client of the fitbridge chart feed, protocol version 2 (docs/chart-feed.md in the
// fitbridge repository). It keeps the state of every topic, reconnects by itself and
// resumes from the last sequence number it holds.

export const PROTOCOL_VERSION = 2;
export const TOPICS = ['session', 'fitness', 'equipment'];

// Delays before reconnect attempts; the last one repeats. Each is scaled by a random factor
// from 0.8 to 1.2, so that many screens do not reconnect in step after a restart.
const RECONNECT_DELAYS_MS = [1000, 2000, 4000, 8000, 15000];
const REQUEST_TIMEOUT_MS = 15000;

export class Feed {
  // handlers: onStatus(text, state), onChange(topic), onProblem(text); every one optional.
  constructor(baseURL, handlers, token) {
    this.baseURL = baseURL;
    this.handlers = handlers;
    this.token = token || '';
    this.socket = null;
    this.attempt = 0;
    this.epoch = null;
    this.lastSeq = { session: null, fitness: null, equipment: null };
    this.hello = null;
    this.session = null;
    this.fitness = newSeriesState();
    this.equipment = newSeriesState();
    this.pending = new Map();
    this.nextRequest = 1;
    this.counters = { connects: 0, snapshots: 0, resumes: 0, gaps: 0, closes: [] };
  }

  start() {
    this.connect();
  }

  url() {
    const url = new URL('ws', this.baseURL);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.hash = '';
    const params = new URLSearchParams();
    params.set('topics', TOPICS.join(','));
    const held = TOPICS.filter((t) => this.lastSeq[t] !== null);
    if (this.epoch && held.length > 0) {
      params.set('epoch', this.epoch);
      params.set('last_seq', held.map((t) => `${t}:${this.lastSeq[t]}`).join(','));
    }
    url.search = params.toString();
    return url.href;
  }

  connect() {
    this.status('connecting…', 'connecting');
    const protocols = ['fitbridge.v2'];
    if (this.token) {
      protocols.push(`fitbridge.bearer.${base64url(this.token)}`);
    }
    const socket = new WebSocket(this.url(), protocols);
    this.socket = socket;
    let greeted = false;
    socket.onmessage = (event) => {
      if (this.socket === socket) {
        greeted = true;
        this.receive(event.data);
      }
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) {
        return;
      }
      this.socket = null;
      this.failPending('the connection closed');
      this.counters.closes.push(event.code);
      if (this.counters.closes.length > 20) {
        this.counters.closes.shift();
      }
      const base = RECONNECT_DELAYS_MS[Math.min(this.attempt, RECONNECT_DELAYS_MS.length - 1)];
      const delay = Math.round(base * (0.8 + 0.4 * Math.random()));
      this.attempt++;
      const reason = event.reason ? `, ${event.reason}` : '';
      this.status(`disconnected (code ${event.code}${reason}); reconnecting in ` +
        `${(delay / 1000).toFixed(1)} s`, 'disconnected');
      if (!greeted) {
        this.explainRefusal();
      }
      setTimeout(() => this.connect(), delay);
    };
  }

  // explainRefusal queries the API to learn why a connection failed before its first
  // message, because a browser does not show a WebSocket handshake's status to the page.
  explainRefusal() {
    const headers = this.token ? { Authorization: `Bearer ${this.token}` } : {};
    fetch(new URL('api/v1/session', this.baseURL), { headers }).then((response) => {
      if (response.status === 401) {
        this.problem('this dashboard needs the access token: open it as ' +
          '<dashboard address>#token=<http.token>');
      }
    }, () => {});
  }

  // resync drops the connection. The next connection requests a snapshot of the topics
  // whose sequence was cleared.
  resync(reason, topic) {
    this.counters.gaps++;
    this.problem(`${reason}; reconnecting to resynchronize`);
    if (topic) {
      this.lastSeq[topic] = null;
    }
    if (this.socket) {
      this.socket.close(1000, 'resync');
    }
  }

  status(text, state) {
    if (this.handlers.onStatus) {
      this.handlers.onStatus(text, state);
    }
  }

  problem(text) {
    if (this.handlers.onProblem) {
      this.handlers.onProblem(text);
    }
  }

  changed(topic) {
    if (this.handlers.onChange) {
      this.handlers.onChange(topic);
    }
  }

  receive(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch (err) {
      this.resync(`invalid JSON from the feed: ${err.message}`);
      return;
    }
    if (msg.v !== PROTOCOL_VERSION) {
      this.problem(`unsupported protocol version ${msg.v}; this page supports ` +
        `${PROTOCOL_VERSION}`);
      return;
    }

    switch (msg.type) {
      case 'hello':
        this.applyHello(msg);
        return;
      case 'range_result':
      case 'error':
        this.settle(msg);
        return;
      default:
        break;
    }
    const topic = msg.topic;
    if (!TOPICS.includes(topic)) {
      return; // A newer server may add topics; this page ignores them.
    }

    if (msg.type === 'snapshot') {
      this.lastSeq[topic] = msg.seq;
      this.counters.snapshots++;
      this.applySnapshot(msg);
      this.changed(topic);
      return;
    }
    if (msg.type === 'resumed') {
      if (msg.seq !== this.lastSeq[topic]) {
        this.resync(`resumed ${topic} at seq ${msg.seq}, but this page holds ` +
          `${this.lastSeq[topic]}`, topic);
        return;
      }
      this.counters.resumes++;
      return;
    }

    if (this.lastSeq[topic] === null || msg.seq !== this.lastSeq[topic] + 1) {
      this.resync(`${topic} sequence gap: expected ${this.lastSeq[topic] + 1}, ` +
        `received ${msg.seq}`, topic);
      return;
    }
    this.lastSeq[topic] = msg.seq;
    this.applyBroadcast(msg);
    this.changed(topic);
  }

  applyHello(msg) {
    if (this.epoch !== msg.epoch) {
      // A new server instance: its sequence numbers mean nothing for the old state.
      this.lastSeq = { session: null, fitness: null, equipment: null };
    }
    this.epoch = msg.epoch;
    this.hello = msg;
    this.attempt = 0;
    this.counters.connects++;
    this.status(`live · fitbridge ${msg.server_version || ''}`.trim(), 'live');
    this.changed('hello');
  }

  applySnapshot(msg) {
    switch (msg.topic) {
      case 'session':
        this.session = msg.session;
        break;
      case 'fitness':
        this.fitness = seriesFromSnapshot(msg, msg.participants, participantTrack);
        break;
      case 'equipment':
        this.equipment = seriesFromSnapshot(msg, msg.equipment, equipmentTrack);
        break;
      default:
        break;
    }
  }

  applyBroadcast(msg) {
    switch (msg.type) {
      case 'session_started':
      case 'session_state':
      case 'session_ended':
        this.session = msg.session;
        if (msg.type === 'session_ended') {
          this.lastSummary = msg.summary;
        }
        break;
      case 'points':
        if (msg.topic === 'fitness') {
          appendPoints(this.fitness, msg, msg.participants, this.windowTicks(), addFitnessPoint);
        } else if (msg.topic === 'equipment') {
          appendPoints(this.equipment, msg, msg.equipment, this.windowTicks(), addEquipmentPoint);
        }
        break;
      default:
        break;
    }
  }

  windowTicks() {
    const limit = this.hello && this.hello.limits && this.hello.limits.live_window_ticks;
    return Number.isInteger(limit) && limit > 0 ? limit : 360;
  }

  // request sends a range request and returns a promise of its range_result.
  requestRange(query) {
    return new Promise((resolve, reject) => {
      if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
        reject(new Error('not connected'));
        return;
      }
      const limits = (this.hello && this.hello.limits) || {};
      const maxPending = limits.max_pending_requests || 1;
      if (this.pending.size >= maxPending) {
        reject(new Error('too many requests waiting'));
        return;
      }
      const id = `r${this.nextRequest++}`;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('the range request timed out'));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      const msg = { type: 'range', id, topic: query.topic, max_points: query.maxPoints };
      if (query.sessionId) {
        msg.session_id = query.sessionId;
      }
      if (Number.isFinite(query.fromMs)) {
        msg.from_ms = Math.floor(query.fromMs);
      }
      if (Number.isFinite(query.toMs)) {
        msg.to_ms = Math.ceil(query.toMs);
      }
      this.socket.send(JSON.stringify(msg));
    });
  }

  settle(msg) {
    const waiting = this.pending.get(msg.id);
    if (!waiting) {
      if (msg.type === 'error') {
        this.problem(`the server reported ${msg.code}: ${msg.message}`);
      }
      return;
    }
    this.pending.delete(msg.id);
    clearTimeout(waiting.timer);
    if (msg.type === 'error') {
      waiting.reject(new Error(`${msg.code}: ${msg.message}`));
    } else {
      waiting.resolve(msg);
    }
  }

  failPending(reason) {
    for (const waiting of this.pending.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(new Error(reason));
    }
    this.pending.clear();
  }
}

// Series state of the fitness and equipment topics. Entry i of every series is the tick
// with index firstIndex + i, which started at startMs + i * intervalMs.
function newSeriesState() {
  return {
    sessionId: null,
    intervalMs: null,
    firstIndex: null,
    startMs: null,
    length: 0,
    tracks: new Map(),
    order: [],
  };
}

function participantTrack(p) {
  return {
    name: p.name,
    status: p.status,
    heartRate: p.heart_rate,
    zone: p.zone,
    coins: p.coins,
    dropouts: p.dropouts || [],
  };
}

function equipmentTrack(e) {
  return { name: e.name, active: e.active, events: e.events };
}

function seriesFromSnapshot(msg, items, makeTrack) {
  const state = newSeriesState();
  state.sessionId = msg.session_id;
  state.intervalMs = msg.interval_ms;
  state.firstIndex = msg.first_index;
  state.startMs = msg.start_ms;
  for (const item of items) {
    const track = makeTrack(item);
    state.tracks.set(item.id, track);
    state.order.push(item.id);
    state.length = Math.max(state.length, seriesLength(track));
  }
  return state;
}

function seriesLength(track) {
  return (track.heartRate || track.active).length;
}

function seriesKeys(track) {
  return track.heartRate ? ['heartRate', 'zone', 'coins'] : ['active', 'events'];
}

function pushMissing(track, count) {
  for (const key of seriesKeys(track)) {
    for (let i = 0; i < count; i++) {
      track[key].push(null);
    }
  }
}

function addFitnessPoint(track, p) {
  track.name = p.name;
  track.status = p.status;
  track.heartRate.push(p.heart_rate);
  track.zone.push(p.zone);
  track.coins.push(p.coins);
  if (p.dropout) {
    track.dropouts.push(p.dropout);
  }
}

function addEquipmentPoint(track, e) {
  if (e.name) {
    track.name = e.name;
  }
  track.active.push(e.active);
  track.events.push(e.events);
}

// appendPoints appends one tick to every series, with null for tracks the tick does not
// list and for skipped tick indexes, then drops points beyond the live window.
function appendPoints(state, msg, items, windowTicks, addPoint) {
  if (state.length === 0 || state.intervalMs !== msg.interval_ms) {
    for (const track of state.tracks.values()) {
      for (const key of seriesKeys(track)) {
        track[key] = [];
      }
    }
    state.length = 0;
    state.firstIndex = msg.index;
    state.startMs = msg.start_ms;
    state.intervalMs = msg.interval_ms;
  }
  state.sessionId = msg.session_id;
  const expected = state.firstIndex + state.length;
  if (msg.index < expected) {
    return;
  }
  const skipped = msg.index - expected;
  for (const track of state.tracks.values()) {
    pushMissing(track, skipped);
  }
  state.length += skipped;

  const listed = new Set();
  state.order = [];
  for (const item of items) {
    let track = state.tracks.get(item.id);
    if (!track) {
      track = addPoint === addFitnessPoint ?
        participantTrack({ name: item.name, status: item.status, heart_rate: [], zone: [],
          coins: [], dropouts: [] }) :
        equipmentTrack({ name: item.name, active: [], events: [] });
      pushMissing(track, state.length);
      state.tracks.set(item.id, track);
    }
    addPoint(track, item);
    listed.add(item.id);
    state.order.push(item.id);
  }
  for (const [id, track] of state.tracks) {
    if (!listed.has(id)) {
      pushMissing(track, 1);
    }
  }
  state.length++;

  const excess = state.length - windowTicks;
  if (excess > 0) {
    for (const track of state.tracks.values()) {
      for (const key of seriesKeys(track)) {
        track[key].splice(0, excess);
      }
    }
    state.length -= excess;
    state.firstIndex += excess;
    state.startMs += excess * state.intervalMs;
  }
  const oldest = state.firstIndex;
  for (const [id, track] of state.tracks) {
    if (track.dropouts) {
      track.dropouts = track.dropouts.filter((d) => d.index >= oldest);
    }
    // A track off the roster with no point left in the window is dropped, like the server does.
    const values = track.coins || track.active;
    if (!listed.has(id) && values.every((v) => v === null)) {
      state.tracks.delete(id);
    }
  }
}

function base64url(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) {
    binary += String.fromCharCode(b);
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
