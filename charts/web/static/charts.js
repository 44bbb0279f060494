// Heart-rate charts of the dashboard, one uPlot chart per participant on the roster. Each
// chart paints the participant's zone bands behind the line, leaves a gap where the heart
// rate is missing and marks the tick where it returned. Dragging across any chart zooms
// all of them; a double-click (or the "Back to live" button) returns to the live window.

/* global uPlot */

// Colours of the default zone ids; other ids take colours from OTHER_ZONE_COLOURS in zone
// order.
export const ZONE_COLOURS = {
  cool: '#4dabf7',
  active: '#51cf66',
  warm: '#fcc419',
  hot: '#ff922b',
  fire: '#f03e3e',
};
const OTHER_ZONE_COLOURS = ['#845ef7', '#20c997', '#f783ac', '#94d82d', '#adb5bd'];
// The x axis shows at least this many ticks, so that a new session does not stretch its
// first few points across the width.
const MIN_VISIBLE_TICKS = 60;

export function zoneColour(zones, id) {
  if (ZONE_COLOURS[id]) {
    return ZONE_COLOURS[id];
  }
  const position = zones.findIndex((z) => z.id === id);
  return OTHER_ZONE_COLOURS[Math.max(position, 0) % OTHER_ZONE_COLOURS.length];
}

// zonesOf returns the zone bands of one participant: the hello zones with the
// participant's own lower bounds, in ascending order.
export function zonesOf(hello, participantId) {
  if (!hello || !Array.isArray(hello.zones)) {
    return [];
  }
  const own = (hello.participant_zones || {})[participantId] || {};
  return hello.zones
    .map((z) => ({ id: z.id, name: z.name, min: own[z.id] !== undefined ? own[z.id] : z.min_bpm }))
    .sort((a, b) => a.min - b.min);
}

export class ChartBoard {
  // container: element for the charts; callbacks: onZoom(fromMs, toMs), onLive().
  constructor(container, callbacks) {
    this.container = container;
    this.callbacks = callbacks;
    this.views = new Map();
    this.zoom = null; // {fromMs, toMs, reply} while zoomed
    this.drawn = 0;
    this.liveRequests = 0; // double-clicks seen, for tests and debugging
    // Double-click anywhere on the charts returns to live. The listener sits on the
    // container rather than in uPlot so that a click on a title or axis counts too.
    container.addEventListener('dblclick', () => {
      this.liveRequests++;
      this.callbacks.onLive();
    });
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
  }

  get zoomed() {
    return this.zoom !== null;
  }

  // render updates the charts from the feed's fitness state, unless zoomed.
  render(feed) {
    const fitness = feed.fitness;
    const ids = fitness.order.filter((id) => fitness.tracks.has(id));
    for (const [id, view] of this.views) {
      if (!ids.includes(id)) {
        view.plot.destroy();
        view.section.remove();
        this.views.delete(id);
      }
    }
    const count = this.views.size;
    for (const id of ids) {
      const track = fitness.tracks.get(id);
      let view = this.views.get(id);
      if (!view) {
        view = this.createView(id);
        this.views.set(id, view);
      }
      this.container.appendChild(view.section); // keeps roster order
      view.title.textContent = track.name;
      view.zones = zonesOf(feed.hello, id);
      view.zoneList = (feed.hello && feed.hello.zones) || [];
      view.track = track;
      if (!this.zoomed) {
        this.showLive(view, fitness);
      }
    }
    if (this.views.size !== count) {
      this.resize();
    }
  }

  createView(id) {
    const section = document.createElement('section');
    section.className = 'chart';
    section.dataset.participant = id;
    const title = document.createElement('h3');
    const holder = document.createElement('div');
    holder.className = 'plot';
    section.append(title, holder);
    this.container.appendChild(section);
    const view = { id, section, title, holder, zones: [], zoneList: [], track: null, plot: null };
    view.plot = new uPlot(this.options(view), [[], [], []], holder);
    return view;
  }

  options(view) {
    const styles = getComputedStyle(document.body);
    const text = styles.color;
    const grid = styles.getPropertyValue('--grid').trim() || 'rgba(128,128,128,0.25)';
    const line = styles.getPropertyValue('--line').trim() || text;
    return {
      width: this.plotWidth(),
      height: this.plotHeight(),
      ms: 1,
      legend: { show: false },
      cursor: {
        drag: { x: true, y: false, setScale: false },
        // uPlot's own double-click resets the scales; the container's listener
        // handles it instead.
        bind: { dblclick: () => () => null },
      },
      select: { show: true },
      scales: { x: { time: true, auto: false }, y: { auto: true, range: (u, lo, hi) => yRange(lo, hi) } },
      axes: [
        {
          stroke: text,
          grid: { stroke: grid },
          ticks: { stroke: grid },
          values: (u, splits) => splits.map((v) => formatClock(v)),
        },
        { stroke: text, grid: { stroke: grid }, ticks: { stroke: grid }, size: 40 },
      ],
      series: [
        {},
        { label: 'heart rate', stroke: line, width: 2, spanGaps: false, points: { size: 4 } },
        { label: 'minimum', stroke: 'transparent', width: 0, spanGaps: false, points: { show: false } },
      ],
      bands: [{ series: [1, 2], fill: 'rgba(128,128,128,0.3)' }],
      hooks: {
        drawClear: [(u) => drawZoneBands(u, view)],
        draw: [(u) => drawDropouts(u, view)],
        setSelect: [(u) => this.selected(u)],
      },
    };
  }

  selected(u) {
    if (u.select.width < 2) {
      return;
    }
    const fromMs = u.posToVal(u.select.left, 'x');
    const toMs = u.posToVal(u.select.left + u.select.width, 'x');
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    this.callbacks.onZoom(fromMs, toMs);
  }

