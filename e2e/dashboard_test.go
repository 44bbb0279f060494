package e2e

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fitbridge/fitbridge/charts"
	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/sessions"
)

var dashboardEpoch = time.Date(2026, 6, 27, 18, 0, 0, 0, time.UTC)

// syntheticFeed is a hub served on 127.0.0.1 and fed directly with ticks, so that the
// page's drawing can be checked tick by tick.
type syntheticFeed struct {
	hub    *charts.Hub
	server *httptest.Server
	cfg    config.Config
}

func startSyntheticFeed(t *testing.T, access charts.Access) *syntheticFeed {
	t.Helper()
	cfg := config.Default()
	cfg.Participants = []config.Participant{
		{ID: "alex", Name: "Alex", Zones: map[string]float64{"active": 80, "warm": 105}},
		{ID: "sam", Name: "Sam"},
	}
	hub := charts.NewHub(charts.Options{
		Version:         "e2e",
		LiveWindowTicks: 120,
		Zones:           charts.ZoneTableOf(cfg),
		Access:          access,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	server := httptest.NewServer(hub.Handler())
	t.Cleanup(server.Close)
	t.Cleanup(hub.Close)
	return &syntheticFeed{hub: hub, server: server, cfg: cfg}
}

// heartRateAt is the synthetic heart rate of participant n at tick i: a slow wave with a
// peak of 171 bpm for alex at tick 30. sam has no heart rate at ticks 20 to 25.
func heartRateAt(n, i int) *float64 {
	if n == 1 && i >= 20 && i <= 25 {
		return nil
	}
	bpm := 100 + float64(n*12) + float64((i*7+n*5)%30)
	if n == 0 && i == 30 {
		bpm = 171
	}
	return &bpm
}

var syntheticPeople = []struct{ id, name string }{
	{"alex", "Alex"}, {"sam", "Sam"}, {"guest-7", "Guest 7"},
}

func (f *syntheticFeed) start() {
	s := sessions.Snapshot{
		Time: dashboardEpoch, Running: true, SessionID: "20260627T180000Z",
		StartedAt: dashboardEpoch, IntervalMS: 5000,
		Equipment: []sessions.EquipmentState{{ID: "bag", Name: "Punching bag"}},
	}
	for _, p := range syntheticPeople {
		s.Participants = append(s.Participants, sessions.ParticipantState{ID: p.id, Name: p.name})
	}
	f.hub.SessionStarted(s)
}

// ticks closes ticks from to to-1 and returns each participant's coins after the last.
func (f *syntheticFeed) ticks(from, to int) map[string]int {
	coins := map[string]int{}
	for i := from; i < to; i++ {
		tick := sessions.Tick{
			SessionID: "20260627T180000Z", Index: i, IntervalMS: 5000,
			Start:     dashboardEpoch.Add(time.Duration(i) * 5 * time.Second),
			Equipment: []sessions.EquipmentPoint{{ID: "bag", Active: i%4 < 2, Events: i % 3}},
		}
		for n, p := range syntheticPeople {
			point := sessions.TickPoint{ID: p.id, Name: p.name, Status: sessions.StatusActive,
				HeartRate: heartRateAt(n, i), Coins: (n + 1) * (i + 1)}
			if point.HeartRate != nil {
				point.Zone = "active"
			} else {
				point.Status = sessions.StatusIdle
			}
			coins[p.id] = point.Coins
			tick.Participants = append(tick.Participants, point)
		}
		f.hub.TickClosed(tick)
	}
	return coins
}

// TestDashboardDrawsZoomsAndResumes loads the dashboard through an imitation of Home
// Assistant's ingress and checks what it draws, the zoom, the return to live, the resume
// after a dropped connection and the phone and wall layouts.
func TestDashboardDrawsZoomsAndResumes(t *testing.T) {
	feed := startSyntheticFeed(t, charts.Access{})
	feed.start()
	feed.ticks(0, 40)
	proxy := startIngressProxy(t, feed.server.URL)
	b := startBrowser(t)
	b.do(chromedp.EmulateViewport(1280, 900))
	b.do(chromedp.Navigate(proxy.url()))

	s := b.waitState("three charts with 40 ticks", func(s dashboardState) bool {
		return s.Connection == "live" && len(s.Charts) == 3 && s.FitnessLength == 40
	})
	for _, c := range s.Charts {
		if c.Points != 40 {
			t.Errorf("chart %s has %d points, want 40", c.ID, c.Points)
		}
		if len(c.Zones) != 5 {
			t.Errorf("chart %s has zone bands %v, want the 5 configured zones", c.ID, c.Zones)
		}
	}
	sam := chartOf(t, s, "sam")
	if sam.Nulls != 6 || sam.Dropouts != 1 {
		t.Errorf("sam's chart has %d nulls and %d dropout markers, want 6 and 1", sam.Nulls, sam.Dropouts)
	}
	if alex := chartOf(t, s, "alex"); alex.Max == nil || *alex.Max != 171 {
		t.Errorf("alex's chart maximum = %v, want the 171 bpm peak", alex.Max)
	}
	checkGapIsBlank(t, b, "sam", 22)

	wantCoins := map[string]int{"alex": 40, "sam": 80, "guest-7": 120}
	checkLeaderboard(t, s, wantCoins, []string{"guest-7", "sam", "alex"})
	if len(s.Equipment) != 1 || s.Equipment[0] != "bag" {
		t.Errorf("equipment rows = %v, want [bag]", s.Equipment)
	}

	// Drag across the middle half of alex's chart: every chart zooms to that range.
	x, y, width, height := b.rect(`.chart[data-participant="alex"] .u-over`)
	b.drag(x+width*0.25, x+width*0.75, y+height/2)
	zoomed := b.waitState("the zoomed range", func(s dashboardState) bool {
		return s.Zoomed && s.ZoomInterval != nil
	})
	for _, c := range zoomed.Charts {
		if c.XMin <= s.Charts[0].XMin || c.XMax >= s.Charts[0].XMax {
			t.Errorf("zoomed chart %s shows %v..%v, want inside the live %v..%v",
				c.ID, c.XMin, c.XMax, s.Charts[0].XMin, s.Charts[0].XMax)
		}
		if c.Points == 0 || c.Points > int(c.Width) {
			t.Errorf("zoomed chart %s has %d points, want 1 to its width %v", c.ID, c.Points, c.Width)
		}
	}
	// New ticks do not move a zoomed chart.
	feed.ticks(40, 42)
	b.waitState("42 ticks received", func(s dashboardState) bool { return s.FitnessLength == 42 })
	if again := b.state(); again.Charts[0].XMin != zoomed.Charts[0].XMin {
		t.Errorf("zoomed chart moved from %v to %v on a new tick", zoomed.Charts[0].XMin, again.Charts[0].XMin)
	}

	// The zoom bar above the charts moved them down; measure again before clicking.
	x, y, width, height = b.rect(`.chart[data-participant="alex"] .u-over`)
	clicks := b.state().LiveRequests
	b.doubleClick(x+width/2, y+height/2)
	b.waitState("the double-click", func(s dashboardState) bool { return s.LiveRequests == clicks+1 })
	b.waitState("back to live", func(s dashboardState) bool {
		return !s.Zoomed && len(s.Charts) == 3 && s.Charts[0].Points == 42
	})

	// The connection drops; ticks close meanwhile; the page reconnects and resumes.
	before := b.state()
	proxy.cut()
	feed.ticks(42, 45)
	resumed := b.waitState("the resume", func(s dashboardState) bool {
		return s.Counters.Connects == before.Counters.Connects+1 && s.FitnessLength == 45 &&
			len(s.Charts) == 3 && s.Charts[0].Points == 45
	})
	if resumed.Counters.Resumes != before.Counters.Resumes+3 {
		t.Errorf("resumed topics = %d, want %d (all three)", resumed.Counters.Resumes, before.Counters.Resumes+3)
	}
	if resumed.Counters.Snapshots != before.Counters.Snapshots {
		t.Errorf("snapshots went from %d to %d, want no snapshot on a resume",
			before.Counters.Snapshots, resumed.Counters.Snapshots)
	}
	if resumed.Counters.Gaps != 0 {
		t.Errorf("the page saw %d sequence gaps, want 0", resumed.Counters.Gaps)
	}
	if samAfter := chartOf(t, resumed, "sam"); samAfter.Points != 45 || samAfter.Nulls != 6 {
		t.Errorf("sam's chart after the resume: %d points, %d nulls, want 45 and 6", samAfter.Points, samAfter.Nulls)
	}

	checkLayouts(t, b, "dashboard")
	b.checkNoProblems()
	b.checkRequestsStayOn(proxy.server.URL + ingressPrefix + "/")
}

// checkLayouts checks the page at phone and wall sizes and saves a screenshot of each.
func checkLayouts(t *testing.T, b *browser, name string) {
	t.Helper()
	b.do(chromedp.EmulateViewport(390, 844))
	// The charts follow the new width on the next resize callback, so the checks wait for
	// a layout that fits and report the last one when none does.
	phone := b.waitLayout(func(l layout) bool {
		return l.ViewportWidth == 390 && l.ScrollWidth <= l.ViewportWidth && l.WidestChartRight <= l.ViewportWidth
	})
	if phone.ScrollWidth > phone.ViewportWidth {
		t.Errorf("phone: page is %v px wide in a %v px viewport", phone.ScrollWidth, phone.ViewportWidth)
	}
	if phone.WidestChartRight > phone.ViewportWidth {
		t.Errorf("phone: a chart ends at %v px, beyond the %v px viewport", phone.WidestChartRight, phone.ViewportWidth)
	}
	if phone.LeaderboardTop >= phone.ChartsTop {
		t.Errorf("phone: leaderboard at %v px, charts at %v px, want the leaderboard first",
			phone.LeaderboardTop, phone.ChartsTop)
	}
	b.screenshot(name + "-phone.png")

	b.do(chromedp.EmulateViewport(1920, 1080))
	wall := b.waitLayout(func(l layout) bool {
		return l.ViewportWidth == 1920 && l.ChartColumns == 2 && l.ScrollWidth <= l.ViewportWidth
	})
	if wall.ScrollWidth > wall.ViewportWidth {
		t.Errorf("wall: page is %v px wide in a %v px viewport", wall.ScrollWidth, wall.ViewportWidth)
	}
	if wall.ChartsLeft >= wall.LeaderboardLeft {
		t.Errorf("wall: charts at x %v, leaderboard at x %v, want the charts on the left",
			wall.ChartsLeft, wall.LeaderboardLeft)
	}
	b.screenshot(name + "-wall.png")
}

func (b *browser) waitLayout(cond func(layout) bool) layout {
	b.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		l := b.layout()
		if cond(l) {
			return l
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out waiting for the layout; last %+v", l)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func chartOf(t *testing.T, s dashboardState, id string) chartState {
	t.Helper()
	for _, c := range s.Charts {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no chart for %s among %d charts", id, len(s.Charts))
	panic("unreachable")
}

func checkLeaderboard(t *testing.T, s dashboardState, coins map[string]int, order []string) {
	t.Helper()
	var ids []string
	for _, row := range s.Leaderboard {
		ids = append(ids, row.ID)
		if want, ok := coins[row.ID]; !ok || row.Coins != want {
			t.Errorf("leaderboard %s: %d coins, want %d", row.ID, row.Coins, want)
		}
	}
	if order != nil && fmt.Sprint(ids) != fmt.Sprint(order) {
		t.Errorf("leaderboard order = %v, want %v", ids, order)
	}
	if len(s.Leaderboard) != len(coins) {
		t.Errorf("leaderboard has %d rows, want %d", len(s.Leaderboard), len(coins))
	}
}

// checkGapIsBlank reads the pixels of a participant's chart canvas and checks that the
// heart-rate line is drawn at tick index gapIndex-10 and absent at gapIndex, so the
// dropout shows as a gap and is not bridged.
func checkGapIsBlank(t *testing.T, b *browser, id string, gapIndex int) {
	t.Helper()
	var columns struct {
		Gap  int `json:"gap"`
		Data int `json:"data"`
	}
	script := fmt.Sprintf(`(() => {
		const section = document.querySelector('.chart[data-participant=%q]');
		const canvas = section.querySelector('canvas');
		const ctx = canvas.getContext('2d');
		const rect = canvas.getBoundingClientRect();
		const over = section.querySelector('.u-over').getBoundingClientRect();
		const state = window.fitbridgeDashboard.state();
		const chart = state.charts.find((c) => c.id === %q);
		const ratio = canvas.width / rect.width;
		// One readback of the whole canvas; several make Chromium warn on the console.
		const image = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
		// Counts pixels of the line colour (#1c7ed6) in a 3 px wide column at tick index i.
		const lineAt = (i) => {
			const t = chart.xMin + (i - state.fitnessFirstIndex) * 5000;
			const x = Math.round((over.left - rect.left +
				(t - chart.xMin) / (chart.xMax - chart.xMin) * over.width) * ratio);
			let n = 0;
			for (let row = 0; row < canvas.height; row++) {
				for (let col = x - 1; col <= x + 1; col++) {
					const p = (row * canvas.width + col) * 4;
					if (image[p] < 90 && image[p + 1] > 90 && image[p + 1] < 160 && image[p + 2] > 170) {
						n++;
					}
				}
			}
			return n;
		};
		return { gap: lineAt(%d), data: lineAt(%d) };
	})()`, id, id, gapIndex, gapIndex-10)
	b.eval(script, &columns)
	if columns.Data == 0 {
		t.Errorf("%s: no line pixels at tick %d, so the gap check cannot tell a gap", id, gapIndex-10)
	}
	if columns.Gap != 0 {
		t.Errorf("%s: %d line pixels at tick %d inside the dropout, want none", id, columns.Gap, gapIndex)
	}
}

// TestDashboardBearerToken opens the dashboard of a feed that needs a token, first without
// it and then with #token= in the address.
func TestDashboardBearerToken(t *testing.T) {
	const token = "e2e-token-0123456789"
	feed := startSyntheticFeed(t, charts.Access{Token: token})
	feed.start()
	feed.ticks(0, 3)
	b := startBrowser(t)

	b.do(chromedp.Navigate(feed.server.URL + "/"))
	deadline := time.Now().Add(waitTimeout)
	for {
		var problem string
		b.eval(`document.getElementById('problem').textContent`, &problem)
		if strings.Contains(problem, "#token=") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no hint about the token; problem line %q", problem)
		}
		time.Sleep(50 * time.Millisecond)
	}

	b.do(chromedp.Navigate(feed.server.URL + "/#token=" + token))
	b.do(chromedp.Reload())
	b.waitState("a connection with the token", func(s dashboardState) bool {
		return s.Connection == "live" && s.FitnessLength == 3
	})
	var address string
	b.eval(`window.location.href`, &address)
	if strings.Contains(address, token) {
		t.Errorf("the address %q still shows the token", address)
	}
}