  plotWidth() {
    const width = this.container.clientWidth || 320;
    const columns = getComputedStyle(this.container).gridTemplateColumns.split(' ').length || 1;
    return Math.max(200, Math.floor(width / columns) - 16);
  }

  // plotHeight shares the window's height among the rows of charts, within limits that
  // keep a chart readable on a phone and not oversized on a wall screen.
  plotHeight() {
    const columns = getComputedStyle(this.container).gridTemplateColumns.split(' ').length || 1;
    const rows = Math.max(1, Math.ceil(this.views.size / columns));
    const highest = window.innerWidth < 600 ? 220 : 380;
    return Math.round(Math.min(highest, Math.max(150, (window.innerHeight - 200) / rows - 70)));
  }

  resize() {
    const size = { width: this.plotWidth(), height: this.plotHeight() };
    for (const view of this.views.values()) {
      view.plot.setSize(size);
    }
  }

  showLive(view, fitness) {
    const n = fitness.length;
    const xs = new Array(n);
    for (let i = 0; i < n; i++) {
      xs[i] = fitness.startMs + i * fitness.intervalMs;
    }
    const hr = view.track.heartRate.slice(0, n);
    view.dropouts = view.track.dropouts;
    view.plot.setData([xs, hr, hr], false);
    const start = n > 0 ? fitness.startMs : Date.now();
    const ticks = Math.max(n, MIN_VISIBLE_TICKS);
    view.plot.setScale('x', { min: start, max: start + ticks * (fitness.intervalMs || 5000) });
    this.drawn++;
  }

  // showRange draws a range_result: the maximum per bucket as the line and the band down
  // to the minimum, so that peaks stay visible however far out the chart is zoomed.
  showRange(reply, fromMs, toMs) {
    this.zoom = { fromMs, toMs, reply };
    const byId = new Map(reply.participants.map((p) => [p.id, p]));
    for (const view of this.views.values()) {
      const bins = byId.get(view.id);
      const count = bins ? bins.heart_rate_max.length : 0;
      const xs = new Array(count);
      for (let i = 0; i < count; i++) {
        xs[i] = reply.start_ms + i * reply.interval_ms;
      }
      view.dropouts = view.track ? view.track.dropouts : [];
      view.plot.setData([xs, bins ? bins.heart_rate_max : [], bins ? bins.heart_rate_min : []],
        false);
      view.plot.setScale('x', { min: fromMs, max: toMs });
    }
  }

  live(feed) {
    this.zoom = null;
    this.render(feed);
  }

  // describe returns what each chart shows, for tests and debugging.
  describe() {
    const out = [];
    for (const view of this.views.values()) {
      const data = view.plot.data;
      out.push({
        id: view.id,
        points: data[0].length,
        nulls: data[1].filter((v) => v === null).length,
        values: data[1].filter((v) => v !== null).length,
        max: Math.max(...data[1].filter((v) => v !== null)),
        dropouts: (view.dropouts || []).length,
        zones: view.zones.map((z) => z.id),
        xMin: view.plot.scales.x.min,
        xMax: view.plot.scales.x.max,
        width: view.plot.width,
        height: view.plot.height,
      });
    }
    return out;
  }
}

// formatClock returns the local time of day of a Unix time in ms, as hours and minutes,
// with seconds when they are not zero.
function formatClock(ms) {
  const d = new Date(ms);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  return d.getSeconds() === 0 ? hm : `${hm}:${String(d.getSeconds()).padStart(2, '0')}`;
}

function yRange(lo, hi) {
  const low = Number.isFinite(lo) ? lo : 60;
  const high = Number.isFinite(hi) ? hi : 160;
  return [Math.floor(Math.min(low - 10, 70)), Math.ceil(Math.max(high + 10, 150))];
}

// drawZoneBands paints each zone from its lower bound to the next zone's bound in the
// zone's colour, behind the grid and the line.
function drawZoneBands(u, view) {
  const { ctx, bbox } = u;
  const zones = view.zones;
  if (zones.length === 0) {
    return;
  }
  ctx.save();
  ctx.globalAlpha = 0.2;
  for (let i = 0; i < zones.length; i++) {
    const low = zones[i].min;
    const high = i + 1 < zones.length ? zones[i + 1].min : u.scales.y.max;
    if (high <= u.scales.y.min || low >= u.scales.y.max) {
      continue;
    }
    const top = u.valToPos(Math.min(high, u.scales.y.max), 'y', true);
    const bottom = u.valToPos(Math.max(low, u.scales.y.min), 'y', true);
    ctx.fillStyle = zoneColour(view.zoneList, zones[i].id);
    ctx.fillRect(bbox.left, top, bbox.width, bottom - top);
  }
  ctx.restore();
}

// drawDropouts draws a dashed line at each tick where the heart rate returned after a
// dropout. The marker's position comes from the server and never moves.
function drawDropouts(u, view) {
  const markers = view.dropouts || [];
  if (markers.length === 0) {
    return;
  }
  const { ctx, bbox } = u;
  ctx.save();
  ctx.strokeStyle = '#e03131';
  ctx.setLineDash([4, 3]);
  ctx.lineWidth = 1.5;
  for (const marker of markers) {
    if (marker.at_ms < u.scales.x.min || marker.at_ms > u.scales.x.max) {
      continue;
    }
    const x = Math.round(u.valToPos(marker.at_ms, 'x', true)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(x, bbox.top);
    ctx.lineTo(x, bbox.top + bbox.height);
    ctx.stroke();
  }
  ctx.restore();
}
